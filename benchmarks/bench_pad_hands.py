"""How well the drawing pad reads a synthetic hand, per axis of variation, before and after issue 10.

Writes the ten digits of tests/synthetic_hands.py on the pad with real mouse events, over a random sample
of the grid sizes × positions × pens × slants × dense or sparse mouse, and prints the share read right per
value of each axis and overall, for the pad's preparation now ("new") and the one before issue 10
("old": the canvas rasterised, then cropped, stroke width corrected by dilation or erosion, scaled and
centred; its module is read from git at OLD_COMMIT).

    python benchmarks/bench_pad_hands.py [--data-dir DIR] [--drawings 2000] [--model FILE | --epochs 8] [--seed 0]

Without ``--model`` a network is trained with the ``default`` preset on real MNIST first (8 epochs: a few
minutes on two busy cores).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the synthetic hand lives with the tests

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QApplication

from scratchnet.data import load_dataset, locate_or_download
from scratchnet.model_file import load_model
from scratchnet_gui.draw_pad import CANVAS_SIZE, DrawPad
from tests.synthetic_hands import PEN_WIDTHS, POSITIONS, SIZES, SLANTS, Hand, hand_strokes, train_reader, write

REPO = Path(__file__).resolve().parent.parent
OLD_COMMIT = "709dc58"  # main before issue 10: the raster pipeline with stroke-width correction


def old_preprocess():
    """The preprocess module as it was at ``OLD_COMMIT``, imported from a temporary copy."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{OLD_COMMIT}:scratchnet/preprocess.py"], capture_output=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_preprocess.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("old_preprocess", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def old_raster(pad: DrawPad) -> np.ndarray:
    """The canvas as the old pad gave it to the old preprocessing: white strokes on black, 280×280 uint8."""
    image = QImage(CANVAS_SIZE, CANVAS_SIZE, QImage.Format.Format_Grayscale8)
    image.fill(0)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setClipRect(QRectF(0, 0, CANVAS_SIZE, CANVAS_SIZE))
    for path, width in pad.canvas.strokes:
        painter.setPen(QPen(QColor(Qt.GlobalColor.white), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        painter.drawPath(path)
    painter.end()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(CANVAS_SIZE, image.bytesPerLine())
    return pixels[:, :CANVAS_SIZE].copy()


def sample_hands(count: int, seed: int) -> list[tuple[int, Hand]]:
    """``count`` (digit, hand) pairs drawn uniformly from the whole grid."""
    rng = np.random.default_rng(seed)
    pick = lambda options: options[rng.integers(len(options))]  # noqa: E731
    return [
        (int(rng.integers(10)), Hand(pick(SIZES), pick(list(POSITIONS)), pick(list(PEN_WIDTHS)), pick(SLANTS), bool(rng.integers(2))))
        for _ in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("SCRATCHNET_DATA_DIR"))
    parser.add_argument("--drawings", type=int, default=2000)
    parser.add_argument("--model", help="a saved .safetensors model to use instead of training one")
    parser.add_argument("--epochs", type=int, default=8, help="epochs of the default preset when training")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    app = QApplication.instance() or QApplication([])
    dataset = load_dataset(locate_or_download(args.data_dir))
    model = load_model(args.model) if args.model else train_reader(dataset, epochs=args.epochs)
    old = old_preprocess()
    pad = DrawPad()
    pad.resize(900, 560)
    pad.show()
    app.processEvents()
    pad.set_model(model)
    pad.set_dataset(dataset)
    right = {"old": defaultdict(list), "new": defaultdict(list)}
    for digit, hand in sample_hands(args.drawings, args.seed):
        pad.clear()
        write(pad, hand_strokes(digit, hand), PEN_WIDTHS[hand.pen])
        pad.predict()
        x_old = old.to_network_input(old_raster(pad), model.image_shape)
        old_answer = -1 if x_old is None else model.predict_proba(x_old.reshape(1, -1)).argmax()  # None: "nothing drawn"
        answers = {"new": pad.probabilities.argmax(), "old": old_answer}
        axes = {
            "size": hand.size,
            "position": hand.position,
            "pen": hand.pen,
            "slant": hand.slant,
            "mouse": "sparse" if hand.sparse else "dense",
        }
        for version, answer in answers.items():
            for axis, value in [*axes.items(), ("digit", digit), ("overall", "")]:
                right[version][axis, value].append(answer == digit)

    test_accuracy = (model.predict_images(dataset.test_images).argmax(axis=1) == dataset.test_labels).mean()
    print(f"{args.drawings} drawings; the network reads {test_accuracy:.2%} of MNIST's test set right")
    print(f"{'axis':<10}{'value':<14}{'old':>8}{'new':>8}{'drawings':>10}")
    axes = {
        "size": SIZES,
        "position": POSITIONS,
        "pen": PEN_WIDTHS,
        "slant": SLANTS,
        "mouse": ("dense", "sparse"),
        "digit": range(10),
        "overall": [""],
    }
    for axis, value in ((axis, value) for axis, values in axes.items() for value in values if (axis, value) in right["new"]):
        old_share, new_share = (np.mean(right[version][axis, value]) for version in ("old", "new"))
        print(f"{axis:<10}{value!s:<14}{old_share:>8.1%}{new_share:>8.1%}{len(right['new'][axis, value]):>10}")


if __name__ == "__main__":
    main()
