"""Training faults at the core level: divergence is caught and rolled back, callback errors surface cleanly."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest

from scratchnet.config import TrainConfig
from scratchnet.model import save_model
from scratchnet.model_file import load_model
from scratchnet.trainer import Trainer, TrainingData
from tests.guards import deadline


@pytest.fixture
def data(fake_dataset):
    return TrainingData.from_dataset(fake_dataset, validation_size=100)


def config(**changes) -> TrainConfig:
    """Plain SGD, without the default preset's warm-up and clipping that would soften a huge learning rate."""
    plain = {"optimizer": "sgd", "lr": 0.01, "schedule": "constant", "warmup_epochs": 0.0, "grad_clip": 0.0, "augment_shift": 0}
    return TrainConfig(**{"hidden": [32], "epochs": 5, "batch_size": 32, "validation_size": 100, **plain, **changes})


def all_finite(params) -> bool:
    return all(np.isfinite(array).all() for layer in params for array in layer.values())


def same_weights(a, b) -> bool:
    return all(np.array_equal(x[name], y[name]) for x, y in zip(a, b) for name in ("W", "b"))


@pytest.mark.parametrize("optimizer, lr", [("sgd", 1e8), ("momentum", 1e8), ("adam", 1e30), ("sgd", 1e30)])
def test_huge_learning_rate_diverges_in_the_first_epoch_and_rolls_back(data, tmp_path, optimizer, lr):
    batches = []
    trainer = Trainer(config(optimizer=optimizer, lr=lr), data, on_batch=batches.append)
    initial = trainer.snapshot()
    with deadline(60):
        result = trainer.run()
    assert result.status == "diverged"
    assert result.history == []  # caught inside epoch 1, before it ended
    assert "diverged at epoch 1" in result.message and "lower the learning rate" in result.message
    assert all_finite(result.params) and same_weights(result.params, initial)  # back to the start of epoch 1
    assert all(np.isfinite(event.loss) for event in batches)  # no non-finite loss ever reached the UI
    save_model(trainer.model(), tmp_path / "after-divergence.safetensors")  # the rolled-back network is usable
    assert all_finite(load_model(tmp_path / "after-divergence.safetensors").params)


def test_divergence_in_a_later_epoch_restores_the_last_finite_state(data):
    """Two good epochs, then the learning rate is raised live: the weights return to the end of epoch 2."""
    saved = {}
    trainer = Trainer(config(epochs=10), data)

    def on_epoch(event):
        if event.epoch == 2:
            saved["weights"] = trainer.snapshot()
            trainer.controls.change_settings(dataclasses.replace(trainer.controls.settings, lr=1e30))

    trainer.on_epoch = on_epoch
    with deadline(60):
        result = trainer.run()
    assert result.status == "diverged" and "epoch 3" in result.message
    assert len(result.history) == 2
    assert all_finite(result.params) and same_weights(result.params, saved["weights"])


def test_exploding_but_finite_loss_is_reported_as_divergence(data):
    result = Trainer(config(lr=1e4, activation="relu"), data).run()
    assert result.status == "diverged"


@pytest.mark.parametrize("where", ["on_batch", "on_epoch"])
def test_exception_in_a_callback_propagates_out_of_run(data, where):
    class Boom(RuntimeError):
        pass

    calls = []

    def callback(event):
        calls.append(event)
        if len(calls) == 3:
            raise Boom(f"{where} failed")

    trainer = Trainer(config(), data, **{where: callback})
    with deadline(60), pytest.raises(Boom, match=f"{where} failed"):
        trainer.run()
    assert len(calls) == 3  # no further batch ran after the error
    with deadline(5):  # the weights lock was released: another thread can still take a snapshot
        assert all_finite(trainer.snapshot())


def test_exception_in_a_worker_thread_reaches_the_caller(data):
    """The GUI runs ``Trainer.run`` on a worker thread; an error there must end the thread and be catchable."""
    outcome = {}

    def on_batch(event):
        if event.batch == 2:
            raise ValueError("cannot draw this batch")

    def work():
        try:
            outcome["result"] = Trainer(config(), data, on_batch=on_batch).run()
        except Exception as error:  # what the GUI worker does: turn it into a readable message
            outcome["error"] = f"{type(error).__name__}: {error}"

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(30)
    assert not worker.is_alive()
    assert outcome == {"error": "ValueError: cannot draw this batch"}
    # and the core stays usable: a fresh run on the same data completes
    with deadline(60):
        assert Trainer(config(epochs=1), data).run().status == "completed"
