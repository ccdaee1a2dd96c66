"""Start-up: parse the command line, create the application and the window, then look for the data.

The window is shown before the data is loaded, so it appears at once and says what it is waiting for.
"""

from __future__ import annotations

import argparse
import signal
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from scratchnet import __version__
from scratchnet.data import ENV_VAR, remove_leftovers

from .desktop_entry import APP_ID, DesktopEntryError, install_desktop_entry, set_windows_app_id, uninstall_desktop_entry, user_data_dir
from .error_reports import ErrorReports
from .main_window import MainWindow, icon
from .system_libraries import xcb_problem
from .theme import Theme


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scratchnet-gui", description="Watch a neural network written in NumPy learn MNIST.")
    parser.add_argument("--version", action="version", version=f"scratchnet-gui {__version__}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=None,
        help=f"folder holding the four MNIST IDX files (default: ${ENV_VAR}, the last folder used, or the cache; "
        "MNIST is downloaded when it is nowhere)",
    )
    entry = parser.add_mutually_exclusive_group()
    entry.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help="add ScratchNet to the desktop's menu (Linux: a .desktop file and icons in $XDG_DATA_HOME or ~/.local/share), then exit",
    )
    entry.add_argument("--uninstall-desktop-entry", action="store_true", help="remove what --install-desktop-entry wrote, then exit")
    return parser


def create_application(argv: list[str]) -> QApplication:
    """The QApplication with ScratchNet's name, icon and colours (reused if it exists; see ``theme.Theme``)."""
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName("ScratchNet")
    app.setApplicationName("ScratchNet")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(icon("scratchnet"))
    app.setDesktopFileName(APP_ID)  # Wayland matches the window to the menu's entry by this name
    if app.findChild(Theme) is None:
        Theme(app)  # the stylesheet, palette and plot colours of the system's light or dark scheme, kept in step
    return app


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``scratchnet-gui``; returns the exit status."""
    argv = sys.argv if argv is None else [sys.argv[0], *argv]
    parser = build_parser()
    args, qt_args = parser.parse_known_args(argv[1:])  # the rest is for Qt (-style, -platform, ...)
    unknown = [arg for arg in qt_args if arg.startswith("--")]
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        return desktop_entry_command(parser.prog, install=args.install_desktop_entry)
    problem = xcb_problem(qt_args)
    if problem:  # say it in one line instead of Qt's abort
        print(f"{parser.prog}: error: {problem}", file=sys.stderr)
        return 2
    remove_leftovers()  # what a killed save or download left behind
    set_windows_app_id()  # before the first window: the taskbar groups it under ScratchNet, not Python
    app = create_application([argv[0], *qt_args])
    window = MainWindow()
    app.findChild(Theme).restyle_plots()  # the plots just made, whose panels set light axes
    ErrorReports(window.session.warn, window).install()  # what a slot or a thread did not catch shows in the window
    window.show()
    window.load_data(args.data_dir)
    close_on_interrupt(window)
    return app.exec()


def desktop_entry_command(prog: str, install: bool) -> int:
    """``--install-desktop-entry`` / ``--uninstall-desktop-entry``: say what was written or removed; 2 on failure."""
    if sys.platform in ("win32", "darwin"):
        print(f"{prog}: error: desktop entries are for Linux and other freedesktop.org desktops", file=sys.stderr)
        return 2
    try:
        paths = install_desktop_entry() if install else uninstall_desktop_entry()
    except DesktopEntryError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    if install:
        print(f"ScratchNet is in the desktop's menu (Education, Science): wrote {len(paths)} files under {user_data_dir()}")
    else:
        print(f"removed {len(paths)} files under {user_data_dir()}" if paths else "no desktop entry of ScratchNet's to remove")
    for path in paths:
        print(f"  {path}")
    return 0


def close_on_interrupt(window: MainWindow) -> None:
    """Let Ctrl+C in the terminal close the window cleanly (stopping any run) instead of being ignored.

    Python only runs signal handlers between bytecodes, and Qt's event loop is C++; a timer that wakes
    the interpreter a few times a second gives the handler its chance."""
    signal.signal(signal.SIGINT, lambda *_: window.close())
    timer = QTimer(window, interval=250)
    timer.timeout.connect(lambda: None)
    timer.start()
