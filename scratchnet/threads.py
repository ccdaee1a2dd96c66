"""How many threads NumPy's BLAS uses during a run: a forced count, or the faster one, measured.

OpenBLAS threads spin while they wait for work. On a quiet machine, two threads make a batch's matrix
products faster; with one other busy program on a two-core machine they wait for each other and a batch
takes three times as long. No rule of thumb can tell the two cases apart, so ``ThreadChooser`` measures:
at the start of every epoch it trains some batches with one thread and some with all of them, then
keeps the faster count for the rest of the epoch. A program starting mid-run is noticed at the next epoch.

Under load, batch times jump: most are quick, and every few batches one waits a whole scheduler time
slice (~5 ms) for a core. So each count is timed for a few time slices and judged by its mean.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from statistics import mean

# OpenBLAS itself runs a matrix product on one thread when it has at most this many multiply-adds
# (SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD in its interface/gemm.c): below it, threads change nothing.
OPENBLAS_ONE_THREAD_WORK = 65536 * 4
# A check waits until ten times as many batches as the last check took have trained since, so trials (half of
# them on the slower count) stay a small part of the run: every epoch for mini-batches, every ~60 epochs when an
# epoch is a single full batch.
RECHECK_SPACING = 10


class BlasThreads:
    """The thread count of NumPy's BLAS, read and set through threadpoolctl (a few microseconds per change)."""

    def __init__(self):
        from threadpoolctl import ThreadpoolController

        self._controller = ThreadpoolController().select(user_api="blas")

    def get(self) -> int:
        return max((library.num_threads for library in self._controller.lib_controllers), default=1)

    def set(self, count: int) -> None:
        self._controller.limit(limits=count)


class ThreadChooser:
    """Picks the BLAS thread count of a run; the trainer calls ``start_epoch``, ``before_batch`` and ``after_batch``.

    ``forced``: always use this count. Otherwise the candidates are 1 and the count BLAS had when the
    chooser was made (all cores, unless OPENBLAS_NUM_THREADS says otherwise) or ``limit`` if lower (the app keeps
    a core for its UI), or 1 alone when the network's matrix products are too small for OpenBLAS to split
    (``layer_sizes`` and ``batch_size`` tell). Each check times each candidate for
    ``trial_batches`` batches and ``trial_seconds`` at least, and keeps the one of the lower mean; the next check
    comes at the first epoch start after ``RECHECK_SPACING`` times as many batches as this one took.
    ``blas`` and ``clock`` are replaceable, so that tests can drive the choice without timing anything."""

    def __init__(
        self,
        layer_sizes: Sequence[int],
        batch_size: int,
        forced: int | None = None,
        limit: int | None = None,
        trial_batches: int = 3,
        trial_seconds: float = 0.025,
        blas: BlasThreads | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.blas = blas or BlasThreads()
        self.clock = clock
        self.trial_batches, self.trial_seconds = trial_batches, trial_seconds
        self._original = self.blas.get()
        largest_product = batch_size * max(inputs * outputs for inputs, outputs in zip(layer_sizes, layer_sizes[1:]))
        most = min(self._original, limit or self._original)
        if forced is not None:
            self.candidates: tuple[int, ...] = (forced,)
        elif most <= 1 or largest_product <= OPENBLAS_ONE_THREAD_WORK:
            self.candidates = (1,)
        else:
            self.candidates = (1, most)
        self.threads = self._original  # the count in use
        self._trying: list[int] = []  # the candidates still to time in this check, the one being timed first
        self._seconds: dict[int, list[float]] = {}  # each candidate's batch times in this check
        self._started = 0.0
        self._since_check = math.inf  # batches trained since the last check ended
        self._check_batches = 0  # batches the last check took

    def start(self) -> None:
        """Use the first candidate (the only one, unless measuring)."""
        self._use(self.candidates[0])

    def restore(self) -> None:
        """Give BLAS back the count it had before the run."""
        self._use(self._original)

    def start_epoch(self) -> None:
        """Begin a check, unless there is nothing to choose, the previous check is still going (full-batch runs),
        or it ended too few batches ago."""
        due = self._since_check >= RECHECK_SPACING * self._check_batches
        if len(self.candidates) > 1 and not self._trying and due:
            self._trying = list(self.candidates)
            self._seconds = {count: [] for count in self.candidates}

    def before_batch(self) -> None:
        if self._trying:
            self._use(self._trying[0])
            self._started = self.clock()

    def after_batch(self) -> None:
        if not self._trying:
            self._since_check += 1
            return
        seconds = self._seconds[self._trying[0]]
        seconds.append(self.clock() - self._started)
        if len(seconds) >= self.trial_batches and sum(seconds) >= self.trial_seconds:
            self._trying.pop(0)
            if not self._trying:
                self._use(min(self.candidates, key=lambda count: mean(self._seconds[count])))
                self._since_check, self._check_batches = 0, sum(map(len, self._seconds.values()))

    def _use(self, count: int) -> None:
        if count != self.threads:
            self.blas.set(count)
            self.threads = count
