"""The training worker: runs the core ``Trainer`` on its own thread and reports through Qt signals.

The window creates one ``TrainingWorker`` per run, moves it to a ``QThread`` and connects to its
signals. The worker never touches a widget: it sends plain data (dataclasses of numbers and NumPy
arrays it owns) and the window draws them. Batch results are coalesced into a ``BatchChunk`` at
most every ``EMIT_INTERVAL`` seconds, so a fast run cannot flood the UI's event queue. Exactly
one of ``finished`` or ``failed`` arrives at the end of every run.

The controls (``pause``, ``resume``, ``step_epoch``, ``stop``, ``abort``, ``set_hyperparameters``)
may be called from the UI thread at any time, even before the trainer exists: they are forwarded
to the trainer's thread-safe controls, which act between two batches.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from scratchnet.config import TrainConfig
from scratchnet.data import Dataset
from scratchnet.model import Model
from scratchnet.network import Params
from scratchnet.trainer import BatchEvent, EpochEvent, Trainer, TrainingData, score_on_test_set

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
    model: Model
    history: list[EpochEvent] = field(default_factory=list)
    test: dict | None = None  # scratchnet.metrics.evaluate() on the test set
    train_seconds: float = 0.0
    samples_per_second: float = 0.0
    weights_epoch: float = 0  # epochs of this run behind the final weights (see TrainResult.weights_epoch)


class TrainingWorker(QObject):
    """Trains ``config`` on ``dataset`` (from ``params`` when given) when its thread calls ``run``."""

    preparing = Signal(str)  # what it is doing before the first batch
    batches = Signal(object)  # BatchChunk
    epoch_done = Signal(object, object)  # EpochEvent, Model snapshot after that epoch
    paused_after_step = Signal(int)  # the epoch after which a "step one epoch" paused the run
    finished = Signal(object)  # RunOutcome
    failed = Signal(str)  # an unexpected error, as text a user can read

    def __init__(self, config: TrainConfig, dataset: Dataset, params: Params | None = None, epochs_before: int = 0):
        """``epochs_before``: the epochs already behind ``params``, so the final model counts them too."""
        super().__init__()
        self._config = config
        self._dataset = dataset
        self._params = params
        self._epochs_before = epochs_before
        self._lock = threading.Lock()  # guards the requests made before the trainer exists
        self._trainer: Trainer | None = None
        self._requested_pause = False
        self._stop_requested = False
        self._aborted = False
        self._stepping = False  # a "step one epoch" is under way
        self._progress: list[float] = []
        self._loss: list[float] = []
        self._last_event: BatchEvent | None = None
        self._last_emit = 0.0

    # ---- controls: any thread ----------------------------------------------------------------------

    def pause(self) -> None:
        with self._lock:
            self._requested_pause, self._stepping = True, False
            if self._trainer:
                self._trainer.pause()

    def resume(self) -> None:
        with self._lock:
            self._requested_pause, self._stepping = False, False
            if self._trainer:
                self._trainer.resume()

    def step_epoch(self) -> None:
        """Run to the end of the current epoch (the core trainer's ``step_epoch``), then emit ``paused_after_step``."""
        with self._lock:
            self._requested_pause, self._stepping = False, True
            if self._trainer:
                self._trainer.step_epoch()

    def stop(self) -> None:
        """End the run after the current batch; the final model is still scored on the test set."""
        with self._lock:
            self._stop_requested = True
            if self._trainer:
                self._trainer.stop()

    def abort(self) -> None:
        """Stop as fast as possible and skip the test-set evaluation (used when the window closes)."""
        self._aborted = True
        self.stop()

    def set_hyperparameters(self, **changes: float) -> None:
        """Change live settings (see ``scratchnet.trainer.LIVE_SETTINGS``); raises ``ConfigError`` for bad values."""
        with self._lock:
            if self._trainer:
                self._trainer.set_hyperparameters(**changes)
            else:
                self._config = self._config.replace(**changes)

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
            with self._lock:
                self._trainer = None

    def _run(self) -> None:
        config, dataset = self._config, self._dataset
        self.preparing.emit(f"preparing {len(dataset.train_images):,} images as {config.dtype}…")
        data = TrainingData.from_dataset(dataset, config.validation_size, config.dtype)
        with self._lock:
            params = self._params
            self._params = None  # the trainer owns (and updates) them from here on
            trainer = Trainer(self._config, data, params=params, on_batch=self._on_batch, on_epoch=self._on_epoch)
            self._trainer = trainer
            if self._stop_requested:
                trainer.stop()
            elif self._stepping:
                trainer.step_epoch()
            elif self._requested_pause:
                trainer.pause()
        self._last_emit = time.perf_counter()
        result = trainer.run()
        self._flush()
        if self._aborted:
            outcome = RunOutcome(result.status, result.message, trainer.model(), result.history, weights_epoch=result.weights_epoch)
            self.finished.emit(outcome)
            return
        model = trainer.model()
        test = score_on_test_set(model, dataset, result, self._epochs_before)
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
            )
        )

    def _on_batch(self, event: BatchEvent) -> None:
        self._progress.append(event.progress)
        self._loss.append(event.loss)
        self._last_event = event
        now = time.perf_counter()
        if now - self._last_emit >= EMIT_INTERVAL or event.batch == event.batches or self._trainer.paused:
            self._last_emit = now
            self._flush()

    def _flush(self) -> None:
        """Send the batches not reported yet as one ``BatchChunk``."""
        if self._progress:
            self.batches.emit(BatchChunk(np.array(self._progress), np.array(self._loss), self._last_event))
            self._progress.clear()
            self._loss.clear()

    def _on_epoch(self, event: EpochEvent) -> None:
        self.epoch_done.emit(event, self._trainer.model())
        with self._lock:
            step_done = self._stepping and self._trainer.paused  # the trainer pauses before it reports the epoch
            if step_done:
                self._stepping, self._requested_pause = False, True
        if step_done and event.epoch < event.epochs:
            self.paused_after_step.emit(event.epoch)
