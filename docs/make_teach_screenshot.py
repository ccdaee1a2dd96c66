"""The screenshot of the My handwriting tab after Teach, on real MNIST, drawn offscreen.

    python docs/make_teach_screenshot.py [--data-dir DIR] [--per-digit 3] [--imported 60] [--out docs/screenshot-teach.png]

It trains the ``default`` preset for two epochs, then writes ``--per-digit`` examples of each digit on the
drawing pad in a hand of its own (tests/synthetic_hands.py: strongly back-slanted, small, sparse mouse
points), pressing "This is a …" after each, imports ``--imported`` more written in another hand (MNIST
training digits back-slanted and bolder, as benchmarks/bench_finetune.py makes them) as an IDX folder,
then presses Teach, and grabs the window when the result is in.
It prints how long teaching took.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS), str(DOCS.parent), str(DOCS.parent / "benchmarks")]

import numpy as np  # noqa: E402
from bench_finetune import other_hand  # noqa: E402
from make_screenshots import open_window, wait_for  # noqa: E402

from scratchnet.handwriting import Examples, write_examples  # noqa: E402
from scratchnet.home import HOME_ENV_VAR  # noqa: E402
from scratchnet.presets import load_preset  # noqa: E402
from scratchnet_gui.app import create_application  # noqa: E402
from tests.synthetic_hands import Hand, hand_strokes, write  # noqa: E402


def collect(window, per_digit: int, rng: np.random.Generator) -> None:
    """Write each digit ``per_digit`` times on the pad, back-slanted and small, and label it."""
    pad = window.pad
    window.show_tab("Drawing pad")
    for digit in range(10):
        for _ in range(per_digit):
            hand = Hand(size=float(rng.uniform(0.3, 0.5)), slant=float(rng.uniform(-35, -25)), sparse=bool(rng.random() < 0.5))
            write(pad, hand_strokes(digit, hand), pen_width=10)
            pad.label_as(digit)


def import_other_hand(window, count: int, folder: Path, rng: np.random.Generator) -> None:
    """Import ``count`` MNIST training digits rewritten back-slanted and bolder (benchmarks/bench_finetune.py)."""
    dataset = window.session.dataset
    chosen = rng.choice(len(dataset.train_images), count, replace=False)
    write_examples(Examples(other_hand(dataset.train_images[chosen], -30, 1), dataset.train_labels[chosen]), folder)
    window.session.handwriting.import_folder(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="the MNIST folder (default: as the app finds it)")
    parser.add_argument("--per-digit", type=int, default=3, help="examples of each digit written on the pad")
    parser.add_argument("--imported", type=int, default=60, help="examples imported as an IDX folder")
    parser.add_argument("--out", type=Path, default=DOCS / "screenshot-teach.png")
    args = parser.parse_args()
    os.environ[HOME_ENV_VAR] = tempfile.mkdtemp()  # a run store and handwriting of its own, never the user's
    app = create_application([])
    window = open_window(args.data_dir, (1280, 800))
    window.settings_panel.set_config(load_preset("default")[0].replace(epochs=2))
    window.start_action.trigger()
    wait_for(window.session.run_finished)
    collect(window, args.per_digit, np.random.default_rng(0))
    import_other_hand(window, args.imported, Path(tempfile.mkdtemp()) / "other-hand", np.random.default_rng(1))
    window.show_tab("My handwriting")
    started = time.perf_counter()
    window.handwriting.teach_button.click()
    wait_for(window.session.taught)
    print(f"taught in {time.perf_counter() - started:.1f} s (in the app, from Teach to the result)")
    print(window.session.teaching.result.summary())
    app.processEvents()
    window.grab().save(str(args.out))
    print(f"wrote {args.out}")
    window.close()


if __name__ == "__main__":
    main()
