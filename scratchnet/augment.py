"""Data augmentation: random shifts, done for a whole batch at once with array slicing."""

from __future__ import annotations

import numpy as np

BLOCK = 8


def random_shift(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Move images (n, H, W) by a random whole number of pixels in [-max_shift, max_shift] on both
    axes, filling the uncovered border with zeros. A digit moved by a pixel or two is still the same
    digit, so the network learns that position does not matter.

    The batch arrives in random order, so each block of ``BLOCK`` consecutive images can share one
    random offset: every image still gets a uniformly random shift, for one slice per block.
    """
    n, height, width = images.shape
    padded = np.zeros((n, height + 2 * max_shift, width + 2 * max_shift), images.dtype)
    padded[:, max_shift : max_shift + height, max_shift : max_shift + width] = images
    shifted = np.empty_like(images)
    offsets = rng.integers(0, 2 * max_shift + 1, size=(-(-n // BLOCK), 2))
    for block, (dy, dx) in enumerate(offsets):
        rows = slice(block * BLOCK, (block + 1) * BLOCK)
        shifted[rows] = padded[rows, dy : dy + height, dx : dx + width]
    return shifted
