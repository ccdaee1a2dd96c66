"""Each optimiser's update against values computed by hand, and the schedules."""

import math

import numpy as np
import pytest

from scratchnet.errors import ConfigError
from scratchnet.nn.optimizers import Adam, clip_grad_norm, lr_after_switch, make_optimizer
from scratchnet.nn.schedules import Schedule


def one_layer(w, b):
    return [{"W": np.array([[w]], dtype=np.float64), "b": np.array([b], dtype=np.float64)}]


def run(optimizer, grads_sequence, w=1.0, b=0.5):
    params = one_layer(w, b)
    for gw, gb in grads_sequence:
        optimizer.step(params, one_layer(gw, gb))
    return params[0]["W"][0, 0], params[0]["b"][0]


def test_sgd():
    assert run(make_optimizer("sgd", lr=0.1), [(2.0, 1.0)]) == pytest.approx((1.0 - 0.2, 0.5 - 0.1))


def test_sgd_l2_weight_decay_spares_biases():
    # g_W = 2 + 0.5 * 1.0 = 2.5;  bias gradient unchanged
    assert run(make_optimizer("sgd", lr=0.1, weight_decay=0.5), [(2.0, 1.0)]) == pytest.approx((0.75, 0.4))


def test_momentum():
    # v1 = 2; W = 1 - 0.1*2 = 0.8.  v2 = 0.9*2 + 1 = 2.8; W = 0.8 - 0.28 = 0.52
    w, _ = run(make_optimizer("momentum", lr=0.1, momentum=0.9), [(2.0, 0.0), (1.0, 0.0)])
    assert w == pytest.approx(0.52)


def test_nesterov():
    # v1 = 2; step = g + 0.9 v1 = 2 + 1.8 = 3.8; W = 1 - 0.38 = 0.62
    # v2 = 0.9*2 + 1 = 2.8; step = 1 + 0.9*2.8 = 3.52; W = 0.62 - 0.352 = 0.268
    w, _ = run(make_optimizer("nesterov", lr=0.1, momentum=0.9), [(2.0, 0.0), (1.0, 0.0)])
    assert w == pytest.approx(0.268)


def adam_by_hand(grads, lr=0.01, b1=0.9, b2=0.999, eps=1e-8, w=1.0, decay=0.0, decoupled=False):
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w -= lr * decay * w
        else:
            g = g + decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w -= lr * m_hat / (math.sqrt(v_hat) + eps)
    return w


@pytest.mark.parametrize("grads", [[0.5], [0.5, -1.0, 2.0], [1e-3, 1e-3]])
def test_adam(grads):
    w, _ = run(make_optimizer("adam", lr=0.01), [(g, 0.0) for g in grads])
    assert w == pytest.approx(adam_by_hand(grads), rel=1e-9)


def test_adam_first_step_moves_by_lr():
    """Bias correction makes the very first Adam step exactly lr in the gradient's direction."""
    w, _ = run(Adam(lr=0.01), [(123.0, 0.0)])
    assert w == pytest.approx(1.0 - 0.01, rel=1e-6)


def test_adam_l2_versus_adamw_decoupled():
    grads = [0.3, -0.2, 0.1]
    w_l2, _ = run(make_optimizer("adam", lr=0.01, weight_decay=0.1), [(g, 0.0) for g in grads])
    w_adamw, _ = run(make_optimizer("adamw", lr=0.01, weight_decay=0.1), [(g, 0.0) for g in grads])
    assert w_l2 == pytest.approx(adam_by_hand(grads, decay=0.1), rel=1e-9)
    assert w_adamw == pytest.approx(adam_by_hand(grads, decay=0.1, decoupled=True), rel=1e-9)
    assert w_l2 != pytest.approx(w_adamw, rel=1e-6)


def test_float32_parameters_stay_float32():
    params = [{"W": np.ones((2, 2), np.float32), "b": np.zeros(2, np.float32)}]
    for name in ("sgd", "momentum", "nesterov", "adam", "adamw"):
        optimizer = make_optimizer(name, lr=0.1, weight_decay=0.01)
        optimizer.step(params, [{"W": np.ones((2, 2), np.float32), "b": np.ones(2, np.float32)}])
        assert params[0]["W"].dtype == np.float32


def test_unknown_optimizer():
    with pytest.raises(ConfigError, match="choose one of"):
        make_optimizer("rmsprop", lr=0.1)


def test_clip_grad_norm():
    grads = [{"W": np.array([[3.0]]), "b": np.array([4.0])}]
    assert clip_grad_norm(grads, 1.0) == pytest.approx(5.0)
    assert grads[0]["W"][0, 0] == pytest.approx(0.6) and grads[0]["b"][0] == pytest.approx(0.8)
    clip_grad_norm(grads, 10.0)
    assert grads[0]["b"][0] == pytest.approx(0.8)  # below the limit: untouched


def test_schedules():
    assert Schedule("constant", 10).factor(7.3) == 1.0
    step = Schedule("step", 10, step_epochs=3, gamma=0.5)
    assert [step.factor(p) for p in (0.5, 3.0, 6.5)] == [1.0, 0.5, 0.25]
    cosine = Schedule("cosine", 10)
    assert cosine.factor(0.0) == pytest.approx(1.0)
    assert cosine.factor(5.0) == pytest.approx(0.5)
    assert cosine.factor(10.0) == pytest.approx(0.0, abs=1e-12)
    warm = Schedule("cosine", 10, warmup_epochs=2)
    assert warm.factor(1.0) == pytest.approx(0.5)
    assert warm.factor(2.0) == pytest.approx(1.0)
    with pytest.raises(ConfigError):
        Schedule("exponential")


def test_a_learning_rate_stays_between_optimisers_of_a_kind_and_becomes_the_usual_one_across_kinds():
    assert lr_after_switch(0.25, "nesterov", "sgd") == 0.25 and lr_after_switch(0.003, "adam", "adamw") == 0.003
    assert lr_after_switch(0.25, "nesterov", "adam") == 0.001 and lr_after_switch(0.003, "adamw", "momentum") == 0.1
