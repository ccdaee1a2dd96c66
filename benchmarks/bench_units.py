"""Speed of the Unit tab on real MNIST (run by hand, not in CI), against the goals of issue 20:

(a) the 16 test images that drive a unit most and least, from all 10 000 (its explanation, once the test set's
    layer values are kept): goal ≤ 100 ms;
(b) the ablation ranking of a 128-unit layer of 784-128-128-10: goal ≤ 2 s;
(c) how late a 10 ms QTimer on the window's thread fires while (b) runs off it: goal p99 ≤ 50 ms.

Each is measured with the machine otherwise quiet, then with one core kept busy by a second program (busy.py).

    SCRATCHNET_DATA_DIR=/work/shared/data/mnist python benchmarks/bench_units.py [--repeats 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from busy import one_core_busy  # noqa: E402
from PySide6.QtCore import QEventLoop  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from timing import lateness_probe  # noqa: E402

from scratchnet.config import TrainConfig  # noqa: E402
from scratchnet.data import load_dataset, locate_or_download  # noqa: E402
from scratchnet.inspect.edits import UnitRef  # noqa: E402
from scratchnet.inspect.units import UnitStudy  # noqa: E402
from scratchnet.trainer import Trainer, TrainingData  # noqa: E402
from scratchnet_gui.unit_studies import UnitStudies  # noqa: E402


def measure(study: UnitStudy, repeats: int) -> None:
    _ = study.values  # the one pass over the test set, kept
    times = []
    for k in range(repeats):
        start = time.perf_counter()
        study.explain(UnitRef(k % 2, k % 128))
        times.append(1000 * (time.perf_counter() - start))
    median, worst = np.median(times), max(times)
    print(f"  (a) top/bottom 16 of a unit (its whole explanation): median {median:.1f} ms, max {worst:.1f} ms (goal ≤ 100 ms)")
    for layer in (0, 1):
        start = time.perf_counter()
        study.ablation(layer)
        print(f"  (b) ablation of hidden layer {layer + 1} (128 units): {time.perf_counter() - start:.2f} s (goal ≤ 2 s)")
    studies = UnitStudies()
    studies.set_dataset(study.dataset)
    studies.set_model(study.model)
    timer, delays = lateness_probe()
    loop = QEventLoop()
    studies.ranked.connect(lambda *_: loop.quit())
    start = time.perf_counter()
    timer.start()
    studies.rank(0)
    loop.exec()
    timer.stop()
    seconds = time.perf_counter() - start
    late = np.array(delays)
    print(
        f"  (c) UI lateness during the background ranking of layer 1 ({seconds:.2f} s): p50 {np.percentile(late, 50):.1f} ms, "
        f"p99 {np.percentile(late, 99):.1f} ms, max {late.max():.1f} ms over {len(late)} ticks (goal p99 ≤ 50 ms)"
    )
    studies.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    app = QApplication([])  # noqa: F841
    dataset = load_dataset(locate_or_download(args.data_dir))
    config = TrainConfig(hidden=[128, 128], epochs=1, optimizer="adam", lr=0.002)
    trainer = Trainer(config, TrainingData.from_dataset(dataset, config.validation_size))
    trainer.run()
    model = trainer.model()
    print(f"784-128-128-10 relu, one epoch; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} before")
    for busy in (False, True):
        print("with one core busy:" if busy else "quiet:")
        with one_core_busy(busy):
            measure(UnitStudy(model, dataset), args.repeats)


if __name__ == "__main__":
    main()
