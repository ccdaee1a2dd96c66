"""Ways to score predictions: accuracy, per-class accuracy, confusion matrix, top-k; and the smoothed batch loss."""

from __future__ import annotations

import numpy as np


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of rows whose most probable class is the label."""
    return float((probabilities.argmax(axis=1) == labels).mean())


def top_k_accuracy(probabilities: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Fraction of rows whose label is among the ``k`` most probable classes."""
    top_k = np.argpartition(-probabilities, kth=min(k, probabilities.shape[1]) - 1, axis=1)[:, :k]
    return float((top_k == labels[:, None]).any(axis=1).mean())


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """``matrix[true, predicted]`` = how many images of class ``true`` were predicted as ``predicted``."""
    return np.bincount(labels * num_classes + predicted, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Recall of each class: the diagonal over the row totals (NaN for a class with no images)."""
    totals = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(confusion) / totals, np.nan)


def cross_entropies(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Each image's ``-log p(label)``, with probabilities floored at the smallest positive float to stay finite."""
    p = probabilities[np.arange(len(labels)), labels]
    return -np.log(np.maximum(p, np.finfo(p.dtype).tiny))


def mean_cross_entropy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The loss over a whole set: the mean of ``cross_entropies``."""
    return float(cross_entropies(probabilities, labels).mean())


def evaluate(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    """Everything worth reporting about predictions on a labelled set, as plain JSON-ready values."""
    num_classes = probabilities.shape[1]
    confusion = confusion_matrix(labels, probabilities.argmax(axis=1), num_classes)
    return {
        "accuracy": accuracy(probabilities, labels),
        "top2_accuracy": top_k_accuracy(probabilities, labels, 2),
        "loss": mean_cross_entropy(probabilities, labels),
        "per_class_accuracy": [None if np.isnan(a) else float(a) for a in per_class_accuracy(confusion)],
        "confusion_matrix": confusion.tolist(),
        "count": int(len(labels)),
    }


class LossSmoother:
    """The batch loss smoothed over about a tenth of an epoch: a bias-corrected exponential moving average
    (``a = k·a + (1 - k)·loss``, shown as ``a / (1 - kⁿ)`` after n batches, so the start is not pulled to 0).
    The app's loss plot and the run store draw the same line."""

    def __init__(self, batches_per_epoch: int):
        span = min(max(batches_per_epoch / 10, 1.0), 50.0)
        self.keep = 1 - 2 / (span + 1)  # the average's weight on its past
        self.average = 0.0
        self.count = 0

    def add(self, loss: float) -> float:
        """Take one batch's loss; return the smoothed loss so far."""
        self.average = self.keep * self.average + (1 - self.keep) * loss
        self.count += 1
        return self.average / (1 - self.keep**self.count)
