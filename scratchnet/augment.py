"""Data augmentation: random shifts, done for a whole batch at once with array slicing."""

from __future__ import annotations

import numpy as np

BLOCK = 8


def shifted_batch(images: np.ndarray, rows: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """The images (N, H, W) at ``rows``, each moved by a random whole number of pixels in [-max_shift, max_shift]
    on both axes, the uncovered border left at zero: a batch (len(rows), H, W). A digit moved by a pixel or two is
    still the same digit, so the network learns that position does not matter.

    Gathering and shifting are one copy: each image's visible part goes straight from ``images`` to its place in
    the batch. The rows arrive in random order, so each block of ``BLOCK`` consecutive rows can share one random
    offset: every image still gets a uniformly random shift, for one copy per block.
    """
    n, (height, width) = len(rows), images.shape[1:]
    batch = np.zeros((n, height, width), images.dtype)
    offsets = rng.integers(-max_shift, max_shift + 1, size=(-(-n // BLOCK), 2))
    for block, (dy, dx) in enumerate(offsets.tolist()):
        block_rows = slice(block * BLOCK, (block + 1) * BLOCK)
        to_y, from_y = _overlap(dy, height)
        to_x, from_x = _overlap(dx, width)
        batch[block_rows, to_y, to_x] = images[rows[block_rows], from_y, from_x]
    return batch


def _overlap(shift: int, size: int) -> tuple[slice, slice]:
    """Where an axis of ``size`` pixels moved by ``shift`` lands (in the batch) and what lands there (in the image)."""
    return slice(max(shift, 0), max(size + min(shift, 0), 0)), slice(max(-shift, 0), max(size - max(shift, 0), 0))
