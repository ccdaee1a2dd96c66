"""Panels work for the models a run sends after every epoch only while they are on screen: a hidden tab's panel
catches up when its tab is chosen. And the Training tab's plots redraw an epoch in small steps."""

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication

from scratchnet.model import Model
from scratchnet.trainer import EpochEvent
from scratchnet_gui import network_view
from scratchnet_gui.curves_panel import CurvesPanel
from scratchnet_gui.handwriting_panel import ExamplesModel
from scratchnet_gui.network_view import REDRAW_MS, weight_histogram

from .quick_models import quick_model
from .test_gui_app import make_window


@pytest.fixture
def window(qtbot, fake_data_dir, tmp_path):
    window = make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)
    qtbot.waitExposed(window)
    return window


def epoch_snapshots(model: Model, count: int) -> list[Model]:
    """Models like the ones a run sends after each epoch: the same network with other weights."""
    return [
        dataclasses.replace(
            model, params=[{name: (1 + k / 10) * array for name, array in layer.items()} for layer in model.params], epochs_trained=k
        )
        for k in range(1, count + 1)
    ]


def count_calls(monkeypatch, owner, name: str) -> list:
    """Replace ``owner.name`` by a wrapper that records its calls' arguments in the list returned."""
    calls, original = [], getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def histogram_shows(view: network_view.NetworkView, layer: int, weights: np.ndarray) -> bool:
    """Whether the view's histogram of ``layer`` is drawn, and of these weights."""
    return len(view._curves) > layer and np.array_equal(view._curves[layer].getData()[1], weight_histogram(weights)[1])


def test_hidden_panels_wait_for_their_tab_and_then_show_the_latest_model(qtbot, monkeypatch, window, fake_dataset):
    trained = quick_model(fake_dataset, train_images=600, hidden=(32,), epochs=1)
    window.pad.load_image(fake_dataset.test_images[0])  # something for the pad to predict
    qtbot.waitUntil(lambda: window.pad.probabilities is not None)
    window.show_tab("Training")
    histograms = count_calls(monkeypatch, network_view, "weight_histogram")
    predictions = count_calls(monkeypatch, Model, "predict_proba")
    gallery_refreshes = count_calls(monkeypatch, ExamplesModel, "set_examples")

    snapshots = epoch_snapshots(trained, 3)
    for snapshot in snapshots:  # three epochs of a run, watched on the Training tab
        window.session.set_model(snapshot)
    qtbot.wait(2 * REDRAW_MS)  # longer than any panel's throttle: whatever was scheduled has run
    assert (histograms, predictions, gallery_refreshes) == ([], [], [])

    latest = snapshots[-1]
    window.show_tab("Inside the network")
    qtbot.waitUntil(lambda: len(histograms) == len(latest.params))  # one redraw, of every layer, for the latest model
    assert histogram_shows(window.network, 0, latest.params[0]["W"])

    window.show_tab("Drawing pad")
    qtbot.waitUntil(lambda: len(predictions) > 0)
    expected = latest.predict_proba(window.pad.network_input.reshape(1, -1))[0]
    np.testing.assert_allclose(window.pad.probabilities, expected, rtol=1e-6)

    window.show_tab("My handwriting")
    assert len(gallery_refreshes) == 1

    window.show_tab("Test images")
    qtbot.waitUntil(lambda: window.browser.model is latest)


def test_a_panel_on_screen_follows_every_model(qtbot, window, fake_dataset):
    trained = quick_model(fake_dataset, train_images=600, hidden=(32,), epochs=1)
    window.show_tab("Inside the network")
    for snapshot in epoch_snapshots(trained, 2):
        window.session.set_model(snapshot)
        qtbot.waitUntil(lambda snapshot=snapshot: histogram_shows(window.network, 1, snapshot.params[1]["W"]))


def test_a_tab_switch_without_a_new_model_redraws_nothing(qtbot, monkeypatch, window):
    monkeypatch.setattr(network_view, "REDRAW_MS", 0)  # unthrottled: a redraw asked for runs at the next timer event
    histograms = count_calls(monkeypatch, network_view, "weight_histogram")
    window.show_tab("Inside the network")
    qtbot.waitUntil(lambda: len(histograms) > 0)  # it catches up with the model it has not shown
    drawn = len(histograms)
    window.show_tab("Training")
    window.show_tab("Inside the network")
    QCoreApplication.processEvents()  # the timer events that are due
    assert len(histograms) == drawn


def epoch(number: int, accuracy: float) -> EpochEvent:
    return EpochEvent(number, 8, 0.3 / number, accuracy, 0.25 / number, accuracy + 0.005, 1.0, 0.004)


@pytest.fixture
def curves(qtbot):
    curves = CurvesPanel()
    qtbot.addWidget(curves)
    curves.begin_run("run", 0, 8)
    curves.set_running(True)
    curves._timer.stop()  # frames are drawn by hand here
    return curves


def test_the_accuracy_axis_moves_only_when_a_score_falls_below_its_floor(curves):
    curves.set_running(False)
    low, high = curves.accuracy_plot.viewRange()[1]
    assert low == 0 and 100 <= high <= 101  # no score yet: the whole scale, 0 to 100 %
    curves.set_running(True)
    curves.add_epoch(epoch(1, 0.93))
    curves.set_running(False)  # draws everything
    low, high = curves.accuracy_plot.viewRange()[1]
    assert 89 <= low < 90 and 100 <= high <= 101  # from the floor below 93 % to 100 %
    for number, accuracy in ((2, 0.95), (3, 0.97)):
        curves.add_epoch(epoch(number, accuracy))
        curves.repaint_curves()
        curves.repaint_curves()
        assert curves.accuracy_plot.viewRange()[1] == [low, high]
    curves.set_test_accuracy(0.85, 3)
    assert curves.accuracy_plot.viewRange()[1][0] < 80  # the test star must show too


def test_a_frame_redraws_one_plot_of_epoch_curves_while_a_run_is_under_way(curves):
    curves.add_epoch(epoch(1, 0.93))
    curves.repaint_curves()
    assert len(curves.train_loss_item.getData()[0]) == 1
    assert curves.train_acc_item.getData()[0] is None or len(curves.train_acc_item.getData()[0]) == 0
    curves.repaint_curves()
    assert len(curves.train_acc_item.getData()[0]) == 1
