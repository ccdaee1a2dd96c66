"""Reading a small file a user or another program may have replaced by anything: a pipe, a device, a folder, a
file of gigabytes.

``read_regular_file`` opens the path non-blocking and checks what it is before reading a byte, so a FIFO
without a writer cannot hang the caller and ``/dev/zero`` is never read; then it reads at most the limit the
caller names, so a file that grows meanwhile cannot fill the memory either.
"""

from __future__ import annotations

import os
import stat


class UnreadableFile(OSError):
    """The path is not a regular file of a readable size; ``strerror`` says what it is instead ("it is a pipe
    (FIFO), not a regular file"), as an ``OSError`` from the system would."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.strerror, self.filename = reason, os.fspath(path)


def read_regular_file(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``max_bytes``; ``UnreadableFile`` when it is
    something else or larger, ``FileNotFoundError`` or another ``OSError`` when it cannot be opened."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnreadableFile(path, f"it is {file_kind(mode)}, not a regular file")
        file = open(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnreadableFile(path, f"it is larger than {max_bytes:,} bytes")
    return data


def file_kind(mode: int) -> str:
    """What a ``st_mode`` that is not a regular file's describes, in words: "a pipe (FIFO)", "a folder"."""
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe (FIFO)"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    return next((kind for test, kind in kinds if test(mode)), "a special file")
