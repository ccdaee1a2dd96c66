"""Teaching the network the learner's handwriting, without widgets: the collection and the fine-tuning worker.

``Handwriting`` wraps the core's ``HandwritingStore`` (crash-safe, saved after every change) with Qt
signals and an undo stack for deletions; every failure arrives as ``failed(text)`` and changes nothing.
``FinetuneJob`` is a ``scratchnet.finetune.Finetune`` as the job of a ``TrainingWorker`` on the session's run
thread (so the Training tab draws its curves live, and pause and stop work as for a run); the worker ends with
``finished(Taught)`` or ``failed``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from scratchnet.config import TrainConfig
from scratchnet.data import Dataset
from scratchnet.errors import DataError
from scratchnet.finetune import Finetune, FinetuneResult, FinetuneSettings
from scratchnet.handwriting import Deleted, Examples, HandwritingStore
from scratchnet.model import Model
from scratchnet.preprocess import Drawing
from scratchnet.runs import DatasetIdentity, RunOutcome

from .worker import TrainingWorker


class Handwriting(QObject):
    """The learner's labelled examples (``examples``), kept in ``HandwritingStore(folder)``, which other windows
    may share: each change merges with theirs, and ``reload`` shows theirs.

    A collection that cannot be read is never overwritten: ``problem`` says why, and every change is refused
    until it can be read again (the learner moved the damaged file away, say)."""

    changed = Signal()  # the examples changed (added, relabelled, deleted, restored, imported)
    added = Signal(int, int)  # the class of the example just added, how many examples there are now
    failed = Signal(str)  # why a change could not be made (nothing changed)

    def __init__(self, folder: str | os.PathLike | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.folder = folder
        self.store: HandwritingStore | None = None
        self.problem: str | None = None
        self._deleted: list[Deleted] = []  # the undo stack of deletions, latest last
        self._open()

    def reload(self) -> None:
        """Show the collection as it is on disk now (another window may have changed it); ``changed`` if it had."""
        if self.store is None:
            if self._open():
                self.changed.emit()
            return
        try:
            reloaded = self.store.reload()
        except (DataError, OSError) as error:
            self.store, self.problem = None, cannot_be_read(error)
            reloaded = True
        if reloaded:
            self.changed.emit()

    @property
    def examples(self) -> Examples:
        return self.store.examples if self.store is not None else Examples.empty()

    @property
    def can_undo(self) -> bool:
        return bool(self._deleted)

    def add(self, image: np.ndarray, label: int, drawing: Drawing | None = None) -> None:
        """Keep ``image`` (the network input as the pad prepared it) and its strokes as an example of ``label``."""
        if self._change(lambda store: store.add(image, label, drawing)):
            self.added.emit(label, len(self.examples))

    def relabel(self, positions, label: int) -> None:
        """Make the examples at ``positions`` examples of class ``label`` (one save for them all)."""
        self._change(lambda store: store.relabel(np.asarray(positions, dtype=np.int64), label))

    def delete(self, positions) -> None:
        """Remove the examples at ``positions``; ``undo_delete`` brings them back."""
        if len(positions):
            self._change(lambda store: self._deleted.append(store.delete(positions)))

    def undo_delete(self) -> None:
        """Bring back the examples of the latest ``delete`` not undone yet."""

        def restore(store: HandwritingStore) -> None:
            store.restore(self._deleted[-1])
            self._deleted.pop()  # only once they are back on disk

        if self._deleted:
            self._change(restore)

    def import_folder(self, folder: str | os.PathLike) -> int:
        """Add the examples of an IDX folder; how many (0 when it failed)."""
        imported = []
        self._change(lambda store: imported.append(store.import_folder(folder)))  # appended: an undo still fits
        return imported[0] if imported else 0

    def export_folder(self, folder: str | os.PathLike) -> bool:
        """Write the collection to ``folder`` as an IDX folder; False (and ``failed``) when it could not be written."""
        try:
            self._writable().export_folder(folder)
        except (DataError, OSError) as error:
            self.failed.emit(f"Could not export your handwriting to {folder}: {error}")
            return False
        return True

    def _change(self, change) -> bool:
        """Apply ``change(store)``; False (and ``failed``) when it failed, leaving the collection as it was."""
        try:
            change(self._writable())
        except (DataError, OSError) as error:
            self.failed.emit(f"Your handwriting was not changed: {error}")
            return False
        except MemoryError:
            self.failed.emit("Your handwriting was not changed: there is not enough memory for so many examples.")
            return False
        self.changed.emit()
        return True

    def _writable(self) -> HandwritingStore:
        if self.store is None and not self._open():
            raise DataError(self.problem)
        return self.store

    def _open(self) -> bool:
        """Open the collection; False (and ``problem`` says why) when it cannot be read."""
        try:
            self.store, self.problem = HandwritingStore(self.folder), None
        except (DataError, OSError) as error:
            self.problem = cannot_be_read(error)
        return self.problem is None


def cannot_be_read(error: Exception) -> str:
    return f"Your handwriting collection cannot be read ({error}); it is left as it is."


@dataclass
class Taught:
    """A finished fine-tune, waiting to be kept or discarded: the core's result, and what a run record needs."""

    result: FinetuneResult
    examples: Examples  # the examples it was given (the result's positions refer to them)
    config: TrainConfig  # what the fine-tune trained with
    dataset: DatasetIdentity
    base_run: int | None  # the recorded run whose weights it fine-tuned (None: weights that are no recorded run)

    def outcome(self) -> RunOutcome:
        """The fine-tune as a run to record. Its message says what it is: a fine-tune of run N, on how many of the
        learner's examples, and its accuracy on the held-out ones. That figure is kept out of the validation column,
        which for every other run is a share of MNIST's training set: a handful of drawings is no such measure."""
        result, training = self.result, self.result.training
        base = f"run {self.base_run}" if self.base_run is not None else "weights that are no recorded run"
        measured = (
            f"your {len(result.held_out)} held-out examples {result.examples_before:.1%} → {result.examples_after:.1%}"
            if len(result.held_out)
            else "none of your examples held out to measure it"
        )
        message = f"fine-tune of {base} on {len(self.examples)} examples of your handwriting + MNIST replay; {measured}"
        history = [dataclasses.replace(event, val_loss=None, val_accuracy=None) for event in training.history]
        return RunOutcome(
            training.status,
            message,
            training.train_seconds,
            training.samples_per_second,
            {"accuracy": result.test_after},
            model=result.model,
            history=history,
        )


class FinetuneJob:
    """Fine-tunes ``model`` on ``examples`` with replay from ``dataset``, as a ``TrainingWorker``'s job. The fine-tune
    is prepared at once (``DataError`` when it cannot learn from the examples); ``config`` and ``controls`` are its
    trainer's; ``base_run`` is the recorded run whose weights ``model`` holds. Not recorded as it runs: a fine-tune becomes
    a run only when the learner keeps it (``Session.keep_taught``)."""

    def __init__(self, model: Model, examples: Examples, dataset: Dataset, settings: FinetuneSettings, base_run: int | None = None):
        self.finetune = Finetune(model, examples, dataset, settings)
        self.config, self.controls = self.finetune.trainer.config, self.finetune.trainer.controls
        self.base_run = base_run

    def __call__(self, worker: TrainingWorker) -> Taught:
        finetune = self.finetune
        worker.attach(finetune.trainer)
        result = finetune.run(worker.on_batch, worker.on_epoch)
        identity = dataclasses.replace(DatasetIdentity.of(finetune.trainer.data), validation_size=0)  # see Taught.outcome
        return Taught(result, finetune.examples, self.config, identity, self.base_run)
