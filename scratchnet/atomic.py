"""Atomic file writes: write to a temporary name in the same folder, then rename over the target.

A crash or an error half-way leaves the previous file untouched and no temporary file behind,
because ``os.replace`` within one folder is atomic on every platform we support.

Only a hard kill (SIGKILL, power loss) can leave the temporary file, ``.NAME.<pid>.<hex>.tmp``. The
writer's process id in the name tells such a leftover from a write still under way: the next write to
the same target, and ``remove_stale_temp_files`` at start-up, delete the ones whose writer is gone.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import psutil

# .NAME.<pid>.<12 hex>.tmp; before the process id was added: .NAME.<12 hex>.tmp
TEMP_NAME = re.compile(r"\.(?P<target>.+?)\.(?:(?P<pid>\d+)\.)?[0-9a-f]{12}\.tmp")
UNKNOWN_WRITER_STALE_AFTER = 24 * 3600  # seconds: a temp file without a process id is a leftover after a day


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Replace the file at ``path`` with ``data`` atomically."""
    atomic_write_with(path, lambda f: f.write(data))


def unsafe_target(path: Path) -> str | None:
    """Why a file the user named should not be written (a symbolic link, which replacing would silently cut;
    anything but a regular file; a folder that does not exist, since a typo is no folder to create; a name the
    system refuses, such as one too long), or None."""
    try:
        if path.is_symlink():
            return f"it is a symbolic link (to {os.readlink(path)}); name the file itself"
        if path.exists() and not path.is_file():
            return "it is not a regular file"
        if not path.parent.is_dir():
            return f"the folder {path.parent} does not exist"
    except OSError as error:  # e.g. a name too long for the file system
        return f"the system refuses that name ({error.strerror or error})"
    return None


def atomic_write_with(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, flush it to disk, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_files(_stale_temp_files(path.parent, target=path.name))
    fd, tmp_name = _create_beside(path)
    try:
        if path.exists():  # a replaced file keeps its permissions
            os.chmod(tmp_name, stat.S_IMODE(path.stat().st_mode))
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def _create_beside(path: Path) -> tuple[int, str]:
    """Create and open a new, uniquely named temporary file next to ``path``.

    Mode 0666 lets the kernel apply the user's umask, so the file gets the permissions a plain
    ``open()`` would give it (``tempfile.mkstemp`` would make it private to the owner)."""
    while True:
        name = str(path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), name
        except FileExistsError:
            continue


def remove_stale_temp_files(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed writers left in ``folder`` and its subfolders; return them.

    Only names of our own pattern are touched, and of those only the ones whose writing process is gone
    (or, for names without a process id, that were last written to more than a day ago)."""
    return remove_files([leftover for parent, _, _ in os.walk(folder) for leftover in _stale_temp_files(Path(parent))])


def remove_files(paths: list[Path]) -> list[Path]:
    """Delete ``paths`` as far as possible; return the ones deleted. A file that is gone already or that
    may not be deleted (another user's, or open on Windows) is left alone: clean-up never fails a task."""
    removed = []
    for path in paths:
        try:
            path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


def _stale_temp_files(folder: Path, target: str | None = None) -> list[Path]:
    """Our temp files in ``folder`` (only those of ``target``, when given) whose writer is gone."""
    return [Path(entry.path) for entry in os.scandir(folder) if _is_stale(entry, target)]


def _is_stale(entry: os.DirEntry, target: str | None) -> bool:
    match = TEMP_NAME.fullmatch(entry.name)
    if not match or target not in (None, match["target"]) or not entry.is_file(follow_symlinks=False):
        return False
    if match["pid"] is not None:
        return not psutil.pid_exists(int(match["pid"]))
    try:
        return time.time() - entry.stat().st_mtime > UNKNOWN_WRITER_STALE_AFTER
    except OSError:  # gone meanwhile
        return False
