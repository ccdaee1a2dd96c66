"""Decoded copies of compressed datasets, so that a start after the first need not gunzip MNIST again.

Gunzipping MNIST's 47 MB of training images takes most of a cold load; reading the same bytes uncompressed takes a
few hundredths of a second. So once a dataset of ``.gz`` files has loaded (and passed every check), its arrays are
kept as uncompressed IDX files in ``cache/decoded/<key>/`` in the data home, where ``key`` is the sha256 of the
source files' own sha256s. The copy is therefore tied to the sources' bytes, not to their names, dates or folder:
hashing the 11 MB of compressed sources at each start (about 10 ms) is what proves the copy is still theirs, and a
changed source simply has another key. Raw (uncompressed) sources are fast to read already and are not copied.

Nothing in the cache is trusted: a copy is read only from regular files (no FIFO, device or symbolic link), each
must hold exactly what its IDX header says, and each must announce the dtype and shape of its source's header;
anything else is a miss, and the sources are read instead (and the copy written again). The cache is written
atomically, only inside the data home, never into the folder the data came from, and never more than
``KEPT_ENTRIES`` datasets' worth: it only ever deletes its own older entries.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np

from .errors import DataError
from .home import data_home
from .idx import read_idx, read_idx_header, write_idx

KEPT_ENTRIES = 3  # datasets whose decoded copy is kept (about 55 MB each for MNIST); older ones are deleted
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}")


def decoded_cache_dir() -> Path:
    """Where decoded copies are kept: ``cache/decoded`` in the data home (``~/.local/share/scratchnet`` on Linux)."""
    return data_home() / "cache" / "decoded"


def entry_for(digests: dict[str, str]) -> Path:
    """The cache folder of the dataset whose files (by standard name) have these sha256 digests."""
    key = hashlib.sha256("".join(f"{name}:{digest}\n" for name, digest in sorted(digests.items())).encode()).hexdigest()
    return decoded_cache_dir() / key


def read_decoded(sources: dict[str, Path], digests: dict[str, str]) -> list[np.ndarray] | None:
    """The arrays of ``sources`` (standard name → compressed file) from their decoded copy, in the order of
    ``sources``; None when there is no usable copy."""
    entry = entry_for(digests)
    try:
        arrays = [read_idx(entry / name, follow_symlinks=False) for name in sources]
        if any((array.dtype, array.shape) != read_idx_header(source) for array, source in zip(arrays, sources.values())):
            return None
    except DataError:  # missing, truncated, special or foreign: read the sources instead
        return None
    try:
        os.utime(entry)  # the entry used last is the last one deleted
    except OSError:
        pass
    return arrays


def keep_decoded(sources: dict[str, Path], digests: dict[str, str], arrays: list[np.ndarray], source_folder: Path) -> None:
    """Write the decoded ``arrays`` of ``sources`` to their cache entry, then delete the oldest entries beyond
    ``KEPT_ENTRIES``. The cache only saves time: a full disk or a read-only data home costs nothing but that."""
    entry = entry_for(digests)
    try:
        if not _make_own_folder(entry, source_folder):
            return
        for name, array in zip(sources, arrays):
            write_idx(entry / name, array)
        _delete_older_entries(entry.parent, keep=entry.name)
    except (OSError, DataError):
        pass


def _make_own_folder(entry: Path, source_folder: Path) -> bool:
    """Create ``entry`` inside the data home folder by folder, refusing a symbolic link on the way (which could lead
    anywhere, a source folder included) and the folder the data came from; True when it is ready to write into."""
    folder = data_home()
    folder.mkdir(parents=True, exist_ok=True)
    for part in entry.relative_to(folder).parts:
        folder = folder / part
        if folder.is_symlink():
            return False
        folder.mkdir(exist_ok=True)
    return folder.resolve() != source_folder.resolve()


def _delete_older_entries(cache: Path, keep: str) -> None:
    """Delete the entries of ``cache`` beyond the ``KEPT_ENTRIES`` used last (``keep`` among them): only folders
    named as entries are, and only when they hold nothing but plain files (their IDX copies, a temporary file)."""
    entries = [entry for entry in os.scandir(cache) if _ENTRY_NAME.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)]
    entries.sort(key=lambda entry: (entry.name == keep, entry.stat(follow_symlinks=False).st_mtime), reverse=True)
    for entry in entries[KEPT_ENTRIES:]:
        if all(item.is_file(follow_symlinks=False) for item in os.scandir(entry.path)):
            shutil.rmtree(entry.path, ignore_errors=True)
