"""Augmentation: each transform does what it says on any image size, batches vary as the run's settings say, and a
change during a run reaches the batches made after it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from scratchnet.augment import Augmentation, noisy, rotated, thickened
from scratchnet.batches import Batches
from scratchnet.config import TrainConfig
from scratchnet.controls import LiveSettings
from scratchnet.trainer import Trainer, TrainingData


def bar(shape=(9, 9)) -> np.ndarray:
    """One image (1, H, W): a vertical bar through the centre, from the top quarter to the bottom quarter."""
    image = np.zeros((1, *shape), np.float32)
    height, width = shape
    image[0, height // 4 : height - height // 4, width // 2] = 1.0
    return image


def test_a_quarter_turn_anticlockwise_lays_a_vertical_bar_flat_and_a_dot_moves_left():
    flat = rotated(bar(), np.array([90.0]))[0]
    assert np.allclose(flat, bar()[0].T, atol=1e-6)
    dot = np.zeros((1, 7, 7), np.float32)
    dot[0, 1, 3] = 1.0  # above the centre
    assert np.argwhere(rotated(dot, np.array([90.0]))[0] > 0.5).tolist() == [[3, 1]]  # now left of it
    assert np.argwhere(rotated(dot, np.array([-90.0]))[0] > 0.5).tolist() == [[3, 5]]


@pytest.mark.parametrize("shape", [(9, 9), (5, 12), (28, 28)])
def test_no_change_is_the_identity_on_any_image_size(shape):
    images = np.random.default_rng(0).random((4, *shape), dtype=np.float32)
    assert np.array_equal(rotated(images, np.zeros(4)), images)
    assert np.allclose(rotated(images, np.full(4, 360.0)), images, atol=1e-5)
    assert np.array_equal(thickened(images, np.zeros(4, int)), images)
    assert np.array_equal(noisy(images, 0.0, np.random.default_rng(0)), images)
    assert rotated(images, np.full(4, 17.0)).shape == images.shape == thickened(images, np.ones(4, int)).shape


def test_each_image_gets_its_own_angle_and_small_turns_keep_the_ink():
    images = np.repeat(bar((21, 21)), 3, axis=0)
    images[:, :, 9:12] = images[:, :, 10:11]  # three pixels wide
    turned = rotated(images, np.array([0.0, 45.0, -45.0]))
    assert np.array_equal(turned[0], images[0])
    assert np.allclose(turned[1], turned[2][:, ::-1], atol=1e-5)  # mirror images of each other
    assert turned[1].sum() == pytest.approx(images[0].sum(), rel=0.05)


def test_thickness_adds_ink_when_bolder_and_removes_it_when_thinner():
    stroke = np.zeros((3, 12, 12), np.float32)
    stroke[:, 3:9, 4:8] = 1.0  # 4 pixels wide
    bolder, same, thinner = thickened(stroke, np.array([1, 0, -1]))
    assert thinner.sum() < same.sum() < bolder.sum()
    assert np.array_equal(same, stroke[1])
    assert (bolder >= stroke[0]).all() and (thinner <= stroke[2]).all()
    assert thickened(stroke[:1], np.array([2]))[0].sum() > bolder.sum()


def test_noise_has_the_strength_it_is_given_and_stays_in_range():
    grey = np.full((20, 28, 28), 0.5, np.float32)
    varied = noisy(grey, 0.1, np.random.default_rng(0))
    assert (varied - grey).std() == pytest.approx(0.1, rel=0.05)
    assert varied.min() >= 0 and noisy(grey, 1.0, np.random.default_rng(0)).max() <= 1


def test_augmented_batches_are_the_same_for_the_same_seed_and_vary_as_set():
    images = np.random.default_rng(0).random((40, 10, 10), dtype=np.float32)
    rows = np.random.default_rng(1).permutation(40)[:16]
    everything = Augmentation(shift=1, rotate=20.0, thickness=1, noise=0.1)
    first, again = (everything.batch(images, rows, np.random.default_rng(5)) for _ in range(2))
    assert np.array_equal(first, again) and first.shape == (16, 10, 10)
    assert not np.array_equal(first, images[rows])
    assert np.array_equal(Augmentation().batch(images, rows, np.random.default_rng(5)), images[rows])
    assert not Augmentation() and everything


def test_a_batch_made_ahead_is_made_again_when_the_augmentation_changes():
    x = np.random.default_rng(0).random((30, 16), dtype=np.float32)
    batches = Batches(x, np.arange(30), (4, 4), 10, Augmentation(), np.random.default_rng(0))
    batches.ahead = True
    epoch = batches.epoch(np.arange(30))
    first = next(epoch)[0]
    batches.augmentation = Augmentation(noise=0.5)  # the second batch is already being made, unaugmented
    second, third = next(epoch)[0], next(epoch)[0]
    batches.close()
    assert np.array_equal(first, x[:10])
    assert not np.array_equal(second, x[10:20]) and not np.array_equal(third, x[20:30])


def test_a_live_change_reaches_the_batches_made_after_it(fake_dataset, monkeypatch):
    data = TrainingData.from_dataset(fake_dataset, validation_size=0)
    config = TrainConfig(hidden=[16], epochs=2, batch_size=100, validation_size=0, augment_shift=0)
    made_with: list[Augmentation] = []
    make = Batches._make

    def recorded_make(batches: Batches, order, start: int, augmentation: Augmentation):
        made_with.append(augmentation)
        return make(batches, order, start, augmentation)

    monkeypatch.setattr(Batches, "_make", recorded_make)

    def on_batch(event) -> None:
        if event.epoch == 1 and event.batch == 1:
            trainer.controls.change_settings(dataclasses.replace(trainer.controls.settings, augment_rotate=10.0, augment_noise=0.2))

    trainer = Trainer(config, data, on_batch=on_batch)
    trainer.run()
    turned = Augmentation(rotate=10.0, noise=0.2)
    assert made_with[0] == Augmentation() and made_with[-1] == turned
    assert trainer.config.augment_rotate == 10.0 and trainer.batches.augmentation == turned


def test_settings_without_the_new_augmentations_still_load():
    old = TrainConfig().to_dict()
    for name in ("augment_rotate", "augment_thickness", "augment_noise"):
        del old[name]
    config = TrainConfig.from_dict(old)
    assert Augmentation.of(config) == Augmentation(shift=1) == Augmentation.of(LiveSettings.of(config))
