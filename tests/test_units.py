"""A hidden unit explained (scratchnet.inspect.units): its numbers against forward, its extremes, its idleness,
and the ranking of a layer's units against switching each off with an edit."""

from __future__ import annotations

import numpy as np
import pytest

from scratchnet.data import Dataset, to_inputs
from scratchnet.inspect.edits import SwitchOff, UnitRef, apply_edits
from scratchnet.inspect.units import EXTREMES, IDLENESS, SHOWN_TERMS, UnitStudy, extremes, strongest
from scratchnet.model import Model
from scratchnet.nn import forward, get_activation, init_params
from scratchnet.nn.activations import ACTIVATIONS

from .conftest import make_images


def dataset_of(shape=(9, 7), classes=5, n=300, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    images, labels = make_images(n, classes, shape, rng)
    names = [f"kind {chr(65 + k)}" for k in range(classes)]
    return Dataset("other", images, labels, images, labels, names)


def model_of(dataset: Dataset, hidden: list[int], activation: str, seed: int = 0) -> Model:
    sizes = [dataset.num_features, *hidden, dataset.num_classes]
    params = init_params(sizes, "he", np.random.default_rng(seed), np.float64)
    for k, layer in enumerate(params):
        layer["b"] += np.random.default_rng(seed + k).normal(0, 0.1, layer["b"].shape)
    return Model(params, activation, dataset.class_names, dataset.image_shape)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [[6], [5] * 10])
def test_the_terms_and_the_rest_sum_to_forwards_z_at_any_depth(activation, hidden):
    dataset = dataset_of()
    model = model_of(dataset, hidden, activation)
    study = UnitStudy(model, dataset)
    x = to_inputs(dataset.test_images[:1], np.float64)
    _, cache = forward(model.params, x, get_activation(activation))
    for layer in (0, len(hidden) - 1):
        unit = UnitRef(layer, 3)
        weighted = study.weighted_sum(unit, x.reshape(dataset.image_shape))
        assert weighted.z == pytest.approx(cache.pre_activations[layer][0, 3], abs=1e-12)
        assert weighted.a == pytest.approx(cache.activations[layer][0, 3], abs=1e-12)
        assert weighted.terms.sum() + weighted.rest + weighted.bias == pytest.approx(weighted.z, abs=1e-9)
        received = cache.inputs[layer][0] * model.params[layer]["W"][:, 3]
        assert len(weighted.terms) == min(SHOWN_TERMS, len(received)) and weighted.others == len(received) - len(weighted.terms)
        assert np.abs(weighted.terms).min() >= np.abs(np.delete(received, weighted.positions)).max(initial=0)
        np.testing.assert_allclose(weighted.terms, received[weighted.positions])


def test_the_report_reads_the_weights_and_the_test_set():
    dataset = dataset_of()
    model = model_of(dataset, [6, 4], "relu")
    study = UnitStudy(model, dataset)
    first, last = study.explain(UnitRef(0, 2)), study.explain(UnitRef(1, 1))
    np.testing.assert_array_equal(first.incoming, model.params[0]["W"][:, 2])
    assert first.incoming.reshape(dataset.image_shape).shape == (9, 7) and first.strongest_incoming.size == 0
    assert not first.votes_for_classes and last.votes_for_classes
    np.testing.assert_array_equal(last.outgoing, model.params[2]["W"][1])
    assert list(last.strongest_incoming) == list(np.argsort(-np.abs(model.params[1]["W"][:, 1]))[: len(last.strongest_incoming)])
    z = forward(model.params[:1], to_inputs(dataset.test_images, np.float64), get_activation("relu"))[0][:, 2]
    np.testing.assert_allclose(first.z_of_test_images, z)
    order = np.argsort(z)
    assert set(first.most) == set(order[-EXTREMES:]) and set(first.least) == set(order[:EXTREMES])
    assert np.all(np.diff(z[first.most]) <= 0) and np.all(np.diff(z[first.least]) >= 0)
    assert first.histogram[1].sum() == len(z)
    assert first.idle_share == pytest.approx(float((z <= 0).mean()))


def test_extremes_are_the_largest_and_smallest_and_skip_nan():
    values = np.random.default_rng(0).normal(size=10_000)
    values[5] = np.nan
    most, least = extremes(values, 16)
    assert 5 not in most and 5 not in least
    finite = np.sort(values[np.isfinite(values)])
    np.testing.assert_array_equal(values[most], finite[::-1][:16])
    np.testing.assert_array_equal(values[least], finite[:16])
    assert list(strongest(np.array([0.1, -3.0, 2.0]), 2)) == [1, 2]


@pytest.mark.parametrize(
    ("activation", "z", "idle"),
    [
        ("relu", [-1.0, 0.0, 0.5, 2.0], 0.5),
        ("leaky_relu", [-1.0, -0.1, 0.5, 2.0], 0.5),
        ("gelu", [-3.0, 0.2, 0.5, 2.0], 0.25),
        ("tanh", [-3.0, 0.1, 0.5, 2.5], 0.5),  # tanh(±2.5) = ±0.987, tanh(-3) = -0.995
        ("sigmoid", [-4.0, 0.0, 1.0, 4.0], 0.5),  # sigmoid(±4) = 0.018, 0.982
    ],
)
def test_dead_and_saturated_shares_on_constructed_units(activation, z, idle):
    z = np.array(z)
    a = get_activation(activation).value(z)
    assert IDLENESS[activation].test(z, a).mean() == pytest.approx(idle)


def test_a_unit_driven_into_saturation_is_reported_so():
    dataset = dataset_of()
    model = model_of(dataset, [4], "tanh")
    model.params[0]["b"][1] = 50.0  # a = tanh(z) ≈ 1 for every image
    model.params[0]["W"][:, 1] = 0.0
    assert UnitStudy(model, dataset).explain(UnitRef(0, 1)).idle_share == 1.0
    assert UnitStudy(model, dataset).explain(UnitRef(0, 1)).idleness.word == "saturated"


@pytest.mark.parametrize("hidden", [[8], [7, 6, 5]])
def test_the_ablation_ranking_is_switching_off_with_an_edit_and_scoring(hidden):
    dataset = dataset_of(n=400)
    model = model_of(dataset, hidden, "relu", seed=3)
    relu = get_activation("relu")
    x = to_inputs(dataset.test_images, np.float64)
    labels = dataset.test_labels
    for layer in range(len(hidden)):
        ablation = UnitStudy(model, dataset).ablation(layer)
        base = forward(model.params, x, relu)[0].argmax(axis=1)
        assert ablation.accuracy == pytest.approx((base == labels).mean())
        for unit in range(hidden[layer]):
            edited = apply_edits(model.params, [SwitchOff(UnitRef(layer, unit))])
            predicted = forward(edited, x, relu)[0].argmax(axis=1)
            assert ablation.lost[unit] == pytest.approx(ablation.accuracy - (predicted == labels).mean())
            for c in range(dataset.num_classes):
                right = (predicted == labels)[labels == c].mean()
                assert ablation.lost_by_class[unit, c] == pytest.approx(ablation.class_accuracy[c] - right)
        ranking = ablation.ranking()
        assert sorted(ranking) == list(range(hidden[layer])) and np.all(np.diff(ablation.lost[ranking]) <= 0)
        assert np.all(np.diff(ablation.lost_by_class[ablation.ranking(2), 2]) <= 0)


def test_the_study_is_kept_for_the_same_model_and_made_anew_for_another():
    dataset = dataset_of()
    model = model_of(dataset, [4], "relu")
    study = UnitStudy(model, dataset)
    values = study.values
    assert study.for_model(model, dataset) is study and study.values is values
    other = model_of(dataset, [4], "relu", seed=1)
    assert study.for_model(other, dataset) is not study
