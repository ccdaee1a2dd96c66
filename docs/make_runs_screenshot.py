"""The screenshot of the Runs panel comparing three runs, for the README (run by hand, offscreen).

Trains three short runs on real MNIST through the app's window (relu, tanh, and relu with a smaller learning
rate), each recorded in a run store of its own (a temporary data home), then selects the three in the Runs
tab, presses Compare and grabs the window at 1280×800.

    python docs/make_runs_screenshot.py [--data-dir DIR] [--out docs/screenshot-runs.png]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import QApplication

from scratchnet.config import TrainConfig
from scratchnet.home import HOME_ENV_VAR
from scratchnet_gui.main_window import MainWindow

BASE = TrainConfig(hidden=[128, 128], epochs=2, optimizer="adam", lr=0.002, batch_size=128)
RUNS = [BASE, BASE.replace(activation="tanh", init="xavier"), BASE.replace(lr=0.0005)]


def process_events() -> None:
    """What an event loop does, including the deletions it defers (replaced widgets are removed that way)."""
    QApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def wait_until(condition, timeout: float = 600.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the app did not get there in time")
        process_events()
        time.sleep(0.02)


def settle(seconds: float = 0.5) -> None:
    """Let timers fire and layouts finish."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        process_events()
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "screenshot-runs.png"))
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive for the window)
    with tempfile.TemporaryDirectory() as home:
        os.environ[HOME_ENV_VAR] = home  # a run store of its own, never the user's
        window = MainWindow(QSettings(str(Path(home) / "settings.ini"), QSettings.Format.IniFormat))
        window.resize(1280, 800)
        window.show()
        window.load_data(args.data_dir)
        wait_until(lambda: window.session.dataset is not None)
        for config in RUNS:
            window.settings_panel.set_config(config)
            window.reset_weights()
            window.start()
            wait_until(lambda: not window.session.state.active)
            print(f"trained {config.describe()}")
        window.show_tab("Runs")
        window.runs.select_runs([run.id for run in window.session.store.runs()])
        window.runs.compare()
        settle()
        window.grab().save(args.out)
        print(f"wrote {args.out}")
        window.close()


if __name__ == "__main__":
    main()
