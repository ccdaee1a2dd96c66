"""How much memory a training run needs, and how much the machine has — checked before a run starts; and giving
back what a run freed."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

import numpy as np

from .config import TrainConfig
from .errors import ConfigError
from .nn.network import count_parameters

# A run may take this share of the memory available when it starts; the rest covers the estimate's error and the system.
MEMORY_MARGIN = 0.85
# Weights, their gradients and up to two optimiser moments (Adam's m and v), plus a snapshot for rollback.
_COPIES_OF_WEIGHTS = 5
# Each hidden unit keeps z, f(z), a dropout mask and its error signal for the batch; inputs are gathered per batch.
_COPIES_OF_ACTIVATIONS = 4
# Scoring an epoch: the validation set's pass, layer by layer (z and f(z) of the widest), and the confusion matrix
# (classes × classes int64) with its per-class arithmetic and its list for the report.
_COPIES_OF_SCORING = 2
_COPIES_OF_CONFUSION = 3


def estimate_training_bytes(config: TrainConfig, n_images: int, n_features: int, n_classes: int) -> int:
    """Bytes a run needs: the float training set, the weights with their optimiser state, one batch's activations,
    and what scoring an epoch takes (the validation set's pass, and a confusion matrix that grows as classes²).

    ``n_images`` counts the whole training file: all of it becomes floats, the validation split included."""
    n_train = n_images - config.validation_size
    itemsize = np.dtype(config.dtype).itemsize
    sizes = config.layer_sizes(n_features, n_classes)
    batch = min(config.batch_size or n_train, n_train)
    dataset = n_images * n_features * itemsize
    weights = count_parameters(sizes) * itemsize * _COPIES_OF_WEIGHTS
    activations = batch * (sum(sizes[1:]) * _COPIES_OF_ACTIVATIONS + n_features * 2) * itemsize
    scoring = config.validation_size * max(sizes[1:]) * itemsize * _COPIES_OF_SCORING
    confusion = n_classes**2 * np.dtype(np.int64).itemsize * _COPIES_OF_CONFUSION
    return dataset + weights + activations + scoring + confusion


def available_bytes() -> int | None:
    """Memory the system can give us now (MemAvailable on Linux, free pages elsewhere), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def fits_in_memory(needed: int, available: int | None) -> bool:
    """True when a run needing ``needed`` bytes stays within ``MEMORY_MARGIN`` of the ``available`` bytes (or when
    the available memory is unknown): the estimate is not exact, and the system needs room of its own."""
    return available is None or needed <= MEMORY_MARGIN * available


def check_fits(needed: int) -> None:
    """Raise ``ConfigError`` when a run needing ``needed`` bytes would not fit in the memory available now."""
    available = available_bytes()
    if not fits_in_memory(needed, available):
        raise ConfigError(
            f"this configuration needs about {format_bytes(needed)} of memory, more than {MEMORY_MARGIN * 100:.0f} % of the "
            f"{format_bytes(available)} available now: use narrower layers, a smaller batch or float32"
        )


def format_bytes(count: float) -> str:
    """1536 -> "1.5 KB"."""
    for unit in ("B", "KB", "MB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def return_freed_memory() -> None:
    """Give the memory freed since the last call back to the operating system, where the C library allows it.

    glibc keeps the blocks a process frees for its next allocations, so after a run (its batches, its scores, the
    Qt objects of its reports) the app would stay as large as it was at the run's busiest; ``malloc_trim`` hands the
    free pages back. Elsewhere (macOS, Windows, musl) this does nothing."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # no C library to load, or one without malloc_trim
        return None
