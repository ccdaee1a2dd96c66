"""A private X server for tests that need real windows: Xvfb on a free display, xdotool for the pointer
and keyboard, and ``xwd`` screenshots read into NumPy arrays."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import numpy as np

TOOLS = ("Xvfb", "xdotool", "xwd")
XWD_HEADER = struct.Struct(">25I")  # the fields of an X Window Dump header, all big-endian 32-bit


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def read_xwd(data: bytes) -> np.ndarray:
    """The pixels of an X Window Dump from a 24/32-bit TrueColor screen (what Xvfb gives) as (H, W, 3) uint8 RGB."""
    header = XWD_HEADER.unpack_from(data)
    header_size, pixmap_format, width, height, byte_order, bits_per_pixel, bytes_per_line = (header[i] for i in (0, 2, 4, 5, 7, 11, 12))
    red_mask, green_mask, blue_mask, ncolors = header[14], header[15], header[16], header[19]
    if (pixmap_format, bits_per_pixel, red_mask, green_mask, blue_mask) != (2, 32, 0xFF0000, 0xFF00, 0xFF):
        raise ValueError("only 32-bit ZPixmap dumps with 8-bit RGB channels are read")
    start = header_size + 12 * ncolors  # after the window name and the colour map
    rows = np.frombuffer(data, np.uint8, height * bytes_per_line, start).reshape(height, bytes_per_line)
    pixels = rows[:, : width * 4].reshape(height, width, 4)
    return pixels[..., 2::-1] if byte_order == 0 else pixels[..., 1:]  # BGRX → RGB, or XRGB → RGB


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    """Poll ``condition()`` until it returns neither None nor False; that value, or AssertionError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class XServer:
    """An Xvfb display of its own (``-displayfd`` makes it pick a free number) and xdotool commands on it."""

    def __init__(self, width: int = 1600, height: int = 1000):
        read_end, write_end = os.pipe()
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
            pass_fds=(write_end,),
            stderr=subprocess.DEVNULL,
        )
        os.close(write_end)
        with os.fdopen(read_end) as display_number:
            number = display_number.readline().strip()  # written once the server accepts connections
        if not number:
            self.process.kill()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number}"

    def run(self, *args: str, timeout: float = 30) -> bytes:
        """Run an X client (xdotool, xwd, ...) on this display; its standard output."""
        environ = {**os.environ, "DISPLAY": self.display}
        return subprocess.run(args, env=environ, capture_output=True, check=True, timeout=timeout).stdout

    def xdotool(self, *args: str | int) -> str:
        return self.run("xdotool", *map(str, args)).decode()

    def screenshot(self, window: str) -> np.ndarray:
        """The window's pixels (H, W, 3) RGB as the X server shows them."""
        return read_xwd(self.run("xwd", "-silent", "-id", window))

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def save_png(pixels: np.ndarray, path: Path) -> None:
    """Write (H, W, 3) RGB pixels as a PNG (through Qt's image writer, which needs no application object)."""
    from PySide6.QtGui import QImage

    height, width, _ = pixels.shape
    image = QImage(np.ascontiguousarray(pixels).data, width, height, 3 * width, QImage.Format.Format_RGB888)
    if not image.save(str(path)):
        raise OSError(f"could not write {path}")
