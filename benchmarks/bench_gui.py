"""App benchmarks (run by hand, not in CI):

(1) training speed inside the app: the same configuration trained by ``scratchnet train`` (its own process,
    its own thread choice) and through the app's worker thread with the window open and the curves
    repainting (the app's thread setting on Automatic, its default); the goal is at least 90 % of the CLI's
    samples/s;
(2) UI responsiveness while it trains: how late a 10 ms ``QTimer`` fires; the goal is p99 <= 50 ms.

    python benchmarks/bench_gui.py [--data-dir DIR] [--preset default] [--epochs 1] [--repeats 4] [--blas-threads N] [--busy]
                                   [--overlays N] [--tab TITLE]

Uses real MNIST ($SCRATCHNET_DATA_DIR, ../shared/data/mnist or the cache). The window is drawn
offscreen (it still paints) unless QT_QPA_PLATFORM says otherwise. The machine may be busy: CLI
and in-app runs alternate, and both the best and the median of ``--repeats`` are reported.
``--blas-threads N`` fixes OpenBLAS's thread count for both (it must be set before NumPy loads).
``--busy`` spins one core in another process for the whole measurement, as a second busy program would.
``--overlays N`` records N runs (each with a loss curve of the most points the store keeps) in the benchmark's
run store and overlays them on the Training plots, as a user who selected them in the Runs tab sees them.
The window starts with fresh settings and an empty run store in a temporary data home; the runs it trains
are recorded there, and, as in the app, each joins the overlays when the next one starts. ``--tab "Test images"``
keeps that tab on screen while the runs train (default: the Training tab, with the curves).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--preset", default="default")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--blas-threads", type=int, default=None, help="OpenBLAS threads for both runs (default: their own choice)")
    parser.add_argument("--busy", action="store_true", help="spin one core in another process during the measurement")
    parser.add_argument("--overlays", type=int, default=0, help="overlay this many recorded runs on the Training plots")
    parser.add_argument("--tab", default="Training", help="the tab on screen while the runs train")
    return parser


ARGS = build_parser().parse_args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.blas_threads:
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(ARGS.blas_threads)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # QT_QPA_PLATFORM=xcb (or wayland) to watch it on screen

import numpy as np  # noqa: E402
from busy import one_core_busy  # noqa: E402  (benchmarks/busy.py and timing.py, beside this script)
from PySide6.QtCore import QEventLoop, QSettings, QTimer  # noqa: E402
from timing import lateness_probe  # noqa: E402

from scratchnet.config import TrainConfig  # noqa: E402
from scratchnet.data import ENV_VAR, Dataset, load_dataset, locate_or_download  # noqa: E402
from scratchnet.home import HOME_ENV_VAR  # noqa: E402
from scratchnet.presets import load_preset  # noqa: E402
from scratchnet.runs import MAX_CURVE_POINTS, DatasetIdentity, RunOutcome, RunStore  # noqa: E402
from scratchnet.trainer import EpochEvent  # noqa: E402
from scratchnet_gui.app import create_application  # noqa: E402
from scratchnet_gui.blas_threads import BlasThreadSetting  # noqa: E402
from scratchnet_gui.main_window import MainWindow  # noqa: E402
from scratchnet_gui.runs_view import OVERLAID_KEY  # noqa: E402

IDLE_SECONDS = 10  # how long the lateness probe runs with the app idle, before the runs


def data_dir(given: str | None) -> str | None:
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
    return given or os.environ.get(ENV_VAR) or (str(shared) if shared.is_dir() else None)


def cli_run(preset: str, epochs: int, folder: Path) -> tuple[float, int]:
    """What a user of the command line gets: ``scratchnet train`` in its own process, with its own thread choice;
    returns its samples/s and the BLAS threads it ended with."""
    command = [sys.executable, "-m", "scratchnet", "train", "--preset", preset, "--epochs", str(epochs), "--data-dir", str(folder)]
    output = subprocess.run([*command, "--json", "--no-record"], capture_output=True, text=True, check=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    return result["samples_per_second"], result["blas_threads"]


def record_runs(count: int, config: TrainConfig, dataset: Dataset) -> list[int]:
    """Record ``count`` finished runs of ``config.epochs`` epochs in the run store of the data home, each with a
    loss curve as long as the store keeps (``MAX_CURVE_POINTS``) and per-epoch scores; returns their ids."""
    rng = np.random.default_rng(0)
    identity = DatasetIdentity(dataset.name, dataset.test_fingerprint, dataset.class_names, dataset.image_shape, 50_000, 10_000)
    ids = []
    with RunStore() as store:
        for _ in range(count):
            run_id = store.begin(config, identity)
            pace = rng.uniform(1, 4)  # how fast this run's loss falls
            for epoch in range(1, config.epochs + 1):
                loss = 0.05 + 2.25 * np.exp(-pace * epoch)
                store.add_epoch(run_id, EpochEvent(epoch, config.epochs, loss, 1 - loss / 3, loss * 1.1, 1 - loss / 2.5, 10.0, 0.1))
            x = np.linspace(0, config.epochs, MAX_CURVE_POINTS)
            curve = np.column_stack([x, 0.05 + 2.25 * np.exp(-pace * x) + rng.normal(0, 0.02, len(x))])
            store.finish(run_id, RunOutcome("completed", loss_curve=curve))
            ids.append(run_id)
    return ids


def idle_lateness(seconds: float) -> np.ndarray:
    """How late the 10 ms timer fires with the app idle: the machine's own share of the lateness (ms)."""
    timer, delays = lateness_probe()
    loop = QEventLoop()
    QTimer.singleShot(round(1000 * seconds), loop.quit)
    timer.start()
    loop.exec()
    timer.stop()
    return np.array(delays)


def in_app_run(window: MainWindow, config: TrainConfig, probe: bool) -> tuple[float, int, np.ndarray]:
    """Train ``config`` through the window's Start action; return samples/s, the BLAS threads it ended with and,
    with ``probe``, how late a 10 ms timer fired (ms). The probe is a measuring instrument with a cost of its own
    (100 wake-ups a second that each take the GIL), so the speed figure comes from runs without it."""
    window.settings_panel.set_config(config)
    window.reset_action.trigger()
    outcomes = []
    window.session.run_finished.connect(outcomes.append)
    timer, delays = lateness_probe()
    if probe:
        timer.start()
    loop = QEventLoop()
    window.session.run_finished.connect(loop.quit)
    window.start_action.trigger()
    loop.exec()  # the app's ordinary event loop, until the run ends
    timer.stop()
    window.session.run_finished.disconnect(outcomes.append)
    window.session.run_finished.disconnect(loop.quit)
    return outcomes[0].samples_per_second, outcomes[0].blas_threads, np.array(delays)


def main(args: argparse.Namespace) -> int:
    config = load_preset(args.preset)[0].replace(epochs=args.epochs)
    dataset = load_dataset(locate_or_download(data_dir(args.data_dir)))
    app = create_application(sys.argv[:1])  # noqa: F841 (kept alive for the whole benchmark)
    # Fresh settings and an empty run store, as a new user's: a settings file kept between benchmarks remembered
    # every run they overlaid (up to 20 drawn at once), and the window measured was then one drawing 20 recorded
    # runs over its curves. ``--overlays`` measures that on purpose.
    home = tempfile.TemporaryDirectory()
    os.environ[HOME_ENV_VAR] = home.name
    settings = QSettings(str(Path(home.name) / "scratchnet-bench.ini"), QSettings.Format.IniFormat)
    settings.setValue(OVERLAID_KEY, ",".join(map(str, record_runs(args.overlays, config, dataset))))
    window = MainWindow(settings)
    window.resize(1280, 800)
    window.show()
    window.settings_panel.blas_threads.setCurrentText("Automatic")  # the app's default, whatever the last benchmark left
    loop = QEventLoop()
    window.session.dataset_changed.connect(loop.quit)
    window.load_data(str(dataset.folder))
    loop.exec()
    window.show_tab(args.tab)

    threads = os.environ.get("OPENBLAS_NUM_THREADS", "default")
    setting = BlasThreadSetting()
    print(
        f"config: {config.describe()} on {dataset.name}, {args.repeats} alternating repeats, BLAS threads: {threads}, "
        f"{setting.cores} usable cores (the app's Automatic limit: {setting.limit or 'none'}); "
        f"{'one core busy' if args.busy else 'quiet'}, {args.overlays} recorded runs overlaid, the {args.tab} tab on screen",
        flush=True,
    )
    cli, in_app, probed, delays = [], [], [], []
    with one_core_busy(args.busy):
        idle = idle_lateness(IDLE_SECONDS)
        for repeat in range(args.repeats):
            speed, cli_threads = cli_run(args.preset, args.epochs, dataset.folder)
            cli.append(speed)
            speed, app_threads, _ = in_app_run(window, config, probe=False)
            in_app.append(speed)
            speed, _, run_delays = in_app_run(window, config, probe=True)
            probed.append(speed)
            delays.append(run_delays)
            print(
                f"  repeat {repeat + 1}: CLI {cli[-1]:,.0f} samples/s ({cli_threads} BLAS threads), in the app "
                f"{in_app[-1]:,.0f} samples/s ({app_threads} BLAS threads; {probed[-1]:,.0f} with the 10 ms probe timer running)",
                flush=True,
            )
    window.close()

    ratio = max(in_app) / max(cli)
    median_ratio = float(np.median(in_app) / np.median(cli))
    all_delays = np.concatenate(delays)
    p50, p99, worst = np.percentile(all_delays, [50, 99, 100])
    print(
        f"(1) in-app training speed: best {max(in_app):,.0f} vs {max(cli):,.0f} samples/s by the CLI = {ratio:.1%} "
        f"(medians: {median_ratio:.1%}; goal >= 90 %)"
    )
    probed_median = np.median(probed) / np.median(cli)
    print(f"    with the probe timer running as well: best {max(probed) / max(cli):.1%}, medians {probed_median:.1%}")
    print(f"(2) 10 ms QTimer lateness while training: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {worst:.1f} ms (goal p99 <= 50 ms)")
    idle_p50, idle_p99, idle_worst = np.percentile(idle, [50, 99, 100])
    print(f"    the same timer with the app idle (the machine's share): p50 {idle_p50:.1f}, p99 {idle_p99:.1f}, max {idle_worst:.1f} ms")
    return 0 if ratio >= 0.9 and p99 <= 50 else 1


if __name__ == "__main__":
    sys.exit(main(ARGS))
