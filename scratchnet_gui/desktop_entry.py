"""ScratchNet in the desktop's menus: a Linux desktop entry and icons, and the Windows taskbar identity.

``install_desktop_entry()`` writes, under the user's data folder (``$XDG_DATA_HOME``, else ``~/.local/share``):

    applications/scratchnet.desktop            the menu entry: name, command, icon, categories
    icons/hicolor/scalable/apps/scratchnet.svg the shipped icon
    icons/hicolor/NxN/apps/scratchnet.png      the same drawn by Qt at each size menus and docks ask for

Each file is written to a temporary name and renamed, the desktop file last. It lists the icons in its
``X-ScratchNet-Files`` key, so ``uninstall_desktop_entry()`` removes exactly what was written, and only when
the desktop file is ScratchNet's own.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

from scratchnet import __version__
from scratchnet.atomic import atomic_write
from scratchnet.presets import resources_dir

APP_ID = "scratchnet"  # the desktop file's and the icon's name; Qt gives it to Wayland as the window's app id
WINDOW_CLASS = "ScratchNet"  # the class Qt gives the window on X11: the application's name
WINDOWS_APP_ID = "ScratchNet.ScratchNet.App"  # Company.Product.SubProduct, as Windows asks
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
FILES_KEY = "X-ScratchNet-Files"  # the icons this entry installed, relative to the data folder
MAX_ENTRY_BYTES = 64 * 1024  # a desktop file larger than this is not the one ScratchNet wrote
OWN_ICON = re.compile(rf"icons/hicolor/(\d+x\d+|scalable)/apps/{APP_ID}\.(png|svg)")
EXEC_RESERVED = set(" \t\"'\\><~|&;$*?#()`")  # characters that make the spec quote an Exec argument


class DesktopEntryError(Exception):
    """The entry could not be installed or removed; the message says why in one line."""


def user_data_dir() -> Path:
    """``$XDG_DATA_HOME`` when it is an absolute path (the XDG spec ignores a relative one), else ``~/.local/share``."""
    folder = os.environ.get("XDG_DATA_HOME", "")
    return Path(folder) if os.path.isabs(folder) else Path.home() / ".local" / "share"


def launcher() -> list[str]:
    """The command that starts this installation's app: the ``scratchnet-gui`` launcher beside the running Python
    (a virtual environment's, pipx's), else ``python -m scratchnet_gui``."""
    script = Path(sys.executable).parent / ("scratchnet-gui.exe" if sys.platform == "win32" else "scratchnet-gui")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "scratchnet_gui"]


def exec_value(command: list[str]) -> str:
    """``command`` as a desktop file's ``Exec`` value: arguments with reserved characters double-quoted, with
    ``"`$\\`` escaped inside the quotes, ``%`` doubled, then every backslash doubled as a string value's are."""
    if any(char in "\n\r" for arg in command for char in arg):
        raise DesktopEntryError(f"cannot write a desktop entry for a command with a line break in it: {command!r}")
    arguments = []
    for arg in command:
        arg = arg.replace("%", "%%")
        if EXEC_RESERVED & set(arg):
            arg = '"' + re.sub(r'(["`$\\])', r"\\\1", arg) + '"'
        arguments.append(arg)
    return " ".join(arguments).replace("\\", "\\\\")


def entry_text(command: list[str], icons: list[str]) -> str:
    """The desktop file: what the menu shows and runs, and (``X-ScratchNet-Files``) the icons installed with it."""
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=ScratchNet",
            "GenericName=Neural network trainer",
            "Comment=Watch a neural network written in NumPy learn to read handwriting",
            f"Exec={exec_value(command)}",
            f"Icon={APP_ID}",
            "Terminal=false",
            "Categories=Education;Science;",
            "Keywords=neural network;MNIST;machine learning;handwriting;",
            f"StartupWMClass={WINDOW_CLASS}",
            f"X-ScratchNet-Version={__version__}",
            f"{FILES_KEY}={';'.join(icons)};",
            "",
        ]
    )


def png_icon(svg: bytes, size: int) -> bytes:
    """The SVG icon drawn by Qt into a ``size``×``size`` PNG with a transparent background."""
    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise DesktopEntryError("the shipped icon scratchnet.svg is not a valid SVG image")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(buffer.data())


def entry_path(data_dir: Path) -> Path:
    return data_dir / "applications" / f"{APP_ID}.desktop"


def install_desktop_entry(data_dir: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Write the icons, then the desktop file, under ``data_dir`` (default: ``user_data_dir()``); return their
    paths. ``command`` defaults to ``launcher()``."""
    data_dir = user_data_dir() if data_dir is None else data_dir
    svg = (resources_dir() / "icons" / f"{APP_ID}.svg").read_bytes()
    icons = {f"icons/hicolor/scalable/apps/{APP_ID}.svg": svg}
    icons |= {f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png": png_icon(svg, size) for size in ICON_SIZES}
    text = entry_text(launcher() if command is None else command, list(icons))
    written = []
    try:
        for name, data in icons.items():
            atomic_write(data_dir / name, data)
            written.append(data_dir / name)
        atomic_write(entry_path(data_dir), text.encode("utf-8"))
    except OSError as error:
        raise DesktopEntryError(f"cannot write the desktop entry under {data_dir}: {error.strerror or error}") from error
    return [*written, entry_path(data_dir)]


def installed_files(data_dir: Path) -> list[Path] | None:
    """What ``install_desktop_entry`` wrote under ``data_dir``, read from its desktop file: the icons it lists (only
    names ScratchNet's icons can have), then the file itself; ``None`` when there is no desktop file of ScratchNet's."""
    path = entry_path(data_dir)
    try:
        if not path.is_file() or path.stat().st_size > MAX_ENTRY_BYTES:
            return None
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    listed = [line.partition("=")[2] for line in lines if line.partition("=")[0].strip() == FILES_KEY]
    if not lines or lines[0].strip() != "[Desktop Entry]" or len(listed) != 1:
        return None
    icons = [name for name in listed[0].split(";") if OWN_ICON.fullmatch(name)]
    return [*(data_dir / name for name in icons), path]


def uninstall_desktop_entry(data_dir: Path | None = None) -> list[Path]:
    """Remove the files ``install_desktop_entry`` wrote under ``data_dir`` (default: ``user_data_dir()``), the
    desktop file last; return the paths removed. Nothing else is touched, folders included."""
    data_dir = user_data_dir() if data_dir is None else data_dir
    files = installed_files(data_dir)
    if files is None:
        if entry_path(data_dir).exists():
            raise DesktopEntryError(f"{entry_path(data_dir)} was not written by ScratchNet; it was left alone")
        return []
    removed = []
    for path in files:
        try:
            if path.is_symlink() or path.is_file():
                path.unlink()
                removed.append(path)
        except OSError as error:
            raise DesktopEntryError(f"cannot remove {path}: {error.strerror or error}") from error
    return removed


def set_windows_app_id() -> bool:
    """On Windows, give the process ScratchNet's own AppUserModelID, so that the taskbar shows the window under
    ScratchNet's icon instead of grouping it with Python's. Call it before any window exists; elsewhere (and on a
    Windows without the call) it does nothing. Returns whether the identity was set."""
    if sys.platform != "win32":
        return False
    try:
        return ctypes.windll.shell32.SetCurrentProcessExplicitAppUserModelID(WINDOWS_APP_ID) == 0  # S_OK
    except (AttributeError, OSError):
        return False
