"""The Unit tab: a weight tile, a cell of the hidden layers or a list row opens a unit, by mouse or keyboard; the
view shows its numbers, ranks its layer off the window's thread, and edits through the session."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog

from scratchnet.inspect.edits import ScaleIncoming, ShiftBias, SwitchOff, UnitRef
from scratchnet_gui.network_view import NetworkView
from scratchnet_gui.unit_view import UnitView

from .quick_models import quick_model
from .test_colour_vision import DEFICIENCIES, MIN_DELTA_E, seen_difference


@pytest.fixture
def trained(session):
    session.set_model(quick_model(session.dataset, train_images=600, hidden=(12, 8), epochs=2))
    return session


@pytest.fixture
def unit_view_factory(qtbot, session):
    """Makes a Unit view on screen following ``session``."""

    def make() -> UnitView:
        view = UnitView()
        qtbot.addWidget(view)
        view.follow(session)
        view.resize(700, 900)
        view.show()
        qtbot.waitExposed(view)
        return view

    return make


@pytest.fixture
def unit_view(trained, unit_view_factory):
    return unit_view_factory()


@pytest.fixture
def network(qtbot, trained):
    view = NetworkView()
    qtbot.addWidget(view)
    view.follow(trained)
    view.set_model(trained.model)
    view.resize(900, 700)
    view.show()
    qtbot.waitUntil(lambda: view.tiles.image() is not None, timeout=5000)
    return view


def test_a_click_on_a_weight_tile_opens_that_unit_in_the_unit_view(qtbot, trained, network, unit_view):
    with qtbot.waitSignal(trained.unit_selected) as opened:
        qtbot.mouseClick(network.tiles, Qt.MouseButton.LeftButton, pos=network.tiles.tile_rect(5).center().toPoint())
    assert opened.args == [UnitRef(0, 5)]
    qtbot.waitUntil(lambda: unit_view.report is not None and unit_view.report.unit == UnitRef(0, 5))
    assert "Unit 6 of hidden layer 1" in unit_view.title.text()
    np.testing.assert_array_equal(unit_view.report.incoming, trained.model.params[0]["W"][:, 5])
    assert not unit_view.incoming_image.isHidden() and unit_view.incoming_image.image() is not None
    # a gap between tiles opens nothing
    gap = network.tiles.tile_rect(0).topRight().toPoint()
    gap.setX(gap.x() + 1)
    assert network.tiles.tile_at(gap.toPointF()) is None


def test_arrow_keys_and_enter_open_a_tile(qtbot, trained, network):
    network.tiles.setFocus()
    for key in (Qt.Key.Key_Right, Qt.Key.Key_Right, Qt.Key.Key_Down):
        qtbot.keyClick(network.tiles, key)
    with qtbot.waitSignal(trained.unit_selected) as opened:
        qtbot.keyClick(network.tiles, Qt.Key.Key_Return)
    assert opened.args == [UnitRef(0, 2 + network.tiles.columns)]
    assert "Unit" in network._describe_tile(0) and "bias" in network._describe_tile(0)


def test_a_cell_of_the_hidden_layers_opens_its_unit(qtbot, trained, network, unit_view):
    trained.open_test_image(0)
    qtbot.waitUntil(lambda: len(network.activations.activations) == 2)
    cells = network.activations.cells(1)
    qtbot.waitUntil(lambda: cells.isVisible() and cells.width() > 0)
    with qtbot.waitSignal(trained.unit_selected) as opened:
        qtbot.mouseClick(cells, Qt.MouseButton.LeftButton, pos=cells.tile_rect(3).center().toPoint())
    assert opened.args == [UnitRef(1, 3)]
    assert "Unit 4 of hidden layer 2" in network.activations.describe(1, 3)
    qtbot.waitUntil(lambda: unit_view.report is not None and unit_view.report.unit == UnitRef(1, 3))
    view = unit_view
    assert view.report.votes_for_classes and not view.votes_plot.isHidden()
    weighted = view.report.weighted_sum
    assert weighted is not None and f"{weighted.z:+.3f}" in view.terms_label.text()
    # the strongest incoming units are a list; a click on one follows it to the layer below
    item = view.incoming_list.item(0)
    with qtbot.waitSignal(trained.unit_selected) as followed:
        view.incoming_list.itemClicked.emit(item)
    assert followed.args == [UnitRef(0, int(view.report.strongest_incoming[0]) if view.report.unit.layer == 0 else followed.args[0].unit)]
    assert followed.args[0].layer == 0


def test_the_extremes_open_as_the_current_input(qtbot, trained, unit_view):
    trained.select_unit(UnitRef(0, 1))
    qtbot.waitUntil(lambda: unit_view.report is not None)
    first = unit_view.report.most[0]
    with qtbot.waitSignal(trained.input_changed):
        unit_view.most_row.buttons[0].click()
    assert trained.input.origin == f"test image #{first}"


def test_the_ranking_runs_off_the_ui_thread_and_its_rows_open_units(qtbot, trained, unit_view):
    trained.select_unit(UnitRef(0, 0))
    qtbot.waitUntil(lambda: unit_view.report is not None)
    with qtbot.waitSignal(trained.units.ranked, timeout=20_000) as ranked:
        unit_view.rank_button.click()
    ablation = ranked.args[0]
    expected = trained.units.study().ablation(0)
    np.testing.assert_allclose(ablation.lost, expected.lost)
    assert unit_view.rank_list.count() == 12
    top = unit_view.rank_list.item(0)
    assert top.data(Qt.ItemDataRole.UserRole) == UnitRef(0, int(ablation.ranking()[0]))
    with qtbot.waitSignal(trained.unit_selected):
        unit_view.rank_list.itemClicked.emit(unit_view.rank_list.item(3))
    assert trained.selected_unit == UnitRef(0, int(ablation.ranking()[3]))
    unit_view.switch_off_top()
    assert len(trained.edits) == 5 and all(isinstance(edit, SwitchOff) for edit in trained.edits)
    qtbot.waitUntil(lambda: "switched off" in unit_view.rank_list.item(0).text())  # the ranking stays: of the trained weights


def test_the_edit_buttons_call_the_session(qtbot, trained, unit_view, monkeypatch):
    unit = UnitRef(1, 2)
    trained.select_unit(unit)
    qtbot.waitUntil(lambda: unit_view.report is not None and unit_view.report.unit == unit)
    unit_view.switch_off_button.click()
    assert trained.edits == (SwitchOff(unit),)
    qtbot.waitUntil(lambda: "Switched off" in unit_view.state_label.text())
    assert not unit_view.switch_off_button.isEnabled()
    monkeypatch.setattr(QInputDialog, "getDouble", lambda *args, **kwargs: (2.0, True))
    unit_view.scale_button.click()
    unit_view.shift_button.click()
    assert trained.edits[1:] == (ScaleIncoming(unit, 2.0), ShiftBias(unit, 2.0))


def test_the_boxes_choose_any_unit_with_the_keyboard(qtbot, trained, unit_view):
    trained.select_unit(UnitRef(0, 0))
    qtbot.waitUntil(lambda: unit_view.report is not None)
    unit_view.unit_box.setFocus()
    with qtbot.waitSignal(trained.unit_selected):
        qtbot.keyClick(unit_view.unit_box, Qt.Key.Key_Up)
    assert trained.selected_unit == UnitRef(0, 1)
    with qtbot.waitSignal(trained.unit_selected):
        unit_view.layer_box.setValue(2)
    assert trained.selected_unit == UnitRef(1, 1)


def test_no_model_or_no_unit_shows_a_placeholder(qtbot, session):
    view = UnitView()
    qtbot.addWidget(view)
    view.follow(session)
    view.show()
    assert view.body.isHidden() and "No model" in view.placeholder.text()


def test_the_unit_colours_stay_apart_for_every_eye():
    from scratchnet_gui.visuals import diverging_colors

    negative, positive = diverging_colors(np.array([-1.0, 1.0]), 1.0)
    for deficiency in (None, *DEFICIENCIES):
        assert seen_difference(negative, positive, deficiency) >= MIN_DELTA_E


# ---- the experiments of docs/app.md ("Experiments to try") ------------------------------------------------


def test_switching_off_the_units_that_matter_most_for_a_7_hurts_the_7s_and_the_drawn_7(qtbot, session, mnist, unit_view_factory):
    """Switch off the units that matter most for a 7 while drawing a 7 (a test image of a 7 as the drawing)."""
    session.set_dataset(mnist)
    session.set_model(quick_model(mnist, train_images=12000, hidden=(64,), epochs=2))
    dataset, model = session.dataset, session.model
    target = 7
    example = int(np.flatnonzero(dataset.test_labels == target)[0])
    session.open_test_image(example)  # as the drawn 7
    view = unit_view_factory()
    session.select_unit(UnitRef(0, 0))  # any unit of hidden layer 1
    qtbot.waitUntil(lambda: view.report is not None)
    with qtbot.waitSignal(session.units.ranked, timeout=20_000):
        view.rank_button.click()
    view.class_box.setCurrentIndex(view.class_box.findData(target))
    view.switch_off_top()
    assert len(session.edits) == 5
    before, after = model, session.model

    def class_accuracy(m) -> np.ndarray:
        predicted = m.predict_images(dataset.test_images).argmax(axis=1)
        return np.array([(predicted == dataset.test_labels)[dataset.test_labels == c].mean() for c in range(dataset.num_classes)])

    lost = class_accuracy(before) - class_accuracy(after)
    assert lost[target] > 0 and lost[target] > np.delete(lost, target).mean()
    pixels = session.input.pixels.reshape(1, -1)
    assert after.predict_proba(pixels)[0, target] < before.predict_proba(pixels)[0, target]


def test_a_bias_shifted_far_down_kills_a_relu_unit(qtbot, trained, unit_view, monkeypatch):
    unit = UnitRef(0, 4)
    trained.select_unit(unit)
    qtbot.waitUntil(lambda: unit_view.report is not None and unit_view.report.unit == unit)
    monkeypatch.setattr(QInputDialog, "getDouble", lambda *args, **kwargs: (-100.0, True))
    unit_view.shift_button.click()
    qtbot.waitUntil(lambda: unit_view.report is not None and unit_view.report.idle_share == 1.0)
    assert "Dead on 100.0 %" in unit_view.idle_label.text()
    assert unit_view.report.histogram[1].max() == len(trained.dataset.test_images)  # a single bar at 0
