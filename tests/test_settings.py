"""The table of training settings: it names every ``TrainConfig`` field and nothing else, and the command line,
the live settings and the checks of a configuration all come from it."""

import dataclasses
import subprocess
import sys

import pytest

from scratchnet.cli import build_parser, main
from scratchnet.config import TrainConfig
from scratchnet.controls import LIVE_SETTINGS, LiveSettings
from scratchnet.errors import ConfigError
from scratchnet.settings import SETTINGS, Kind


def test_the_table_has_a_row_for_every_train_config_field_and_no_other_in_the_same_order():
    assert list(SETTINGS) == [field.name for field in dataclasses.fields(TrainConfig)]


def test_the_live_settings_are_exactly_the_tables_live_ones():
    assert set(LIVE_SETTINGS) == {name for name, setting in SETTINGS.items() if setting.live}


def test_live_settings_are_read_from_a_config_and_applied_to_another_field_by_field():
    first = TrainConfig(lr=0.1, momentum=0.5, beta1=0.8, beta2=0.99, weight_decay=1e-4, grad_clip=2.0, dropout=0.2)
    live = LiveSettings.of(first)
    assert dataclasses.asdict(live) == {name: getattr(first, name) for name in LIVE_SETTINGS}
    second = TrainConfig(hidden=[16], epochs=3)
    changed = live.applied_to(second)
    assert all(getattr(changed, name) == getattr(first, name) for name in LIVE_SETTINGS)
    assert all(getattr(changed, name) == getattr(second, name) for name in SETTINGS if name not in LIVE_SETTINGS)


def test_live_settings_are_checked_as_the_config_checks_them():
    with pytest.raises(ConfigError) as raised:
        dataclasses.replace(LiveSettings.of(TrainConfig()), dropout=1.0)
    assert raised.value.setting == "dropout" and raised.value.rule == "must be at least 0 and below 1; got 1.0"


@pytest.mark.parametrize("name", [name for name, setting in SETTINGS.items() if setting.kind is Kind.CHOICE])
def test_every_choice_of_a_choice_setting_makes_a_valid_config_and_others_are_refused(name):
    choices = SETTINGS[name].choices
    assert choices and all(getattr(TrainConfig(**{name: choice}), name) == choice for choice in choices)
    with pytest.raises(ConfigError) as raised:
        TrainConfig(**{name: "nonsense"})
    assert raised.value.setting == name and raised.value.rule == f"must be one of {', '.join(choices)}; got 'nonsense'"


@pytest.mark.parametrize(
    ("changes", "setting", "rule"),
    [
        ({"hidden": [128, "wide"]}, "hidden", "must be a list of whole-number layer widths; got [128, 'wide']"),
        ({"hidden": [0]}, "hidden", "widths must be between 1 and 4096; got 0"),
        ({"epochs": 2.5}, "epochs", "must be a whole number; got 2.5"),
        ({"lr": float("nan")}, "lr", "must be a finite number; got nan"),
        ({"lr": True}, "lr", "must be a finite number; got True"),
        ({"batch_size": 0}, "batch_size", "must be at least 1 (or full); got 0"),
        ({"grad_clip": -1}, "grad_clip", "must be at least 0 (0 = off); got -1"),
        ({"augment_shift": 9}, "augment_shift", "must be at least 0 and at most 8 pixels; got 9"),
        ({"seed": 2**63}, "seed", f"must be at least 0 and at most 9,223,372,036,854,775,807; got {2**63}"),
        ({"warmup_epochs": 3, "epochs": 3}, "warmup_epochs", "must be at least 0 and shorter than the run (3 epochs); got 3"),
        ({"early_stopping": 2, "validation_size": 0}, "early_stopping", "needs a validation set; got 2"),
    ],
)
def test_an_impossible_setting_is_named_with_its_rule(changes, setting, rule):
    with pytest.raises(ConfigError) as raised:
        TrainConfig(**changes)
    assert (raised.value.setting, raised.value.rule) == (setting, rule)


def test_a_full_batch_is_the_only_setting_that_may_be_none():
    assert TrainConfig(batch_size=None).batch_size is None
    for name in SETTINGS:
        if name != "batch_size":
            with pytest.raises(ConfigError):
                TrainConfig(**{name: None})


def test_every_setting_has_its_flag_and_its_help_text_in_train_help(capsys):
    train = build_parser().parse_known_args(["train"])[0].parser
    flags = {option for action in train._actions for option in action.option_strings}
    assert {setting.flag for setting in SETTINGS.values()} <= flags
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for setting in SETTINGS.values():
        assert " ".join(setting.help.split()) in help_text, setting.name


def test_the_table_imports_neither_numpy_nor_qt():
    code = "import sys, scratchnet.settings; print(sorted(m for m in ('numpy', 'PySide6') if m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
