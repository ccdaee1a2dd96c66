"""Data augmentation: each training image varied at random, freshly every epoch, a whole batch at once.

A digit moved by a pixel or two, turned a little, written with a thicker or thinner pen or on a noisy page is
still the same digit; training on such variations is free extra data that teaches the network what does not
matter. ``Augmentation`` holds how much of each; ``Augmentation.batch`` makes a varied batch:

- shift: moved by up to ``shift`` whole pixels on both axes (``shifted_batch``, done while gathering the rows);
- thickness: strokes eroded or dilated by up to ``thickness`` pixels (``thickened``: grey-scale morphology);
- rotation: turned by up to ± ``rotate`` degrees about the centre (``rotated``: bilinear sampling);
- noise: Gaussian noise of standard deviation ``noise`` added to every pixel, clipped to [0, 1] (``noisy``).

The images are network inputs in [0, 1]. Every random draw comes from the generator passed in, so a seed gives
the same batches.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

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


def thickened(images: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """The images (n, H, W) with image ``i``'s strokes made ``pixels[i]`` pixels bolder (dilated: each pixel the
    brightest of its 3×3 neighbourhood, repeated) or, when negative, thinner (eroded: the darkest). A fractional
    amount blends between the whole steps around it, so that a strength can change the strokes smoothly."""
    out = images.copy()
    for amount in np.unique(pixels):
        if amount == 0:
            continue
        which = np.flatnonzero(pixels == amount)
        combine = np.maximum if amount > 0 else np.minimum
        whole, fraction = divmod(abs(float(amount)), 1.0)
        group = out[which]
        for _ in range(int(whole)):
            group = _neighbourhood(group, combine)
        if fraction:
            group = group + images.dtype.type(fraction) * (_neighbourhood(group, combine) - group)
        out[which] = group
    return out


def _neighbourhood(images: np.ndarray, combine) -> np.ndarray:
    """Each pixel combined (max or min) with its eight neighbours; outside the image counts as blank."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    height, width = images.shape[1:]
    out = images.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if (dy, dx) != (1, 1):
                combine(out, padded[:, dy : dy + height, dx : dx + width], out=out)
    return out


def rotated(images: np.ndarray, degrees: np.ndarray) -> np.ndarray:
    """The images (n, H, W) with image ``i`` turned ``degrees[i]`` (to the nearest degree) anticlockwise about
    its centre.

    Each output pixel looks up where it came from — its position turned back by the angle — and blends the four
    pixels around that point (bilinear sampling); points outside the image read as blank. The images are sorted
    by angle so that those turned alike share one lookup table (``_rotation_lookup``): four gathers a pixel."""
    n, height, width = images.shape
    angles = np.round(np.asarray(degrees, dtype=np.float64))
    order = np.argsort(angles, kind="stable")
    flat = np.zeros((n, height * width + 1), images.dtype)  # the last cell stays blank: what lies outside
    flat[:, :-1] = images.reshape(n, -1)[order]
    out = np.empty((n, height * width), images.dtype)
    turns, starts = np.unique(angles[order], return_index=True)
    for angle, start, end in zip(turns, starts, [*starts[1:], n]):
        index, weight = _rotation_lookup(height, width, float(angle))
        alike = flat[start:end]
        blended = np.take(alike, index[0], axis=1) * weight[0]
        for corner in (1, 2, 3):
            blended += np.take(alike, index[corner], axis=1) * weight[corner]
        out[order[start:end]] = blended
    return out.reshape(n, height, width)


@functools.lru_cache(maxsize=256)
def _rotation_lookup(height: int, width: int, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """For each output pixel of an ``height`` × ``width`` image turned by ``degrees``: the flat indices (4, H·W) of
    the four source pixels around where it came from (H·W, the blank cell, when outside) and their bilinear
    weights (4, H·W)."""
    angle = np.radians(degrees)
    y, x = np.mgrid[0:height, 0:width].reshape(2, -1) - np.array([[(height - 1) / 2], [(width - 1) / 2]])
    # rows grow downwards, so turning anticlockwise on screen looks up the point turned clockwise in (row, column)
    source_y = np.cos(angle) * y + np.sin(angle) * x + (height - 1) / 2
    source_x = np.cos(angle) * x - np.sin(angle) * y + (width - 1) / 2
    top, left = np.floor(source_y).astype(np.intp), np.floor(source_x).astype(np.intp)
    fy, fx = source_y - top, source_x - left
    rows, columns = np.stack([top, top, top + 1, top + 1]), np.stack([left, left + 1, left, left + 1])
    inside = (rows >= 0) & (rows < height) & (columns >= 0) & (columns < width)
    index = np.where(inside, rows * width + columns, height * width)
    weight = np.stack([(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx]).astype(np.float32)
    return index, weight


def noisy(images: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """The images with Gaussian noise of standard deviation ``sigma`` added to every pixel, clipped to [0, 1]."""
    varied = rng.standard_normal(images.shape, dtype=np.float32).astype(images.dtype, copy=False)
    varied *= sigma
    varied += images
    return np.clip(varied, 0, 1, out=varied)


@dataclass(frozen=True)
class Augmentation:
    """How much each training image is varied: the ``augment_*`` settings of a run (all 0: not at all)."""

    shift: int = 0  # pixels, on both axes
    rotate: float = 0.0  # degrees, either way
    thickness: int = 0  # pixels of stroke, bolder or thinner
    noise: float = 0.0  # standard deviation, pixels being 0 to 1

    @classmethod
    def of(cls, settings) -> Augmentation:
        """The augmentation of a ``TrainConfig`` or ``LiveSettings``."""
        return cls(*(getattr(settings, f"augment_{field.name}") for field in dataclasses.fields(cls)))

    def __bool__(self) -> bool:
        return any(dataclasses.astuple(self))

    def batch(self, images: np.ndarray, rows: np.ndarray | slice, rng: np.random.Generator) -> np.ndarray:
        """The images (N, H, W) at ``rows`` (in random order when shifting: see ``shifted_batch``), each varied at
        random within these limits: a new array (len(rows), H, W)."""
        batch = shifted_batch(images, rows, self.shift, rng) if self.shift else images[rows]
        n = len(batch)
        if self.thickness:
            batch = thickened(batch, rng.integers(-self.thickness, self.thickness, size=n, endpoint=True))
        if self.rotate:
            batch = rotated(batch, rng.uniform(-self.rotate, self.rotate, size=n))
        if self.noise:
            batch = noisy(batch, self.noise, rng)
        return batch
