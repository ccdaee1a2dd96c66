"""The IDX reader and dataset loading: round trips, corrupt files, and where the data is found."""

import gzip
import struct

import numpy as np
import pytest

from scratchnet import data as data_module
from scratchnet.cli import main as cli_main
from scratchnet.data import FILE_NAMES, load_dataset, locate_or_download, resolve_data_dir
from scratchnet.errors import DataError
from scratchnet.idx import read_idx, write_idx

from .conftest import write_dataset


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path, dtype, suffix):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    path = tmp_path / f"a-idx3-ubyte{suffix}"
    write_idx(path, array)
    loaded = read_idx(path)
    assert loaded.dtype == np.dtype(dtype) and np.array_equal(loaded, array)


def header(type_code=0x08, dims=(2, 2)):
    return struct.pack(f">HBB{len(dims)}I", 0, type_code, len(dims), *dims)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "truncated IDX header"),
        (b"\x00\x00", "truncated IDX header"),
        (b"\x12\x34\x08\x01" + b"\x00" * 8, "not an IDX file"),
        (header(type_code=0x42), "not an IDX file"),
        (b"\x00\x00\x08\x00", "0 dimensions"),
        (b"\x00\x00\x08\x09", "9 dimensions"),
        (b"\x00\x00\x08\x02\x00\x00", "dimension sizes missing"),
        (header(dims=(2, 2)) + b"\x01\x02\x03", "truncated or corrupt"),
        (header(dims=(2, 2)) + b"\x01" * 5, "truncated or corrupt"),
        (header(dims=(60000, 60000, 60000)), "more than the"),
    ],
)
def test_corrupt_raw_files(tmp_path, content, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_idx(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (header(dims=(2, 2)) + b"\x01\x02\x03", "truncated: 3 of 4"),
        (header(dims=(2, 2)) + b"\x01" * 5, "extra bytes"),
        (header(dims=(5000, 5000, 60)), "more than the"),
        (header(dims=(100000, 100, 100)), "truncated: 0 of"),
    ],
)
def test_corrupt_gzip_files(tmp_path, content, message):
    path = tmp_path / "bad-idx.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(DataError, match=message):
        read_idx(path)


def test_broken_gzip_stream(tmp_path):
    good = gzip.compress(header() + b"\x01\x02\x03\x04")
    path = tmp_path / "broken.gz"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError):
        read_idx(path)
    path.write_bytes(good[:10] + b"\xff" * 20 + good[30:])
    with pytest.raises(DataError):
        read_idx(path)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path / "nope")


def test_load_dataset_from_any_idx_folder(tmp_path):
    folder = write_dataset(tmp_path / "letters", num_classes=3, shape=(9, 7), gz=False)
    (folder / "classes.txt").write_text("alpha\nbeta\ngamma\n")
    dataset = load_dataset(folder)
    assert dataset.name == "letters" and dataset.class_names == ["alpha", "beta", "gamma"]
    assert dataset.image_shape == (9, 7) and dataset.num_classes == 3
    assert dataset.train_images.shape == (600, 9, 7) and dataset.test_labels.shape == (200,)


def test_load_dataset_defaults_class_names_to_numbers(fake_dataset):
    assert fake_dataset.class_names == ["0", "1", "2", "3"]


def test_mismatched_counts_are_explained(tmp_path):
    folder = write_dataset(tmp_path / "d")
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="test set has 200 images but 5 labels"):
        load_dataset(folder)


def test_mismatched_image_shapes_are_explained(tmp_path):
    folder = write_dataset(tmp_path / "d")
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((200, 5, 5), np.uint8))
    with pytest.raises(DataError, match="test images are"):
        load_dataset(folder)


def test_labels_must_be_one_dimensional(tmp_path):
    folder = write_dataset(tmp_path / "d")
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros((600, 2), np.uint8))
    with pytest.raises(DataError, match="labels must be a 1-d uint8"):
        load_dataset(folder)


def relabel(folder, split: str, index: int, label: int) -> None:
    """Give one image of ``split`` ("train" or "t10k") another label, as a slip in a labelling tool would."""
    path = folder / f"{split}-labels-idx1-ubyte.gz"
    labels = read_idx(path)
    labels[index] = label
    write_idx(path, labels)


def test_one_stray_label_is_refused_naming_the_label_and_the_images_that_carry_it(tmp_path, capsys):
    folder = write_dataset(tmp_path / "d", num_classes=10)
    relabel(folder, "train", 7, 255)
    with pytest.raises(DataError) as refused:
        load_dataset(folder)
    message = str(refused.value)
    assert "the labels make 256 classes, but no training image has labels 10–254 (nor any test image)" in message
    assert "the largest label, 255, is on 1 training image and 0 test images" in message
    assert "name every class in classes.txt" in message
    assert cli_main(["train", "--data-dir", str(folder), "--epochs", "1"]) == 2
    assert capsys.readouterr().err.startswith(f"scratchnet: error: {folder}: the labels make 256 classes")


def test_a_test_label_no_training_image_has_is_refused_with_its_count(tmp_path):
    folder = write_dataset(tmp_path / "d", num_classes=4)
    relabel(folder, "t10k", 0, 4)
    relabel(folder, "t10k", 1, 4)
    with pytest.raises(DataError, match=r"the labels make 5 classes, but no training image has label 4 \(2 test images do\)\."):
        load_dataset(folder)


def test_classes_declared_in_classes_txt_may_have_no_training_image(tmp_path):
    folder = write_dataset(tmp_path / "d", num_classes=4)
    relabel(folder, "t10k", 0, 5)
    (folder / "classes.txt").write_text("\n".join(["a", "b", "c", "d", "e", "f", "g"]), encoding="utf-8")
    dataset = load_dataset(folder)
    assert dataset.num_classes == 7 and dataset.class_names[5] == "f"


def test_resolution_order(tmp_path, monkeypatch):
    explicit = write_dataset(tmp_path / "explicit", n_train=10, n_test=10)
    from_env = write_dataset(tmp_path / "env", n_train=10, n_test=10)
    cache = write_dataset(tmp_path / "cache", n_train=10, n_test=10)
    monkeypatch.setattr(data_module, "cache_dir", lambda: cache)
    monkeypatch.setattr(data_module, "MNIST_SHA256", {f"{n}.gz": data_module.sha256_of(cache / f"{n}.gz") for n in FILE_NAMES})
    monkeypatch.setenv("SCRATCHNET_DATA_DIR", str(from_env))
    assert resolve_data_dir(explicit) == explicit
    assert resolve_data_dir(None) == from_env
    monkeypatch.delenv("SCRATCHNET_DATA_DIR")
    assert resolve_data_dir(None) == cache
    # A corrupt file in the cache means "download again", not "use it".
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    assert resolve_data_dir(None) is None


def test_explicit_folder_without_data_is_an_error_naming_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("SCRATCHNET_DATA_DIR", raising=False)
    with pytest.raises(DataError) as info:
        resolve_data_dir(tmp_path)
    assert all(name in str(info.value) for name in FILE_NAMES) and "--data-dir" in str(info.value)


def test_offline_without_download_names_the_files_and_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SCRATCHNET_DATA_DIR", raising=False)
    monkeypatch.setattr(data_module, "cache_dir", lambda: tmp_path / "cache")
    with pytest.raises(DataError) as info:
        locate_or_download(None, download=False)
    assert str(tmp_path / "cache") in str(info.value) and "train-images-idx3-ubyte.gz" in str(info.value)


@pytest.mark.mnist
def test_real_mnist_loads_and_verifies(mnist):
    assert mnist.name == "MNIST" and mnist.class_names == [str(d) for d in range(10)]
    assert mnist.train_images.shape == (60000, 28, 28) and mnist.test_images.shape == (10000, 28, 28)
    assert np.bincount(mnist.test_labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert mnist.train_images.mean() == pytest.approx(33.3184, abs=1e-3)
