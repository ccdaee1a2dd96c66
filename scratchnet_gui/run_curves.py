"""The curves of one run as the Training plots draw them: widget-free, so that the session's runs view can read
recorded runs into them and tests can check them without a window."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scratchnet.runs import StoredRun

MAX_OVERLAYS = 20  # recorded runs drawn at once, at most: more would be unreadable


class GrowingSeries:
    """An (x, y) series in preallocated arrays that double when full, so appends are amortised O(1)."""

    def __init__(self, capacity: int = 1024):
        self._x = np.empty(capacity)
        self._y = np.empty(capacity)
        self.size = 0

    def extend(self, x: np.ndarray, y: np.ndarray) -> None:
        end = self.size + len(x)
        if end > len(self._x):
            capacity = max(end, 2 * len(self._x))
            self._x = np.resize(self._x, capacity)
            self._y = np.resize(self._y, capacity)
        self._x[self.size : end] = x
        self._y[self.size : end] = y
        self.size = end

    def keep_every_other(self) -> None:
        """Drop every other point (keeping the first), into new arrays: a plot may still draw views of the old."""
        self._x, self._y = self._x[: self.size : 2].copy(), self._y[: self.size : 2].copy()
        self.size = len(self._x)

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.size]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.size]


@dataclass
class RunCurves:
    """Every curve of one run; the current run's grows, recorded runs' are read from the store for the overlays."""

    label: str
    batch_loss: GrowingSeries = field(default_factory=GrowingSeries)
    smoothed_loss: GrowingSeries = field(default_factory=GrowingSeries)
    train_loss: GrowingSeries = field(default_factory=lambda: GrowingSeries(64))
    val_loss: GrowingSeries = field(default_factory=lambda: GrowingSeries(64))
    train_accuracy: GrowingSeries = field(default_factory=lambda: GrowingSeries(64))
    val_accuracy: GrowingSeries = field(default_factory=lambda: GrowingSeries(64))
    test_accuracy: float | None = None
    test_epoch: float | None = None  # the x of the test score: None exactly when test_accuracy is
    diverged_at: float | None = None  # the x of the last batch before the loss exploded

    @classmethod
    def of_record(cls, record: StoredRun, label: str) -> RunCurves:
        """The curves of a recorded run: its smoothed batch loss and its per-epoch scores (no raw batch losses). Its test
        score, when it has one, is that of the weights after its completed epochs (0: a run stopped before its first
        epoch kept the weights it started from)."""
        test_epoch = None if record.test_accuracy is None else float(record.epochs)
        curves = cls(label, test_accuracy=record.test_accuracy, test_epoch=test_epoch)
        curves.smoothed_loss.extend(record.loss_curve[:, 0], record.loss_curve[:, 1])
        for epoch in record.history:
            curves.train_loss.extend([epoch.epoch], [epoch.train_loss])
            curves.train_accuracy.extend([epoch.epoch], [epoch.train_accuracy])
            if epoch.val_loss is not None:
                curves.val_loss.extend([epoch.epoch], [epoch.val_loss])
                curves.val_accuracy.extend([epoch.epoch], [epoch.val_accuracy])
        return curves

    def series(self) -> dict[str, GrowingSeries]:
        return {
            "batch_loss": self.batch_loss,
            "smoothed_loss": self.smoothed_loss,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "train_accuracy": self.train_accuracy,
            "val_accuracy": self.val_accuracy,
        }

    @property
    def empty(self) -> bool:
        return self.batch_loss.size == 0 and self.train_loss.size == 0
