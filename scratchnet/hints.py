"""Hints: what the health signals of a run say is wrong, with the number, the likely cause and a fix.

    hints = hints_for(config, health, history)      # [] for a healthy run
    hints[0].seen   # "82 % of hidden layer 1's tanh outputs are saturated (|a| > 0.97)"
    hints[0].fix    # {"init": "xavier"}: settings to train with instead, as TrainConfig fields

Each rule reads the signals of ``health.py`` (the recent samples, so that a passing spike is no alarm) or the
scores of the completed epochs, and fires only well past what healthy runs show: the ``default`` preset over
five seeds gives no hint at all (``benchmarks/bench_hints.py`` checks each rule on real MNIST runs).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .config import TrainConfig
from .health import HealthHistory
from .nn.optimizers import ADAPTIVE_OPTIMIZERS, USUAL_LR
from .trainer import EpochEvent

SATURATED_LIMIT = 0.5  # a hidden layer with at least this share of saturated outputs hardly learns
DEAD_LIMIT = 0.5  # a hidden layer with at least this share of dead units has lost most of its width
INITIAL_LOSS_FACTOR = 2.0  # an initial loss this many times ln(classes) is "far above" a uniform guess's
NOT_LEARNING_LOSS = 0.95  # a training loss still this close to ln(classes) after an epoch...
NOT_LEARNING_ACCURACY = 2.0  # ...with fewer right than this many times chance (1 / classes): nothing learnt
OVERFITTING_GAP = 0.03  # training accuracy this far above the validation accuracy: memorising, not learning
OVERFITTING_EPOCHS = 3  # epochs before a gap counts (early epochs move fast)
SCALED_INIT = {"tanh": "xavier", "sigmoid": "xavier"}  # the initialisation suited to each activation (else he)


@dataclass(frozen=True)
class Hint:
    """One thing a run's signals show: ``seen`` says what, with the number; ``cause`` why it likely happens;
    ``fix`` the settings to change (TrainConfig field -> value), described by ``fix_label``."""

    key: str  # which rule: saturated, initial_loss, dead, not_learning, overfitting
    seen: str
    cause: str
    fix: dict
    fix_label: str
    value: float  # the number ``seen`` reports (a share, a loss, a gap)

    def to_json(self) -> dict:
        return asdict(self)


def hints_for(config: TrainConfig, health: HealthHistory, history: list[EpochEvent]) -> list[Hint]:
    """The hints for a run of ``config`` with these health samples and completed epochs, most basic first."""
    rules = (_saturated, _initial_loss, _dead, _not_learning, _overfitting)
    return [hint for rule in rules if (hint := rule(config, health, history)) is not None]


def apply_fix(config: TrainConfig, hint: Hint) -> TrainConfig:
    """``config`` with the hint's fix applied."""
    return config.replace(**hint.fix)


def _saturated(config: TrainConfig, health: HealthHistory, history: list[EpochEvent]) -> Hint | None:
    layers = _layers_past(health, "saturated", SATURATED_LIMIT)
    if not layers:
        return None
    shares = " and ".join(f"{share:.0%} of hidden layer {layer + 1}'s" for layer, share in layers)
    seen = f"{shares} {config.activation} outputs are saturated (|a| > {_saturation_rule(config)})"
    share = max(share for _, share in layers)
    if config.init not in ("xavier", "lecun"):
        cause = (
            f"The weights start too large for their fan-in ({config.init} initialisation): each unit sums hundreds of "
            f"inputs, lands far out on the flat tails of {config.activation}, and its derivative there is almost 0, "
            "so the error signal hardly reaches the weights."
        )
        return Hint("saturated", seen, cause, {"init": "xavier"}, "Use Xavier initialisation", share)
    cause = (
        "The weights have grown so large that most units sit on the flat tails, where almost no gradient passes: the steps are too large."
    )
    return Hint("saturated", seen, cause, {"lr": _lower(config.lr)}, f"Lower the learning rate to {_lower(config.lr):g}", share)


def _initial_loss(config: TrainConfig, health: HealthHistory, history: list[EpochEvent]) -> Hint | None:
    loss, uniform = health.initial_loss, math.log(health.classes)
    if loss is None or not loss > INITIAL_LOSS_FACTOR * uniform:  # (a NaN loss is divergence's to report)
        return None
    seen = f"The loss at initialisation is {loss:.2f}, far above ln {health.classes} = {uniform:.2f}, a uniform guess's"
    cause = (
        "An untrained network should be unsure of every class. It starts confident and wrong instead: its initial "
        f"weights ({config.init}) are too large, so the outputs are large and the softmax all but certain."
    )
    init = SCALED_INIT.get(config.activation, "he")
    if config.init == init:
        return None  # the initialisation already suits the activation: nothing simple to offer
    return Hint("initial_loss", seen, cause, {"init": init}, f"Use {_INIT_NAMES[init]} initialisation", loss)


def _dead(config: TrainConfig, health: HealthHistory, history: list[EpochEvent]) -> Hint | None:
    layers = _layers_past(health, "dead", DEAD_LIMIT)
    if not layers:
        return None
    shares = " and ".join(f"{share:.0%} of hidden layer {layer + 1}'s" for layer, share in layers)
    seen = f"{shares} {config.activation} units are dead: active for no image of a batch"
    share = max(share for _, share in layers)
    cause = (
        "A dead unit's pre-activation is negative for every input, so no gradient reaches its weights and it never "
        f"recovers. Large steps (learning rate {config.lr:g}{'' if config.grad_clip else ', no gradient clipping'}) "
        "throw weights there early in training."
    )
    return _calmer_steps("dead", seen, cause, config, share)


def _not_learning(config: TrainConfig, health: HealthHistory, history: list[EpochEvent]) -> Hint | None:
    if not history or not health.samples:
        return None
    last, uniform = history[-1], math.log(health.classes)
    near_uniform = NOT_LEARNING_LOSS * uniform <= last.train_loss <= INITIAL_LOSS_FACTOR * uniform  # (far above: still
    if not near_uniform or last.train_accuracy >= NOT_LEARNING_ACCURACY / health.classes:  # coming down from a bad start)
        return None
    seen = (
        f"After {len(history)} epoch{'s' * (len(history) != 1)} the training loss is {last.train_loss:.2f}, no better than "
        f"ln {health.classes} = {uniform:.2f}: the network guesses ({last.train_accuracy:.0%} right on the training images)"
    )
    cause = (
        f"The steps are so large (learning rate {config.lr:g}) that the first ones threw the weights where the network "
        "gives the same answer to every image."
    )
    return _calmer_steps("not_learning", seen, cause, config, last.train_loss)


def _overfitting(config: TrainConfig, health: HealthHistory, history: list[EpochEvent]) -> Hint | None:
    scored = [event for event in history if event.val_accuracy is not None]
    if len(scored) < OVERFITTING_EPOCHS:
        return None
    last = scored[-1]
    gap = last.train_accuracy - last.val_accuracy
    if not gap >= OVERFITTING_GAP:
        return None
    seen = (
        f"Training accuracy {last.train_accuracy:.1%} against {last.val_accuracy:.1%} on the validation images: "
        f"a gap of {100 * gap:.1f} points"
    )
    cause = (
        "The network memorises its training images instead of learning what makes a digit: too few images, or too many "
        "epochs, for its size."
    )
    fix = {"augment_shift": max(2, config.augment_shift), "dropout": max(0.2, config.dropout)}
    label = f"Shift images by up to {fix['augment_shift']} pixels and use dropout {fix['dropout']:g}"
    return Hint("overfitting", seen, cause, fix, label, gap)


# ---- helpers -------------------------------------------------------------------------------------------

_INIT_NAMES = {"xavier": "Xavier", "he": "He", "lecun": "LeCun", "randn": "randn"}


def _layers_past(health: HealthHistory, signal: str, limit: float) -> list[tuple[int, float]]:
    """The hidden layers whose recent ``signal`` is at least ``limit``, with that value."""
    values = [(layer, health.recent(signal, layer)) for layer in range(health.layers(signal))]
    return [(layer, value) for layer, value in values if value is not None and value >= limit]


def _calmer_steps(key: str, seen: str, cause: str, config: TrainConfig, value: float) -> Hint:
    """A hint whose fix is the optimiser's usual learning rate (or a tenth of this one, when that is lower) with clipping."""
    lr = min(USUAL_LR[config.optimizer in ADAPTIVE_OPTIMIZERS], config.lr / 10)
    fix = {"lr": float(f"{lr:.3g}"), "grad_clip": config.grad_clip or 1.0}
    return Hint(key, seen, cause, fix, f"Lower the learning rate to {fix['lr']:g} and clip gradients to norm {fix['grad_clip']:g}", value)


def _lower(lr: float) -> float:
    return float(f"{lr / 3:.3g}")


def _saturation_rule(config: TrainConfig) -> str:
    return "0.97" if config.activation == "tanh" else "0.97 as |2a − 1|"
