"""Does the network know when it does not know? Confidence thresholds, calibration and temperature scaling.

A model's confidence is the probability it gives its answer. With a threshold, it answers only when that
confidence reaches it and says "I don't know" otherwise: it answers fewer images, and gets more of those right.
``risk_coverage`` traces that trade for every threshold at once; ``answered_at`` reads it at one.

A model is *calibrated* when, of the answers it gives with 80 % confidence, 80 % are right. The reliability
diagram (``reliability``) bins the answers by confidence and sets each bin's accuracy against its mean confidence;
the expected calibration error (ECE) is the gap between the two, averaged over the bins weighted by their share
of the answers. Networks trained with cross-entropy are often overconfident; **temperature scaling** divides the
logits by one number ``T`` fitted on held-out images (``fit_temperature``), which leaves every answer as it was
and only makes the confidences more honest::

    probabilities = softmax(logits / T)

``calibrate(model, dataset)`` fits ``T`` on the model's validation split and measures ECE on the test set,
before and after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .data import Dataset, to_inputs
from .model import Model
from .nn.network import log_softmax

BINS = 10  # of the reliability diagram: confidences 0–10 %, 10–20 %, …
# Temperatures searched by fit_temperature: far beyond what a trained network needs on either side.
LOWEST_TEMPERATURE, HIGHEST_TEMPERATURE = 0.05, 20.0
FALLBACK_VALIDATION = 5000  # training images held out when a model does not record its validation split


@dataclass(frozen=True)
class Answered:
    """What a threshold leaves: ``answered`` of ``total`` images get an answer, ``right`` of those correctly."""

    answered: int
    right: int
    total: int

    @property
    def coverage(self) -> float:
        """The fraction of images answered."""
        return self.answered / self.total if self.total else 0.0

    @property
    def accuracy(self) -> float | None:
        """The fraction of the answers that are right (None when nothing is answered)."""
        return self.right / self.answered if self.answered else None

    def sentence(self, threshold: float) -> str:
        """ "At 90 % confidence: answers 96.1 % of images, 99.5 % of those right." """
        if not self.answered:
            return f"At {100 * threshold:g} % confidence: answers none of the {self.total:,} images."
        return (
            f"At {100 * threshold:g} % confidence: answers {100 * self.coverage:.1f} % of images "
            f"({self.answered:,} of {self.total:,}), {100 * self.accuracy:.2f} % of those right."
        )


def answered_at(confidence: np.ndarray, correct: np.ndarray, threshold: float) -> Answered:
    """The images (n,) whose ``confidence`` reaches ``threshold`` and how many of them are ``correct``."""
    answer = confidence >= threshold
    return Answered(int(answer.sum()), int((answer & correct).sum()), len(confidence))


def risk_coverage(confidence: np.ndarray, correct: np.ndarray, points: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The risk-coverage curve: (coverage, accuracy, threshold), each (k,), ordered from the surest answers alone
    to every answer.

    Raising the threshold from 0 drops the least sure answers first, so the model answering a fraction ``c`` of
    the images answers its ``c·n`` surest: sorted by confidence, the curve is the running accuracy of that sorted
    list. Reported at about ``points`` coverages (the plot needs no more), always including full coverage."""
    n = len(confidence)
    if n == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    order = np.argsort(-confidence, kind="stable")
    running_right = np.cumsum(correct[order])
    answered = np.unique(np.linspace(1, n, min(points, n)).round().astype(int))
    return answered / n, running_right[answered - 1] / answered, confidence[order][answered - 1]


@dataclass(frozen=True)
class Reliability:
    """The reliability diagram: per confidence bin (``edges`` (bins + 1,)), how many answers fall in it, their mean
    confidence and the fraction right (NaN for an empty bin)."""

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def ece(self) -> float:
        """The expected calibration error: Σ over bins of (share of answers) × |accuracy − confidence|."""
        total = self.counts.sum()
        if not total:
            return 0.0
        filled = self.counts > 0
        gaps = np.abs(self.accuracy[filled] - self.confidence[filled])
        return float((self.counts[filled] / total * gaps).sum())


def reliability(confidence: np.ndarray, correct: np.ndarray, bins: int = BINS) -> Reliability:
    """Bin the answers (n,) by ``confidence`` into ``bins`` equal widths of [0, 1] (the last bin holds 1.0)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.floor(np.asarray(confidence, np.float64) * bins).astype(int), 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / counts
        accuracy = np.bincount(which, weights=correct.astype(np.float64), minlength=bins) / counts
    return Reliability(edges, counts, mean_confidence, accuracy)


def scaled_nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    """The mean cross-entropy of ``labels`` under ``softmax(logits / temperature)``."""
    log_probs = log_softmax(np.asarray(logits, np.float64) / temperature)
    return -float(log_probs[np.arange(len(labels)), labels].mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, tolerance: float = 1e-4) -> float:
    """The temperature ``T`` that minimises the cross-entropy of ``softmax(logits / T)`` on these (n, classes)
    logits and (n,) labels, searched between ``LOWEST_TEMPERATURE`` and ``HIGHEST_TEMPERATURE``.

    The loss is convex in ``1 / T`` (a log-sum-exp of a linear function, minus a linear function), so it has one
    minimum along ``log T`` too, and golden-section search finds it without any gradient: it keeps a bracket
    around the minimum and shrinks it by the golden ratio each step, comparing the loss at two inner points."""
    if len(labels) == 0:
        return 1.0
    low, high = math.log(LOWEST_TEMPERATURE), math.log(HIGHEST_TEMPERATURE)
    shrink = (math.sqrt(5) - 1) / 2  # 0.618…: the inner points keep their ratio as the bracket shrinks

    def loss(log_t: float) -> float:
        return scaled_nll(logits, labels, math.exp(log_t))

    a, b = high - shrink * (high - low), low + shrink * (high - low)
    loss_a, loss_b = loss(a), loss(b)
    while high - low > tolerance:
        if loss_a <= loss_b:  # the minimum lies left of b
            high, b, loss_b = b, a, loss_a
            a = high - shrink * (high - low)
            loss_a = loss(a)
        else:
            low, a, loss_a = a, b, loss_b
            b = low + shrink * (high - low)
            loss_b = loss(b)
    return math.exp((low + high) / 2)


def softmax_confidence(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """The probability of the most probable class, per row of ``logits``, at ``temperature``."""
    return np.exp(log_softmax(np.asarray(logits, np.float64) / temperature).max(axis=1))


@dataclass(frozen=True)
class Calibration:
    """A temperature fitted on held-out images (``fitted_on`` says which), and the test set's reliability before and
    after dividing the logits by it."""

    temperature: float
    fitted_on: str
    before: Reliability
    after: Reliability

    def sentence(self) -> str:
        return (
            f"Expected calibration error {100 * self.before.ece:.2f} % → {100 * self.after.ece:.2f} % with temperature "
            f"T = {self.temperature:.2f}, fitted on {self.fitted_on}."
        )


def validation_split(model: Model, dataset: Dataset) -> tuple[np.ndarray, np.ndarray, str, slice]:
    """Held-out images the model did not learn from, to fit its temperature on: the last ``validation_size`` training
    images, as the trainer holds them out (``TrainingData.from_dataset``). Returns them, their labels, what they are,
    and the test images to measure calibration on: all of them, except for a model that held no validation images out
    (the notebook preset), which learnt from every training image: it is fitted on the first half of the test set and
    measured on the second."""
    size = model.config.get("validation_size", FALLBACK_VALIDATION)
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size < len(dataset.train_images):
        size = min(FALLBACK_VALIDATION, len(dataset.train_images) // 2)
    if size == 0:
        half = len(dataset.test_images) // 2
        what = "the first half of the test set (the model held no validation images out), measured on the second"
        return dataset.test_images[:half], dataset.test_labels[:half], what, slice(half, None)
    return dataset.train_images[-size:], dataset.train_labels[-size:], f"the {size:,} validation images", slice(None)


def calibrate(model: Model, dataset: Dataset) -> Calibration:
    """Fit a temperature for ``model`` on its held-out images (``validation_split``) and measure the test set's
    reliability before and after."""
    images, labels, fitted_on, measured = validation_split(model, dataset)
    temperature = fit_temperature(model.logits(to_inputs(images, model.dtype.type)), labels.astype(np.intp))
    test_images, test_labels = dataset.test_images[measured], dataset.test_labels[measured].astype(np.intp)
    logits = model.logits(to_inputs(test_images, model.dtype.type))
    correct = logits.argmax(axis=1) == test_labels
    before = reliability(softmax_confidence(logits), correct)
    after = reliability(softmax_confidence(logits, temperature), correct)
    return Calibration(temperature, fitted_on, before, after)
