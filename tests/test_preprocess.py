"""MNIST-style preprocessing of drawings: centring, scaling, stroke width, and agreement with MNIST itself."""

import numpy as np
import pytest

from scratchnet.preprocess import STROKE_RANGE, centre_of_mass, stroke_width, to_network_input

from .quick_models import quick_model


def draw_polyline(points, pen: float, size: int = 280) -> np.ndarray:
    """A ``size``×``size`` float canvas with an anti-aliased polyline of width ``pen`` through (row, col) points."""
    rows, cols = np.indices((size, size), dtype=np.float64) + 0.5
    distance = np.full((size, size), np.inf)
    for (r0, c0), (r1, c1) in zip(points[:-1], points[1:]):
        dr, dc = r1 - r0, c1 - c0
        t = np.clip(((rows - r0) * dr + (cols - c0) * dc) / max(dr * dr + dc * dc, 1e-9), 0, 1)
        distance = np.minimum(distance, np.hypot(rows - r0 - t * dr, cols - c0 - t * dc))
    return np.clip(pen / 2 - distance + 0.5, 0, 1)


def seven(top: float, left: float, height: float) -> list[tuple[float, float]]:
    """A "7": a bar and a diagonal, ``height`` tall, 0.6 × as wide."""
    width = 0.6 * height
    return [(top, left), (top, left + width), (top + height, left + 0.25 * width)]


def ink_box(image: np.ndarray, threshold: float = 0.1) -> tuple[int, int]:
    rows, cols = np.flatnonzero((image > threshold).any(axis=1)), np.flatnonzero((image > threshold).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_off_centre_digit_is_centred_to_within_one_pixel():
    canvas = draw_polyline(seven(top=10, left=180, height=90), pen=14)
    image = to_network_input(canvas)
    row, col = centre_of_mass(image)
    assert abs(row - 14) <= 1 and abs(col - 14) <= 1


def test_output_shape_dtype_and_range_for_uint8_and_float_canvases():
    canvas = draw_polyline(seven(40, 60, 180), pen=18)
    for drawn in (canvas, (canvas * 255).astype(np.uint8)):
        image = to_network_input(drawn)
        assert image.shape == (28, 28) and image.dtype == np.float32
        assert 0 <= image.min() and image.max() <= 1 and image.max() > 0.5
    assert to_network_input(canvas, shape=(12, 12)).shape == (12, 12)


@pytest.mark.parametrize("canvas", [np.zeros((280, 280), np.uint8), np.zeros((50, 70)), np.full((28, 28), 0.05)])
def test_empty_canvas_gives_nothing_drawn(canvas):
    assert to_network_input(canvas) is None


def test_longer_side_becomes_20_pixels_and_aspect_ratio_is_kept():
    # A tall thin "0": an ellipse 200 px high and 100 px wide.
    angles = np.linspace(0, 2 * np.pi, 64)
    ellipse = list(zip(140 + 100 * np.sin(angles), 140 + 50 * np.cos(angles)))
    height, width = ink_box(to_network_input(draw_polyline(ellipse, pen=16)))
    assert 19 <= height <= 21
    assert abs(width - height / 2) <= 1.5


@pytest.mark.parametrize("height", [60, 120, 240])
def test_stroke_width_looks_like_mnist_whatever_the_drawing_size(height):
    image = to_network_input(draw_polyline(seven(20, 20, height), pen=16))
    low, high = (20 * fraction for fraction in STROKE_RANGE)
    assert low - 0.4 <= stroke_width(image) <= high + 0.4


def test_bad_canvas_is_refused():
    with pytest.raises(ValueError, match="2-d"):
        to_network_input(np.zeros((28, 28, 3)))


@pytest.mark.mnist
def test_mnist_digits_keep_their_class_through_the_pipeline(mnist):
    model = quick_model(mnist)
    images, labels = mnist.test_images[:1000], mnist.test_labels[:1000]
    again = np.stack([to_network_input(image) for image in images])
    before = model.predict_images(images).argmax(axis=1)
    after = model.predict_proba(again.reshape(len(again), -1)).argmax(axis=1)
    # A quick 92 % model is touchy about small changes; a well-trained one keeps about 98 % of its answers.
    assert (before == after).mean() >= 0.93
    assert (after == labels).mean() >= (before == labels).mean() - 0.015


def test_faint_thin_ink_is_nothing_drawn_not_a_crash():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[100:200, 140] = 40  # a 1-pixel line barely above the ink threshold
    assert to_network_input(canvas) is None


def test_random_canvases_never_crash():
    rng = np.random.default_rng(0)
    for _ in range(300):
        canvas = np.zeros((64, 64))
        for _ in range(rng.integers(0, 4)):
            r, c = rng.integers(0, 64, 2)
            canvas[r : r + rng.integers(1, 20), c : c + rng.integers(1, 20)] = rng.random()
        x = to_network_input(canvas)
        assert x is None or (x.shape == (28, 28) and np.isfinite(x).all() and 0 <= x.min() and x.max() <= 1)
