"""A synthetic hand for the drawing pad: ten digits written at many sizes, places, pens and slants, with a
dense or a sparse mouse, sent to the pad's canvas as real mouse events.

The digits are polylines in a unit box (x to the right, y down, the digit's height 1), shaped like
MNIST's digits. A ``Hand`` says how one is written; ``hand_strokes`` places it on the sheet and samples
it as a mouse would report it, and ``write`` sends the mouse events. Used by tests/test_pad_hands.py and
benchmarks/bench_pad_hands.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from scratchnet.data import Dataset
from scratchnet.model import Model
from scratchnet.presets import load_preset
from scratchnet.trainer import Trainer, TrainingData


def arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float, n: int = 24) -> list[tuple[float, float]]:
    """Points of an elliptic arc from angle ``start`` to ``stop`` in degrees (0° right, 90° down)."""
    angles = np.radians(np.linspace(start, stop, n))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


# Each digit: a list of strokes, each a list of (x, y) points in the unit box.
DIGITS: dict[int, list[list[tuple[float, float]]]] = {
    0: [arc(0.5, 0.5, 0.3, 0.5, -90, 275, 40)],
    1: [[(0.55, 0.0), (0.45, 1.0)]],
    2: [arc(0.5, 0.27, 0.3, 0.27, 200, 395) + [(0.15, 1.0), (0.9, 1.0)]],
    3: [arc(0.48, 0.25, 0.3, 0.25, 210, 450) + arc(0.48, 0.74, 0.34, 0.26, -90, 155)],
    4: [[(0.25, 0.0), (0.15, 0.58), (0.85, 0.58)], [(0.68, 0.05), (0.68, 1.0)]],
    5: [[(0.85, 0.0), (0.28, 0.0), (0.22, 0.45)] + arc(0.47, 0.7, 0.36, 0.3, 235, 485)],
    6: [[(0.72, 0.0), (0.5, 0.12), (0.32, 0.32), (0.22, 0.55)] + arc(0.5, 0.72, 0.3, 0.28, 180, -175)],
    7: [[(0.1, 0.0), (0.9, 0.0), (0.42, 1.0)]],
    8: [arc(0.5, 0.25, 0.26, 0.25, 90, 455, 32), arc(0.5, 0.74, 0.32, 0.26, -90, 275, 32)],
    9: [arc(0.47, 0.27, 0.3, 0.27, 0, -360, 32) + [(0.73, 0.6), (0.7, 1.0)]],
}

PEN_WIDTHS = {"thinnest": 6, "default": 18, "widest": 40}  # what the pad's slider offers
POSITIONS = {  # centre of the digit's box, in sheet fractions
    "centre": (0.5, 0.5),
    "top left": (0.2, 0.2),
    "top right": (0.8, 0.2),
    "bottom left": (0.2, 0.8),
    "bottom right": (0.8, 0.8),
}
SIZES = (0.25, 0.4, 0.6, 0.85, 1.1)  # the digit's height as a fraction of the pad
SLANTS = (-20, -10, 0, 10, 20)  # degrees, positive leaning right
DENSE_STEP, SPARSE_STEP = 0.015, 0.12  # mouse points this far apart (sheet fractions; 0.12 ≈ 34 canvas units)


@dataclass(frozen=True)
class Hand:
    """How one digit is written: its height (fraction of the pad), where, with which pen, slanted how far."""

    size: float = 0.6
    position: str = "centre"
    pen: str = "default"
    slant: float = 0.0
    sparse: bool = False


def hand_strokes(digit: int, hand: Hand) -> list[np.ndarray]:
    """The mouse positions (sheet fractions (u, v), one (k, 2) array per stroke) of ``digit`` written by ``hand``.

    The digit is slanted about its middle, scaled to ``hand.size`` of the pad's height, centred at the
    position (pulled back inside when it would run off the pad, unless it is larger than the pad), and
    sampled every ``DENSE_STEP`` or ``SPARSE_STEP`` along its strokes, as a mouse reports them.
    """
    strokes = [np.array(stroke, dtype=np.float64) for stroke in DIGITS[digit]]
    shear = np.tan(np.radians(hand.slant))
    strokes = [np.column_stack([x - shear * (y - 0.5), y]) for x, y in (stroke.T for stroke in strokes)]
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    half = (high - low) / 2 * hand.size
    centre = np.array(POSITIONS[hand.position])
    centre = np.clip(centre, np.minimum(half, 0.5), np.maximum(1 - half, 0.5))  # stay on the pad if it fits
    step = SPARSE_STEP if hand.sparse else DENSE_STEP
    return [_sample((stroke - (low + high) / 2) * hand.size + centre, step) for stroke in strokes]


def _sample(points: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` along the polyline, ending at its last point."""
    travelled = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    at = np.append(np.arange(0.0, travelled[-1], step), travelled[-1])
    return np.column_stack([np.interp(at, travelled, points[:, 0]), np.interp(at, travelled, points[:, 1])])


def write(pad, strokes: list[np.ndarray], pen_width: float) -> None:
    """Write ``strokes`` (sheet fractions) on ``pad``'s canvas with the mouse, with the pen slider at ``pen_width``."""
    pad.pen_slider.setValue(int(pen_width))
    canvas, sheet = pad.canvas, pad.canvas.sheet()

    def at(u: float, v: float):
        return QPointF(sheet.left() + u * sheet.width(), sheet.top() + v * sheet.height()).toPoint()

    for stroke in strokes:
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*stroke[0]))
        for point in stroke[1:]:
            QTest.mouseMove(canvas, at(*point))
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*stroke[-1]))


def train_reader(dataset: Dataset, epochs: int) -> Model:
    """A network trained on ``dataset`` with the app's ``default`` preset, for ``epochs`` epochs."""
    config = replace(load_preset("default")[0], epochs=epochs)
    trainer = Trainer(config, TrainingData.from_dataset(dataset, config.validation_size))
    trainer.run()
    return trainer.model()
