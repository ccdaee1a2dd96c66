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
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

from .atomic import atomic_write
from .errors import DataError
from .home import data_home
from .idx import read_idx, write_idx
from .preprocess import Drawing

IMAGES, LABELS, STROKES = "images-idx3-ubyte", "labels-idx1-ubyte", "strokes.json"
FILES = (IMAGES, LABELS, STROKES)
COMMITTED = ".committed"  # a complete save whose files are still to be moved into place
STAGING = re.compile(r"\.saving\.(?P<pid>\d+)\.[0-9a-f]{12}")  # a save being written (or a killed writer's leftover)
STROKES_FORMAT = "scratchnet-handwriting-strokes"
DEFAULT_SHAPE = (28, 28)


@dataclass
class Examples:
    """Labelled images (n, H, W) uint8 with ink high, their labels (n,) and the strokes each was drawn with."""

    images: np.ndarray
    labels: np.ndarray
    drawings: list[Drawing | None] = field(default_factory=list)  # None: no strokes (an imported example)

    def __post_init__(self):
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if not self.drawings:
            self.drawings = [None] * len(self.labels)
        if self.images.ndim != 3 or self.images.dtype != np.uint8:
            raise DataError(f"examples must be uint8 images (n, height, width); got {self.images.dtype} {self.images.shape}")
        if not len(self.images) == len(self.labels) == len(self.drawings):
            raise DataError(f"{len(self.images)} example images but {len(self.labels)} labels and {len(self.drawings)} strokes")

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
        return Examples(self.images[indices], self.labels[indices], [self.drawings[i] for i in indices])

    def concat(self, other: Examples) -> Examples:
        if len(self) and len(other) and other.image_shape != self.image_shape:
            raise DataError(f"the examples are {_size(other.image_shape)} images, the collection's are {_size(self.image_shape)}")
        if not len(self):
            return other
        images = np.concatenate([self.images, other.images])
        return Examples(images, np.concatenate([self.labels, other.labels]), self.drawings + other.drawings)


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

    A save that was interrupted after its commit is finished first, so a read always sees the last save."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder of examples (it should hold {IMAGES} and {LABELS})")
    _finish_committed_save(folder)
    missing = [name for name in (IMAGES, LABELS) if not (folder / name).is_file()]
    if missing:
        raise DataError(f"{folder} lacks {' and '.join(missing)}: an examples folder holds {IMAGES} and {LABELS}")
    images, labels = read_idx(folder / IMAGES), read_idx(folder / LABELS)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(f"{folder / IMAGES}: expected uint8 images (n, height, width); got {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataError(f"{folder / LABELS}: expected uint8 labels (n,); got {labels.dtype} {labels.shape}")
    if len(images) != len(labels):
        raise DataError(f"{folder} has {len(images)} images but {len(labels)} labels")
    drawings = _read_strokes(folder / STROKES, len(labels)) if (folder / STROKES).is_file() else []
    return Examples(images, labels, drawings)


def write_examples(examples: Examples, folder: str | os.PathLike) -> None:
    """Save ``examples`` to ``folder`` so that a crash at any moment leaves either the old or the new
    collection readable, never a mix (see the module's docstring)."""
    folder = Path(folder)
    if examples.labels.size and not 0 <= examples.labels.min() <= examples.labels.max() <= 255:
        raise DataError(f"labels must be class indices 0–255 to be saved; got {examples.labels.min()}–{examples.labels.max()}")
    folder.mkdir(parents=True, exist_ok=True)
    _finish_committed_save(folder)
    _remove_stale_staging(folder)
    staging = folder / f".saving.{os.getpid()}.{secrets.token_hex(6)}"
    staging.mkdir()
    try:
        write_idx(staging / IMAGES, examples.images)
        write_idx(staging / LABELS, examples.labels.astype(np.uint8))
        atomic_write(staging / STROKES, _strokes_json(examples.drawings))
        os.replace(staging, folder / COMMITTED)  # the commit: from here on, this save is the collection
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _finish_committed_save(folder)


def _finish_committed_save(folder: Path) -> None:
    """Move the files of a committed save over the old ones; safe to repeat after a crash half-way."""
    committed = folder / COMMITTED
    if not committed.is_dir():
        return
    for name in FILES:
        if (committed / name).exists():
            os.replace(committed / name, folder / name)
    committed.rmdir()


def _remove_stale_staging(folder: Path) -> None:
    """Delete the staging folders of saves whose process is gone (killed before their commit)."""
    for entry in os.scandir(folder):
        match = STAGING.fullmatch(entry.name)
        if match and entry.is_dir(follow_symlinks=False) and not psutil.pid_exists(int(match["pid"])):
            shutil.rmtree(entry.path, ignore_errors=True)


def _strokes_json(drawings: list[Drawing | None]) -> bytes:
    """The strokes of every example: polylines of (x, y) canvas points, pen widths and the canvas size.
    An image under the strokes is not kept: its pixels are in the example's image already."""
    entries = [
        None
        if drawing is None
        else {"strokes": [np.asarray(s).tolist() for s in drawing.strokes], "widths": list(drawing.widths), "size": drawing.size}
        for drawing in drawings
    ]
    return json.dumps({"format": STROKES_FORMAT, "version": 1, "drawings": entries}).encode()


def _read_strokes(path: Path, count: int) -> list[Drawing | None]:
    try:
        document = json.loads(path.read_bytes())
        entries = document["drawings"]
        if document.get("format") != STROKES_FORMAT or not isinstance(entries, list):
            raise ValueError("not a strokes file")
        drawings = [None if entry is None else _drawing(entry) for entry in entries]
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise DataError(f"{path}: unreadable strokes ({error})") from None
    if len(drawings) != count:
        raise DataError(f"{path} has the strokes of {len(drawings)} examples but the images are {count}")
    return drawings


def _drawing(entry: dict) -> Drawing:
    strokes = [np.asarray(stroke, dtype=np.float64).reshape(-1, 2) for stroke in entry["strokes"]]
    widths = [float(width) for width in entry["widths"]]
    if len(widths) != len(strokes):
        raise ValueError(f"{len(strokes)} strokes but {len(widths)} pen widths")
    return Drawing(strokes, widths, float(entry["size"]))


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

    ``examples`` is read when the store opens; an empty collection has no files yet."""

    def __init__(self, folder: str | os.PathLike | None = None):
        self.folder = Path(folder) if folder is not None else data_home() / "handwriting"
        has_files = (self.folder / COMMITTED).is_dir() or (self.folder / IMAGES).is_file()
        self.examples = read_examples(self.folder) if has_files else Examples.empty()

    def add(self, image: np.ndarray, label: int, drawing: Drawing | None = None) -> int:
        """Keep ``image`` (see ``as_example_image``) as an example of class ``label``; return its position."""
        image = as_example_image(image)
        added = Examples(image[None], np.array([label]), [drawing])
        self._save(self.examples.concat(added))
        return len(self.examples) - 1

    def relabel(self, position: int, label: int) -> None:
        labels = self.examples.labels.copy()
        labels[position] = label
        self._save(Examples(self.examples.images, labels, self.examples.drawings))

    def delete(self, positions) -> Deleted:
        """Remove the examples at ``positions``; pass the result to ``restore`` to undo."""
        positions = np.unique(np.asarray(positions, dtype=np.int64))
        kept = np.setdiff1d(np.arange(len(self.examples)), positions)
        deleted = Deleted(positions, self.examples.take(positions))
        self._save(self.examples.take(kept))
        return deleted

    def restore(self, deleted: Deleted) -> None:
        """Put deleted examples back at their old positions (undo of ``delete``)."""
        total = len(self.examples) + len(deleted.positions)
        order = np.empty(total, np.int64)  # order[i]: where position i comes from in kept + deleted
        is_deleted = np.zeros(total, bool)
        is_deleted[deleted.positions] = True
        order[~is_deleted] = np.arange(len(self.examples))
        order[is_deleted] = len(self.examples) + np.arange(len(deleted.positions))
        self._save(self.examples.concat(deleted.examples).take(order))

    def import_folder(self, folder: str | os.PathLike) -> int:
        """Add the examples of an IDX folder (see ``read_examples``) to the collection; return how many."""
        imported = read_examples(folder)
        self._save(self.examples.concat(imported))
        return len(imported)

    def export_folder(self, folder: str | os.PathLike) -> None:
        """Write the collection to ``folder`` as an examples folder (IDX pair and strokes)."""
        write_examples(self.examples, folder)

    def _save(self, examples: Examples) -> None:
        write_examples(examples, self.folder)
        self.examples = examples
