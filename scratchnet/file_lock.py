"""An advisory lock shared by the processes that change one set of files (two windows on one data home, a
window and the command line): hold it around read-change-write, and no change is lost to another's.

The lock is an exclusive ``flock`` (``msvcrt.locking`` on Windows) on a small file of its own that is never
deleted. The kernel releases it when its holder exits, however abruptly (kill -9 included), so a crashed
process never leaves the files locked. Nobody waits long: after ``wait`` seconds the lock is given up on.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

if os.name == "nt":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


LOCK_WAIT = 2.0  # seconds: a change waits at most this long for another process's change to end
_POLL = 0.01  # seconds between two tries


class LockTimeout(OSError):
    """Another process held the lock for longer than the wait allowed."""


@contextlib.contextmanager
def locked(path: str | os.PathLike, wait: float = LOCK_WAIT) -> Iterator[int]:
    """Hold the lock file ``path`` (created if need be) for the block, which gets its descriptor (the holder may
    write in it); ``LockTimeout`` after ``wait`` seconds, ``OSError`` when the lock file cannot be opened (a
    folder, a file of another user)."""
    # O_NONBLOCK: a FIFO put in the lock file's place cannot hang the open
    fd = os.open(Path(path), os.O_RDWR | os.O_CREAT | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0), 0o666)
    try:
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() > deadline:
                raise LockTimeout(f"another ScratchNet process has held {path} for more than {wait:g} s")
            time.sleep(_POLL)
        yield fd  # closing the file releases the lock
    finally:
        os.close(fd)
