"""Teach a trained network someone's handwriting: fine-tune it on their examples, mixed with MNIST replay.

A few hundred examples alone would pull the weights towards one hand and away from everything else the
network knew ("catastrophic forgetting"). So each epoch mixes the examples, repeated ``repeats`` times,
with ``replay`` training images of the original dataset, at a small learning rate: the network learns
the new hand while it keeps being reminded of the old ones::

    examples --stratified, seeded split--> 80 % to learn from  +  20 % held out to measure
    train set = learn-from examples × repeats  +  replay images of the original training set
    Trainer(params = the model's weights) for a few epochs of Adam at a low learning rate
    report: held-out accuracy and test accuracy, before → after, per class, and which examples flipped

The held-out examples are the trainer's validation set, so the live curves show the new hand being learnt;
nothing is chosen by them (no early stopping), so the accuracy reported on them stays honest. A class gives
up one example from five on (``1 / HELD_OUT_FRACTION``); with fewer of every class nothing is held out, the
network learns from every example, and only the MNIST test set measures the result (``unmeasured_reason``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .config import TrainConfig
from .data import Dataset, to_inputs
from .errors import ConfigError, DataError
from .handwriting import Examples
from .memory import MEMORY_MARGIN, available_bytes, estimate_training_bytes, fits_in_memory, format_bytes
from .model import Model
from .trainer import BatchEvent, EpochEvent, Trainer, TrainingData, TrainResult

MIN_EXAMPLES = 10
HELD_OUT_FRACTION = 0.2
HOLDS_ONE_OUT = math.ceil(1 / HELD_OUT_FRACTION)  # examples a class needs to give one up to the held-out set
NOTHING_HELD_OUT = (
    f"None of your examples can be held out to measure the result (a class needs {HOLDS_ONE_OUT} examples to give one "
    "up): the network learns from all of them, and only the MNIST test accuracy is measured."
)


@dataclass
class FinetuneSettings:
    """How to fine-tune: the recipe measured by benchmarks/bench_finetune.py (a cosine schedule from ``lr`` to 0;
    Adam at 5e-4 learnt the most while MNIST test accuracy fell by less than 0.3 points)."""

    epochs: int = 4
    optimizer: str = "adam"
    lr: float = 5e-4
    repeats: int = 6  # each example is seen this many times per epoch (shifted by up to a pixel each time)
    replay: int = 12000  # training images of the original dataset mixed into each epoch
    batch_size: int = 128
    seed: int = 0


@dataclass
class Split:
    """Which examples the network learns from and which are held out to measure it (positions in the examples)."""

    train: np.ndarray
    held_out: np.ndarray
    train_only_classes: list[int]  # classes with examples but too few to hold one out


def split_examples(labels: np.ndarray, seed: int = 0, fraction: float = HELD_OUT_FRACTION) -> Split:
    """Hold out ``fraction`` of each class's examples (rounded down), chosen at random with ``seed``.

    Stratified, so every class is measured in proportion; a class with fewer than 1/fraction examples (5)
    has none held out and is used for training only."""
    rng = np.random.default_rng(seed)
    held_out, train_only = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        count = int(len(members) * fraction)
        held_out.append(members[:count])
        if count == 0:
            train_only.append(int(label))
    held = np.sort(np.concatenate(held_out)) if held_out else np.zeros(0, np.int64)
    return Split(np.setdiff1d(np.arange(len(labels)), held), held, train_only)


def unmeasured_reason(labels: np.ndarray) -> str | None:
    """``NOTHING_HELD_OUT`` when no class of these labels can give up an example to measure the result; else None."""
    return None if len(split_examples(labels).held_out) else NOTHING_HELD_OUT


def check_examples(examples: Examples, model: Model) -> None:
    """Raise ``DataError`` unless ``model`` can learn from ``examples``: its image shape, its classes, enough of them."""
    if examples.image_shape != tuple(model.image_shape):
        shape, wanted = "×".join(map(str, examples.image_shape)), "×".join(map(str, model.image_shape))
        raise DataError(f"the examples are {shape} images but the model reads {wanted} images")
    num_classes = len(model.class_names)
    outside = sorted({int(label) for label in examples.labels if label >= num_classes})
    if outside:
        raise DataError(f"labels {', '.join(map(str, outside))} are outside the model's {num_classes} classes (0–{num_classes - 1})")
    if len(examples) < MIN_EXAMPLES:
        raise DataError(f"{len(examples)} examples are too few to learn from: collect at least {MIN_EXAMPLES}")


def check_memory(config: TrainConfig, n_images: int, model: Model, n_examples: int) -> None:
    """``ConfigError`` unless a fine-tune on ``n_images`` (the examples repeated, the replay and the held-out ones)
    fits in memory by the rule a training run follows (``fits_in_memory``). Its images are gathered as uint8 first."""
    features = math.prod(model.image_shape)
    needed = estimate_training_bytes(config, n_images, features, len(model.class_names)) + n_images * features
    available = available_bytes()
    if not fits_in_memory(needed, available):
        raise ConfigError(
            f"fine-tuning on {n_examples:,} examples needs about {format_bytes(needed)} of memory, more than "
            f"{MEMORY_MARGIN:.0%} of the {format_bytes(available)} available now: teach with fewer examples"
        )


@dataclass
class ClassRow:
    """One class of the result: its examples, and accuracy before → after (None where nothing measures it)."""

    label: int
    name: str
    examples: int
    held_out: int
    examples_before: float | None
    examples_after: float | None
    test_before: float | None  # None: the test set has no image of the class
    test_after: float | None


@dataclass
class FinetuneResult:
    """What fine-tuning did, as plain data. Positions refer to the examples the run was given."""

    model: Model  # the fine-tuned network (not saved)
    training: TrainResult
    held_out: np.ndarray  # positions of the held-out examples
    train_only_classes: list[int]
    predicted_before: np.ndarray  # (held out,) classes the model predicted for the held-out examples
    predicted_after: np.ndarray
    examples_before: float | None  # held-out accuracy (None when nothing is held out)
    examples_after: float | None
    test_before: float
    test_after: float
    classes: list[ClassRow]
    fixed: np.ndarray  # positions of held-out examples misread before and read right after
    broken: np.ndarray  # ... read right before and misread after

    def summary(self) -> dict:
        """The headline figures, JSON-ready."""
        return {
            "examples_before": self.examples_before,
            "examples_after": self.examples_after,
            "test_before": self.test_before,
            "test_after": self.test_after,
            "held_out": len(self.held_out),
            "train_only_classes": self.train_only_classes,
            "fixed": self.fixed.tolist(),
            "broken": self.broken.tolist(),
            "train_seconds": self.training.train_seconds,
            "status": self.training.status,
        }


class Finetune:
    """One fine-tuning run of ``model`` on ``examples`` with replay from ``dataset``. ``trainer`` is ready to
    run and to be paused or stopped from another thread; ``run`` trains and measures."""

    def __init__(self, model: Model, examples: Examples, dataset: Dataset, settings: FinetuneSettings | None = None):
        check_examples(examples, model)
        model.check_compatible(dataset.image_shape, dataset.class_names)
        self.model, self.examples, self.dataset = model, examples, dataset
        settings = settings or FinetuneSettings()
        self.split = split_examples(examples.labels, settings.seed)
        rng = np.random.default_rng(settings.seed)
        replay = rng.choice(len(dataset.train_images), min(settings.replay, len(dataset.train_images)), replace=False)
        self.replayed = len(replay)
        learn = np.tile(self.split.train, settings.repeats)
        config = TrainConfig(
            hidden=model.layer_sizes[1:-1],
            activation=model.activation,
            optimizer=settings.optimizer,
            lr=settings.lr,
            batch_size=settings.batch_size,
            epochs=settings.epochs,
            grad_clip=0.0,
            schedule="cosine",
            warmup_epochs=0.0,
            augment_shift=1,
            validation_size=len(self.split.held_out),
            seed=settings.seed,
            dtype=str(model.dtype),
        )
        check_memory(config, len(learn) + self.replayed + len(self.split.held_out), model, len(examples))
        held_out = examples.images[self.split.held_out]
        data = TrainingData(
            to_inputs(np.concatenate([examples.images[learn], dataset.train_images[replay]]), model.dtype.type),
            np.concatenate([examples.labels[learn], dataset.train_labels[replay]]),
            to_inputs(held_out, model.dtype.type),
            examples.labels[self.split.held_out],
            tuple(model.image_shape),
            list(model.class_names),
            model.dataset,
            model.dataset_fingerprint,
        )
        self.trainer = Trainer(config, data, params=model.params, from_epoch=model.epochs_trained or 0)

    def run(
        self, on_batch: Callable[[BatchEvent], None] | None = None, on_epoch: Callable[[EpochEvent], None] | None = None
    ) -> FinetuneResult:
        """Measure the model, fine-tune it (``on_batch`` and ``on_epoch`` are the trainer's callbacks) and measure
        it again."""
        trainer = self.trainer
        trainer.on_batch, trainer.on_epoch = on_batch or trainer.on_batch, on_epoch or trainer.on_epoch
        before = self._answers(self.model)
        training = trainer.run()
        model = trainer.model()
        result = self._report(model, training, before, self._answers(model))
        model.metrics = {"test_accuracy": result.test_after, "train_seconds": training.train_seconds}
        return result

    def _answers(self, model: Model) -> _Answers:
        held_out = self.examples.images[self.split.held_out]
        return _Answers(model.predict_images(held_out).argmax(axis=1), model.predict_images(self.dataset.test_images).argmax(axis=1))

    def _report(self, model: Model, training: TrainResult, before: _Answers, after: _Answers) -> FinetuneResult:
        held_out = self.split.held_out
        truth, test_truth = self.examples.labels[held_out], self.dataset.test_labels
        right_before, right_after = before.held_out == truth, after.held_out == truth
        counts = self.examples.counts(len(model.class_names))
        held_counts = np.bincount(truth, minlength=len(counts))

        def share(correct: np.ndarray, among: np.ndarray) -> float | None:
            return float(correct[among].mean()) if among.any() else None

        classes = [
            ClassRow(
                label,
                name,
                int(counts[label]),
                int(held_counts[label]),
                share(right_before, truth == label),
                share(right_after, truth == label),
                share(before.test == test_truth, test_truth == label),
                share(after.test == test_truth, test_truth == label),
            )
            for label, name in enumerate(model.class_names)
        ]
        everything = np.ones(len(truth), bool)
        return FinetuneResult(
            model=model,
            training=training,
            held_out=held_out,
            train_only_classes=self.split.train_only_classes,
            predicted_before=before.held_out,
            predicted_after=after.held_out,
            examples_before=share(right_before, everything),
            examples_after=share(right_after, everything),
            test_before=float((before.test == test_truth).mean()),
            test_after=float((after.test == test_truth).mean()),
            classes=classes,
            fixed=held_out[~right_before & right_after],
            broken=held_out[right_before & ~right_after],
        )


@dataclass
class _Answers:
    """A model's predicted classes for the held-out examples and the test images."""

    held_out: np.ndarray
    test: np.ndarray
