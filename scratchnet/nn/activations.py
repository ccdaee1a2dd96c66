"""Activation functions, each with its derivative.

A hidden layer computes ``a = f(z)`` from its pre-activation ``z = x @ W + b``.
Backpropagation needs ``f'(z)``; for some functions it is cheaper to write it
with the output ``a`` that the forward pass already has (``tanh' = 1 - a**2``),
so every derivative receives both ``z`` and ``a``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

LEAKY_SLOPE = 0.01
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


@dataclass(frozen=True)
class Activation:
    """An elementwise non-linearity: ``value(z)`` and ``derivative(z, a)`` with ``a = value(z)``."""

    name: str
    value: Callable[[np.ndarray], np.ndarray]
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(z / 2)) equals 1 / (1 + exp(-z)) but never overflows.
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _gelu(z: np.ndarray) -> np.ndarray:
    """GELU, tanh approximation: 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))."""
    return 0.5 * z * (1.0 + np.tanh(_SQRT_2_OVER_PI * (z + 0.044715 * z**3)))


def _gelu_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    t = np.tanh(_SQRT_2_OVER_PI * (z + 0.044715 * z**3))
    dt_dz = (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3 * 0.044715 * z * z)
    return 0.5 * (1.0 + t) + 0.5 * z * dt_dz


ACTIVATIONS: dict[str, Activation] = {
    act.name: act
    for act in (
        Activation("tanh", np.tanh, lambda z, a: 1.0 - a * a),
        Activation("relu", lambda z: np.maximum(z, 0), lambda z, a: (z > 0).astype(z.dtype)),
        Activation(
            "leaky_relu",
            lambda z: np.where(z > 0, z, LEAKY_SLOPE * z),
            lambda z, a: np.where(z > 0, 1.0, LEAKY_SLOPE).astype(z.dtype),
        ),
        Activation("sigmoid", _sigmoid, lambda z, a: a * (1.0 - a)),
        Activation("gelu", _gelu, _gelu_derivative),
    )
}


def get_activation(name: str) -> Activation:
    """Look an activation up by name, with an error that lists the choices."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ConfigError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None
