"""The app under stress and abuse: hundreds of start/stop cycles, pause hammering, failing and diverging runs.

Driven through the real actions and keys (pytest-qt, offscreen, the small fake dataset). The stress test is
marked slow; ``.ci/run`` runs it, ``-m 'not slow'`` skips it. Run it with ``-s`` to see its figures.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, Qt, QThread
from PySide6.QtWidgets import QAbstractSpinBox

from scratchnet import runs as run_store
from scratchnet.config import TrainConfig
from scratchnet.trainer import Trainer, TrainingData
from scratchnet_gui import worker
from scratchnet_gui.worker import TrainingWorker
from tests.test_gui_app import RUN_TIMEOUT, batches, configure, make_window, start_long_run, type_into, wait_idle

CYCLES = 200
WARM_UP = 10  # cycles before the first memory reading: caches, lazily built widgets, the allocator's pools
MAX_RSS_GROWTH = 50 * 2**20


@pytest.fixture
def window(qtbot, fake_data_dir, tmp_path):
    window = make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)
    configure(window, validation_size=100)  # the fake set has only 600 training images
    return window


def rss_bytes() -> int:
    """The resident set size of this process now (Linux: /proc/self/statm counts pages)."""
    statm = Path("/proc/self/statm")
    if not statm.exists():
        pytest.skip("needs /proc/self/statm (Linux) to read the resident memory")
    return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def settle(qtbot) -> None:
    """Let queued signals arrive and ``deleteLater`` take effect, then collect Python's garbage."""
    QCoreApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


def running_threads(window) -> list[QThread]:
    return [thread for thread in window.findChildren(QThread) if thread.isRunning()]


def python_threads() -> set[threading.Thread]:
    """The threads Python started that still run: not the dummy records it keeps, for good, of the Qt threads that
    called into it (a worker's thread gets one when threadpoolctl asks for the current thread)."""
    return {thread for thread in threading.enumerate() if not isinstance(thread, threading._DummyThread)}


def live_workers() -> int:
    return sum(isinstance(obj, TrainingWorker) for obj in gc.get_objects())


def one_cycle(window, qtbot, i: int, threads: list[QThread]) -> None:
    """Start, do one of four kinds of abuse, stop, wait until idle."""
    window.start_action.trigger()
    assert window.session.state == "running", f"cycle {i}: Start did not start a run"
    threads += running_threads(window)
    kind = i % 4
    if kind == 0:
        pass  # stop at once: usually before the trainer exists
    elif kind == 1:
        qtbot.waitUntil(lambda: batches(window) > 0, timeout=RUN_TIMEOUT)
    elif kind == 2:  # hammer the pause action, between and during batches
        for toggle in range(9):
            window.pause_action.trigger()
            if toggle % 3 == 0:
                qtbot.wait(1)
        assert window.session.state == "paused"
    else:  # the same with Space, ending paused: Stop must also end a paused run
        for _ in range(7):
            qtbot.keyClick(window.tabs, Qt.Key.Key_Space)
        assert window.session.state == "paused"
    window.stop_action.trigger()
    wait_idle(window, qtbot)


@pytest.mark.slow
def test_hundreds_of_start_stop_cycles_with_pause_hammering_leak_nothing(window, qtbot, capfd, record_property):
    configure(window, epochs=100_000, batch_size=16, schedule="constant")
    window.activateWindow()
    window.tabs.setFocus()
    statuses, failures = [], []
    window.session.run_finished.connect(lambda outcome: statuses.append(outcome.status))  # not the outcome: it holds a model
    threads: list[QThread] = []
    for i in range(WARM_UP):
        one_cycle(window, qtbot, i, threads)
    settle(qtbot)
    threads_before = len(window.findChildren(QThread))
    python_threads_before = threading.active_count()
    rss_before = rss_bytes()
    start = time.perf_counter()

    for i in range(CYCLES):
        one_cycle(window, qtbot, i, threads)
        if window.notice.isVisible() and window.notice.level == "error":
            failures.append(window.notice.text.text())
    seconds = time.perf_counter() - start
    settle(qtbot)
    rss_after = rss_bytes()
    threads_after = len(window.findChildren(QThread))
    python_threads_after = threading.active_count()

    figures = {
        "cycles": CYCLES,
        "warm_up_cycles": WARM_UP,
        "seconds": round(seconds, 1),
        "rss_before_mb": round(rss_before / 2**20, 1),
        "rss_after_mb": round(rss_after / 2**20, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 2**20, 1),
        "qthreads_before": threads_before,
        "qthreads_after": threads_after,
        "python_threads_before": python_threads_before,
        "python_threads_after": python_threads_after,
        "worker_threads_started": len(threads),
        "overlays_kept": len(window.curves.overlay_labels),  # earlier runs stay on the plots, by design
    }
    for name, value in figures.items():
        record_property(name, value)
    with capfd.disabled():
        print("\nGUI stress:", ", ".join(f"{name} {value}" for name, value in figures.items()))

    assert failures == []
    assert len(statuses) == WARM_UP + CYCLES and set(statuses) == {"stopped"}
    assert len(threads) == WARM_UP + CYCLES  # one worker thread per run...
    assert all(not shiboken6.isValid(t) or t.isFinished() for t in threads)  # ...each one finished (or deleted)
    assert running_threads(window) == []
    assert threads_after <= threads_before and python_threads_after <= python_threads_before
    assert live_workers() == 0
    assert rss_after - rss_before < MAX_RSS_GROWTH
    assert "QThread" not in capfd.readouterr().err


def test_a_finished_run_frees_its_trainer_without_waiting_for_the_garbage_collector(window, qtbot):
    """The trainer holds a float copy of the training set; it must go when the run ends, not at some later gc."""
    configure(window, epochs=1, batch_size=50)
    gc.collect()
    gc.disable()
    try:
        window.start_action.trigger()
        wait_idle(window, qtbot)
        QCoreApplication.processEvents()  # the reports the worker sent before it finished
        alive = [obj for obj in gc.get_objects() if isinstance(obj, (Trainer, TrainingData, TrainingWorker))]
    finally:
        gc.enable()
    assert alive == []


def test_closing_while_paused_exits_within_a_second(window, qtbot, capfd, monkeypatch, trainer_pauses):
    """A paused worker sleeps until told to go on: closing must wake it and end it at once, without another batch
    or scoring the test set (the running case is in test_gui_app)."""
    scored = []
    score = run_store.score_on_test_set  # where the app's runs are scored (scratchnet.runs.train_and_record)
    monkeypatch.setattr(run_store, "score_on_test_set", lambda *args: scored.append(args) or score(*args))
    threads_before = python_threads()
    start_long_run(window, qtbot)
    window.pause_action.trigger()
    qtbot.waitUntil(trainer_pauses.waiting.is_set, timeout=RUN_TIMEOUT)  # the worker reaches its pause and sleeps
    threads = running_threads(window)
    assert window.session.state == "paused" and threads
    boundaries = trainer_pauses.boundaries
    window.close()
    assert all(thread.isFinished() for thread in threads)
    assert trainer_pauses.boundaries == boundaries and trainer_pauses.held == [True] and scored == []
    QCoreApplication.processEvents()  # late reports from the worker must be ignored quietly
    assert python_threads() <= threads_before
    assert "QThread" not in capfd.readouterr().err


# Text a user might type into each numeric setting that the core would refuse (the learning rate's "0", "-1" and
# "abc" are in test_gui_app). Every numeric control must appear here, so a new one cannot skip the check.
INVALID_ENTRIES = {
    "lr": ["1e6", "11"],
    "momentum": ["1", "-0.5", "abc"],
    "beta1": ["1", "-0.1", "x"],
    "beta2": ["1", "-1"],
    "weight_decay": ["-0.001", "2", "abc"],
    "grad_clip": ["-1", "abc"],
    "warmup_epochs": ["-1", "abc"],
    "step_epochs": ["0", "-2", "abc"],
    "step_gamma": ["0", "1.5", "-0.5"],
    "batch_size": ["-16", "abc"],
    "epochs": ["0", "-5", "abc"],
    "dropout": ["1", "-0.2", "abc"],
    "augment_shift": ["9", "-1"],
    "augment_rotate": ["91", "-5", "abc"],
    "augment_thickness": ["4", "-1"],
    "augment_noise": ["1.5", "-0.1", "abc"],
    "early_stopping": ["-1", "abc"],
    "validation_size": ["-100", "abc"],
    "seed": ["-1", str(2**63), "abc"],  # 2⁶³: one past the largest seed the core takes
}
SHOWS_ROW = {"momentum": {"optimizer": "momentum"}, "beta1": {"optimizer": "adam"}, "beta2": {"optimizer": "adam"}}
SHOWS_ROW |= {name: {"schedule": "step"} for name in ("step_epochs", "step_gamma")}


def as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def assert_refused(qtbot, window, spin, text: str, check) -> None:
    """Type ``text`` and press Enter: the control must end on a value the core accepts, never on the typed one."""
    type_into(qtbot, spin, text)
    value = spin.value()
    assert value != as_number(text), f"{spin.objectName() or 'width'} took {text!r}"
    check(value)  # raises ConfigError if the core would refuse it
    assert window.settings_panel.valid and window.start_action.isEnabled()


def test_every_numeric_setting_is_listed_for_the_invalid_entry_check(window):
    numeric = {name for name, widget in window.settings_panel._fields.items() if isinstance(widget, QAbstractSpinBox)}
    assert numeric == set(INVALID_ENTRIES)


@pytest.mark.parametrize("name", sorted(INVALID_ENTRIES))
def test_numeric_settings_refuse_impossible_values_at_entry(window, qtbot, name):
    configure(window, **SHOWS_ROW.get(name, {}))
    spin = window.settings_panel.field(name)
    assert spin.isVisibleTo(window.settings_panel)

    def check(value):
        values = {**TrainConfig().to_dict(), name: value}
        values["batch_size"] = values["batch_size"] or None
        TrainConfig.from_dict(values)

    for text in INVALID_ENTRIES[name]:
        assert_refused(qtbot, window, spin, text, check)


def test_layer_widths_refuse_zero_negative_and_non_numbers(window, qtbot):
    window.settings_panel.layers.add_button.click()
    for spin in window.settings_panel.layers.spin_boxes():
        for text in ("0", "-3", "abc", "-0"):
            assert_refused(qtbot, window, spin, text, lambda width: TrainConfig(hidden=[width]))
    assert all(width >= 1 for width in window.settings_panel.layers.widths())


def test_an_error_in_the_middle_of_a_run_is_shown_and_the_next_run_trains(window, qtbot, monkeypatch):
    """The worker fails after some batches were drawn (test_gui_app covers a failure before the first batch)."""
    real_run = worker.Trainer.run

    def run_then_fail(trainer):
        draw = trainer.on_batch

        def on_batch(event):
            draw(event)
            if event.batch == 5:
                raise RuntimeError("the disk on fire")

        trainer.on_batch = on_batch
        return real_run(trainer)

    monkeypatch.setattr(worker.Trainer, "run", run_then_fail)
    configure(window, epochs=3, batch_size=50)
    window.start_action.trigger()
    wait_idle(window, qtbot)
    assert window.notice.isVisible() and window.notice.level == "error"
    assert window.notice.text.text() == "<b>Training failed.</b> RuntimeError: the disk on fire"
    assert batches(window) == 5 and running_threads(window) == []

    monkeypatch.setattr(worker.Trainer, "run", real_run)
    with qtbot.waitSignal(window.session.run_finished, timeout=RUN_TIMEOUT) as finished:
        window.start_action.trigger()
    assert finished.args[0].status == "completed" and not window.notice.isVisible()
    assert window.session.model.epochs_trained == 3 and np.isfinite(window.curves.current.train_loss.y).all()


def all_finite(model) -> bool:
    return all(np.isfinite(array).all() for layer in model.params for array in layer.values())


def test_the_largest_learning_rate_diverges_in_the_first_epoch_and_the_weights_roll_back(window, qtbot):
    """The field stops at lr 10 (see INVALID_ENTRIES): enough to blow up a randn-initialised wide network at once.

    The network is trained one calm epoch first, so rolling back means returning to exactly those weights."""
    configure(window, optimizer="sgd", lr=0.01, grad_clip=0, init="randn", epochs=1, batch_size=50, schedule="constant")
    window.settings_panel.layers.set_widths([512, 512, 512])
    window.start_action.trigger()
    wait_idle(window, qtbot)
    calm = window.session.model
    assert all_finite(calm)

    configure(window, lr=10.0, epochs=20)
    with qtbot.waitSignal(window.session.run_finished, timeout=RUN_TIMEOUT) as finished:
        window.start_action.trigger()
    outcome = finished.args[0]
    assert outcome.status == "diverged" and outcome.history == []  # caught within the first epoch
    assert "epoch 1" in outcome.message
    model = window.session.model
    assert all_finite(model)
    assert all(np.array_equal(a[k], b[k]) for a, b in zip(model.params, calm.params) for k in ("W", "b"))
    assert window.notice.level == "warning" and "lower the learning rate" in window.notice.text.text()
    assert window.start_action.isEnabled()
