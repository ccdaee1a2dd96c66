"""The start-up check for the system libraries of Qt's X11 plugin: it names what is missing and says how to
install it, instead of letting Qt abort; and its list stays in step with the plugin PySide6 installed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scratchnet_gui.system_libraries import (
    NO_DISPLAY,
    XCB_PLUGIN_LIBRARIES,
    has_display,
    missing_libraries,
    missing_libraries_message,
    platform_will_be_xcb,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Qt's xcb plugin exists on Linux only")


def qt_folder() -> Path:
    import PySide6

    return Path(PySide6.__file__).parent / "Qt"


@pytest.mark.parametrize(
    ("qt_args", "environ", "expected"),
    [
        ([], {}, True),  # Qt's default on Linux
        ([], {"XDG_SESSION_TYPE": "x11"}, True),
        ([], {"XDG_SESSION_TYPE": "wayland"}, False),
        ([], {"QT_QPA_PLATFORM": "xcb"}, True),
        ([], {"QT_QPA_PLATFORM": "xcb", "XDG_SESSION_TYPE": "wayland"}, True),
        ([], {"QT_QPA_PLATFORM": "offscreen"}, False),
        ([], {"QT_QPA_PLATFORM": "wayland;xcb"}, False),
        ([], {"QT_QPA_PLATFORM": "xcb;wayland"}, True),
        (["-platform", "xcb"], {"QT_QPA_PLATFORM": "offscreen"}, True),  # the command line wins
        (["-platform", "offscreen"], {}, False),
        (["-platform", "xcb:nomitshm"], {}, True),
        (["-style", "fusion"], {"QT_QPA_PLATFORM": "offscreen"}, False),
    ],
)
def test_the_check_runs_only_when_qt_will_use_x11(qt_args, environ, expected):
    assert platform_will_be_xcb(qt_args, environ) is expected


def test_missing_libraries_are_those_the_loader_cannot_open():
    def load(soname):
        if soname in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1"):
            raise OSError(f"{soname}: cannot open shared object file: No such file or directory")

    assert missing_libraries(XCB_PLUGIN_LIBRARIES, load) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert missing_libraries(XCB_PLUGIN_LIBRARIES, lambda soname: None) == []


def test_the_message_names_the_libraries_and_the_install_command():
    message = missing_libraries_message(["libxcb-cursor.so.0", "libxkbcommon-x11.so.0"])
    assert "\n" not in message
    assert "missing: libxcb-cursor.so.0, libxkbcommon-x11.so.0" in message
    assert "sudo apt install libxcb-cursor0 libxkbcommon-x11-0 " in message


@linux_only
def test_the_app_says_which_library_is_missing_and_exits_2_instead_of_aborting(tmp_path):
    """The real entry point with one library that no system has added to the list: one line, exit 2, and
    Qt is never asked to start (there is no display for it: it would abort with 134)."""
    start = (
        "import sys; from scratchnet_gui import system_libraries as s; "
        "s.XCB_PLUGIN_LIBRARIES['libscratchnet-absent.so.7'] = 'scratchnet-absent7'; "
        "from scratchnet_gui.app import main; sys.exit(main(['--data-dir', sys.argv[1]]))"
    )
    environ = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environ.update(QT_QPA_PLATFORM="xcb", DISPLAY=":97")  # never connected to: the check comes first
    result = subprocess.run([sys.executable, "-c", start, str(tmp_path)], env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("scratchnet-gui: error: Qt's X11 support needs system libraries that are missing: ")
    assert "libscratchnet-absent.so.7" in lines[0]
    assert "sudo apt install " in lines[0] and "scratchnet-absent7" in lines[0]


@linux_only
def test_the_check_agrees_with_the_loader_on_the_real_plugin():
    """Whatever is installed here: the check finds nothing missing exactly when the dynamic loader can load
    Qt's xcb plugin (in a child process, so this one stays clean)."""
    plugin = qt_folder() / "plugins" / "platforms" / "libqxcb.so"
    loads = subprocess.run([sys.executable, "-c", "import ctypes, sys; ctypes.CDLL(sys.argv[1])", str(plugin)], capture_output=True)
    assert (missing_libraries() == []) == (loads.returncode == 0), loads.stderr


@linux_only
def test_the_list_covers_what_the_installed_xcb_plugin_links():
    """Every library the plugin links beyond Qt's own and those QtGui needs (present once PySide6 imports)."""
    from elftools.elf.elffile import ELFFile

    def needed(path: Path) -> set[str]:
        with path.open("rb") as file:
            return {tag.needed for tag in ELFFile(file).get_section_by_name(".dynamic").iter_tags("DT_NEEDED")}

    qt = qt_folder()
    plugin_needs = needed(qt / "plugins" / "platforms" / "libqxcb.so") | needed(qt / "lib" / "libQt6XcbQpa.so.6")
    gui_needs = needed(qt / "lib" / "libQt6Gui.so.6") | needed(qt / "lib" / "libQt6Core.so.6")
    qt_own = {path.name for path in (qt / "lib").iterdir()}
    assert plugin_needs - gui_needs - qt_own == set(XCB_PLUGIN_LIBRARIES)


@linux_only
@pytest.mark.parametrize("platform", ["", "xcb"])
def test_without_a_display_the_app_says_so_in_one_line_and_exits_2(tmp_path, platform):
    """Qt itself would blame libxcb-cursor0 ("reinstalling may fix this") and abort with 134."""
    environ = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    environ["QT_QPA_PLATFORM"] = platform
    start = "import sys; from scratchnet_gui.app import main; sys.exit(main(['--data-dir', sys.argv[1]]))"
    result = subprocess.run([sys.executable, "-c", start, str(tmp_path)], env=environ, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"scratchnet-gui: error: {NO_DISPLAY}"]


def test_a_display_argument_or_a_wayland_display_counts_as_a_display():
    assert has_display(["-display", ":3"], {}) and has_display([], {"WAYLAND_DISPLAY": "wayland-0"})
    assert not has_display(["-display"], {}) and not has_display([], {"DISPLAY": ""})
