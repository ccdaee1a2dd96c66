"""Datasets: MNIST (and any folder laid out like it), where to find it, and how to download it.

A dataset folder holds the four standard IDX files::

    train-images-idx3-ubyte[.gz]   (n, H, W) uint8 images
    train-labels-idx1-ubyte[.gz]   (n,) uint8 labels 0 .. classes-1
    t10k-images-idx3-ubyte[.gz]    test images
    t10k-labels-idx1-ubyte[.gz]    test labels

or as Kaggle names them (``train-images.idx3-ubyte``…), and optionally ``classes.txt`` with one class name
per line (at most ``MAX_CLASSES``; names are cut to ``MAX_CLASS_NAME_LENGTH`` characters as they are read,
for display). The data folder is chosen in this order: an explicit folder (``--data-dir``), the ``SCRATCHNET_DATA_DIR``
environment variable, the user cache folder, and finally a download into that cache.
"""

from __future__ import annotations

import hashlib
import math
import os
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import remove_files, remove_stale_temp_files
from .decoded import keep_decoded, read_decoded
from .errors import DataError, DownloadCancelled, DownloadError
from .home import data_home
from .idx import open_data_file, read_idx

ENV_VAR = "SCRATCHNET_DATA_DIR"
FILE_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# sha256 of the original compressed files, as published with MNIST's many mirrors.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# Their sizes in bytes: a mirror that announces or sends more is refused at once, before the hash could tell.
MNIST_SIZES = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://yann.lecun.com/exdb/mnist/",
)
MNIST_CLASS_NAMES = [str(digit) for digit in range(10)]
# A network's outputs, buttons and confusion matrix grow with the classes (the matrix as classes²): 1 000 classes
# is a 1 000 × 1 000 matrix, a few MB; 10⁶ would be 7.28 TiB.
MAX_CLASSES = 1000
MAX_CLASS_NAME_LENGTH = 100  # characters kept of a class name (views elide it further); a longer one ends in "…"
MAX_CLASS_NAMES_BYTES = 1 << 20  # classes.txt is read up to this size, which holds MAX_CLASSES long names

# progress(bytes_done, bytes_total, file_name); raising DownloadCancelled from it stops the download.
ProgressCallback = Callable[[int, int, str], None]


@dataclass
class Dataset:
    """Train and test images (n, H, W) uint8 with their integer labels, and the names of the classes."""

    name: str
    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: list[str]
    folder: Path | None = None

    @property
    def image_shape(self) -> tuple[int, int]:
        return tuple(self.train_images.shape[1:])

    @property
    def num_features(self) -> int:
        """Inputs of a network for these images: one per pixel."""
        return self.train_images.shape[1] * self.train_images.shape[2]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def test_fingerprint(self) -> str:
        """ "sha256:…" of the test images and labels: the same data gives the same fingerprint whatever its folder,
        file names or compression, so a model can record which dataset it learnt from (about 10 ms for MNIST)."""
        digest = hashlib.sha256(repr(self.test_images.shape).encode())
        digest.update(np.ascontiguousarray(self.test_images, np.uint8))
        digest.update(np.ascontiguousarray(self.test_labels, "<i8"))
        return f"sha256:{digest.hexdigest()}"


def to_inputs(images: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Flatten uint8 images (n, H, W) into network inputs (n, H·W) scaled to [0, 1]."""
    flat = images.reshape(len(images), math.prod(images.shape[1:]))  # not -1: that cannot shape zero images
    return np.divide(flat, dtype(255), dtype=dtype)  # one new array, not two


def cache_dir() -> Path:
    """The per-user cache folder where downloads go (e.g. ``~/.cache/scratchnet/mnist`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("scratchnet")) / "mnist"


def spellings(name: str) -> list[str]:
    """The file names that may hold the standard file ``name``, in the order they are preferred: compressed, then
    raw, each as MNIST spells it and as Kaggle does (``train-images.idx3-ubyte``)."""
    kaggle = name.replace("-idx", ".idx")
    return [f"{name}.gz", name, f"{kaggle}.gz", kaggle]


def find_files(folder: Path) -> dict[str, Path] | None:
    """The four standard files in ``folder`` (the first of each one's ``spellings``), or None when any is missing.
    A name that is there but no regular file (a FIFO, a device, a folder) is found too: reading it says what it is."""
    found = {}
    for name in FILE_NAMES:
        existing = [folder / spelling for spelling in spellings(name) if _exists(folder / spelling)]
        if not existing:
            return None
        found[name] = existing[0]
    return found


def _exists(path: Path) -> bool:
    """``path.exists()``, False too for a path the system refuses to look at (a name too long)."""
    try:
        return path.exists()
    except OSError:
        return False


def what_is_missing(folder: Path) -> str:
    """Why ``folder`` does not hold a dataset, as a predicate: "does not exist", "is a file, not a folder" or
    "lacks" and the files it lacks."""
    if not folder.exists():
        return "does not exist"
    if not folder.is_dir():
        return "is a file, not a folder"
    missing = [f"{name}.gz" for name in FILE_NAMES if not any((folder / spelling).exists() for spelling in spellings(name))]
    return "lacks " + ", ".join(missing)


def missing_files_message(folders: list[Path]) -> str:
    """Explain which files are needed and where they may go."""
    where = "\n".join(f"  - {folder}" for folder in folders) or "  (no folder)"
    names = "\n".join(f"  - {name}.gz" for name in FILE_NAMES)
    kaggle = spellings(FILE_NAMES[0])[-1]
    return (
        f"MNIST was not found. Put the four standard files\n{names}\n(uncompressed copies work too, and Kaggle's names "
        f"such as {kaggle})\ninto one of these folders:\n{where}\n"
        f"or point to your folder with --data-dir DIR or the {ENV_VAR} environment variable."
    )


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """Choose the folder to load from: explicit folder > $SCRATCHNET_DATA_DIR > cache; None when only a
    download can help. A folder that was named explicitly but lacks the files is an error, never skipped."""
    for source, folder in (("--data-dir", data_dir), (ENV_VAR, os.environ.get(ENV_VAR) or None)):
        if folder is not None:
            folder = Path(folder).expanduser()
            if not folder.is_dir():
                raise DataError(f"{source} points to {folder}, which {what_is_missing(folder)}")
            if find_files(folder) is None:
                raise DataError(f"{source} points to {folder}, which {what_is_missing(folder)}.\n" + missing_files_message([folder]))
            return folder
    # The cache only ever holds downloaded MNIST: a file there that fails its hash is downloaded again.
    return cache_dir() if verify_mnist(cache_dir()) else None


def locate_or_download(
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    progress: ProgressCallback | None = None,
) -> Path:
    """The folder holding the dataset, downloading MNIST into the cache when no folder has it."""
    folder = resolve_data_dir(data_dir)
    if folder is not None:
        return folder
    if not download:
        raise DataError(missing_files_message([cache_dir()]))
    return download_mnist(cache_dir(), progress=progress)


def load_dataset(folder: str | os.PathLike) -> Dataset:
    """Load and check the four IDX files of ``folder``; raise ``DataError`` explaining any inconsistency.

    Compressed files are read from their decoded copy when the cache holds one for these very bytes, and the
    copy is made after they load from the sources (see ``scratchnet.decoded``)."""
    folder = Path(folder)
    files = find_files(folder)
    if files is None:
        raise DataError(missing_files_message([folder]))
    digests = _compressed_digests(files)
    decoded = read_decoded(files, digests) if digests else None
    arrays = decoded or [read_idx(files[name]) for name in FILE_NAMES]
    train_images, train_labels, test_images, test_labels = arrays
    for split, images, labels in (("train", train_images, train_labels), ("test", test_images, test_labels)):
        if images.ndim != 3 or images.dtype != np.uint8:
            raise DataError(f"{split} images must be a 3-d uint8 array (n, height, width); got {images.dtype} {images.shape}")
        if 0 in images.shape[1:]:
            raise DataError(f"{split} images have the empty size {images.shape[1]}×{images.shape[2]}")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise DataError(f"{split} labels must be a 1-d uint8 array; got {labels.dtype} {labels.shape}")
        if len(images) != len(labels) or len(images) == 0:
            raise DataError(f"{split} set has {len(images)} images but {len(labels)} labels")
    if train_images.shape[1:] != test_images.shape[1:]:
        raise DataError(f"train images are {train_images.shape[1:]} but test images are {test_images.shape[1:]}")
    is_mnist = digests is not None and all(digests[name] == MNIST_SHA256.get(f"{name}.gz") for name in FILE_NAMES)
    declared = MNIST_CLASS_NAMES if is_mnist else read_class_names(folder)
    _check_every_class_is_trained(folder, train_labels, test_labels, declared=len(declared or ()))
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    if declared is not None and len(declared) < num_classes:
        raise DataError(f"{folder / 'classes.txt'} names {len(declared)} classes but the labels use {num_classes}")
    class_names = declared or [str(i) for i in range(num_classes)]
    if digests and decoded is None:
        keep_decoded(files, digests, arrays, folder)
    return Dataset(
        name="MNIST" if is_mnist else folder.name,
        train_images=train_images,
        train_labels=train_labels.astype(np.int64),
        test_images=test_images,
        test_labels=test_labels.astype(np.int64),
        class_names=class_names,
        folder=folder,
    )


def read_class_names(folder: Path) -> list[str] | None:
    """The class names of ``classes.txt`` (one per line, blank lines skipped), or None when the folder has none.
    Each is cut for display (``display_name``); more than ``MAX_CLASSES`` is an error."""
    names_file = folder / "classes.txt"
    if not os.path.lexists(names_file):  # a FIFO, a device or a dangling link is refused below, not passed over
        return None
    try:
        with open_data_file(names_file) as f:
            text = f.read(MAX_CLASS_NAMES_BYTES + 1).decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{names_file}: cannot read the class names: {error}") from None
    lines = text.splitlines()
    if len(text) > MAX_CLASS_NAMES_BYTES or len(lines) > MAX_CLASSES:
        count = f"{len(lines):,}" if len(text) <= MAX_CLASS_NAMES_BYTES else f"more than {MAX_CLASS_NAMES_BYTES >> 20} MB of"
        raise DataError(f"{names_file} names {count} classes; ScratchNet takes at most {MAX_CLASSES:,} classes, one name per line")
    return [display_name(line) for line in lines if line.strip()]


def display_name(name: str) -> str:
    """A class name as ScratchNet shows it: trimmed, unprintable characters (ESC, BEL…) as "\ufffd", and at most
    ``MAX_CLASS_NAME_LENGTH`` characters, so one long name cannot widen a window or freeze its painting."""
    name = "".join(char if char.isprintable() else "\ufffd" for char in name.strip())
    return name if len(name) <= MAX_CLASS_NAME_LENGTH else name[: MAX_CLASS_NAME_LENGTH - 1] + "…"


def _check_every_class_is_trained(folder: Path, train_labels: np.ndarray, test_labels: np.ndarray, declared: int) -> None:
    """Refuse a class that no training image carries, unless ``classes.txt`` declares it (its first ``declared``
    classes). The classes are 0 to the largest label, so one stray label 255 in a 10-class folder would
    otherwise make 246 classes the network can never learn."""
    num_classes = int(max(train_labels.max(), test_labels.max())) + 1
    trained = np.bincount(train_labels, minlength=num_classes) > 0
    untrained = np.flatnonzero(~trained[declared:]) + declared
    if untrained.size == 0:
        return
    tested = int(np.isin(test_labels, untrained).sum())
    on_test = f"{_images(tested, 'test')} {'does' if tested == 1 else 'do'}" if tested else "nor any test image"
    problem = f"{folder}: the labels make {num_classes} classes, but no training image has {_label_ranges(untrained)} ({on_test})"
    largest = num_classes - 1
    if largest - 1 in untrained and trained[largest]:  # the largest label stands apart from the rest: likely a stray
        on_train, on_test = int((train_labels == largest).sum()), int((test_labels == largest).sum())
        problem += f"; the largest label, {largest}, is on {_images(on_train, 'training')} and {_images(on_test, 'test')}"
    raise DataError(f"{problem}. Fix the labels, or name every class in classes.txt if these classes are meant to exist")


def _label_ranges(labels: np.ndarray) -> str:
    """Sorted label values as short runs: "label 3", "labels 10–254", "labels 3, 7–9"."""
    runs, start = [], labels[0]
    for previous, label in zip(labels, [*labels[1:], None]):
        if label != previous + 1:
            runs.append(f"{start}" if start == previous else f"{start}–{previous}")
            start = label
    return f"label{'s' if labels.size > 1 else ''} {', '.join(runs)}"


def _images(count: int, split: str) -> str:
    return f"{count:,} {split} image{'' if count == 1 else 's'}"


def _compressed_digests(files: dict[str, Path]) -> dict[str, str] | None:
    """The sha256 of each of the four files (by standard name) when all are compressed, else None: raw files are
    fast to read as they are, and neither MNIST nor worth a decoded copy."""
    if not all(path.name.endswith(".gz") for path in files.values()):
        return None
    try:
        return {name: sha256_of(path) for name, path in files.items()}
    except (OSError, DataError):  # gone or replaced meanwhile: reading it will say what is wrong
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open_data_file(path) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_mnist(folder: Path) -> bool:
    """True when ``folder`` holds the four original compressed MNIST files, byte for byte."""
    return all((folder / name).is_file() and sha256_of(folder / name) == digest for name, digest in MNIST_SHA256.items())


HEARTBEAT_SECONDS = 0.2
# pooch downloads into tempfile.NamedTemporaryFile(dir=folder): "tmp" and 8 of tempfile's name characters.
POOCH_TEMP_NAME = re.compile(r"tmp[a-z0-9_]{8}")
# A download under way writes to its temp file at least once per read timeout (30 s) or fails and deletes
# it; one untouched for an hour is a killed download's, not another process's download still running.
DOWNLOAD_STALE_AFTER = 3600  # seconds


def remove_leftovers() -> None:
    """At start-up: delete what killed processes left in our folders, never anything else. That is our own
    temporary files whose writer is gone (in the data home and the download cache) and pooch's temporary
    downloads in the cache untouched for ``DOWNLOAD_STALE_AFTER``."""
    remove_stale_temp_files(data_home())
    remove_stale_temp_files(cache_dir())
    if cache_dir().is_dir():
        now = time.time()
        remove_files(
            [
                Path(entry.path)
                for entry in os.scandir(cache_dir())
                if POOCH_TEMP_NAME.fullmatch(entry.name)
                and entry.is_file(follow_symlinks=False)
                and now - entry.stat().st_mtime > DOWNLOAD_STALE_AFTER
            ]
        )


# Each mirror gets this long for a file, plus the time the file takes at SLOWEST_RATE: about 5 minutes for the
# 9.9 MB training images. A mirror that drips bytes (so no read ever times out) then gives way to the next one.
MIRROR_DEADLINE_BASE = 120.0  # seconds
SLOWEST_RATE = 50_000  # bytes per second


class _HttpDownloader:
    """A pooch downloader that stays responsive and bounded.

    The transfer runs on a background thread, and the caller's thread writes the bytes and calls ``progress`` at
    least every ``HEARTBEAT_SECONDS`` — even while a stalled connection sends nothing — so a cancel acts within a
    fraction of a second. The bytes are taken as sent (no Content-Encoding is undone, so nothing inflates), never
    more than ``size``, and the whole file must arrive within ``deadline`` seconds."""

    def __init__(self, file_name: str, progress: ProgressCallback | None, timeout: float, size: int, deadline: float):
        self.file_name, self.progress, self.timeout = file_name, progress or (lambda done, total, name: None), timeout
        self.size, self.deadline = size, deadline

    def __call__(self, url: str, output_file: str, _pooch) -> None:
        chunks: queue.Queue = queue.Queue(maxsize=64)  # bounded: a fast sender waits for the disk, memory stays small
        abandoned = threading.Event()
        threading.Thread(target=self._fetch, args=(url, chunks, abandoned), daemon=True).start()
        done = total = 0
        ends_at = time.monotonic() + self.deadline
        try:
            with open(output_file, "wb") as out:
                while True:
                    if time.monotonic() > ends_at:
                        raise DownloadError(
                            f"too slow: {done:,} of {self.size:,} bytes arrived within the {self.deadline:.0f} s this file is given"
                        )
                    try:
                        kind, value = chunks.get(timeout=HEARTBEAT_SECONDS)
                    except queue.Empty:
                        self.progress(done, total, self.file_name)  # a heartbeat while nothing arrives
                        continue
                    if kind == "total":
                        total = value
                    elif kind == "data":
                        out.write(value)
                        done += len(value)
                        self.progress(done, total, self.file_name)
                    elif kind == "error":
                        raise value
                    else:
                        return
        finally:
            abandoned.set()  # a cancelled or failed transfer stops at its next chunk or read timeout

    def _fetch(self, url: str, chunks: queue.Queue, abandoned: threading.Event) -> None:
        import requests

        def hand_over(kind: str, value) -> bool:
            """Queue one item for the caller's thread; False once the caller has given up on this transfer."""
            while not abandoned.is_set():
                try:
                    chunks.put((kind, value), timeout=HEARTBEAT_SECONDS)
                    return True
                except queue.Full:
                    continue
            return False

        try:
            with requests.get(url, stream=True, timeout=self.timeout, headers={"Accept-Encoding": "identity"}) as response:
                response.raise_for_status()
                encoding = response.headers.get("content-encoding", "identity").strip().lower()
                if encoding not in ("", "identity"):
                    raise DownloadError(f"the server sent the file {encoding}-encoded, which would change its bytes")
                announced = int(response.headers.get("content-length") or 0)
                if announced > self.size:
                    raise DownloadError(f"the server announces {announced:,} bytes, more than the {self.size:,} this file has")
                if not hand_over("total", announced or self.size):
                    return
                received = 0
                for chunk in response.raw.stream(1 << 13, decode_content=False):  # small reads: smooth progress on slow links
                    received += len(chunk)
                    if received > self.size:
                        raise DownloadError(f"the server sent more than the {self.size:,} bytes this file has")
                    if not hand_over("data", chunk):
                        return
            hand_over("done", None)
        except Exception as error:  # handed to the caller's thread, which decides what it means
            hand_over("error", error)


def download_mnist(
    folder: Path,
    progress: ProgressCallback | None = None,
    mirrors: tuple[str, ...] = MNIST_MIRRORS,
    timeout: float = 30.0,
) -> Path:
    """Download the four MNIST files into ``folder``, checking each sha256; try the mirrors in order.

    pooch has each file written to a temporary name and only renames it once its hash matches, so a
    failed, corrupt or cancelled download never leaves a partial file behind. ``timeout`` bounds the
    wait for a connection and for each read; each mirror gets ``MIRROR_DEADLINE_BASE`` plus the file's
    size at ``SLOWEST_RATE`` for the whole file, and may send no more than its size (``MNIST_SIZES``).
    """
    import pooch

    pooch.get_logger().setLevel("WARNING")  # our progress callback reports the downloads, not pooch's log lines
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        for file_name, digest in MNIST_SHA256.items():
            tried = []
            for mirror in mirrors:
                url = mirror + file_name
                size = MNIST_SIZES[file_name]
                downloader = _HttpDownloader(file_name, progress, timeout, size, deadline=MIRROR_DEADLINE_BASE + size / SLOWEST_RATE)
                try:
                    pooch.retrieve(url, known_hash=f"sha256:{digest}", fname=file_name, path=folder, downloader=downloader)
                    break
                except DownloadCancelled:
                    raise
                except Exception as error:  # requests and pooch raise many kinds; each means "try the next mirror"
                    tried.append(f"  - {url}: {_describe(error, timeout)}")
            else:
                raise DownloadError(
                    f"could not download {file_name} from any mirror:\n" + "\n".join(tried) + "\n\n" + missing_files_message([folder])
                )
    except (DownloadError, DownloadCancelled):
        if created and not any(folder.iterdir()):
            folder.rmdir()  # leave no empty folder behind when nothing arrived
        raise
    return folder


def _describe(error: Exception, timeout: float) -> str:
    """One short line for the list of mirrors tried, in words rather than the HTTP library's repr."""
    import requests

    text = " ".join(str(error).split())
    if isinstance(error, ValueError) and "hash" in text:  # how pooch reports a hash mismatch
        return "hash mismatch (corrupt or different file)"
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code} {error.response.reason}"
    if isinstance(error, requests.Timeout) or "timed out" in text:  # a stalled read arrives as a ConnectionError
        return f"timed out (no answer within {timeout:g} s)"
    if isinstance(error, requests.ConnectionError):
        if "NameResolution" in text or "Name or service not known" in text or "getaddrinfo" in text:
            return "cannot look up the host name (offline?)"
        return "cannot connect to the server"
    if not text:
        return type(error).__name__
    return text if len(text) <= 160 else text[:160].rsplit(" ", 1)[0] + " …"
