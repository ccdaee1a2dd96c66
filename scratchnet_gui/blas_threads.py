"""How many threads NumPy's BLAS may use in the app's runs: the user's setting, and a core kept for the window.

The trainer picks the count of a run (``scratchnet.threads``): a forced one, or the fastest way of using the
cores (one thread, all, or one with batches made ahead on a second thread), timed at each epoch's start. The
app trains on a worker thread while its own thread paints the window and answers the mouse. OpenBLAS threads
spin while they wait for work, so on a machine of two cores two BLAS threads leave the window none: its 10 ms
timers were measured firing 200 ms late. In Automatic mode the app therefore caps the count it lets the
trainer try on such machines (``ui_thread_limit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scratchnet.threads import usable_cores


def ui_thread_limit(cores: int) -> int | None:
    """The most BLAS threads an automatic run may try on a machine of ``cores`` usable cores: one fewer than the
    cores on two or fewer (and at least one), so that the window's thread keeps a core; None (no cap) on more,
    where the window finds a free core anyway."""
    return max(1, cores - 1) if cores <= 2 else None


def threads_text(count: int) -> str:
    """ "1 BLAS thread", "2 BLAS threads"."""
    return f"{count} BLAS thread{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class BlasThreadSetting:
    """The BLAS thread count of the app's runs: ``forced`` to a count, or None for automatic (the trainer times
    the ways of using the cores at each epoch's start, up to ``limit`` BLAS threads) on a machine of ``cores`` usable cores."""

    forced: int | None = None
    cores: int = field(default_factory=usable_cores)

    @property
    def limit(self) -> int | None:
        """The cap on the counts an automatic run tries (None: no cap, or the count is forced)."""
        return ui_thread_limit(self.cores) if self.forced is None else None

    def describe(self, count: int) -> str:
        """How a run of this setting came to use ``count`` threads, in a sentence for the speed's tooltip."""
        if self.forced is not None:
            return f"{threads_text(count)}, as forced in the settings (BLAS threads)."
        if self.limit is not None and self.limit < self.cores:
            return f"{threads_text(count)}: automatic, held to {self.limit} of the {self.cores} cores to leave the window a core."
        return f"{threads_text(count)}: automatic, the fastest way of using the cores, timed at each epoch's start."
