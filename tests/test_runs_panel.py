"""The app's runs in the run store, and the Runs panel over it (pytest-qt, offscreen, the small fake dataset)."""

import csv
import subprocess
import sys

import pytest
from PySide6.QtCore import QItemSelectionModel, QSettings

from scratchnet.config import TrainConfig
from scratchnet.runs import RunStore
from scratchnet_gui.main_window import MainWindow
from scratchnet_gui.session import Session

RUN_TIMEOUT = 20_000  # ms; runs here take well under a second
CONFIG = TrainConfig(hidden=[32], epochs=2, batch_size=50, validation_size=100, optimizer="sgd", lr=0.05)


@pytest.fixture
def session(qtbot, fake_data_dir):
    session = Session()
    with qtbot.waitSignal(session.dataset_changed, timeout=10_000):
        session.load_data(fake_data_dir)
    yield session
    session.shutdown()


def train(qtbot, session: Session, config: TrainConfig = CONFIG):
    with qtbot.waitSignal(session.run_finished, timeout=RUN_TIMEOUT) as finished:
        assert session.start(config)
    return finished.args[0]


def test_the_app_records_every_run_with_its_epochs_and_weights(qtbot, session, data_home):
    outcome = train(qtbot, session)
    with RunStore(data_home / "runs.sqlite3") as store:
        record = store.run(outcome.run_id)
    assert record.status == "completed"
    assert [epoch.epoch for epoch in record.history] == [1, 2]
    assert record.test_accuracy == pytest.approx(outcome.test_accuracy)
    assert record.model_path.is_file()
    assert len(record.loss_curve) > 0


def test_a_stopped_run_is_recorded_as_stopped(qtbot, session, data_home):
    assert session.start(CONFIG.replace(epochs=100_000, batch_size=16))
    qtbot.waitUntil(lambda: session.progress().last_batch is not None, timeout=RUN_TIMEOUT)
    with qtbot.waitSignal(session.run_finished, timeout=RUN_TIMEOUT) as finished:
        session.stop()
    with RunStore(data_home / "runs.sqlite3") as store:
        assert store.run(finished.args[0].run_id).status == "stopped"


def test_an_unopenable_store_is_a_notice_and_training_goes_on_unrecorded(qtbot, fake_data_dir, data_home):
    data_home.mkdir(parents=True)
    (data_home / "runs.sqlite3").mkdir()  # a folder where the store's file should be
    session = Session()
    with qtbot.waitSignal(session.notice, timeout=5_000) as notice:
        pass
    assert "run store" in notice.args[0] and "not be recorded" in notice.args[0]
    with qtbot.waitSignal(session.dataset_changed, timeout=10_000):
        session.load_data(fake_data_dir)
    assert train(qtbot, session).run_id is None
    session.shutdown()
