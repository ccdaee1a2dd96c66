"""Screenshots of the testing panels at a realistic moment, for the README (run by hand, offscreen).

Trains a 784-128-128-10 network for two epochs on real MNIST, then: writes a "2" on the drawing pad with
mouse events and switches the saliency overlay on; filters the browser to the mistakes, worst first,
and selects one; shows the confusion matrix and the view inside the network for the drawn digit.

    python docs/make_panel_screenshots.py [--data-dir DIR] [--out docs]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from scratchnet.config import TrainConfig
from scratchnet.data import load_dataset, locate_or_download
from scratchnet.trainer import Trainer, TrainingData
from scratchnet_gui.confusion_view import ConfusionView
from scratchnet_gui.draw_pad import DrawPad
from scratchnet_gui.image_browser import ImageBrowser
from scratchnet_gui.network_view import NetworkView
from scratchnet_gui.session import Session


def two(samples: int = 80) -> list[tuple[float, float]]:
    """A handwritten-looking "2" as (x, y) fractions of the sheet: an arc, a diagonal, a base with a flick."""
    arc = [(0.5 + 0.2 * np.sin(a), 0.36 - 0.17 * np.cos(a)) for a in np.linspace(-1.3, 2.0, samples // 2)]
    end_x, end_y = arc[-1]
    diagonal = [(end_x + t * (0.28 - end_x), end_y + t * (0.8 - end_y)) for t in np.linspace(0, 1, samples // 4)[1:]]
    base = [(0.28 + t * 0.46, 0.8 - 0.03 * t) for t in np.linspace(0, 1, samples // 4)[1:]]
    return arc + diagonal + base


def draw(pad: DrawPad, points: list[tuple[float, float]]) -> None:
    """Drive the canvas with real mouse events through ``points``."""
    sheet = pad.canvas.sheet()

    def at(x: float, y: float):
        return QPointF(sheet.left() + x * sheet.width(), sheet.top() + y * sheet.height()).toPoint()

    QTest.mousePress(pad.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[0]))
    for point in points[1:]:
        QTest.mouseMove(pad.canvas, at(*point))
    QTest.mouseRelease(pad.canvas, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at(*points[-1]))


def settle(seconds: float = 0.3) -> None:
    """Let timers fire and layouts finish."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def save(widget: QWidget, path: Path) -> None:
    settle()
    widget.grab().save(str(path))
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    args = parser.parse_args()
    out = Path(args.out)
    dataset = load_dataset(locate_or_download(args.data_dir))
    config = TrainConfig(hidden=[128, 128], epochs=2, optimizer="adam", lr=0.002, batch_size=128)
    trainer = Trainer(config, TrainingData.from_dataset(dataset, config.validation_size))
    result = trainer.run()
    model = trainer.model()
    print(f"trained {config.describe()}: validation accuracy {result.history[-1].val_accuracy:.3f}")

    session = Session()
    pad, browser, confusion, network = DrawPad(), ImageBrowser(), ConfusionView(), NetworkView()
    for widget, size in ((pad, (1100, 640)), (browser, (1180, 720)), (confusion, (720, 620)), (network, (1100, 760))):
        widget.follow(session)
        widget.resize(*size)
        widget.show()
    session.set_dataset(dataset)
    session.set_model(model)
    session.test_predictions.refresh()

    settle()
    draw(pad, two())
    pad.saliency_box.setChecked(True)
    save(pad, out / "screenshot-pad.png")

    browser.mistakes_box.setChecked(True)
    browser.sort_combo.setCurrentIndex(browser.sort_combo.findData("loss"))
    browser.list_view.setCurrentIndex(browser.list_model.index(2))
    browser.detail_saliency.setChecked(True)
    save(browser, out / "screenshot-browser.png")
    save(confusion, out / "screenshot-confusion.png")
    save(network, out / "screenshot-network.png")


if __name__ == "__main__":
    app = QApplication([])
    main()
