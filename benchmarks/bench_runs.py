"""Run store benchmarks (run by hand, not in CI):

(a) a store of ``--runs`` runs (default 10 000, each with 8 epochs and a 2 000-point loss curve) in a temporary
    folder: the time to record them, to open the store (with its integrity check), to list every run
    (``RunStore.runs``, what the Runs panel shows) and to read one run whole (``RunStore.run``);
(b) with the MNIST files, the cost of recording a run of the ``default`` preset: the recorder's calls (per batch
    and per epoch, the finish with its saved weights) timed inside the run, as a share of the run's time.

    python benchmarks/bench_runs.py [--runs 10000] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from scratchnet.config import TrainConfig
from scratchnet.data import load_dataset, locate_or_download
from scratchnet.presets import load_preset
from scratchnet.runs import MAX_CURVE_POINTS, DatasetIdentity, Environment, RunOutcome, RunRecorder, RunStore
from scratchnet.trainer import EpochEvent, Trainer, TrainingData, score_on_test_set


def seconds(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def fill(store: RunStore, count: int) -> None:
    """``count`` runs of 8 epochs, recorded through the store's API as a training run records them."""
    identity = DatasetIdentity("MNIST", "sha256:" + "0" * 64, [str(d) for d in range(10)], (28, 28), 55000, 5000)
    environment = Environment.current()
    curve = np.column_stack([np.linspace(0, 8, MAX_CURVE_POINTS), np.geomspace(2.3, 0.05, MAX_CURVE_POINTS)])
    for i in range(count):
        run_id = store.begin(TrainConfig(optimizer="adam", lr=0.001 * (1 + i % 7)), identity, environment)
        for epoch in range(1, 9):
            store.add_epoch(run_id, EpochEvent(epoch, 8, 0.3 / epoch, 0.9, 0.25 / epoch, 0.95, 2.5, 0.001))
        store.finish(run_id, RunOutcome("completed", "completed 8 epochs", 20.0, 22000.0, {"accuracy": 0.98}, curve))


def bench_store(count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "runs.sqlite3"
        with RunStore(path) as store:
            recorded = seconds(lambda: fill(store, count))
        opened = min(seconds(lambda: RunStore(path).close()) for _ in range(3))
        with RunStore(path) as store:
            listed = min(seconds(store.runs) for _ in range(3))
            one = min(seconds(lambda: store.run(count // 2)) for _ in range(3))
        size = sum(file.stat().st_size for file in Path(folder).iterdir())
    print(f"(a) {count} runs: recorded in {recorded:.1f} s ({recorded / count * 1e3:.2f} ms a run of 8 epochs), {size / 1e6:.0f} MB")
    print(f"    open {opened * 1e3:.0f} ms   runs() {listed * 1e3:.0f} ms   run(id) {one * 1e3:.1f} ms")


class TimedRecorder(RunRecorder):
    """A recorder that adds up the time its own calls take."""

    spent = 0.0

    def _timed(self, call, *args):
        start = time.perf_counter()
        try:
            return call(*args)
        finally:
            TimedRecorder.spent += time.perf_counter() - start

    def on_batch(self, event):
        self._timed(super().on_batch, event)

    def on_epoch(self, event):
        self._timed(super().on_epoch, event)

    def finish(self, result, model, test):
        return self._timed(super().finish, result, model, test)


def bench_recording(data_dir: str | None) -> None:
    dataset = load_dataset(locate_or_download(data_dir))
    config, _ = load_preset("default")
    data = TrainingData.from_dataset(dataset, config.validation_size, config.dtype)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        TimedRecorder.spent = 0.0
        recorder = TimedRecorder(RunStore(Path(folder) / "runs.sqlite3"), config, data, warn=print)
        trainer = Trainer(config, data, on_batch=recorder.on_batch, on_epoch=recorder.on_epoch)
        result = trainer.run()
        model = trainer.model()
        recorder.finish(result, model, score_on_test_set(model, dataset, result))
        total = time.perf_counter() - start
    print(
        f"(b) default preset: {total:.1f} s in all, recording {TimedRecorder.spent * 1e3:.0f} ms = {TimedRecorder.spent / total:.3%} "
        f"({config.epochs} epochs, test accuracy {model.metrics['test_accuracy']:.2%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--data-dir", default=None, help="folder of the MNIST files; without them, (b) is skipped")
    args = parser.parse_args()
    bench_store(args.runs)
    try:
        bench_recording(args.data_dir)
    except Exception as error:  # no MNIST here: (a) still stands
        print(f"(b) skipped: {error}")


if __name__ == "__main__":
    main()
