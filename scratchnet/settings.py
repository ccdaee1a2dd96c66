"""Every training setting in one table: its name (the ``TrainConfig`` field), command-line flag, label, unit,
allowed values, kind, help text, and whether a run can change it while it trains.

Everything else is made from this table: ``TrainConfig`` checks a configuration with it, ``scratchnet train``
makes its flags and their ``--help`` from it, the settings panel its labels and tooltips, and ``LiveSettings``
holds exactly its live settings (a test keeps them equal). Adding a setting means a row here and a field in
``TrainConfig``; a live one also a field in ``LiveSettings`` and a control in the panel.

NumPy-free and Qt-free. The names of the activations, initialisations and optimisers stay with the network
code that defines them (``scratchnet.nn``, which needs NumPy): a choice setting reads them from there when asked.
"""

from __future__ import annotations

import enum
import importlib
import math
import numbers
from dataclasses import dataclass

from .errors import ConfigError

MAX_WIDTH = 4096  # units in one hidden layer
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class Range:
    """The values the core accepts for one numeric setting: ``low`` to ``high``, each end included unless open.

    ``high`` is infinite where the core sets no upper limit. The app's controls read their limits from here."""

    low: float
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    note: str = ""  # said after the rule, e.g. "(0 = off)"

    def __contains__(self, value: float) -> bool:
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def rule(self) -> str:
        """The range in words: "must be at least 0 and below 1", "must be above 0"."""
        words = f"above {_number(self.low)}" if self.low_open else f"at least {_number(self.low)}"
        if self.high != math.inf:
            words += f" and {'below' if self.high_open else 'at most'} {_number(self.high)}"
        return f"must be {words}" + (f" {self.note}" if self.note else "")


class Kind(enum.Enum):
    """What a setting's value is."""

    LAYERS = "a list of hidden-layer widths"
    CHOICE = "one of a few names"
    WHOLE = "a whole number"
    REAL = "a finite number"


@dataclass(frozen=True)
class Setting:
    """One training setting, as the core checks it and every interface names and explains it."""

    name: str  # the TrainConfig field, e.g. "batch_size"
    label: str  # the settings panel's words for it, e.g. "Batch size"
    kind: Kind
    help: str  # what it does, for a learner: the command line's --help and the panel's tooltip
    range: Range | None = None  # WHOLE and REAL: the values allowed; LAYERS: the width of each layer
    choices_from: str = ""  # CHOICE: "module:NAME" of the collection whose items are the allowed names
    unit: str = ""  # what the number counts, shown after it in the panel: "epochs", "px"
    none_means: str = ""  # where the setting may be None, the word for it: a batch size of None is "full"
    live: bool = False  # a run can change it while it trains (it is in LiveSettings)

    @property
    def flag(self) -> str:
        """The command-line flag: ``--batch-size`` for ``batch_size``."""
        return "--" + self.name.replace("_", "-")

    @property
    def choices(self) -> tuple[str, ...]:
        """A choice setting's allowed names, read from the code that defines them (``scratchnet.nn``)."""
        module, _, attribute = self.choices_from.partition(":")
        return tuple(getattr(importlib.import_module(module), attribute))

    def rule(self) -> str:
        """The allowed values in words, as an error message says them after the setting's name."""
        if self.kind is Kind.CHOICE:
            return f"must be one of {', '.join(self.choices)}"
        if self.kind is Kind.LAYERS:
            return f"widths must be between {self.range.low} and {self.range.high}"
        return self.range.rule() + (f" (or {self.none_means})" if self.none_means else "")

    def check(self, value) -> None:
        """Raise ``ConfigError`` naming this setting unless ``value`` is one it accepts."""
        if value is None and self.none_means:
            return
        if self.kind is Kind.LAYERS:
            if not isinstance(value, (list, tuple)) or not all(_is_int(width) for width in value):
                raise ConfigError.about(self.name, f"must be a list of whole-number layer widths; got {value!r}")
            for width in value:
                if width not in self.range:
                    raise ConfigError.about(self.name, f"{self.rule()}; got {width}")
            return
        if self.kind is Kind.CHOICE:
            if value not in self.choices:
                raise ConfigError.about(self.name, f"{self.rule()}; got {value!r}")
            return
        if self.kind is Kind.WHOLE and not _is_int(value):
            raise ConfigError.about(self.name, f"must be a whole number; got {value!r}")
        if self.kind is Kind.REAL and not (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)):
            raise ConfigError.about(self.name, f"must be a finite number; got {value!r}")
        if value not in self.range:
            raise ConfigError.about(self.name, f"{self.rule()}; got {value!r}")


BELOW_ONE = Range(0, 1, high_open=True)

# In the order of TrainConfig's fields (a test checks both ways): the order of the command line's --help.
SETTINGS: dict[str, Setting] = {
    setting.name: setting
    for setting in (
        Setting(
            "hidden",
            "Hidden layers",
            Kind.LAYERS,
            "The hidden layers between the input (the 784 pixels) and the output (the 10 digits), e.g. 128,128: each a fully "
            f"connected layer of 1–{MAX_WIDTH} units. More or wider layers can learn more complex functions, but train more slowly "
            "and overfit more easily. No hidden layer at all ('none') is softmax regression, a linear classifier.",
            range=Range(1, MAX_WIDTH),
            unit="units",
        ),
        Setting(
            "activation",
            "Activation",
            Kind.CHOICE,
            "The non-linearity each hidden unit applies to its weighted input z. Without one, stacked layers collapse into a "
            "single linear map. relu (max(0, z)) trains fast; tanh and sigmoid saturate for large |z|, which slows learning.",
            choices_from="scratchnet.nn.activations:ACTIVATIONS",
        ),
        Setting(
            "init",
            "Initialisation",
            Kind.CHOICE,
            "How the first weights are drawn. he (variance 2/fan_in) suits relu; xavier suits tanh and sigmoid; lecun is "
            "variance 1/fan_in; randn (variance 1) is what the original notebook used, and saturates tanh units.",
            choices_from="scratchnet.nn.initializers:INITIALIZERS",
        ),
        Setting(
            "optimizer",
            "Optimiser",
            Kind.CHOICE,
            "How gradients become weight updates. sgd: W -= lr·g. momentum and nesterov keep a running velocity of past "
            "gradients, which smooths the path; adam and adamw give each weight its own step size, from running averages "
            "of g and g².",
            choices_from="scratchnet.nn.optimizers:OPTIMIZER_NAMES",
        ),
        Setting(
            "lr",
            "Learning rate",
            Kind.REAL,
            "The learning rate: the size of each step down the gradient. Too small learns slowly; too large makes the loss jump around or "
            "diverge. Each optimiser has its own scale, about 0.01–0.3 for sgd, momentum and nesterov and 0.0005–0.005 "
            "for adam and adamw: change it with the optimiser.",
            range=Range(0, low_open=True),
            live=True,
        ),
        Setting(
            "momentum",
            "Momentum",
            Kind.REAL,
            "For the momentum and nesterov optimisers: how much of the previous update is kept in the next one "
            "(0 = plain gradient descent).",
            range=BELOW_ONE,
            live=True,
        ),
        Setting(
            "beta1",
            "β₁",
            Kind.REAL,
            "For adam and adamw: the decay rate of their running average of gradients, their momentum (0.9 averages "
            "over about the last ten steps).",
            range=BELOW_ONE,
            live=True,
        ),
        Setting(
            "beta2",
            "β₂",
            Kind.REAL,
            "For adam and adamw: the decay rate of their running average of squared gradients, which sets each weight's "
            "step size (0.999 averages over about the last thousand steps).",
            range=BELOW_ONE,
            live=True,
        ),
        Setting(
            "batch_size",
            "Batch size",
            Kind.WHOLE,
            "Images per gradient step. Small batches give many quick, noisy steps; large batches few, smooth, slower "
            "ones. 'full' uses the whole training set for every step (full-batch gradient descent, as in the notebook).",
            range=Range(1),
            none_means="full",
        ),
        Setting("epochs", "Epochs", Kind.WHOLE, "Passes over the whole training set.", range=Range(1)),
        Setting(
            "weight_decay",
            "Weight decay",
            Kind.REAL,
            "L2 regularisation: pulls every weight toward zero a little each step, which discourages over-confident, "
            "overfitted solutions. adamw applies it directly to the weights ('decoupled'). 0 = off.",
            range=Range(0),
            live=True,
        ),
        Setting(
            "dropout",
            "Dropout",
            Kind.REAL,
            "While training, drop each hidden unit with this probability, so that the network cannot rely on any single "
            "unit: a strong regulariser for wide networks. 0 = off.",
            range=BELOW_ONE,
            live=True,
        ),
        Setting(
            "grad_clip",
            "Gradient clip",
            Kind.REAL,
            "Gradient clipping: when the gradients' overall length (their global norm) exceeds this, they are scaled down "
            "to it, a guard against a single huge step that makes training diverge. 0 = off.",
            range=Range(0, note="(0 = off)"),
            live=True,
        ),
        Setting(
            "schedule",
            "LR schedule",
            Kind.CHOICE,
            "How the learning rate changes over the run: constant; step (multiplied by the step factor every few epochs); "
            "or cosine (glides smoothly from the full rate to zero at the last epoch, often the best final accuracy).",
            choices_from="scratchnet.nn.schedules:SCHEDULE_NAMES",
        ),
        Setting(
            "warmup_epochs",
            "Warm-up",
            Kind.REAL,
            "Ramp the learning rate up linearly from zero over this many epochs first, which helps large rates start "
            "safely. Shorter than the run; 0 = off.",
            range=Range(0),  # and shorter than the run: TrainConfig checks it with the epochs
            unit="epochs",
        ),
        Setting(
            "step_epochs",
            "Step every",
            Kind.REAL,
            "For the step schedule: multiply the learning rate by the step factor (gamma) every this many epochs.",
            range=Range(0, low_open=True),
            unit="epochs",
        ),
        Setting(
            "step_gamma",
            "Step factor",
            Kind.REAL,
            "For the step schedule: the factor gamma the learning rate is multiplied by at each step (0.1 divides it by ten).",
            range=Range(0, 1, low_open=True),
        ),
        Setting(
            "augment_shift",
            "Random shift",
            Kind.WHOLE,
            "Shift each training image randomly by up to this many pixels: free extra data that teaches the network "
            "that a digit is the same wherever it sits. 0 = off.",
            range=Range(0, 8, note="pixels"),
            unit="px",
            live=True,
        ),
        Setting(
            "augment_rotate",
            "Random rotation",
            Kind.REAL,
            "Turn each training image by a random angle up to this many degrees either way: a slanted digit is "
            "still the same digit. 0 = off.",
            range=Range(0, 90, note="degrees"),
            unit="°",
            live=True,
        ),
        Setting(
            "augment_thickness",
            "Random thickness",
            Kind.WHOLE,
            "Make each training image's strokes randomly bolder or thinner by up to this many pixels, as if "
            "written with another pen. 0 = off.",
            range=Range(0, 3, note="pixels"),
            unit="px",
            live=True,
        ),
        Setting(
            "augment_noise",
            "Random noise",
            Kind.REAL,
            "Add random noise of this strength (its standard deviation; pixels are 0 to 1) to every training "
            "pixel, as a grainy scan would. 0 = off.",
            range=Range(0, 1),
            live=True,
        ),
        Setting(
            "early_stopping",
            "Early stopping",
            Kind.WHOLE,
            "Stop when the validation loss has not improved for this many epochs, and keep the best weights. Needs a "
            "validation set; 0 = off.",
            range=Range(0, note="(0 = off)"),
            unit="epochs",
        ),
        Setting(
            "validation_size",
            "Validation",
            Kind.WHOLE,
            "Training images held out (never trained on) to measure generalisation after every epoch; the test set "
            "stays untouched until the end. 0 = none, as in the notebook.",
            range=Range(0),
            unit="images",
        ),
        Setting(
            "seed",
            "Seed",
            Kind.WHOLE,
            "The random seed for the first weights, the shuffling, dropout and shifts: the same seed, with the same "
            "number of BLAS threads, repeats a run exactly.",
            range=Range(0, 2**63 - 1),  # numpy takes any size; 64 bits is what a seed file or a log keeps exactly
        ),
        Setting(
            "dtype",
            "Precision",
            Kind.CHOICE,
            "The floating-point precision of the weights and data: float32 is about twice as fast; float64 reproduces "
            "the notebook exactly.",
            choices_from="scratchnet.settings:DTYPES",
        ),
    )
}


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _number(value: float) -> str:
    """A limit as a person writes it: 1, 0.5, 9,223,372,036,854,775,807."""
    return f"{value:,}" if _is_int(value) else f"{value:g}"
