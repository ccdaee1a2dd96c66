"""Runs panel benchmarks (run by hand, not in CI; Qt offscreen):

(a) the Runs panel over a store of ``--runs`` runs (default 10 000, filled as ``bench_runs.py`` fills it): the
    time to open it (read and list every run), to sort by each column, to filter as a user types, to scroll
    from the top to the bottom page by page (each page painted), and to overlay three selected runs;
(b) with the MNIST files, what recording costs the app: a run of the ``default`` preset (``--epochs``) trained
    by the app's ``Session``, with the recorder's calls timed inside the run, as a share of the run's time.

    python benchmarks/bench_runs_panel.py [--runs 10000] [--epochs 2] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_runs import TimedRecorder, fill  # noqa: E402
from PySide6.QtCore import QEventLoop, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from scratchnet import runs  # noqa: E402
from scratchnet.home import HOME_ENV_VAR  # noqa: E402
from scratchnet.presets import load_preset  # noqa: E402
from scratchnet.runs import RunStore  # noqa: E402
from scratchnet_gui.curves_panel import CurvesPanel  # noqa: E402
from scratchnet_gui.runs_panel import RunsPanel  # noqa: E402
from scratchnet_gui.session import Session  # noqa: E402


def milliseconds(action) -> float:
    start = time.perf_counter()
    action()
    QApplication.processEvents()
    return (time.perf_counter() - start) * 1e3


def bench_panel(count: int) -> None:
    with RunStore(Path(os.environ[HOME_ENV_VAR]) / "runs.sqlite3") as store:
        fill(store, count)
    session = Session()
    panel = None

    def open_panel():
        nonlocal panel
        panel = RunsPanel()
        panel.follow(session)
        panel.resize(1280, 700)
        panel.show()

    opened = milliseconds(open_panel)
    sorts = {
        column.title: milliseconds(lambda c=c: panel.table.sortByColumn(c, Qt.SortOrder.AscendingOrder))
        for c, column in enumerate(panel.table_model.columns)
    }
    typed = []
    for text in ("l", "lr", "lr=0.00", "lr=0.003", ""):  # each as typing pauses (the panel waits for that)
        panel.filter.setText(text)
        typed.append(milliseconds(panel._apply_filter))
    bar = panel.table.verticalScrollBar()
    pages = 0
    start = time.perf_counter()
    step = max(bar.pageStep(), bar.maximum() // 100)  # a hundred jumps at most, each a page or more
    while bar.value() < bar.maximum():
        bar.setValue(bar.value() + step)
        panel.table.viewport().repaint()
        pages += 1
    scroll = (time.perf_counter() - start) * 1e3
    curves = CurvesPanel()
    panel.overlays_changed.connect(curves.set_overlays)
    overlaid = milliseconds(lambda: panel.select_runs([1, 2, 3]))
    print(f"(a) Runs panel over {count} runs: open {opened:.0f} ms")
    print("    sort by " + ", ".join(f"{title} {ms:.0f} ms" for title, ms in sorts.items()))
    print("    filter keystrokes " + ", ".join(f"{ms:.0f}" for ms in typed) + " ms")
    print(f"    scroll top to bottom in {pages} jumps, each painted: {scroll:.0f} ms ({scroll / max(pages, 1):.1f} ms a jump)")
    print(f"    select 3 runs and overlay them: {overlaid:.0f} ms")
    session.shutdown()


def bench_app_recording(data_dir: str | None, epochs: int) -> None:
    runs.RunRecorder = TimedRecorder  # the worker records through it (in train_and_record)
    session = Session()
    loop = QEventLoop()
    session.dataset_changed.connect(loop.quit)
    session.data_failed.connect(lambda message: (print(f"(b) skipped: {message}"), loop.quit()))
    session.load_data(data_dir)
    loop.exec()
    if session.dataset is None:
        return
    config = load_preset("default")[0].replace(epochs=epochs)
    outcomes = []
    session.run_finished.connect(lambda outcome: (outcomes.append(outcome), loop.quit()))
    TimedRecorder.spent = 0.0
    start = time.perf_counter()
    session.start(config)
    loop.exec()
    total = time.perf_counter() - start
    print(
        f"(b) the app, default preset for {epochs} epochs: {total:.1f} s in all, recording {TimedRecorder.spent * 1e3:.0f} ms "
        f"= {TimedRecorder.spent / total:.3%} (test accuracy {outcomes[0].test_accuracy:.2%}, recorded as run {outcomes[0].run_id})"
    )
    session.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--data-dir", default=None, help="folder of the MNIST files; without them, (b) is skipped")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])  # noqa: F841 (kept alive for the widgets)
    with tempfile.TemporaryDirectory() as home:
        os.environ[HOME_ENV_VAR] = home  # a store of its own, never the user's
        bench_panel(args.runs)
    with tempfile.TemporaryDirectory() as home:
        os.environ[HOME_ENV_VAR] = home
        bench_app_recording(args.data_dir, args.epochs)


if __name__ == "__main__":
    main()
