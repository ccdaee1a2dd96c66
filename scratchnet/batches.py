"""The mini-batches of an epoch: the training images gathered in a fresh random order, shifted when augmenting,
and, when that measures faster, made one batch ahead on a second thread while the current batch trains.

NumPy lets go of Python's global lock while it copies arrays, so with a core to spare the next batch's gather
and shift cost the training loop only the hand-over; with no core to spare, the second thread only competes
(``threads.py`` measures which). The shifts draw from a random generator of their own,
used by one thread in batch order, so a seed gives the same batches with or without the second thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from .augment import shifted_batch


class Batches:
    """Makes the batches (x, y) of each epoch from inputs ``x`` (n, features) of ``image_shape`` images and
    labels ``y``: ``batch_size`` rows each (the last may be smaller), shifted by up to ``max_shift`` pixels.
    While ``ahead`` is set, taking a batch starts the next one on a second thread (``ThreadChooser`` times both
    ways). Call ``close`` at the end."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        image_shape: tuple[int, int],
        batch_size: int,
        max_shift: int,
        rng: np.random.Generator,
    ):
        self.x, self.y = x, y
        self.images = x.reshape(len(x), *image_shape)  # a view: the same memory
        self.batch_size, self.max_shift, self.rng = batch_size, max_shift, rng
        self.ahead = False
        self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scratchnet-batches")  # starts when first used

    def __len__(self) -> int:
        """Batches per epoch."""
        return -(-len(self.x) // self.batch_size)

    def epoch(self, order: np.ndarray | None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield the epoch's batches, taking the rows in ``order`` (None when one batch holds them all: the rows as
        stored, or shuffled when shifting)."""
        upcoming: Future | None = None  # the next batch, when the second thread is making it
        for start in range(0, len(self.x), self.batch_size):
            batch = upcoming.result() if upcoming is not None else self._make(order, start)
            after = start + self.batch_size
            upcoming = self._helper.submit(self._make, order, after) if self.ahead and after < len(self.x) else None
            yield batch

    def close(self) -> None:
        """Stop the second thread (after the batch it may be making)."""
        self._helper.shutdown(cancel_futures=True)

    def _make(self, order: np.ndarray | None, start: int) -> tuple[np.ndarray, np.ndarray]:
        if order is None and self.max_shift:  # ``shifted_batch`` deals shifts out by position: rows must come shuffled
            order = self.rng.permutation(len(self.x))
        rows = slice(None) if order is None else order[start : start + self.batch_size]
        y = self.y[rows]
        if self.max_shift:
            return shifted_batch(self.images, rows, self.max_shift, self.rng).reshape(len(y), -1), y
        return self.x[rows], y
