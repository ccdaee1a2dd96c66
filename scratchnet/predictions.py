"""A model's answers on a labelled image set, per image: what it predicted, how sure it was, how wrong.

The test-set browser and the confusion matrix both look at the same 10 000 answers; they are computed
once here (one batched forward pass) and then filtered and sorted as index arrays::

    answers = Predictions.on_test_set(model, dataset)
    rows = answers.select(true_class=4, predicted_class=9)            # the 4s taken for 9s
    rows = answers.select(mistakes_only=True, order="loss")           # worst mistakes first
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .data import Dataset
from .model import Model
from .nn.metrics import confusion_matrix, cross_entropies

# The orders ``select`` knows, each with a label for menus.
ORDERS: dict[str, str] = {
    "index": "index",
    "confidence_ascending": "confidence, least sure first",
    "confidence_descending": "confidence, surest first",
    "loss": "loss, worst first",
}


@dataclass
class Predictions:
    """Probabilities (n, classes) for n images with integer labels (n,), and what follows from them."""

    probabilities: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    predicted: np.ndarray = field(init=False)  # (n,) most probable class
    confidence: np.ndarray = field(init=False)  # (n,) its probability
    loss: np.ndarray = field(init=False)  # (n,) cross-entropy -log p(label)
    correct: np.ndarray = field(init=False)  # (n,) bool

    def __post_init__(self):
        rows = np.arange(len(self.labels))
        self.predicted = self.probabilities.argmax(axis=1)
        self.confidence = self.probabilities[rows, self.predicted]
        self.loss = cross_entropies(self.probabilities, self.labels)
        self.correct = self.predicted == self.labels

    @classmethod
    def on_test_set(cls, model: Model, dataset: Dataset) -> Predictions:
        """Run ``model`` on the test images of ``dataset`` in one batched pass (names from the dataset)."""
        return cls(model.predict_images(dataset.test_images), dataset.test_labels, list(dataset.class_names))

    @property
    def mistakes(self) -> int:
        return int((~self.correct).sum())

    @property
    def accuracy(self) -> float:
        return float(self.correct.mean()) if len(self.correct) else 0.0

    def confusion(self) -> np.ndarray:
        """``matrix[true, predicted]`` counts, (classes, classes)."""
        return confusion_matrix(self.labels, self.predicted, len(self.class_names))

    def select(
        self,
        true_class: int | None = None,
        predicted_class: int | None = None,
        mistakes_only: bool = False,
        order: str = "index",
    ) -> np.ndarray:
        """Indices of the images that pass every given filter, in ``order`` (one of ``ORDERS``)."""
        keep = np.ones(len(self.labels), dtype=bool)
        if true_class is not None:
            keep &= self.labels == true_class
        if predicted_class is not None:
            keep &= self.predicted == predicted_class
        if mistakes_only:
            keep &= ~self.correct
        rows = np.flatnonzero(keep)
        if order == "index":
            return rows
        key = {"confidence_ascending": self.confidence, "confidence_descending": -self.confidence, "loss": -self.loss}[order]
        return rows[np.argsort(key[rows], kind="stable")]
