"""Weight initialisation schemes.

Each scheme draws a weight matrix of shape ``(fan_in, fan_out)`` from a seeded
generator. The scaled schemes keep the variance of activations roughly constant
from layer to layer, which is what lets deep networks start learning at once;
the notebook's plain ``randn`` (variance 1) saturates tanh units instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ConfigError

Initializer = Callable[[int, int, np.random.Generator], np.ndarray]


def randn(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Standard normal weights, exactly as the original notebook drew them."""
    return rng.standard_normal((fan_in, fan_out))


def xavier(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """Glorot/Xavier uniform: variance 2 / (fan_in + fan_out), suited to tanh and sigmoid."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out))


def he(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """He/Kaiming normal: variance 2 / fan_in, suited to ReLU-like units that zero half their input."""
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)


def lecun(fan_in: int, fan_out: int, rng: np.random.Generator) -> np.ndarray:
    """LeCun normal: variance 1 / fan_in."""
    return rng.standard_normal((fan_in, fan_out)) * np.sqrt(1.0 / fan_in)


INITIALIZERS: dict[str, Initializer] = {f.__name__: f for f in (randn, xavier, he, lecun)}


def get_initializer(name: str) -> Initializer:
    """Look an initialiser up by name, with an error that lists the choices."""
    try:
        return INITIALIZERS[name]
    except KeyError:
        raise ConfigError(f"unknown initialisation {name!r}; choose one of {', '.join(INITIALIZERS)}") from None
