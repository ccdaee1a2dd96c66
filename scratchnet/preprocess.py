"""Turn what is on the drawing pad into the network's input, the way the network's training images were made.

The pad hands over its strokes as vectors (a ``Drawing``: polylines in canvas units, the pen width of
each, and possibly a test image under them), so the input is *rendered* from them rather than resampled
from a raster. Which rendering suits a dataset is measured from its training images (``choose_preparation``):

MNIST style, for datasets made like MNIST. MNIST's digits were written on paper, scanned, scaled so the
ink's bounding box has a longer side of 20 pixels, and placed in a 28×28 field with the ink's centre of mass
at pixel (14, 14). So the strokes' centre lines are scaled into that 20-px box, drawn at MNIST's own stroke
width whatever pen drew them, and shifted until their centre of mass sits at (14, 14)::

    strokes --scale the centre lines' box to 20 px − MNIST_STROKE--> --draw every segment MNIST_STROKE px
        wide, anti-aliased--> --move the centre of mass to (14, 14)--> 28×28 input in [0, 1]

Because every segment is drawn at the target width, a small digit written with a fat pen keeps its holes
(the 4, 6, 8 and 9 stay open), and a mouse that reports points far apart gives straight segments, as drawn.

In the frame, for other datasets (and for a test image opened from the browser): the pad *is* the image's
frame, so the strokes are drawn where they were drawn, at the pen's width scaled to the frame. An opened
test image goes to the network exactly as the browser gives it (``to_inputs``); strokes over it add ink.

Drawing is plain NumPy: on a grid ``SUPERSAMPLE`` times finer than the pixels, the centre lines are inked,
widened by a disc as wide as the pen, and averaged back to pixels (which anti-aliases the edges).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data import to_inputs

MNIST_BOX, MNIST_FIELD = 20, 28  # MNIST: the ink's 20-px box inside the 28-px field
# Drawn this wide (px in the 28-px field), rendered digits have the stroke width MNIST's test digits have
# as ``stroke_width`` measures it (median 2.66 px, the middle half 2.4–3.1 px): a median of 2.65 px.
MNIST_STROKE = 2.3
INK_THRESHOLD = 0.1  # grey level above which a pixel counts as ink
SUPERSAMPLE = 4  # points per pixel side when drawing strokes
MNIST_LIKE_SHARE = 0.9  # a dataset is MNIST-like when at least this share of its images are
CENTRE_TOLERANCE = 1.0  # px in a 28-px field: how far from (14, 14) an MNIST-like centre of mass may be
MEASURED_IMAGES = 2000  # training images measured by ``choose_preparation``


@dataclass
class Drawing:
    """What is on the pad, as plain arrays: strokes as polylines and the image they were drawn over."""

    strokes: list[np.ndarray] = field(default_factory=list)  # each (k, 2): points (x, y) in canvas units
    widths: list[float] = field(default_factory=list)  # the pen width of each stroke, in canvas units
    size: float = 280.0  # side of the square canvas, in canvas units
    image: np.ndarray | None = None  # a uint8 image (H, W), ink = high values, filling the canvas


@dataclass(frozen=True)
class Preparation:
    """How drawings are turned into inputs for one dataset, and why: ``reason`` is a sentence the pad shows."""

    mnist_style: bool
    reason: str


MNIST_DEFAULT = Preparation(True, "No dataset is loaded yet, so drawings are prepared as MNIST's digits were.")


def choose_preparation(images: np.ndarray) -> Preparation:
    """MNIST style when the training ``images`` (n, H, W) uint8 look like MNIST's, else drawing in the frame.

    An image looks like MNIST's when its ink (grey level above ``INK_THRESHOLD``) fits the 20-px box (one
    pixel of slack) and its centre of mass lies within ``CENTRE_TOLERANCE`` of the field's centre, both
    scaled from 28 px to the image's size. Measured on the first ``MEASURED_IMAGES`` images.
    """
    sample = images[:MEASURED_IMAGES].astype(np.float32) / 255
    height, width = sample.shape[1:]
    unit = min(height, width) / MNIST_FIELD  # one MNIST pixel, in this dataset's pixels
    ink = sample > INK_THRESHOLD
    box_fits = (_extent(ink.any(axis=2)) <= MNIST_BOX * unit + 1) & (_extent(ink.any(axis=1)) <= MNIST_BOX * unit + 1)
    mass = np.maximum(sample.sum(axis=(1, 2)), 1e-12)
    rows = (sample.sum(axis=2) * np.arange(height)).sum(axis=1) / mass
    cols = (sample.sum(axis=1) * np.arange(width)).sum(axis=1) / mass
    centred = np.hypot(rows - height // 2, cols - width // 2) <= CENTRE_TOLERANCE * unit
    share = float((box_fits & centred & ink.any(axis=(1, 2))).mean())
    made_so = f"{100 * share:.0f} % of this dataset's training images have their ink in a {MNIST_BOX}-px box, centred by mass"
    if share >= MNIST_LIKE_SHARE:
        return Preparation(True, f"Why: {made_so}, as MNIST's.")
    return Preparation(False, f"Why: only {made_so}, as MNIST's are.")


@dataclass
class PreparedInput:
    """The network's input made from a drawing, and where the canvas lies in it: a canvas point ``p`` (x, y)
    lands at ``p·scale + offset`` pixels of ``image`` (which the pad uses to lay maps of the input over the
    canvas)."""

    image: np.ndarray  # (H, W) in [0, 1]
    scale: np.ndarray  # (2,) pixels per canvas unit, along x and y
    offset: np.ndarray  # (2,) pixels


def to_network_input(drawing: Drawing, shape: tuple[int, int], preparation: Preparation, dtype=np.float32) -> np.ndarray | None:
    """The network input (H, W) in [0, 1] for ``drawing``, or None when nothing is drawn; see ``prepare``."""
    prepared = prepare(drawing, shape, preparation, dtype)
    return None if prepared is None else prepared.image


def prepare(drawing: Drawing, shape: tuple[int, int], preparation: Preparation, dtype=np.float32) -> PreparedInput | None:
    """The network input for ``drawing`` and where the canvas lies in it, or None when nothing is drawn.

    With an image under the strokes, the input has the image's shape and starts from the image exactly as
    ``to_inputs`` scales it (``dtype`` as the model's, so an unedited image is read as in the test browser);
    the strokes are drawn in its frame. Without one, ``preparation`` says how the strokes are drawn.
    """
    if drawing.image is not None:
        shape = drawing.image.shape
    elif not drawing.strokes:
        return None
    elif preparation.mnist_style:
        scale, offset = mnist_style_placement(drawing.strokes, shape, pen=max(drawing.widths, default=0.0))
        widths = [mnist_stroke_width(shape)] * len(drawing.strokes)
        return PreparedInput(render_strokes(drawing.strokes, widths, shape, scale, offset).astype(dtype), scale, offset)
    return PreparedInput(frame_input(drawing, shape, dtype), frame_scale(drawing, shape), np.zeros(2))


def frame_scale(drawing: Drawing, shape: tuple[int, int]) -> np.ndarray:
    """Pixels per canvas unit along x and y when the canvas fills a (H, W) frame."""
    return np.array(shape[::-1], dtype=np.float64) / drawing.size


def mnist_stroke_width(shape: tuple[int, int]) -> float:
    """``MNIST_STROKE`` in pixels of a field of ``shape`` (MNIST's is 28×28)."""
    return MNIST_STROKE * min(shape) / MNIST_FIELD


def mnist_style_placement(
    strokes: list[np.ndarray], shape: tuple[int, int] = (MNIST_FIELD, MNIST_FIELD), pen: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Scale and offset (see ``PreparedInput``) that put the strokes' centre lines in MNIST's 20-px box, so
    that drawn ``MNIST_STROKE`` wide the ink fits it, with the ink's centre of mass at pixel (14, 14).

    A mark no longer than the ``pen`` that drew it (in canvas units) is a dot, and is scaled as if it were as long
    as the pen is wide: blown up to fill the box, a click's jitter of 2 units became a slash across the image."""
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    width = mnist_stroke_width(shape)
    scale = np.full(2, (MNIST_BOX * min(shape) / MNIST_FIELD - width) / max(float((high - low).max()), pen, 1e-6))
    offset = np.array(shape[::-1], dtype=np.float64) / 2 - (low + high) / 2 * scale  # the box's centre at the field's centre
    image = render_strokes(strokes, [width] * len(strokes), shape, scale, offset)
    # Pixel i covers [i, i + 1), so a centre of mass at pixel index c sits at c + 0.5 on the axis.
    com_row, com_col = centre_of_mass(image)
    return scale, offset + (shape[1] // 2 - com_col, shape[0] // 2 - com_row)


def mnist_style_input(strokes: list[np.ndarray], shape: tuple[int, int] = (MNIST_FIELD, MNIST_FIELD)) -> np.ndarray:
    """Strokes (polylines of (x, y) points) drawn as an MNIST digit: centre lines scaled so the ink fits the
    20-px box, every segment ``MNIST_STROKE`` px wide, centre of mass at pixel (14, 14); (H, W) float32."""
    scale, offset = mnist_style_placement(strokes, shape)
    return render_strokes(strokes, [mnist_stroke_width(shape)] * len(strokes), shape, scale, offset)


def frame_input(drawing: Drawing, shape: tuple[int, int], dtype=np.float32) -> np.ndarray | None:
    """The drawing as it is on the pad, the canvas filling a (H, W) frame: the image under the strokes
    scaled as ``to_inputs`` scales it, the strokes drawn over it at the pen's width; None when empty."""
    scale = frame_scale(drawing, shape)
    base = None if drawing.image is None else to_inputs(drawing.image[None], dtype)[0].reshape(shape)
    if not drawing.strokes:
        return base
    widths = [width * float(scale.mean()) for width in drawing.widths]
    ink = render_strokes(drawing.strokes, widths, shape, scale, np.zeros(2)).astype(dtype)
    return ink if base is None else np.maximum(base, ink)


def render_strokes(
    strokes: list[np.ndarray], widths: list[float], shape: tuple[int, int], scale, offset, supersample: int = SUPERSAMPLE
) -> np.ndarray:
    """Anti-aliased image (H, W) float32 in [0, 1] of polylines drawn with a round pen.

    A point ``p`` (x, y) of a stroke lands at ``p·scale + offset`` in pixels (x along the columns, y down
    the rows; pixel i covers [i, i + 1)); stroke j is ``widths[j]`` pixels wide. On a grid ``supersample``
    times finer, the centre lines are marked (at the nearest corners between fine points), widened by a
    disc of the pen's diameter, and averaged back to pixels: that averaging is the anti-aliasing.
    """
    height, width = shape
    fine = np.zeros((height * supersample, width * supersample), dtype=bool)
    for pen in sorted(set(widths)):
        radius = pen / 2 * supersample  # in fine points
        margin = int(np.ceil(radius))  # centre lines this far outside the field still ink it
        centre_lines = np.zeros((fine.shape[0] + 2 * margin + 1, fine.shape[1] + 2 * margin + 1), dtype=bool)  # corners
        for stroke, stroke_width in zip(strokes, widths):
            if stroke_width == pen:
                points = _along(np.asarray(stroke, dtype=np.float64) * scale + offset, 0.5 / supersample)
                column, row = np.round(points * supersample).astype(int).T + margin
                inside = (row >= 0) & (row < centre_lines.shape[0]) & (column >= 0) & (column < centre_lines.shape[1])
                centre_lines[row[inside], column[inside]] = True
        fine |= _widen(centre_lines, radius)[margin : margin + fine.shape[0], margin : margin + fine.shape[1]]
    image = fine.reshape(height, supersample, width, supersample).mean(axis=(1, 3))
    return image.astype(np.float32)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel indices (MNIST puts it at (14, 14))."""
    total = image.sum()
    rows, cols = np.indices(image.shape)
    return float((rows * image).sum() / total), float((cols * image).sum() / total)


def stroke_width(image: np.ndarray) -> float:
    """Mean stroke width in pixels, reading the ink as one ribbon of width ``w`` and length ``L``.

    Its area is ``A = w·L`` (the sum of the grey levels) and its outline ``P = 2·(L + w)`` (the sum of the
    gradient's magnitude), so ``w`` is the smaller root of ``2w² − P·w + 2A = 0``. 0 for an empty image.
    """
    dy, dx = np.gradient(image.astype(np.float32))
    perimeter, area = float(np.hypot(dx, dy).sum()), float(image.sum())
    return (perimeter - np.sqrt(max(perimeter**2 - 16.0 * area, 0.0))) / 4.0


def _extent(occupied: np.ndarray) -> np.ndarray:
    """Per row of ``occupied`` (n, k) bool, the span from the first to the last True (0 when none)."""
    first = occupied.argmax(axis=1)
    last = occupied.shape[1] - 1 - occupied[:, ::-1].argmax(axis=1)
    return np.where(occupied.any(axis=1), last - first + 1, 0)


def _along(points: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` along the polyline (k, 2), with both its ends (a single point stays one)."""
    travelled = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    at = np.append(np.arange(0.0, travelled[-1], step), travelled[-1])
    return np.column_stack([np.interp(at, travelled, points[:, 0]), np.interp(at, travelled, points[:, 1])])


def _widen(corners: np.ndarray, radius: float) -> np.ndarray:
    """The points within ``radius`` of a marked corner, from ``corners`` (n + 1, m + 1) bool marking the
    corners between n × m points (point (i, j) has corner (i, j) at its top left); cut to (n, m).

    Measured from a corner, a disc of radius r covers 2r points across (to the nearest even count), so
    a stroke comes out as wide as the pen, not one point wider.
    """
    reach = int(np.ceil(radius)) + 1
    padded = np.pad(corners, reach)
    height, width = corners.shape[0] - 1, corners.shape[1] - 1
    wide = np.zeros((height, width), dtype=bool)
    for dy in range(-reach + 1, reach + 1):  # the corner (i + dy, j + dx) is (dy - 0.5, dx - 0.5) from the point's centre
        for dx in range(-reach + 1, reach + 1):
            if (dy - 0.5) ** 2 + (dx - 0.5) ** 2 <= radius * radius:
                wide |= padded[reach + dy : reach + dy + height, reach + dx : reach + dx + width]
    return wide
