"""The session computes the test-set answers off the window's thread, and shows only the latest."""

import dataclasses
import threading

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from scratchnet.data import load_dataset
from scratchnet.predictions import Predictions
from scratchnet_gui.main_window import MainWindow
from scratchnet_gui.predictor import TestSetPredictions

from .conftest import write_dataset
from .quick_models import quick_model

HOLD_SECONDS = 10  # a held prediction gives up waiting after this long, so that a broken browser fails, not hangs
PANEL = "a panel that shows the answers"  # what watches them, as the browser does while on screen


class HeldPredictions:
    """Replaces ``Predictions.on_test_set``: records the thread each prediction runs on and holds those of the
    models in ``held`` until ``release`` is set."""

    def __init__(self, monkeypatch):
        self.threads: list[threading.Thread] = []
        self.held: list = []
        self.started = threading.Event()  # a held prediction is under way
        self.release = threading.Event()
        compute = Predictions.on_test_set

        def on_test_set(model, dataset):
            self.threads.append(threading.current_thread())
            if any(model is held for held in self.held):
                self.started.set()
                self.release.wait(HOLD_SECONDS)
            return compute(model, dataset)

        monkeypatch.setattr(Predictions, "on_test_set", staticmethod(on_test_set))


@pytest.fixture
def predictions(monkeypatch) -> HeldPredictions:
    return HeldPredictions(monkeypatch)


@pytest.fixture
def dataset(fake_data_dir):
    return load_dataset(fake_data_dir)


@pytest.fixture
def answers(qtbot, dataset):
    """The answers on ``dataset``, watched (as when the Test images tab is on screen)."""
    answers = TestSetPredictions()
    answers.set_dataset(dataset)
    answers.set_watched(PANEL, True)
    shown = []
    answers.changed.connect(lambda: shown.append((answers.predictions, answers.weights)))
    answers.shown = shown  # every (predictions, weights) given from here on
    yield answers
    answers.shutdown()


def trained(dataset, epochs: int):
    """A small model; ``epochs`` tells models apart in the captions (``weights after N epochs``)."""
    return dataclasses.replace(quick_model(dataset, train_images=200, hidden=(8,), epochs=1), epochs_trained=epochs)


def test_predictions_are_computed_off_the_window_thread_and_then_shown(qtbot, answers, dataset, predictions):
    model = trained(dataset, 1)
    with qtbot.waitSignal(answers.changed, timeout=5000):
        answers.set_model(model)
    assert predictions.threads and threading.main_thread() not in predictions.threads
    expected = model.predict_images(dataset.test_images).argmax(axis=1)
    np.testing.assert_array_equal(answers.predictions.predicted, expected)
    assert answers.model is model and answers.weights == "weights after 1 epoch"


def test_answers_are_computed_only_while_watched(qtbot, answers, dataset, predictions):
    answers.set_watched(PANEL, False)
    model = trained(dataset, 1)
    answers.set_model(model)
    assert not answers.busy and answers.predictions is None  # nobody looks: nothing is computed
    with qtbot.waitSignal(answers.changed, timeout=5000):
        answers.set_watched(PANEL, True)  # a panel that shows them appears: they are brought up to date
    assert answers.model is model and predictions.threads


def test_a_newer_models_predictions_win_over_an_older_ones(qtbot, answers, dataset, predictions):
    older, newer = trained(dataset, 1), trained(dataset, 2)
    predictions.held.append(older)
    answers.set_model(older)
    qtbot.waitUntil(predictions.started.is_set, timeout=5000)
    answers.set_model(newer)  # a newer model arrives while the older one's predictions are computed
    answers.refresh()
    predictions.release.set()
    qtbot.waitUntil(lambda: bool(answers.shown), timeout=5000)
    assert [weights for _, weights in answers.shown] == ["weights after 2 epochs"]  # the older answer was dropped
    np.testing.assert_array_equal(answers.predictions.predicted, newer.predict_images(dataset.test_images).argmax(axis=1))
    qtbot.waitUntil(lambda: not answers.busy, timeout=5000)
    assert len(answers.shown) == 1


def test_switching_the_dataset_drops_the_predictions_about_the_previous_one(qtbot, answers, dataset, predictions, tmp_path):
    model = trained(dataset, 1)
    other = load_dataset(write_dataset(tmp_path / "other", n_test=150, seed=1))  # same images and classes, other test set
    predictions.held.append(model)
    answers.set_model(model)
    qtbot.waitUntil(predictions.started.is_set, timeout=5000)
    answers.set_dataset(other)  # while the first dataset's predictions are computed
    predictions.release.set()
    qtbot.waitUntil(lambda: answers.predictions is not None, timeout=5000)
    qtbot.waitUntil(lambda: not answers.busy, timeout=5000)
    shown = [len(p.labels) for p, _ in answers.shown if p is not None]
    assert shown == [150]


def test_closing_the_window_while_a_prediction_runs_neither_crashes_nor_hangs(qtbot, fake_data_dir, tmp_path, predictions, monkeypatch):
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.session.dataset_changed, timeout=10_000):
        window.load_data(str(fake_data_dir))
    model = trained(window.session.dataset, 3)
    predictions.held.append(model)
    window.show_tab("Test images")
    window.session.set_model(model)
    qtbot.waitUntil(predictions.started.is_set, timeout=5000)
    shown = []
    window.session.test_predictions.changed.connect(lambda: shown.append(window.session.test_predictions.weights))
    shutdown = window.session.test_predictions.shutdown

    def shutdown_as_the_prediction_ends():  # the prediction ends while the window closes
        threading.Thread(target=predictions.release.set).start()
        shutdown()

    monkeypatch.setattr(window.session.test_predictions, "shutdown", shutdown_as_the_prediction_ends)
    window.close()
    assert not window.isVisible()
    qtbot.waitUntil(lambda: not window.session.test_predictions.busy, timeout=5000)
    assert shown == []  # the answer that arrived after closing was dropped


def test_in_the_window_the_answers_are_computed_only_while_the_browser_or_the_matrix_is_shown(qtbot, fake_data_dir, tmp_path, predictions):
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.session.dataset_changed, timeout=10_000):
        window.load_data(str(fake_data_dir))
    answers = window.session.test_predictions
    window.show_tab("Training")
    window.session.set_model(trained(window.session.dataset, 1))
    assert not answers.busy and answers.predictions is None  # nobody looks
    for tab, epochs in (("Confusion matrix", 2), ("Test images", 3)):
        window.show_tab(tab)
        model = trained(window.session.dataset, epochs)
        window.session.set_model(model)
        qtbot.waitUntil(lambda model=model: answers.model is model, timeout=5000)
        assert window.browser.model is model and window.confusion.weights == f"weights after {epochs} epochs"
    window.show_tab("Drawing pad")
    window.session.set_model(trained(window.session.dataset, 4))
    assert not answers.busy
