"""The training loop on small generated data: it learns, it is reproducible, and its controls work."""

import dataclasses
import threading

import numpy as np
import pytest

from scratchnet.config import TrainConfig
from scratchnet.errors import ConfigError
from scratchnet.trainer import Trainer, TrainingData


@pytest.fixture
def data(fake_dataset):
    return TrainingData.from_dataset(fake_dataset, validation_size=100)


def small_config(**changes):
    """A short Adam run at a constant rate, without the default preset's warm-up, clipping and shifts."""
    plain = {"optimizer": "adam", "lr": 0.01, "schedule": "constant", "warmup_epochs": 0.0, "grad_clip": 0.0, "augment_shift": 0}
    return TrainConfig(**{"hidden": [32], "epochs": 5, "batch_size": 32, "validation_size": 100, **plain, **changes})


def change_live(trainer: Trainer, **values: float) -> None:
    """Change live settings the way the app does: a new ``LiveSettings`` handed to the run's controls."""
    trainer.controls.change_settings(dataclasses.replace(trainer.controls.settings, **values))


def test_training_reaches_high_accuracy(data):
    result = Trainer(small_config(), data).run()
    assert result.status == "completed"
    assert len(result.history) == 5
    assert result.history[-1].val_accuracy >= 0.95
    assert result.history[-1].train_loss < result.history[0].train_loss


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam", "adamw"])
def test_every_optimizer_learns(data, optimizer):
    lr = 0.1 if optimizer in ("sgd", "momentum", "nesterov") else 0.01
    result = Trainer(small_config(optimizer=optimizer, lr=lr, epochs=8), data).run()
    assert result.history[-1].val_accuracy >= 0.9


def test_same_seed_gives_bit_identical_weights(data):
    config = small_config(dropout=0.2, augment_shift=1, epochs=2)
    first = Trainer(config, data).run().params
    second = Trainer(config, data).run().params
    for a, b in zip(first, second):
        assert np.array_equal(a["W"], b["W"]) and np.array_equal(a["b"], b["b"])
    other = Trainer(config.replace(seed=1), data).run().params
    assert not np.array_equal(first[0]["W"], other[0]["W"])


def test_float64_on_request(data):
    trainer = Trainer(small_config(dtype="float64", epochs=1), data)
    assert trainer.run().params[0]["W"].dtype == np.float64
    assert trainer.data.train_x.dtype == np.float64


def test_full_batch_and_zero_hidden_layers(data):
    result = Trainer(small_config(hidden=[], batch_size=None, optimizer="sgd", lr=0.5, epochs=30), data).run()
    assert len(result.params) == 1
    assert result.history[-1].val_accuracy >= 0.9


def test_events_for_every_batch_and_epoch(data):
    batches, epochs = [], []
    Trainer(small_config(epochs=2), data, on_batch=batches.append, on_epoch=epochs.append).run()
    per_epoch = int(np.ceil(len(data.train_x) / 32))
    assert len(batches) == 2 * per_epoch and [e.epoch for e in epochs] == [1, 2]
    assert batches[-1].progress == pytest.approx(2.0)
    assert all(b.loss > 0 and b.samples_per_second > 0 for b in batches)
    assert epochs[0].val_accuracy is not None and epochs[0].seconds > 0


def test_cosine_schedule_reaches_zero(data):
    lrs = []
    Trainer(small_config(schedule="cosine", epochs=2), data, on_batch=lambda e: lrs.append(e.lr)).run()
    assert lrs[0] == pytest.approx(0.01, rel=0.01)
    assert 0 < lrs[-1] < 1e-3 * 0.01  # the last step still learns, a little


def test_stop_from_another_thread(data):
    trainer = Trainer(small_config(epochs=1000), data)
    trainer.on_epoch = lambda event: event.epoch == 3 and threading.Thread(target=trainer.controls.stop).start()
    result = trainer.run()
    assert result.status == "stopped"
    assert 3 <= len(result.history) <= 4


def test_pause_blocks_and_resume_continues(data, trainer_pauses):
    steps = []
    trainer = Trainer(small_config(epochs=2), data)

    def on_batch(event):
        steps.append(event.step)
        if event.step == 3:
            trainer.controls.pause()

    trainer.on_batch = on_batch
    runner = threading.Thread(target=trainer.run, daemon=True)
    runner.start()
    try:
        assert trainer_pauses.waiting.wait(timeout=10)  # the trainer waits before its fourth batch
        assert steps == [1, 2, 3] and trainer_pauses.boundaries == 4
    finally:
        trainer.controls.resume()
    runner.join(timeout=10)
    assert not runner.is_alive() and steps == list(range(1, 2 * 16 + 1))  # 500 images in batches of 32, two epochs
    assert trainer_pauses.held == [True]  # no batch ran while paused, and after resuming none waited again


def test_step_epoch_pauses_at_the_end_of_the_epoch(data, trainer_pauses):
    trainer = Trainer(small_config(epochs=3), data)
    epochs_done = []

    paused_when_reported = []

    def on_epoch(event):
        epochs_done.append(event.epoch)
        paused_when_reported.append(trainer.controls.paused)
        if event.epoch == 1:
            trainer.controls.pause()
            trainer.controls.step_epoch()

    trainer.on_epoch = on_epoch
    runner = threading.Thread(target=trainer.run, daemon=True)
    runner.start()
    try:
        assert trainer_pauses.waiting.wait(timeout=10)  # the step's pause, before the first batch of epoch 3
        assert runner.is_alive() and trainer.controls.paused and epochs_done == [1, 2]
        assert paused_when_reported == [False, True]  # the epoch event already shows the step's pause
        trainer.controls.resume()
        runner.join(timeout=5)
        assert epochs_done == [1, 2, 3] and trainer_pauses.held == [True]  # it stayed paused until resumed
    finally:
        trainer.controls.stop()


def test_learning_rate_changes_between_batches(data):
    lrs = []
    trainer = Trainer(small_config(epochs=1), data)

    def on_batch(event):
        lrs.append(event.lr)
        if event.step == 2:
            change_live(trainer, lr=0.5, momentum=0.5)

    trainer.on_batch = on_batch
    trainer.run()
    assert lrs[:2] == [0.01, 0.01] and set(lrs[2:]) == {0.5}
    assert trainer.config.lr == 0.5


def test_invalid_live_changes_are_refused(data):
    settings = Trainer(small_config(), data).controls.settings
    with pytest.raises(ConfigError, match="lr must be above 0") as refused:
        dataclasses.replace(settings, lr=-1)
    assert refused.value.setting == "lr"
    with pytest.raises(TypeError):  # not a live setting: the architecture is fixed for the run
        dataclasses.replace(settings, hidden=[3])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_huge_learning_rate_is_diagnosed_and_weights_restored(data, optimizer):
    trainer = Trainer(small_config(optimizer=optimizer, lr=1e30, epochs=3), data)
    start = trainer.snapshot()
    result = trainer.run()
    assert result.status == "diverged"
    assert "diverged at epoch 1, batch" in result.message and "lower the learning rate" in result.message
    for layer, original in zip(result.params, start):
        assert np.isfinite(layer["W"]).all()
        assert np.array_equal(layer["W"], original["W"])


@pytest.fixture
def unlearnable_validation(data):
    """Validation labels shuffled: the better the network fits the training set, the worse its validation loss."""
    return dataclasses.replace(data, val_y=np.random.default_rng(0).permutation(data.val_y))


def test_early_stopping_restores_the_best_epoch(unlearnable_validation):
    trainer = Trainer(small_config(epochs=20, early_stopping=2, lr=0.05), unlearnable_validation)
    snapshots = {}
    trainer.on_epoch = lambda event: snapshots.setdefault(event.epoch, trainer.snapshot())
    result = trainer.run()
    best = min(result.history, key=lambda e: e.val_loss)
    assert result.status == "early_stopped" and len(result.history) == best.epoch + 2
    assert result.weights_epoch == best.epoch
    for layer, kept in zip(result.params, snapshots[best.epoch]):
        np.testing.assert_array_equal(layer["W"], kept["W"])


def test_completed_run_with_early_stopping_ends_on_its_best_weights(unlearnable_validation):
    result = Trainer(small_config(epochs=4, early_stopping=10, lr=0.05), unlearnable_validation).run()
    best = min(result.history, key=lambda e: e.val_loss)
    assert result.status == "completed" and best.epoch < 4
    assert result.weights_epoch == best.epoch and f"best epoch, {best.epoch}" in result.message


def test_a_stopped_run_with_early_stopping_keeps_its_latest_weights(unlearnable_validation):
    trainer = Trainer(small_config(epochs=1000, early_stopping=1000, lr=0.05), unlearnable_validation)
    trainer.on_epoch = lambda event: event.epoch == 6 and trainer.controls.stop()
    result = trainer.run()
    assert result.status == "stopped" and len(result.history) == 6
    assert min(result.history, key=lambda e: e.val_loss).epoch < 6  # a better epoch exists, but was not restored
    assert result.weights_epoch == 6


def test_a_diverged_run_reports_the_epoch_its_weights_are_from(data):
    trainer = Trainer(small_config(epochs=10, optimizer="sgd"), data)
    trainer.on_epoch = lambda event: event.epoch == 3 and change_live(trainer, lr=1e30)
    result = trainer.run()
    assert result.status == "diverged" and len(result.history) == 3
    assert result.weights_epoch == 3  # rolled back to the start of epoch 4


def test_a_live_momentum_change_does_not_give_plain_sgd_momentum(data):
    trainer = Trainer(small_config(epochs=2, optimizer="sgd"), data)
    trainer.on_epoch = lambda event: change_live(trainer, momentum=0.5)
    trainer.run()
    assert trainer.optimizer.momentum == 0 and trainer.optimizer.velocity is None
    momentum = Trainer(small_config(epochs=2, optimizer="momentum", momentum=0.9), data)
    momentum.on_epoch = lambda event: change_live(momentum, momentum=0.5)
    momentum.run()
    assert momentum.optimizer.momentum == 0.5


def test_live_settings_reach_the_optimizer(data):
    trainer = Trainer(small_config(epochs=2, optimizer="adam"), data)
    trainer.on_epoch = lambda event: change_live(trainer, beta1=0.8, beta2=0.99, weight_decay=0.01)
    trainer.run()
    optimizer = trainer.optimizer
    assert (optimizer.beta1, optimizer.beta2, optimizer.weight_decay) == (0.8, 0.99, 0.01)
    assert trainer.config.beta1 == 0.8 and trainer.controls.settings.beta1 == 0.8


def test_the_model_counts_the_epochs_behind_the_weights_it_started_from(data):
    first = Trainer(small_config(epochs=2), data)
    assert first.model().epochs_trained == 0
    first.run()
    assert first.model().epochs_trained == 2
    second = Trainer(small_config(epochs=3), data, params=first.params, from_epoch=2)
    second.on_epoch = lambda event: event.epoch == 1 and snapshots.append(second.model().epochs_trained)
    snapshots = []
    result = second.run()
    assert snapshots == [3] and result.weights_epoch == 3 and second.model().epochs_trained == 5


def test_validation_size_must_leave_training_data(fake_dataset):
    with pytest.raises(ConfigError, match="leaves no training images"):
        TrainingData.from_dataset(fake_dataset, validation_size=600)


@pytest.mark.parametrize(
    "changes",
    [{"hidden": [0]}, {"hidden": [5000]}, {"lr": 0}, {"batch_size": 0}, {"dropout": 1.0}, {"activation": "swish"}, {"epochs": 0}],
)
def test_impossible_configs_are_refused(changes):
    with pytest.raises(ConfigError):
        small_config(**changes)


def test_config_from_dict_names_unknown_keys():
    with pytest.raises(ConfigError, match="unknown setting.*learning_rate"):
        TrainConfig.from_dict({"learning_rate": 0.1})


def test_training_continues_from_given_weights(data):
    first = Trainer(small_config(epochs=2), data).run()
    resumed = Trainer(small_config(epochs=1, lr=1e-4), data, params=first.params).run()
    assert resumed.history[0].val_accuracy >= first.history[-1].val_accuracy - 0.02
    with pytest.raises(ConfigError, match="layer sizes"):
        Trainer(small_config(hidden=[8]), data, params=first.params)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"epochs": 2.5}, "epochs must be a whole number"),
        ({"batch_size": 1.5}, "batch_size must be a whole number"),
        ({"seed": -1}, "seed must be"),
        ({"seed": True}, "seed must be a whole number"),
        ({"lr": float("inf")}, "lr must be a finite number"),
        ({"lr": "0.1"}, "lr must be a finite number"),
        ({"hidden": "128"}, "hidden must be a list"),
        ({"early_stopping": 3, "validation_size": 0}, "needs a validation set"),
    ],
)
def test_settings_of_the_wrong_type_are_refused(changes, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(changes)


def test_a_run_stopped_mid_epoch_counts_its_partial_epoch(data):
    trainer = Trainer(small_config(epochs=5), data)
    trainer.on_batch = lambda event: event.step == 5 and trainer.controls.stop()
    result = trainer.run()
    assert result.status == "stopped" and result.history == []
    assert result.weights_epoch == pytest.approx(5 / 16)  # 5 of the epoch's 16 batches of 32 (500 images)
    assert result.samples_seen == 5 * 32 and result.train_seconds > 0
    assert result.samples_per_second == pytest.approx(result.samples_seen / result.train_seconds)


def test_an_interrupted_run_keeps_the_weights_of_its_last_completed_epoch(data):
    trainer = Trainer(small_config(epochs=5), data)
    ends_of_epochs = {}
    trainer.on_epoch = lambda event: ends_of_epochs.setdefault(event.epoch, trainer.snapshot())
    trainer.on_batch = lambda event: event.epoch == 3 and event.batch == 5 and trainer.controls.interrupt()
    result = trainer.run()
    assert result.status == "interrupted" and len(result.history) == 2
    assert result.weights_epoch == 2 and "kept the weights of epoch 2" in result.message
    for layer, kept in zip(result.params, ends_of_epochs[2]):
        np.testing.assert_array_equal(layer["W"], kept["W"])


def test_a_run_interrupted_in_its_first_epoch_is_back_on_its_initial_weights(data):
    trainer = Trainer(small_config(epochs=5), data)
    initial = trainer.snapshot()
    trainer.on_batch = lambda event: event.step == 3 and trainer.controls.interrupt()
    result = trainer.run()
    assert result.status == "interrupted" and result.weights_epoch == 0 and "no epoch was completed" in result.message
    for layer, kept in zip(result.params, initial):
        np.testing.assert_array_equal(layer["W"], kept["W"])


def test_an_interrupted_run_with_early_stopping_keeps_its_best_epoch(unlearnable_validation):
    trainer = Trainer(small_config(epochs=1000, early_stopping=1000, lr=0.05), unlearnable_validation)
    ends_of_epochs = {}
    trainer.on_epoch = lambda event: ends_of_epochs.setdefault(event.epoch, trainer.snapshot())
    trainer.on_batch = lambda event: event.epoch == 7 and event.batch == 2 and trainer.controls.interrupt()
    result = trainer.run()
    best = min(result.history, key=lambda e: e.val_loss).epoch
    assert result.status == "interrupted" and len(result.history) == 6 and best < 6
    assert result.weights_epoch == best
    for layer, kept in zip(result.params, ends_of_epochs[best]):
        np.testing.assert_array_equal(layer["W"], kept["W"])
