"""Every layer's values for a whole set of inputs, from the same ``forward`` that trains the network.

The explanation views ask questions of many inputs at once — which test images drive a unit most, how often
it is dead, what the accuracy becomes when it is switched off. They all start from one forward pass over the
test set that keeps every layer, in batches so the pass itself stays small::

    values = layer_values(model.params, inputs, get_activation(model.activation))
    values.activations[0][:, 16]          # unit 17 of hidden layer 1, for every input
    forward(params[2:], values.activations[1], activation)   # the network above hidden layer 2
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.activations import Activation
from ..nn.network import Params, forward

BATCH = 2048  # rows per forward pass, so a pass over 10 000 images never holds more than this at once


@dataclass
class LayerValues:
    """For n inputs: each hidden layer's pre-activations ``z`` and activations ``a = f(z)``, both (n, units),
    and the logits (n, classes)."""

    pre_activations: list[np.ndarray]
    activations: list[np.ndarray]
    logits: np.ndarray

    def input_of(self, layer: int, inputs: np.ndarray) -> np.ndarray:
        """What dense layer ``layer`` (0 = the first) receives: the ``inputs`` themselves, or the activations of
        the hidden layer before it."""
        return inputs if layer == 0 else self.activations[layer - 1]


def layer_values(params: Params, inputs: np.ndarray, activation: Activation, batch_size: int = BATCH) -> LayerValues:
    """Run ``forward`` over ``inputs`` (n, features) in batches and keep every layer's values."""
    hidden = len(params) - 1
    n = len(inputs)
    dtype = params[0]["W"].dtype
    pre = [np.empty((n, layer["W"].shape[1]), dtype) for layer in params[:-1]]
    post = [np.empty_like(z) for z in pre]
    logits = np.empty((n, params[-1]["W"].shape[1]), dtype)
    for start in range(0, n, batch_size):
        rows = slice(start, start + batch_size)
        logits[rows], cache = forward(params, inputs[rows], activation)
        for k in range(hidden):
            pre[k][rows] = cache.pre_activations[k]
            post[k][rows] = cache.activations[k]
    return LayerValues(pre, post, logits)
