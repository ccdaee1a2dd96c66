"""Reading a small file a user or another program may have replaced by anything: a pipe, a device, a folder, a
file of gigabytes.

``read_regular_file`` opens the path non-blocking and checks what it is before reading a byte, so a FIFO
without a writer cannot hang the caller and ``/dev/zero`` is never read; then it reads at most the limit the
caller names, so a file that grows meanwhile cannot fill the memory either.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO


class UnreadableFile(OSError):
    """The path is not a regular file of a readable size; ``strerror`` says what it is instead ("it is a pipe
    (FIFO), not a regular file"), as an ``OSError`` from the system would, and ``kind`` names what it is ("a pipe
    (FIFO)"; None when it is a regular file, but too large)."""

    def __init__(self, path: str | os.PathLike, reason: str, kind: str | None = None):
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.strerror, self.filename, self.kind = reason, os.fspath(path), kind


def open_regular_file(path: str | os.PathLike, follow_symlinks: bool = True) -> BinaryIO:
    """``path`` opened for reading (binary), if it is a regular file: else ``UnreadableFile``, or the system's
    ``OSError`` when it cannot be opened. It is opened non-blocking and checked before any read, so a FIFO without
    a writer cannot hang the caller and a device (``/dev/zero``) is never read; with ``follow_symlinks=False`` a
    symbolic link is refused too (``OSError`` ELOOP)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | (0 if follow_symlinks else getattr(os, "O_NOFOLLOW", 0))
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = file_kind(mode)
            raise UnreadableFile(path, f"it is {kind}, not a regular file", kind)
        return open(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular_file(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``max_bytes``; ``UnreadableFile`` when it is
    something else or larger, ``FileNotFoundError`` or another ``OSError`` when it cannot be opened."""
    with open_regular_file(path) as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnreadableFile(path, f"it is larger than {max_bytes:,} bytes")
    return data


def file_kind(mode: int) -> str:
    """What a ``st_mode`` that is not a regular file's describes, in words: "a pipe (FIFO)", "a folder"."""
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    return next((kind for test, kind in kinds if test(mode)), "a special file")
