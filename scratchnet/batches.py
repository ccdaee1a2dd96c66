"""The mini-batches of an epoch: the training images gathered in a fresh random order, varied when augmenting
(``augment.py``), and, when that measures faster, made one batch ahead on a second thread while the current
batch trains.

NumPy lets go of Python's global lock while it copies arrays, so with a core to spare the next batch's gather
and augmentation cost the training loop only the hand-over; with no core to spare, the second thread only
competes (``threads.py`` measures which). The augmentation draws from a random generator of their own, used by
one thread in batch order, so a seed gives the same batches with or without the second thread. It can change
between two batches (a live setting): a batch made ahead with the old one is made again.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from .augment import Augmentation


class Batches:
    """Makes the batches (x, y) of each epoch from inputs ``x`` (n, features) of ``image_shape`` images and
    labels ``y``: ``batch_size`` rows each (the last may be smaller), varied as ``augmentation`` says (an
    attribute: set it to change the augmentation from the next batch on). While ``ahead`` is set, taking a batch
    starts the next one on a second thread (``ThreadChooser`` times both ways). Call ``close`` at the end."""

    def __init__(
        self,
        x: np.ndarray,
        y: np.ndarray,
        image_shape: tuple[int, int],
        batch_size: int,
        augmentation: Augmentation,
        rng: np.random.Generator,
    ):
        self.x, self.y = x, y
        self.images = x.reshape(len(x), *image_shape)  # a view: the same memory
        self.batch_size, self.augmentation, self.rng = batch_size, augmentation, rng
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
            augmentation = self.augmentation
            batch, made_with = upcoming.result() if upcoming is not None else (None, None)
            if made_with != augmentation:  # none made ahead, or made before the augmentation changed
                batch, _ = self._make(order, start, augmentation)
            after = start + self.batch_size
            ahead = self.ahead and after < len(self.x)
            upcoming = self._helper.submit(self._make, order, after, augmentation) if ahead else None
            yield batch

    def close(self) -> None:
        """Stop the second thread (after the batch it may be making)."""
        self._helper.shutdown(cancel_futures=True)

    def _make(self, order: np.ndarray | None, start: int, augmentation: Augmentation) -> tuple[tuple, Augmentation]:
        """The batch of rows ``start`` onwards (x, y), and the augmentation it was made with."""
        if order is None and augmentation.shift:  # ``shifted_batch`` deals shifts out by position: rows must come shuffled
            order = self.rng.permutation(len(self.x))
        rows = slice(None) if order is None else order[start : start + self.batch_size]
        y = self.y[rows]
        if augmentation:
            return (augmentation.batch(self.images, rows, self.rng).reshape(len(y), -1), y), augmentation
        return (self.x[rows], y), augmentation
