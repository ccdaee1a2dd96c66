"""Named training configurations, shipped as JSON files in ``resources/presets/``."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from .config import TrainConfig
from .errors import ConfigError
from .regular_file import read_regular_file

MAX_PRESET_BYTES = 1 << 20  # a preset lists a few settings: a larger file is something else


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


def load_preset(name_or_path: str) -> tuple[TrainConfig, str]:
    """A preset's configuration and its one-line description.

    ``name_or_path`` is a built-in preset's name (``default``) or the path of a preset file of one's own
    (``my-run.json``, ``presets/wide``): a JSON object with a ``config`` object of settings and, optionally, a
    ``description`` string. The settings a preset leaves out are the default preset's (``TrainConfig``'s defaults:
    ``default.json`` itself lists none). A file is checked like any user file: every problem is a ``ConfigError``
    naming it: a path that is not a regular file of at most ``MAX_PRESET_BYTES`` (a FIFO, ``/dev/zero``) is refused
    unread."""
    path = _preset_path(name_or_path)
    try:
        text = read_regular_file(path, MAX_PRESET_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"preset file {path} does not exist") from None
    except OSError as error:
        raise ConfigError(f"cannot read the preset file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a preset file: it is not UTF-8 text") from None
    try:
        preset = json.loads(text)
    except (ValueError, RecursionError) as error:  # bad syntax, absurd nesting, an integer of thousands of digits
        where = f" (line {error.lineno}, column {error.colno}: {error.msg})" if isinstance(error, json.JSONDecodeError) else ""
        raise ConfigError(f"{path} is not a preset file: it is not valid JSON{where}") from None
    if not isinstance(preset, dict) or not isinstance(preset.get("config"), dict):
        raise ConfigError(f'{path} is not a preset file: it needs a JSON object with a "config" object of settings')
    description = preset.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f'{path}: "description" must be a string')
    try:
        return TrainConfig.from_dict(preset["config"]), description
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def _preset_path(name_or_path: str) -> Path:
    """The file of a built-in preset name, or the given path when it looks like one (a .json name or a folder in it)."""
    if name_or_path.endswith(".json") or any(separator in name_or_path for separator in {"/", os.sep}):
        return Path(name_or_path).expanduser()
    path = resources_dir() / "presets" / f"{name_or_path}.json"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name_or_path!r}; choose one of {', '.join(preset_names())}, or give a .json file")
    return path
