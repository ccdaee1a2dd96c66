"""One change at a time, in the app: the steps of ``scratchnet.compare_steps`` trained one after the other
through the session's own runs, so that each is recorded in the run store and overlaid on the ones before.

``StepsComparison`` is owned by the session (``session.comparison``). ``start`` draws fresh weights and trains the
first step; as each run ends it records the step's result, overlays the step's run on the Training plots
(``session.runs``) and starts the next, until the last step (``finished``) or ``cancel``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from scratchnet.compare_steps import BUDGET_EPOCHS, Step, StepResult, steps_plan
from scratchnet.config import TrainConfig
from scratchnet.runs import RunOutcome

if TYPE_CHECKING:
    from .session import Session


class StepsComparison(QObject):
    """Trains the steps of the comparison through ``session``. ``step_started(index, Step)`` as each begins,
    ``step_done(index, StepResult)`` as each ends, ``finished(list[StepResult])`` after the last,
    ``cancelled()`` when a step fails, is stopped or the comparison is cancelled."""

    step_started = Signal(int, object)
    step_done = Signal(int, object)
    finished = Signal(list)
    cancelled = Signal()

    def __init__(self, session: Session):
        super().__init__(session)
        self._session = session
        self.steps: list[Step] = []
        self.results: list[StepResult] = []
        self.running = False
        session.run_finished.connect(self._run_finished)
        session.run_failed.connect(lambda _: self._stop_comparing())

    def start(self, epochs: int = BUDGET_EPOCHS) -> bool:
        """Train every step for ``epochs`` epochs, one after the other; False when a run is under way or there is no data."""
        session = self._session
        if self.running or session.state.active or session.dataset is None:
            return False
        validation = min(TrainConfig().validation_size, len(session.dataset.train_images) // 5)  # (a small dataset keeps 4/5)
        self.steps, self.results, self.running = steps_plan(epochs, validation), [], True
        session.runs.set_overlaid([])
        self._start_step()
        return True

    def cancel(self) -> None:
        """Stop the step in progress and train no more."""
        if self.running:
            self._stop_comparing()
            self._session.stop()

    def _start_step(self) -> None:
        index = len(self.results)
        step = self.steps[index]
        self._session.reset_weights(step.config)
        self._session.propose_settings(step.config)
        if not self._session.start(step.config):
            self._stop_comparing()
            return
        self._session.say(f"One change at a time: step {index} of {len(self.steps) - 1}, {step.name} ({step.change})", 0)
        self.step_started.emit(index, step)

    def _run_finished(self, outcome: RunOutcome) -> None:
        if not self.running:
            return
        if outcome.status not in ("completed", "early_stopped"):
            self._stop_comparing()
            return
        index = len(self.results)
        self.results.append(StepResult.of(self.steps[index], outcome))
        runs = [result.run_id for result in self.results if result.run_id is not None]
        self._session.runs.set_overlaid(runs)  # each step drawn over the ones before
        self.step_done.emit(index, self.results[-1])
        if len(self.results) == len(self.steps):
            self.running = False
            self.finished.emit(self.results)
        else:
            QTimer.singleShot(0, self, self._start_step)  # once the window has heard this run end

    def _stop_comparing(self) -> None:
        if self.running:
            self.running = False
            self.cancelled.emit()
