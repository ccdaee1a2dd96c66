"""Hostile data sources: mirrors that never stop, lie about sizes, inflate or drip; folders with too many classes;
a decoded cache that was tampered with. Downloads use the loopback server of test_download, never the internet."""

from __future__ import annotations

import gzip
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import numpy as np
import pytest

import scratchnet.data as data
from scratchnet import decoded
from scratchnet.cli import main as cli_main
from scratchnet.config import TrainConfig
from scratchnet.data import FILE_NAMES, download_mnist, load_dataset
from scratchnet.errors import DataError, DownloadError
from scratchnet.idx import read_idx, write_idx
from scratchnet.memory import estimate_training_bytes
from tests.conftest import write_dataset
from tests.guards import deadline
from tests.test_download import GZ_NAMES, MirrorServer, cache_contents, fake_files, loopback_only  # noqa: F401 (fixtures)

RELEASE_LIMIT = 30.0  # a hostile handler gives up after this long even if teardown never comes


class HostileHandler(BaseHTTPRequestHandler):
    """Serves ``/<behaviour>/<name>``: "good" sends the file; the others attack the client."""

    timeout = 5
    server: MirrorServer

    def do_GET(self):
        self.server.requests.append(self.path)
        _, behaviour, name = self.path.split("/", 2)
        body = self.server.files[name]
        self.send_response(200)
        try:
            getattr(self, behaviour.replace("-", "_"))(body)
        except OSError:  # the client hung up: that is the point
            pass

    def good(self, body: bytes) -> None:
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def endless(self, body: bytes) -> None:
        """No Content-Length, and bytes until the client hangs up."""
        self.end_headers()
        block = bytes(1 << 16)
        deadline_at = time.monotonic() + RELEASE_LIMIT
        while not self.server.release.is_set() and time.monotonic() < deadline_at:
            self.wfile.write(block)

    def terabyte(self, body: bytes) -> None:
        """Announces 1 TiB, then sends the real file's first bytes and waits."""
        self.send_header("Content-Length", str(1 << 40))
        self.end_headers()
        self.wfile.write(body[:100])
        self.wfile.flush()
        self.server.release.wait(RELEASE_LIMIT)

    def gzip_bomb(self, body: bytes) -> None:
        """20 KB on the wire that a client decoding Content-Encoding inflates to 16 MB."""
        bomb = gzip.compress(bytes(16 << 20))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(bomb)))
        self.end_headers()
        self.wfile.write(bomb)

    def drip(self, body: bytes) -> None:
        """The real file, 20 bytes a second: alive, so no read ever times out, but it would take hours."""
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:
            if self.server.release.wait(0.05):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def hostile(fake_files, monkeypatch):  # noqa: F811 (the fixture imported above)
    """A loopback server of hostile mirrors; ``hostile.url(behaviour)`` is one of them. The expected sizes are the
    fake files' own, as MNIST_SIZES holds the real ones."""
    monkeypatch.setattr(data, "MNIST_SIZES", {name: len(body) for name, body in fake_files.items()}, raising=False)
    server = MirrorServer(fake_files)
    server.RequestHandlerClass = HostileHandler
    server.url = lambda behaviour: f"http://127.0.0.1:{server.server_address[1]}/{behaviour}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def download_through(hostile, behaviour: str, cache, **options) -> tuple[str, list[int]]:
    """Download from the hostile mirror alone; return the error message and every byte count progress reported."""
    counts = []
    with deadline(20), pytest.raises(DownloadError) as refused:
        download_mnist(cache, progress=lambda done, total, name: counts.append(done), mirrors=(hostile.url(behaviour),), timeout=5)
    assert cache_contents(cache) == []  # nothing kept, not even the folder
    return str(refused.value), counts


def test_an_endless_stream_stops_at_the_files_size(hostile, tmp_path):
    message, counts = download_through(hostile, "endless", tmp_path / "cache")
    limit = data.MNIST_SIZES[GZ_NAMES[0]]
    assert f"sent more than the {limit:,} bytes this file has" in message
    assert max(counts, default=0) <= limit


def test_a_terabyte_content_length_is_refused_before_any_byte_is_kept(hostile, tmp_path):
    message, counts = download_through(hostile, "terabyte", tmp_path / "cache")
    assert f"announces {1 << 40:,} bytes, more than the {data.MNIST_SIZES[GZ_NAMES[0]]:,} this file has" in message
    assert not any(counts)


def test_a_content_encoding_bomb_is_refused_and_never_inflated(hostile, tmp_path):
    message, counts = download_through(hostile, "gzip-bomb", tmp_path / "cache")
    assert "sent the file gzip-encoded" in message
    assert max(counts, default=0) <= data.MNIST_SIZES[GZ_NAMES[0]]


def test_a_dripping_mirror_meets_its_deadline_then_the_next_one_serves(hostile, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MIRROR_DEADLINE_BASE", 1.0, raising=False)
    cache = tmp_path / "cache"
    with deadline(20):
        download_mnist(cache, mirrors=(hostile.url("drip"), hostile.url("good")), timeout=5)
    assert cache_contents(cache) == sorted(GZ_NAMES)
    assert hostile.requests[:2] == [f"/drip/{GZ_NAMES[0]}", f"/good/{GZ_NAMES[0]}"]


def test_a_dripping_mirror_is_reported_as_too_slow(hostile, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MIRROR_DEADLINE_BASE", 1.0, raising=False)
    message, _ = download_through(hostile, "drip", tmp_path / "cache")
    assert "too slow: " in message and "within the 1 s this file is given" in message


def test_the_memory_estimate_counts_the_confusion_matrix_of_many_classes():
    estimate = estimate_training_bytes(TrainConfig(hidden=[16]), 60000, 784, 1_000_000)
    assert estimate > 1_000_000**2 * 8  # the classes × classes int64 matrix alone is 7.28 TiB


def write_class_names(folder, names: list[str]):
    (folder / "classes.txt").write_text("\n".join(names) + "\n", encoding="utf-8")


CLASS_LIMIT = 1000  # as the README states


@pytest.mark.parametrize("count", [CLASS_LIMIT + 1, 20_000, 1_000_000])
def test_more_classes_than_the_limit_are_refused_saying_the_limit(fake_data_dir, count):
    write_class_names(fake_data_dir, [f"c{i}" for i in range(count)])
    with deadline(10), pytest.raises(DataError, match=f"ScratchNet takes at most {CLASS_LIMIT:,} classes"):
        load_dataset(fake_data_dir)


def test_the_limit_itself_is_accepted(fake_data_dir):
    write_class_names(fake_data_dir, [f"c{i}" for i in range(CLASS_LIMIT)])
    assert load_dataset(fake_data_dir).num_classes == CLASS_LIMIT


def test_long_and_unprintable_class_names_are_cut_where_they_are_read(fake_data_dir):
    write_class_names(fake_data_dir, ["x" * 100_000, "bell\x07 and \x1b[31mred", "c", "d"])
    long_name, control, *_ = load_dataset(fake_data_dir).class_names
    assert len(long_name) == data.MAX_CLASS_NAME_LENGTH and long_name.endswith("…")
    assert control == "bell\ufffd and \ufffd[31mred"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_classes_txt_fifo_or_device_is_refused_quickly(fake_data_dir):
    os.mkfifo(fake_data_dir / "classes.txt")
    with deadline(10), pytest.raises(DataError, match="classes.txt: this is a pipe"):
        load_dataset(fake_data_dir)
    (fake_data_dir / "classes.txt").unlink()
    (fake_data_dir / "classes.txt").symlink_to("/dev/zero")
    with deadline(10), pytest.raises(DataError, match="classes.txt: this is a device"):
        load_dataset(fake_data_dir)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_an_idx_fifo_is_refused_quickly(tmp_path):
    os.mkfifo(tmp_path / "train-images-idx3-ubyte")
    with deadline(10), pytest.raises(DataError, match="this is a pipe"):
        read_idx(tmp_path / "train-images-idx3-ubyte")


KAGGLE_NAMES = ["train-images.idx3-ubyte", "train-labels.idx1-ubyte", "t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"]


def test_kaggle_style_file_names_are_recognised(tmp_path):
    folder = write_dataset(tmp_path / "kaggle", gz=False)
    for standard, kaggle in zip(FILE_NAMES, KAGGLE_NAMES):
        (folder / standard).rename(folder / kaggle)
    assert load_dataset(folder).train_images.shape == (600, 12, 12)


def test_the_missing_files_message_names_the_other_spellings(tmp_path):
    with pytest.raises(DataError) as refused:
        load_dataset(tmp_path)
    assert "uncompressed" in str(refused.value) and "train-images.idx3-ubyte" in str(refused.value)


def test_data_never_downloads_into_a_named_empty_folder(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert cli_main(["data", "--data-dir", str(empty)]) == 2
    error = capsys.readouterr().err
    assert f"--data-dir points to {empty}, which lacks train-images-idx3-ubyte.gz" in error
    assert "could not download" not in error and list(empty.iterdir()) == []


def test_evaluate_takes_a_run_id(fake_data_dir, capsys):
    args = ["--data-dir", str(fake_data_dir)]
    assert cli_main(["train", *args, "--epochs", "1", "--validation-size", "100", "--json"]) == 0
    run_id = json.loads(capsys.readouterr().out.splitlines()[-1])["run_id"]
    assert cli_main(["evaluate", str(run_id), *args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert report["count"] == 200 and report["model"] == f"run {run_id}"


def test_evaluate_explains_a_run_id_without_weights_or_run(fake_data_dir, capsys):
    assert cli_main(["evaluate", "77", "--data-dir", str(fake_data_dir)]) == 2
    assert "77 is neither a model file nor a recorded run" in capsys.readouterr().err


# ---- the decoded copy in the cache -------------------------------------------------------------------------------


def decoded_entry(folder) -> Path:
    """The cache folder of ``folder``'s decoded copy."""
    return decoded.entry_for({name: data.sha256_of(folder / f"{name}.gz") for name in FILE_NAMES})


def sources_unread(monkeypatch):
    """Make reading any source file fail the test, so that a load can only come from the decoded copy."""

    def refuse(path, *args, **kwargs):
        raise AssertionError(f"read the source {path}")

    monkeypatch.setattr(data, "read_idx", refuse)


def assert_same_dataset(loaded, expected):
    for field in ("train_images", "train_labels", "test_images", "test_labels"):
        assert np.array_equal(getattr(loaded, field), getattr(expected, field)), field
    assert loaded.class_names == expected.class_names and loaded.folder == expected.folder


def test_the_second_load_reads_the_decoded_copy(fake_data_dir, data_home, monkeypatch):
    first = load_dataset(fake_data_dir)
    entry = decoded_entry(fake_data_dir)
    assert sorted(path.name for path in entry.iterdir()) == sorted(FILE_NAMES)
    assert entry.is_relative_to(data_home / "cache")
    sources_unread(monkeypatch)
    assert_same_dataset(load_dataset(fake_data_dir), first)


def test_a_changed_source_is_never_served_stale(fake_data_dir):
    load_dataset(fake_data_dir)
    labels_file = fake_data_dir / "t10k-labels-idx1-ubyte.gz"
    before = labels_file.stat()
    labels = read_idx(labels_file)
    for first in range(1, len(labels)):  # swap two different labels, until the compressed file keeps its size
        changed = labels.copy()
        changed[[0, first]] = changed[[first, 0]]
        write_idx(labels_file, changed)
        if labels[first] != labels[0] and labels_file.stat().st_size == before.st_size:
            break
    os.utime(labels_file, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same date and time
    assert labels_file.stat().st_size == before.st_size and not np.array_equal(changed, labels)
    assert np.array_equal(load_dataset(fake_data_dir).test_labels, changed)


def test_raw_sources_get_no_decoded_copy(tmp_path, data_home):
    load_dataset(write_dataset(tmp_path / "raw", gz=False))
    assert not (data_home / "cache").exists()


def spoil_truncated(path):
    path.write_bytes(path.read_bytes()[:-1])


def spoil_wrong_size(path):
    write_idx(path, np.zeros((3, 12, 12), np.uint8))  # a valid IDX file, but not of its source's shape


def spoil_fifo(path):
    path.unlink()
    os.mkfifo(path)


def spoil_symlink(path):
    other = path.with_name("elsewhere")
    other.write_bytes(path.read_bytes())
    path.unlink()
    path.symlink_to(other)


def spoil_folder(path):
    path.unlink()
    path.mkdir()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs and symbolic links as on POSIX")
@pytest.mark.parametrize("spoil", [spoil_truncated, spoil_wrong_size, spoil_fifo, spoil_symlink, spoil_folder])
def test_a_hostile_decoded_copy_falls_back_to_the_sources(fake_data_dir, spoil):
    expected = load_dataset(fake_data_dir)
    spoiled = decoded_entry(fake_data_dir) / "train-images-idx3-ubyte"
    spoil(spoiled)
    with deadline(10):
        assert_same_dataset(load_dataset(fake_data_dir), expected)
    if spoil is not spoil_folder:  # written again, a plain file; a folder in its way stays, and costs only speed
        assert spoiled.is_file() and not spoiled.is_symlink() and np.array_equal(read_idx(spoiled), expected.train_images)


def test_the_decoded_copy_is_never_written_into_a_source_folder(fake_data_dir, data_home):
    data_home.mkdir(parents=True, exist_ok=True)
    (data_home / "cache").symlink_to(fake_data_dir, target_is_directory=True)  # the cache leads into the source folder
    before = sorted(path.name for path in fake_data_dir.iterdir())
    load_dataset(fake_data_dir)
    assert sorted(path.name for path in fake_data_dir.iterdir()) == before


def test_only_the_last_few_decoded_copies_are_kept(tmp_path, data_home):
    folders = [write_dataset(tmp_path / f"d{seed}", n_train=40, n_test=20, seed=seed) for seed in range(decoded.KEPT_ENTRIES + 2)]
    for folder in folders:
        load_dataset(folder)
    kept = sorted(path.name for path in decoded.decoded_cache_dir().iterdir())
    assert kept == sorted(decoded_entry(folder).name for folder in folders[-decoded.KEPT_ENTRIES :])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
@pytest.mark.parametrize("kind", ["pipe", "device"])
def test_a_dataset_file_that_is_a_fifo_or_device_is_refused_quickly_by_what_it_is(fake_data_dir, kind):
    special = fake_data_dir / "train-images-idx3-ubyte.gz"
    special.unlink()
    os.mkfifo(special) if kind == "pipe" else special.symlink_to("/dev/zero")
    with deadline(10), pytest.raises(DataError, match=f"train-images-idx3-ubyte.gz: this is a {kind}"):
        load_dataset(fake_data_dir)
