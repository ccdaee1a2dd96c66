"""The IDX file format of MNIST: a small header, then one big array.

Layout (all integers big-endian)::

    bytes 0-1   zero
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    next 4·d    the size of each dimension, uint32
    the rest    the elements, row-major

The reader trusts nothing: it opens only regular files (a FIFO or a device is refused at once), checks the
header, refuses sizes it would not want to allocate before reading any data, and checks that the file holds
exactly what the header claims. Files may be gzip-compressed (by their ``.gz`` name or gzip magic bytes).
"""

from __future__ import annotations

import gzip
import io
import math
import os
import struct
import zlib
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .atomic import atomic_write, atomic_write_with
from .errors import DataError
from .regular_file import UnreadableFile, open_regular_file

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
TYPE_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_TYPES.items()}
MAX_DIMENSIONS = 4
MAX_BYTES = 1 << 30  # 1 GiB: ten times the largest MNIST-like file
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 22


def read_idx(path: str | os.PathLike, follow_symlinks: bool = True) -> np.ndarray:
    """Read an IDX file (raw or gzip) into a native-endian array, or raise ``DataError`` saying what is wrong. With
    ``follow_symlinks=False`` a symbolic link is refused (see ``open_data_file``)."""
    return _with_idx_stream(path, follow_symlinks, _read_idx_stream)


def read_idx_header(path: str | os.PathLike) -> tuple[np.dtype, tuple[int, ...]]:
    """The native dtype and the shape an IDX file's header announces, read without the data (a gzip file is
    decompressed only as far as its header)."""
    return _with_idx_stream(path, True, lambda stream, name, file_size: _read_header(stream, name)[:2])


def _with_idx_stream(path: str | os.PathLike, follow_symlinks: bool, read):
    """``read(stream, name, file_size)`` on the file's decompressed stream (``file_size`` None for gzip), with every
    failure of the file or of the decompression worded as a ``DataError``."""
    path = Path(path)
    try:
        with open_data_file(path, follow_symlinks) as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw) if compressed else raw
            return read(stream, path.name, None if compressed else os.fstat(raw.fileno()).st_size)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError; a refused link is ELOOP
        raise DataError(f"{path.name}: not a readable (gzip) IDX file: {error}") from None


def open_data_file(path: Path, follow_symlinks: bool = True) -> BinaryIO:
    """``path`` opened for reading if it is a regular file, else ``DataError`` saying what it is (see
    ``regular_file.open_regular_file``: a FIFO cannot hang us, a device is never read)."""
    try:
        return open_regular_file(path, follow_symlinks)
    except UnreadableFile as error:
        raise DataError(f"{path}: this is {error.kind}, not a data file") from None


def _read_header(stream: io.BufferedIOBase, name: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """Check and parse the header: the native dtype, the shape and the header's size in bytes."""
    header = stream.read(4)
    if len(header) < 4:
        raise DataError(f"{name}: truncated IDX header ({len(header)} of 4 bytes)")
    zero, type_code, ndim = struct.unpack(">HBB", header)
    if zero != 0 or type_code not in IDX_TYPES:
        raise DataError(f"{name}: not an IDX file (magic number 0x{header.hex()})")
    if not 1 <= ndim <= MAX_DIMENSIONS:
        raise DataError(f"{name}: IDX header claims {ndim} dimensions (expected 1 to {MAX_DIMENSIONS})")
    dims_bytes = stream.read(4 * ndim)
    if len(dims_bytes) < 4 * ndim:
        raise DataError(f"{name}: truncated IDX header (dimension sizes missing)")
    shape = struct.unpack(f">{ndim}I", dims_bytes)
    dtype = IDX_TYPES[type_code]
    # Exact Python integers (a NumPy int64 product can wrap around to a small number); zero sizes count as one,
    # because NumPy cannot even shape an empty array as (0, 2**31, 2**31).
    if math.prod(max(size, 1) for size in shape) * dtype.itemsize > MAX_BYTES:
        raise DataError(f"{name}: IDX header claims shape {shape}, more than the {MAX_BYTES:,} bytes allowed")
    return dtype.newbyteorder("="), shape, 4 + 4 * ndim


def _read_idx_stream(stream: io.BufferedIOBase, name: str, file_size: int | None) -> np.ndarray:
    dtype, shape, header_size = _read_header(stream, name)
    expected = math.prod(shape) * dtype.itemsize
    if file_size is not None and file_size != header_size + expected:
        raise DataError(
            f"{name}: IDX header claims shape {shape} ({expected:,} data bytes) "
            f"but the file holds {file_size - header_size:,}; the file is truncated or corrupt"
        )
    data = _read_exactly(stream, expected, name, size_checked=file_size is not None)
    if stream.read(1):
        raise DataError(f"{name}: extra bytes after the {expected:,} data bytes the IDX header announces")
    big_endian = data.view(dtype.newbyteorder(">")).reshape(shape)
    return big_endian if dtype.itemsize == 1 or big_endian.dtype == dtype else big_endian.astype(dtype)


def _read_exactly(stream: io.BufferedIOBase, size: int, name: str, size_checked: bool) -> np.ndarray:
    """Read ``size`` bytes into a new writable uint8 array. When the file's own size has ``size_checked`` the
    header's claim (a raw file), they go straight into an array of that size; otherwise (gzip) they are read in
    chunks as they come, so a header that lies cannot make us allocate what the file does not hold."""
    if size_checked:
        data = np.empty(size, np.uint8)
        view, filled = memoryview(data), 0
        while filled < size:
            count = stream.readinto(view[filled : filled + _CHUNK])
            if not count:
                raise DataError(f"{name}: truncated: {filled:,} of {size:,} data bytes present")
            filled += count
        return data
    chunks, remaining = [], size
    while remaining:
        chunk = stream.read(min(remaining, _CHUNK))
        if not chunk:
            raise DataError(f"{name}: truncated: {size - remaining:,} of {size:,} data bytes present")
        chunks.append(chunk)
        remaining -= len(chunk)
    return np.frombuffer(bytearray().join(chunks), np.uint8)  # one copy, and writable


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file (gzip-compressed when the name ends in ``.gz``), atomically."""
    array = np.asarray(array)
    code = TYPE_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise DataError(f"IDX cannot store dtype {array.dtype}")
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    data = np.ascontiguousarray(array, IDX_TYPES[code])
    if str(path).endswith(".gz"):
        atomic_write(path, gzip.compress(header + data.tobytes(), mtime=0))
    else:  # no copy of the data: a decoded MNIST is 55 MB
        atomic_write_with(path, lambda file: (file.write(header), file.write(data.reshape(-1).view(np.uint8))))
