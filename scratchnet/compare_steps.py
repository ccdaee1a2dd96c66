"""One change at a time: from the notebook's recipe to the ``default`` preset's, one row of docs/how-it-works.md's
table per step, every step trained for the same budget of epochs, so that what each change gained can be read off.

    steps = steps_plan(epochs=5)                    # 7 steps: the notebook's recipe, then one change each
    for step in steps:
        outcome = train_and_record(step.config, dataset, store, warn)

Each step keeps every change before it; the last is the ``default`` preset itself, at the budget's epochs. All
steps train in float32 and hold out the default preset's validation images (the notebook used float64 and all
60 000 images: neither changes what it learns, and the same validation set makes the steps comparable).
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import TrainConfig
from .presets import load_preset
from .runs import RunOutcome

BUDGET_EPOCHS = 5  # every step's epochs: the whole comparison takes 1 to 2 minutes on two cores


@dataclass(frozen=True)
class Step:
    """One step of the comparison: what it changes (``name``, ``change``) and the settings it trains with."""

    name: str  # "initialisation"
    change: str  # "randn → He"
    config: TrainConfig


# Each step's changes on top of the step before: (name, change, settings), in the order of how-it-works.md's table.
CHANGES = [
    ("initialisation", "randn → He (variance 2 / fan-in)", {"init": "he"}),
    ("activation", "tanh → ReLU", {"activation": "relu"}),
    ("batch size", "full batch → mini-batches of 256", {"batch_size": 256}),
    (
        "optimiser",
        "SGD lr 0.1 → Nesterov momentum 0.9, lr 0.25, clipped to norm 1",
        {"optimizer": "nesterov", "lr": 0.25, "grad_clip": 1.0},
    ),
    ("schedule", "constant → half-epoch warm-up, then cosine", {"schedule": "cosine", "warmup_epochs": 0.5}),
    ("shifts", "none → random 1-pixel shifts", {"augment_shift": 1}),
]


def steps_plan(epochs: int = BUDGET_EPOCHS, validation_size: int = TrainConfig().validation_size) -> list[Step]:
    """The notebook's recipe, then one step per change of ``CHANGES``, each trained for ``epochs`` epochs and
    scored on the last ``validation_size`` training images."""
    notebook, _ = load_preset("notebook")
    config = notebook.replace(epochs=epochs, dtype="float32", validation_size=validation_size)
    steps = [Step("the notebook", "tanh, randn, full-batch SGD lr 0.1", config)]
    for name, change, settings in CHANGES:
        config = config.replace(**settings)
        steps.append(Step(name, change, config))
    return steps


@dataclass
class StepResult:
    """What one step reached: its validation and test accuracy, its training time, and its recorded run."""

    step: Step
    val_accuracy: float | None
    test_accuracy: float | None
    seconds: float
    run_id: int | None = None

    @classmethod
    def of(cls, step: Step, outcome: RunOutcome) -> StepResult:
        val_accuracy = outcome.history[-1].val_accuracy if outcome.history else None
        return cls(step, val_accuracy, outcome.test_accuracy, outcome.train_seconds or 0.0, outcome.run_id)

    def to_json(self) -> dict:
        fields = {"step": self.step.name, "change": self.step.change, "config": self.step.config.to_dict()}
        return {
            **fields,
            "val_accuracy": self.val_accuracy,
            "test_accuracy": self.test_accuracy,
            "train_seconds": self.seconds,
            "run_id": self.run_id,
        }


def gains_table(results: list[StepResult]) -> list[list[str]]:
    """Rows of the comparison: the step, its change, its test accuracy and what it gained over the step before."""
    rows, before = [], None
    for result in results:
        accuracy = result.test_accuracy
        gain = "" if before is None or accuracy is None else f"{100 * (accuracy - before):+.1f} pt"
        shown = "–" if accuracy is None else f"{accuracy:.1%}"
        rows.append([result.step.name, result.step.change, shown, gain, f"{result.seconds:.1f} s"])
        before = accuracy if accuracy is not None else before
    return rows


GAINS_TITLES = ["step", "change", "test accuracy", "gain", "training"]
