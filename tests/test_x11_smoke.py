"""Start the real ``scratchnet-gui`` on a real X server as a person would, with Qt's X11 plugin rather than
the offscreen one every other GUI test uses: the window maps, a digit drawn with the X pointer is read
by the network, and Ctrl+Q closes the app with exit status 0 promptly.

The test sees the app only as a user does, through screenshots: it finds the selected tab by the
stylesheet's underline, the drawing sheet as the big white square, and the prediction by the accent
colour the verdict is written in."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PySide6.QtGui import QColor

from scratchnet_gui.visuals import ACCENT

from .conftest import real_mnist_dir, write_dataset
from .x11 import XServer, missing_tools, save_png, wait_for

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 smoke test: Linux only"),
    pytest.mark.skipif(
        bool(missing_tools()), reason=f"X11 smoke test needs {', '.join(missing_tools())} (apt install xvfb xdotool x11-apps)"
    ),
]

SELECTED_TAB_UNDERLINE = (0x1F, 0x56, 0xA8)  # resources/styles/app.qss, QTabBar::tab:selected
CANVAS_MINIMUM = 240  # draw_pad.Canvas's minimum size
CLOSE_SECONDS = 2


def rgb(color: QColor) -> tuple[int, int, int]:
    return color.red(), color.green(), color.blue()


def pixels_of(pixels: np.ndarray, color: tuple[int, int, int]) -> np.ndarray:
    return np.all(pixels == color, axis=2)


def selected_tab(pixels: np.ndarray) -> tuple[int, int, int] | None:
    """(left, right, row) of the selected tab's underline: the first row holding a long run of its colour."""
    underline = pixels_of(pixels, SELECTED_TAB_UNDERLINE)
    for row in np.flatnonzero(underline.sum(axis=1) >= 40):
        columns = np.flatnonzero(underline[row])
        return int(columns[0]), int(columns[-1]), int(row)
    return None


def drawing_sheet(pixels: np.ndarray) -> tuple[int, int, int] | None:
    """(left, top, side) of the drawing pad's sheet: a run of pure white at least as wide as the canvas's
    minimum, shared by about as many rows as it is wide (a square; its hint text breaks a few rows)."""
    white = pixels_of(pixels, (255, 255, 255))
    rows_of_run: dict[tuple[int, int], list[int]] = {}
    for row in range(white.shape[0]):
        edges = np.flatnonzero(np.diff(np.concatenate(([0], white[row], [0])).astype(np.int8)))
        for start, end in zip(edges[::2], edges[1::2]):
            if end - start >= CANVAS_MINIMUM:
                rows_of_run.setdefault((int(start), int(end)), []).append(row)
    for (left, right), rows in rows_of_run.items():
        side = right - left
        if len(rows) >= 0.8 * side and rows[-1] - rows[0] <= 1.1 * side:
            return left, rows[0], side
    return None


def seven(left: int, top: int, side: int) -> list[tuple[int, int]]:
    """Pointer positions along a '7' in the middle of the sheet: the bar left to right, then the stem down."""
    bar = [(0.25 + 0.05 * i, 0.25) for i in range(11)]
    stem = [(0.75 - 0.025 * i, 0.25 + 0.05 * i) for i in range(1, 12)]
    return [(round(left + u * side), round(top + v * side)) for u, v in bar + stem]


@pytest.fixture
def x_server():
    server = XServer()
    yield server
    server.close()


def test_the_app_starts_on_x11_reads_a_drawn_digit_and_quits(x_server, tmp_path):
    data_dir = real_mnist_dir() or write_dataset(tmp_path / "data")
    environ = {
        **os.environ,
        "DISPLAY": x_server.display,
        "QT_QPA_PLATFORM": "xcb",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # QSettings: a new user's, not the developer's
    }
    app = subprocess.Popen(
        [sys.executable, "-m", "scratchnet_gui", "--data-dir", str(data_dir)],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        window = x_server.run("xdotool", "search", "--sync", "--onlyvisible", "--name", "^ScratchNet$", timeout=60).split()[0]
        first_tab = wait_for(lambda: selected_tab(x_server.screenshot(window)), 30, "the tab bar")

        _, right, _ = first_tab  # the Drawing pad is the tab right of the first, selected one

        def drawing_pad_selected() -> bool:
            """Click the tab right of the first where the tab bar is now (a notice bar above it may come or go
            while the data loads, moving it), until the Drawing pad is the selected tab."""
            left, _, row = selected_tab(x_server.screenshot(window))
            if left > right:
                return True
            x_server.xdotool("mousemove", "--window", window, right + 30, row - 12, "click", "1")
            return False

        wait_for(drawing_pad_selected, 30, "the Drawing pad tab to be selected", interval=0.5)
        before = x_server.screenshot(window)
        sheet = drawing_sheet(before)
        assert sheet is not None, "no drawing sheet on the Drawing pad tab"
        assert not pixels_of(before, rgb(ACCENT)).any(), "a prediction is shown before anything was drawn"

        (x, y), *stroke = seven(*sheet)
        x_server.xdotool("mousemove", "--window", window, x, y, "mousedown", "1")
        for x, y in stroke:
            x_server.xdotool("mousemove", "--window", window, x, y)
        x_server.xdotool("mouseup", "1")

        def prediction_shown() -> np.ndarray | None:
            shot = x_server.screenshot(window)
            return shot if pixels_of(shot, rgb(ACCENT)).sum() > 200 else None

        after = wait_for(prediction_shown, 30, "the prediction (the verdict in the accent colour)")
        save_png(after, tmp_path / "x11-smoke.png")  # for a person to look at (pytest keeps the last runs' tmp_path)

        x_server.xdotool("key", "ctrl+q")  # to the window under the pointer
        closing = time.monotonic()
        status = app.wait(timeout=30)
        seconds = time.monotonic() - closing
    finally:
        if app.poll() is None:
            app.kill()
        _, stderr = app.communicate()
    assert status == 0, stderr
    assert seconds < CLOSE_SECONDS, f"the app took {seconds:.1f} s to quit after Ctrl+Q"
    assert "Traceback" not in stderr, stderr
