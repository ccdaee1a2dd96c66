"""What a user can do to a run while it trains: pause, resume, step one epoch, stop, interrupt, and
change the live settings. ``RunControls`` may be written from any thread; the trainer reads it
between two batches, so a change always takes effect on a whole batch.

The live settings are one typed object, ``LiveSettings``: a setting can be followed by name from the
control that changes it to ``Trainer._apply_live_settings``, which hands it to the optimiser.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass

from .config import TrainConfig


@dataclass(frozen=True)
class LiveSettings:
    """The settings a run can change while it trains: those the table of settings marks live (``Setting.live``; a
    test keeps the two equal). Checked as ``TrainConfig`` checks them (``ConfigError``)."""

    lr: float
    momentum: float
    beta1: float
    beta2: float
    weight_decay: float
    grad_clip: float
    dropout: float
    augment_shift: int
    augment_rotate: float
    augment_thickness: int
    augment_noise: float

    def __post_init__(self):
        TrainConfig(**dataclasses.asdict(self))  # raises ConfigError naming the first impossible setting

    @classmethod
    def of(cls, config: TrainConfig) -> LiveSettings:
        """The live settings of ``config``."""
        return cls(**{name: getattr(config, name) for name in LIVE_SETTINGS})

    def applied_to(self, config: TrainConfig) -> TrainConfig:
        """``config`` with these live settings."""
        return dataclasses.replace(config, **dataclasses.asdict(self))


LIVE_SETTINGS = tuple(field.name for field in dataclasses.fields(LiveSettings))


class RunControls:
    """Thread-safe requests to one run. The user's side: ``pause``, ``resume``, ``step_epoch``, ``stop``,
    ``interrupt``, ``change_settings``. The trainer's side, between batches: ``wait_while_paused``,
    ``end_requested``, ``take_new_settings`` and, at the end of an epoch, ``pause_if_stepping``."""

    def __init__(self, settings: LiveSettings):
        self._lock = threading.Lock()  # so that a resume cannot slip in between a step's check and its pause
        self._running = threading.Event()
        self._running.set()
        self._pause_at_epoch_end = False  # set by step_epoch, cleared when the trainer pauses
        self._end_requested: str | None = None  # "stopped" or "interrupted": how the run should end
        self._settings = settings
        self._new_settings: LiveSettings | None = None  # changed since the trainer last took them

    # ---- the user's side (any thread) ------------------------------------------------------------

    def pause(self) -> None:
        """Stop before the next batch until ``resume``, ``step_epoch`` or ``stop``."""
        self._running.clear()

    def resume(self) -> None:
        with self._lock:
            self._pause_at_epoch_end = False
            self._running.set()

    def step_epoch(self) -> None:
        """Run to the end of the epoch in progress (or one whole epoch, between epochs), then pause."""
        with self._lock:
            self._pause_at_epoch_end = True
            self._running.set()

    def stop(self) -> None:
        """End the run after the current batch, keeping its weights (status "stopped")."""
        self._request_end("stopped")

    def interrupt(self) -> None:
        """End the run after the current batch, back on the weights of the last completed epoch (of the best
        one, with early stopping), status "interrupted". Ctrl+C in the command line does this: what it keeps
        is a whole number of epochs, as a finished run would have left them."""
        self._request_end("interrupted")

    def change_settings(self, settings: LiveSettings) -> None:
        """Train with ``settings`` from the next batch on."""
        with self._lock:
            self._settings = self._new_settings = settings

    @property
    def settings(self) -> LiveSettings:
        """The live settings as last requested (the trainer uses them from its next batch)."""
        return self._settings

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def _request_end(self, status: str) -> None:
        self._end_requested = status
        self._running.set()

    # ---- the trainer's side -------------------------------------------------------------------------

    @property
    def end_requested(self) -> str | None:
        """ "stopped" or "interrupted" once the user asked the run to end, else None."""
        return self._end_requested

    def wait_while_paused(self) -> float:
        """Block while paused; return the seconds spent waiting."""
        if self._running.is_set():
            return 0.0
        start = time.perf_counter()
        self._running.wait()
        return time.perf_counter() - start

    def take_new_settings(self) -> LiveSettings | None:
        """The live settings changed since the last call, or None."""
        if self._new_settings is None:  # the common case, without the lock
            return None
        with self._lock:
            settings, self._new_settings = self._new_settings, None
        return settings

    def pause_if_stepping(self) -> bool:
        """At the end of an epoch: pause if ``step_epoch`` asked for it; True when it did."""
        with self._lock:
            stepping, self._pause_at_epoch_end = self._pause_at_epoch_end, False
            if stepping:
                self._running.clear()
        return stepping
