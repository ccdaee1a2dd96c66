"""Data augmentation: random shifts, done for a whole batch at once with array slicing."""

from __future__ import annotations

import numpy as np


def random_shift(images: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Move each image (n, H, W) by a random whole number of pixels in [-max_shift, max_shift] on
    both axes, filling the uncovered border with zeros. A 2-pixel shift is still the same digit,
    so the network learns that position does not matter."""
    n, height, width = images.shape
    span = 2 * max_shift + 1
    padded = np.zeros((n, height + 2 * max_shift, width + 2 * max_shift), images.dtype)
    padded[:, max_shift : max_shift + height, max_shift : max_shift + width] = images
    offsets = rng.integers(0, span, size=(n, 2))
    shifted = np.empty_like(images)
    # One slice per distinct (dy, dx): at most span² array operations, whatever n is.
    for dy in range(span):
        for dx in range(span):
            chosen = np.flatnonzero((offsets[:, 0] == dy) & (offsets[:, 1] == dx))
            shifted[chosen] = padded[chosen, dy : dy + height, dx : dx + width]
    return shifted
