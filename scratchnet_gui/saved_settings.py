"""What the window remembers between starts — its settings file — read as warily as any file a user hands it.

The file (``~/.config/ScratchNet/ScratchNet.conf`` on Linux, a ``QSettings`` INI file) is the app's own, but
anything may have written it: an older version, a hand edit, another program. So:

- ``open_settings`` opens it only when it is a regular file of a sensible size that Qt can parse. Anything else
  (a FIFO, which would hang the start, a device, a folder, a huge or unreadable file) is moved aside to
  ``ScratchNet.conf.damaged-<UTC time>``, as the run store does with a damaged store, and a fresh file is
  started; the notice it returns says so.
- ``SavedValues`` reads each value as the type its reader needs (``text``, ``data``, ``json_object``). A value
  of any other type is removed from the file and named in ``dropped``, for one notice; it never reaches a widget.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from scratchnet.regular_file import read_regular_file

ORGANIZATION = APPLICATION = "ScratchNet"
MAX_FILE_BYTES = 1 << 20  # the file holds a window layout and one set of settings: a few kilobytes
MAX_TEXT_CHARS = 64 * 1024  # a path, a preset name, the settings as JSON


def settings_path() -> Path:
    """Where the app keeps its settings file: the platform's user configuration folder."""
    config = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericConfigLocation)
    return Path(config) / ORGANIZATION / f"{APPLICATION}.conf"


def open_settings(path: Path | None = None) -> tuple[QSettings, str | None]:
    """The settings file at ``path`` (default ``settings_path()``) as a ``QSettings``, and None; or, when that
    file is unusable, a fresh one in its place and a sentence saying where the old one went."""
    path = settings_path() if path is None else path
    problem = _unusable(path)
    if problem is None:
        settings = QSettings(str(path), QSettings.Format.IniFormat)
        if settings.status() == QSettings.Status.NoError:
            return settings, None
        problem = "could not be parsed"
        del settings
    try:
        aside = _move_aside(path)
    except OSError as error:  # a read-only folder: start with settings that are not kept
        fresh = Path(tempfile.mkdtemp(prefix="scratchnet-settings-")) / path.name
        notice = f"The saved settings {path} {problem} and could not be moved aside ({error.strerror or error}); "
        notice += "this session's settings will not be kept."
        return QSettings(str(fresh), QSettings.Format.IniFormat), notice
    notice = f"The saved settings {path} {problem}; the file was moved to {aside.name} and the defaults are used."
    return QSettings(str(path), QSettings.Format.IniFormat), notice


def _unusable(path: Path) -> str | None:
    """Why the file at ``path`` cannot be handed to Qt (which would block on a FIFO, or read a device for ever)."""
    try:
        read_regular_file(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        return None  # a first start: Qt creates it
    except OSError as error:
        return f"cannot be used ({error.strerror or error})"
    return None


def _move_aside(path: Path) -> Path:
    """Rename ``path`` to ``<name>.damaged-<UTC time>`` beside it, never over an earlier one."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    aside, copy = path.with_name(f"{path.name}.damaged-{stamp}"), 1
    while aside.exists():
        copy += 1
        aside = path.with_name(f"{path.name}.damaged-{stamp}-{copy}")
    os.rename(path, aside)
    return aside


class SavedValues:
    """Typed reads of ``settings``: each returns the stored value, or None when there is none or it is unusable
    — then the value is removed from the file and described in ``dropped`` (see ``report``)."""

    def __init__(self, settings: QSettings):
        self.settings = settings
        self.dropped: list[str] = []

    def text(self, key: str) -> str | None:
        """The string stored under ``key`` (at most ``MAX_TEXT_CHARS``)."""
        value = self.settings.value(key)
        if value is None or (isinstance(value, str) and len(value) <= MAX_TEXT_CHARS):
            return value
        return self.drop(key, "is not a line of text" if not isinstance(value, str) else "is too long")

    def data(self, key: str) -> QByteArray | None:
        """The bytes Qt stored under ``key`` (``saveGeometry``, ``saveState``)."""
        value = self.settings.value(key)
        if value is None or isinstance(value, QByteArray):
            return value
        return self.drop(key, "is not the data Qt saved")

    def restore(self, key: str, restore: Callable[[QByteArray], bool], what: str) -> bool:
        """Hand the bytes under ``key`` to ``restore`` (``QWidget.restoreGeometry``): False when there are none, or
        when ``restore`` refuses them as not a ``what`` ("window geometry") — then they are dropped."""
        value = self.data(key)
        if value is not None and not restore(value):
            self.drop(key, f"is not a {what}")
            return False
        return value is not None

    def json_object(self, key: str) -> dict | None:
        """The JSON object stored as text under ``key``."""
        text = self.text(key)
        if text is None:
            return None
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # bad syntax, absurd nesting, an integer of thousands of digits
            value = None
        return value if isinstance(value, dict) else self.drop(key, "is not a JSON object")

    def report(self) -> str | None:
        """One sentence naming the values dropped since the last report, or None."""
        if not self.dropped:
            return None
        dropped, self.dropped = self.dropped, []
        return f"Some saved settings were unusable and were forgotten: {'; '.join(dropped)}."

    def drop(self, key: str, why: str) -> None:
        """Remove the value under ``key``, which its reader found unusable: it ``why`` ("names no preset")."""
        self.settings.remove(key)
        self.dropped.append(f"{key} {why}")
