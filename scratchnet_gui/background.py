"""Long computations off the window's thread, the latest one only: the robustness sweep, the calibration fit.

``LatestWork.submit(work)`` runs ``work(stop, report)`` on a thread of its own pool; ``work`` checks the
``threading.Event`` ``stop`` between its steps and may ``report(partial)`` what it has so far. ``partial(value)``
and then ``done(value)`` (or ``failed(text)``) arrive on the thread that owns the ``LatestWork``, through queued
signals, so the window only draws. A new submission sets the ``stop`` of the one under way and supersedes it:
its late reports are dropped, so a model replaced after every epoch never piles work up. The work must touch no
widget and nothing the window changes (give it the model and dataset it is for).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

Work = Callable[[threading.Event, Callable[[object], None]], object]


class _Carrier(QObject):
    """Carries one job's reports to the owner's thread: (job number, value) or (job number, problem)."""

    partial = Signal(int, object)
    done = Signal(int, object)
    failed = Signal(int, str)


class _Job(QRunnable):
    def __init__(self, number: int, work: Work, stop: threading.Event, carrier: _Carrier):
        super().__init__()
        self.number, self.work, self.stop, self.carrier = number, work, stop, carrier

    def run(self) -> None:
        try:
            value = self.work(self.stop, lambda partial: self.carrier.partial.emit(self.number, partial))
        except Exception as error:  # out of memory, a model that overflows: the view says so, and the next job runs
            self.carrier.failed.emit(self.number, f"{type(error).__name__}: {error}")
        else:
            self.carrier.done.emit(self.number, value)


class LatestWork(QObject):
    """Runs the latest submitted work on one background thread; see the module docstring."""

    partial = Signal(object)
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._carrier = _Carrier(self)  # made here, so that its signals are queued to this thread
        self._carrier.partial.connect(lambda number, value: self._deliver(number, self.partial, value))
        self._carrier.done.connect(self._finished)
        self._carrier.failed.connect(self._failed)
        self._number = 0
        self._running = 0  # jobs started and not yet finished
        self._stop = threading.Event()

    @property
    def busy(self) -> bool:
        return self._running > 0

    def submit(self, work: Work) -> None:
        """Stop the work under way (its reports are dropped from now on) and start ``work`` after it."""
        self.cancel()
        self._number += 1
        self._stop = threading.Event()
        self._running += 1
        self._pool.start(_Job(self._number, work, self._stop, self._carrier))

    def cancel(self) -> None:
        """Stop the work under way; nothing more arrives from it."""
        self._stop.set()
        self._number += 1

    def shutdown(self) -> None:
        """Stop the work and wait for its thread (the window is closing)."""
        self.cancel()
        self._pool.waitForDone()

    def _deliver(self, number: int, signal: Signal, value: object) -> None:
        if number == self._number:
            signal.emit(value)

    def _finished(self, number: int, value: object) -> None:
        self._running -= 1
        self._deliver(number, self.done, value)

    def _failed(self, number: int, problem: str) -> None:
        self._running -= 1
        self._deliver(number, self.failed, problem)
