"""A model's answers on the 10 000 test images, computed off the window's thread.

``TestSetPredictions`` (no widgets; the session owns one) holds the current model's answers, which the image
browser, the confusion matrix and every later panel show; it recomputes them at most once a second, and only
while a panel that shows them is on screen (each says so: ``set_watched``). Answers computed elsewhere (the
session scores each edit of the network on the whole test set) are taken as they are, at once (``show``).
``Predictor`` runs ``Predictions.on_test_set`` on a thread of its own ``QThreadPool`` and hands back plain data
through its ``ready`` signal, on the thread that owns it, so that the window's thread only shows the answers (a
pass over the test set takes 90-150 ms while a run trains).

Requests never pile up: one is computed at a time, and a request made meanwhile waits, replacing any older
waiting one. An answer is dropped when a newer request is already waiting (its model has been replaced: the
newer answer follows at once) and when ``cancel`` was called after its request (its dataset was replaced, or
there is no model to show any more). ``TestSetPredictions`` asks at most once a second, so dropping an answer
for a newer one can never starve the window of answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from scratchnet.data import Dataset
from scratchnet.errors import ModelFileError
from scratchnet.model import Model
from scratchnet.predictions import Predictions

from .messages import epochs_text

MIN_REFRESH_SECONDS = 1.0  # recompute the 10 000 predictions at most this often


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


def weights_caption(model: Model | None) -> str:
    """Which weights figures come from, from ``model.epochs_trained``: "untrained network (random
    weights)", "weights after 3 epochs", or "" when the model does not say."""
    epochs = model.epochs_trained if model is not None else None
    if epochs is None:
        return ""
    return "untrained network (random weights)" if epochs == 0 else f"weights after {epochs_text(epochs)}"


class TestSetPredictions(QObject):
    """The current model's answers on the current dataset's test images; ``changed`` follows each new answer.

    ``predictions`` is None without a model or data, and when the model does not fit the data (``problem`` says
    why); ``model`` is the model they come from and ``weights`` says which weights those are (``weights_caption``).
    The answers are computed only while some panel watches them (``set_watched``: 10 000 predictions per epoch are
    worth their time only when someone looks), and at most once per ``MIN_REFRESH_SECONDS``, however often the
    model changes."""

    __test__ = False  # not a pytest test class, whatever its name says
    changed = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.predictions: Predictions | None = None
        self.model: Model | None = None
        self.weights = ""
        self.problem = ""
        self._wanted: Model | None = None  # the model whose answers are wanted: the session's current one
        self._watchers: set[object] = set()  # the panels on screen that show the answers
        self._last_request = -float("inf")
        self._timer = QTimer(self, singleShot=True, timeout=self._request)
        self._predictor = Predictor(self)
        self._predictor.ready.connect(self._answered)

    @property
    def busy(self) -> bool:
        """True while answers are waiting to be computed, are computed, or are on their way."""
        return self._timer.isActive() or self._predictor.busy

    def set_watched(self, watcher: object, watched: bool) -> None:
        """``watcher`` (a panel) shows the answers on screen now, or no longer: they are computed while any panel
        does, and brought up to date when one appears."""
        if watched:
            self._watchers.add(watcher)
        else:
            self._watchers.discard(watcher)
        if self._watchers and self._wanted is not self.model:
            self._schedule()

    def set_model(self, model: Model | None) -> None:
        self._wanted = model
        if model is None:
            self._show_none()
        elif self._watchers:
            self._schedule()

    def show(self, predictions: Predictions, model: Model) -> None:
        """Take answers for ``model`` computed elsewhere on this dataset's test images (the session scores every
        edit on the whole test set anyway): they are shown at once, and a pass of the predictor for an older model,
        under way or waiting, is dropped."""
        self._wanted = model
        self._predictor.cancel()
        self._timer.stop()
        self._answered(predictions, model, "")

    def set_dataset(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._show_none()  # answers about the previous images would not fit these
        if self._wanted is not None and self._watchers:
            self._schedule()

    def shutdown(self) -> None:
        """Wait for the prediction under way and show no more (the window is closing)."""
        self._timer.stop()
        self._predictor.shutdown()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            wait = self._last_request + MIN_REFRESH_SECONDS - time.monotonic()
            self._timer.start(int(1000 * max(wait, 0.0)))

    def refresh(self) -> None:
        """Compute the answers for the current model now, whatever the time since the last ones."""
        self._timer.stop()
        self._request()

    def _request(self) -> None:
        if self.dataset is not None and self._wanted is not None:
            self._last_request = time.monotonic()
            self._predictor.request(self._wanted, self.dataset)

    def _show_none(self) -> None:
        self._predictor.cancel()
        self._timer.stop()
        self._answered(None, None, "")

    def _answered(self, predictions: Predictions | None, model: Model | None, problem: str) -> None:
        self.predictions, self.problem = predictions, problem
        self.model = model if predictions is not None else None
        self.weights = weights_caption(model) if predictions is not None else ""
        self.changed.emit()
