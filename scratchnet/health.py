"""Health signals: what a training step shows about each layer, measured while the run trains.

Every few batches the trainer hands a ``HealthProbe`` what its step has computed anyway — the forward pass's
cache, the gradients, the weights before and after the update — and the probe turns it into a ``HealthSample``.
Nothing is recomputed: a probe costs a few reductions over arrays the step already holds and one copy of the
weights (about 1 % of the training time of the ``default`` preset; ``benchmarks/bench_health.py`` measures it).

Per hidden layer, on the batch at hand:

- the mean and the spread (standard deviation) of its activations ``a``;
- the share of **dead** units, units that are never active on the batch, so that no gradient reaches their
  weights: for ReLU and leaky ReLU ``z <= 0`` for every example (leaky ReLU then passes 1 % of the signal);
  for GELU ``z < -3`` for every example (there its value and its slope are both below 0.012 in size);
- the share of **saturated** outputs, of all (example, unit) pairs: tanh beyond ``|a| > 0.97``, sigmoid beyond
  ``|2a - 1| > 0.97`` (``a < 0.015`` or ``a > 0.985``). At those points the derivative is below 6 % of its peak
  (``1 - a²`` for tanh, ``a (1 - a)`` for sigmoid), so the error signal hardly passes back.

Per dense layer (the output layer too): the norm of its gradient (weights and bias, before any clipping) and
``log10(||ΔW|| / ||W||)``, the size of the step the optimiser took against the size of the weights: about −3 is
the usual healthy scale (each step changes the weights by a thousandth); −1 throws them about, −5 hardly moves them.

The batch loss goes with each sample: the first is the loss at initialisation, which for a network that starts
unbiased is about ``ln(classes)``, a uniform guess's (2.30 for 10 classes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import stored_values
from .nn.network import Cache, Params

SATURATED = 0.97  # |a| of tanh (|2a - 1| of sigmoid) past which a unit is saturated
DEAD_BELOW = {"relu": 0.0, "leaky_relu": 0.0, "gelu": -3.0}  # a unit whose z never exceeds this on a batch is dead
SAMPLES_PER_EPOCH = 20  # how often a run is measured: about this many probes per epoch, and at least one


@dataclass
class HealthSample:
    """What one step showed. Lists run over the hidden layers (``mean``, ``spread``, ``dead``, ``saturated``) or
    over every dense layer (``grad_norm``, ``update_ratio``); a share that the activation has no meaning for
    (dead tanh units, saturated ReLU ones), or a figure that a stored run has lost, is None."""

    loss: float | None  # None only when read back from a store that could not tell it
    mean: list[float | None]
    spread: list[float | None]
    dead: list[float | None]  # share of the layer's units that are never active on the batch
    saturated: list[float | None]  # share of the layer's outputs beyond ±0.97 (tanh) or 0.015 / 0.985 (sigmoid)
    grad_norm: list[float | None]
    update_ratio: list[float | None]  # log10(||ΔW|| / ||W||); None for a step that changed nothing


# The signals a sample holds, in the order plots list them: name -> what it is, for a label.
SIGNALS = {
    "mean": "activation mean",
    "spread": "activation spread (std)",
    "dead": "dead units (share)",
    "saturated": "saturated outputs (share)",
    "grad_norm": "gradient norm",
    "update_ratio": "log10 update / weight",
}


@dataclass
class HealthHistory:
    """A run's health samples, each at its point of training ``at``: the epochs done before its step (0: the first
    step, on the initial weights; 2.5: halfway through the third epoch), for a network with ``classes`` outputs."""

    classes: int
    at: list[float] = field(default_factory=list)
    samples: list[HealthSample] = field(default_factory=list)

    def add(self, at: float, sample: HealthSample) -> None:
        self.at.append(at)
        self.samples.append(sample)

    @property
    def initial_loss(self) -> float | None:
        """The loss of the first step, before any update: the loss at initialisation (None before any sample)."""
        return self.samples[0].loss if self.samples else None

    def layers(self, signal: str) -> int:
        """How many layers ``signal`` has values for (hidden layers, or every dense layer)."""
        return max((len(getattr(sample, signal)) for sample in self.samples), default=0)

    def series(self, signal: str, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """``signal`` of layer ``layer`` (0: the first) over the run: (x in epochs, y), the samples without it left out."""
        points = [(at, getattr(sample, signal)[layer]) for at, sample in zip(self.at, self.samples) if layer < len(getattr(sample, signal))]
        points = [(at, value) for at, value in points if value is not None]
        x, y = zip(*points) if points else ((), ())
        return np.array(x, float), np.array(y, float)

    def recent(self, signal: str, layer: int, samples: int = 5) -> float | None:
        """The median of ``signal`` of layer ``layer`` over the last ``samples`` samples (None: none has it)."""
        _, values = self.series(signal, layer)
        values = values[-samples:]
        values = values[np.isfinite(values)]
        return float(np.median(values)) if len(values) else None


def every_how_many(batches_per_epoch: int) -> int:
    """Measure every this many batches: ``SAMPLES_PER_EPOCH`` times an epoch, every batch for short epochs."""
    return max(1, batches_per_epoch // SAMPLES_PER_EPOCH)


class HealthProbe:
    """Made between ``backward`` and the optimiser's step (it reads the raw gradients and keeps the weights as
    they were); ``after_step`` then measures the step and returns the ``HealthSample``."""

    def __init__(self, activation: str, loss: float, cache: Cache, grads: Params, params: Params):
        self.loss = loss
        self.mean = [float(a.mean()) for a in cache.activations]
        self.spread = [float(a.std()) for a in cache.activations]
        self.dead = [_dead_share(activation, z) for z in cache.pre_activations]
        self.saturated = [_saturated_share(activation, a) for a in cache.activations]
        self.grad_norm = [_norm(layer["W"], layer["b"]) for layer in grads]
        self.before = [(layer["W"].copy(), layer["b"].copy()) for layer in params]

    def after_step(self, params: Params) -> HealthSample:
        """The sample, with the update-to-weight ratio of the step just taken on ``params``."""
        ratios = []
        for (w, b), layer in zip(self.before, params):
            change, size = _norm(layer["W"] - w, layer["b"] - b), _norm(w, b)
            ratios.append(math.log10(change / size) if 0 < change < math.inf and 0 < size < math.inf else None)
        return HealthSample(self.loss, self.mean, self.spread, self.dead, self.saturated, self.grad_norm, ratios)


def _dead_share(activation: str, z: np.ndarray) -> float | None:
    """Share of the units (columns of ``z``, (n, units)) active for no example of the batch."""
    if activation not in DEAD_BELOW:
        return None
    active = (z > DEAD_BELOW[activation]).any(axis=0)
    return 1.0 - float(active.mean())


def _saturated_share(activation: str, a: np.ndarray) -> float | None:
    """Share of the outputs ``a`` (n, units) in the flat tails of tanh or sigmoid."""
    if activation == "tanh":
        return float((np.abs(a) > SATURATED).mean())
    if activation == "sigmoid":
        return float((np.abs(2 * a - 1) > SATURATED).mean())
    return None


def _norm(*arrays: np.ndarray) -> float:
    """The Euclidean norm of all the arrays' entries together."""
    return math.sqrt(sum(float(np.dot(array.ravel(), array.ravel())) for array in arrays))


# ---- in the run store: one row per sample and dense layer (see runs.HEALTH_MIGRATION) ----------------------

HEALTH_COLUMNS = ("at", "layer", "loss", *SIGNALS)
MAX_STORED_ROWS = 500_000  # rows of one run read back at most (a 2 000-epoch notebook run writes 6 000)


def health_rows(at: float, sample: HealthSample) -> list[tuple]:
    """The rows of one sample, in ``HEALTH_COLUMNS`` order: one per dense layer, the output layer's activation
    figures NULL; a figure that is not finite is NULL too."""
    rows = []
    for layer in range(len(sample.grad_norm)):
        hidden = layer < len(sample.mean)
        values = [getattr(sample, name)[layer] if hidden or name in ("grad_norm", "update_ratio") else None for name in SIGNALS]
        rows.append((at, layer, *(_finite_or_none(value) for value in (sample.loss, *values))))
    return rows


def read_health_rows(rows: list[tuple], classes: int) -> HealthHistory:
    """A ``HealthHistory`` from stored rows (``HEALTH_COLUMNS``, ordered by at and layer), read as a stranger's
    input: a figure that is not a finite number is missing (None), and a sample whose layers are not numbered
    0, 1, 2, … or whose point of training cannot be read is left out."""
    history = HealthHistory(classes)
    for at, layers in _by_sample(rows):
        if [layer[0] for layer in layers] != list(range(len(layers))):
            continue  # a layer missing: not a sample this store wrote
        figures = [[layer[2 + index] for layer in layers] for index in range(len(SIGNALS))]
        hidden = len(layers) - 1  # the last dense layer is the output layer: it has no activation figures
        history.add(at, HealthSample(layers[0][1], *(values[:hidden] for values in figures[:4]), *figures[4:]))
    return history


def _by_sample(rows: list[tuple]):
    """Rows grouped by their point of training: (at, [(layer, loss, *signals), ...]); unreadable ones dropped."""
    current, layers = None, []
    for row in rows:
        try:
            at = stored_values.real(row[0], 0.0, 1e9)
            layer = stored_values.whole(row[1], high=10_000)
        except stored_values.Unreadable:
            continue
        values = tuple(_number_or_none(value) for value in row[2:])
        if at != current:
            if layers:
                yield current, layers
            current, layers = at, []
        layers.append((layer, *values))
    if layers:
        yield current, layers


def _finite_or_none(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _number_or_none(value: object) -> float | None:
    try:
        return stored_values.real(value)
    except stored_values.Unreadable:
        return None
