"""Check, before Qt starts, that the system libraries of Qt's X11 (xcb) platform plugin are installed.

PySide6's wheels bring Qt but not the X11 helper libraries its xcb plugin links (libxcb-cursor,
libxcb-icccm, ...). When one is missing, Qt prints a guess ("xcb-cursor0 ... is needed", whichever library
it was) and aborts. This module names every missing library and the packages that provide it instead, and says so in one line
when there is no display at all (Qt's message then blames the same library).

``XCB_PLUGIN_LIBRARIES`` lists what ``PySide6/Qt/plugins/platforms/libqxcb.so`` and ``libQt6XcbQpa.so.6``
link beyond the libraries ``QtGui`` itself needs (those are loaded, hence present, once PySide6 imports);
tests/test_system_libraries.py keeps the list in step with the installed plugin.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence

# soname → the Debian/Ubuntu package that provides it
XCB_PLUGIN_LIBRARIES = {
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}


def platform_will_be_xcb(qt_args: Sequence[str], environ: Mapping[str, str] = os.environ) -> bool:
    """Whether Qt will pick its X11 plugin: ``-platform`` on the command line, else $QT_QPA_PLATFORM, else
    Qt's default on Linux, which is X11 except in a Wayland session. A value may be a list ("xcb;wayland")
    with options ("xcb:option"): the first name is the one Qt tries first."""
    if "-platform" in qt_args[:-1]:
        requested = qt_args[qt_args.index("-platform") + 1]
    else:
        requested = environ.get("QT_QPA_PLATFORM", "")
    if not requested:
        return environ.get("XDG_SESSION_TYPE") != "wayland"
    return requested.split(";")[0].split(":")[0] == "xcb"


def missing_libraries(sonames: Iterable[str] = XCB_PLUGIN_LIBRARIES, load: Callable[[str], object] = ctypes.CDLL) -> list[str]:
    """The sonames the dynamic loader cannot open. Loading is what Qt would do next anyway, so the libraries
    found are not loaded twice and the check costs about a millisecond."""
    missing = []
    for soname in sonames:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    return missing


def missing_libraries_message(missing: Sequence[str]) -> str:
    """One line naming the missing libraries and the command that installs them."""
    packages = " ".join(XCB_PLUGIN_LIBRARIES.get(soname, soname) for soname in missing)
    return (
        f"Qt's X11 support needs system libraries that are missing: {', '.join(missing)} — install them with: "
        f"sudo apt install {packages} (Debian/Ubuntu; the README names the Fedora and Arch packages)"
    )


NO_DISPLAY = (
    "no display: $DISPLAY is not set, so there is no screen to show the window on — start it from a desktop session, "
    "over ssh -X, or under xvfb-run (QT_QPA_PLATFORM=offscreen draws nowhere, for tests)"
)


def has_display(qt_args: Sequence[str], environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the X11 plugin has a display to connect to: $DISPLAY, a ``-display`` argument, or a Wayland
    session's $WAYLAND_DISPLAY (where Qt may fall back to its Wayland plugin)."""
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY") or "-display" in qt_args[:-1])


def xcb_problem(qt_args: Sequence[str], environ: Mapping[str, str] = os.environ) -> str | None:
    """Why Qt's X11 plugin would fail to start here (no display, or missing libraries: Qt would print a misleading
    guess and abort), or None when it will start or is not the one used."""
    if not sys.platform.startswith("linux") or not platform_will_be_xcb(qt_args, environ):
        return None
    if not has_display(qt_args, environ):
        return NO_DISPLAY
    missing = missing_libraries()
    return missing_libraries_message(missing) if missing else None
