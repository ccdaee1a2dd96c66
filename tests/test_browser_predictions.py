"""The test-set browser computes its 10 000 predictions off the window's thread and shows only the latest."""

import dataclasses
import threading

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from scratchnet.data import load_dataset
from scratchnet.predictions import Predictions
from scratchnet_gui.main_window import MainWindow
from scratchnet_gui.test_browser import ImageBrowser

from .conftest import write_dataset
from .quick_models import quick_model

HOLD_SECONDS = 10  # a held prediction gives up waiting after this long, so that a broken browser fails, not hangs


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
def browser(qtbot, dataset):
    browser = ImageBrowser()
    qtbot.addWidget(browser)
    browser.show()
    browser.set_dataset(dataset)
    shown = []
    browser.predictions_changed.connect(lambda p, weights: shown.append((p, weights)))
    browser.shown = shown  # every (predictions, weights) the browser showed from here on
    return browser


def trained(dataset, epochs: int):
    """A small model; ``epochs`` tells models apart in the captions (``weights after N epochs``)."""
    return dataclasses.replace(quick_model(dataset, train_images=200, hidden=(8,), epochs=1), epochs_trained=epochs)


def test_predictions_are_computed_off_the_window_thread_and_then_shown(qtbot, browser, dataset, predictions):
    model = trained(dataset, 1)
    with qtbot.waitSignal(browser.predictions_changed, timeout=5000):
        browser.set_model(model)
    assert predictions.threads and threading.main_thread() not in predictions.threads
    expected = model.predict_images(dataset.test_images).argmax(axis=1)
    np.testing.assert_array_equal(browser.predictions.predicted, expected)
    mistakes = int((expected != dataset.test_labels).sum())
    assert f"{mistakes} misclassified" in browser.count_label.text() and "weights after 1 epoch" in browser.count_label.text()
    browser.mistakes_box.setChecked(True)
    assert len(browser.rows) == mistakes


def test_a_newer_models_predictions_win_over_an_older_ones(qtbot, browser, dataset, predictions):
    older, newer = trained(dataset, 1), trained(dataset, 2)
    predictions.held.append(older)
    browser.model = older
    browser.refresh_predictions()
    qtbot.waitUntil(predictions.started.is_set, timeout=5000)
    browser.model = newer  # a newer model arrives while the older one's predictions are computed
    browser.refresh_predictions()
    predictions.release.set()
    qtbot.waitUntil(lambda: bool(browser.shown), timeout=5000)
    assert [weights for _, weights in browser.shown] == ["weights after 2 epochs"]  # the older answer was dropped
    np.testing.assert_array_equal(browser.predictions.predicted, newer.predict_images(dataset.test_images).argmax(axis=1))
    qtbot.waitUntil(lambda: not browser.predictor.busy, timeout=5000)
    assert len(browser.shown) == 1


def test_switching_the_dataset_drops_the_predictions_about_the_previous_one(qtbot, browser, dataset, predictions, tmp_path):
    model = trained(dataset, 1)
    other = load_dataset(write_dataset(tmp_path / "other", n_test=150, seed=1))  # same images and classes, other test set
    predictions.held.append(model)
    browser.set_model(model)
    qtbot.waitUntil(predictions.started.is_set, timeout=5000)
    browser.set_dataset(other)  # while the first dataset's predictions are computed
    predictions.release.set()
    qtbot.waitUntil(lambda: browser.predictions is not None, timeout=5000)
    qtbot.waitUntil(lambda: not browser.predictor.busy, timeout=5000)
    shown = [len(p.labels) for p, _ in browser.shown if p is not None]
    assert shown == [150]
    assert browser.count_label.text().startswith("150 of 150 shown")


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
    window.browser.predictions_changed.connect(lambda p, weights: shown.append(weights))
    shutdown = window.browser.predictor.shutdown

    def shutdown_as_the_prediction_ends():  # the prediction ends while the window closes
        threading.Thread(target=predictions.release.set).start()
        shutdown()

    monkeypatch.setattr(window.browser.predictor, "shutdown", shutdown_as_the_prediction_ends)
    window.close()
    assert not window.isVisible()
    qtbot.waitUntil(lambda: not window.browser.predictor.busy, timeout=5000)
    assert shown == []  # the answer that arrived after closing was dropped
