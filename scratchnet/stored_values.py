"""Reading back what was stored, as a stranger's input: each reader returns a stored value as the type the writer
wrote, or raises ``Unreadable`` when it is anything else (text where a number belongs, a blob, 1e300 seconds,
NaN, JSON nested 10⁵ deep, ...), so that the caller can drop that one value and go on.

    started = stored_time(row["started"])                          # a datetime, or Unreadable
    identity = read_dataclass(DatasetIdentity, json_object(text))  # every field checked against its type
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from datetime import datetime, timezone

MAX_TEXT = 2_000  # characters of a stored text kept for display; longer ones are cut, with "…"
MAX_JSON = 1_000_000  # characters of a stored JSON text that are parsed at all
MAX_JSON_DEPTH = 16  # nesting of lists and objects in a stored JSON text (the store writes 3 at most)
LARGEST_ID = 2**63 - 1  # SQLite's largest integer
LATEST_TIME = 32_503_680_000.0  # 3000-01-01 as a Unix time: a later one is no time a run was recorded


class Unreadable(ValueError):
    """A stored value that is not what its writer stores."""


def whole(value: object, low: int = 0, high: int = LARGEST_ID) -> int:
    """A whole number from ``low`` to ``high`` (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Unreadable(value)
    return value


def real(value: object, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite number from ``low`` to ``high``, as a float (NaN and infinities are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high or not math.isfinite(value):
        raise Unreadable(value)
    return float(value)


def fraction(value: object) -> float:
    """A number from 0 to 1: an accuracy."""
    return real(value, 0.0, 1.0)


def amount(value: object) -> float:
    """A number of 0 or more: seconds, samples per second."""
    return real(value, 0.0)


def stored_time(value: object) -> datetime:
    """A Unix time from 1970 to the year 3000, as a UTC datetime (so that it can be shown in any time zone)."""
    return datetime.fromtimestamp(real(value, 0.0, LATEST_TIME), timezone.utc)


def text(value: object) -> str:
    """Text fit to show: at most ``MAX_TEXT`` characters, the control ones (ESC, BEL, newline, ...) as spaces."""
    if not isinstance(value, str):
        raise Unreadable(value)
    return printable(value)


def printable(value: str, limit: int = MAX_TEXT) -> str:
    """``value`` cut to ``limit`` characters, with every unprintable character replaced by a space, so that
    writing it to a terminal cannot move the cursor, ring the bell or change the colours."""
    if len(value) > limit:
        value = value[:limit] + "…"
    return value if value.isprintable() else "".join(c if c.isprintable() else " " for c in value)


def json_value(value: object) -> object:
    """A JSON text of at most ``MAX_JSON`` characters and ``MAX_JSON_DEPTH`` levels, parsed."""
    if not isinstance(value, str) or len(value) > MAX_JSON:
        raise Unreadable(value)
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):  # not JSON; nested past the parser's recursion limit
        raise Unreadable(value) from None
    if not nested_at_most(parsed, MAX_JSON_DEPTH):
        raise Unreadable(value)
    return parsed


def json_object(value: object) -> dict:
    """A JSON text of an object (see ``json_value``), parsed."""
    parsed = json_value(value)
    if not isinstance(parsed, dict):
        raise Unreadable(value)
    return parsed


def nested_at_most(value: object, depth: int) -> bool:
    """Whether ``value`` (parsed JSON) nests lists and objects at most ``depth`` levels deep (looked at without
    recursion, so that any depth is safe)."""
    pending = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (list, dict)):
            if level > depth:
                return False
            pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return True


def optional(reader: Callable[[object], object]) -> Callable[[object], object]:
    """The reader of a value that may also be missing (None)."""
    return lambda value: None if value is None else reader(value)


def list_of(reader: Callable[[object], object]) -> Callable[[object], list]:
    def read_list(value: object) -> list:
        if not isinstance(value, list):
            raise Unreadable(value)
        return [reader(item) for item in value]

    return read_list


def pair_of(reader: Callable[[object], object]) -> Callable[[object], tuple]:
    def read_pair(value: object) -> tuple:
        if not isinstance(value, list) or len(value) != 2:
            raise Unreadable(value)
        return (reader(value[0]), reader(value[1]))

    return read_pair


# The reader of each field type of the dataclasses stored as JSON objects (their annotations, as text).
READER_OF_TYPE: dict[str, Callable[[object], object]] = {
    "str": text,
    "str | None": optional(text),
    "int": whole,
    "int | None": optional(whole),
    "float": real,
    "float | None": optional(real),
    "list[str]": list_of(text),
    "tuple[int, int]": pair_of(whole),
}


def read_dataclass(cls: type, fields: dict):
    """An instance of the dataclass ``cls`` from stored ``fields``, each checked by the reader of its type;
    Unreadable when one is missing or unreadable (keys of no field are ignored: a later version's)."""
    try:
        return cls(**{field.name: READER_OF_TYPE[field.type](fields[field.name]) for field in dataclasses.fields(cls)})
    except KeyError:
        raise Unreadable(fields) from None
