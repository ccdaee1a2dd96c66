"""Fine-tuning on "another hand" (issue 12): does a few hundred of someone's digits teach the network their
hand, without it forgetting MNIST, in a few seconds?

The other hand is synthetic, made from MNIST *training* digits (never the test set it is scored on): each
is slanted strongly backwards and written with a thick pen, then framed again as MNIST frames its digits
(the ink's box scaled to 20 px, its centre of mass at pixel (14, 14)). A network trained on MNIST reads it
poorly. The benchmark writes such an examples folder and runs ``scratchnet finetune`` on it, as a user
would, then prints held-out accuracy on the hand and MNIST test accuracy, before → after, and the time.

    python benchmarks/bench_finetune.py [--data-dir DIR] [--model FILE] [--examples 400] [--epochs N]
                                        [--slant -30] [--thicken 1] [--seed 0] [--grid hand.png]

Without ``--model`` a network is trained with the ``default`` preset first (8 epochs: a minute or two).
``--grid`` saves a picture of the first examples, to check that a person still reads them.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from scratchnet.data import load_dataset, locate_or_download
from scratchnet.handwriting import Examples, write_examples
from scratchnet.preprocess import MNIST_BOX, MNIST_FIELD, centre_of_mass


def other_hand(images: np.ndarray, slant: float, thicken: int) -> np.ndarray:
    """MNIST-framed digits (n, 28, 28) uint8 written ``slant`` degrees further right (negative: backwards)
    and ``thicken`` pixels bolder on each side."""
    return np.stack([_reframe(_dilate(_shear(image.astype(np.float32) / 255, slant), thicken)) for image in images])


def _shear(image: np.ndarray, slant: float) -> np.ndarray:
    """Slant the image about its middle row: row r moves tan(slant)·(middle − r) px to the right, with
    linear interpolation between columns. The canvas is widened so that nothing falls off."""
    height, width = image.shape
    shift = np.tan(np.radians(slant)) * (height / 2 - np.arange(height))
    pad = int(np.ceil(np.abs(shift).max())) + 1
    columns = np.arange(width + 2 * pad) - pad
    return np.stack([np.interp(columns - s, np.arange(width), row, left=0, right=0) for row, s in zip(image, shift)])


def _dilate(image: np.ndarray, steps: int) -> np.ndarray:
    """Grey-level dilation by a 3×3 cross, ``steps`` times: each step makes strokes a pixel bolder on each side."""
    for _ in range(steps):
        padded = np.pad(image, 1)
        image = np.max([padded[1:-1, 1:-1], padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]], axis=0)
    return image


def _reframe(image: np.ndarray) -> np.ndarray:
    """Frame ink as MNIST does: crop to the ink, scale its longer side to 20 px (bilinear), and place it in
    a 28×28 field with its centre of mass at pixel (14, 14)."""
    rows, cols = np.nonzero(image > 0.05)
    ink = image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scale = MNIST_BOX / max(ink.shape)
    height, width = (max(1, round(side * scale)) for side in ink.shape)
    small = _resize_matrix(ink.shape[0], height) @ ink @ _resize_matrix(ink.shape[1], width).T
    field = np.zeros((MNIST_FIELD + 2 * MNIST_BOX,) * 2, np.float32)  # wide margins, so any shift stays inside
    com_row, com_col = centre_of_mass(small)
    top, left = MNIST_BOX + MNIST_FIELD // 2 - round(com_row), MNIST_BOX + MNIST_FIELD // 2 - round(com_col)
    field[top : top + height, left : left + width] = small
    framed = field[MNIST_BOX : MNIST_BOX + MNIST_FIELD, MNIST_BOX : MNIST_BOX + MNIST_FIELD]
    return np.round(np.clip(framed, 0, 1) * 255).astype(np.uint8)


def _resize_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) weights of linear interpolation at the output pixels' centres."""
    at = np.clip((np.arange(size_out) + 0.5) * size_in / size_out - 0.5, 0, size_in - 1)
    return np.array([np.interp(at, np.arange(size_in), column) for column in np.eye(size_in)]).T


def save_grid(images: np.ndarray, labels: np.ndarray, path: Path, columns: int = 20) -> None:
    """A PNG of the first ``columns``×4 images, white ink on black, 2× enlarged (needs Qt)."""
    from PySide6.QtGui import QImage

    count = min(len(images), columns * 4)
    rows = -(-count // columns)
    sheet = np.zeros((rows * 30, columns * 30), np.uint8)
    for i in range(count):
        r, c = divmod(i, columns)
        sheet[r * 30 + 1 : r * 30 + 29, c * 30 + 1 : c * 30 + 29] = images[i]
    sheet = np.ascontiguousarray(sheet.repeat(2, axis=0).repeat(2, axis=1))
    QImage(sheet.data, sheet.shape[1], sheet.shape[0], sheet.shape[1], QImage.Format.Format_Grayscale8).save(str(path))
    print(f"saved {count} examples to {path}; labels row by row: {labels[:count].reshape(rows, -1).tolist()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="folder holding the four MNIST IDX files")
    parser.add_argument("--model", help="the model to fine-tune (default: train one with the default preset)")
    parser.add_argument("--examples", type=int, default=400, help="how many examples the other hand writes")
    parser.add_argument("--epochs", type=int, help="fine-tuning epochs (default: scratchnet finetune's)")
    parser.add_argument("--slant", type=float, default=-30.0, help="degrees of extra slant (negative: backwards)")
    parser.add_argument("--thicken", type=int, default=1, help="pixels of extra stroke width on each side")
    parser.add_argument("--seed", type=int, default=0, help="which training digits the hand writes")
    parser.add_argument("--grid", type=Path, help="save a picture of the first 80 examples here")
    args = parser.parse_args()

    data_dir = locate_or_download(args.data_dir)
    dataset = load_dataset(data_dir)
    work = Path(tempfile.mkdtemp(prefix="bench-finetune-"))
    model = args.model
    if model is None:
        model = str(work / "default.safetensors")
        subprocess.run(
            [sys.executable, "-m", "scratchnet", "train", "--preset", "default", "--data-dir", str(data_dir), "--out", model], check=True
        )

    chosen = np.random.default_rng(args.seed).choice(len(dataset.train_images), args.examples, replace=False)
    hand = other_hand(dataset.train_images[chosen], args.slant, args.thicken)
    labels = dataset.train_labels[chosen]
    write_examples(Examples(hand, labels), work / "hand")
    if args.grid:
        save_grid(hand, labels, args.grid)

    command = ["scratchnet", "finetune", model, "--examples", str(work / "hand"), "--data-dir", str(data_dir), "--json"]
    if args.epochs:
        command += ["--epochs", str(args.epochs)]
    print("$", " ".join(command), file=sys.stderr)
    output = subprocess.run([sys.executable, "-m", "scratchnet", *command[1:]], check=True, stdout=subprocess.PIPE, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    print(f"other hand ({args.examples} examples, slant {args.slant:+g}°, {args.thicken} px bolder), {result['held_out']} held out:")
    print(f"  held-out accuracy  {result['examples_before']:.1%} → {result['examples_after']:.1%}")
    print(f"  MNIST test         {result['test_before']:.2%} → {result['test_after']:.2%}")
    print(f"  fine-tuning        {result['train_seconds']:.1f} s")


if __name__ == "__main__":
    main()
