"""Memory estimates and the refusal of runs that cannot fit."""

import sys

import pytest

from scratchnet import memory
from scratchnet.config import TrainConfig
from scratchnet.errors import ConfigError
from scratchnet.memory import check_fits, estimate_training_bytes, format_bytes


def test_estimate_counts_dataset_weights_and_activations():
    config = TrainConfig(hidden=[128, 128], batch_size=128, validation_size=5000)
    estimate = estimate_training_bytes(config, 60000, 784, 10)
    dataset = 60000 * 784 * 4  # the validation images become floats too
    weights = (784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10) * 4
    assert dataset + 5 * weights < estimate < dataset + 5 * weights + 10 * 2**20
    assert estimate_training_bytes(config.replace(dtype="float64"), 60000, 784, 10) == pytest.approx(2 * estimate, rel=0.01)
    full_batch = estimate_training_bytes(config.replace(batch_size=None), 60000, 784, 10)
    assert full_batch > estimate + 55000 * 256 * 4


def test_available_memory_is_known_here():
    assert memory.available_bytes() > 0


def test_runs_that_do_not_fit_are_refused(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 100 * 2**20)
    check_fits(50 * 2**20)
    with pytest.raises(ConfigError, match="needs about 200.0 MB of memory, more than 85 % of the 100.0 MB available now"):
        check_fits(200 * 2**20)


def test_a_run_needing_nearly_all_the_free_memory_is_refused_too(monkeypatch):
    available = int(22.7 * 2**30)
    monkeypatch.setattr(memory, "available_bytes", lambda: available)
    check_fits(int(0.85 * available))
    with pytest.raises(ConfigError, match="needs about 22.5 GB of memory, more than 85 % of the 22.7 GB available now"):
        check_fits(int(22.5 * 2**30))


def test_unknown_free_memory_lets_a_run_start():
    assert memory.fits_in_memory(10**15, None)


def test_cli_refuses_before_training(fake_data_dir, monkeypatch, capsys):
    from scratchnet.cli import main

    monkeypatch.setattr(memory, "available_bytes", lambda: 1000)
    assert main(["train", "--data-dir", str(fake_data_dir), "--validation-size", "100"]) == 2
    err = capsys.readouterr().err
    assert "of memory, more than 85 % of the 1000 B available now" in err and "epoch" not in err


def test_the_app_asks_before_a_run_needing_nearly_all_the_free_memory(qtbot, fake_data_dir, tmp_path, monkeypatch):
    from scratchnet_gui import main_window, session
    from tests.test_gui_app import make_window

    window = make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)
    window.settings_panel.field("validation_size").setValue(100)
    asked = []
    monkeypatch.setattr(session, "estimate_training_bytes", lambda *args: 900 * 2**20)
    monkeypatch.setattr(session, "available_bytes", lambda: 1000 * 2**20)
    monkeypatch.setattr(
        main_window.QMessageBox, "warning", lambda *args: asked.append(args[2]) or main_window.QMessageBox.StandardButton.Cancel
    )
    window.start_action.trigger()
    assert window.session.state == "idle"
    assert "needs about 900.0 MB of memory, more than 85 % of the 1000.0 MB available now" in asked[0]


@pytest.mark.parametrize("count, text", [(512, "512 B"), (1536, "1.5 KB"), (3 * 2**20, "3.0 MB"), (5 * 2**30, "5.0 GB")])
def test_format_bytes(count, text):
    assert format_bytes(count) == text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_memory_freed_in_the_middle_of_the_heap_goes_back_to_the_system():
    import ctypes

    import psutil

    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
    process = psutil.Process()
    blocks = [libc.malloc(4096) for _ in range(50_000)]  # 200 MB of small blocks, as many small objects make
    for block in blocks:
        ctypes.memset(block, 1, 4096)
    pin = libc.malloc(4096)  # above them: the heap cannot simply shrink from its top
    for block in blocks:
        libc.free(block)
    held = process.memory_info().rss
    memory.return_freed_memory()
    assert process.memory_info().rss < held - 100 * 2**20
    libc.free(pin)
