"""The shipped presets: ``TrainConfig()`` is the default one, and every other lists what it changes from it."""

import json

from scratchnet.config import TrainConfig
from scratchnet.presets import load_preset, resources_dir


def test_the_config_defaults_are_the_default_preset_and_its_file_repeats_none_of_them():
    config, _ = load_preset("default")
    assert config == TrainConfig()
    assert json.loads((resources_dir() / "presets" / "default.json").read_text(encoding="utf-8"))["config"] == {}


def test_the_default_presets_description_says_the_defaults():
    """The defaults are in config.py and their words in default.json: a change to one needs the other."""
    config, description = load_preset("default")
    network = "-".join(map(str, [784, *config.hidden, 10]))
    words = [network, "ReLU", "He initialisation", "Nesterov", f"lr {config.lr:g}", "half-epoch warm-up", "cosine schedule"]
    words += [f"clipped to norm {config.grad_clip:g}", f"mini-batches of {config.batch_size}", "1-pixel random shifts"]
    words += [f"in {config.epochs} epochs"]
    assert [word for word in words if word not in description] == []
    assert (config.activation, config.init, config.optimizer, config.schedule) == ("relu", "he", "nesterov", "cosine")
    assert (config.warmup_epochs, config.augment_shift) == (0.5, 1)


def test_the_notebook_preset_adds_none_of_the_default_presets_extras():
    config, _ = load_preset("notebook")
    assert config.to_dict() == {
        **TrainConfig().to_dict(),
        **{"hidden": [128, 128], "activation": "tanh", "init": "randn", "optimizer": "sgd", "lr": 0.1, "batch_size": None},
        **{"epochs": 2000, "grad_clip": 0.0, "schedule": "constant", "warmup_epochs": 0.0, "augment_shift": 0},
        **{"validation_size": 0, "seed": 0, "dtype": "float64", "dropout": 0.0, "weight_decay": 0.0, "early_stopping": 0},
    }


def test_a_preset_file_of_ones_own_changes_the_default_preset(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"config": {"optimizer": "adam", "lr": 0.001}}), encoding="utf-8")
    assert load_preset(str(path))[0] == TrainConfig(optimizer="adam", lr=0.001)
