"""The coach's hints on real MNIST runs (run by hand, not in CI; about 5 minutes on a quiet machine):

(a) the ``notebook`` preset for its first ``--notebook-epochs`` epochs: the hints it gets (saturated tanh units
    in layer 1, an initial loss far above ln 10), then the same epochs with the saturation hint's fix (a scaled
    initialisation): layer 1's saturation and the test accuracy of both;
(b) the ``default`` preset at lr 5 without clipping: dead units / no learning, then the fix: test accuracy of both;
(c) 1 000 training images for 50 epochs: overfitting, then the fix: the train/validation gap of both;
(d) the ``default`` preset over five seeds: the hints it gets (none is the goal).

    python benchmarks/bench_hints.py [--data-dir DIR] [--seeds 5] [--notebook-epochs 10]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

from scratchnet.config import TrainConfig
from scratchnet.data import Dataset, load_dataset, locate_or_download
from scratchnet.hints import Hint, apply_fix
from scratchnet.presets import load_preset
from scratchnet.runs import RunOutcome, train_and_record


def train(config: TrainConfig, dataset: Dataset) -> RunOutcome:
    start = time.perf_counter()
    outcome = train_and_record(config, dataset, None, print)
    print(f"  {config.describe()}: {outcome.status}, test {outcome.test_accuracy:.2%} ({time.perf_counter() - start:.1f} s)")
    for hint in outcome.hints:
        print(f"    hint {hint.key}: {hint.seen}  → fix {hint.fix}")
    return outcome


def first_fix(outcome: RunOutcome, *keys: str) -> Hint:
    hint = next((hint for hint in outcome.hints if hint.key in keys), None)
    if hint is None:
        raise SystemExit(f"FAILED: none of the hints {keys} was given")
    return hint


def saturation(outcome: RunOutcome, layer: int = 0) -> float:
    return outcome.health.recent("saturated", layer)


def gap(outcome: RunOutcome) -> float:
    last = outcome.history[-1]
    return last.train_accuracy - last.val_accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--notebook-epochs", type=int, default=10)
    args = parser.parse_args()
    dataset = load_dataset(locate_or_download(args.data_dir))
    default, _ = load_preset("default")
    notebook, _ = load_preset("notebook")
    checks = []

    print(f"(a) notebook preset, {args.notebook_epochs} epochs")
    short = notebook.replace(epochs=args.notebook_epochs)
    before = train(short, dataset)
    after = train(apply_fix(short, first_fix(before, "saturated")), dataset)
    checks += [
        ("notebook: layer-1 saturation >= 75 %", saturation(before), saturation(before) >= 0.75),
        ("notebook: initial loss far above ln 10", before.health.initial_loss, "initial_loss" in {h.key for h in before.hints}),
        ("fix: layer-1 saturation < 10 %", saturation(after), saturation(after) < 0.10),
        ("fix: test accuracy beats the notebook's", after.test_accuracy - before.test_accuracy, after.test_accuracy > before.test_accuracy),
    ]

    print("(b) default preset at lr 5 without clipping, 2 epochs")
    wild = default.replace(lr=5.0, grad_clip=0.0, epochs=2)
    before = train(wild, dataset)
    after = train(apply_fix(wild, first_fix(before, "dead", "not_learning")), dataset)
    checks += [
        ("lr 5: dead units / no learning (test)", before.test_accuracy, bool({"dead", "not_learning"} & {h.key for h in before.hints})),
        ("fix: learns (test > 90 %)", after.test_accuracy, after.test_accuracy > 0.9),
    ]

    print("(c) 1 000 training images, 50 epochs")
    keep = 1000 + default.validation_size  # the last validation_size images are held out for validation
    few = dataclasses.replace(dataset, train_images=dataset.train_images[-keep:], train_labels=dataset.train_labels[-keep:])
    long = default.replace(epochs=50)
    before = train(long, few)
    after = train(apply_fix(long, first_fix(before, "overfitting")), few)
    checks += [
        ("1 000 images: overfitting (gap, points)", 100 * gap(before), "overfitting" in {h.key for h in before.hints}),
        ("fix: narrower gap (points)", 100 * gap(after), gap(after) < gap(before)),
    ]

    print(f"(d) default preset, {args.seeds} seeds")
    for seed in range(args.seeds):
        outcome = train(default.replace(seed=seed), dataset)
        checks.append((f"default seed {seed}: no hint", len(outcome.hints), not outcome.hints))

    print("\ncheck                                           value      ok")
    for name, value, ok in checks:
        print(f"{name:<46} {value:>9.3f}   {'yes' if ok else 'NO'}")
    print("all passed" if all(ok for *_, ok in checks) else "SOME FAILED")


if __name__ == "__main__":
    main()
