"""The notebook's math: a multi-layer perceptron as plain functions over plain NumPy arrays.

Read it in this order:

- ``network``: ``init_params``, ``forward``, ``softmax_cross_entropy``, ``backward`` — the four steps of
  gradient descent, for any number of layers;
- ``activations``: tanh, ReLU, leaky ReLU, sigmoid, GELU, each with its derivative;
- ``initializers``: how the first weights are drawn (the notebook's ``randn``, Xavier, He, LeCun);
- ``optimizers``: SGD, momentum, Nesterov, Adam, AdamW — small objects with ``step(params, grads)``;
- ``schedules``: how the learning rate changes over a run;
- ``metrics``: accuracy, the confusion matrix, cross-entropy.

One step of training, as the notebook wrote it::

    params = init_params([784, 128, 128, 10], "he", rng)
    logits, cache = forward(params, x, get_activation("relu"))
    loss, dlogits = softmax_cross_entropy(logits, labels)
    grads, _ = backward(params, cache, dlogits, get_activation("relu"))
    optimizer.step(params, grads)

This package imports nothing of ScratchNet but ``scratchnet.errors``: the rest of ScratchNet (training loop,
data, files, the app) is built on top of it.
"""

from .activations import ACTIVATIONS, Activation, get_activation
from .initializers import INITIALIZERS, get_initializer
from .metrics import accuracy, confusion_matrix, evaluate
from .network import Params, backward, forward, init_params, predict_proba, softmax, softmax_cross_entropy
from .optimizers import OPTIMIZER_NAMES, make_optimizer
from .schedules import SCHEDULE_NAMES, Schedule

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "OPTIMIZER_NAMES",
    "SCHEDULE_NAMES",
    "Activation",
    "Params",
    "Schedule",
    "accuracy",
    "backward",
    "confusion_matrix",
    "evaluate",
    "forward",
    "get_activation",
    "get_initializer",
    "init_params",
    "make_optimizer",
    "predict_proba",
    "softmax",
    "softmax_cross_entropy",
]
