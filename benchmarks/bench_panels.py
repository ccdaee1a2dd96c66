"""Speed of the testing panels on real MNIST (run by hand, not in CI), against the goals of issue 4:

(a) a drawing-pad prediction including preprocessing: goal ≤ 5 ms;
(b) predictions for all 10 000 test images: goal ≤ 0.2 s;
(c) scrolling the test-set browser from the first image to the last: frame times, goal no stalls.

    python benchmarks/bench_panels.py [--data-dir DIR] [--model FILE.safetensors] [--repeats 200]

Without ``--model`` a 784-128-128-10 network is trained for one epoch first (a few seconds). Qt runs
offscreen; frame times include painting every visible cell into the offscreen window surface.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QEventLoop, QPointF
from PySide6.QtWidgets import QApplication
from timing import timings_ms  # benchmarks/timing.py, beside this script

from scratchnet.config import TrainConfig
from scratchnet.data import load_dataset, locate_or_download
from scratchnet.model import Model
from scratchnet.model_file import load_model
from scratchnet.predictions import Predictions
from scratchnet.preprocess import to_network_input
from scratchnet.trainer import Trainer, TrainingData
from scratchnet_gui.draw_pad import DrawPad
from scratchnet_gui.image_browser import ImageBrowser
from scratchnet_gui.session import Session

FRAME_MS = 1000 / 60  # one frame at 60 Hz
STALL_MS = 50  # a pause the eye notices


def summary(times: np.ndarray) -> str:
    return f"median {np.median(times):6.2f} ms   p95 {np.percentile(times, 95):6.2f} ms   max {times.max():6.2f} ms"


def train_model(dataset) -> Model:
    config = TrainConfig(hidden=[128, 128], epochs=1, optimizer="adam", lr=0.002)
    trainer = Trainer(config, TrainingData.from_dataset(dataset, config.validation_size))
    trainer.run()
    return trainer.model()


def bench_pad(model: Model, repeats: int) -> None:
    pad = DrawPad()
    pad.resize(1000, 600)
    pad.show()
    pad.set_model(model)
    canvas, sheet = pad.canvas, pad.canvas.sheet()
    points = [(0.3, 0.2), (0.7, 0.2), (0.45, 0.85)]  # a "7"
    canvas.begin_stroke(QPointF(sheet.left() + points[0][0] * sheet.width(), sheet.top() + points[0][1] * sheet.height()))
    for (u0, v0), (u1, v1) in zip(points[:-1], points[1:]):
        for t in np.linspace(0, 1, 20)[1:]:
            u, v = u0 + t * (u1 - u0), v0 + t * (v1 - v0)
            canvas.extend_stroke(QPointF(sheet.left() + u * sheet.width(), sheet.top() + v * sheet.height()))
    canvas.end_stroke()
    QApplication.processEvents()

    def compute():
        x = to_network_input(canvas.drawing(), model.image_shape, pad.preparation)
        model.saliency(x.reshape(1, -1))

    print("(a) drawing pad, one prediction (goal ≤ 5 ms)")
    print(f"    render + preprocess + probabilities + saliency:   {summary(timings_ms(compute, repeats))}")
    print(f"    ... + bars, 28×28 view and activations updated:  {summary(timings_ms(pad.predict, repeats))}")


def bench_predictions(model: Model, dataset, repeats: int) -> None:
    times = timings_ms(lambda: Predictions.on_test_set(model, dataset), max(repeats // 20, 3))
    print("(b) predictions for all 10 000 test images (goal ≤ 0.2 s)")
    print(f"    Predictions.on_test_set:  {summary(times)}")


def bench_scroll(model: Model, dataset) -> None:
    session = Session()
    browser = ImageBrowser()
    browser.follow(session)
    browser.resize(1200, 800)
    browser.show()
    session.set_dataset(dataset)
    answered = QEventLoop()
    session.test_predictions.changed.connect(answered.quit)
    session.set_model(model)  # the answers are computed on the session's prediction thread
    answered.exec()
    view = browser.list_view
    bar = view.verticalScrollBar()
    step = max(bar.pageStep() // 4, 1)  # a quarter page per frame: a brisk wheel scroll

    def scroll_through() -> np.ndarray:
        frames, value = [], 0
        while True:  # the range grows while the batched layout is still placing items: read it every frame
            start = time.perf_counter()
            bar.setValue(value)
            view.viewport().repaint()
            QApplication.processEvents()
            frames.append(1000 * (time.perf_counter() - start))
            if value >= bar.maximum():
                return np.array(frames)
            value = min(value + step, bar.maximum())

    print(f"(c) browser scroll over all {len(browser.rows):,} images, {step} px per frame (goal: no stalls)")
    for label in ("first pass (thumbnails made)", "second pass (thumbnails cached)"):
        bar.setValue(0)
        frames = scroll_through()
        print(
            f"    {label}: {len(frames)} frames, {summary(frames)},"
            f" {int((frames > FRAME_MS).sum())} over {FRAME_MS:.1f} ms, {int((frames > STALL_MS).sum())} over {STALL_MS} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--model", default=None, help="a saved model; default: train one epoch first")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    dataset = load_dataset(locate_or_download(args.data_dir))
    start = time.perf_counter()
    model = load_model(args.model) if args.model else train_model(dataset)
    print(f"model {model.layer_sizes} {model.activation} ready in {time.perf_counter() - start:.1f} s\n")
    bench_pad(model, args.repeats)
    bench_predictions(model, dataset, args.repeats)
    bench_scroll(model, dataset)


if __name__ == "__main__":
    app = QApplication([])
    main()
