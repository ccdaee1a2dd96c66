"""The explanations of the current model's hidden units, for the views that show them (no widgets; the session
owns one, ``session.units``).

``study()`` is the ``scratchnet.inspect.units.UnitStudy`` of the session's current model and dataset, kept while
they stay the same, so that opening one unit after another reuses its one pass over the test set. ``rank(layer)``
switches every unit of a hidden layer off in turn (``UnitStudy.ablation``) on a thread of its own ``QThreadPool``,
as ``predictor.py`` predicts the test set: ``progress(done, total)`` while it works, then ``ranked(Ablation,
model)`` on the thread that owns this object, or ``failed(message)``. A ranking under way is cancelled when the
model or the dataset changes (its answer would be about other weights) and when the app closes. It is not
started while a run trains (the view says so): its BLAS thread count, one, is the whole process's.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from scratchnet.data import Dataset
from scratchnet.inspect.units import UnitStudy
from scratchnet.model import Model
from scratchnet.threads import BlasThreads

PROGRESS_SECONDS = 0.05  # report the ranking's progress at most 20 times a second


class Cancelled(Exception):
    """The ranking was cancelled while it ran."""


class _Reports(QObject):
    """Carries a job's reports to the thread of ``UnitStudies`` (queued signals)."""

    progress = Signal(int, int)
    done = Signal(object, object, str)  # job, Ablation | None, problem ("" when none)


class _RankingJob(QRunnable):
    """Ranks the units of one layer on a pool thread; touches nothing but its study and its reports."""

    def __init__(self, study: UnitStudy, layer: int, reports: _Reports):
        super().__init__()
        self.study, self.layer, self.reports = study, layer, reports
        self.cancelled = threading.Event()
        self._last_report = 0.0

    def _progress(self, done: int, total: int) -> None:
        if self.cancelled.is_set():
            raise Cancelled
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_SECONDS or done == total:
            self._last_report = now
            self.reports.progress.emit(done, total)

    def run(self) -> None:
        ablation, problem = None, ""
        blas = BlasThreads()
        threads = blas.get()
        try:
            blas.set(1)  # its products are small: one thread is as fast quiet, and 2-4 times faster on a busy machine
            ablation = self.study.ablation(self.layer, self._progress)
        except Cancelled:
            problem = "cancelled"
        except Exception as error:  # out of memory, say: the view must hear of it
            problem = f"the ranking failed: {type(error).__name__}: {error}"
        finally:
            blas.set(threads)
        self.reports.done.emit(self, ablation, problem)


class UnitStudies(QObject):
    """The current model's ``UnitStudy`` and the rankings of its layers; see the module docstring."""

    progress = Signal(int, int)  # units switched off so far, of how many
    ranked = Signal(object, object)  # Ablation, the Model it is about
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.model: Model | None = None
        self.dataset: Dataset | None = None
        self._study: UnitStudy | None = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._job: _RankingJob | None = None  # the ranking whose answer is wanted
        self._jobs: set[_RankingJob] = set()  # every job not yet answered, cancelled ones too: kept alive until then

    def set_model(self, model: Model | None) -> None:
        if model is not self.model:
            self.cancel()
            self.model = model

    def set_dataset(self, dataset: Dataset | None) -> None:
        if dataset is not self.dataset:
            self.cancel()
            self.dataset = dataset

    def study(self) -> UnitStudy | None:
        """The study of the current model on the current dataset's test images (None without either, or when the
        model does not read this dataset's images)."""
        model, dataset = self.model, self.dataset
        if (
            model is None
            or dataset is None
            or model.layer_sizes[0] != dataset.num_features
            or len(model.class_names) != dataset.num_classes
        ):
            return None
        self._study = self._study.for_model(model, dataset) if self._study is not None else UnitStudy(model, dataset)
        return self._study

    @property
    def ranking(self) -> bool:
        """True while a ranking is under way."""
        return self._job is not None

    def rank(self, layer: int) -> bool:
        """Rank the units of hidden layer ``layer`` (from 0) of the current model in the background (any ranking
        under way is cancelled); False when there is nothing to rank."""
        study = self.study()
        if study is None or not 0 <= layer < study.hidden_layers:
            return False
        self.cancel()
        reports = _Reports()  # made here, so that its signals are queued to this thread
        reports.progress.connect(self._progress)
        reports.done.connect(self._done)
        self._job = _RankingJob(study, layer, reports)
        self._job.setAutoDelete(False)
        self._jobs.add(self._job)
        self._pool.start(self._job)
        return True

    def cancel(self) -> None:
        """Stop the ranking under way, if any; its answer is dropped."""
        if self._job is not None:
            self._job.cancelled.set()
            self._job = None

    def shutdown(self) -> None:
        """Stop any ranking and wait for its thread (the window is closing)."""
        self.cancel()
        self._pool.waitForDone()

    def _progress(self, done: int, total: int) -> None:
        if self._job is not None and self.sender() is self._job.reports:
            self.progress.emit(done, total)

    def _done(self, job: _RankingJob, ablation, problem: str) -> None:
        self._jobs.discard(job)
        if job is not self._job:
            return  # cancelled, or replaced by a newer ranking
        self._job = None
        if ablation is not None:
            self.ranked.emit(ablation, job.study.model)
        else:
            self.failed.emit(problem)
