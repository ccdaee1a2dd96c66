"""How well a model reads damaged images: accuracy for each kind of damage at each severity (the robustness sweep).

The test images are damaged on purpose (``damage.py``: noise, rotation, stroke thickness, shift, blur, a covering
patch), each kind at six severities from none to severe, and read by the model with the same forward pass that
trained it::

    table = sweep(model, dataset.test_images, dataset.test_labels)
    table.accuracy["rotation"]          # [0.986, 0.975, 0.93, 0.80, 0.49, 0.22]: one per table.severities["rotation"]

Severity 0 leaves the images as they are, so its accuracy is the clean one, read once for every kind. The images
go through in chunks of ``CHUNK`` (damaged, flattened, read), so memory stays bounded whatever the dataset, and each
(kind, severity) draws its random numbers from its own seed: one cell comes out the same whether the whole table
is computed or that cell alone, in any order.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .damage import DAMAGES
from .model import Model

CHUNK = 2048  # images damaged and read at a time


@dataclass
class RobustnessTable:
    """Accuracy (and mean confidence) per kind of damage and severity; ``severities[kind]`` lists the severities
    in the order of ``accuracy[kind]``. Kinds not computed (a stopped sweep) are absent."""

    count: int  # images read at each severity
    severities: dict[str, list[float]] = field(default_factory=dict)
    accuracy: dict[str, list[float]] = field(default_factory=dict)
    confidence: dict[str, list[float]] = field(default_factory=dict)  # the mean probability of the predicted class
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {
            "count": self.count,
            "seconds": self.seconds,
            "kinds": {
                kind: {
                    "unit": DAMAGES[kind].unit,
                    "severities": self.severities[kind],
                    "accuracy": self.accuracy[kind],
                    "confidence": self.confidence[kind],
                }
                for kind in self.accuracy
            },
        }


def damaged_inputs(images: np.ndarray, kind: str, severity: float, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """uint8 ``images`` (n, H, W) as network inputs in [0, 1], damaged by ``kind`` at ``severity`` with the random
    numbers of that cell of the sweep (see ``cell_rng``): the images the sweep reads, for a preview."""
    inputs = images.astype(dtype) / dtype(255)
    return DAMAGES[kind].transform(inputs, severity, cell_rng(seed, kind, severity))


def cell_rng(seed: int, kind: str, severity: float) -> np.random.Generator:
    """The random numbers of one (kind, severity) of the sweep, the same whatever else is computed."""
    kind_number = list(DAMAGES).index(kind)
    return np.random.default_rng([seed, kind_number, int(round(abs(severity) * 1000)), int(severity < 0)])


def read_damaged(model: Model, images: np.ndarray, labels: np.ndarray, kind: str, severity: float, seed: int = 0) -> tuple[float, float]:
    """(accuracy, mean confidence) of ``model`` on uint8 ``images`` (n, H, W) damaged by ``kind`` at ``severity``."""
    transform, rng, dtype = DAMAGES[kind].transform, cell_rng(seed, kind, severity), model.dtype.type
    right, sure = 0, 0.0
    for start in range(0, len(images), CHUNK):
        chunk = images[start : start + CHUNK].astype(dtype) / dtype(255)
        damaged = transform(chunk, severity, rng)
        probabilities = model.predict_proba(damaged.reshape(len(damaged), -1))
        right += int((probabilities.argmax(axis=1) == labels[start : start + CHUNK]).sum())
        sure += float(probabilities.max(axis=1).sum(dtype=np.float64))
    count = max(len(images), 1)
    return right / count, sure / count


def sweep(
    model: Model,
    images: np.ndarray,
    labels: np.ndarray,
    kinds: list[str] | None = None,
    seed: int = 0,
    workers: int = 1,
    stop: threading.Event | None = None,
    on_kind: Callable[[RobustnessTable, str], None] | None = None,
) -> RobustnessTable:
    """Accuracy of ``model`` on uint8 ``images`` (n, H, W) with integer ``labels`` under every kind of damage in
    ``kinds`` (default: all of ``DAMAGES``) at each of its six severities (``Damage.levels`` for these images).

    The severities of a kind are read on ``workers`` threads at once (NumPy lets go of Python's lock while it
    computes: with one BLAS thread each, two workers keep two cores busy without OpenBLAS's spinning, see
    ``scratchnet.threads``). ``on_kind(table, kind)`` is called after each kind is done (a view can draw it at once);
    once ``stop`` is set, no new severity starts, and the kinds completed are returned."""
    started = time.perf_counter()
    table = RobustnessTable(len(images))
    shape = tuple(images.shape[1:])
    stopped = stop.is_set if stop is not None else lambda: False
    clean: tuple[float, float] | None = None

    def read(severity: float) -> tuple[float, float] | None:
        return None if stopped() else read_damaged(model, images, labels, kind, severity, seed)

    with ThreadPoolExecutor(max(workers, 1)) as pool:
        for kind in kinds or list(DAMAGES):
            severities = DAMAGES[kind].levels(shape)
            if clean is None and 0 in severities:
                clean = read(0.0)
            cells = list(pool.map(read, [severity for severity in severities if severity != 0]))
            cells = [clean if severity == 0 else cells.pop(0) for severity in severities]
            if stopped() or None in cells:
                break
            table.severities[kind] = severities
            table.accuracy[kind] = [accuracy for accuracy, _ in cells]
            table.confidence[kind] = [confidence for _, confidence in cells]
            if on_kind is not None:
                on_kind(table, kind)
    table.seconds = time.perf_counter() - started
    return table
