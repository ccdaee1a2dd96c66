"""The app against models that compute NaN or infinity: every figure, painter, delegate and histogram copes,
and File ▸ Open refuses what load_model refuses (overflowing weights, pipes) and flags another dataset."""

from __future__ import annotations

import dataclasses
import math
import os
import warnings

import numpy as np
import pytest
from PySide6.QtWidgets import QListView

from scratchnet.data import load_dataset
from scratchnet.model import Model, save_model
from scratchnet.nn.network import init_params
from scratchnet.predictions import Predictions
from scratchnet_gui.image_browser import ImageListModel, ThumbnailDelegate
from scratchnet_gui.messages import epochs_text
from scratchnet_gui.network_view import NetworkView, weight_histogram
from scratchnet_gui.visuals import ActivationsView, ProbabilityBars, figure, percent, saliency_image

from .conftest import write_dataset
from .guards import deadline
from .quick_models import quick_model
from .test_gui_app import make_window

NON_FINITE = [math.nan, math.inf, -math.inf]


def overflowing(model: Model) -> Model:
    """``model`` with every weight times 1e38: finite weights whose sums overflow."""
    return dataclasses.replace(model, params=[{"W": p["W"] * p["W"].dtype.type(1e38), "b": p["b"]} for p in model.params])


@pytest.fixture
def model(fake_dataset) -> Model:
    return quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=1)


@pytest.mark.parametrize("value", NON_FINITE)
def test_figures_show_n_a_for_nan_and_infinity(value):
    assert percent(value) == "n/a" and percent(np.float32(value)) == "n/a"
    assert figure(value) == "n/a" and figure(2.345) == "2.35"
    assert epochs_text(value) == "an unknown number of epochs"
    assert percent(0.9996) == "99.9 %" and epochs_text(3) == "3 epochs"  # finite values as before


def test_the_list_model_answers_strings_for_nan_predictions_and_the_delegate_paints_them(qtbot, fake_dataset):
    probabilities = np.full((len(fake_dataset.test_labels), 4), np.nan, np.float32)
    probabilities[::2] = 0.25
    list_model = ImageListModel()
    list_model.set_images(fake_dataset.test_images, fake_dataset.test_labels, fake_dataset.class_names)
    predictions = Predictions(probabilities, fake_dataset.test_labels, fake_dataset.class_names)
    list_model.set_view(np.arange(len(probabilities)), predictions)
    for row in (0, 1):
        for role in (0, 3):  # DisplayRole, ToolTipRole
            assert isinstance(list_model.data(list_model.index(row), role), str)
    assert "n/a" in list_model.data(list_model.index(1)) and "loss n/a" in list_model.describe(1, long=True)
    view = QListView()
    qtbot.addWidget(view)
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setItemDelegate(ThumbnailDelegate(view))
    view.setModel(list_model)
    view.resize(400, 300)
    view.grab()  # paints the cells: percent(nan) used to raise in data(), and elidedText(None) killed the process


@pytest.mark.parametrize("value", NON_FINITE)
def test_probability_bars_paint_nan_and_infinity(qtbot, value):
    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    bars.resize(300, 200)
    bars.set_probabilities(np.array([value, 0.5, 0.25, 0.25]), ["a", "b", "c", "d"], true_class=0)
    bars.grab()


def test_activation_cells_and_saliency_draw_nan_and_infinity_without_warnings(qtbot):
    view = ActivationsView()
    qtbot.addWidget(view)
    values = np.array([1.0, np.nan, np.inf, -2.0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "invalid value encountered in cast" from the drawing code
        cells = view._cells(values)[0]
        assert (cells[1] == 200).all() and (cells[2] == 200).all()  # no value: grey
        assert not (cells[0] == 200).all() and not (cells[3] == 200).all()
        image = np.full((4, 4), 0.5)
        saliency_image(image, np.array([[np.nan, np.inf, -np.inf, 1.0]] * 4))
        saliency_image(image, np.full((4, 4), np.nan))


@pytest.mark.parametrize(
    "weights",
    [
        np.array([3e38, -3e38, 1e38], np.float32),  # np.histogram alone: "Too many bins for data range"
        np.array([1.7e308, -1.7e308, 0.0]),
        np.array([np.nan, np.inf, 1.0, 2.0]),
        np.zeros(10, np.float32),
        np.array([np.nan, np.inf]),
    ],
)
def test_weight_histograms_cope_with_any_range(weights):
    edges, counts = weight_histogram(weights)
    assert len(edges) == len(counts) + 1 and np.isfinite(edges).all()
    assert counts.sum() == np.isfinite(weights).sum()


def test_the_network_view_draws_an_overflowing_model(qtbot, model):
    view = NetworkView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    huge = overflowing(model)
    huge.params[0]["W"][:2, 0] = [3e38, -3e38]  # a range wider than float32 holds: "Too many bins" for np.histogram
    view.set_model(huge)
    with np.errstate(all="ignore"):
        view.show_input(np.ones(model.image_shape, np.float32))
        view.redraw()
    view.grab()


# ---- File ▸ Open and data changes ----------------------------------------------------------------------------


@pytest.fixture
def window(qtbot, tmp_path, fake_data_dir):
    return make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)


def notice(window) -> tuple[str, str]:
    return (window.notice.level, window.notice.text.text()) if not window.notice.isHidden() else ("", "")


def test_opening_a_model_whose_weights_overflow_shows_an_error_and_changes_nothing(window, model, tmp_path):
    save_model(overflowing(model), tmp_path / "huge.safetensors")
    before = window.session.model
    window.files.open_model_from(tmp_path / "huge.safetensors")
    level, text = notice(window)
    assert level == "error" and text.startswith("Could not open the model. huge.safetensors: the weights overflow: layer")
    assert window.session.model is before
    for title in window.tab_titles():  # the crash came when the Test images tab was shown
        window.show_tab(title)
        window.tabs.current().grab()


def test_opening_a_pipe_shows_an_error_at_once(window, tmp_path):
    os.mkfifo(tmp_path / "x.safetensors")
    with deadline(10, "opening a FIFO in the app"):
        window.files.open_model_from(tmp_path / "x.safetensors")
    assert notice(window) == (
        "error",
        f"Could not open the model. {tmp_path / 'x.safetensors'}: this is a pipe (FIFO), not a model file",
    )


def test_a_model_from_another_dataset_opens_with_a_warning(window, fake_dataset, model, tmp_path):
    other = load_dataset(write_dataset(tmp_path / "other", seed=1))
    save_model(quick_model(other, train_images=600, hidden=(16,), epochs=1), tmp_path / "other.safetensors")
    window.files.open_model_from(tmp_path / "other.safetensors")
    assert notice(window) == (
        "warning",
        "The model learnt from another dataset (other) than this one (fake): their test sets differ. "
        "Its scores on this data may mean little.",
    )
    assert window.session.model.dataset == "other"

    save_model(model, tmp_path / "own.safetensors")
    window.notice.clear()
    window.files.open_model_from(tmp_path / "own.safetensors")
    assert notice(window) == ("", "")


def test_loading_another_dataset_under_a_trained_model_warns(window, qtbot, model, tmp_path):
    save_model(model, tmp_path / "own.safetensors")
    window.files.open_model_from(tmp_path / "own.safetensors")
    with qtbot.waitSignal(window.session.dataset_changed, timeout=10_000):
        window.load_data(str(write_dataset(tmp_path / "other", seed=1)))
    level, text = notice(window)
    assert level == "warning" and text.startswith("The model learnt from another dataset (fake) than this one (other)")
    assert window.session.model.dataset == "fake"  # kept: the user may still evaluate it there


def test_a_data_change_replaces_a_model_that_overflows_on_the_new_images(window, qtbot, model, tmp_path):
    window.session.set_model(overflowing(model))  # e.g. a model that passed the probe images
    with qtbot.waitSignal(window.session.dataset_changed, timeout=10_000):
        window.load_data(str(write_dataset(tmp_path / "other", seed=1)))
    level, text = notice(window)
    assert level == "warning" and "the weights overflow" in text and "replaced by fresh weights" in text


def test_fresh_weights_carry_no_fingerprint(fake_dataset):
    params = init_params([144, 4], "he", np.random.default_rng(0))
    assert Model(params, "relu", fake_dataset.class_names, (12, 12)).dataset_mismatch(fake_dataset) is None
