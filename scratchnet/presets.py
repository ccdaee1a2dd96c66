"""Named training configurations, shipped as JSON files in ``resources/presets/``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from .config import TrainConfig
from .errors import ConfigError


def resources_dir() -> Path:
    """The shipped ``resources/`` folder: installed as the ``scratchnet_resources`` package, or beside the sources."""
    spec = importlib.util.find_spec("scratchnet_resources")
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(__file__).resolve().parent.parent / "resources"


def preset_names() -> list[str]:
    """Preset names in display order: the notebook replay first, then by file name."""
    names = sorted(path.stem for path in (resources_dir() / "presets").glob("*.json"))
    return sorted(names, key=lambda name: (name != "notebook", name != "default", name))


def load_preset(name: str) -> tuple[TrainConfig, str]:
    """The preset's configuration and its one-line description."""
    path = resources_dir() / "presets" / f"{name}.json"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(preset_names())}")
    preset = json.loads(path.read_text(encoding="utf-8"))
    return TrainConfig.from_dict(preset["config"]), preset.get("description", "")
