"""In the real window on a real X server: a click with the X pointer on a first-layer weight tile (Inside the
network) opens the Unit tab showing that unit. The app runs in this process with Qt's X11 plugin, so the test
can ask the tile grid where its tiles are; the click itself goes through xdotool and the X server, as a
person's would."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from .conftest import REPO, write_dataset
from .x11 import XServer, missing_tools

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 test: Linux only"),
    pytest.mark.skipif(bool(missing_tools()), reason=f"X11 test needs {', '.join(missing_tools())} (apt install xvfb xdotool x11-apps)"),
]

# Runs in a child process on the X server's display: opens the window, waits for the data and a model, shows the
# Inside the network tab, and prints where tile 7 is on the screen; then it waits for the X click and prints what
# the Unit tab shows (or, a minute later, that nothing opened).
APP = textwrap.dedent(
    """
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from scratchnet_gui.app import create_application
    from scratchnet_gui.main_window import MainWindow

    app = create_application(sys.argv[:1])
    window = MainWindow()
    window.resize(1024, 768)
    window.show()
    window.load_data(sys.argv[1])

    def ready():
        tiles = window.network.tiles
        if window.session.model is None or tiles.image() is None or not tiles.isVisible():
            window.show_tab("Inside the network")
            QTimer.singleShot(100, ready)
            return
        centre = tiles.mapToGlobal(tiles.tile_rect(7).center().toPoint())
        print("TILE", centre.x(), centre.y(), flush=True)

    def opened(unit):
        QTimer.singleShot(200, lambda: report(unit))

    def report(unit):
        shown = window.tabs.current() is window.unit and window.unit.report is not None
        print("OPENED", unit.layer, unit.unit, shown, window.unit.title.text(), flush=True)
        window.close()

    def give_up():
        print("NOTHING OPENED", flush=True)
        window.close()

    window.session.unit_selected.connect(opened)
    QTimer.singleShot(100, ready)
    QTimer.singleShot(60_000, give_up)
    sys.exit(app.exec())
    """
)


def test_a_real_click_on_a_weight_tile_opens_the_unit_view(tmp_path):
    server = XServer(1280, 900)
    data_dir = write_dataset(tmp_path / "data", shape=(12, 12))
    environ = {
        **os.environ,
        "DISPLAY": server.display,
        "QT_QPA_PLATFORM": "xcb",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PYTHONPATH": str(REPO),
    }
    app = subprocess.Popen(
        [sys.executable, "-c", APP, str(data_dir)], env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = app.stdout.readline()
        assert line.startswith("TILE"), (line, app.stderr.read() if app.poll() is not None else "")
        _, x, y = line.split()
        server.xdotool("mousemove", x, y, "click", "1")
        opened = app.stdout.readline().split(maxsplit=4)
        status = app.wait(timeout=30)
    finally:
        if app.poll() is None:
            app.kill()
        _, stderr = app.communicate()
        server.close()
    assert opened[:4] == ["OPENED", "0", "7", "True"], stderr
    assert "Unit 8 of hidden layer 1" in opened[4]
    assert status == 0 and "Traceback" not in stderr, stderr
