"""Turning the pad's strokes into inputs: MNIST style (20-px box, MNIST's stroke width, centre of mass), in
the image's frame, over an opened test image, and the choice between them measured from a dataset."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchnet.data import to_inputs
from scratchnet.preprocess import (
    MNIST_DEFAULT,
    MNIST_STROKE,
    Drawing,
    Preparation,
    centre_of_mass,
    choose_preparation,
    mnist_style_input,
    render_strokes,
    stroke_width,
    to_network_input,
)

from .conftest import make_images

IN_FRAME = Preparation(False, "test")


def seven(top: float, left: float, height: float) -> list[np.ndarray]:
    """A "7" as one stroke of (x, y) canvas points: a bar and a diagonal, ``height`` tall, 0.6 × as wide."""
    width = 0.6 * height
    return [np.array([(left, top), (left + width, top), (left + 0.25 * width, top + height)])]


def eight(top: float, left: float, height: float) -> list[np.ndarray]:
    """An "8": two loops, one above the other."""
    angles = np.linspace(0, 2 * np.pi, 40)
    loop = lambda cy, r: np.column_stack([left + height / 4 + r * np.cos(angles), cy + r * np.sin(angles)])  # noqa: E731
    return [loop(top + height / 4, height / 4), loop(top + 3 * height / 4, height / 4)]


def ink_box(image: np.ndarray, threshold: float = 0.1) -> tuple[int, int]:
    rows, cols = np.flatnonzero((image > threshold).any(axis=1)), np.flatnonzero((image > threshold).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def test_off_centre_digit_is_centred_by_its_centre_of_mass():
    image = mnist_style_input(seven(top=10, left=180, height=90))
    row, col = centre_of_mass(image)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5


def test_output_shape_dtype_and_range():
    drawing = Drawing(seven(40, 60, 180), [18.0])
    image = to_network_input(drawing, (28, 28), MNIST_DEFAULT)
    assert image.shape == (28, 28) and image.dtype == np.float32
    assert 0 <= image.min() and image.max() == 1
    assert to_network_input(drawing, (12, 12), MNIST_DEFAULT).shape == (12, 12)
    assert to_network_input(drawing, (28, 28), MNIST_DEFAULT, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("preparation", [MNIST_DEFAULT, IN_FRAME])
def test_nothing_drawn_gives_none(preparation):
    assert to_network_input(Drawing(), (28, 28), preparation) is None


def test_longer_side_becomes_20_pixels_and_the_centre_lines_keep_their_aspect_ratio():
    # A tall thin "0": an ellipse 200 units high and 100 wide, drawn MNIST_STROKE px wide around its centre line.
    angles = np.linspace(0, 2 * np.pi, 64)
    height, width = ink_box(mnist_style_input([np.column_stack([140 + 50 * np.cos(angles), 140 + 100 * np.sin(angles)])]))
    assert 20 <= height <= 21
    assert abs(width - (0.5 * (20 - MNIST_STROKE) + MNIST_STROKE)) <= 2  # anti-aliasing and the box's place add up to 2 px


@pytest.mark.parametrize("height", [40, 120, 260])
@pytest.mark.parametrize("pen", [6, 18, 40])
def test_stroke_width_is_mnists_whatever_the_size_and_pen(height, pen):
    image = to_network_input(Drawing(seven(10, 10, height), [pen]), (28, 28), MNIST_DEFAULT)
    assert 2.3 <= stroke_width(image) <= 3.0  # MNIST's own: median 2.66 px, the middle half 2.4–3.1 px


def test_a_small_eight_in_a_fat_pen_keeps_both_holes():
    """The issue's case: an 8 a third of the pad high with the default pen became a solid block."""
    image = to_network_input(Drawing(eight(10, 10, 90), [18.0, 18.0]), (28, 28), MNIST_DEFAULT)
    column = image[:, 14]  # down the middle: ink, hole, ink (the waist), hole, ink
    inked = column > 0.5
    changes = np.flatnonzero(np.diff(inked.astype(int)))
    assert len(changes) == 6, f"expected three ink runs with two holes between, got {inked.astype(int)}"


def test_a_dot_is_a_small_blob_at_the_centre():
    image = to_network_input(Drawing([np.array([[50.0, 70.0]])], [18.0]), (28, 28), MNIST_DEFAULT)
    assert ink_box(image)[0] <= 4 and image.sum() > 1
    assert np.allclose(centre_of_mass(image), (14, 14), atol=0.5)


def test_render_strokes_draws_a_line_of_the_given_width():
    image = render_strokes([np.array([(4.0, 14.0), (24.0, 14.0)])], [3.0], (28, 28), scale=1.0, offset=np.zeros(2))
    assert image.sum() == pytest.approx(20 * 3 + np.pi * 1.5**2, rel=0.05)  # the ribbon and its two round ends
    assert image[14, 14] == 1 and image[10, 14] == 0 and image[14, 1] == 0


def test_in_the_frame_the_strokes_stay_where_they_were_drawn():
    corner = Drawing(seven(20, 20, 110), [18.0])  # in the top-left quarter of the 280-unit canvas
    image = to_network_input(corner, (28, 28), IN_FRAME)
    rows, cols = np.nonzero(image > 0.1)
    assert rows.max() < 14 and cols.max() < 14
    length = 0.6 * 11 + np.hypot(0.45 * 11, 11)  # px: the bar and the diagonal of an 11-px high "7"
    assert image.sum() == pytest.approx(length * 1.8 + np.pi * 0.9**2, rel=0.1)  # the pen's 18 units: 1.8 px


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_unedited_image_is_exactly_what_to_inputs_gives(dtype):
    images, _ = make_images(5, 4, (12, 12), np.random.default_rng(0))
    for image in images:
        x = to_network_input(Drawing(image=image), (28, 28), MNIST_DEFAULT, dtype)
        assert x.dtype == dtype
        np.testing.assert_array_equal(x.reshape(-1), to_inputs(image[None], dtype)[0])


def test_strokes_over_an_image_add_ink_in_its_frame():
    image = np.zeros((28, 28), np.uint8)
    image[2:6, 2:6] = 120
    across = Drawing([np.array([(0.0, 145.0), (280.0, 145.0)])], [10.0], image=image)  # a line across the middle
    x = to_network_input(across, (28, 28), MNIST_DEFAULT)
    assert x[14].min() == 1  # the stroke's row, the whole width
    np.testing.assert_array_equal(x[:12], to_inputs(image[None])[0].reshape(28, 28)[:12])  # the rest untouched


def mnist_like_images(n: int, rng: np.random.Generator) -> np.ndarray:
    """Sevens of random sizes drawn MNIST-style: the ink in a 20-px box, centred by mass."""
    return np.stack([np.round(255 * mnist_style_input(seven(0, 0, rng.uniform(50, 250)))).astype(np.uint8) for _ in range(n)])


def test_choose_preparation_measures_the_training_images():
    rng = np.random.default_rng(1)
    assert choose_preparation(mnist_like_images(30, rng)).mnist_style
    bands, _ = make_images(200, 4, (28, 28), rng)  # noisy bands filling the frame (tests/conftest.py)
    chosen = choose_preparation(bands)
    assert not chosen.mnist_style and chosen.reason.startswith("Why: only 0 %")
    off_centre = np.zeros((30, 28, 28), np.uint8)
    off_centre[:, 2:12, 3:8] = 200  # small and in a corner: not MNIST's layout
    assert not choose_preparation(off_centre).mnist_style


@pytest.mark.mnist
def test_mnist_is_mnist_like(mnist):
    chosen = choose_preparation(mnist.train_images)
    assert chosen.mnist_style and "100 %" in chosen.reason


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.tuples(st.floats(-50, 330), st.floats(-50, 330)), min_size=1, max_size=6), min_size=1, max_size=3),
    st.floats(1, 60),
    st.booleans(),
)
def test_any_strokes_give_a_finite_input_in_range(points, pen, mnist_style):
    strokes = [np.array(stroke) for stroke in points]
    x = to_network_input(Drawing(strokes, [pen] * len(strokes)), (28, 28), Preparation(mnist_style, ""))
    assert x is not None and x.shape == (28, 28) and np.isfinite(x).all() and 0 <= x.min() and x.max() <= 1
