"""Turn a drawing into the kind of image MNIST was made of.

MNIST's digits were written on paper, scanned, then normalised: the ink's bounding box was scaled so its
longer side is 20 pixels (keeping the aspect ratio, with anti-aliasing), and the result was placed in a
28×28 field so that the centre of mass of the ink lies at the centre (pixel (14, 14)). A network trained on MNIST only
knows digits like that, so a drawing must go through the same steps before the network sees it:

    canvas (any size) --crop to the ink--> --resample to a work grid--> --normalise the stroke width-->
        --scale the longer side to 20 px, centre of mass to the centre--> 28×28 input in [0, 1]

Stroke width. A pen of fixed width gives thin strokes on a large digit and fat ones on a small digit once
both are scaled to 20 px, whereas MNIST's strokes are 2.4–3.1 px wide in the 20-px box for half its digits.
So the width is measured and corrected: a ribbon of ink of width ``w`` and length ``L`` has the area
``w·L`` and an outline ``2·(L + w)`` long, which gives ``w`` from the area and the perimeter (see
``stroke_width``). The area is the sum of the grey levels and the perimeter is the sum of the gradient
magnitude (the coarea formula), which also works for anti-aliased strokes. A grey-level dilation (3×3
maximum) widens every stroke by 2 work pixels, an erosion (3×3 minimum) narrows it by 2; the pipeline
applies as many as bring the width into MNIST's range and leaves a width already in it alone. Drawn at
any size with any pen, a digit comes out between about 2.2 and 3 px wide. The width is measured on a
20-px preview, where MNIST's own widths were measured, so an MNIST digit sent through the pipeline again
keeps its strokes (and the network's answer: about 98 % of test digits keep theirs).

Everything is plain NumPy. Resampling uses exact area overlaps (a box filter): each output pixel is the
average of the source area it covers, which anti-aliases when shrinking and keeps the centre of mass.
"""

from __future__ import annotations

import numpy as np

MNIST_BOX, MNIST_FIELD = 20, 28  # MNIST: the ink's 20-px box inside the 28-px field
# MNIST's stroke widths over its 20-px box: the middle half of the test set lies between 2.4 and 3.1 px.
STROKE_RANGE = (2.4 / MNIST_BOX, 3.1 / MNIST_BOX)
INK_THRESHOLD = 0.1  # grey level above which a pixel counts as ink for the bounding box
WORK_SIZE = 80  # longer side of the grid where the stroke width is corrected (4× MNIST's box)
MAX_WIDTH_STEPS = 12  # at most this many dilations or erosions, i.e. ±24 work pixels of stroke width


def to_network_input(canvas: np.ndarray, shape: tuple[int, int] = (28, 28)) -> np.ndarray | None:
    """MNIST-style image (H, W) float32 in [0, 1] from a grayscale ``canvas`` (ink = high values), or None
    when nothing is drawn. ``canvas`` may be uint8 (0–255) or float (0–1), of any size."""
    image = _as_unit_float(canvas)
    box = _ink_box(image)
    if box is None:
        return None
    top, bottom, left, right = box
    work = _resample_longer_side(image[top:bottom, left:right], WORK_SIZE, margin=MAX_WIDTH_STEPS + 1)
    work = normalise_stroke_width(work, *STROKE_RANGE)
    if _ink_box(work) is None:  # ink so faint and thin that resampling spread it below the threshold
        return None
    return _fit_and_centre(work, shape)


def stroke_width(image: np.ndarray) -> float:
    """Mean stroke width in pixels, reading the ink as one ribbon of width ``w`` and length ``L``.

    Its area is ``A = w·L`` and its outline ``P = 2·(L + w)``, so ``w`` is the smaller root of
    ``2w² − P·w + 2A = 0``; for long thin strokes that is close to ``2A / P``. 0 for an empty image.
    """
    dy, dx = np.gradient(image.astype(np.float32))
    perimeter, area = float(np.hypot(dx, dy).sum()), float(image.sum())
    return (perimeter - np.sqrt(max(perimeter**2 - 16.0 * area, 0.0))) / 4.0


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel indices (MNIST puts it at (14, 14))."""
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def normalise_stroke_width(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """Dilate or erode ``image`` until its stroke width lies between ``low`` and ``high`` times its ink
    box's longer side; a width already in that range is left alone.

    Widening by ``2k`` pixels also grows the box by ``2k`` (and the box is what gets scaled to MNIST's
    size), so the number of steps ``k`` to reach a fraction ``f`` solves ``(w + 2k) / (L + 2k) = f``,
    with ``w`` the measured width and ``L`` the box's longer side.
    """
    box = _ink_box(image)
    if box is None:
        return image
    top, bottom, left, right = box
    longer = max(bottom - top, right - left)
    # Measured where MNIST's own widths were measured: on the ink scaled to a 20-px box, anti-aliased.
    preview = _resample_longer_side(image[top:bottom, left:right], MNIST_BOX, margin=2)
    width = stroke_width(preview) * longer / MNIST_BOX
    fraction = float(np.clip(width / longer, low, high))
    steps = round((fraction * longer - width) / (2.0 * (1.0 - fraction)))
    steps = int(np.clip(steps, -MAX_WIDTH_STEPS, MAX_WIDTH_STEPS))
    morph = np.maximum if steps > 0 else np.minimum
    for _ in range(abs(steps)):
        image = _filter3x3(image, morph)
    return image


def _as_unit_float(canvas: np.ndarray) -> np.ndarray:
    canvas = np.asarray(canvas)
    if canvas.ndim != 2:
        raise ValueError(f"expected a 2-d grayscale canvas, got shape {canvas.shape}")
    if canvas.dtype == np.uint8:
        return canvas.astype(np.float32) / np.float32(255)
    return np.clip(canvas.astype(np.float32), 0.0, 1.0)


def _ink_box(image: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) bounds of the pixels above ``INK_THRESHOLD``; None when there are none."""
    ink = image > INK_THRESHOLD
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _filter3x3(image: np.ndarray, reduce) -> np.ndarray:
    """3×3 grey-level maximum (dilation) or minimum (erosion), with zero padding outside."""
    padded = np.pad(image, 1)
    rows = reduce(reduce(padded[:-2], padded[1:-1]), padded[2:])
    return reduce(reduce(rows[:, :-2], rows[:, 1:-1]), rows[:, 2:])


def _area_weights(n_in: int, n_out: int, scale: float, offset: float) -> np.ndarray:
    """Matrix (n_out, n_in) resampling a line: source pixel ``i`` covers ``[i·scale + offset, (i+1)·scale
    + offset)`` on the output axis, and each output pixel ``j`` (covering ``[j, j+1)``) takes the source
    values weighted by how much of it they overlap. Shrinking averages (anti-aliasing), growing repeats."""
    edges = np.arange(n_in + 1, dtype=np.float64) * scale + offset
    out = np.arange(n_out, dtype=np.float64)[:, None]
    overlap = np.minimum(out + 1, edges[None, 1:]) - np.maximum(out, edges[None, :-1])
    return np.maximum(overlap, 0.0).astype(np.float32)


def _resample(image: np.ndarray, out_shape: tuple[int, int], scale: float, offset: tuple[float, float]) -> np.ndarray:
    """Scale ``image`` by ``scale`` and shift it by ``offset`` (rows, cols) into an ``out_shape`` grid."""
    rows = _area_weights(image.shape[0], out_shape[0], scale, offset[0])
    cols = _area_weights(image.shape[1], out_shape[1], scale, offset[1])
    return rows @ image @ cols.T


def _resample_longer_side(image: np.ndarray, size: int, margin: int) -> np.ndarray:
    """Scale so the longer side is ``size`` pixels, centred in a grid with ``margin`` empty pixels around."""
    scale = size / max(image.shape)
    height, width = (round(side * scale) for side in image.shape)
    out_shape = (size + 2 * margin, size + 2 * margin)
    offset = (margin + (size - height) / 2, margin + (size - width) / 2)
    return _resample(image, out_shape, scale, offset)


def _fit_and_centre(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Scale the ink box's longer side to MNIST's box and put the centre of mass at the field's centre.

    The shift is applied inside the resampling, so it is exact to a fraction of a pixel and adds no blur
    beyond the area averaging itself.
    """
    top, bottom, left, right = _ink_box(image)
    scale = MNIST_BOX / MNIST_FIELD * min(shape) / max(bottom - top, right - left)
    com_row, com_col = centre_of_mass(image)
    # MNIST's centres of mass sit at pixel (14, 14) of 28×28 (measured on its test set): pixel i of the
    # source covers [i, i + 1), so its centre i + 0.5 must land on the centre of output pixel shape / 2.
    offset = tuple(size // 2 + 0.5 - (com + 0.5) * scale for size, com in zip(shape, (com_row, com_col)))
    return np.clip(_resample(image, shape, scale, offset), 0.0, 1.0)
