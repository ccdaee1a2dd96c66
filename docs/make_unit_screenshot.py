"""Screenshots of the Unit tab at a realistic moment, on real MNIST, drawn offscreen, light and dark.

    python docs/make_unit_screenshot.py [--data-dir DIR] [--size 1024x768] [--out docs]

It trains the ``default`` preset for two epochs in the window, opens a test image of a 7 as the current input,
clicks a first-layer weight tile on the Inside the network tab (which opens its unit), ranks the units of its
layer by the accuracy lost on the 7s, and grabs the window: ``screenshot-unit.png`` (light) and
``screenshot-unit-dark.png``, and the whole tab as it scrolls, ``screenshot-unit-full.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
DOCS = Path(__file__).resolve().parent
sys.path[:0] = [str(DOCS)]

import numpy as np  # noqa: E402
from make_screenshots import open_window, settle, wait_for  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QScrollArea  # noqa: E402

from scratchnet.data import ENV_VAR  # noqa: E402
from scratchnet.home import HOME_ENV_VAR  # noqa: E402
from scratchnet.presets import load_preset  # noqa: E402
from scratchnet_gui.app import create_application  # noqa: E402
from scratchnet_gui.theme import DARK, LIGHT, Theme  # noqa: E402

TILE = 9  # the weight tile clicked (unit 10 of hidden layer 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get(ENV_VAR) or str(DOCS.parents[1] / "shared" / "data" / "mnist"))
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    os.environ[HOME_ENV_VAR] = tempfile.mkdtemp()  # a run store of its own, never the user's
    app = create_application(sys.argv[:1])
    window = open_window(args.data_dir, tuple(int(side) for side in args.size.split("x")))
    window.settings_panel.set_config(load_preset("default")[0].replace(epochs=2))
    window.start_action.trigger()
    wait_for(window.session.run_finished)
    session = window.session
    sevens = np.flatnonzero(session.dataset.test_labels == 7)
    session.open_test_image(int(sevens[0]))
    window.show_tab("Inside the network")
    settle()
    tiles = window.network.tiles
    QTest.mouseClick(tiles, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, tiles.tile_rect(TILE).center().toPoint())
    unit_view = window.unit
    unit_view.rank()
    wait_for(session.units.ranked)
    unit_view.class_box.setCurrentIndex(unit_view.class_box.findData(7))
    theme = app.findChild(Theme)
    for scheme, name in ((LIGHT, "screenshot-unit.png"), (DARK, "screenshot-unit-dark.png")):
        theme.apply(scheme)
        settle()
        path = args.out / name
        if not window.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        print(f"wrote {path}")
    theme.apply(LIGHT)
    settle()
    content = unit_view.findChild(QScrollArea).widget()  # the whole tab, scrolled or not
    path = args.out / "screenshot-unit-full.png"
    content.grab().save(str(path))
    print(f"wrote {path}")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
