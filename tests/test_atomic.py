"""Atomic writes: a failure at any point of a write leaves the previous file intact and no temporary file behind.

Faults are injected into each step of ``atomic_write_with`` (the write itself, flush, fsync, the rename)
and into its two users in the core, ``save_model`` and ``write_idx``; a killed process is simulated too.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import scratchnet.atomic as atomic
import scratchnet.data
from scratchnet.atomic import atomic_write, atomic_write_with, remove_stale_temp_files
from scratchnet.idx import read_idx, write_idx
from scratchnet.model import Model, save_model
from scratchnet.model_file import load_model
from scratchnet.nn.network import init_params
from tests.guards import deadline

OLD, NEW = b"previous contents\n" * 100, b"new contents\n" * 1000


def failing(what: str):
    """A stand-in for an os function that fails like a broken disk."""

    def fail(*args, **kwargs):
        raise OSError(errno.EIO, f"injected {what} failure")

    return fail


def listing(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "curves.csv"
    path.write_bytes(OLD)
    return path


def test_replaces_the_file_without_litter(target):
    atomic_write(target, NEW)
    assert target.read_bytes() == NEW and listing(target.parent) == ["curves.csv"]


def test_creates_missing_folders(tmp_path):
    atomic_write(tmp_path / "a" / "b" / "f.bin", NEW)
    assert (tmp_path / "a" / "b" / "f.bin").read_bytes() == NEW


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, "No space left on device"), ValueError("bad value while exporting"), KeyboardInterrupt()],
    ids=["disk-full", "exception", "keyboard-interrupt"],
)
def test_failure_half_way_through_the_write(target, error):
    def write(f):
        f.write(NEW[: len(NEW) // 2])
        f.flush()
        assert len(listing(target.parent)) == 2  # the half-written temp file really exists at this point
        raise error

    with pytest.raises(type(error)):
        atomic_write_with(target, write)
    assert target.read_bytes() == OLD
    assert listing(target.parent) == ["curves.csv"]


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_failure_in_fsync_or_rename(target, monkeypatch, step):
    monkeypatch.setattr(atomic.os, step, failing(step))
    with pytest.raises(OSError, match=f"injected {step} failure"):
        atomic_write(target, NEW)
    monkeypatch.undo()
    assert target.read_bytes() == OLD
    assert listing(target.parent) == ["curves.csv"]


def test_failure_when_there_was_no_previous_file(tmp_path):
    def write(f):
        f.write(b"half")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        atomic_write_with(tmp_path / "new.bin", write)
    assert listing(tmp_path) == []


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a POSIX user who cannot write into a read-only folder")
def test_read_only_folder_fails_cleanly(tmp_path, target):
    target.parent.chmod(0o555)
    try:
        with pytest.raises(PermissionError):
            atomic_write(target, NEW)
    finally:
        target.parent.chmod(0o755)
    assert target.read_bytes() == OLD and listing(target.parent) == ["curves.csv"]


def test_readers_never_see_a_partial_file(target):
    """One thread rewrites the file 200 times while another keeps reading it: every read is a whole version."""
    versions = [bytes([65 + i % 26]) * (50_000 + i) for i in range(200)]
    stop, seen = threading.Event(), set()

    def read_loop():
        while not stop.is_set():
            seen.add(target.read_bytes())

    reader = threading.Thread(target=read_loop)
    reader.start()
    try:
        with deadline(60):
            for version in versions:
                atomic_write(target, version)
    finally:
        stop.set()
        reader.join(10)
    assert not reader.is_alive()
    assert seen <= {OLD, *versions} and len(seen) > 1
    assert listing(target.parent) == ["curves.csv"]


def test_a_killed_process_leaves_the_previous_file_intact(target):
    """A hard kill (no cleanup runs) in the middle of a write: the target still holds the old bytes. Only the
    hidden temp file remains; it never has the target's name."""
    code = (
        "import os, sys\n"
        "from scratchnet.atomic import atomic_write_with\n"
        "def write(f):\n"
        "    f.write(b'partial'); f.flush(); os._exit(9)\n"
        "atomic_write_with(sys.argv[1], write)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(target)], cwd=os.path.dirname(os.path.dirname(__file__)), timeout=60)
    assert result.returncode == 9
    assert target.read_bytes() == OLD
    leftovers = [name for name in listing(target.parent) if name != "curves.csv"]
    assert all(name.startswith(".curves.csv.") and name.endswith(".tmp") for name in leftovers)


# ---- the core's users of atomic writes --------------------------------------------------------------


def small_model(seed: int) -> Model:
    return Model(init_params([4, 3, 2], "xavier", np.random.default_rng(seed), np.float32), "relu", ["a", "b"], (2, 2))


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_save_model_failure_keeps_the_previous_model(tmp_path, monkeypatch, step):
    path = tmp_path / "net.safetensors"
    save_model(small_model(0), path)
    before = path.read_bytes()
    monkeypatch.setattr(atomic.os, step, failing(step))
    with pytest.raises(OSError):
        save_model(small_model(1), path)
    monkeypatch.undo()
    assert path.read_bytes() == before and listing(tmp_path) == ["net.safetensors"]
    np.testing.assert_array_equal(load_model(path).params[0]["W"], small_model(0).params[0]["W"])


@pytest.mark.parametrize("name", ["labels-idx1-ubyte", "labels-idx1-ubyte.gz"])
def test_write_idx_failure_keeps_the_previous_file(tmp_path, monkeypatch, name):
    path = tmp_path / name
    write_idx(path, np.arange(10, dtype=np.uint8))
    monkeypatch.setattr(atomic.os, "replace", failing("replace"))
    with pytest.raises(OSError):
        write_idx(path, np.arange(20, dtype=np.uint8))
    monkeypatch.undo()
    np.testing.assert_array_equal(read_idx(path), np.arange(10, dtype=np.uint8))
    assert listing(tmp_path) == [name]


def test_written_files_get_ordinary_permissions(tmp_path):
    """New files get what a plain open() gives them (the umask applies), replaced files keep their mode."""
    import os
    import stat

    from scratchnet import atomic

    (tmp_path / "plain.bin").write_bytes(b"x")
    atomic.atomic_write(tmp_path / "new.bin", b"x")
    assert stat.S_IMODE((tmp_path / "new.bin").stat().st_mode) == stat.S_IMODE((tmp_path / "plain.bin").stat().st_mode)
    (tmp_path / "kept.bin").write_bytes(b"old")
    os.chmod(tmp_path / "kept.bin", 0o640)
    atomic.atomic_write(tmp_path / "kept.bin", b"new")
    assert stat.S_IMODE((tmp_path / "kept.bin").stat().st_mode) == 0o640


# ---- leftovers of killed writers ----------------------------------------------------------------------

# A writer in another process: it starts writing ``sys.argv[1]`` atomically, says "writing" once its first
# megabyte is in the temp file, then writes on until its stdin closes (never, if it is killed first).
SLOW_WRITER = (
    "import sys\n"
    "from scratchnet.atomic import atomic_write_with\n"
    "def write(f):\n"
    "    f.write(b'x' * 2**20); f.flush(); print('writing', flush=True)\n"
    "    sys.stdin.read(); f.write(b'done')\n"
    "atomic_write_with(sys.argv[1], write)\n"
)


def start_slow_writer(target) -> subprocess.Popen:
    """A writer busy on ``target``: returns once its temp file exists beside it."""
    writer = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITER, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=os.path.dirname(os.path.dirname(__file__)),
    )
    with deadline(60):
        assert writer.stdout.readline() == b"writing\n"
    return writer


def temp_files(folder) -> list[str]:
    return [name for name in listing(folder) if name.endswith(".tmp")]


def dead_pid() -> int:
    """The process id of a process that has exited."""
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True, timeout=60)
    return int(process.stdout)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_a_save_killed_with_sigkill_leaves_a_temp_file_that_the_next_save_removes(target):
    writer = start_slow_writer(target)
    writer.kill()
    writer.wait(60)
    assert writer.returncode == -signal.SIGKILL
    [leftover] = temp_files(target.parent)
    assert leftover.startswith(f".curves.csv.{writer.pid}.")
    atomic_write(target, NEW)
    assert listing(target.parent) == ["curves.csv"] and target.read_bytes() == NEW


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_a_save_killed_with_sigkill_is_cleaned_up_at_the_next_start(data_home, tmp_path, monkeypatch):
    monkeypatch.setattr(scratchnet.data, "cache_dir", lambda: tmp_path / "cache")
    target = data_home / "runs" / "run-1" / "model.safetensors"
    target.parent.mkdir(parents=True)
    writer = start_slow_writer(target)
    writer.kill()
    writer.wait(60)
    assert len(temp_files(target.parent)) == 1
    scratchnet.data.remove_leftovers()
    assert listing(target.parent) == []


def test_a_live_writers_temp_file_is_never_removed(target, data_home):
    """Another process still writing: neither a save to the same target nor a clean-up touches its temp file."""
    writer = start_slow_writer(target)
    try:
        [in_progress] = temp_files(target.parent)
        atomic_write(target, NEW)
        assert remove_stale_temp_files(target.parent) == []
        assert temp_files(target.parent) == [in_progress]
    finally:
        writer.communicate(b"", timeout=60)
    assert writer.returncode == 0
    assert listing(target.parent) == ["curves.csv"] and target.read_bytes().endswith(b"done")


def test_only_our_own_stale_temp_files_are_removed(tmp_path):
    day = 24 * 3600
    ours_dead_writer = f".model.safetensors.{dead_pid()}.0123456789ab.tmp"
    ours_old_style = ".model.safetensors.0123456789ab.tmp"  # no process id: judged by age
    ours_old_style_recent = ".curves.csv.ba9876543210.tmp"
    ours_live_writer = f".curves.csv.{os.getpid()}.0123456789ab.tmp"
    users = ["tmp_notes.txt", ".model.safetensors.backup", ".model.safetensors.tmp", ".notes.0123456789ab.tmp.txt", "tmpabcdefgh"]
    sub = tmp_path / "runs"
    sub.mkdir()
    for name in [ours_dead_writer, ours_old_style, ours_old_style_recent, ours_live_writer, *users]:
        for folder in (tmp_path, sub):
            (folder / name).write_bytes(b"?")
            os.utime(folder / name, (time.time() - 2 * day, time.time() - 2 * day))
    os.utime(tmp_path / ours_old_style_recent)
    os.utime(sub / ours_old_style_recent)
    removed = remove_stale_temp_files(tmp_path)
    assert sorted(path.name for path in removed) == sorted(2 * [ours_dead_writer, ours_old_style])
    kept = sorted([ours_old_style_recent, ours_live_writer, *users])
    assert listing(tmp_path) == sorted([*kept, "runs"]) and listing(sub) == kept
