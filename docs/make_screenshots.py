"""Screenshots of the app training on real MNIST, drawn offscreen, for the README and the docs.

    python docs/make_screenshots.py [--data-dir DIR] [--tab Training --tab "Drawing pad"] [--scale 2] [--out docs]

For each size in ``SIZES`` it trains a short, deliberately modest first run (listed in the Runs tab),
then starts the ``default`` preset and takes the pictures while that run is in its third epoch. Each
``--tab`` gives one picture per size named ``screenshot-<tab>[-<width>][@2x].png`` (the 1280×800 one
without the width); panels added as tabs later are captured the same way, by their tab title. On the
drawing pad, a small "2" is written in a corner first, with the saliency overlay on. ``--scale 2`` draws
as a high-density screen does (Qt's ``QT_SCALE_FACTOR``), for the 1280×800 size only.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from make_panel_screenshots import draw, two  # noqa: E402
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402

from scratchnet.data import ENV_VAR  # noqa: E402
from scratchnet.home import HOME_ENV_VAR  # noqa: E402
from scratchnet.presets import load_preset  # noqa: E402
from scratchnet_gui.app import create_application  # noqa: E402
from scratchnet_gui.main_window import MainWindow  # noqa: E402

SIZES = [(1280, 800), (1024, 768), (1920, 1080)]
DOCS = Path(__file__).resolve().parent


def wait_for(signal, timeout_s: float = 600) -> None:
    """Run the event loop until ``signal`` fires (or the timeout passes)."""
    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    signal.disconnect(loop.quit)


def wait_until(condition, timeout_s: float = 600) -> None:
    loop = QEventLoop()
    timer = QTimer(interval=50)
    timer.timeout.connect(lambda: condition() and loop.quit())
    timer.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    timer.stop()


def open_window(data_dir: str | None, size: tuple[int, int]) -> MainWindow:
    """A fresh window (with throw-away settings) of ``size``, its data loaded."""
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings)
    window.resize(*size)
    window.show()
    window.load_data(data_dir)
    wait_for(window.session.dataset_changed)
    return window


def train_mid_run(window: MainWindow) -> None:
    """One finished comparison run, then the default preset caught in its third epoch."""
    window.settings_panel.set_config(load_preset("default")[0].replace(optimizer="sgd", lr=0.05, schedule="constant", epochs=2))
    window.start_action.trigger()
    wait_for(window.session.run_finished)
    window.settings_panel.select_preset("default")
    window.reset_action.trigger()
    window.start_action.trigger()
    wait_until(lambda: window.curves.current.batch_loss.size and window.curves.current.batch_loss.x[-1] >= 2.6)
    window.curves.repaint_curves()


def grab_tab(window: MainWindow, title: str, path: Path) -> Path:
    """Show the tab called ``title`` and save a picture of the whole window to ``path``."""
    window.show_tab(title)
    if title == "Drawing pad" and window.pad.canvas.is_empty:
        settle()
        draw(window.pad, [(0.08 + 0.5 * x, 0.06 + 0.5 * y) for x, y in two()])  # small, in the top-left corner
        window.pad.saliency_box.setChecked(True)
    settle()
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    return path


def settle() -> None:
    """Let layouts, timers and plots settle."""
    loop = QEventLoop()
    QTimer.singleShot(300, loop.quit)
    loop.exec()


def file_name(tab: str, size: tuple[int, int], scale: int = 1) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", tab.lower()).strip("-")
    width = "" if size == SIZES[0] else f"-{size[0]}"
    return f"screenshot-{slug}{width}{'@2x' if scale == 2 else ''}.png"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get(ENV_VAR) or str(DOCS.parents[1] / "shared" / "data" / "mnist"))
    parser.add_argument("--tab", action="append", help="tab title to capture (repeatable; default: Training)")
    parser.add_argument("--scale", type=int, choices=(1, 2), default=1, help="device pixels per pixel (2: a high-density screen)")
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["QT_SCALE_FACTOR"] = str(args.scale)
    os.environ[HOME_ENV_VAR] = tempfile.mkdtemp()  # a run store and handwriting of its own, never the user's
    app = create_application(sys.argv[:1])  # noqa: F841 (kept alive while the windows exist)
    for size in SIZES if args.scale == 1 else SIZES[:1]:
        window = open_window(args.data_dir, size)
        train_mid_run(window)
        for tab in args.tab or ["Training"]:
            print(grab_tab(window, tab, args.out / file_name(tab, size, args.scale)))
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
