"""The arithmetic of one example: the numbers of one forward and one backward pass, laid out for a learner.

For one input ``x`` and its label, ``explain_example`` runs the steps that train the network once — ``forward``,
``softmax_cross_entropy`` and ``backward`` of ``scratchnet.nn`` — and lays their numbers out along a path of
units, one per layer, that ends at the label's logit:

- forward: each unit's weighted sum ``z = x·w + b`` as its largest terms ``x_i × w_i`` and the rest, its bias
  and its activation ``a = f(z)``; then the logits, the softmax steps (z − max, exp, ÷ sum), the probabilities
  and the loss ``−log p[label]``;
- backward: ``dlogits = p − y``; for each unit of the path its error ``δ = dL/dz``, carried back through ``Wᵀ``
  (the terms ``δ_k × w_jk`` over the units k above) and ``f'(z)``, and the gradient of its incoming weights,
  ``dL/dw_i = x_i × δ``.

The parts shown beside a result (the terms of a weighted sum, the softmax steps, the terms carried back) take
it apart for reading; the results themselves (z, a, the probabilities, the loss, every δ and every gradient) are
the ones ``scratchnet.nn`` computed, and the tests check that the parts add up to them. ``LINES`` names the line
of ``scratchnet/nn/network.py`` that computes each, found in the function's source, so the labels follow the file.

``take_step`` applies one plain gradient-descent step ``W -= lr · g`` to a copy of the weights and sets the
change of the loss beside its first-order prediction ``−lr · ‖g‖²``::

    relu = get_activation("relu")
    example = explain_example(model.params, relu, pixels, label=7)
    example.loss, example.forward[0].z, example.backward[0].delta
    step = take_step(model.params, relu, example, lr=0.1)
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..nn import network
from ..nn.activations import Activation
from ..nn.network import Params, backward, copy_params, forward, log_softmax, softmax_cross_entropy
from ..nn.optimizers import SGD

TOP_TERMS = 6  # terms of a sum shown one by one; the others are added up as "the rest"


# ---- where network.py computes each number ---------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A line of ``scratchnet/nn/network.py``: its number and its code; ``str`` gives "network.py:84"."""

    number: int
    code: str

    def __str__(self) -> str:
        return f"{Path(network.__file__).name}:{self.number}"


def find_line(function: Callable, statement: str) -> Line:
    """The line of ``function`` where ``statement`` is, compared as code (so spacing and quotes do not matter).

    Raises ``LookupError`` unless the statement is there exactly once: a label that would point elsewhere."""
    source, first = inspect.getsourcelines(function)
    wanted = ast.unparse(ast.parse(statement))
    found = [
        node.lineno
        for node in ast.walk(ast.parse(textwrap.dedent("".join(source))))
        if isinstance(node, ast.stmt) and ast.unparse(node) == wanted
    ]
    if len(found) != 1:
        raise LookupError(f"{statement!r} is in {function.__name__} {len(found)} times, not once")
    return Line(first + found[0] - 1, source[found[0] - 1].strip())


STATEMENTS = {  # what each number is → the function and statement of network.py that computes it
    "weighted_sum": (network.forward, 'z = a @ layer["W"]'),
    "bias": (network.forward, 'z += layer["b"]'),
    "activation": (network.forward, "a = activation.value(z)"),
    "logit_sum": (network.forward, 'logits = a @ params[-1]["W"]'),
    "logit_bias": (network.forward, 'logits += params[-1]["b"]'),
    "shift": (network.log_softmax, "shifted = logits - logits.max(axis=1, keepdims=True)"),
    "normalise": (network.log_softmax, "return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))"),
    "probabilities": (network.softmax_cross_entropy, "dlogits = np.exp(log_probs)"),
    "loss": (network.softmax_cross_entropy, "loss = -float(log_probs[rows, labels].mean())"),
    "dlogits": (network.softmax_cross_entropy, "dlogits[rows, labels] -= 1.0"),
    "gradients": (network.backward, 'grads[i] = {"W": cache.inputs[i].T @ delta, "b": delta.sum(axis=0)}'),
    "carry_back": (network.backward, 'delta = delta @ params[i]["W"].T'),
    "slope": (network.backward, "delta *= activation.derivative(cache.pre_activations[i - 1], cache.activations[i - 1])"),
}
LINES: dict[str, Line] = {name: find_line(function, statement) for name, (function, statement) in STATEMENTS.items()}


# ---- the numbers ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    """One term of a sum, ``left × right = value``, coming from input (or unit) ``source`` (0-based)."""

    source: int
    left: float
    right: float
    value: float


@dataclass(frozen=True, eq=False)
class Sum:
    """A sum of many products as a learner reads it: the largest one by one, the others in one figure."""

    terms: tuple[Product, ...]  # the largest |value| first; then the followed source, when it is not among them
    rest: float  # the other products added up
    rest_count: int
    rest_zeros: int  # how many of those are exactly 0 (pixels without ink, silent units)
    total: float  # every product added up
    products: np.ndarray  # (fan,) every product, float64
    followed: int | None = None  # the source on the path: the unit of the layer below explained next


@dataclass(frozen=True, eq=False)
class Forward:
    """Unit ``unit`` of dense layer ``layer`` (the last is the output) for this input: ``z = x·w + b``, then
    ``a = f(z)`` in a hidden layer. ``z`` and ``a`` are the forward pass's own."""

    layer: int
    unit: int
    weighted: Sum  # the terms x_i × w_i: LINES["weighted_sum"], or LINES["logit_sum"] for a logit
    bias: float
    z: float  # LINES["bias"] (z += b), or LINES["logit_bias"]
    a: float | None  # LINES["activation"]; None for a logit


@dataclass(frozen=True, eq=False)
class Backward:
    """Unit ``unit`` of dense layer ``layer``: its error ``δ = dL/dz`` and the gradient of its incoming weights,
    both from ``backward``. For a hidden unit, how δ came: the errors of the layer above carried back through
    ``Wᵀ`` (``carried``, adding up to dL/da) and multiplied by ``f'(z)`` (``slope``)."""

    layer: int
    unit: int
    carried: Sum | None  # δ_k × w_jk over the units k above: LINES["carry_back"]; None for a logit (δ = dlogit)
    slope: float | None  # f'(z): LINES["slope"]; None for a logit
    delta: float  # dL/dz = dL/db (LINES["slope"], or LINES["dlogits"] for a logit); its bias gradient (LINES["gradients"])
    weight_gradient: np.ndarray  # (fan_in,) dL/dw_i = x_i × δ: LINES["gradients"]
    largest: tuple[Product, ...]  # the largest |dL/dw_i| first, as x_i × δ = dL/dw_i


@dataclass(frozen=True, eq=False)
class Softmax:
    """The logits turned into probabilities, class by class. ``shifted``, ``exps`` and ``total`` are the steps
    of ``log_softmax`` taken apart for reading (float64); ``probabilities`` and ``dlogits`` are the training's own."""

    logits: np.ndarray  # (classes,) LINES["logit_bias"]
    shifted: np.ndarray  # z − max z: LINES["shift"]
    exps: np.ndarray  # exp(z − max z): LINES["normalise"]
    total: float  # Σ exp(z − max z): LINES["normalise"]
    probabilities: np.ndarray  # exp ÷ total: LINES["probabilities"]
    dlogits: np.ndarray  # p − y: LINES["dlogits"]


@dataclass(frozen=True, eq=False)
class Example:
    """Every number of one forward and backward pass for input ``x`` with class ``label``, along ``path``."""

    x: np.ndarray  # (1, inputs) as the network reads it
    label: int
    path: tuple[int, ...]  # the unit explained in each dense layer; the last is the label's logit
    forward: tuple[Forward, ...]  # one per dense layer, input side first
    softmax: Softmax
    loss: float  # −log p[label]: LINES["loss"]
    backward: tuple[Backward, ...]  # one per dense layer, input side first (backward computes them last first)
    gradients: Params  # every gradient of this example's loss, from backward

    @property
    def predicted(self) -> int:
        return int(np.argmax(np.nan_to_num(self.softmax.probabilities, nan=-1.0)))

    @property
    def squared_gradient_norm(self) -> float:
        """‖g‖², over every weight and bias."""
        return sum(float(np.vdot(g.astype(np.float64), g.astype(np.float64))) for layer in self.gradients for g in layer.values())


def explain_example(
    params: Params,
    activation: Activation,
    x: np.ndarray,
    label: int | None = None,
    through: tuple[int, int] | None = None,
    top: int = TOP_TERMS,
) -> Example:
    """The numbers of input ``x`` (any shape holding the network's inputs) with class ``label`` (None: the class
    the network predicts), from one ``forward``, ``softmax_cross_entropy`` and ``backward``.

    The path ends at the label's logit. Through ``(hidden layer, unit)`` (0-based) when given; below that unit
    (or the logit) each layer's unit is the one adding the largest term to the unit above it, and above it each
    layer's unit is the one it adds its largest term to (see ``unit_path``). ``top``: terms shown one by one."""
    classes = params[-1]["W"].shape[1]
    if label is not None and not 0 <= label < classes:
        raise ValueError(f"label {label} is not one of the {classes} classes")
    x = np.asarray(x).reshape(1, -1).astype(params[0]["W"].dtype)
    with np.errstate(all="ignore"):  # weights that overflow give inf and NaN, shown as such, not warnings
        logits, cache = forward(params, x, activation)
        if label is None:
            label = int(np.argmax(np.nan_to_num(logits[0], nan=-np.inf)))
        loss, dlogits = softmax_cross_entropy(logits, np.array([label]))
        gradients, _ = backward(params, cache, dlogits, activation)
        path = unit_path(params, cache, label, through)
        log_probabilities = log_softmax(logits)[0]  # as softmax_cross_entropy computed them
        forwards = tuple(_forward(params, cache, logits, layer, path, top) for layer in range(len(params)))
        backwards = tuple(_backward(params, cache, gradients, dlogits, activation, layer, path, top) for layer in range(len(params)))
        shifted = logits[0].astype(np.float64) - logits[0].max()
        exps = np.exp(shifted)
    steps = Softmax(logits[0].copy(), shifted, exps, float(exps.sum()), np.exp(log_probabilities), dlogits[0].copy())
    return Example(x, label, path, forwards, steps, loss, backwards, gradients)


def unit_path(params: Params, cache: network.Cache, label: int, through: tuple[int, int] | None = None) -> tuple[int, ...]:
    """One unit per dense layer, ending at ``label``'s logit, through ``(hidden layer, unit)`` when given.

    Below the chosen unit (or the logit), each hidden layer's unit is the strongest contributor to the unit
    above it: the largest |a_i × w_ij|. Above it, each layer's unit is the one the unit below adds its largest
    term to. A silent unit (a = 0) adds nothing anywhere: then the largest |weight| decides."""
    hidden = len(params) - 1
    path: list[int | None] = [None] * hidden + [label]
    if through is not None:
        layer, unit = through
        if not (0 <= layer < hidden and 0 <= unit < params[layer]["W"].shape[1]):
            raise ValueError(f"the network has no unit {unit + 1} in hidden layer {layer + 1}")
        path[layer] = unit
        for above in range(layer + 1, hidden):
            below = path[above - 1]
            path[above] = _strongest(cache.inputs[above][0, below], params[above]["W"][below, :])
    start = hidden - 1 if through is None else through[0] - 1
    for below in range(start, -1, -1):
        unit_above = path[below + 1]
        path[below] = _strongest(cache.inputs[below + 1][0], params[below + 1]["W"][:, unit_above])
    return tuple(int(unit) for unit in path)


def _strongest(values: np.ndarray | float, weights: np.ndarray) -> int:
    """The index of the largest |value × weight|; of the largest |weight| when every product is 0."""
    products = np.abs(np.asarray(values, np.float64) * weights.astype(np.float64))
    if not np.any(products):
        products = np.abs(weights.astype(np.float64))
    return int(_largest_first(products)[0])


def _largest_first(values: np.ndarray) -> np.ndarray:
    """Indices of ``values`` by decreasing magnitude (NaN first: it is what a learner most needs to see)."""
    return np.argsort(-np.nan_to_num(np.abs(values), nan=np.inf), kind="stable")


def _taken_apart(left: np.ndarray, right: np.ndarray, top: int, followed: int | None = None) -> Sum:
    """The sum of ``left × right`` (elementwise, float64) as its ``top`` largest products and the rest."""
    products = left.astype(np.float64) * right.astype(np.float64)
    shown = list(_largest_first(products)[:top])
    if followed is not None and followed not in shown:
        shown.append(followed)
    others = np.ones(len(products), bool)
    others[shown] = False
    terms = tuple(Product(int(i), float(left[i]), float(right[i]), float(products[i])) for i in shown)
    rest = products[others]
    return Sum(terms, float(rest.sum()), len(rest), int((rest == 0).sum()), float(products.sum()), products, followed)


def _forward(params: Params, cache: network.Cache, logits: np.ndarray, layer: int, path: tuple[int, ...], top: int) -> Forward:
    unit = path[layer]
    followed = path[layer - 1] if layer > 0 else None
    weighted = _taken_apart(cache.inputs[layer][0], params[layer]["W"][:, unit], top, followed)
    bias = float(params[layer]["b"][unit])
    if layer == len(params) - 1:
        return Forward(layer, unit, weighted, bias, float(logits[0, unit]), None)
    z, a = cache.pre_activations[layer][0, unit], cache.activations[layer][0, unit]
    return Forward(layer, unit, weighted, bias, float(z), float(a))


def _backward(
    params: Params,
    cache: network.Cache,
    gradients: Params,
    dlogits: np.ndarray,
    activation: Activation,
    layer: int,
    path: tuple[int, ...],
    top: int,
) -> Backward:
    """δ of the path's unit in ``layer``, read from ``backward``'s bias gradients (for one example dL/db = δ),
    and how it came: the δ of the layer above (its bias gradients, or dlogits) carried back through its weights."""
    unit = path[layer]
    delta = float(gradients[layer]["b"][unit])
    weight_gradient = gradients[layer]["W"][:, unit]
    inputs = cache.inputs[layer][0]
    largest = tuple(Product(int(i), float(inputs[i]), delta, float(weight_gradient[i])) for i in _largest_first(weight_gradient)[:top])
    if layer == len(params) - 1:
        return Backward(layer, unit, None, None, delta, weight_gradient, largest)
    delta_above = dlogits[0] if layer + 1 == len(params) - 1 else gradients[layer + 1]["b"]
    carried = _taken_apart(delta_above, params[layer + 1]["W"][unit, :], top, path[layer + 1])
    z, a = cache.pre_activations[layer][:, unit], cache.activations[layer][:, unit]
    slope = float(activation.derivative(z, a)[0])
    return Backward(layer, unit, carried, slope, delta, weight_gradient, largest)


# ---- one step ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GradientStep:
    """One plain gradient-descent step on one example's loss, ``W -= lr · g`` for every weight and bias (the
    ``SGD`` that trains, without momentum or weight decay), applied to a copy of the weights."""

    lr: float
    loss_before: float
    loss_after: float
    predicted_change: float  # the first-order prediction of the loss's change: −lr · ‖g‖²
    probabilities_before: np.ndarray  # (classes,)
    probabilities_after: np.ndarray

    @property
    def actual_change(self) -> float:
        return self.loss_after - self.loss_before

    @property
    def predicted_before(self) -> int:
        return int(np.argmax(np.nan_to_num(self.probabilities_before, nan=-1.0)))

    @property
    def predicted_after(self) -> int:
        return int(np.argmax(np.nan_to_num(self.probabilities_after, nan=-1.0)))


def take_step(params: Params, activation: Activation, example: Example, lr: float) -> GradientStep:
    """Step a copy of ``params`` down ``example``'s gradients at learning rate ``lr``, and read the example again
    with it (``params`` never change)."""
    stepped = copy_params(params)
    with np.errstate(all="ignore"):
        SGD(lr).step(stepped, example.gradients)
        logits, _ = forward(stepped, example.x, activation)
        loss, _ = softmax_cross_entropy(logits, np.array([example.label]))
        probabilities = np.exp(log_softmax(logits)[0])
    predicted_change = -lr * example.squared_gradient_norm
    return GradientStep(lr, example.loss, loss, predicted_change, example.softmax.probabilities, probabilities)
