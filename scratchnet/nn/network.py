"""The network itself: the notebook's steps as plain functions, generalised to any depth.

A network with layer sizes ``[784, 128, 128, 10]`` has three dense layers. Its
parameters are a list with one dict per layer, ``{"W": (fan_in, fan_out), "b":
(fan_out,)}``, so a batch ``x`` of shape ``(n, fan_in)`` goes through a layer as
``x @ W + b``. Hidden layers apply the activation; the last layer gives the
logits, which softmax turns into class probabilities.

The four steps of gradient descent are:

    params = init_params(sizes, "he", rng)
    logits, cache = forward(params, x, relu)
    loss, dlogits = softmax_cross_entropy(logits, labels)
    grads, _ = backward(params, cache, dlogits, relu)
    optimizer.step(params, grads)            # see optimizers.py
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from .activations import Activation
from .initializers import get_initializer

Params = list[dict[str, np.ndarray]]


def init_params(layer_sizes: list[int], init: str, rng: np.random.Generator, dtype=np.float32) -> Params:
    """Draw weights with the named scheme, zero biases: one ``{"W", "b"}`` dict per layer."""
    if len(layer_sizes) < 2 or any(int(size) < 1 for size in layer_sizes):
        raise ConfigError(f"layer sizes must be at least [inputs, classes], all >= 1; got {layer_sizes}")
    draw = get_initializer(init)
    return [
        {"W": draw(fan_in, fan_out, rng).astype(dtype), "b": np.zeros(fan_out, dtype)}
        for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:])
    ]


def copy_params(params: Params) -> Params:
    """An independent copy of every weight and bias (for snapshots and rollbacks)."""
    return [{name: array.copy() for name, array in layer.items()} for layer in params]


def layer_sizes_of(params: Params) -> list[int]:
    """``[inputs, hidden..., classes]`` read back from the weight shapes."""
    return [params[0]["W"].shape[0]] + [layer["W"].shape[1] for layer in params]


def count_parameters(layer_sizes: list[int]) -> int:
    """Weights plus biases of a network with these layer sizes."""
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]))


@dataclass
class Cache:
    """What ``forward`` keeps for ``backward``: for each hidden layer its pre-activation ``z``,
    its output ``a = f(z)`` and its dropout mask; for every layer the input it received."""

    inputs: list[np.ndarray] = field(default_factory=list)
    pre_activations: list[np.ndarray] = field(default_factory=list)
    activations: list[np.ndarray] = field(default_factory=list)
    dropout_masks: list[np.ndarray | None] = field(default_factory=list)


def forward(
    params: Params,
    x: np.ndarray,
    activation: Activation,
    dropout: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, Cache]:
    """Propagate a batch ``x`` (n, inputs) through every layer; return the logits (n, classes) and the cache.

    With ``dropout > 0`` (training only) each hidden unit is zeroed with that probability and the
    survivors are scaled by ``1 / (1 - dropout)`` ("inverted dropout"), so inference needs no change.
    """
    cache = Cache()
    a = x
    for layer in params[:-1]:
        cache.inputs.append(a)
        z = a @ layer["W"]
        z += layer["b"]
        a = activation.value(z)
        cache.pre_activations.append(z)
        cache.activations.append(a)
        mask = None
        if dropout > 0:
            keep = 1.0 - dropout
            mask = (rng.random(a.shape, dtype=a.dtype) < keep) / a.dtype.type(keep)
            a = a * mask
        cache.dropout_masks.append(mask)
    cache.inputs.append(a)
    logits = a @ params[-1]["W"]
    logits += params[-1]["b"]
    return logits, cache


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """``log(softmax(logits))`` by the log-sum-exp trick: shift by the row maximum so exp never overflows."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities (n, classes); each row sums to 1."""
    return np.exp(log_softmax(logits))


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of integer ``labels`` (n,) under softmax(logits), and its gradient.

    The gradient of the mean loss with respect to the logits is ``(p - y) / n``, where ``p`` are
    the probabilities and ``y`` the one-hot labels: softmax and cross-entropy fused into one step.
    """
    n = len(labels)
    rows = np.arange(n)
    log_probs = log_softmax(logits)
    loss = -float(log_probs[rows, labels].mean())
    dlogits = np.exp(log_probs)
    dlogits[rows, labels] -= 1.0
    dlogits /= n
    return loss, dlogits


def backward(
    params: Params,
    cache: Cache,
    dlogits: np.ndarray,
    activation: Activation,
    input_grad: bool = False,
) -> tuple[Params, np.ndarray | None]:
    """Backpropagate ``dlogits`` (n, classes) to every weight and bias, from the last layer to the first.

    For layer ``l`` with input ``a`` and error ``delta`` at its output, ``dW = a.T @ delta`` and
    ``db = sum(delta)``; the error at its input is ``delta @ W.T``, times ``f'(z)`` of the layer
    before. Returns the gradients (same structure as ``params``) and, when ``input_grad`` is
    true, the gradient with respect to the network's input ``x`` (used for saliency maps).
    """
    grads: Params = [{} for _ in params]
    delta = dlogits
    for i in reversed(range(len(params))):
        grads[i] = {"W": cache.inputs[i].T @ delta, "b": delta.sum(axis=0)}
        if i == 0 and not input_grad:
            break
        delta = delta @ params[i]["W"].T
        if i > 0:
            delta *= activation.derivative(cache.pre_activations[i - 1], cache.activations[i - 1])
            if cache.dropout_masks[i - 1] is not None:
                delta *= cache.dropout_masks[i - 1]
    return grads, (delta if input_grad else None)


def predict_proba(params: Params, x: np.ndarray, activation: Activation, batch_size: int = 2048) -> np.ndarray:
    """Class probabilities for every row of ``x``, in batches so memory stays bounded."""
    out = np.empty((len(x), params[-1]["W"].shape[1]), dtype=params[-1]["W"].dtype)
    for start in range(0, len(x), batch_size):
        logits, _ = forward(params, x[start : start + batch_size], activation)
        out[start : start + batch_size] = softmax(logits)
    return out


def input_saliency(params: Params, x: np.ndarray, activation: Activation) -> tuple[np.ndarray, np.ndarray]:
    """Gradient of each row's predicted-class log-probability with respect to its input pixels.

    Returns ``(saliency, probabilities)``; ``saliency`` has the shape of ``x``. Large magnitudes mark the
    pixels whose change would most move the network's belief in its own answer.
    """
    logits, cache = forward(params, x, activation)
    log_probs = log_softmax(logits)
    probs = np.exp(log_probs)
    predicted = probs.argmax(axis=1)
    # d log p_k / d logits = onehot(k) - p
    dlogits = -probs
    dlogits[np.arange(len(x)), predicted] += 1.0
    _, dx = backward(params, cache, dlogits, activation, input_grad=True)
    return dx, probs
