"""One hidden unit explained: what it listens to, what it computes for an input, what it votes for, which test
images drive it, and which units of its layer matter.

A unit of hidden layer ``l`` computes ``z = w·x + b`` over what its layer receives (``x``: the pixels for the first
hidden layer, the activations of layer ``l - 1`` above that) and outputs ``a = f(z)``. Everything here is read
from the weights and from one pass of the same ``forward`` that trains the network, over the whole test set
(``layer_values``), kept by a ``UnitStudy`` so that opening one unit after another costs almost nothing::

    study = UnitStudy(model, dataset)                 # one forward pass over the test set, on first use
    report = study.explain(UnitRef(0, 16), pixels)    # incoming, outgoing, z's terms, top images, histogram
    ranking = study.ablation(0)                       # every unit of layer 1 switched off in turn
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..data import Dataset, to_inputs
from ..model import Model
from ..nn.activations import get_activation
from ..nn.network import forward
from .edits import UnitRef
from .layers import LayerValues, layer_values

SHOWN_TERMS = 8  # the largest terms of z = w·x + b written out; the others are summed as "the rest"
STRONGEST = 10  # incoming or outgoing connections listed for a unit of a deeper layer
EXTREMES = 16  # test images that drive a unit most, and least
HISTOGRAM_BINS = 40
ABLATION_ROWS = 4096  # test images pushed through the layers above at once while ranking units (bounds memory)


# ---- when a unit does nothing useful: one definition per activation ------------------------------------------


@dataclass(frozen=True)
class Idleness:
    """When a unit of this activation passes (almost) nothing on: ``word`` ("dead", "saturated"), the ``rule`` as
    the learner reads it, and ``test(z, a)``, true where it holds."""

    word: str
    rule: str
    test: Callable[[np.ndarray, np.ndarray], np.ndarray]


SATURATION = 0.97  # tanh |a| above this, sigmoid a below 1 - this or above this: its slope is under 6 % of its best
IDLENESS: dict[str, Idleness] = {
    "relu": Idleness("dead", "a = 0 (z ≤ 0): it passes nothing on, and learns nothing from this input", lambda z, a: a <= 0),
    "leaky_relu": Idleness("dead", "z ≤ 0: it passes on only 1 % of z", lambda z, a: z <= 0),
    "gelu": Idleness("dead", "z ≤ 0: GELU passes on at most 0.17 below zero", lambda z, a: z <= 0),
    "tanh": Idleness(
        "saturated", f"|a| > {SATURATION}: tanh is flat there, so it learns almost nothing", lambda z, a: np.abs(a) > SATURATION
    ),
    "sigmoid": Idleness(
        "saturated",
        f"a < {1 - SATURATION:.2f} or a > {SATURATION}: the sigmoid is flat there, so it learns almost nothing",
        lambda z, a: (a < 1 - SATURATION) | (a > SATURATION),
    ),
}


# ---- what the study reports -----------------------------------------------------------------------------------


@dataclass
class WeightedSum:
    """``z = w·x + b`` for one input, as its ``SHOWN_TERMS`` largest terms ``x[i] × w[i]`` (by magnitude) and the
    sum of all the others. ``positions`` index what the layer receives: pixels (flat) for the first hidden layer,
    units of the layer below for a deeper one."""

    positions: np.ndarray  # (k,) int, largest |term| first
    inputs: np.ndarray  # (k,) x[positions]
    weights: np.ndarray  # (k,) w[positions]
    terms: np.ndarray  # (k,) inputs × weights
    rest: float  # the sum of every other term
    others: int  # how many other terms
    bias: float
    z: float  # from forward: terms.sum() + rest + bias, up to rounding
    a: float  # f(z), from forward


@dataclass
class UnitReport:
    """Everything the unit view shows about one hidden unit of one model (see the module docstring)."""

    unit: UnitRef
    incoming: np.ndarray  # (fan_in,) its weights; for the first hidden layer, reshape to the image shape
    bias: float
    strongest_incoming: np.ndarray  # indices into the layer below, largest |w| first (deeper layers only; else empty)
    outgoing: np.ndarray  # (fan_out,) the weights from it to every unit of the layer above, or to every class
    votes_for_classes: bool  # the layer above is the output: ``outgoing`` is one weight per class
    strongest_outgoing: np.ndarray  # indices into the layer above, largest |w| first
    most: np.ndarray  # (≤16,) test-image indices with the largest z, largest first
    least: np.ndarray  # (≤16,) test-image indices with the smallest z, smallest first
    z_of_test_images: np.ndarray  # (n,) its weighted sum for every test image
    histogram: tuple[np.ndarray, np.ndarray]  # bin edges (bins + 1,), counts (bins,) of its activation a over the test set
    idleness: Idleness
    idle_share: float  # the fraction of test images for which ``idleness.test`` holds
    weighted_sum: WeightedSum | None  # for the current input; None without one


@dataclass
class Ablation:
    """Every unit of hidden layer ``layer`` switched off in turn (its output replaced by 0), over the test set.

    ``accuracy`` is the test accuracy with no unit off; ``lost[j]`` how much it falls with unit ``j`` off (negative:
    it rises); ``lost_by_class[j, c]`` the same on the test images of class ``c``. ``ranking`` lists the units by
    accuracy lost, most first."""

    layer: int
    accuracy: float
    class_accuracy: np.ndarray  # (classes,)
    lost: np.ndarray  # (units,)
    lost_by_class: np.ndarray  # (units, classes)

    def ranking(self, class_index: int | None = None) -> np.ndarray:
        """Unit indices by accuracy lost (on every test image, or on those of ``class_index``), most first; ties
        keep the units' order."""
        lost = self.lost if class_index is None else self.lost_by_class[:, class_index]
        return np.argsort(-lost, kind="stable")


# ---- the study --------------------------------------------------------------------------------------------------


class UnitStudy:
    """Explanations of the hidden units of ``model`` over ``dataset``'s test images. The test set's layer values
    are computed once, on first use, and kept: make a new study for a new model (``for_model`` does)."""

    def __init__(self, model: Model, dataset: Dataset):
        self.model, self.dataset = model, dataset
        self.params = model.params
        self.activation = get_activation(model.activation)
        self.idleness = IDLENESS[model.activation]
        self._inputs: np.ndarray | None = None
        self._values: LayerValues | None = None

    def for_model(self, model: Model, dataset: Dataset) -> UnitStudy:
        """This study when it is of ``model`` and ``dataset`` (the very objects), else a new one."""
        return self if model is self.model and dataset is self.dataset else UnitStudy(model, dataset)

    @property
    def inputs(self) -> np.ndarray:
        """The test images as the network reads them (n, features)."""
        if self._inputs is None:
            self._inputs = to_inputs(self.dataset.test_images, self.model.dtype.type)
        return self._inputs

    @property
    def values(self) -> LayerValues:
        """Every layer's z and a for every test image (``layer_values``), computed on first use."""
        if self._values is None:
            self._values = layer_values(self.params, self.inputs, self.activation)
        return self._values

    @property
    def hidden_layers(self) -> int:
        return len(self.params) - 1

    def explain(self, unit: UnitRef, pixels: np.ndarray | None = None) -> UnitReport:
        """Everything about ``unit``; with ``pixels`` (the current input, any shape of the model's input size), its
        weighted sum for that input term by term."""
        layer, j = unit.layer, unit.unit
        incoming = self.params[layer]["W"][:, j]
        outgoing = self.params[layer + 1]["W"][j, :]
        z = self.values.pre_activations[layer][:, j]
        a = self.values.activations[layer][:, j]
        most, least = extremes(z, EXTREMES)
        return UnitReport(
            unit=unit,
            incoming=incoming,
            bias=float(self.params[layer]["b"][j]),
            strongest_incoming=strongest(incoming, STRONGEST) if layer > 0 else np.zeros(0, int),
            outgoing=outgoing,
            votes_for_classes=layer == self.hidden_layers - 1,
            strongest_outgoing=strongest(outgoing, STRONGEST),
            most=most,
            least=least,
            z_of_test_images=z,
            histogram=histogram(a),
            idleness=self.idleness,
            idle_share=float(self.idleness.test(z, a).mean()) if len(z) else 0.0,
            weighted_sum=self.weighted_sum(unit, pixels) if pixels is not None else None,
        )

    def weighted_sum(self, unit: UnitRef, pixels: np.ndarray) -> WeightedSum:
        """``z = w·x + b`` of ``unit`` for one input, term by term; z and a are ``forward``'s own."""
        x = pixels.reshape(1, -1).astype(self.model.dtype, copy=False)
        _, cache = forward(self.params, x, self.activation)
        received = cache.inputs[unit.layer][0]  # what the unit's layer receives: pixels, or the layer below's a
        w = self.params[unit.layer]["W"][:, unit.unit]
        terms = received.astype(np.float64) * w
        shown = strongest(terms, SHOWN_TERMS)
        rest = np.delete(terms, shown)
        return WeightedSum(
            positions=shown,
            inputs=received[shown].astype(np.float64),
            weights=w[shown].astype(np.float64),
            terms=terms[shown],
            rest=float(rest.sum()),
            others=len(rest),
            bias=float(self.params[unit.layer]["b"][unit.unit]),
            z=float(cache.pre_activations[unit.layer][0, unit.unit]),
            a=float(cache.activations[unit.layer][0, unit.unit]),
        )

    def ablation(self, layer: int, progress: Callable[[int, int], None] | None = None) -> Ablation:
        """Switch each unit of hidden ``layer`` off in turn and score the test set — what ``SwitchOff`` does to the
        weights, without copying them. From the one pass kept in ``values``: a unit's share of the next layer's
        weighted sums ``a @ W`` is its column's term ``a[:, j] × W[j]``; switched off, that term is taken away, and
        the sums go on through the layers above with ``forward``. ``progress(done, total)`` after each unit
        switched off, over each chunk of ``ABLATION_ROWS`` test images."""
        labels = self.dataset.test_labels.astype(np.int64)
        classes = self.params[-1]["W"].shape[1]
        outgoing = self.params[layer + 1]["W"]  # (units, next units): row j carries unit j's output up
        above = self.params[layer + 2 :]  # the layers after the next (none when the next is the output layer)
        next_sums = self.values.pre_activations[layer + 1] if above else self.values.logits
        activations = self.values.activations[layer]
        units = activations.shape[1]
        per_class = np.maximum(np.bincount(labels, minlength=classes), 1)

        def class_correct(predicted: np.ndarray, truth: np.ndarray) -> np.ndarray:
            return np.bincount(truth[predicted == truth], minlength=classes)

        correct_by_class = np.zeros((units, classes))
        chunks = range(0, len(labels), ABLATION_ROWS)
        for chunk, start in enumerate(chunks):
            rows = slice(start, start + ABLATION_ROWS)
            a, z = activations[rows], next_sums[rows]
            for j in range(units):
                switched = z - np.outer(a[:, j], outgoing[j])  # the next layer's sums without unit j's term
                logits = forward(above, self.activation.value(switched), self.activation)[0] if above else switched
                correct_by_class[j] += class_correct(logits.argmax(axis=1), labels[rows])
                if progress is not None:
                    progress(chunk * units + j + 1, len(chunks) * units)
        base = self.values.logits.argmax(axis=1)
        accuracy = float((base == labels).mean()) if len(labels) else 0.0
        by_class = class_correct(base, labels) / per_class
        switched_off = correct_by_class.sum(axis=1) / max(len(labels), 1)
        return Ablation(layer, accuracy, by_class, accuracy - switched_off, by_class - correct_by_class / per_class)


# ---- small helpers, over plain arrays ---------------------------------------------------------------------------


def strongest(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest ``|values|``, largest first (non-finite values count as largest)."""
    magnitude = np.nan_to_num(np.abs(values.astype(np.float64)), nan=np.inf)
    k = min(k, len(values))
    if k == 0:
        return np.zeros(0, int)
    top = np.argpartition(-magnitude, k - 1)[:k]
    return top[np.argsort(-magnitude[top], kind="stable")]


def extremes(values: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the ``k`` largest values (largest first) and the ``k`` smallest (smallest first), by
    ``argpartition``: linear in len(values), whatever k. NaN counts as neither."""
    finite = np.where(np.isfinite(values), values, np.nan)
    k = min(k, len(values))
    if k == 0:
        return np.zeros(0, int), np.zeros(0, int)
    high = np.nan_to_num(finite, nan=-np.inf)
    low = np.nan_to_num(finite, nan=np.inf)
    most = np.argpartition(-high, k - 1)[:k]
    least = np.argpartition(low, k - 1)[:k]
    return most[np.argsort(-high[most], kind="stable")], least[np.argsort(low[least], kind="stable")]


def histogram(values: np.ndarray, bins: int = HISTOGRAM_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges (bins + 1,) and counts (bins,) of the finite ``values``, in float64 (a single value: one bin)."""
    finite = values[np.isfinite(values)].astype(np.float64)
    if finite.size == 0:
        return np.array([0.0, 1.0]), np.zeros(1, np.int64)
    low, high = float(finite.min()), float(finite.max())
    if high - low < 1e-12 * max(abs(low), 1.0):
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(finite, bins=bins, range=(low, high))
    return edges, counts
