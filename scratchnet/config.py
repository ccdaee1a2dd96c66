"""The full description of a training run, checked before anything starts."""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

from .errors import ConfigError
from .nn.activations import ACTIVATIONS
from .nn.initializers import INITIALIZERS
from .nn.optimizers import OPTIMIZER_NAMES
from .nn.schedules import SCHEDULE_NAMES

MAX_WIDTH = 4096
DTYPES = ("float32", "float64")
INTEGER_SETTINGS = ("batch_size", "epochs", "augment_shift", "early_stopping", "validation_size", "seed")
REAL_SETTINGS = ("lr", "momentum", "beta1", "beta2", "weight_decay", "dropout", "grad_clip", "warmup_epochs", "step_epochs", "step_gamma")


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


BELOW_ONE = Range(0, 1, high_open=True)
RANGES = {
    "lr": Range(0, low_open=True),
    "momentum": BELOW_ONE,
    "beta1": BELOW_ONE,
    "beta2": BELOW_ONE,
    "batch_size": Range(1, note="(or full)"),
    "epochs": Range(1),
    "weight_decay": Range(0),
    "dropout": BELOW_ONE,
    "grad_clip": Range(0, note="(0 = off)"),
    "warmup_epochs": Range(0),  # and shorter than the run: checked with the epochs
    "step_epochs": Range(0, low_open=True),
    "step_gamma": Range(0, 1, low_open=True),
    "augment_shift": Range(0, 8, note="pixels"),
    "early_stopping": Range(0, note="(0 = off)"),
    "validation_size": Range(0),
    "seed": Range(0, 2**63 - 1),  # numpy takes any size; 64 bits is what a seed file or a log keeps exactly
}


@dataclass
class TrainConfig:
    """Architecture and learning settings. ``batch_size=None`` means full-batch gradient descent."""

    hidden: list[int] = field(default_factory=lambda: [128, 128])
    activation: str = "relu"
    init: str = "he"
    optimizer: str = "adam"
    lr: float = 1e-3
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    batch_size: int | None = 128
    epochs: int = 10
    weight_decay: float = 0.0
    dropout: float = 0.0
    grad_clip: float = 0.0
    schedule: str = "constant"
    warmup_epochs: float = 0.0
    step_epochs: float = 10.0
    step_gamma: float = 0.1
    augment_shift: int = 0
    early_stopping: int = 0
    validation_size: int = 5000
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self):
        if not isinstance(self.hidden, (list, tuple)) or not all(_is_int(width) for width in self.hidden):
            raise ConfigError.about("hidden", f"must be a list of whole-number layer widths; got {self.hidden!r}")
        self.hidden = [int(width) for width in self.hidden]
        self.validate()

    def validate(self) -> None:
        """Raise ``ConfigError`` naming the first impossible setting."""
        for name in INTEGER_SETTINGS:
            value = getattr(self, name)
            if not (_is_int(value) or (name == "batch_size" and value is None)):
                raise ConfigError.about(name, f"must be a whole number; got {value!r}")
        for name in REAL_SETTINGS:
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)):
                raise ConfigError.about(name, f"must be a finite number; got {value!r}")
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("init", self.init, INITIALIZERS)
        _choice("optimizer", self.optimizer, OPTIMIZER_NAMES)
        _choice("schedule", self.schedule, SCHEDULE_NAMES)
        _choice("dtype", self.dtype, DTYPES)
        for width in self.hidden:
            if not 1 <= width <= MAX_WIDTH:
                raise ConfigError.about("hidden", f"widths must be between 1 and {MAX_WIDTH}; got {width}")
        for name, allowed in RANGES.items():
            value = getattr(self, name)
            _check(name, value, value is None or value in allowed, allowed.rule())
        _check(
            "warmup_epochs",
            self.warmup_epochs,
            self.warmup_epochs < self.epochs,
            f"must be at least 0 and shorter than the run ({self.epochs} epochs)",
        )
        _check("early_stopping", self.early_stopping, not (self.early_stopping and not self.validation_size), "needs a validation set")

    def layer_sizes(self, inputs: int, classes: int) -> list[int]:
        """``[inputs, hidden..., classes]``: the widths of every layer of the network this config describes."""
        return [inputs, *self.hidden, classes]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Build from a dict (a preset, JSON metadata), refusing unknown keys with a clear message."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known settings: {', '.join(sorted(known))}")
        try:
            return cls(**values)
        except ConfigError:
            raise
        except (TypeError, ValueError) as error:
            raise ConfigError(f"invalid setting: {error}") from None

    def replace(self, **changes) -> TrainConfig:
        return TrainConfig.from_dict({**self.to_dict(), **changes})

    def describe(self) -> str:
        """A short label such as ``128-128 relu adam lr=0.002 bs=128 ep=8``, used to tell runs apart."""
        network = f"{'-'.join(str(w) for w in self.hidden)} {self.activation}" if self.hidden else "softmax regression"
        batch = "full" if self.batch_size is None else self.batch_size
        return f"{network} {self.optimizer} lr={self.lr:g} bs={batch} ep={self.epochs}"


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _choice(name: str, value: str, choices) -> None:
    if value not in choices:
        raise ConfigError.about(name, f"must be one of {', '.join(choices)}; got {value!r}")


def _number(value: float) -> str:
    """A limit as a person writes it: 1, 0.5, 9,223,372,036,854,775,807."""
    return f"{value:,}" if _is_int(value) else f"{value:g}"


def _check(name: str, value, ok: bool, rule: str) -> None:
    if not ok:
        raise ConfigError.about(name, f"{rule}; got {value!r}")
