"""What measuring the health signals costs (run by hand, not in CI): the ``default`` preset trained with the
trainer's health probes (every ``health.every_how_many`` batches) and without (never measured), in alternation,
``--repeats`` times each; prints the medians and their ratio (goal: under 1.05, issue 21 asks ≤ 3 % with the maps).
Two whole runs differ by a few % from noise alone, so it also prints the time spent inside the probes themselves
(timed around each one) as a share of the measured runs' training time: the cost without the noise.

    python benchmarks/bench_health.py [--data-dir DIR] [--repeats 3] [--epochs 8]
"""

from __future__ import annotations

import argparse
import time
from statistics import median

from scratchnet import trainer as trainer_module
from scratchnet.config import TrainConfig
from scratchnet.data import load_dataset, locate_or_download
from scratchnet.health import HealthProbe
from scratchnet.trainer import Trainer, TrainingData

NEVER = 10**12  # batches between two probes: none is taken
probe_seconds = [0.0]


class TimedProbe(HealthProbe):
    """A probe that adds the time it takes (measuring, then measuring the step) to ``probe_seconds``."""

    def __init__(self, *args):
        start = time.perf_counter()
        super().__init__(*args)
        probe_seconds[0] += time.perf_counter() - start

    def after_step(self, params):
        start = time.perf_counter()
        sample = super().after_step(params)
        probe_seconds[0] += time.perf_counter() - start
        return sample


def train_seconds(config: TrainConfig, data: TrainingData, measured: bool) -> tuple[float, int]:
    """Seconds of training and the samples taken."""
    samples = []
    trainer = Trainer(config, data, on_batch=lambda event: event.health and samples.append(event.health), blas_threads=1)
    if not measured:
        trainer.measure_every = NEVER
    start = time.perf_counter()
    trainer.run()
    return time.perf_counter() - start, len(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=8)
    args = parser.parse_args()
    config = TrainConfig(epochs=args.epochs)
    data = TrainingData.from_dataset(load_dataset(locate_or_download(args.data_dir)), config.validation_size)
    trainer_module.HealthProbe = TimedProbe
    times = {True: [], False: []}
    for _ in range(args.repeats):
        for measured in (False, True):
            seconds, samples = train_seconds(config, data, measured)
            times[measured].append(seconds)
            print(f"  {'measured' if measured else 'plain   '}: {seconds:.2f} s ({samples} samples)")
    plain, measured = median(times[False]), median(times[True])
    figures = f"plain {plain:.2f} s, measured {measured:.2f} s, ratio {measured / plain:.3f}"
    print(f"default preset, {args.epochs} epochs, 1 BLAS thread: {figures}")
    print(f"time inside the probes: {100 * probe_seconds[0] / sum(times[True]):.2f} % of the measured runs' training time")


if __name__ == "__main__":
    main()
