"""The full description of a training run, checked before anything starts."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .errors import ConfigError
from .settings import SETTINGS


@dataclass
class TrainConfig:
    """Architecture and learning settings. ``batch_size=None`` means full-batch gradient descent.

    One field per row of the table of settings (``scratchnet.settings.SETTINGS``), which says what each one means and
    which values it takes. The defaults are the ``default`` preset, whose file (resources/presets/default.json)
    holds only its description: every preset lists what it changes from them, and ``TrainConfig()`` is the
    configuration the app opens with and ``scratchnet train`` trains without ``--preset``."""

    hidden: list[int] = field(default_factory=lambda: [128, 128])
    activation: str = "relu"
    init: str = "he"
    optimizer: str = "nesterov"
    lr: float = 0.25
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    batch_size: int | None = 256
    epochs: int = 8
    weight_decay: float = 0.0
    dropout: float = 0.0
    grad_clip: float = 1.0
    schedule: str = "cosine"
    warmup_epochs: float = 0.5
    step_epochs: float = 10.0
    step_gamma: float = 0.1
    augment_shift: int = 1
    augment_rotate: float = 0.0
    augment_thickness: int = 0
    augment_noise: float = 0.0
    early_stopping: int = 0
    validation_size: int = 5000
    seed: int = 0
    dtype: str = "float32"

    def __post_init__(self):
        self.validate()
        self.hidden = [int(width) for width in self.hidden]

    def validate(self) -> None:
        """Raise ``ConfigError`` naming the first impossible setting: each setting checked as its row in the table of
        settings (``scratchnet.settings``) says, then the rules between two settings."""
        for setting in SETTINGS.values():
            setting.check(getattr(self, setting.name))
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


def _check(name: str, value, ok: bool, rule: str) -> None:
    if not ok:
        raise ConfigError.about(name, f"{rule}; got {value!r}")
