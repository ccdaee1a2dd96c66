"""The desktop entry: written under the user's data folder, valid, runnable, and removed exactly; the Windows app id."""

import ctypes
import os
import shutil
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage

from scratchnet_gui import desktop_entry
from scratchnet_gui.app import main
from scratchnet_gui.desktop_entry import DesktopEntryError, exec_value, install_desktop_entry, uninstall_desktop_entry


def test_the_entry_and_every_icon_size_go_under_xdg_data_home_and_go_away_exactly(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    neighbour = data / "icons" / "hicolor" / "48x48" / "apps" / "other-app.png"  # another app's icon, beside ours
    neighbour.parent.mkdir(parents=True)
    neighbour.write_bytes(b"not ours")
    assert main(["--install-desktop-entry"]) == 0
    entry = (data / "applications" / "scratchnet.desktop").read_text(encoding="utf-8")
    assert "Categories=Education;Science;\n" in entry and "Icon=scratchnet\n" in entry and "Type=Application\n" in entry
    assert f"Exec={exec_value(desktop_entry.launcher())}\n" in entry
    for size in desktop_entry.ICON_SIZES:
        image = QImage(str(data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "scratchnet.png"))
        assert (image.width(), image.height()) == (size, size)
        assert image.pixelColor(0, 0).alpha() == 0 and image.pixelColor(size // 2, size // 2).alpha() == 255  # rounded corner, body
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "scratchnet.svg").is_file()
    assert not [path for path in data.rglob("*.tmp")]
    capsys.readouterr()

    assert main(["--uninstall-desktop-entry"]) == 0
    assert sorted(path for path in data.rglob("*") if path.is_file()) == [neighbour]
    assert "removed 9 files" in capsys.readouterr().out
    assert main(["--uninstall-desktop-entry"]) == 0  # again: nothing to remove, nothing fails
    assert "no desktop entry" in capsys.readouterr().out


def test_without_xdg_data_home_the_entry_goes_to_local_share(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert desktop_entry.user_data_dir() == tmp_path / ".local" / "share"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/dir")  # the XDG spec says to ignore a relative path
    assert desktop_entry.user_data_dir() == tmp_path / ".local" / "share"


def test_uninstall_leaves_a_desktop_file_that_is_not_ours_and_files_it_lists_outside_our_icons(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    entry = tmp_path / "applications" / "scratchnet.desktop"
    entry.parent.mkdir()
    entry.write_text("[Desktop Entry]\nName=My own ScratchNet launcher\nExec=foo\n")
    assert main(["--uninstall-desktop-entry"]) == 2
    assert "not written by ScratchNet" in capsys.readouterr().err and entry.is_file()
    entry.write_text(f"[Desktop Entry]\n{desktop_entry.FILES_KEY}=precious.txt;../precious.txt;icons/hicolor/16x16/apps/other.png;\n")
    assert uninstall_desktop_entry(tmp_path) == [entry]  # a tampered list removes nothing outside ScratchNet's icons
    assert precious.read_text() == "keep me"


def test_an_unwritable_data_folder_is_one_line_and_exit_status_2(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))  # a file where the folder should be
    assert main(["--install-desktop-entry"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("scratchnet-gui: error: cannot write the desktop entry") and error.count("\n") == 1


@pytest.mark.parametrize("command", [['/opt/my apps/$HOME/it\'s "here"/scratchnet-gui'], ["/usr/bin/python3", "-m", "scratchnet_gui"]])
def test_the_entry_validates_and_its_exec_line_runs_the_command_as_written(tmp_path, command):
    """``desktop-file-validate`` accepts the entry, and GLib (``gio launch``) runs exactly the command it names,
    however odd its path: a shell script standing in for the launcher writes the arguments it was given."""
    if not (shutil.which("desktop-file-validate") and shutil.which("gio")):
        pytest.skip("needs desktop-file-validate and gio (apt install desktop-file-utils libglib2.0-bin)")
    script = tmp_path / command[0].lstrip("/")
    script.parent.mkdir(parents=True)
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$0" "$@" > "{tmp_path}/ran"\n')
    script.chmod(0o755)
    written = install_desktop_entry(tmp_path / "data", [str(script), *command[1:]])
    validated = subprocess.run(["desktop-file-validate", str(written[-1])], capture_output=True, text=True)
    assert validated.returncode == 0 and "error" not in validated.stdout, validated.stdout
    subprocess.run(["gio", "launch", str(written[-1])], check=True, timeout=30, env={**os.environ, "DISPLAY": ""})
    ran = tmp_path / "ran"
    for _ in range(300):  # gio starts the command and returns: wait until it has written its arguments
        if ran.exists() and ran.read_text().endswith("\n"):
            break
        subprocess.run(["sleep", "0.1"])
    assert ran.read_text().splitlines() == [str(script), *command[1:]]


def test_a_percent_sign_is_doubled_as_the_spec_asks_for_a_literal_one():
    assert exec_value(["/opt/100%/scratchnet-gui"]) == "/opt/100%%/scratchnet-gui"  # (GLib then looks for 100%%: avoid such paths)


def test_a_line_break_in_the_command_is_refused_rather_than_written_into_the_entry():
    with pytest.raises(DesktopEntryError, match="line break"):
        exec_value(["/tmp/a\nExec=evil"])


def test_the_windows_app_id_is_set_on_windows_and_nothing_happens_elsewhere(monkeypatch):
    calls = []

    class Shell32:
        def SetCurrentProcessExplicitAppUserModelID(self, app_id):  # noqa: N802 (Windows' name)
            calls.append(app_id)
            return 0

    monkeypatch.setattr(ctypes, "windll", type("WinDLL", (), {"shell32": Shell32()})(), raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    assert desktop_entry.set_windows_app_id() is False and calls == []
    monkeypatch.setattr(sys, "platform", "win32")
    assert desktop_entry.set_windows_app_id() is True and calls == [desktop_entry.WINDOWS_APP_ID]
    monkeypatch.delattr(ctypes, "windll")  # a Windows Python without it: no crash
    assert desktop_entry.set_windows_app_id() is False
