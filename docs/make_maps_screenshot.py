"""Screenshots of the Maps tab a few epochs into a real MNIST run, light and dark, drawn offscreen.

    python docs/make_maps_screenshot.py [--data-dir DIR] [--out docs]

Starts the ``default`` preset in a 1024×768 window, waits for the maps after its third epoch, points at an image
in the last hidden layer's map (so that it is ringed in every map and shown beside them) and saves
``screenshot-maps.png`` and ``screenshot-maps-dark.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"

from make_screenshots import DOCS, open_window, settle, wait_until  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402

from scratchnet.data import ENV_VAR  # noqa: E402
from scratchnet.home import HOME_ENV_VAR  # noqa: E402
from scratchnet.presets import load_preset  # noqa: E402
from scratchnet_gui.app import create_application  # noqa: E402
from scratchnet_gui.theme import DARK, LIGHT, Theme  # noqa: E402


def point_at_an_image(window, layer: int) -> None:
    """Hover the point of the first wrongly read image (else the first) in map ``layer``."""
    maps = window.maps
    shown = maps.maps.frames[maps.frame]
    wrong = (shown.predictions != maps.maps.sample.labels).nonzero()[0]
    index = int(wrong[0]) if len(wrong) else 0
    x, y = shown.points[layer][index]
    scene = maps._plots[layer].getViewBox().mapViewToScene(QPointF(float(x), float(y)))
    maps._hover(layer, scene)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get(ENV_VAR) or str(DOCS.parents[1] / "shared" / "data" / "mnist"))
    parser.add_argument("--out", type=Path, default=DOCS)
    args = parser.parse_args()
    os.environ[HOME_ENV_VAR] = tempfile.mkdtemp()  # a run store of its own, never the user's
    app = create_application(sys.argv[:1])
    window = open_window(args.data_dir, (1024, 768))
    window.settings_panel.set_config(load_preset("default")[0])
    window.start_action.trigger()
    window.show_tab("Maps")
    wait_until(lambda: window.session.maps is not None and window.session.maps.frames[-1].epoch >= 3)
    window.session.pause()
    settle()
    layers = len(window.maps.maps.sample.layer_names)
    for scheme, name in ((LIGHT, "screenshot-maps.png"), (DARK, "screenshot-maps-dark.png")):
        app.findChild(Theme).apply(scheme)
        settle()
        point_at_an_image(window, layers - 2)
        settle()
        path = args.out / name
        window.grab().save(str(path))
        print(path)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
