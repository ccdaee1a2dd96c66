"""Learning-rate schedules: the factor by which the base learning rate is multiplied at each point of a run.

A schedule is a function of ``epoch_progress``, the number of epochs done so far as a
fraction (2.5 = halfway through the third epoch), so it does not depend on the batch size. The
trainer asks for the factor at the middle of each step: warm-up never starts at 0, cosine never
wastes a last step at 0, and a step decay falls exactly at its epoch boundary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError

SCHEDULE_NAMES = ("constant", "step", "cosine")


@dataclass(frozen=True)
class Schedule:
    """``factor(progress)``: constant 1, step decay by ``gamma`` every ``step_epochs``, or cosine
    annealing from 1 to 0 over ``total_epochs``; all preceded by a linear warm-up of ``warmup_epochs``."""

    name: str = "constant"
    total_epochs: float = 1.0
    warmup_epochs: float = 0.0
    step_epochs: float = 10.0
    gamma: float = 0.1

    def __post_init__(self):
        if self.name not in SCHEDULE_NAMES:
            raise ConfigError(f"unknown schedule {self.name!r}; choose one of {', '.join(SCHEDULE_NAMES)}")

    def factor(self, progress: float) -> float:
        if progress < self.warmup_epochs:
            return progress / self.warmup_epochs
        if self.name == "step":
            return self.gamma ** math.floor(progress / self.step_epochs)
        if self.name == "cosine":
            span = max(self.total_epochs - self.warmup_epochs, 1e-12)
            done = min((progress - self.warmup_epochs) / span, 1.0)
            return 0.5 * (1.0 + math.cos(math.pi * done))
        return 1.0
