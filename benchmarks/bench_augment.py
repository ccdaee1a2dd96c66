"""Augmentation benchmark (run by hand, not in CI): what random rotation buys against rotated digits, and what
each augmentation costs.

(a) The default preset trained twice on MNIST, without and with random rotation of up to ±15°, each tested on
    the clean test set and on the test set turned by 25° (half the images one way, half the other, turned by
    the same ``scratchnet.augment.rotated`` that augments): the points rotation gains at 25° and what it costs on
    clean images.
(b) Seconds per epoch of the default preset with each augmentation alone and all together, as a ratio to the
    epoch without augmentation measured in the same run (the augmented batches are made on the batch thread
    while the previous batch trains, when that measures faster).

    python benchmarks/bench_augment.py [--data-dir DIR] [--epochs 8] [--repeats 3] [--busy]

``--busy`` measures (b) a second time with one core spinning in another process.
"""

from __future__ import annotations

import argparse
import dataclasses
from statistics import median

import numpy as np
from busy import one_core_busy  # benchmarks/busy.py, beside this script

from scratchnet.augment import rotated
from scratchnet.config import TrainConfig
from scratchnet.data import load_dataset, locate_or_download
from scratchnet.trainer import Trainer, TrainingData

TEST_ANGLE = 25.0
AUGMENTATIONS = {
    "none": {"augment_shift": 0},
    "shift 1 px (default)": {},
    "rotation ±15°": {"augment_shift": 0, "augment_rotate": 15.0},
    "thickness ±1 px": {"augment_shift": 0, "augment_thickness": 1},
    "noise 0.1": {"augment_shift": 0, "augment_noise": 0.1},
    "all four": {"augment_rotate": 15.0, "augment_thickness": 1, "augment_noise": 0.1},
}


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    return float((model.predict_images(images).argmax(axis=1) == labels).mean())


def turned_test_set(images: np.ndarray) -> np.ndarray:
    """The test images turned by ±TEST_ANGLE, alternately one way and the other, back as uint8."""
    angles = np.where(np.arange(len(images)) % 2 == 0, TEST_ANGLE, -TEST_ANGLE)
    return np.round(rotated(images.astype(np.float32), angles)).clip(0, 255).astype(np.uint8)


def rotation_gain(dataset, data: TrainingData, epochs: int) -> None:
    turned = turned_test_set(dataset.test_images)
    print(f"(a) default preset, {epochs} epochs; test accuracy on clean images and turned by ±{TEST_ANGLE:g}°")
    rows = {}
    for name, changes in (("without rotation", {}), ("with rotation ±15°", {"augment_rotate": 15.0})):
        trainer = Trainer(TrainConfig(epochs=epochs, **changes), data)
        result = trainer.run()
        model = trainer.model()
        rows[name] = (accuracy(model, dataset.test_images, dataset.test_labels), accuracy(model, turned, dataset.test_labels))
        clean, turned_right = rows[name]
        print(f"    {name:20} clean {100 * clean:6.2f} %  turned {100 * turned_right:6.2f} %  {result.train_seconds / epochs:.2f} s/epoch")
    (clean0, turned0), (clean1, turned1) = rows.values()
    gain, cost = 100 * (turned1 - turned0), 100 * (clean0 - clean1)
    print(f"    rotation gains {gain:+.2f} points at ±{TEST_ANGLE:g}° and costs {cost:+.2f} on clean images")


def epoch_costs(data: TrainingData, busy: bool, repeats: int) -> None:
    print(f"(b) seconds per epoch, default preset, median of {repeats} two-epoch runs each{' — one core busy' if busy else ''}")
    seconds: dict[str, list[float]] = {name: [] for name in AUGMENTATIONS}
    with one_core_busy(busy):
        for _ in range(repeats):  # in alternation, so that a busy moment of the machine hurts every augmentation
            for name, changes in AUGMENTATIONS.items():
                result = Trainer(dataclasses.replace(TrainConfig(epochs=2), **changes), data).run()
                seconds[name].append(result.train_seconds / 2)
    none = median(seconds["none"])
    for name, measured in seconds.items():
        print(f"    {name:22} {median(measured):.2f} s/epoch  ×{median(measured) / none:.2f} of none")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=8, help="epochs of each run of (a)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each augmentation in (b)")
    parser.add_argument("--busy", action="store_true", help="also measure (b) with one core busy")
    args = parser.parse_args()
    dataset = load_dataset(locate_or_download(args.data_dir))
    data = TrainingData.from_dataset(dataset)
    rotation_gain(dataset, data, args.epochs)
    epoch_costs(data, busy=False, repeats=args.repeats)
    if args.busy:
        epoch_costs(data, busy=True, repeats=args.repeats)


if __name__ == "__main__":
    main()
