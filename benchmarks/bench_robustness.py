"""The robustness sweep's time: every kind of damage at six severities on all of MNIST's test images.

Trains the default preset (or loads ``--model``), then sweeps 10 000 test images × 6 severities × 6 kinds as
``scratchnet evaluate --robustness`` does (one BLAS thread per worker, a worker per core) and as the app's
Robustness tab does (one worker on one BLAS thread,
leaving a core to the window), and for comparison with BLAS's own threads; prints the seconds of each, best of ``--repeats``.
The issue's bound is 5 s on a two-core machine.

    python benchmarks/bench_robustness.py [--data-dir DIR] [--model FILE] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os

from threadpoolctl import threadpool_limits

from scratchnet.config import TrainConfig
from scratchnet.data import load_dataset, locate_or_download
from scratchnet.model_file import load_model
from scratchnet.robustness import sweep
from scratchnet.threads import usable_cores
from scratchnet.trainer import Trainer, TrainingData


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--model", default=None, help="a .safetensors model (default: train the default preset)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    dataset = load_dataset(locate_or_download(args.data_dir))
    if args.model:
        model = load_model(args.model)
    else:
        config = TrainConfig()
        trainer = Trainer(config, TrainingData.from_dataset(dataset, config.validation_size))
        trainer.run()
        model = trainer.model()
    images, labels = dataset.test_images, dataset.test_labels
    cores = usable_cores()
    print(
        f"{'-'.join(map(str, model.layer_sizes))} {model.activation}; {len(images):,} images × 6 severities × 6 kinds; "
        f"{cores} cores, load average {os.getloadavg()[0]:.2f}"
    )
    for name, workers, blas in (
        ("CLI: a worker per core, 1 BLAS thread each", cores, 1),
        ("app, idle: 1 worker, 1 BLAS thread", 1, 1),
        ("1 worker, BLAS as it is (2 threads)", 1, None),
    ):
        best = float("inf")
        for _ in range(args.repeats):
            if blas is None:
                table = sweep(model, images, labels, workers=workers)
            else:
                with threadpool_limits(blas, user_api="blas"):
                    table = sweep(model, images, labels, workers=workers)
            best = min(best, table.seconds)
        print(f"{name:<46} {best:5.2f} s  ({best / 5:.2f} of the 5 s bound)")
    print(
        "rotation accuracy:", " ".join(f"{s:g}°: {100 * a:.1f} %" for s, a in zip(table.severities["rotation"], table.accuracy["rotation"]))
    )


if __name__ == "__main__":
    main()
