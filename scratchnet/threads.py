"""How a run uses the machine's cores: how many threads NumPy's BLAS uses for the matrix products, and whether
a second thread makes the next batch while the current one trains (see ``batches.py``). A forced count, or the
fastest way, measured.

OpenBLAS threads spin while they wait for work. On a quiet machine, two threads make a batch's matrix products
faster; with one other busy program on a two-core machine they wait for each other and a batch takes three times
as long. Making batches ahead pays when BLAS leaves a core idle, and costs a little when another program wants
that core. No rule of thumb can tell these cases apart, so ``ThreadChooser`` measures: at the start of every
epoch it trains some batches each way, then keeps the fastest for the rest of the epoch. A program starting
mid-run is noticed at the next epoch.

Under load, batch times jump: most are quick, and every few batches one waits a whole scheduler time slice
(~5 ms) for a core. So each way is timed for a few time slices and judged by its mean.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import mean

# OpenBLAS itself runs a matrix product on one thread when it has at most this many multiply-adds
# (SMP_THRESHOLD_MIN * GEMM_MULTITHREAD_THRESHOLD in its interface/gemm.c): below it, threads change nothing.
OPENBLAS_ONE_THREAD_WORK = 65536 * 4
# A check waits until ten times as many batches as the last check took have trained since, so trials (some of
# them the slower ways) stay a small part of the run: every epoch for mini-batches, every ~60 epochs when an
# epoch is a single full batch. That is after choosing several BLAS threads, which a program starting would make
# three times slower. After choosing one, the worst a wait can cost is the few per cent more threads would win
# when a busy program ends, while each check on a busy machine costs 10-15 % of an epoch: it waits four times longer.
RECHECK_SPACING = 10
RELAXED_RECHECK_SPACING = 4 * RECHECK_SPACING
# A way whose batches so far take this many times the mean of the best way timed already stops being timed at
# once: with another program busy, all BLAS threads are ~3x slower, and every batch spent proving it is lost.
HOPELESS = 2.0


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system tells it, else all of the machine's."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class ThreadUse:
    """One way to use the cores: ``blas_threads`` for the matrix products and, with ``batches_ahead``, a second
    thread that makes the next batch meanwhile."""

    blas_threads: int
    batches_ahead: bool = False


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
    """Picks how a run uses the cores; the trainer calls ``start_epoch``, ``before_batch`` and ``after_batch``
    around each batch (making the batch included) and reads ``use``.

    BLAS thread counts: ``forced``, else 1 and the count BLAS had when the chooser was made (all cores, unless
    OPENBLAS_NUM_THREADS says otherwise) or ``limit`` if lower (the app keeps a core for its window), else 1
    alone when the network's matrix products are too small for OpenBLAS to split (``layer_sizes`` and
    ``batch_size`` tell). Each count that leaves one of the ``cores`` idle is tried with and without batches
    made ahead, when ``can_make_ahead`` (an epoch of more than one batch). Each check times every way for
    ``trial_batches`` batches and ``trial_seconds`` at least (or until it is ``HOPELESS``), and keeps the one of
    the lowest mean; the next check comes at the first epoch start after ``RECHECK_SPACING`` times as many
    batches as this one took (``RELAXED_RECHECK_SPACING`` times after choosing one BLAS thread).
    ``blas`` and ``clock`` are replaceable, so that tests can drive the choice without timing anything."""

    def __init__(
        self,
        layer_sizes: Sequence[int],
        batch_size: int,
        forced: int | None = None,
        limit: int | None = None,
        can_make_ahead: bool = True,
        cores: int | None = None,
        trial_batches: int = 3,
        trial_seconds: float = 0.025,
        blas: BlasThreads | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.blas = blas or BlasThreads()
        self.clock = clock
        self.trial_batches, self.trial_seconds = trial_batches, trial_seconds
        self._original = self.blas.get()
        cores = cores or usable_cores()
        largest_product = batch_size * max(inputs * outputs for inputs, outputs in zip(layer_sizes, layer_sizes[1:]))
        most = min(self._original, limit or self._original)
        if forced is not None:
            counts: tuple[int, ...] = (forced,)
        elif most <= 1 or largest_product <= OPENBLAS_ONE_THREAD_WORK:
            counts = (1,)
        else:
            counts = (1, most)
        self.candidates = tuple(
            ThreadUse(count, ahead) for count in counts for ahead in ((False, True) if can_make_ahead and count < cores else (False,))
        )
        self.use = ThreadUse(self._original)  # the way in use
        self._trying: list[ThreadUse] = []  # the ways still to time in this check, the one being timed first
        self._seconds: dict[ThreadUse, list[float]] = {}  # each way's batch times in this check
        self._started = 0.0
        self._since_check = math.inf  # batches trained since the last check ended
        self._check_batches = 0  # batches the last check took

    def start(self) -> None:
        """Use the first candidate (the only one, unless measuring)."""
        self._switch_to(self.candidates[0])

    def restore(self) -> None:
        """Give BLAS back the count it had before the run."""
        self._switch_to(ThreadUse(self._original))

    def start_epoch(self) -> None:
        """Begin a check, unless there is nothing to choose, the previous check is still going (full-batch runs),
        or it ended too few batches ago."""
        spacing = RECHECK_SPACING if self.use.blas_threads > 1 else RELAXED_RECHECK_SPACING
        due = self._since_check >= spacing * self._check_batches
        if len(self.candidates) > 1 and not self._trying and due:
            self._trying = list(self.candidates)
            self._seconds = {use: [] for use in self.candidates}

    def before_batch(self) -> None:
        if self._trying:
            self._switch_to(self._trying[0])
            self._started = self.clock()

    def after_batch(self) -> None:
        if not self._trying:
            self._since_check += 1
            return
        seconds = self._seconds[self._trying[0]]
        seconds.append(self.clock() - self._started)
        timed = [mean(times) for use, times in self._seconds.items() if use not in self._trying]
        hopeless = bool(timed) and mean(seconds) > HOPELESS * min(timed)
        if hopeless or (len(seconds) >= self.trial_batches and sum(seconds) >= self.trial_seconds):
            self._trying.pop(0)
            if not self._trying:
                self._switch_to(min(self.candidates, key=lambda use: mean(self._seconds[use])))
                self._since_check, self._check_batches = 0, sum(map(len, self._seconds.values()))

    def _switch_to(self, use: ThreadUse) -> None:
        if use.blas_threads != self.use.blas_threads:
            self.blas.set(use.blas_threads)
        self.use = use
