"""The learner's own handwriting: labelled examples drawn on the pad, kept on disk, safe from crashes.

An examples folder holds three files::

    images-idx3-ubyte     (n, H, W) uint8, ink high: the network's input as the pad prepared it
    labels-idx1-ubyte     (n,) uint8 class indices
    strokes.json          the pad's vector strokes of each example (null for an imported one), so an
                          example can be prepared again if the preparation improves

The IDX pair alone is a valid examples folder (that is what import and export exchange); ``strokes.json``
is optional. The app keeps its collection in ``data_home()/"handwriting"`` (``HandwritingStore``).

Three files cannot be replaced in one atomic step, so a save is a small journal: the new files are
written into a fresh staging folder, which is then renamed to ``.committed`` (the one atomic step that
decides whether the save happened), whose files are then moved over the old ones. A crash before the
rename leaves the previous collection untouched (the staging folder is a leftover, removed later); a crash
after it leaves ``.committed`` complete, and the next read finishes moving its files before reading.

Several processes may share the collection (two windows on one data home, a window and the command line).
Each change is made under the collection's lock (``.lock``, see ``file_lock``): read what is on disk now,
apply the change, save. So a change merges with whatever the others saved meanwhile, and nothing anyone
labelled vanishes. Every example has an id (kept in strokes.json) by which a relabel, a delete or an undo
finds it wherever other windows' changes have moved it. Every save first writes a fresh token into
``.lock``: while the token and the files are as a process left them, it need not read them again.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from .atomic import atomic_write
from .errors import DataError
from .file_lock import locked
from .home import data_home
from .idx import read_idx, write_idx
from .preprocess import Drawing

IMAGES, LABELS, STROKES = "images-idx3-ubyte", "labels-idx1-ubyte", "strokes.json"
FILES = (IMAGES, LABELS, STROKES)
COMMITTED = ".committed"  # a complete save whose files are still to be moved into place
STAGING = re.compile(r"\.saving\.(?P<pid>\d+)\.[0-9a-f]{12}")  # a save being written (or a killed writer's leftover)
LOCK = ".lock"  # held by the process changing the collection (see file_lock); holds the token of the latest save
TOKEN_BYTES = 16
STROKES_FORMAT = "scratchnet-handwriting-strokes"
MAX_STROKES_BYTES = 1 << 28  # 256 MiB: the strokes of about 100 000 drawings
EXAMPLE_ID = re.compile(r"[0-9a-f]{16}|#\d{1,9}")  # a random id, or "#<position>" for an example saved without one
DEFAULT_SHAPE = (28, 28)


@dataclass
class Examples:
    """Labelled images (n, H, W) uint8 with ink high, their labels (n,), the strokes each was drawn with and the
    id of each (a fresh one unless given: see ``new_ids``)."""

    images: np.ndarray
    labels: np.ndarray
    drawings: list[Drawing | None] = field(default_factory=list)  # None: no strokes (an imported example)
    ids: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if not self.drawings:
            self.drawings = [None] * len(self.labels)
        if not self.ids:
            self.ids = new_ids(len(self.labels))
        if self.images.ndim != 3 or self.images.dtype != np.uint8:
            raise DataError(f"examples must be uint8 images (n, height, width); got {self.images.dtype} {self.images.shape}")
        if not len(self.images) == len(self.labels) == len(self.drawings) == len(self.ids):
            raise DataError(
                f"{len(self.images)} example images but {len(self.labels)} labels, {len(self.drawings)} strokes and {len(self.ids)} ids"
            )

    @classmethod
    def empty(cls, image_shape: tuple[int, int] = DEFAULT_SHAPE) -> Examples:
        return cls(np.zeros((0, *image_shape), np.uint8), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.images.shape[1:])

    def counts(self, num_classes: int) -> np.ndarray:
        """How many examples each class has, (num_classes,)."""
        return np.bincount(self.labels, minlength=num_classes)[:num_classes]

    def take(self, indices) -> Examples:
        """The examples at ``indices``, in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        return Examples(self.images[indices], self.labels[indices], [self.drawings[i] for i in indices], [self.ids[i] for i in indices])

    def concat(self, other: Examples) -> Examples:
        if len(self) and len(other) and other.image_shape != self.image_shape:
            raise DataError(f"the examples are {_size(other.image_shape)} images, the collection's are {_size(self.image_shape)}")
        if not len(self):
            return other
        images = np.concatenate([self.images, other.images])
        return Examples(images, np.concatenate([self.labels, other.labels]), self.drawings + other.drawings, self.ids + other.ids)

    def positions_of(self, ids: list[str]) -> np.ndarray:
        """The positions of the examples with these ids that are here (ascending; the others are left out)."""
        wanted = set(ids)
        return np.array([position for position, i in enumerate(self.ids) if i in wanted], np.int64)


def new_ids(count: int) -> list[str]:
    """``count`` fresh example ids: random, so that no two processes ever give the same one."""
    return [secrets.token_hex(8) for _ in range(count)]


def positional_ids(count: int) -> list[str]:
    """The ids of examples saved without any (by an older ScratchNet, or an IDX pair): their positions. The same
    in every process reading the same files, so two windows agree on them until the next save writes them."""
    return [f"#{position}" for position in range(count)]


def as_example_image(image: np.ndarray) -> np.ndarray:
    """An image (H, W) as the store keeps it: uint8 as it is, or the pad's input (floats in [0, 1]) scaled to 0–255."""
    image = np.asarray(image)
    if image.ndim != 2:
        raise DataError(f"an example is one image (height, width); got shape {image.shape}")
    if image.dtype == np.uint8:
        return image
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


# ---- the folder format ---------------------------------------------------------------------------------


def read_examples(folder: str | os.PathLike) -> Examples:
    """The examples of ``folder`` (the IDX pair, and strokes.json when present); ``DataError`` saying what is wrong.

    Reading changes nothing in the folder (it may be the user's, named as a source). A save that was interrupted
    after its commit is read as it was committed: each file from ``.committed`` while it is still there."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder of examples (it should hold {IMAGES} and {LABELS})")
    committed = _committed(folder)
    paths = {name: committed / name if committed and os.path.lexists(committed / name) else folder / name for name in FILES}
    missing = [name for name in (IMAGES, LABELS) if not os.path.lexists(paths[name])]
    if missing:
        raise DataError(f"{folder} lacks {' and '.join(missing)}: an examples folder holds {IMAGES} and {LABELS}")
    images, labels = read_idx(_regular_file(paths[IMAGES])), read_idx(_regular_file(paths[LABELS]))
    if images.ndim != 3 or images.dtype != np.uint8 or 0 in images.shape[1:]:
        raise DataError(f"{paths[IMAGES]}: expected uint8 images (n, height, width); got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(f"{paths[LABELS]}: expected uint8 labels (n,); got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{folder} has {len(images)} images but {len(labels)} labels")
    if not os.path.lexists(paths[STROKES]):
        return Examples(images, labels, ids=positional_ids(len(labels)))
    drawings, ids = _read_strokes(paths[STROKES], len(labels))
    return Examples(images, labels, drawings, ids)


def write_examples(examples: Examples, folder: str | os.PathLike) -> None:
    """Save ``examples`` to ``folder`` so that a crash at any moment leaves either the old or the new
    collection readable, never a mix (see the module's docstring)."""
    folder = Path(folder)
    if examples.labels.size and not 0 <= examples.labels.min() <= examples.labels.max() <= 255:
        raise DataError(f"labels must be class indices 0–255 to be saved; got {examples.labels.min()}–{examples.labels.max()}")
    folder.mkdir(parents=True, exist_ok=True)
    _finish_committed_save(folder)
    staging = folder / f".saving.{os.getpid()}.{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        write_idx(staging / IMAGES, examples.images)
        write_idx(staging / LABELS, examples.labels.astype(np.uint8))
        atomic_write(staging / STROKES, _strokes_json(examples))
        os.replace(staging, folder / COMMITTED)  # the commit: from here on, this save is the collection
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _finish_committed_save(folder)


def _committed(folder: Path) -> Path | None:
    """The committed save of ``folder`` still to be moved into place, if any. Only a real folder counts: a link
    or a file of that name is not ScratchNet's and makes the folder unreadable (nothing is moved through it)."""
    committed = folder / COMMITTED
    if not os.path.lexists(committed):
        return None
    if not stat.S_ISDIR(committed.lstat().st_mode):
        raise DataError(f"{committed} is not a folder ScratchNet wrote (a link or a file); move it away to use {folder}")
    return committed


def _finish_committed_save(folder: Path) -> None:
    """Move the files of a committed save over the old ones; safe to repeat after a crash half-way."""
    committed = _committed(folder)
    if committed is None:
        return
    for name in FILES:
        if os.path.lexists(committed / name):
            os.replace(committed / name, folder / name)
    committed.rmdir()


def _remove_stale_staging(folder: Path) -> None:
    """Delete the staging folders of saves whose process is gone (killed before their commit). Only in the app's
    collection: a killed export leaves its staging folder (hidden, harmless) in the user's folder."""
    for entry in os.scandir(folder):
        match = STAGING.fullmatch(entry.name)
        if match and entry.is_dir(follow_symlinks=False) and not psutil.pid_exists(int(match["pid"])):
            shutil.rmtree(entry.path, ignore_errors=True)


def _regular_file(path: Path) -> Path:
    """``path`` itself, when it is (or links to) a regular file: a FIFO would hang a read, a device never end."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        target = f"a link to {os.readlink(path)}, which" if path.is_symlink() else "gone: it"
        raise DataError(f"{path} is {target} does not exist") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if not stat.S_ISREG(mode):
        raise DataError(f"{path} is not a regular file")
    return path


def _read_token(lock: Path) -> bytes | None:
    """The token of the collection's latest save (see the module's docstring); None when there is none."""
    try:
        fd = os.open(lock, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        return os.read(fd, TOKEN_BYTES)
    except OSError:
        return None
    finally:
        os.close(fd)


def _strokes_json(examples: Examples) -> bytes:
    """The strokes and the id of every example: polylines of (x, y) canvas points, pen widths and the canvas size.
    An image under the strokes is not kept: its pixels are in the example's image already."""
    entries = [
        None
        if drawing is None
        else {"strokes": [np.asarray(s).tolist() for s in drawing.strokes], "widths": list(drawing.widths), "size": drawing.size}
        for drawing in examples.drawings
    ]
    return json.dumps({"format": STROKES_FORMAT, "version": 2, "drawings": entries, "ids": examples.ids}).encode()


def _read_strokes(path: Path, count: int) -> tuple[list[Drawing | None], list[str]]:
    """The drawings and ids of ``count`` examples from a strokes file; ``DataError`` for anything unexpected in it."""
    try:
        document = json.loads(_read_bounded(path, MAX_STROKES_BYTES), parse_constant=_refuse_constant)
        if not isinstance(document, dict) or document.get("format") != STROKES_FORMAT or not isinstance(document.get("drawings"), list):
            raise ValueError("not a strokes file")
        drawings = [None if entry is None else _drawing(entry) for entry in document["drawings"]]
        if len(drawings) != count:
            raise DataError(f"{path} has the strokes of {len(drawings)} examples but the images are {count}")
        ids = _ids(document["ids"], count) if "ids" in document else positional_ids(count)
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as error:  # RecursionError: nested too deep
        raise DataError(f"{path}: unreadable strokes ({error}); move it away to keep the examples without their strokes") from None
    return drawings, ids


def _read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path``, refusing one larger than ``limit``."""
    # O_NONBLOCK: a FIFO put at the path cannot hang the open
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(fd, "rb") as file:
            status = os.fstat(file.fileno())
            if not stat.S_ISREG(status.st_mode):
                raise DataError(f"{path} is not a regular file")
            if status.st_size > limit:
                raise DataError(f"{path} holds {status.st_size:,} bytes, more than the {limit:,} allowed")
            return file.read(limit + 1)
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number a drawing can hold")


def _drawing(entry) -> Drawing:
    if not isinstance(entry, dict) or not isinstance(entry["strokes"], list) or not isinstance(entry["widths"], list):
        raise ValueError("a drawing is an object with lists of strokes and widths")
    strokes = [_points(stroke) for stroke in entry["strokes"]]
    widths = [_positive(width, "a pen width") for width in entry["widths"]]
    if len(widths) != len(strokes):
        raise ValueError(f"{len(strokes)} strokes but {len(widths)} pen widths")
    return Drawing(strokes, widths, _positive(entry["size"], "the canvas size"))


def _points(stroke) -> np.ndarray:
    """A stroke as (k, 2) finite canvas points."""
    if not isinstance(stroke, list) or not all(isinstance(point, list) and len(point) == 2 for point in stroke):
        raise ValueError("a stroke is a list of [x, y] points")
    points = np.array(stroke, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(points).all():
        raise ValueError("a stroke has a point that is not a finite number")
    return points


def _positive(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < float(value) < math.inf:
        raise ValueError(f"{what} must be a positive number, not {str(value)[:40]}")
    return float(value)


def _ids(ids, count: int) -> list[str]:
    if not isinstance(ids, list) or len(ids) != count or not all(isinstance(i, str) and EXAMPLE_ID.fullmatch(i) for i in ids):
        raise ValueError(f"expected the ids of {count} examples")
    if len(set(ids)) != count:
        raise ValueError("two examples have the same id")
    return ids


def _size(shape: tuple[int, ...]) -> str:
    return "×".join(str(side) for side in shape)


# ---- the app's collection -----------------------------------------------------------------------------------


@dataclass
class Deleted:
    """What ``HandwritingStore.delete`` removed, so that ``restore`` can put it back where it was."""

    positions: np.ndarray  # (k,) ascending positions the examples had in the collection
    examples: Examples


class HandwritingStore:
    """The learner's collection, saved after every change (in ``data_home()/"handwriting"`` by default).

    ``examples`` is the collection as this process last read or saved it: a change applies to the collection as
    it is on disk at that moment, with the changes of other processes (see the module's docstring), and
    positions refer to ``examples``. ``DataError`` (or ``OSError``) when the collection cannot be read; then
    nothing is ever written over it. An empty collection has no files yet."""

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder is not None else data_home() / "handwriting"
        self.examples = Examples.empty()
        self._read_as: tuple | None = None  # the files' signature when ``examples`` was read or saved
        self.reload()

    def reload(self) -> bool:
        """Read the collection as it is on disk now, if its files changed since this process last read or saved it
        (another process saved it); True when they had."""
        if self._signature() == self._read_as:
            return False
        if self._is_new():
            self.examples, self._read_as = Examples.empty(), self._signature()
        else:
            with self._locked():
                self.examples, self._read_as = self._read(), self._signature()
        return True

    def add(self, image: np.ndarray, label: int, drawing: Drawing | None = None) -> int:
        """Keep ``image`` (see ``as_example_image``) as an example of class ``label``; return its position."""
        added = Examples(as_example_image(image)[None], np.array([label]), [drawing])
        self._change(lambda current: current.concat(added))
        return len(self.examples) - 1

    def relabel(self, positions, label: int) -> None:
        """Make the examples at ``positions`` (one or many) examples of class ``label``."""
        ids = self._ids_at(positions)

        def relabelled(current: Examples) -> Examples:
            labels = current.labels.copy()
            labels[current.positions_of(ids)] = label
            return Examples(current.images, labels, current.drawings, current.ids)

        self._change(relabelled)

    def delete(self, positions) -> Deleted:
        """Remove the examples at ``positions``; pass the result to ``restore`` to undo."""
        positions = np.unique(np.asarray(positions, dtype=np.int64))
        deleted = Deleted(positions, self.examples.take(positions))
        self._change(lambda current: current.take(np.setdiff1d(np.arange(len(current)), current.positions_of(deleted.examples.ids))))
        return deleted

    def restore(self, deleted: Deleted) -> None:
        """Put deleted examples back at their old positions, as far as the collection still has them (undo of
        ``delete``); one that is back already (restored by another window) is not doubled."""

        def restored(current: Examples) -> Examples:
            present = set(current.ids)
            missing = np.flatnonzero([i not in present for i in deleted.examples.ids])
            positions, back = deleted.positions[missing], deleted.examples.take(missing)
            # position p_j of the j-th example back is p_j - j among the examples kept (no further than their end)
            before = np.minimum(positions - np.arange(len(positions)), len(current))
            order = np.insert(np.arange(len(current)), before, len(current) + np.arange(len(positions)))
            return current.concat(back).take(order)

        self._change(restored)

    def import_folder(self, folder: str | os.PathLike) -> int:
        """Add the examples of an IDX folder (see ``read_examples``; the folder is only read) to the collection;
        return how many."""
        imported = read_examples(folder)
        imported.ids = new_ids(len(imported))  # they join as new examples, even when they came from this collection
        self._change(lambda current: current.concat(imported))
        return len(imported)

    def export_folder(self, folder: str | os.PathLike) -> None:
        """Write the collection to ``folder`` as an examples folder (IDX pair and strokes)."""
        folder = Path(folder)
        try:
            same = folder.resolve() == self.folder.resolve()
        except (OSError, RuntimeError) as error:  # a link loop (RuntimeError before Python 3.13), a name too long
            raise DataError(f"{folder} cannot be written to: {error}") from None
        if same:
            raise DataError(f"{folder} is the collection itself: export to another folder")
        write_examples(self.examples, folder)

    def _ids_at(self, positions) -> list[str]:
        return [self.examples.ids[position] for position in np.atleast_1d(np.asarray(positions, dtype=np.int64))]

    def _change(self, change) -> None:
        """Apply ``change(examples on disk) -> new examples`` and save, holding the lock from the read to the save."""
        with self._locked() as lock:
            current = self.examples if self._signature() == self._read_as else self._read()
            changed = change(current)
            os.lseek(lock, 0, os.SEEK_SET)
            os.write(lock, secrets.token_bytes(TOKEN_BYTES))  # before the save: whatever becomes of it, others re-read
            _remove_stale_staging(self.folder)  # here only: elsewhere (an export's folder) nothing is deleted
            write_examples(changed, self.folder)
            self.examples, self._read_as = changed, self._signature()

    def _read(self) -> Examples:
        """The collection on disk (under the lock): a committed save is finished first."""
        if self._is_new():
            return Examples.empty()
        _finish_committed_save(self.folder)
        return read_examples(self.folder)

    def _signature(self) -> tuple:
        """What tells, without reading them, that the collection changed: the token of its latest save (which every
        save changes), and each file's inode, size and time (for files changed by hand)."""
        signature = [_read_token(self.folder / LOCK)]
        for name in (*FILES, COMMITTED):
            try:
                status = os.lstat(self.folder / name)
            except OSError:
                status = None
            signature.append(status and (status.st_ino, status.st_size, status.st_mtime_ns))
        return tuple(signature)

    def _is_new(self) -> bool:
        """True while nothing of a collection exists: no folder yet, or a folder without any of its files. A file
        that is there but cannot be read (missing, a dangling link) is not nothing: the collection must be read."""
        if not os.path.lexists(self.folder):
            return True
        return self.folder.is_dir() and not any(os.path.lexists(self.folder / name) for name in (*FILES, COMMITTED))

    def _locked(self):
        if os.path.lexists(self.folder) and not self.folder.is_dir():
            raise DataError(f"{self.folder} is not a folder of examples: move it away to collect examples there")
        self.folder.mkdir(parents=True, exist_ok=True)
        return locked(self.folder / LOCK)
