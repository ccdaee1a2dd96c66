"""The app's state driven without a window: data, runs and their state machine, live settings, model files."""

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from scratchnet.config import TrainConfig
from scratchnet.controls import LiveSettings
from scratchnet.trainer import TrainingData
from scratchnet_gui import session as session_module
from scratchnet_gui.session import NetworkInput, RunState, Session

RUN_TIMEOUT = 20_000  # ms; runs here take well under a second
CONFIG = TrainConfig(hidden=[32], epochs=2, batch_size=50, validation_size=100, optimizer="sgd", lr=0.05)
LONG = CONFIG.replace(epochs=100_000, batch_size=16)


class Batches:
    """The batches a session reports: how many, and the last one."""

    def __init__(self, session: Session):
        self.count, self.last = 0, None
        session.batches.connect(self._add)

    def _add(self, chunk) -> None:
        self.count += len(chunk.loss)
        self.last = chunk.last


def run_to_the_end(qtbot, session: Session, config: TrainConfig = CONFIG):
    with qtbot.waitSignal(session.run_finished, timeout=RUN_TIMEOUT) as finished:
        assert session.start(config)
    return finished.args[0]


def start_long_run(qtbot, session: Session, config: TrainConfig = LONG) -> Batches:
    batches = Batches(session)
    assert session.start(config)
    qtbot.waitUntil(lambda: batches.count > 10, timeout=RUN_TIMEOUT)
    return batches


def stop(qtbot, session: Session):
    with qtbot.waitSignal(session.run_finished, timeout=RUN_TIMEOUT) as finished:
        session.stop()
    return finished.args[0]


def test_loading_data_gives_the_dataset_and_fresh_weights_are_drawn_from_the_settings(session):
    assert session.dataset.image_shape == (12, 12) and session.model is None and session.state == RunState.IDLE
    session.reset_weights(CONFIG)
    assert session.model.layer_sizes == [144, 32, 4] and session.model.epochs_trained == 0


def test_a_run_goes_from_idle_to_running_to_finished(qtbot, session):
    states, started = [], []
    session.state_changed.connect(states.append)
    session.run_started.connect(lambda *args: started.append(args))
    outcome = run_to_the_end(qtbot, session)
    assert states == [RunState.RUNNING, RunState.FINISHED]
    assert outcome.status == "completed" and session.model is outcome.model
    assert session.model.epochs_trained == 2 and 0 <= session.model.metrics["test_accuracy"] <= 1
    assert started == [(CONFIG.describe(), 0, 2)] and len(outcome.history) == 2
    assert outcome.test_accuracy == session.model.metrics["test_accuracy"]
    assert session.progress().last_batch.progress == 2 and not session.progress().active


def test_pause_holds_the_batches_and_resume_lets_them_go_on(qtbot, session, trainer_pauses):
    batches = start_long_run(qtbot, session)
    session.pause()
    assert session.state == RunState.PAUSED
    qtbot.waitUntil(trainer_pauses.waiting.is_set, timeout=RUN_TIMEOUT)  # the batch in flight finishes...
    QCoreApplication.processEvents()  # ...and its report, sent before the trainer paused, arrives
    paused_at = batches.count
    assert paused_at == batches.last.step == trainer_pauses.boundaries - 1  # every batch trained so far was reported
    QCoreApplication.processEvents()
    assert batches.count == paused_at and trainer_pauses.waiting.is_set()
    session.resume()
    assert session.state == RunState.RUNNING
    qtbot.waitUntil(lambda: batches.count > paused_at + 10, timeout=RUN_TIMEOUT)
    outcome = stop(qtbot, session)
    assert outcome.status == "stopped" and session.state == RunState.STOPPED
    assert session.model.epochs_trained == outcome.weights_epoch > 0  # a fraction of an epoch, as far as it got


def test_step_trains_one_epoch_then_pauses(qtbot, session):
    epochs = []
    session.epoch_done.connect(lambda event: epochs.append(event.epoch))
    session.step(CONFIG.replace(epochs=50))
    qtbot.waitUntil(lambda: session.state == RunState.PAUSED, timeout=RUN_TIMEOUT)
    assert epochs == [1] and session.model.epochs_trained == 1
    session.step()
    qtbot.waitUntil(lambda: epochs == [1, 2] and session.state == RunState.PAUSED, timeout=RUN_TIMEOUT)
    stop(qtbot, session)


def test_a_live_learning_rate_reaches_the_training_loop(qtbot, session):
    """With a constant schedule, the learning rate a batch reports is the one the loop gave the optimiser."""
    batches = start_long_run(qtbot, session)
    assert batches.last.lr == pytest.approx(0.05)
    session.set_live_settings(dataclasses.replace(LiveSettings.of(LONG), lr=0.0123))
    qtbot.waitUntil(lambda: batches.last.lr == pytest.approx(0.0123), timeout=RUN_TIMEOUT)
    stop(qtbot, session)


def test_a_diverging_run_ends_diverged_back_on_the_weights_it_started_from(qtbot, session):
    diverging = CONFIG.replace(lr=10.0, grad_clip=0.0, init="randn", hidden=[512, 512, 512], epochs=20)  # unclipped
    session.reset_weights(diverging)  # what the run draws too: untrained weights come from the settings
    start = session.model
    outcome = run_to_the_end(qtbot, session, diverging)
    assert outcome.status == "diverged" and session.state == RunState.DIVERGED
    assert outcome.test_accuracy is None  # the score of weights the run never changed is not the run's
    assert session.model.epochs_trained == 0
    for restored, initial in zip(session.model.params, start.params):
        np.testing.assert_array_equal(restored["W"], initial["W"])


def test_a_failing_worker_ends_the_run_failed_and_the_next_one_trains(qtbot, session, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(TrainingData, "from_dataset", broken)
    with qtbot.waitSignal(session.run_failed, timeout=RUN_TIMEOUT) as failed:
        session.start(CONFIG)
    assert failed.args == ["RuntimeError: disk on fire"] and session.state == RunState.FAILED
    monkeypatch.undo()
    assert run_to_the_end(qtbot, session).status == "completed"


def test_a_continued_run_counts_every_epoch_behind_the_weights(qtbot, session):
    starts = []
    session.run_started.connect(lambda label, from_epoch, epochs: starts.append((label, from_epoch)))
    run_to_the_end(qtbot, session)
    run_to_the_end(qtbot, session)
    assert session.model.epochs_trained == 4
    assert starts == [(CONFIG.describe(), 0), (CONFIG.describe() + " (from epoch 2)", 2)]
    assert session.model_to_continue(CONFIG.replace(hidden=[16])) is None  # another architecture starts afresh


def test_save_then_open_gives_the_same_model_and_a_bad_file_changes_nothing(qtbot, session, tmp_path):
    run_to_the_end(qtbot, session)
    trained = session.model
    session.save_model(tmp_path / "net.safetensors")
    session.reset_weights(CONFIG)
    assert session.model.epochs_trained == 0
    opened = session.open_model(tmp_path / "net.safetensors")
    assert session.model is opened and opened.epochs_trained == 2 and session.state == RunState.IDLE
    np.testing.assert_array_equal(opened.params[0]["W"], trained.params[0]["W"])
    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    with qtbot.waitSignal(session.notice) as notice:
        assert session.open_model(tmp_path / "junk.safetensors") is None
    assert notice.args[1] == "error" and "Could not open the model" in notice.args[0]
    assert session.model is opened


def test_one_open_model_for_a_recorded_run_a_file_and_a_model_in_hand(qtbot, session):
    tanh = CONFIG.replace(activation="tanh")
    run_id = run_to_the_end(qtbot, session, tanh).run_id
    session.reset_weights(CONFIG)
    with qtbot.waitSignal(session.settings_proposed) as proposed:
        opened = session.open_model(run_id)  # the Runs tab's Open model
    assert opened.activation == "tanh" and session.model is opened and session.state == RunState.IDLE
    assert proposed.args[0] == tanh and session.progress() is None  # its settings, and no figures of an earlier run
    assert session.model_to_continue(tanh) is opened  # Start continues from its weights
    with qtbot.waitSignal(session.notice) as notice:
        assert session.open_model(run_id + 99) is None
    assert notice.args == [f"Could not open the model. run {run_id + 99} is not in the run store", "error"]
    with qtbot.assertNotEmitted(session.settings_proposed):
        assert session.open_model(opened, propose_settings=False) is opened  # Teach's Keep: the learner's settings stay

    start_long_run(qtbot, session)
    with qtbot.waitSignal(session.notice) as notice:
        assert session.open_model(run_id) is None  # not while a run is under way
    assert "Stop the run in progress first" in notice.args[0] and session.state.active
    session.stop()
    qtbot.waitUntil(lambda: not session.state.active, timeout=RUN_TIMEOUT)


def test_without_a_question_to_ask_a_run_that_may_not_fit_in_memory_is_refused(qtbot, session, monkeypatch):
    notices = []
    session.notice.connect(lambda text, level: notices.append((level, text)))
    monkeypatch.setattr(session_module, "available_bytes", lambda: 1000)
    assert not session.start(CONFIG)
    assert session.state == RunState.IDLE and notices[0][0] == "error" and "needs about" in notices[0][1]


def test_an_input_of_another_datasets_size_leaves_with_that_dataset(qtbot, session, tmp_path):
    """Found by the randomised GUI run: a 12×12 test image on the pad, then an 8×8 dataset, crashed the network
    view (the old input reached the new model)."""
    from scratchnet_gui.draw_pad import DrawPad

    from .conftest import write_dataset

    pad = DrawPad()
    qtbot.addWidget(pad)
    pad.follow(session)
    pad.show()
    session.open_test_image(3)
    qtbot.waitUntil(lambda: session.input is not None and session.input.image is None)  # the pad read it
    assert session.input.pixels.shape == session.dataset.image_shape == (12, 12)
    with qtbot.waitSignal(session.dataset_changed, timeout=10_000):
        session.load_data(write_dataset(tmp_path / "small", shape=(8, 8)))
    assert session.input is None and pad.canvas.image is None
    session.set_input(NetworkInput(np.zeros((12, 12)), "a drawing over the other dataset's image"))
    assert session.input is None  # an input this dataset's models cannot read is not the current input


def test_a_run_that_ended_gives_the_memory_it_freed_back(qtbot, session, monkeypatch):
    returned = []
    monkeypatch.setattr(session_module, "return_freed_memory", lambda: returned.append(session.state))
    run_to_the_end(qtbot, session)
    qtbot.waitUntil(lambda: returned == [RunState.FINISHED])
