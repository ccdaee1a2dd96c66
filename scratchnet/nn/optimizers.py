"""Optimisers: small objects that turn gradients into parameter updates, with their own state.

Every optimiser has ``step(params, grads)`` which updates the arrays of ``params`` in place.
Its hyper-parameters (``lr``, ``momentum``, ...) are plain attributes, so a trainer can
change them between two steps. ``weight_decay`` shrinks weights (never biases) toward
zero: added to the gradient (L2 regularisation) for SGD and Adam, applied directly to
the weights ("decoupled") for AdamW.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import ConfigError
from .network import Params


def _decayed_gradient(name: str, param: np.ndarray, grad: np.ndarray, weight_decay: float) -> np.ndarray:
    """``grad + weight_decay * W`` for weight matrices; biases are never decayed."""
    if weight_decay and name == "W":
        return grad + weight_decay * param
    return grad


def _zeros_like(params: Params) -> Params:
    """An array of zeros for each weight and bias: an optimiser's running state, or its scratch space."""
    return [{name: np.zeros_like(array) for name, array in layer.items()} for layer in params]


FLUSH_EVERY = 64


def _flush_subnormals(state: Params) -> None:
    """Set to zero the values too small to be normal floats (about 1e-38 in float32).

    A momentum term decays geometrically wherever the gradient is almost always zero (pixels that
    are rarely inked), ending in "subnormal" numbers; arithmetic on those is up to 100× slower and
    made training slow down epoch after epoch. Flushing them every few steps changes nothing else.
    """
    for layer in state:
        for array in layer.values():
            array[np.abs(array) < np.finfo(array.dtype).tiny] = 0


class SGD:
    """Gradient descent, optionally with (Nesterov) momentum.

    Plain:     ``W -= lr * g``
    Momentum:  ``v = momentum * v + g;  W -= lr * v``
    Nesterov:  ``v = momentum * v + g;  W -= lr * (g + momentum * v)``
    """

    def __init__(self, lr: float, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0):
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.velocity: Params | None = None
        self.t = 0
        self._scratch: Params | None = None  # one array per parameter for the update, so a step makes no new arrays

    def step(self, params: Params, grads: Params) -> None:
        if self._scratch is None:
            self._scratch = _zeros_like(params)
        if self.momentum and self.velocity is None:
            self.velocity = _zeros_like(params)
        self.t += 1
        if self.velocity is not None and self.t % FLUSH_EVERY == 0:
            _flush_subnormals(self.velocity)
        for i, (layer, layer_grads) in enumerate(zip(params, grads)):
            for name, param in layer.items():
                g = _decayed_gradient(name, param, layer_grads[name], self.weight_decay)
                scratch = self._scratch[i][name]
                direction = g
                if self.momentum:
                    v = self.velocity[i][name]
                    v *= self.momentum
                    v += g  # v = momentum v + g
                    direction = v
                    if self.nesterov:
                        np.multiply(v, self.momentum, out=scratch)
                        scratch += g  # g + momentum v
                        direction = scratch
                np.multiply(direction, self.lr, out=scratch)
                param -= scratch  # W -= lr · direction


class Adam:
    """Adam: per-weight step sizes from running averages of the gradient and its square.

    ``m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g²;  W -= lr · m̂ / (√v̂ + eps)``
    with ``m̂, v̂`` the bias-corrected averages. ``decoupled=True`` gives AdamW, whose weight
    decay ``W -= lr · weight_decay · W`` does not pass through the adaptive scaling.
    """

    def __init__(
        self,
        lr: float,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self.decoupled = decoupled
        self.t = 0
        self.m: Params | None = None
        self.v: Params | None = None
        self._scratch: Params | None = None  # one array per parameter for the update's intermediate values

    def step(self, params: Params, grads: Params) -> None:
        if self.m is None:
            self.m, self.v, self._scratch = _zeros_like(params), _zeros_like(params), _zeros_like(params)
        self.t += 1
        if self.t % FLUSH_EVERY == 0:
            _flush_subnormals(self.m)
            _flush_subnormals(self.v)
        # With m̂ = m / (1 - b1^t) and v̂ = v / (1 - b2^t), the update lr · m̂ / (√v̂ + eps) equals
        # step_size · m / (√v + eps · √(1 - b2^t)): both bias corrections folded into two scalars, so the
        # arrays are touched once. (Python floats, so float32 arrays stay float32.) Every operation writes into an
        # array that exists already (``out=``): no new arrays for the temporary values of a step.
        step_size = self.lr * math.sqrt(1.0 - self.beta2**self.t) / (1.0 - self.beta1**self.t)
        eps = self.eps * math.sqrt(1.0 - self.beta2**self.t)
        for i, (layer, layer_grads) in enumerate(zip(params, grads)):
            for name, param in layer.items():
                g = layer_grads[name]
                if self.decoupled:
                    if self.weight_decay and name == "W":
                        param *= 1.0 - self.lr * self.weight_decay
                else:
                    g = _decayed_gradient(name, param, g, self.weight_decay)
                m, v, scratch = self.m[i][name], self.v[i][name], self._scratch[i][name]
                np.multiply(g, 1.0 - self.beta1, out=scratch)
                m *= self.beta1
                m += scratch  # m = b1 m + (1 - b1) g
                np.multiply(g, g, out=scratch)
                scratch *= 1.0 - self.beta2
                v *= self.beta2
                v += scratch  # v = b2 v + (1 - b2) g²
                np.sqrt(v, out=scratch)
                scratch += eps
                np.divide(m, scratch, out=scratch)
                scratch *= step_size
                param -= scratch  # W -= step_size · m / (√v + eps)


OPTIMIZER_SETTINGS = {  # the hyper-parameters each optimiser reads besides lr and weight_decay
    "sgd": (),
    "momentum": ("momentum",),
    "nesterov": ("momentum",),
    "adam": ("beta1", "beta2"),
    "adamw": ("beta1", "beta2"),
}
OPTIMIZER_NAMES = tuple(OPTIMIZER_SETTINGS)
# Adam and AdamW divide each step by the gradient's running size, so their learning rate is the step itself, about
# a hundredth of a good rate for SGD with or without momentum. A rate for one kind is wrong for the other.
ADAPTIVE_OPTIMIZERS = ("adam", "adamw")
USUAL_LR = {False: 0.1, True: 0.001}  # by whether the optimiser is adaptive


def lr_after_switch(lr: float, old: str, new: str) -> float:
    """The learning rate to use after changing the optimiser from ``old`` to ``new``: ``lr`` itself between two of a
    kind (sgd, momentum, nesterov; adam, adamw), else the new kind's usual rate (0.1 or 0.001)."""
    adaptive = new in ADAPTIVE_OPTIMIZERS
    return lr if adaptive == (old in ADAPTIVE_OPTIMIZERS) else USUAL_LR[adaptive]


def make_optimizer(
    name: str,
    lr: float,
    momentum: float = 0.9,
    beta1: float = 0.9,
    beta2: float = 0.999,
    weight_decay: float = 0.0,
) -> SGD | Adam:
    """Build an optimiser by name: sgd, momentum, nesterov, adam or adamw."""
    if name == "sgd":
        return SGD(lr, weight_decay=weight_decay)
    if name in ("momentum", "nesterov"):
        return SGD(lr, momentum=momentum, nesterov=name == "nesterov", weight_decay=weight_decay)
    if name in ("adam", "adamw"):
        return Adam(lr, beta1, beta2, weight_decay=weight_decay, decoupled=name == "adamw")
    raise ConfigError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZER_NAMES)}")


def clip_grad_norm(grads: Params, max_norm: float) -> float:
    """Scale all gradients down together so their global L2 norm is at most ``max_norm``; return the norm before."""
    norm = float(np.sqrt(sum(float(np.vdot(g, g)) for layer in grads for g in layer.values())))
    if norm > max_norm:
        scale = max_norm / (norm + 1e-12)
        for layer in grads:
            for g in layer.values():
                g *= scale
    return norm
