"""A model's answers on the 10 000 test images, computed off the window's thread.

``Predictor`` (no widgets; the test-set browser owns one) runs ``Predictions.on_test_set`` on a thread
of its own ``QThreadPool`` and hands back plain data through its ``ready`` signal, on the thread that owns it,
so that the window's thread only shows the answers (a pass over the test set takes 90-150 ms while a run trains).

Requests never pile up: one is computed at a time, and a request made meanwhile waits, replacing any older
waiting one. An answer is dropped when a newer request is already waiting (its model has been replaced: the
newer answer follows at once) and when ``cancel`` was called after its request (its dataset was replaced, or
there is no model to show any more). Callers keep the requests spaced out (the browser asks at most once a
second), so dropping an answer for a newer one can never starve the window of answers.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from scratchnet.data import Dataset
from scratchnet.errors import ModelFileError
from scratchnet.model import Model
from scratchnet.predictions import Predictions


@dataclass(frozen=True)
class _Request:
    """One model to run on one dataset's test images; ``number`` orders the requests."""

    number: int
    model: Model
    dataset: Dataset


class _Answer(QObject):
    """Carries one job's answer to the predictor's thread (a queued signal): (request, Predictions | None, problem)."""

    done = Signal(object, object, str)


class _Job(QRunnable):
    """Computes the answer to ``request`` on a pool thread; touches nothing but its own data and ``answer``."""

    def __init__(self, request: _Request, answer: _Answer):
        super().__init__()
        self.request, self.answer = request, answer

    def run(self) -> None:
        model, dataset = self.request.model, self.request.dataset
        predictions, problem = None, ""
        try:
            model.check_compatible(dataset.image_shape, dataset.class_names)
            predictions = Predictions.on_test_set(model, dataset)
        except ModelFileError as error:  # weights for other images or classes: the browser says why
            problem = str(error)
        except Exception as error:  # out of memory, say: the window must hear of it, and the predictor must go on
            problem = f"the predictions failed: {type(error).__name__}: {error}"
        self.answer.done.emit(self.request, predictions, problem)
        self.answer = None  # the predictor's thread, which made it, lets it go


class Predictor(QObject):
    """Predicts test sets in the background; ``ready(predictions, model, problem)`` answers each ``request`` that
    is neither superseded nor cancelled: ``Predictions`` (None when the model does not fit the data, with
    ``problem`` saying why) and the model they come from."""

    ready = Signal(object, object, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._numbers = 0  # requests made so far
        self._first_valid = 0  # answers to requests numbered below this are dropped (``cancel``)
        self._running: _Answer | None = None  # the job under way (its answer object, kept until it arrives)
        self._waiting: _Request | None = None

    @property
    def busy(self) -> bool:
        """True while a prediction is computed or waits."""
        return self._running is not None or self._waiting is not None

    def request(self, model: Model, dataset: Dataset) -> None:
        """Predict ``dataset``'s test images with ``model``: now, or after the job under way."""
        self._numbers += 1
        self._waiting = _Request(self._numbers, model, dataset)
        if self._running is None:
            self._start_waiting()

    def cancel(self) -> None:
        """Drop every answer requested so far, whether it waits, is computed or is on its way."""
        self._first_valid = self._numbers + 1
        self._waiting = None

    def shutdown(self) -> None:
        """Drop every answer and wait for the job under way (the window is closing)."""
        self.cancel()
        self._pool.waitForDone()

    def _start_waiting(self) -> None:
        request, self._waiting = self._waiting, None
        self._running = _Answer()  # made here, so that it belongs to this thread and its signal is queued to it
        self._running.done.connect(self._answered)
        self._pool.start(_Job(request, self._running))

    def _answered(self, request: _Request, predictions: Predictions | None, problem: str) -> None:
        self._running = None
        superseded = self._waiting is not None
        if superseded:
            self._start_waiting()
        if request.number >= self._first_valid and not superseded:
            self.ready.emit(predictions, request.model, problem)
