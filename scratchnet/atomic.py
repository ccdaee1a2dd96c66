"""Atomic file writes: write to a temporary name in the same folder, then rename over the target.

A crash or an error half-way leaves the previous file untouched and no temporary file behind,
because ``os.replace`` within one folder is atomic on every platform we support.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

_UMASK = os.umask(0)  # read the process's umask (the only way is to set it) ...
os.umask(_UMASK)  # ... and put it back at once


def atomic_write(path: str | os.PathLike, data: bytes) -> None:
    """Replace the file at ``path`` with ``data`` atomically."""
    atomic_write_with(path, lambda f: f.write(data))


def atomic_write_with(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Call ``write(f)`` on a temporary file beside ``path``, flush it to disk, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes a private (0600) file; give it the permissions a plain open() would have.
        os.chmod(tmp_name, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
