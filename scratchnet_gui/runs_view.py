"""Which recorded runs the app shows, without widgets: the run store's runs, the overlaid ones, deletion with
undo, export, and runs recorded by other processes.

``RunsView`` is owned by the session (``session.runs``); the Runs tab and the Training plots observe it and send
it commands. The overlaid runs are remembered in the settings, so the overlays survive a restart; which runs
are overlaid is the user's choice alone (a finished run does not join them). Runs recorded by another process
(the CLI) appear within ``REFRESH_MS``: a timer compares the store's files' modification times, and reads the
runs again only when they changed.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from scratchnet.errors import RunStoreError
from scratchnet.health import HealthHistory
from scratchnet.runs import RunStore, RunSummary, unreadable_notice
from scratchnet.stored_values import LARGEST_ID

from .messages import sentence
from .run_curves import MAX_OVERLAYS, RunCurves

REFRESH_MS = 2000  # how often the store's files are looked at for runs recorded by other processes
UI_WAIT = 0.1  # seconds the UI thread waits for a store another process holds locked (the worker waits longer)
OVERLAID_KEY = "runs/overlaid"  # the settings key of the overlaid runs' ids


class RunsView(QObject):
    """The runs of ``store`` (None: it could not be opened) as the app shows them; ``settings`` remembers
    which are overlaid.

    ``runs_changed(list[RunSummary])`` follows every read of the store, ``overlays_changed(list[RunCurves])``
    every change of the overlaid runs, ``message(text, undo)`` what a command did or why it failed (with
    ``undo`` True when ``undo_delete`` can take it back)."""

    runs_changed = Signal(list)
    overlays_changed = Signal(list)
    message = Signal(str, bool)

    def __init__(self, store: RunStore | None, settings: QSettings | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        if store is not None:
            store.wait_for_others(UI_WAIT)  # made in the UI thread: its reads and commands never freeze the window
        self.settings = settings
        self.runs: list[RunSummary] = []
        self.overlaid: list[int] = []  # ids, in the order the plots draw them
        self.problem = "" if store is not None else "The run store could not be opened: runs are not recorded or listed."
        self._by_id: dict[int, RunSummary] = {}
        self._curves: dict[int, RunCurves] = {}  # the overlaid runs' curves, read from the store once per run
        self._deleted: list[int] = []  # the ids undo_delete restores
        self._fingerprint: tuple | None = None
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self.refresh_if_changed)
        self.refresh()

    def start(self) -> None:
        """Overlay the remembered runs (once the plots listen), and watch the store for runs recorded elsewhere;
        nothing once closed."""
        if self.store is not None:
            self.set_overlaid(self._remembered_ids())
            self._timer.start()

    def close(self) -> None:
        """Stop watching the store (the session is closing it): nothing is read from here on."""
        self._timer.stop()
        self.store = None

    # ---- reading the store ----------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the runs again (``runs_changed``); overlaid runs that are gone stop being overlaid."""
        if self.store is None:
            self.message.emit(self.problem, False)
            return
        try:
            runs = self.store.runs()
        except RunStoreError as error:
            self.message.emit(sentence(str(error)), False)
            return
        self._fingerprint = self._store_fingerprint()
        self.runs, self._by_id = runs, {run.id: run for run in runs}
        self.runs_changed.emit(runs)
        if notice := unreadable_notice(runs):
            self.message.emit(sentence(notice), False)
        self._show_overlays([run_id for run_id in self.overlaid if run_id in self._by_id])

    def refresh_if_changed(self) -> None:
        """Read the runs again when the store's files changed since the last read (another process recorded)."""
        if self.store is not None and self._store_fingerprint() != self._fingerprint:
            self.refresh()

    def _store_fingerprint(self) -> tuple:
        """The modification times and sizes of the store and its write-ahead log: they change with every write."""
        stats = []
        for path in (self.store.path, Path(f"{self.store.path}-wal")):
            try:
                stat = os.stat(path)
                stats.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                stats.append(None)
        return tuple(stats)

    def run(self, run_id: int) -> RunSummary | None:
        """The summary of run ``run_id`` as last read (None when it is not in the store)."""
        return self._by_id.get(run_id)

    def health(self, run_id: int) -> HealthHistory | None:
        """The health samples recorded with run ``run_id`` (none for a run recorded before they were kept); None
        when they cannot be read now (the store is gone, locked, or the run deleted)."""
        if self.store is None:
            return None
        try:
            return self.store.health(run_id)
        except RunStoreError:
            return None

    # ---- overlays ----------------------------------------------------------------------------------

    def set_overlaid(self, run_ids: list[int]) -> None:
        """Overlay these runs on the Training plots (the first ``MAX_OVERLAYS`` of those in the store), and
        remember them."""
        self._show_overlays([run_id for run_id in dict.fromkeys(run_ids) if run_id in self._by_id])
        if self.settings is not None:
            self.settings.setValue(OVERLAID_KEY, ",".join(map(str, self.overlaid)))

    def _show_overlays(self, run_ids: list[int]) -> None:
        """Send the curves of these runs (read from the store once per run while it stays overlaid; a run still
        training is read again, its curves grow)."""
        run_ids = run_ids[:MAX_OVERLAYS]
        if self.store is None:
            return
        running = {run_id for run_id in run_ids if self._by_id[run_id].status == "running"}
        if run_ids == self.overlaid and not running:
            return
        curves = {run_id: c for run_id, c in self._curves.items() if run_id in run_ids and run_id not in running}
        for run_id in run_ids:
            if run_id not in curves:
                try:
                    curves[run_id] = RunCurves.of_record(self.store.run(run_id), f"#{run_id} {self._by_id[run_id].settings}")
                except RunStoreError as error:  # deleted by another process since the last read, or the store is locked
                    self.message.emit(sentence(str(error)), False)
        run_ids = [run_id for run_id in run_ids if run_id in curves]
        self._curves, self.overlaid = curves, run_ids
        self.overlays_changed.emit([curves[run_id] for run_id in run_ids])

    def _remembered_ids(self) -> list[int]:
        """The ids saved by ``set_overlaid``: "4,5,12" (anything else in the setting is ignored)."""
        text = str(self.settings.value(OVERLAID_KEY, "")) if self.settings is not None else ""
        parts = [part.strip() for part in text.split(",")]
        return [int(part) for part in parts if part.isascii() and part.isdigit() and len(part) <= len(str(LARGEST_ID))]

    # ---- commands -----------------------------------------------------------------------------------

    def delete(self, run_ids: list[int]) -> None:
        """Delete these runs; ``undo_delete`` restores them (until the store purges them, a day later)."""
        if not self._store_or_say():
            return
        try:
            self.store.delete(run_ids)
        except RunStoreError as error:
            self.message.emit(sentence(str(error)), False)
            return
        self._deleted = list(run_ids)
        self.refresh()
        self.message.emit(f"Deleted {runs_text(run_ids)}.", True)

    def undo_delete(self) -> list[int]:
        """Bring back the runs of the last ``delete``; their ids (none when there is nothing to undo)."""
        run_ids, self._deleted = self._deleted, []
        if not run_ids or not self._store_or_say():
            return []
        try:
            self.store.restore(run_ids)
        except RunStoreError as error:
            self.message.emit(sentence(str(error)), False)
            return []
        self.refresh()
        self.message.emit(f"Restored {runs_text(run_ids)}.", False)
        return run_ids

    def export_csv(self, run_ids: list[int], path: str | Path) -> None:
        """Write the epochs of these runs to a CSV file (one row per run and epoch)."""
        if not self._store_or_say():
            return
        try:
            self.store.export_csv(run_ids, path)
        except RunStoreError as error:
            self.message.emit(sentence(str(error)), False)
            return
        self.message.emit(f"Exported the epochs of {runs_text(run_ids)} to {path}.", False)

    def _store_or_say(self) -> bool:
        if self.store is None:
            self.message.emit(self.problem, False)
        return self.store is not None


def runs_text(run_ids: list[int]) -> str:
    """ "run 4" or "runs 4, 5"."""
    return f"run {run_ids[0]}" if len(run_ids) == 1 else f"runs {', '.join(map(str, run_ids))}"
