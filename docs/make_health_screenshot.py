"""Screenshots of the Health tab, light and dark, at a realistic moment: the ``notebook`` preset a few epochs in
(its saturated tanh units and its initial loss told as hints), over a short run of the ``default`` preset,
overlaid, for comparison.

    python docs/make_health_screenshot.py [--data-dir DIR] [--epochs 6] [--out docs]

Writes ``screenshot-health.png`` (1280×800, light), ``screenshot-health-dark.png`` and
``screenshot-health-1024.png`` (1024×768, light).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from make_screenshots import DOCS, open_window, settle, wait_for, wait_until  # noqa: E402

from scratchnet.data import ENV_VAR  # noqa: E402
from scratchnet.home import HOME_ENV_VAR  # noqa: E402
from scratchnet.presets import load_preset  # noqa: E402
from scratchnet_gui.app import create_application  # noqa: E402
from scratchnet_gui.main_window import MainWindow  # noqa: E402
from scratchnet_gui.theme import DARK, LIGHT, Theme  # noqa: E402


def notebook_a_few_epochs_in(window: MainWindow, epochs: int) -> None:
    """A short default run, overlaid; then the notebook preset, paused after ``epochs`` epochs."""
    session = window.session
    window.settings_panel.set_config(load_preset("default")[0].replace(epochs=3))
    window.start_action.trigger()
    outcome = []
    session.run_finished.connect(outcome.append)
    wait_for(session.run_finished)
    session.runs.set_overlaid([outcome[0].run_id])
    window.settings_panel.select_preset("notebook")
    window.reset_action.trigger()
    window.start_action.trigger()
    wait_until(lambda: len(session.health.epochs) >= epochs)
    window.toggle_pause()
    wait_until(lambda: session.state == "paused")


def grab(window: MainWindow, path: Path) -> None:
    window.show_tab("Health")
    settle()
    settle()
    if not window.grab().save(str(path)):
        raise OSError(f"could not write {path}")
    print(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get(ENV_VAR) or str(DOCS.parents[1] / "shared" / "data" / "mnist"))
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    os.environ[HOME_ENV_VAR] = tempfile.mkdtemp()  # a run store of its own, never the user's
    app = create_application(sys.argv[:1])
    theme = app.findChild(Theme)
    for size, name in (((1280, 800), "screenshot-health"), ((1024, 768), "screenshot-health-1024")):
        theme.apply(LIGHT)
        window = open_window(args.data_dir, size)
        notebook_a_few_epochs_in(window, args.epochs)
        grab(window, args.out / f"{name}.png")
        if size == (1280, 800):
            theme.apply(DARK)
            grab(window, args.out / "screenshot-health-dark.png")
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
