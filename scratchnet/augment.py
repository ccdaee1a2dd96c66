"""Data augmentation: random shifts, done for a whole batch at once with array slicing."""

from __future__ import annotations

import numpy as np

MIN_RUN = 8  # rows: a batch is copied in runs of consecutive rows that share a shift, at least this long on average


def shifted_batch(images: np.ndarray, rows: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """The images (N, H, W) at ``rows``, each moved by a random whole number of pixels in [-max_shift, max_shift]
    on both axes, the uncovered border left at zero: a batch (len(rows), H, W). A digit moved by a pixel or two is
    still the same digit, so the network learns that position does not matter.

    Gathering and shifting are one copy per run of rows: each image's visible part goes straight from ``images`` to
    its place in the batch. The rows must come in random order (an epoch's shuffle): then runs of consecutive rows
    can share a shift and each image still gets a uniformly random one, new every epoch. With few shifts (nine for
    ``max_shift=1``), there is one run per shift, its length drawn as the count of that shift among len(rows) uniform
    draws (multinomial); with more shifts than runs of ``MIN_RUN`` rows, each such run gets a random shift.
    """
    n, (height, width) = len(rows), images.shape[1:]
    span = range(-max_shift, max_shift + 1)
    shifts = [(dy, dx) for dy in span for dx in span]
    if len(shifts) * MIN_RUN <= n:
        run_shifts, run_lengths = shifts, rng.multinomial(n, [1 / len(shifts)] * len(shifts)).tolist()
    else:
        run_lengths = [min(MIN_RUN, n - start) for start in range(0, n, MIN_RUN)]
        run_shifts = [shifts[i] for i in rng.integers(len(shifts), size=len(run_lengths)).tolist()]
    batch = np.zeros((n, height, width), images.dtype)
    start = 0
    for (dy, dx), length in zip(run_shifts, run_lengths):
        run = slice(start, start + length)
        to_y, from_y = _overlap(dy, height)
        to_x, from_x = _overlap(dx, width)
        batch[run, to_y, to_x] = images[rows[run], from_y, from_x]
        start += length
    return batch


def _overlap(shift: int, size: int) -> tuple[slice, slice]:
    """Where an axis of ``size`` pixels moved by ``shift`` lands (in the batch) and what lands there (in the image)."""
    return slice(max(shift, 0), max(size + min(shift, 0), 0)), slice(max(-shift, 0), max(size - max(shift, 0), 0))
