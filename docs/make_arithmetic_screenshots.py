"""Screenshots of the One example tab at a realistic moment, for docs/app.md (run by hand, offscreen).

Trains a 784-128-128-10 network for two epochs on real MNIST, opens the first test image it gets wrong, and
takes the window at 1024×768 on the One example tab (its forward half), then the tab scrolled to its end after
one step at learning rate 0.1. ``--dark`` takes them in the dark scheme (named ``…-dark.png``).

    python docs/make_arithmetic_screenshots.py [--data-dir DIR] [--out docs] [--dark]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from make_screenshots import settle  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from scratchnet.config import TrainConfig  # noqa: E402
from scratchnet.data import load_dataset, locate_or_download  # noqa: E402
from scratchnet.home import HOME_ENV_VAR  # noqa: E402
from scratchnet.model import save_model  # noqa: E402
from scratchnet.trainer import Trainer, TrainingData  # noqa: E402
from scratchnet_gui.app import create_application  # noqa: E402
from scratchnet_gui.main_window import MainWindow  # noqa: E402
from scratchnet_gui.theme import DARK, LIGHT, Theme  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--dark", action="store_true")
    args = parser.parse_args()
    os.environ[HOME_ENV_VAR] = tempfile.mkdtemp()  # no run store or settings of the user's
    app = create_application([])
    app.findChild(Theme).apply(DARK if args.dark else LIGHT)
    folder = locate_or_download(args.data_dir)
    dataset = load_dataset(folder)
    config = TrainConfig(hidden=[128, 128], epochs=2, optimizer="adam", lr=0.002, batch_size=128)
    trainer = Trainer(config, TrainingData.from_dataset(dataset, config.validation_size))
    trainer.run()
    model = trainer.model()
    model_file = Path(tempfile.mkdtemp()) / "784-128-128-10.safetensors"
    save_model(model, model_file)
    wrong = (model.predict_images(dataset.test_images).argmax(axis=1) != dataset.test_labels).nonzero()[0]

    window = MainWindow(QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat))
    window.resize(1024, 768)
    window.show()
    window.load_data(str(folder))
    while window.session.dataset is None:
        settle()
    window.session.open_model(model_file)
    window.session.open_test_image(int(wrong[0]))
    window.show_tab("One example")
    settle()
    suffix = "-dark" if args.dark else ""
    out = Path(args.out)
    for name, scroll_to_end in (("screenshot-one-example", False), ("screenshot-one-example-step", True)):
        view = window.arithmetic
        if scroll_to_end:
            view.step_section.lr_box.setValue(0.1)
            view.step_section.button.click()
            settle()
            view.scroll.verticalScrollBar().setValue(view.scroll.verticalScrollBar().maximum())
        settle()
        path = out / f"{name}{suffix}.png"
        window.grab().save(str(path))
        print(f"wrote {path}")
    window.session.shutdown()


if __name__ == "__main__":
    main()
