"""Start-up benchmark (run by hand, not in CI): how long the app takes to show its window, and then its data.

    python benchmarks/bench_startup.py [--data-dir DIR] [--repeats 5]

Each start is its own process, as a user's is: it imports the app, shows the window (offscreen unless
QT_QPA_PLATFORM says otherwise) and loads MNIST as ``scratchnet-gui`` does, then exits. A *cold* start has an
empty data home, so the data is read from its ``.gz`` files and a decoded copy is written to the cache; a *warm*
start follows a cold one in the same data home and reads that copy (``scratchnet/decoded.py``). Cold and warm
starts alternate, so both meet the same machine (shared and noisy: compare the ratios of one run). The goal: from
the second start, the data is ready at most 1.0 s after the window appears.

Uses real MNIST ($SCRATCHNET_DATA_DIR, ../shared/data/mnist or the cache), from its page-cached files: "cold"
means without a decoded copy, not a cold disk.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# One start, in a child process: prints {"window": s, "data": s}, both in seconds since the process began.
CHILD = """
import json, os, sys, time
started = float(sys.argv[1])
from PySide6.QtCore import QTimer
from scratchnet_gui.app import create_application
from scratchnet_gui.main_window import MainWindow
app = create_application([sys.argv[0]])
window = MainWindow()
window.show()
times = {}
def window_shown():
    times["window"] = time.time() - started
    window.load_data(sys.argv[2])
def data_ready(dataset):
    times["data"] = time.time() - started
    QTimer.singleShot(0, app.quit)
window.session.dataset_changed.connect(data_ready)
window.session.loader.failed.connect(lambda message: (print(message, file=sys.stderr), app.exit(1)))
QTimer.singleShot(0, window_shown)  # runs once the event loop has shown the window
status = app.exec()
window.close()
print(json.dumps(times))
sys.exit(status)
"""


def start_once(data_dir: Path, home: Path) -> dict[str, float]:
    environment = {**os.environ, "SCRATCHNET_HOME": str(home), "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    environment.pop("SCRATCHNET_DATA_DIR", None)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, repr(time.time()), str(data_dir)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if child.returncode != 0:
        raise SystemExit(f"a start failed:\n{child.stderr}")
    return json.loads(child.stdout.splitlines()[-1])


def mnist_dir(given: str | None) -> Path:
    from scratchnet.data import MNIST_SHA256, cache_dir

    candidates = [given, os.environ.get("SCRATCHNET_DATA_DIR"), REPO.parent / "shared" / "data" / "mnist", cache_dir()]
    for candidate in candidates:
        if candidate and all((Path(candidate) / name).is_file() for name in MNIST_SHA256):
            return Path(candidate)
    raise SystemExit("real MNIST not found: pass --data-dir DIR holding the four *-ubyte.gz files")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    data_dir = mnist_dir(args.data_dir)
    results: dict[str, list[dict[str, float]]] = {"cold": [], "warm": []}
    for repeat in range(args.repeats):
        with tempfile.TemporaryDirectory() as home:
            results["cold"].append(start_once(data_dir, Path(home)))
            results["warm"].append(start_once(data_dir, Path(home)))
        print(f"start {repeat + 1}/{args.repeats}: cold {results['cold'][-1]}, warm {results['warm'][-1]}", file=sys.stderr)

    def median(kind: str, key: str) -> float:
        return statistics.median(start[key] - (start["window"] if key == "data" else 0) for start in results[kind])

    print(f"MNIST from {data_dir}; median of {args.repeats} starts each, seconds since the process began")
    print(f"{'':6} {'window shown':>14} {'data ready after the window':>29}")
    for kind in ("cold", "warm"):
        print(f"{kind:6} {median(kind, 'window'):14.2f} {median(kind, 'data'):29.2f}")
    print(f"warm / cold, data after the window: {median('warm', 'data') / median('cold', 'data'):.2f}")


if __name__ == "__main__":
    main()
