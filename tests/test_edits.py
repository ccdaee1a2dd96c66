"""Edits on a copy of the weights (scratchnet.inspect.edits), the layer values the explanations read, and the
session's commands that make an edited copy the current model."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.config import TrainConfig
from scratchnet.inspect.edits import (
    EDIT_TYPES,
    Prune,
    ScaleIncoming,
    ShiftBias,
    SwitchOff,
    Temperature,
    UnitRef,
    WeightNoise,
    apply_edits,
    edit_from_dict,
    edit_to_dict,
)
from scratchnet.inspect.layers import layer_values
from scratchnet.nn import forward, get_activation, init_params, softmax

RELU = get_activation("relu")


@pytest.fixture
def params():
    return init_params([20, 8, 6, 4], "he", np.random.default_rng(0))


@pytest.fixture
def x():
    return np.random.default_rng(1).random((50, 20), dtype=np.float32)


def every_edit() -> list:
    return [
        SwitchOff(UnitRef(0, 1)),
        ScaleIncoming(UnitRef(1, 2), 0.5),
        ShiftBias(UnitRef(0, 0), 1.5),
        Prune(0.5),
        WeightNoise(0.3, seed=2),
        Temperature(2.0),
    ]


def test_edits_work_on_a_copy(params):
    before = [{k: v.copy() for k, v in layer.items()} for layer in params]
    apply_edits(params, every_edit())
    for layer, kept in zip(params, before):
        assert all(np.array_equal(layer[k], kept[k]) for k in layer)


def test_a_switched_off_unit_changes_nothing_above_it_and_stays_off(params, x):
    edited = apply_edits(params, [SwitchOff(UnitRef(0, 3)), WeightNoise(1.0)])
    assert not edited[1]["W"][3].any()
    # the same as a network whose unit outputs 0: its activation column zeroed before the layer above
    values = layer_values(params, x, RELU)
    a = values.activations[0].copy()
    a[:, 3] = 0
    expected, _ = forward(params[1:], a, RELU)
    actual, _ = forward(apply_edits(params, [SwitchOff(UnitRef(0, 3))]), x, RELU)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


def test_unit_edits_change_its_weighted_sum_as_they_say(params, x):
    unit = UnitRef(0, 2)
    z = layer_values(params, x, RELU).pre_activations[0][:, 2]
    scaled = layer_values(apply_edits(params, [ScaleIncoming(unit, 2.0)]), x, RELU).pre_activations[0][:, 2]
    shifted = layer_values(apply_edits(params, [ShiftBias(unit, 0.75)]), x, RELU).pre_activations[0][:, 2]
    np.testing.assert_allclose(scaled, 2 * z, rtol=1e-5, atol=1e-6)  # biases start at 0
    np.testing.assert_allclose(shifted, z + 0.75, rtol=1e-5, atol=1e-6)


def test_prune_zeroes_that_share_of_the_weights(params):
    edited = apply_edits(params, [Prune(0.9)])
    weights = np.concatenate([layer["W"].ravel() for layer in edited])
    assert np.mean(weights == 0) == pytest.approx(0.9, abs=0.01)
    kept = np.abs(np.concatenate([layer["W"].ravel() for layer in params]))[weights != 0]
    assert kept.min() >= np.quantile(np.abs(np.concatenate([layer["W"].ravel() for layer in params])), 0.89)


def test_temperature_divides_the_logits_and_keeps_the_answers(params, x):
    logits, _ = forward(params, x, RELU)
    hot, _ = forward(apply_edits(params, [Temperature(4.0)]), x, RELU)
    np.testing.assert_allclose(hot, logits / 4, rtol=1e-5, atol=1e-6)
    assert (hot.argmax(1) == logits.argmax(1)).all()
    assert softmax(hot).max(1).mean() < softmax(logits).max(1).mean()


def test_layer_values_are_forwards_cache_in_batches(params, x):
    values = layer_values(params, x, RELU, batch_size=7)
    logits, cache = forward(params, x, RELU)
    np.testing.assert_allclose(values.logits, logits, rtol=1e-6)
    for k in range(2):
        np.testing.assert_allclose(values.pre_activations[k], cache.pre_activations[k], rtol=1e-6)
        np.testing.assert_allclose(values.activations[k], cache.activations[k], rtol=1e-6)
    assert values.input_of(0, x) is x and values.input_of(2, x) is values.activations[1]


def test_edits_round_trip_and_refuse_junk():
    for edit in every_edit():
        assert edit_from_dict(edit_to_dict(edit)) == edit
    assert set(EDIT_TYPES) == {edit.kind for edit in every_edit()}
    junk = [None, 3, "prune", {}, {"kind": "explode"}, {"kind": "prune"}, {"kind": "prune", "fraction": "0.5"},
            {"kind": "prune", "fraction": float("nan")}, {"kind": "prune", "fraction": 2.0}, {"kind": "prune", "fraction": True},
            {"kind": "temperature", "t": 0}, {"kind": "temperature", "t": -1.0}, {"kind": "weight_noise", "scale": 1.0, "seed": 1.5},
            {"kind": "switch_off", "unit": [0, 1]}, {"kind": "switch_off", "unit": {"layer": "0", "unit": 1}},
            {"kind": "shift_bias", "unit": {"layer": 0, "unit": 1}, "shift": float("inf")}]  # fmt: skip
    for data in junk:
        with pytest.raises(ValueError):
            edit_from_dict(data)


def test_session_edits_a_copy_and_resets_to_the_trained_weights(session, qtbot):
    session.reset_weights(TrainConfig(hidden=[8]))
    trained = session.model
    with qtbot.waitSignal(session.edits_changed) as changed, qtbot.waitSignal(session.model_changed):
        assert session.edit_network(SwitchOff(UnitRef(0, 2)))
    assert changed.args == [(SwitchOff(UnitRef(0, 2)),)]
    assert session.trained_model is trained and session.model is not trained
    assert not session.model.params[1]["W"][2].any() and trained.params[1]["W"][2].any()
    assert session.switched_off(UnitRef(0, 2)) and not session.switched_off(UnitRef(0, 3))
    session.edit_network(Prune(0.5))
    session.undo_edit()
    assert session.edits == (SwitchOff(UnitRef(0, 2)),)
    session.reset_edits()
    assert session.model is trained and session.edits == () and session.trained_model is None


def test_session_refuses_edits_of_missing_units_and_training_an_edited_copy(session, qtbot):
    session.reset_weights(TrainConfig(hidden=[8]))
    with qtbot.waitSignal(session.notice):
        assert not session.edit_network(SwitchOff(UnitRef(1, 0)))  # one hidden layer only
    assert not session.edit_network(ShiftBias(UnitRef(0, 8), 1.0))
    session.edit_network(Temperature(2.0))
    with qtbot.waitSignal(session.notice) as notice:
        assert not session.start(TrainConfig(hidden=[8], epochs=1))
    assert "reset the edits" in notice.args[0]
    assert session.teach_refusal() is not None


def test_new_weights_drop_the_edits_and_a_unit_that_is_gone(session, qtbot):
    session.reset_weights(TrainConfig(hidden=[8, 8]))
    session.select_unit(UnitRef(1, 7))
    assert session.selected_unit == UnitRef(1, 7)
    session.edit_network(SwitchOff(UnitRef(1, 7)))
    with qtbot.waitSignal(session.edits_changed) as changed, qtbot.waitSignal(session.unit_selected) as selected:
        session.reset_weights(TrainConfig(hidden=[4]))
    assert changed.args == [()] and selected.args == [None]
    assert session.edits == () and session.selected_unit is None
    session.select_unit(UnitRef(0, 9))  # no such unit: nothing opens
    assert session.selected_unit is None
