"""The handwriting store: examples kept as an IDX pair and strokes, every change saved, nothing ever lost."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from scratchnet.errors import DataError
from scratchnet.handwriting import IMAGES, LABELS, LOCK, STROKES, Examples, HandwritingStore, read_examples, write_examples
from scratchnet.idx import write_idx
from scratchnet.preprocess import Drawing


def digit(value: int) -> np.ndarray:
    """A 28×28 uint8 image told apart by its grey level."""
    return np.full((28, 28), value, np.uint8)


def a_drawing(x: float) -> Drawing:
    return Drawing([np.array([[x, 10.0], [x + 5, 200.0]]), np.array([[3.0, 4.0]])], [18.0, 6.0], 280.0)


def assert_same_examples(actual: Examples, expected: Examples) -> None:
    np.testing.assert_array_equal(actual.images, expected.images)
    np.testing.assert_array_equal(actual.labels, expected.labels)
    assert len(actual.drawings) == len(expected.drawings)
    for got, wanted in zip(actual.drawings, expected.drawings):
        assert (got is None) == (wanted is None)
        if wanted is not None:
            assert got.widths == wanted.widths and got.size == wanted.size
            for got_stroke, wanted_stroke in zip(got.strokes, wanted.strokes, strict=True):
                np.testing.assert_array_equal(got_stroke, wanted_stroke)


def test_a_new_store_is_empty_and_lives_in_the_data_home(data_home):
    store = HandwritingStore()
    assert store.folder == data_home / "handwriting"
    assert len(store.examples) == 0 and store.examples.image_shape == (28, 28)
    assert not store.folder.exists()  # nothing is written before the first example


def test_every_change_is_saved_and_read_back(data_home):
    store = HandwritingStore()
    store.add(digit(10), 7, a_drawing(1.0))
    store.add(np.full((28, 28), 0.5, np.float32), 3, a_drawing(2.0))  # the pad's input, in [0, 1]
    store.add(digit(30), 1)
    store.relabel(0, 9)
    assert (data_home / "handwriting" / IMAGES).is_file() and (data_home / "handwriting" / STROKES).is_file()

    reopened = HandwritingStore()
    assert reopened.examples.labels.tolist() == [9, 3, 1]
    assert reopened.examples.images[1, 0, 0] == 128  # 0.5 × 255, rounded
    assert reopened.examples.drawings[2] is None
    assert_same_examples(reopened.examples, store.examples)
    assert reopened.examples.counts(10).tolist() == [0, 1, 0, 1, 0, 0, 0, 0, 0, 1]


def test_delete_then_restore_puts_examples_back_where_they_were(data_home):
    store = HandwritingStore()
    for value in range(6):
        store.add(digit(value), value, a_drawing(value))
    before = store.examples
    deleted = store.delete([4, 1, 2])
    assert store.examples.labels.tolist() == [0, 3, 5]
    assert HandwritingStore().examples.labels.tolist() == [0, 3, 5]
    store.restore(deleted)
    assert_same_examples(HandwritingStore().examples, before)


def test_export_then_import_round_trip(data_home, tmp_path):
    store = HandwritingStore()
    store.add(digit(1), 4, a_drawing(1.0))
    store.add(digit(2), 5)
    store.export_folder(tmp_path / "exported")
    assert sorted(path.name for path in (tmp_path / "exported").iterdir()) == sorted([IMAGES, LABELS, STROKES])

    other = HandwritingStore(tmp_path / "another-home")
    other.add(digit(9), 0)
    assert other.import_folder(tmp_path / "exported") == 2
    assert other.examples.labels.tolist() == [0, 4, 5]
    assert_same_examples(other.examples.take([1, 2]), store.examples)


def test_a_plain_idx_pair_is_an_examples_folder(tmp_path):
    write_idx(tmp_path / IMAGES, np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / LABELS, np.array([1, 2, 3], np.uint8))
    examples = read_examples(tmp_path)
    assert examples.labels.tolist() == [1, 2, 3] and examples.drawings == [None] * 3


@pytest.mark.parametrize(
    "files, message",
    [
        ({}, "lacks images-idx3-ubyte and labels-idx1-ubyte"),
        ({IMAGES: np.zeros((3, 28, 28), np.uint8), LABELS: np.zeros(2, np.uint8)}, "3 images but 2 labels"),
        ({IMAGES: np.zeros((3, 784), np.uint8), LABELS: np.zeros(3, np.uint8)}, "expected uint8 images (n, height, width)"),
        ({IMAGES: np.zeros((3, 28, 28), np.uint8), LABELS: np.zeros(3, np.int32)}, "expected uint8 labels"),
        ({IMAGES: np.zeros((3, 28, 28), np.uint8), LABELS: np.zeros(3, np.uint8), STROKES: b"{not json"}, "unreadable strokes"),
    ],
)
def test_a_broken_examples_folder_is_a_clear_error(tmp_path, files, message):
    for name, content in files.items():
        if isinstance(content, bytes):
            (tmp_path / name).write_bytes(content)
        else:
            write_idx(tmp_path / name, content)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_examples(tmp_path)


def test_strokes_for_another_number_of_examples_are_refused(tmp_path):
    write_examples(Examples(np.zeros((2, 28, 28), np.uint8), [1, 2], [a_drawing(1.0), None]), tmp_path)
    write_idx(tmp_path / LABELS, np.zeros(3, np.uint8))
    write_idx(tmp_path / IMAGES, np.zeros((3, 28, 28), np.uint8))
    with pytest.raises(DataError, match="strokes of 2 examples but the images are 3"):
        read_examples(tmp_path)


# A save killed at its k-th file rename: the renames are the three files staged (each written to a temporary
# name and renamed), the commit (the staging folder renamed to .committed), then the three files moved into
# place. A process killed before rename k has done renames 1..k-1.
SAVE_KILLED_BEFORE_RENAME = textwrap.dedent(
    """
    import os, sys
    import numpy as np
    from scratchnet.handwriting import HandwritingStore

    store = HandwritingStore(sys.argv[1])
    renames, kill_before = 0, int(sys.argv[2])
    real_replace = os.replace

    def replace(source, target):
        global renames
        renames += 1
        if renames == kill_before:
            os._exit(9)  # as abrupt as a crash: no clean-up runs
        real_replace(source, target)

    os.replace = replace
    store.add(np.full((28, 28), 200, np.uint8), 8)
    """
)


@pytest.mark.parametrize("kill_before", range(1, 8))
def test_a_save_killed_at_any_point_leaves_the_old_or_the_new_collection(tmp_path, kill_before):
    folder = tmp_path / "handwriting"
    store = HandwritingStore(folder)
    store.add(digit(1), 1, a_drawing(1.0))
    store.add(digit(2), 2)
    old = store.examples

    killed = subprocess.run([sys.executable, "-c", SAVE_KILLED_BEFORE_RENAME, str(folder), str(kill_before)])
    assert killed.returncode == 9

    reopened = HandwritingStore(folder)
    if kill_before <= 4:  # before the commit: the save did not happen
        assert_same_examples(reopened.examples, old)
    else:  # after it: the save is finished on reading
        assert reopened.examples.labels.tolist() == [1, 2, 8]
        assert_same_examples(reopened.examples.take([0, 1]), old)
        assert len(reopened.examples.drawings) == 3
    reopened.add(digit(3), 3)  # the next save clears what the killed one left
    assert sorted(path.name for path in folder.iterdir()) == sorted([IMAGES, LABELS, STROKES, LOCK])
    assert HandwritingStore(folder).examples.labels[-1] == 3
