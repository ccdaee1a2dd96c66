"""What edits do to the whole test set: accuracy before → after, per class, the mistakes they make and mend, and
how sure the network is — fast enough to follow every edit a learner makes (10 000 images in a few milliseconds).

An ``EditEvaluator`` runs the trained network over the test set once and keeps every layer (``layer_values``).
An edit leaves every layer below the first one it changes as it was, so only the network from that layer up is
run again, by the same ``forward``, on what that layer receives. When that layer changes in a few of its units
only (a unit's incoming weights scaled, its bias shifted), only those units' weighted sums are computed: by
``forward`` of the layer cut down to those units, whose "logits" are exactly their columns of ``z``::

    evaluator = EditEvaluator(model.params, get_activation(model.activation), inputs, labels, class_names)
    effect = evaluator.effect(apply_edits(model.params, [SwitchOff(UnitRef(0, 16))]))
    effect.accuracy_before, effect.accuracy_after, effect.broken, effect.mended

Edits that change every weight (prune, weight noise) change the first layer: the whole network is run again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..nn.activations import Activation
from ..nn.metrics import per_class_accuracy
from ..nn.network import Params, forward, softmax
from ..predictions import Predictions
from .layers import BATCH, layer_values


def first_changed_layer(trained: Params, edited: Params) -> tuple[int, np.ndarray] | None:
    """The first dense layer (0 = the first) whose weights or biases differ between ``trained`` and ``edited``,
    and the units (columns) of it that differ; None when no layer does."""
    for layer, (before, after) in enumerate(zip(trained, edited)):
        changed = (before["W"] != after["W"]).any(axis=0) | (before["b"] != after["b"])
        if changed.any():
            return layer, np.flatnonzero(changed)
    return None


@dataclass
class EditEffect:
    """The test set's answers before the edits (the trained weights) and after them, and what changed."""

    before: Predictions
    after: Predictions

    @property
    def accuracy_before(self) -> float:
        return self.before.accuracy

    @property
    def accuracy_after(self) -> float:
        return self.after.accuracy

    @property
    def per_class_before(self) -> np.ndarray:
        """Each class's accuracy (recall) with the trained weights; NaN for a class with no test images."""
        return per_class_accuracy(self.before.confusion())

    @property
    def per_class_after(self) -> np.ndarray:
        return per_class_accuracy(self.after.confusion())

    @property
    def broken(self) -> np.ndarray:
        """Test images right before the edits and wrong after them, the surest mistakes first."""
        return _surest_first(self.before.correct & ~self.after.correct, self.after.confidence)

    @property
    def mended(self) -> np.ndarray:
        """Test images wrong before the edits and right after them, the surest first."""
        return _surest_first(~self.before.correct & self.after.correct, self.after.confidence)

    @property
    def confidence_before(self) -> float:
        """The mean probability the trained network gives its own answer."""
        return float(self.before.confidence.mean())

    @property
    def confidence_after(self) -> float:
        return float(self.after.confidence.mean())

    @property
    def loss_before(self) -> float:
        """The mean cross-entropy −log p(label) (the negative log-likelihood) of the trained network."""
        return float(self.before.loss.mean())

    @property
    def loss_after(self) -> float:
        return float(self.after.loss.mean())

    @property
    def overflows(self) -> bool:
        """Whether the edited weights compute infinite or NaN values for some test image (their answers mean nothing)."""
        return not np.isfinite(self.after.probabilities).all()


def _surest_first(rows: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    indices = np.flatnonzero(rows)
    return indices[np.argsort(-confidence[indices], kind="stable")]


class EditEvaluator:
    """The trained network's values over a labelled set (``inputs`` (n, features) scaled as the network reads
    them, integer ``labels`` (n,)), kept to score edited copies of its weights quickly. ``params`` are never changed."""

    def __init__(self, params: Params, activation: Activation, inputs: np.ndarray, labels: np.ndarray, class_names: list[str]):
        self.params, self.activation = params, activation
        self.inputs, self.labels, self.class_names = inputs, labels, list(class_names)
        with np.errstate(all="ignore"):
            self.values = layer_values(params, inputs, activation)
            self.before = Predictions(softmax(self.values.logits), labels, self.class_names)

    def effect(self, edited: Params) -> EditEffect:
        """The answers of a network with the weights ``edited`` (the trained ones, edited), beside the trained ones."""
        with np.errstate(all="ignore"):  # edited weights may overflow: ``EditEffect.overflows`` says so
            after = Predictions(softmax(self.logits(edited)), self.labels, self.class_names)
        return EditEffect(self.before, after)

    def logits(self, edited: Params) -> np.ndarray:
        """The logits (n, classes) of the edited network for every input, computed from the first layer the
        edits changed (see the module docstring)."""
        changed = first_changed_layer(self.params, edited)
        if changed is None:
            return self.values.logits
        layer, units = changed
        received = self.values.input_of(layer, self.inputs)
        sums = [*self.values.pre_activations, self.values.logits][layer]  # that layer's z with the trained weights
        width = sums.shape[1]
        cut = [edited[layer]] if len(units) == width else [{"W": edited[layer]["W"][:, units], "b": edited[layer]["b"][units]}]
        above = edited[layer + 1 :]
        logits = np.empty_like(self.values.logits)
        for start in range(0, len(received), BATCH):
            rows = slice(start, start + BATCH)
            changed_sums, _ = forward(cut, received[rows], self.activation)  # a one-layer network: its logits are z
            if len(units) < width:
                z = sums[rows].copy()
                z[:, units] = changed_sums
            else:
                z = changed_sums
            if not above:  # the output layer itself: z are the logits
                logits[rows] = z
            else:
                logits[rows], _ = forward(above, self.activation.value(z), self.activation)
        return logits

    def probabilities_for(self, edited: Params, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The class probabilities for inputs ``x`` (n, features) of the trained network and of the edited one."""
        with np.errstate(all="ignore"):
            trained, _ = forward(self.params, x, self.activation)
            changed, _ = forward(edited, x, self.activation)
            return softmax(trained), softmax(changed)
