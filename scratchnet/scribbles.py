"""Random marks that are no digit at all: what a model should answer "I don't know" to.

A pad always gets an answer from the network, even for a scribble, a stray dot or a line. ``random_drawings``
makes such drawings as the pad hands them over (``preprocess.Drawing``: polylines on its 280-unit canvas), of four
families, so that they can be prepared exactly as the pad prepares a drawing and read by a model:

- ``scribble``: one to three strokes wandering at random across the canvas;
- ``zigzag``: a stroke jumping between random points;
- ``dot``: a click, or a few, somewhere on the canvas (a nearly blank pad);
- ``dash``: one short straight line (a nearly blank pad).
"""

from __future__ import annotations

import numpy as np

from .model import Model
from .preprocess import Drawing, Preparation, prepare

CANVAS = 280.0  # the pad's canvas side, in canvas units
PEN = 18.0  # the pad's default pen width
FAMILIES = ("scribble", "zigzag", "dot", "dash")


def random_drawing(family: str, rng: np.random.Generator) -> Drawing:
    """One drawing of ``family`` (one of ``FAMILIES``), in canvas units."""
    if family == "scribble":
        strokes = []
        for _ in range(rng.integers(1, 4)):
            steps = rng.normal(0, 25, (rng.integers(8, 40), 2))
            strokes.append(np.clip(rng.uniform(40, 240, 2) + np.cumsum(steps, axis=0), 0, CANVAS))
    elif family == "zigzag":
        strokes = [rng.uniform(20, 260, (rng.integers(3, 9), 2))]
    elif family == "dot":
        strokes = [rng.uniform(20, 260, (1, 2)) for _ in range(rng.integers(1, 4))]
    elif family == "dash":
        start = rng.uniform(40, 240, 2)
        strokes = [np.array([start, np.clip(start + rng.normal(0, 30, 2), 0, CANVAS)])]
    else:
        raise ValueError(f"unknown family {family!r}; expected one of {', '.join(FAMILIES)}")
    return Drawing(strokes, [PEN] * len(strokes), CANVAS)


def scribble_inputs(count: int, image_shape: tuple[int, int], preparation: Preparation, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random drawings, as many of each family, prepared as the pad prepares drawings for images of
    ``image_shape``: network inputs (count, H·W) and each one's family index into ``FAMILIES``."""
    rng = np.random.default_rng(seed)
    families = np.arange(count) % len(FAMILIES)
    inputs = np.stack([prepare(random_drawing(FAMILIES[f], rng), image_shape, preparation).image.ravel() for f in families])
    return inputs, families


def unsure_share(model: Model, inputs: np.ndarray, families: np.ndarray, threshold: float) -> dict[str, float]:
    """The share of the drawings, of each family and of all (``"all"``), whose confidence is below ``threshold``:
    how often the model says "not sure" to marks that are no digit."""
    unsure = model.predict_proba(inputs).max(axis=1) < threshold
    shares = {family: float(unsure[families == i].mean()) for i, family in enumerate(FAMILIES) if (families == i).any()}
    return {**shares, "all": float(unsure.mean())}
