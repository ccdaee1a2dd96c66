"""Damage done to images on purpose: noise, rotation, thinner or bolder strokes, shifts, blur, a covering patch.

A network that reads 98 % of clean test digits may read far fewer once they are tilted, noisy or partly covered;
these transforms make such images so that the robustness sweep (``robustness.py``) can measure how much. Each
takes a batch ``images`` (n, H, W) of grey levels in [0, 1] (ink high, as the network reads them), of any size,
and a severity in its own unit, and returns a new batch of the same shape and dtype; severity 0 returns the images
unchanged. The random ones (noise, shift direction, patch position) draw from the ``rng`` they are given, so that
the same seed damages the same way::

    rng = np.random.default_rng(0)
    tilted = rotate(images, 20.0, rng)            # 20° anticlockwise
    noisy = gaussian_noise(images, 0.3, rng)      # σ = 0.3 of full ink

``DAMAGES`` lists them with their labels, units and limits, and the six severities the sweep tries
(``Damage.levels``, scaled to the image size for the kinds measured in pixels).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .augment import noisy, rotated, thickened
from .errors import ConfigError

MNIST_SIDE = 28  # the sweep's pixel severities are chosen for 28-px images and scaled to others


def gaussian_noise(images: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Each pixel plus normal noise of standard deviation ``sigma`` (1 = full ink), clipped back to [0, 1]."""
    return noisy(images, sigma, rng) if sigma else images.copy()


def rotate(images: np.ndarray, degrees: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """The images turned ``degrees`` (to the nearest degree) anticlockwise about their centre, by bilinear
    sampling: the rotation that augmentation uses (``augment.rotated``)."""
    return rotated(images, np.full(len(images), degrees))


def thickness(images: np.ndarray, pixels: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Strokes made bolder (``pixels`` > 0) or thinner (< 0) by grey-scale morphology, a fractional step blending
    between whole ones: the morphology that augmentation uses (``augment.thickened``)."""
    return thickened(images, np.full(len(images), pixels))


def shift(images: np.ndarray, pixels: float, rng: np.random.Generator) -> np.ndarray:
    """Each image moved by ``pixels`` (rounded to whole pixels) up, down, left or right, chosen at random per image;
    the uncovered border is blank paper."""
    step = round(pixels)
    if step == 0:
        return images.copy()
    out = np.zeros_like(images)
    directions = rng.integers(4, size=len(images))
    for direction, (dy, dx) in enumerate(((-step, 0), (step, 0), (0, -step), (0, step))):
        rows = np.flatnonzero(directions == direction)
        out[rows] = moved(images[rows], dy, dx)
    return out


def moved(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The images moved ``dy`` pixels down and ``dx`` right (negative: up, left), blank paper moving in."""
    out = np.zeros_like(images)
    height, width = images.shape[1:]
    if abs(dy) < height and abs(dx) < width:
        out[:, max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = images[
            :, max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)
        ]
    return out


def blur(images: np.ndarray, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """A Gaussian blur of standard deviation ``sigma`` pixels, as two matrix products (down the columns, then along
    the rows): row ``i`` of the blurring matrix holds the Gaussian centred on pixel ``i``, so ink near the border
    partly blurs out of the image, as it would off the edge of a photograph."""
    if sigma == 0:
        return images.copy()
    height, width = images.shape[1:]
    along_rows = _gaussian_matrix(width, sigma, images.dtype)
    along_columns = _gaussian_matrix(height, sigma, images.dtype)
    out = images @ along_rows  # (n, H, W) @ (W, W): each row blurred
    return np.swapaxes(np.swapaxes(out, 1, 2) @ along_columns, 1, 2).copy()


def _gaussian_matrix(size: int, sigma: float, dtype) -> np.ndarray:
    """(size, size) symmetric: entry (i, j) is the weight pixel i gives pixel j, a Gaussian of ``sigma`` summing to 1
    over the whole line (so a pixel near the edge keeps less than its own weight inside the image)."""
    radius = max(math.ceil(3 * sigma), 1)
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    distance = np.subtract.outer(np.arange(size), np.arange(size))
    weights = np.where(np.abs(distance) <= radius, kernel[np.clip(distance + radius, 0, 2 * radius)], 0.0)
    return weights.astype(dtype)


def occlusion(images: np.ndarray, side: float, rng: np.random.Generator) -> np.ndarray:
    """A square of blank paper, ``side`` pixels wide (rounded), laid over each image: its centre falls at random in
    the middle half of the image, where the digit is, and it is cut off where it passes the edge."""
    side = round(side)
    if side == 0:
        return images.copy()
    n, height, width = images.shape
    centre_y = rng.uniform(height / 4, 3 * height / 4, n)
    centre_x = rng.uniform(width / 4, 3 * width / 4, n)
    top, left = np.round(centre_y - side / 2).astype(int), np.round(centre_x - side / 2).astype(int)
    rows, cols = np.arange(height), np.arange(width)
    covered_rows = (rows >= top[:, None]) & (rows < top[:, None] + side)  # (n, H)
    covered_cols = (cols >= left[:, None]) & (cols < left[:, None] + side)  # (n, W)
    return np.where(covered_rows[:, :, None] & covered_cols[:, None, :], images.dtype.type(0), images)


Transform = Callable[[np.ndarray, float, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Damage:
    """One kind of damage: its transform, how to name it and its unit, the severities it accepts, and the six
    the sweep tries on 28-px images (``levels`` scales those measured in pixels to other sizes)."""

    name: str  # as the command line writes it: "rotation"
    label: str  # as the app writes it: "Rotation"
    unit: str  # "°", "σ", "px"
    transform: Transform
    levels_28: tuple[float, ...]
    minimum: float
    maximum: float  # for pixel kinds, in pixels of a 28-px image; scaled like the levels
    in_pixels: bool  # severities are pixels, scaled with the image size
    help: str

    def scale(self, image_shape: tuple[int, int]) -> float:
        """Pixels of these images per pixel of a 28-px one (1 for the kinds not measured in pixels)."""
        return min(image_shape) / MNIST_SIDE if self.in_pixels else 1.0

    def levels(self, image_shape: tuple[int, int]) -> list[float]:
        """The six severities of the sweep, from none to severe, for images of ``image_shape``."""
        scale = self.scale(image_shape)
        return [round(level * scale, 2) for level in self.levels_28]

    def limits(self, image_shape: tuple[int, int]) -> tuple[float, float]:
        scale = self.scale(image_shape)
        return self.minimum * scale, self.maximum * scale

    def check(self, severity: float, image_shape: tuple[int, int]) -> float:
        """``severity`` as a float, or ``ConfigError`` when it is not a number within the limits."""
        low, high = self.limits(image_shape)
        if not (math.isfinite(severity) and low <= severity <= high):
            raise ConfigError(f"{self.name} must be between {self.severity_text(low)} and {self.severity_text(high)}; got {severity:g}")
        return float(severity)

    def severity_text(self, severity: float) -> str:
        """A severity with its unit: "20°", "σ 0.3", "+1 px", "2 px"."""
        if self.unit == "σ":
            return f"σ {severity:g}"
        number = f"{severity:+g}" if self.minimum < 0 and severity else f"{severity:g}"
        return f"{number}°" if self.unit == "°" else f"{number} {self.unit}"

    def describe(self, severity: float) -> str:
        """ "rotation 20°", "noise σ 0.3", "shift 2 px"."""
        return f"{self.name} {self.severity_text(severity)}"


DAMAGES: dict[str, Damage] = {
    damage.name: damage
    for damage in (
        Damage(
            "noise",
            "Gaussian noise",
            "σ",
            gaussian_noise,
            (0, 0.1, 0.2, 0.3, 0.4, 0.5),
            0.0,
            1.0,
            False,
            "normal noise added to every pixel, σ in units of full ink, clipped to [0, 1]",
        ),
        Damage("rotation", "Rotation", "°", rotate, (0, 10, 20, 30, 45, 60), -180.0, 180.0, False, "turned anticlockwise about the centre"),
        Damage(
            "thickness",
            "Stroke thickness",
            "px",
            thickness,
            (-1, -0.5, 0, 1, 2, 3),
            -3.0,
            6.0,
            False,
            "strokes bolder (+) or thinner (−) by grey-scale dilation or erosion, in pixels on each side",
        ),
        Damage("shift", "Shift", "px", shift, (0, 1, 2, 3, 4, 5), 0.0, 28.0, True, "moved up, down, left or right (at random)"),
        Damage("blur", "Blur", "px", blur, (0, 0.5, 1, 1.5, 2, 2.5), 0.0, 10.0, True, "Gaussian blur of this standard deviation"),
        Damage(
            "occlusion",
            "Covering patch",
            "px",
            occlusion,
            (0, 4, 8, 10, 12, 14),
            0.0,
            28.0,
            True,
            "a square of blank paper this many pixels wide over the middle of the image",
        ),
    )
}


def damage_names() -> str:
    return ", ".join(DAMAGES)


def apply(images: np.ndarray, damages: list[tuple[str, float]], rng: np.random.Generator) -> np.ndarray:
    """``images`` (n, H, W) in [0, 1] with each ``(name, severity)`` of ``damages`` applied in turn."""
    for name, severity in damages:
        images = DAMAGES[name].transform(images, severity, rng)
    return images


def parse_damages(text: str, image_shape: tuple[int, int] | None = None) -> list[tuple[str, float]]:
    """ "rotation=20,noise=0.3" → [("rotation", 20.0), ("noise", 0.3)], each checked against its limits for images
    of ``image_shape`` (None: only that the kinds exist and the severities are numbers); ``ConfigError`` saying what
    is wrong otherwise."""
    damages = []
    for part in text.split(","):
        name, equals, value = part.strip().partition("=")
        name = name.strip().lower()
        if not equals or name not in DAMAGES:
            kinds = damage_names()
            raise ConfigError(f"expected KIND=SEVERITY with KIND one of {kinds} (such as rotation=20,noise=0.3); got {part.strip()!r}")
        try:
            severity = float(value)
        except ValueError:
            raise ConfigError(f"{name} needs a number; got {value.strip()!r}") from None
        if not math.isfinite(severity):
            raise ConfigError(f"{name} needs a finite number; got {value.strip()!r}")
        damages.append((name, severity if image_shape is None else DAMAGES[name].check(severity, image_shape)))
    return damages
