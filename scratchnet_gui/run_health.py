"""The health of the run in progress, without widgets: its samples, its epochs and the hints they give.

``RunHealth`` is owned by the session (``session.health``) and follows its reports: each ``BatchChunk`` brings
the health samples the trainer took (``scratchnet.health``), each epoch its scores; after both it asks the core
for the hints (``scratchnet.hints.hints_for``) and says when they change. A hint's fix is applied through the
session: ``apply_fix`` fills the settings panel (``Session.propose_settings``), and ``start_again`` trains those
settings from fresh weights, once the run in progress (if any) has stopped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from scratchnet.config import TrainConfig
from scratchnet.health import HealthHistory
from scratchnet.hints import Hint, apply_fix, hints_for
from scratchnet.trainer import EpochEvent

if TYPE_CHECKING:
    from .session import Session
    from .worker import BatchChunk


class RunHealth(QObject):
    """The health of ``session``'s current run (or its last one). ``changed`` follows new samples or epochs,
    ``hints_changed(list[Hint])`` a change of the hints."""

    changed = Signal()
    hints_changed = Signal(list)

    def __init__(self, session: Session):
        super().__init__(session)
        self._session = session
        self.config: TrainConfig | None = None  # the settings of the run measured
        self.history = HealthHistory(10)
        self.epochs: list[EpochEvent] = []
        self.offset = 0.0  # the epochs trained before the run: where its samples start on the x axis
        self.hints: list[Hint] = []
        self._start_when_idle: TrainConfig | None = None
        session.batches.connect(self._add_batches)
        session.epoch_done.connect(self._add_epoch)
        session.state_changed.connect(self._start_if_waiting)
        session.started_over.connect(lambda: self.begin(None, 10))

    def begin(self, config: TrainConfig | None, classes: int, from_epoch: float = 0.0) -> None:
        """Measure a new run of ``config`` (None: no run), of a network with ``classes`` outputs."""
        self.config, self.history, self.epochs, self.offset = config, HealthHistory(classes), [], from_epoch
        self.changed.emit()
        self._set_hints([])

    def _add_batches(self, chunk: BatchChunk) -> None:
        if chunk.health:
            for at, sample in chunk.health:
                self.history.add(at, sample)
            self.changed.emit()
            self._update_hints()

    def _add_epoch(self, event: EpochEvent) -> None:
        self.epochs.append(event)
        self.changed.emit()
        self._update_hints()

    def _update_hints(self) -> None:
        if self.config is not None:
            self._set_hints(hints_for(self.config, self.history, self.epochs))

    def _set_hints(self, hints: list[Hint]) -> None:
        if hints != self.hints:
            self.hints = hints
            self.hints_changed.emit(hints)

    # ---- fixes ----------------------------------------------------------------------------------------

    def fixed(self, hint: Hint) -> TrainConfig:
        """The settings of the run measured with ``hint``'s fix applied."""
        return apply_fix(self.config, hint)

    def apply_fix(self, hint: Hint) -> TrainConfig:
        """Fill the settings panel with the run's settings and ``hint``'s fix, for the next run; returns them."""
        config = self.fixed(hint)
        self._session.propose_settings(config)
        changes = ", ".join(f"{name} = {value}" for name, value in hint.fix.items())
        self._session.say(f"Settings changed: {changes}. Start to train with them.", 8000)
        return config

    def start_again(self, hint: Hint) -> None:
        """Apply ``hint``'s fix and train it from fresh weights: at once, or once the run in progress has stopped."""
        config = self.apply_fix(hint)
        if self._session.state.active:
            self._start_when_idle = config
            self._session.stop()
        else:
            self._start_fresh(config)

    def _start_if_waiting(self, state) -> None:
        if not state.active and self._start_when_idle is not None:
            config, self._start_when_idle = self._start_when_idle, None
            QTimer.singleShot(0, self, lambda: self._start_fresh(config))  # after the others have heard the run end

    def _start_fresh(self, config: TrainConfig) -> None:
        self._session.reset_weights(config)
        self._session.start(config)
