"""The forward and backward passes, checked against finite differences in float64."""

import numpy as np
import pytest

from scratchnet.errors import ConfigError
from scratchnet.nn.activations import ACTIVATIONS
from scratchnet.nn.network import (
    backward,
    count_parameters,
    forward,
    init_params,
    input_saliency,
    layer_sizes_of,
    log_softmax,
    softmax,
    softmax_cross_entropy,
)


def loss_of(params, x, y, activation):
    logits, _ = forward(params, x, activation)
    return softmax_cross_entropy(logits, y)[0]


def relative_error(a, b):
    return np.abs(a - b).max() / max(np.abs(a).max(), np.abs(b).max(), 1e-12)


def numerical_gradient(loss, array, h=1e-6):
    """Central differences of ``loss()`` with respect to every entry of ``array`` (changed in place, then restored)."""
    gradient = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        original = array[index]
        array[index] = original + h
        plus = loss()
        array[index] = original - h
        minus = loss()
        array[index] = original
        gradient[index] = (plus - minus) / (2 * h)
    return gradient


@pytest.mark.parametrize("activation_name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [[], [7], [6, 5, 4]], ids=["depth0", "depth1", "depth3"])
def test_gradients_match_finite_differences(activation_name, hidden):
    rng = np.random.default_rng(1)
    activation = ACTIVATIONS[activation_name]
    params = init_params([5, *hidden, 3], "xavier", rng, np.float64)
    for layer in params:
        layer["b"] += rng.normal(0, 0.1, layer["b"].shape)  # non-zero biases exercise db properly
    x = rng.normal(size=(8, 5))
    y = rng.integers(0, 3, 8)
    logits, cache = forward(params, x, activation)
    _, dlogits = softmax_cross_entropy(logits, y)
    grads, dx = backward(params, cache, dlogits, activation, input_grad=True)

    def loss():
        return loss_of(params, x, y, activation)

    for layer, layer_grads in zip(params, grads):
        for name, array in layer.items():
            assert relative_error(layer_grads[name], numerical_gradient(loss, array)) < 1e-6, (name, activation_name, hidden)
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6


def test_dropout_gradient_uses_the_same_mask():
    """With a fixed mask, dropout is a fixed linear map, so finite differences still apply."""
    activation = ACTIVATIONS["relu"]
    params = init_params([4, 6, 3], "he", np.random.default_rng(0), np.float64)
    x = np.random.default_rng(1).normal(size=(5, 4))
    y = np.array([0, 1, 2, 1, 0])

    def loss_with_seeded_dropout():
        logits, _ = forward(params, x, activation, dropout=0.5, rng=np.random.default_rng(7))
        return softmax_cross_entropy(logits, y)[0]

    logits, cache = forward(params, x, activation, dropout=0.5, rng=np.random.default_rng(7))
    assert (cache.dropout_masks[0] == 0).any() and (cache.dropout_masks[0] == 2).any()
    grads, _ = backward(params, cache, softmax_cross_entropy(logits, y)[1], activation)
    assert relative_error(grads[0]["W"], numerical_gradient(loss_with_seeded_dropout, params[0]["W"])) < 1e-6


def test_softmax_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-5e4, -5e4, -5e4]])
    probs = softmax(logits)
    assert np.isfinite(probs).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_allclose(probs[1], 1 / 3)
    assert np.isfinite(log_softmax(logits)).all()
    loss, dlogits = softmax_cross_entropy(logits, np.array([2, 0]))
    assert loss == pytest.approx((2000 + np.log(3)) / 2)
    assert np.isfinite(dlogits).all()


def test_fused_gradient_is_p_minus_y_over_n():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    _, dlogits = softmax_cross_entropy(logits, np.array([2, 1]))
    expected = softmax(logits)
    expected[[0, 1], [2, 1]] -= 1
    np.testing.assert_allclose(dlogits, expected / 2)


def test_init_params_shapes_dtype_and_scale():
    rng = np.random.default_rng(0)
    params = init_params([784, 128, 64, 10], "he", rng)
    assert layer_sizes_of(params) == [784, 128, 64, 10]
    assert all(layer["W"].dtype == np.float32 and not layer["b"].any() for layer in params)
    assert params[0]["W"].std() == pytest.approx(np.sqrt(2 / 784), rel=0.05)
    assert init_params([784, 128, 10], "randn", rng)[0]["W"].std() == pytest.approx(1.0, rel=0.05)
    assert count_parameters([784, 128, 128, 10]) == 784 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10


@pytest.mark.parametrize("sizes", [[784], [784, 0, 10], [784, -3, 10]])
def test_init_params_rejects_impossible_sizes(sizes):
    with pytest.raises(ConfigError):
        init_params(sizes, "he", np.random.default_rng(0))


def test_saliency_has_input_shape_and_matches_finite_differences():
    rng = np.random.default_rng(3)
    activation = ACTIVATIONS["tanh"]
    params = init_params([6, 5, 3], "xavier", rng, np.float64)
    x = rng.normal(size=(2, 6))
    saliency, probs = input_saliency(params, x, activation)
    assert saliency.shape == x.shape and np.isfinite(saliency).all()
    k = probs[0].argmax()
    bumped = x[:1].copy()
    bumped[0, 2] += 1e-6
    log_p = lambda inputs: log_softmax(forward(params, inputs, activation)[0])[0, k]  # noqa: E731
    assert saliency[0, 2] == pytest.approx((log_p(bumped) - log_p(x[:1])) / 1e-6, rel=1e-4)
