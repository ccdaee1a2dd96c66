"""The training worker: runs a job of training on its own thread and reports through Qt signals.

The session creates one ``TrainingWorker`` per run, moves it to a ``QThread`` and connects to its
signals. The job is what trains: a run (``TrainingJob``, which trains and records as the CLI does, with
``scratchnet.runs.train_and_record``) or a fine-tune on the learner's handwriting (``teaching.FinetuneJob``).
The worker never touches a widget: it sends plain data (dataclasses of numbers and NumPy arrays it owns).
Batch results are coalesced into a ``BatchChunk`` at most every ``EMIT_INTERVAL`` seconds, so a fast run
cannot flood the UI's event queue. The frames of a run's representation maps are made on this thread too (by
``scratchnet.inspect.maps.MapRecorder``, projections included), so that the window only draws them. Exactly one
of ``finished`` or ``failed`` arrives at the end of every job.

A run is recorded in the run store from this thread, which the store's lock allows; a failing store is reported
once by ``recording_failed`` and the run goes on unrecorded.

Pause, step, stop and the live settings do not pass through the worker: the session writes them to
the run's ``RunControls``, which the trainer reads between two batches (even requests made before the
trainer exists, while the data is being prepared).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from scratchnet.config import TrainConfig
from scratchnet.controls import RunControls
from scratchnet.data import Dataset
from scratchnet.health import HealthSample
from scratchnet.nn.network import Params
from scratchnet.runs import RunOutcome, RunStore, train_and_record
from scratchnet.trainer import BatchEvent, EpochEvent, Trainer, TrainResult

from .blas_threads import BlasThreadSetting

EMIT_INTERVAL = 0.1  # seconds between two batch reports (the UI repaints at 10 Hz)

Job = Callable[["TrainingWorker"], object]  # job(worker) trains on the worker's thread, reporting through it


@dataclass
class BatchChunk:
    """The batches finished since the last report: x in fractional epochs (k,), their losses (k,), the last event,
    and the health samples taken among them, each at its x (``scratchnet.health``)."""

    progress: np.ndarray
    loss: np.ndarray
    last: BatchEvent
    health: list[tuple[float, HealthSample]] = field(default_factory=list)


class TrainingWorker(QObject):
    """Runs ``job(self)`` when its thread calls ``run`` and sends what it returns with ``finished``. The job's
    trainer reports to ``on_batch`` and ``on_epoch``, and ``attach`` tells the worker which trainer it is;
    ``controls`` are that trainer's pause/step/stop flags and live settings."""

    preparing = Signal(str)  # what it is doing before the first batch
    batches = Signal(object)  # BatchChunk
    epoch_done = Signal(object, object)  # EpochEvent, Model snapshot after that epoch
    map_frame = Signal(object, object)  # MapSample, MapFrame: a frame of the run's representation maps
    finished = Signal(object)  # what the job returns: a RunOutcome (TrainingJob) or a Taught (FinetuneJob)
    failed = Signal(str)  # an unexpected error, as text a user can read
    recording_failed = Signal(str)  # the run store failed: the run goes on unrecorded

    def __init__(self, job: Job, controls: RunControls):
        super().__init__()
        self._job: Job | None = job
        self._controls = controls
        self.aborted = False
        self._trainer: Trainer | None = None
        self._progress: list[float] = []
        self._loss: list[float] = []
        self._health: list[tuple[float, HealthSample]] = []
        self._last_event: BatchEvent | None = None
        self._last_emit = 0.0

    def abort(self) -> None:
        """Stop as fast as possible and skip the test-set evaluation (used when the window closes). Any thread."""
        self.aborted = True
        self._controls.stop()

    # ---- the job: the worker's thread --------------------------------------------------------------

    @Slot()
    def run(self) -> None:
        """Run the job; always ends with ``finished`` or ``failed``."""
        job, self._job = self._job, None  # it goes as it ends, with everything it holds
        try:
            result = job(self)
            self._flush()
            self.finished.emit(result)
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
            self._trainer = None

    def attach(self, trainer: Trainer) -> None:
        """Report the epochs of ``trainer``, about to run, with a snapshot of its weights; time its batches from now."""
        self._trainer = trainer
        self._last_emit = time.perf_counter()

    def on_batch(self, event: BatchEvent) -> None:
        self._progress.append(event.progress)
        self._loss.append(event.loss)
        if event.health is not None:
            self._health.append((event.progress_before, event.health))
        self._last_event = event
        now = time.perf_counter()
        if now - self._last_emit >= EMIT_INTERVAL or event.batch == event.batches or self._controls.paused:
            self._last_emit = now
            self._flush()

    def on_epoch(self, event: EpochEvent) -> None:
        self.epoch_done.emit(event, self._trainer.model())

    def _flush(self) -> None:
        """Send the batches not reported yet as one ``BatchChunk``."""
        if self._progress:
            self.batches.emit(BatchChunk(np.array(self._progress), np.array(self._loss), self._last_event, self._health))
            self._progress.clear()
            self._loss.clear()
            self._health = []  # (the chunk owns the list sent)


@dataclass
class TrainingJob:
    """A run of ``config`` on ``dataset``, as a worker's job: from ``params`` when given, trained for ``from_epoch``
    epochs already; ``controls`` are the run's; it is recorded in ``store`` (None: not recorded); ``threads`` says
    how many BLAS threads it trains with. The worker sends its ``RunOutcome``."""

    config: TrainConfig
    dataset: Dataset
    controls: RunControls
    params: Params | None = None
    from_epoch: float = 0
    store: RunStore | None = None
    threads: BlasThreadSetting | None = None

    def __call__(self, worker: TrainingWorker) -> RunOutcome:
        config, dataset, threads = self.config, self.dataset, self.threads or BlasThreadSetting()
        worker.preparing.emit(f"preparing {len(dataset.train_images):,} images as {config.dtype}…")
        params, self.params = self.params, None  # the trainer copies them: ours can go

        def train(trainer: Trainer) -> TrainResult:
            worker.attach(trainer)
            return trainer.run()

        return train_and_record(
            config,
            dataset,
            self.store,
            worker.recording_failed.emit,
            params=params,
            from_epoch=self.from_epoch,
            controls=self.controls,
            on_batch=worker.on_batch,
            on_epoch=worker.on_epoch,
            on_map_frame=worker.map_frame.emit,
            blas_threads=threads.forced,
            blas_thread_limit=threads.limit,
            train=train,
            skip_test=lambda: worker.aborted,
        )
