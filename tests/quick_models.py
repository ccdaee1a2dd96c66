"""Small models trained in a second or two, for tests that need a network that has learnt something."""

from __future__ import annotations

from scratchnet.config import TrainConfig
from scratchnet.data import Dataset
from scratchnet.model import Model
from scratchnet.trainer import Trainer, TrainingData

_trained: dict[tuple, Model] = {}


def quick_model(dataset: Dataset, train_images: int = 12000, hidden: tuple[int, ...] = (64,), epochs: int = 2) -> Model:
    """A model trained with Adam at a constant rate (none of the default preset's warm-up, clipping and shifts) on
    the first ``train_images`` training images of ``dataset``; trained once per dataset and settings in a test
    session (treat it as read-only)."""
    key = (id(dataset), train_images, hidden, epochs)
    if key not in _trained:
        _trained[key] = _train(dataset, train_images, hidden, epochs)
    return _trained[key]


def _train(dataset: Dataset, train_images: int, hidden: tuple[int, ...], epochs: int) -> Model:
    plain = {"grad_clip": 0.0, "schedule": "constant", "warmup_epochs": 0.0, "augment_shift": 0}
    config = TrainConfig(hidden=list(hidden), epochs=epochs, batch_size=64, optimizer="adam", lr=0.003, validation_size=0, seed=0, **plain)
    data = TrainingData.from_dataset(dataset, validation_size=0)
    subset = slice(0, train_images)
    data.train_x, data.train_y = data.train_x[subset], data.train_y[subset]
    trainer = Trainer(config, data)
    trainer.run()
    return trainer.model()
