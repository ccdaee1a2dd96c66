"""The effect of edits on a whole test set (scratchnet.inspect.edit_effects) against a plain evaluation of the
edited weights with ``scratchnet.nn``: every edit kind, one to ten hidden layers, every activation, images that
are not 28×28."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.inspect.edit_effects import EditEvaluator, first_changed_layer
from scratchnet.inspect.edits import Prune, ScaleIncoming, ShiftBias, SwitchOff, Temperature, UnitRef, WeightNoise, apply_edits
from scratchnet.nn import forward, get_activation, init_params, softmax
from scratchnet.nn.activations import ACTIVATIONS
from scratchnet.nn.metrics import confusion_matrix, per_class_accuracy

CLASSES = 5


def network(hidden: list[int], features: int = 30, seed: int = 0):
    return init_params([features, *hidden, CLASSES], "he", np.random.default_rng(seed))


def data(features: int = 30, n: int = 300, seed: int = 1):
    rng = np.random.default_rng(seed)
    return rng.random((n, features), dtype=np.float32), rng.integers(0, CLASSES, n)


def edits_for(params) -> list[list]:
    """Every kind of edit, alone, in the first, a middle and the last hidden layer, and several at once."""
    hidden = len(params) - 1
    layers = sorted({0, hidden // 2, hidden - 1})
    single = []
    for layer in layers:
        unit = UnitRef(layer, 1)
        single += [[SwitchOff(unit)], [ScaleIncoming(unit, -1.5)], [ShiftBias(unit, 2.0)]]
    single += [[Prune(0.5)], [Prune(0.95)], [WeightNoise(0.7, seed=3)], [Temperature(3.0)], [Temperature(0.2)]]
    return [
        *single,
        [SwitchOff(UnitRef(0, 0)), ShiftBias(UnitRef(hidden - 1, 2), -1.0), Temperature(2.0)],
        [ScaleIncoming(UnitRef(0, 2), 0.0)],
    ]


def plain_probabilities(params, x, activation) -> np.ndarray:
    logits, _ = forward(params, x, activation)
    return softmax(logits)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [[6], [8, 7], [5] * 10])
def test_the_effect_is_a_plain_evaluation_of_the_edited_weights(hidden, activation):
    params, (x, labels) = network(hidden), data()
    act = get_activation(activation)
    evaluator = EditEvaluator(params, act, x, labels, [f"class {k}" for k in range(CLASSES)])
    before = plain_probabilities(params, x, act)
    for edits in edits_for(params):
        edited = apply_edits(params, edits)
        effect = evaluator.effect(edited)
        after = plain_probabilities(edited, x, act)
        np.testing.assert_allclose(effect.after.probabilities, after, rtol=1e-4, atol=1e-6, err_msg=str(edits))
        np.testing.assert_allclose(effect.before.probabilities, before, rtol=1e-4, atol=1e-6)
        right_after = after.argmax(1) == labels
        assert effect.accuracy_after == pytest.approx(right_after.mean())
        expected = per_class_accuracy(confusion_matrix(labels, after.argmax(1), CLASSES))
        np.testing.assert_allclose(effect.per_class_after, expected)
        right_before = before.argmax(1) == labels
        assert set(effect.broken) == set(np.flatnonzero(right_before & ~right_after))
        assert set(effect.mended) == set(np.flatnonzero(~right_before & right_after))
        assert effect.loss_after == pytest.approx(float(-np.log(after[np.arange(len(labels)), labels]).mean()), rel=1e-4)
        assert effect.confidence_after == pytest.approx(float(after.max(1).mean()), rel=1e-5)


def test_images_of_another_shape_and_float64_weights():
    params = init_params([7 * 9, 12, 4], "xavier", np.random.default_rng(5), np.float64)
    rng = np.random.default_rng(6)
    x, labels = rng.random((200, 7 * 9)), rng.integers(0, 4, 200)
    act = get_activation("tanh")
    evaluator = EditEvaluator(params, act, x, labels, list("abcd"))
    edited = apply_edits(params, [ScaleIncoming(UnitRef(0, 3), 2.0), Prune(0.3)])
    np.testing.assert_allclose(evaluator.effect(edited).after.probabilities, plain_probabilities(edited, x, act), rtol=1e-12)


def test_only_the_layers_from_the_first_edited_one_are_computed_again():
    params = network([6, 6, 6])
    assert first_changed_layer(params, apply_edits(params, [])) is None
    layer, units = first_changed_layer(params, apply_edits(params, [ShiftBias(UnitRef(1, 4), 1.0)]))
    assert layer == 1 and list(units) == [4]
    layer, _ = first_changed_layer(params, apply_edits(params, [SwitchOff(UnitRef(2, 0))]))
    assert layer == 3  # its outgoing weights: the output layer
    assert first_changed_layer(params, apply_edits(params, [Temperature(2.0)]))[0] == 3
    assert first_changed_layer(params, apply_edits(params, [Prune(0.5)]))[0] == 0


def test_the_temperature_changes_the_confidence_and_not_the_answers():
    params, (x, labels) = network([10]), data()
    evaluator = EditEvaluator(params, get_activation("relu"), x, labels, list("abcde"))
    hot, cold = evaluator.effect(apply_edits(params, [Temperature(4.0)])), evaluator.effect(apply_edits(params, [Temperature(0.25)]))
    for effect in (hot, cold):
        assert effect.accuracy_after == effect.accuracy_before and not len(effect.broken) and not len(effect.mended)
    assert hot.confidence_after < hot.confidence_before < cold.confidence_after


def test_overflowing_edits_are_flagged_not_raised():
    params, (x, labels) = network([6]), data()
    evaluator = EditEvaluator(params, get_activation("relu"), x, labels, list("abcde"))
    edited = apply_edits(params, [ScaleIncoming(UnitRef(0, 0), 1000.0)] * 6)
    edited[1]["W"] *= np.float32(1e36)
    assert evaluator.effect(edited).overflows


def test_the_input_answers_are_forwards():
    params, (x, labels) = network([6, 6]), data()
    act = get_activation("gelu")
    evaluator = EditEvaluator(params, act, x, labels, list("abcde"))
    edited = apply_edits(params, [SwitchOff(UnitRef(1, 2))])
    trained, changed = evaluator.probabilities_for(edited, x[:1])
    np.testing.assert_allclose(trained, plain_probabilities(params, x[:1], act), rtol=1e-6)
    np.testing.assert_allclose(changed, plain_probabilities(edited, x[:1], act), rtol=1e-6)
