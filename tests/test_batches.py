"""The batches of an epoch: gathered in the given order, shifted with zeros filling the border, made alike with
and without the second thread that makes them one batch ahead."""

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchnet.augment import MIN_RUN, Augmentation, shifted_batch
from scratchnet.batches import Batches


def numbered_images(n: int, height: int, width: int) -> np.ndarray:
    """Images whose pixels are all different and non-zero, so that a shifted pixel tells where it came from."""
    return (np.arange(n * height * width, dtype=np.float32) + 1).reshape(n, height, width)


def shift_of(batch_image: np.ndarray, image: np.ndarray, max_shift: int) -> tuple[int, int] | None:
    """The (dy, dx) that moves ``image`` onto ``batch_image`` with zeros coming in, or None if there is none."""
    height, width = image.shape
    padded = np.pad(image, max_shift)  # moving the image by (dy, dx) is looking at the padded one from (-dy, -dx)
    for dy in range(-max_shift, max_shift + 1):
        for dx in range(-max_shift, max_shift + 1):
            if np.array_equal(batch_image, padded[max_shift - dy :][:height, max_shift - dx :][:, :width]):
                return dy, dx
    return None


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 12 * MIN_RUN),
    height=st.integers(1, 9),
    width=st.integers(1, 9),
    max_shift=st.integers(0, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_each_image_of_a_batch_is_its_row_moved_by_at_most_max_shift_with_zeros_coming_in(n, height, width, max_shift, seed):
    images = numbered_images(12 * MIN_RUN, height, width)
    rows = np.random.default_rng(seed).permutation(len(images))[:n]
    batch = shifted_batch(images, rows, max_shift, np.random.default_rng(seed))
    assert batch.shape == (n, height, width) and batch.dtype == images.dtype
    shifts = [shift_of(batch[i], images[row], max_shift) for i, row in enumerate(rows)]
    assert None not in shifts
    runs = 1 + sum(before != after for before, after in zip(shifts, shifts[1:]))  # of consecutive rows sharing a shift
    assert runs <= -(-n // MIN_RUN)  # so the batch took at most one copy per MIN_RUN rows


def shifts_of(batch: np.ndarray, images: np.ndarray, rows: np.ndarray) -> list[tuple[int, int]]:
    """Each batch image's (dy, dx), read from where its first inked pixel came from (``numbered_images`` tell)."""
    _, height, width = images.shape
    flat = batch.reshape(len(batch), -1)
    first = (flat > 0).argmax(axis=1)  # each image's first visible pixel, as a flat index into the batch image
    source = flat[np.arange(len(batch)), first].astype(np.int64) - 1 - rows * height * width  # ... and into its image
    return list(zip((first // width - source // width).tolist(), (first % width - source % width).tolist()))


@pytest.mark.parametrize(("max_shift", "batch_size"), [(1, 64), (1, 5), (2, 256), (3, 64)])
def test_every_shift_in_range_is_as_likely(max_shift, batch_size):
    """Whether a batch has a run per shift (few shifts) or runs of MIN_RUN rows with random shifts (many), over
    many batches each image's shift is uniform over the (2 max_shift + 1)² possible ones."""
    images, rng = numbered_images(300, 7, 7), np.random.default_rng(0)
    shifts = []
    for _ in range(80000 // batch_size):
        rows = rng.permutation(len(images))[:batch_size]
        shifts += shifts_of(shifted_batch(images, rows, max_shift, rng), images, rows)
    expected = len(shifts) / (2 * max_shift + 1) ** 2
    counts = {offset: shifts.count(offset) for offset in set(shifts)}
    assert len(counts) == (2 * max_shift + 1) ** 2 and 0.8 * expected < min(counts.values()) <= max(counts.values()) < 1.2 * expected


def batches_of(ahead: bool, max_shift: int = 2, batch_size: int = 16) -> list[tuple[np.ndarray, np.ndarray]]:
    images = numbered_images(100, 5, 5)
    x, y = images.reshape(100, -1), np.arange(100) % 7
    order = np.random.default_rng(1).permutation(100)
    batches = Batches(x, y, (5, 5), batch_size, Augmentation(shift=max_shift), np.random.default_rng(2))
    batches.ahead = ahead
    try:
        return list(batches.epoch(order)) + list(batches.epoch(order[::-1]))
    finally:
        batches.close()


@pytest.mark.parametrize("max_shift", [0, 2])
def test_an_epoch_takes_every_row_once_in_the_given_order(max_shift):
    epoch = batches_of(ahead=True, max_shift=max_shift)[:7]
    assert [len(y) for _, y in epoch] == [16] * 6 + [4]
    order = np.random.default_rng(1).permutation(100)
    assert np.array_equal(np.concatenate([y for _, y in epoch]), order % 7)
    if max_shift == 0:
        assert np.array_equal(np.concatenate([x for x, _ in epoch]), numbered_images(100, 5, 5).reshape(100, -1)[order])


def test_batches_made_ahead_on_the_second_thread_are_the_same_as_made_in_turn():
    for (x_ahead, y_ahead), (x_in_turn, y_in_turn) in zip(batches_of(ahead=True), batches_of(ahead=False), strict=True):
        assert np.array_equal(x_ahead, x_in_turn) and np.array_equal(y_ahead, y_in_turn)


def test_switching_ways_mid_epoch_loses_or_repeats_no_batch():
    images = numbered_images(100, 5, 5)
    x, y = images.reshape(100, -1), np.arange(100)
    batches = Batches(x, y, (5, 5), 10, Augmentation(shift=1), np.random.default_rng(0))
    taken = []
    for number, (_, batch_y) in enumerate(batches.epoch(np.arange(100))):
        taken.append(batch_y)
        batches.ahead = number % 3 != 0  # ahead for two batches, then one in turn
    batches.close()
    assert np.array_equal(np.concatenate(taken), np.arange(100))


def test_one_batch_of_all_rows_without_shifts_is_the_inputs_themselves():
    x, y = np.ones((10, 4), np.float32), np.zeros(10, np.int64)
    batches = Batches(x, y, (2, 2), 10, Augmentation(), np.random.default_rng(0))
    ((batch_x, batch_y),) = batches.epoch(None)
    batches.close()
    assert np.shares_memory(batch_x, x) and len(batch_y) == 10  # no copy


def test_one_shifted_batch_of_all_rows_draws_each_image_a_new_shift_every_epoch():
    """Shifts are dealt out by position in the batch, so a full batch is shuffled first: otherwise the same rows
    would get the same shifts every epoch (and a dataset stored by class would tell the class by the shift)."""
    images = numbered_images(300, 7, 7)
    batches = Batches(images.reshape(300, -1), np.arange(300), (7, 7), 300, Augmentation(shift=1), np.random.default_rng(0))
    epochs = []
    for _ in range(2):
        ((batch_x, rows),) = batches.epoch(None)  # the labels are the row numbers: they tell which image is where
        epochs.append(dict(zip(rows.tolist(), shifts_of(batch_x.reshape(300, 7, 7), images, rows))))
    batches.close()
    assert sorted(epochs[0]) == list(range(300))  # every row once
    same = sum(epochs[0][row] == epochs[1][row] for row in range(300)) / 300
    assert same < 0.25  # independent shifts agree 1 time in 9


def test_an_error_while_making_a_batch_reaches_the_caller_and_close_ends_the_thread():
    x, y = np.ones((10, 4), np.float32), np.zeros(10, np.int64)
    batches = Batches(x, y, (2, 2), 5, Augmentation(), np.random.default_rng(0))
    batches.ahead = True
    with pytest.raises(IndexError):
        list(batches.epoch(np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 99])))
    batches.close()
    assert not any(thread.name.startswith("scratchnet-batches") for thread in threading.enumerate())
