"""The arithmetic of one example: every gradient it shows against central finite differences (float64), its parts
adding up to the training's own results, its line labels pointing at the lines that compute them, and one step."""

import ast
import copy

import numpy as np
import pytest

from scratchnet.inspect import arithmetic
from scratchnet.inspect.arithmetic import LINES, STATEMENTS, explain_example, find_line, take_step
from scratchnet.nn import network
from scratchnet.nn.activations import ACTIVATIONS
from scratchnet.nn.network import forward, init_params, softmax

H = 1e-5  # the step of the central differences: its rounding error and its truncation error are both about 1e-11 here
TOLERANCE = 1e-5  # the largest relative error allowed (the figure)
FLOOR = 1e-5  # gradients smaller than this are held to an absolute error of 1e-10 (FLOOR × TOLERANCE), what float64 differences resolve


def network_of(hidden: list[int], activation: str, seed: int = 0, inputs: int = 9, classes: int = 4):
    """A float64 network with non-zero biases, an input and a label, all drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    params = init_params([inputs, *hidden, classes], "xavier", rng, np.float64)
    for layer in params:
        layer["b"] += rng.normal(0, 0.2, layer["b"].shape)
    return params, ACTIVATIONS[activation], rng.random(inputs), int(rng.integers(classes))


def loss_above(params, activation, layer: int, a: np.ndarray, label: int) -> float:
    """The loss computed from what dense layer ``layer`` receives, ``a`` (inputs,), by plain NumPy written here:
    the reference the gradients are checked against, so it shares no code with network.py but the activation's value."""
    for k, dense in enumerate(params[layer:], start=layer):
        z = a @ dense["W"] + dense["b"]
        a = activation.value(z) if k < len(params) - 1 else z
    shifted = a - a.max()
    return float(np.log(np.exp(shifted).sum()) - shifted[label])


def central_difference(loss, array: np.ndarray, index) -> float:
    """d loss() / d array[index], changing the entry in place and restoring it."""
    original = array[index]
    array[index] = original + H
    plus = loss()
    array[index] = original - H
    minus = loss()
    array[index] = original
    return (plus - minus) / (2 * H)


def assert_close(shown: float, numerical: float, what: str) -> None:
    error = abs(shown - numerical) / max(abs(shown), abs(numerical), FLOOR)
    assert error < TOLERANCE, f"{what}: shown {shown!r}, finite differences {numerical!r}, relative error {error:.2e}"


def hidden_inputs(params, activation, x):
    """What each dense layer receives for ``x``, by the reference forward of this file."""
    received = [x]
    for dense in params[:-1]:
        received.append(activation.value(received[-1] @ dense["W"] + dense["b"]))
    return received


# ---- every gradient shown against finite differences -------------------------------------------------------


@pytest.mark.parametrize("activation_name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("hidden", [[6], [6, 5], [6, 5, 7], [5, 6, 4, 5]], ids=["1 hidden", "2 hidden", "3 hidden", "4 hidden"])
def test_every_gradient_shown_matches_central_differences(activation_name, hidden):
    params, activation, x, label = network_of(hidden, activation_name)
    example = explain_example(params, activation, x, label)

    def loss():
        return loss_above(params, activation, 0, x, label)

    assert example.loss == pytest.approx(loss(), rel=1e-12)
    logits = example.softmax.logits.copy()

    def loss_of_logits():
        return float(np.log(np.exp(logits - logits.max()).sum()) - (logits[label] - logits.max()))

    for c in range(len(logits)):  # dlogits = p − y, against the loss as a function of the logits
        assert_close(example.softmax.dlogits[c], central_difference(loss_of_logits, logits, c), f"dlogit {c}")
    received = hidden_inputs(params, activation, x)
    for shown in example.backward:
        layer, unit = shown.layer, shown.unit
        assert_close(shown.delta, central_difference(loss, params[layer]["b"], unit), f"δ of layer {layer} unit {unit}")
        for i in range(params[layer]["W"].shape[0]):
            numerical = central_difference(loss, params[layer]["W"], (i, unit))
            assert_close(shown.weight_gradient[i], numerical, f"dL/dw[{i}] of layer {layer} unit {unit}")
        for term in shown.largest:
            assert term.value == shown.weight_gradient[term.source]
        if shown.carried is not None:  # dL/da, the sum carried back through Wᵀ, and the slope f'(z)
            a = received[layer + 1].copy()
            upstream = central_difference(lambda a=a, above=layer + 1: loss_above(params, activation, above, a, label), a, unit)
            assert_close(shown.carried.total, upstream, f"dL/da of layer {layer} unit {unit}")
            z = np.array([example.forward[layer].z])
            assert_close(shown.slope, central_difference(lambda z=z: float(activation.value(z)[0]), z, 0), f"f'(z) of layer {layer}")
    for layer, gradients in enumerate(example.gradients):  # and every other gradient behind the step's ‖g‖²
        for name, array in gradients.items():
            for index in np.ndindex(array.shape):
                assert_close(array[index], central_difference(loss, params[layer][name], index), f"d{name}{index} of layer {layer}")


def test_the_gradients_of_a_unit_chosen_deep_in_the_network_match_too():
    params, activation, x, label = network_of([6, 5, 7], "gelu", seed=3)
    example = explain_example(params, activation, x, label, through=(1, 4))
    shown = example.backward[1]
    assert shown.unit == 4
    numerical = central_difference(lambda: loss_above(params, activation, 0, x, label), params[1]["b"], 4)
    assert_close(shown.delta, numerical, "δ of the chosen unit")


# ---- the parts add up to the training's own numbers --------------------------------------------------------


@pytest.mark.parametrize("activation_name", sorted(ACTIVATIONS))
def test_the_parts_shown_add_up_to_what_forward_and_backward_computed(activation_name):
    rng = np.random.default_rng(4)
    params = init_params([30, 12, 8, 5], "he", rng)  # float32, as the app trains
    activation = ACTIVATIONS[activation_name]
    x, label = rng.random(30).astype(np.float32), 3
    example = explain_example(params, activation, x, label, top=4)
    logits, cache = forward(params, x[None], activation)
    for shown in example.forward:
        weighted = shown.weighted
        assert len(weighted.terms) in (4, 5)  # the largest 4, and the followed unit of the layer below when not among them
        assert weighted.rest_count == len(weighted.products) - len(weighted.terms)
        assert sum(t.value for t in weighted.terms) + weighted.rest == pytest.approx(weighted.total, rel=1e-9, abs=1e-12)
        assert all(t.left * t.right == pytest.approx(t.value) for t in weighted.terms)
        assert weighted.total + shown.bias == pytest.approx(shown.z, rel=1e-5, abs=1e-6)
        if shown.a is None:
            assert shown.z == logits[0, shown.unit]
        else:
            assert (shown.z, shown.a) == (cache.pre_activations[shown.layer][0, shown.unit], cache.activations[shown.layer][0, shown.unit])
    steps = example.softmax
    assert np.array_equal(steps.probabilities, softmax(logits)[0])  # the training's probabilities, not the display's
    assert steps.exps / steps.total == pytest.approx(steps.probabilities, rel=1e-5)  # z − max, exp, ÷ sum agree with them
    assert steps.shifted.max() == 0
    assert example.loss == pytest.approx(-np.log(steps.probabilities[label]), rel=1e-6)
    assert np.allclose(steps.dlogits, steps.probabilities - np.eye(5)[label], atol=1e-7)
    assert example.backward[-1].delta == steps.dlogits[label]
    for shown in example.backward[:-1]:
        assert shown.carried.total * shown.slope == pytest.approx(shown.delta, rel=1e-4, abs=1e-7)


def test_the_path_follows_the_strongest_terms_down_from_the_label():
    params, activation, x, label = network_of([8, 7, 6], "tanh", seed=5)
    example = explain_example(params, activation, x, label)
    assert example.path[-1] == label
    for below, above in zip(example.forward[:-1], example.forward[1:]):
        assert above.weighted.terms[0].source == below.unit == above.weighted.followed  # the top term is explained next
    for below, above in zip(example.backward[:-1], example.backward[1:]):
        assert below.carried.followed == above.unit


def test_a_chosen_unit_is_on_the_path_above_it_the_units_it_feeds_most():
    params, activation, x, label = network_of([8, 7, 6], "relu", seed=6)
    example = explain_example(params, activation, x, label, through=(1, 2))
    assert example.path[1] == 2 and example.path[-1] == label
    a = example.forward[1].a
    strongest = np.argmax(np.abs(a * params[2]["W"][2, :])) if a else np.argmax(np.abs(params[2]["W"][2, :]))
    assert example.path[2] == strongest
    assert example.forward[1].weighted.terms[0].source == example.path[0]
    with pytest.raises(ValueError):
        explain_example(params, activation, x, label, through=(3, 0))  # no hidden layer 4
    with pytest.raises(ValueError):
        explain_example(params, activation, x, label, through=(0, 8))
    with pytest.raises(ValueError):
        explain_example(params, activation, x, 4)  # 4 classes: 0..3


def test_weights_that_overflow_show_as_inf_and_nan_without_failing():
    params, activation, x, label = network_of([6, 5], "relu", seed=7)
    params[0]["W"][:] = 1e308
    with np.errstate(all="raise"):
        example = explain_example(params, activation, x, label)
        step = take_step(params, activation, example, 0.1)
    assert not np.isfinite(example.loss) or not np.isfinite(example.softmax.probabilities).all()
    assert step.lr == 0.1


# ---- the line labels ---------------------------------------------------------------------------------------


def test_every_line_label_points_at_the_statement_that_computes_it():
    """Read network.py as text, without the code that found the lines: each label's line holds its statement,
    inside the function it was looked for in."""
    path = network.__file__
    lines = open(path, encoding="utf-8").read().splitlines()
    functions = {node.name: node for node in ast.walk(ast.parse("\n".join(lines))) if isinstance(node, ast.FunctionDef)}
    assert set(LINES) == set(STATEMENTS)
    for name, (function, statement) in STATEMENTS.items():
        line = LINES[name]
        text = lines[line.number - 1].strip()
        assert ast.unparse(ast.parse(text)) == ast.unparse(ast.parse(statement)), name
        assert line.code == text and str(line) == f"network.py:{line.number}"
        definition = functions[function.__name__]
        assert definition.lineno < line.number <= definition.end_lineno, name


def test_a_statement_that_is_not_there_is_an_error_not_a_wrong_label():
    with pytest.raises(LookupError):
        find_line(network.forward, "z = a @ layer['W'] * 2")
    with pytest.raises(LookupError):
        find_line(network.backward, "delta *= 2")


def test_the_labels_follow_the_file_when_lines_move(monkeypatch):
    """A line added above forward moves every label of forward by one."""
    source, first = arithmetic.inspect.getsourcelines(network.forward)
    monkeypatch.setattr(arithmetic.inspect, "getsourcelines", lambda function: (source, first + 1))
    assert find_line(network.forward, 'z += layer["b"]').number == LINES["bias"].number + 1


# ---- one step ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation_name", sorted(ACTIVATIONS))
def test_a_tiny_step_changes_the_loss_as_its_first_order_prediction_says(activation_name):
    params, activation, x, label = network_of([6, 5], activation_name, seed=8)
    trained = copy.deepcopy(params)
    example = explain_example(params, activation, x, label)
    step = take_step(params, activation, example, 1e-5)
    assert step.predicted_change == pytest.approx(-1e-5 * example.squared_gradient_norm)
    assert step.predicted_change < 0
    assert step.actual_change == pytest.approx(step.predicted_change, rel=1e-3)
    for layer, before in zip(params, trained):  # the model itself never changes
        assert all(np.array_equal(layer[name], before[name]) for name in layer)


def test_a_step_is_plain_gradient_descent_on_a_copy():
    params, activation, x, label = network_of([6, 5], "tanh", seed=9)
    example = explain_example(params, activation, x, label)
    step = take_step(params, activation, example, 0.5)
    stepped = [{name: layer[name] - 0.5 * example.gradients[k][name] for name in layer} for k, layer in enumerate(params)]
    assert step.loss_after == pytest.approx(loss_above(stepped, activation, 0, x, label), rel=1e-12)
    assert step.loss_after < step.loss_before
    assert step.probabilities_after[label] > step.probabilities_before[label]
    assert step.probabilities_after.sum() == pytest.approx(1.0)


def test_without_a_label_the_predicted_class_is_explained():
    params, activation, x, _ = network_of([6], "relu", seed=10)
    example = explain_example(params, activation, x)
    assert example.label == example.predicted == int(np.argmax(forward(params, x[None], activation)[0]))
    assert example.path[-1] == example.label
