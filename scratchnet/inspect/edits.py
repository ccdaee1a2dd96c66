"""Edits a learner makes to a trained network — always on a copy, so the trained weights never change.

A hidden unit is addressed by a ``UnitRef``: its hidden layer (0 = the first) and its index in that layer. A unit
of hidden layer ``l`` owns column ``unit`` of ``params[l]["W"]`` (its incoming weights) and ``params[l]["b"][unit]``
(its bias); row ``unit`` of ``params[l + 1]["W"]`` carries its output to the layer above (its outgoing weights).

Each edit is a small frozen dataclass with ``apply(params)`` (in place, on the copy ``apply_edits`` makes), a
sentence for the learner (``str``), and ``to_dict`` / ``edit_from_dict`` to be recorded with a saved model::

    edited = apply_edits(model.params, [SwitchOff(UnitRef(0, 16)), Prune(0.9)])
"""

from __future__ import annotations

import dataclasses
import math
import reprlib
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..nn.network import Params, copy_params

MAX_FACTOR = 1000.0  # the largest factor (either sign) incoming weights may be scaled by: more only overflows
MAX_SHIFT = 1e4  # the largest shift of a bias, either way
MAX_EDITS = 10_000  # edits a model file or the run store may list


@dataclass(frozen=True)
class UnitRef:
    """Hidden unit ``unit`` of hidden layer ``layer``, both counted from 0 (shown to learners from 1)."""

    layer: int
    unit: int

    def __str__(self) -> str:
        return f"unit {self.unit + 1} of hidden layer {self.layer + 1}"

    def exists_in(self, params: Params) -> bool:
        """Whether a network with these parameters has this hidden unit."""
        return 0 <= self.layer < len(params) - 1 and 0 <= self.unit < params[self.layer]["W"].shape[1]


@dataclass(frozen=True)
class SwitchOff:
    """The unit's output reaches no unit above it: its outgoing weights are set to 0 (whatever its activation)."""

    unit: UnitRef
    kind: ClassVar[str] = "switch_off"

    def apply(self, params: Params) -> None:
        params[self.unit.layer + 1]["W"][self.unit.unit, :] = 0

    def __str__(self) -> str:
        return f"switched off {self.unit}"


@dataclass(frozen=True)
class ScaleIncoming:
    """The unit's incoming weights multiplied by ``factor`` (0.5 halves what it hears, -1 flips it)."""

    unit: UnitRef
    factor: float
    kind: ClassVar[str] = "scale_incoming"

    def __post_init__(self) -> None:
        _check(-MAX_FACTOR <= self.factor <= MAX_FACTOR, f"the factor must be -{MAX_FACTOR:g} to {MAX_FACTOR:g}, not {self.factor}")

    def apply(self, params: Params) -> None:
        params[self.unit.layer]["W"][:, self.unit.unit] *= self.factor

    def __str__(self) -> str:
        return f"scaled the incoming weights of {self.unit} by {self.factor:g}"


@dataclass(frozen=True)
class ShiftBias:
    """``shift`` added to the unit's bias: a positive shift makes it fire more easily."""

    unit: UnitRef
    shift: float
    kind: ClassVar[str] = "shift_bias"

    def __post_init__(self) -> None:
        _check(-MAX_SHIFT <= self.shift <= MAX_SHIFT, f"the shift must be -{MAX_SHIFT:g} to {MAX_SHIFT:g}, not {self.shift}")

    def apply(self, params: Params) -> None:
        params[self.unit.layer]["b"][self.unit.unit] += self.shift

    def __str__(self) -> str:
        return f"shifted the bias of {self.unit} by {self.shift:+g}"


@dataclass(frozen=True)
class Prune:
    """The ``fraction`` of all weights (biases kept) with the smallest magnitudes, over every layer, set to 0."""

    fraction: float
    kind: ClassVar[str] = "prune"

    def __post_init__(self) -> None:
        _check(0.0 <= self.fraction <= 1.0, f"the share of weights to prune must be 0 to 1, not {self.fraction}")

    def apply(self, params: Params) -> None:
        magnitudes = np.concatenate([np.abs(layer["W"]).ravel() for layer in params])
        count = int(round(self.fraction * magnitudes.size))
        if count <= 0:
            return
        threshold = np.partition(magnitudes, count - 1)[count - 1]
        for layer in params:
            layer["W"][np.abs(layer["W"]) <= threshold] = 0

    def does_nothing(self) -> bool:
        return self.fraction == 0

    def __str__(self) -> str:
        return f"pruned the {100 * self.fraction:g} % smallest weights"


@dataclass(frozen=True)
class WeightNoise:
    """Gaussian noise added to every weight, ``scale`` times the standard deviation of its layer's weights
    (so 0.5 disturbs each layer by half its own spread), drawn from ``seed``."""

    scale: float
    seed: int = 0
    kind: ClassVar[str] = "weight_noise"

    def __post_init__(self) -> None:
        _check(0.0 <= self.scale <= 100.0, f"the noise scale must be 0 to 100, not {self.scale}")
        _check(0 <= self.seed < 2**63, f"the noise seed must be 0 to 2**63 - 1, not {self.seed}")

    def apply(self, params: Params) -> None:
        rng = np.random.default_rng(self.seed)
        for layer in params:
            W = layer["W"]
            W += (self.scale * float(W.std()) * rng.standard_normal(W.shape)).astype(W.dtype)

    def does_nothing(self) -> bool:
        return self.scale == 0

    def __str__(self) -> str:
        return f"added weight noise of {self.scale:g} × each layer's spread"


@dataclass(frozen=True)
class Temperature:
    """Softmax temperature ``t``: probabilities become ``softmax(logits / t)``, done by dividing the last layer's
    weights and biases by ``t``. Above 1 the network is less sure, below 1 surer; its answers stay the same."""

    t: float
    kind: ClassVar[str] = "temperature"

    def __post_init__(self) -> None:
        _check(0.01 <= self.t <= 100.0, f"the temperature must be 0.01 to 100, not {self.t}")

    def apply(self, params: Params) -> None:
        params[-1]["W"] /= self.t
        params[-1]["b"] /= self.t

    def does_nothing(self) -> bool:
        return self.t == 1

    def __str__(self) -> str:
        return f"set the softmax temperature to {self.t:g}"


GLOBAL_EDITS = (Prune, WeightNoise, Temperature)  # edits that set one setting of the whole network (``does_nothing``: at its neutral value)

Edit = SwitchOff | ScaleIncoming | ShiftBias | Prune | WeightNoise | Temperature
EDIT_TYPES: dict[str, type] = {edit.kind: edit for edit in (SwitchOff, ScaleIncoming, ShiftBias, Prune, WeightNoise, Temperature)}


def apply_edits(params: Params, edits: list[Edit]) -> Params:
    """A copy of ``params`` with ``edits`` applied in order, then the switch-offs again, so that a unit switched
    off stays off whatever came after (weight noise would revive it); ``params`` itself is left as it is."""
    edited = copy_params(params)
    for edit in edits:
        edit.apply(edited)
    for edit in edits:
        if isinstance(edit, SwitchOff):
            edit.apply(edited)
    return edited


def describe_edits(edits: list[Edit] | tuple[Edit, ...], shown: int = 3) -> str:
    """The edits in one line for the learner: the first ``shown`` of them, then how many more."""
    text = "; ".join(str(edit) for edit in edits[:shown])
    return text + (f"; and {len(edits) - shown} more" if len(edits) > shown else "")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def edit_to_dict(edit: Edit) -> dict:
    """The edit as JSON-ready data: ``{"kind": ..., field: value, ...}``, a unit as ``{"layer", "unit"}``."""
    return {"kind": edit.kind, **dataclasses.asdict(edit)}


def edit_from_dict(data: object) -> Edit:
    """The edit ``edit_to_dict`` wrote (``ValueError`` for anything else: the data may come from any file)."""
    kind = data.get("kind") if isinstance(data, dict) else None
    if not isinstance(kind, str) or kind not in EDIT_TYPES:
        raise ValueError(f"not an edit: {reprlib.repr(data)}")
    edit_type = EDIT_TYPES[kind]
    values = {}
    for field in dataclasses.fields(edit_type):
        value = data.get(field.name)
        if field.name == "unit":
            if not isinstance(value, dict) or not all(type(value.get(k)) is int for k in ("layer", "unit")):
                raise ValueError(f"not a unit: {reprlib.repr(value)}")
            value = UnitRef(value["layer"], value["unit"])
        elif field.type == "int":
            if type(value) is not int:
                raise ValueError(f"{field.name} must be an integer, not {reprlib.repr(value)}")
        elif not _is_finite_number(value):
            raise ValueError(f"{field.name} must be a finite number, not {reprlib.repr(value)}")
        values[field.name] = value
    return edit_type(**values)


def edits_from_list(data: object) -> tuple[Edit, ...]:
    """The edits of a list ``edit_to_dict`` wrote, in order (``ValueError`` for anything else, or more than
    ``MAX_EDITS``)."""
    if not isinstance(data, list):
        raise ValueError(f"the edits must be a list, not {reprlib.repr(data)}")
    if len(data) > MAX_EDITS:
        raise ValueError(f"{len(data):,} edits; at most {MAX_EDITS:,} are read")
    edits = []
    for position, item in enumerate(data, start=1):
        try:
            edits.append(edit_from_dict(item))
        except ValueError as error:
            raise ValueError(f"edit {position}: {error}") from None
    return tuple(edits)


def _is_finite_number(value: object) -> bool:
    """A finite int or float (not a bool, not an integer too large for a float)."""
    if type(value) not in (int, float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False
