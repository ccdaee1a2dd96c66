"""Atomic file writes: write to a temporary name in the same folder, then rename over the target.

A crash or an error half-way leaves the previous file untouched and no temporary file behind,
because ``os.replace`` within one folder is atomic on every platform we support.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Replace the file at ``path`` with ``data`` atomically."""
    atomic_write_with(path, lambda f: f.write(data))


def atomic_write_with(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, flush it to disk, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
        name = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), name
        except FileExistsError:
            continue
