"""The training worker: runs the core ``Trainer`` on its own thread and reports through Qt signals.

The session creates one ``TrainingWorker`` per run, moves it to a ``QThread`` and connects to its
signals. The worker never touches a widget: it sends plain data (dataclasses of numbers and NumPy
arrays it owns). Batch results are coalesced into a ``BatchChunk`` at most every ``EMIT_INTERVAL``
seconds, so a fast run cannot flood the UI's event queue. Exactly one of ``finished`` or ``failed``
arrives at the end of every run.

Every run is recorded in the run store given (``scratchnet.runs.RunRecorder``, as the CLI records): from this
thread, which the store's lock allows; a failing store is reported once by ``recording_failed`` and the run goes
on unrecorded.

Pause, step, stop and the live settings do not pass through the worker: the session writes them to
the run's ``RunControls``, which the trainer reads between two batches (even requests made before the
trainer exists, while the data is being prepared).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from scratchnet.config import TrainConfig
from scratchnet.controls import RunControls
from scratchnet.data import Dataset
from scratchnet.model import Model
from scratchnet.nn.network import Params
from scratchnet.runs import RunRecorder, RunStore
from scratchnet.trainer import BatchEvent, EpochEvent, Trainer, TrainingData, score_on_test_set

from .blas_threads import BlasThreadSetting

EMIT_INTERVAL = 0.1  # seconds between two batch reports (the UI repaints at 10 Hz)


@dataclass
class BatchChunk:
    """The batches finished since the last report: x in fractional epochs (k,), their losses (k,) and the last event."""

    progress: np.ndarray
    loss: np.ndarray
    last: BatchEvent


@dataclass
class RunOutcome:
    """How a run ended, with the final network and its scores on the test set (None when the run was aborted)."""

    status: str  # completed | stopped | early_stopped | diverged
    message: str
    model: Model  # model.epochs_trained counts the epochs before this run too
    history: list[EpochEvent] = field(default_factory=list)
    test: dict | None = None  # scratchnet.nn.metrics.evaluate() on the test set
    train_seconds: float = 0.0
    samples_per_second: float = 0.0
    weights_epoch: float = 0  # epochs of this run behind the final weights (see TrainResult.weights_epoch)
    run_id: int | None = None  # its id in the run store (None: not recorded)
    blas_threads: int | None = None  # the BLAS thread count the run ended with (see scratchnet.threads)

    @property
    def test_accuracy(self) -> float | None:
        """The test accuracy worth showing: None when the model was not scored, or when a diverged run rolled
        back to the very weights it started from (its score is theirs, not the run's)."""
        if self.test is None or (self.status == "diverged" and self.weights_epoch == 0):
            return None
        return self.test["accuracy"]


class TrainingWorker(QObject):
    """Trains ``config`` on ``dataset`` when its thread calls ``run``: from ``params`` when given, trained for
    ``from_epoch`` epochs already; ``controls`` are the run's pause/step/stop flags and live settings; the run is
    recorded in ``store`` (None: not recorded); ``threads`` says how many BLAS threads it trains with."""

    preparing = Signal(str)  # what it is doing before the first batch
    batches = Signal(object)  # BatchChunk
    epoch_done = Signal(object, object)  # EpochEvent, Model snapshot after that epoch
    finished = Signal(object)  # RunOutcome
    failed = Signal(str)  # an unexpected error, as text a user can read
    recording_failed = Signal(str)  # the run store failed: the run goes on unrecorded

    def __init__(
        self,
        config: TrainConfig,
        dataset: Dataset,
        controls: RunControls,
        params: Params | None = None,
        from_epoch: float = 0,
        store: RunStore | None = None,
        threads: BlasThreadSetting | None = None,
    ):
        super().__init__()
        self._config = config
        self._dataset = dataset
        self._controls = controls
        self._params = params
        self._from_epoch = from_epoch
        self._store = store
        self._threads = threads or BlasThreadSetting()
        self._recorder: RunRecorder | None = None
        self._aborted = False
        self._trainer: Trainer | None = None
        self._progress: list[float] = []
        self._loss: list[float] = []
        self._last_event: BatchEvent | None = None
        self._last_emit = 0.0

    def abort(self) -> None:
        """Stop as fast as possible and skip the test-set evaluation (used when the window closes). Any thread."""
        self._aborted = True
        self._controls.stop()

    # ---- the run: the worker's thread --------------------------------------------------------------

    @Slot()
    def run(self) -> None:
        """Prepare the data, train, score on the test set; always ends with ``finished`` or ``failed``."""
        try:
            self._run()
        except MemoryError:
            self._flush()  # the batches trained before the error still belong on the curves
            self.failed.emit("not enough memory for this network and data type: use fewer or narrower layers, or float32")
        except Exception as error:  # the window must hear about every failure, whatever it is
            self._flush()
            self.failed.emit(f"{type(error).__name__}: {error}")
        finally:
            # The trainer calls back into this worker, so the two form a reference cycle that only Python's
            # occasional full garbage collection would free, with the trainer's float copy of the training set
            # (about 190 MB for MNIST) held until then. Dropping our side frees them as the run ends.
            self._trainer = self._recorder = None

    def _run(self) -> None:
        config, dataset = self._config, self._dataset
        self.preparing.emit(f"preparing {len(dataset.train_images):,} images as {config.dtype}…")
        data = TrainingData.from_dataset(dataset, config.validation_size, config.dtype)
        params, self._params = self._params, None  # the trainer owns (and updates) them from here on
        recorder = self._recorder = RunRecorder(self._store, config, data, warn=self.recording_failed.emit)
        with recorder.recording_aborts():  # an error marks the run "failed" in the store, then goes on to ``run``
            threads = self._threads
            trainer = Trainer(
                config,
                data,
                params,
                self._on_batch,
                self._on_epoch,
                self._controls,
                self._from_epoch,
                blas_threads=threads.forced,
                blas_thread_limit=threads.limit,
            )
            self._trainer = trainer
            self._last_emit = time.perf_counter()
            result = trainer.run()
            self._flush()
            model = trainer.model()
            test = None if self._aborted else score_on_test_set(model, dataset, result)
            recorder.finish(result, model, test)
        self.finished.emit(
            RunOutcome(
                result.status,
                result.message,
                model,
                result.history,
                test,
                result.train_seconds,
                result.samples_per_second,
                result.weights_epoch,
                recorder.run_id,
                result.blas_threads,
            )
        )

    def _on_batch(self, event: BatchEvent) -> None:
        self._recorder.on_batch(event)
        self._progress.append(event.progress)
        self._loss.append(event.loss)
        self._last_event = event
        now = time.perf_counter()
        if now - self._last_emit >= EMIT_INTERVAL or event.batch == event.batches or self._controls.paused:
            self._last_emit = now
            self._flush()

    def _flush(self) -> None:
        """Send the batches not reported yet as one ``BatchChunk``."""
        if self._progress:
            self.batches.emit(BatchChunk(np.array(self._progress), np.array(self._loss), self._last_event))
            self._progress.clear()
            self._loss.clear()

    def _on_epoch(self, event: EpochEvent) -> None:
        self._recorder.on_epoch(event)
        self.epoch_done.emit(event, self._trainer.model())
