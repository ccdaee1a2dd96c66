"""Reading model files, defensively: a file from anywhere must never crash ScratchNet or run code.

Only a regular file is read, and only the bytes its header accounts for; the tensors must tile the data
exactly, as the safetensors format requires (no overlaps, gaps or trailing bytes); every metadata field is
checked for type (the edits an edited copy lists by ``inspect.edits.edits_from_list``, their units against the
layer sizes); and the weights must compute finite values on a few ordinary images (finite weights can still
overflow the float range once multiplied and summed). The format itself is described in ``model``.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import reprlib  # short, depth-limited reprs of untrusted values in error messages
import struct
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np

from .data import MAX_CLASSES, display_name
from .errors import ModelFileError
from .inspect.edits import Edit, edits_from_list
from .memory import available_bytes, format_bytes
from .model import FORMAT, FORMAT_VERSION, Model
from .nn.activations import ACTIVATIONS
from .nn.network import Params
from .regular_file import UnreadableFile, open_regular_file

MAX_HEADER_BYTES = 1 << 24
FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")  # the form of Dataset.test_fingerprint
# The metadata fields a model file may leave out (or set to null), with the JSON type each must otherwise have.
OPTIONAL_FIELDS = {
    "dataset": (str, "a string"),
    "dataset_fingerprint": (str, "a string"),
    "saved_at": (str, "a string"),
    "config": (dict, "a JSON object"),
    "metrics": (dict, "a JSON object"),
    "edits": (list, "a JSON list"),
}
# What each metric the trainer records may hold besides null: its lowest and highest value.
METRIC_RANGES = {
    "test_accuracy": (0.0, 1.0),
    "val_accuracy": (0.0, 1.0),
    "test_loss": (0.0, math.inf),
    "epochs": (0.0, math.inf),
    "train_seconds": (0.0, math.inf),
}
_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


class _TensorPlace(NamedTuple):
    """Where a tensor lies in the data that follows the header, and how to read it."""

    dtype: np.dtype
    shape: tuple[int, ...]
    start: int
    end: int


def probe_images(image_shape: tuple[int, int]) -> np.ndarray:
    """A few inputs (n, H, W) in [0, 1] that anyone could draw: blank, fully inked, strokes (a bar across, a bar
    down, a diagonal, a ring) and noise. Every model is run on them when loaded; blank images alone would hide
    an overflow, since they only exercise the biases."""
    height, width = image_shape
    y, x = np.meshgrid(np.linspace(-1, 1, height), np.linspace(-1, 1, width), indexing="ij")
    strokes = [np.abs(y) < 0.2, np.abs(x) < 0.2, np.abs(x + y) < 0.25, np.abs(np.hypot(x / 0.6, y / 0.8) - 1) < 0.25]
    noise = np.random.default_rng(0).random((4, height, width))
    return np.concatenate([np.stack([np.zeros_like(x), np.ones_like(x), *strokes]), noise]).astype(np.float64)


def load_model(path: str | os.PathLike) -> Model:
    """Read a model file, checking everything; raise ``ModelFileError`` saying what is wrong. Only a regular
    file is read (a pipe, device or folder is refused before reading), and only the bytes its header accounts for."""
    path = Path(path)
    with _open_model_file(path) as file:
        return _read_model(file, os.fstat(file.fileno()).st_size, path.name)


def parse_model(data: bytes, name: str = "model") -> Model:
    """Parse the bytes of a model file; see ``load_model``."""
    return _read_model(io.BytesIO(data), len(data), name)


def _open_model_file(path: Path) -> BinaryIO:
    """``path`` opened for reading, if it is a regular file (see ``regular_file.open_regular_file``: a FIFO cannot
    hang us, a device is never read); else ``ModelFileError`` saying what it is."""
    try:
        return open_regular_file(path)
    except UnreadableFile as error:
        raise ModelFileError(f"{path}: this is {error.kind}, not a model file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read: {error.strerror or error}") from None


def _read_model(file: BinaryIO, size: int, name: str) -> Model:
    """Read a model from ``file`` of ``size`` bytes: header, metadata, tensor layout, then the tensors' bytes."""
    header, data_start = _read_header(file, size, name)
    meta = _read_metadata(header, name)
    layout = _tensor_layout(header, meta["layer_sizes"], name)
    data_size = size - data_start
    _check_covers_data(layout, data_size, name)
    available = available_bytes()
    if available is not None and data_size > available:
        raise ModelFileError(
            f"{name}: the weights take {format_bytes(data_size)}, more than the {format_bytes(available)} of memory available"
        )
    data = _read_exactly(file, data_size, name)
    params: Params = []
    for i in range(len(meta["layer_sizes"]) - 1):
        weight, bias = (_read_tensor(data, key, layout[key], name) for key in (f"{2 * i}.weight", f"{2 * i}.bias"))
        if weight.dtype != bias.dtype or (params and weight.dtype != params[0]["W"].dtype):
            raise ModelFileError(f"{name}: all tensors must share one dtype")
        params.append({"W": np.ascontiguousarray(weight.T), "b": bias})
    metrics = dict(meta.get("metrics") or {})
    model = Model(
        params=params,
        activation=meta["activation"],
        class_names=meta["class_names"],
        image_shape=tuple(meta["input"]["image_shape"]),
        dataset=meta.get("dataset") or "",
        config=meta.get("config") or {},
        metrics=metrics,
        dataset_fingerprint=meta.get("dataset_fingerprint"),
        epochs_trained=metrics.pop("epochs", None),
        edits=meta["edits"],
    )
    probes = probe_images(model.image_shape)
    try:
        model.checked_proba(probes.reshape(len(probes), -1), "ordinary images (blank, inked, strokes, noise)")
    except ModelFileError as error:
        raise ModelFileError(f"{name}: {error}") from None
    return model


def _read_exactly(file: BinaryIO, count: int, name: str) -> bytes:
    data = file.read(count)
    if len(data) != count:
        raise ModelFileError(f"{name}: the file is truncated (it changed while being read)")
    return data


def _read_header(file: BinaryIO, size: int, name: str) -> tuple[dict, int]:
    """The JSON header and where the tensor data starts."""
    if size < 8:
        raise ModelFileError(f"{name}: not a safetensors model file (only {size} bytes)")
    (header_size,) = struct.unpack("<Q", _read_exactly(file, 8, name))
    if header_size > MAX_HEADER_BYTES or 8 + header_size > size:
        raise ModelFileError(f"{name}: not a safetensors model file (header size {header_size} does not fit the file)")
    header = _parse_json(_read_exactly(file, header_size, name), f"{name}: not a safetensors model file (header is not JSON)")
    if not isinstance(header, dict):
        raise ModelFileError(f"{name}: not a safetensors model file (header is not a JSON object)")
    return header, 8 + header_size


def _parse_json(text: bytes | str, message: str):
    """JSON from an untrusted file; bad UTF-8, bad syntax, absurd nesting or huge integers all become ``ModelFileError``."""
    try:
        return json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ModelFileError(message) from None


def _read_metadata(header: dict, name: str) -> dict:
    """The ScratchNet JSON metadata, with every field checked for type and consistency."""
    raw = header.get("__metadata__")
    if not isinstance(raw, dict) or not isinstance(raw.get("scratchnet"), str):
        raise ModelFileError(f"{name}: a safetensors file, but not a ScratchNet model (no 'scratchnet' metadata)")
    meta = _parse_json(raw["scratchnet"], f"{name}: the ScratchNet metadata is not valid JSON")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ModelFileError(f"{name}: the metadata does not describe a {FORMAT} model")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(
            f"{name}: format version {reprlib.repr(meta.get('format_version'))} is not supported (this ScratchNet reads {FORMAT_VERSION})"
        )
    sizes = meta.get("layer_sizes")
    if not (isinstance(sizes, list) and len(sizes) >= 2 and all(type(s) is int and 1 <= s <= 1 << 20 for s in sizes)):
        raise ModelFileError(f"{name}: layer_sizes must be a list of at least two positive integers; got {reprlib.repr(sizes)}")
    if not isinstance(meta.get("activation"), str) or meta["activation"] not in ACTIVATIONS:
        raise ModelFileError(f"{name}: unknown activation {reprlib.repr(meta.get('activation'))}; known: {', '.join(ACTIVATIONS)}")
    names = meta.get("class_names")
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names) and len(names) == sizes[-1]):
        raise ModelFileError(f"{name}: class_names must be {sizes[-1]} strings, one per output; got {reprlib.repr(names)}")
    if len(names) > MAX_CLASSES:
        raise ModelFileError(f"{name}: the model predicts {len(names):,} classes; ScratchNet takes at most {MAX_CLASSES:,}")
    meta["class_names"] = [display_name(class_name) for class_name in names]  # cut as a dataset's are, and compared with them
    shape = (meta.get("input") or {}).get("image_shape") if isinstance(meta.get("input"), dict) else None
    if not (isinstance(shape, list) and len(shape) == 2 and all(type(s) is int and s > 0 for s in shape) and math.prod(shape) == sizes[0]):
        raise ModelFileError(f"{name}: input image_shape {reprlib.repr(shape)} does not match the {sizes[0]} inputs of the first layer")
    for key, value in (("scale", 1 / 255), ("offset", 0.0)):
        given = meta["input"].get(key, value)
        if not (_is_real(given) and math.isclose(given, value, abs_tol=1e-12)):
            raise ModelFileError(f"{name}: input {key} {reprlib.repr(given)} is not supported (ScratchNet reads pixels as value / 255)")
    for key, (kind, description) in OPTIONAL_FIELDS.items():
        if meta.get(key) is not None and not isinstance(meta[key], kind):
            raise ModelFileError(f"{name}: {key} must be {description} or null; got {reprlib.repr(meta[key])}")
    if meta.get("dataset_fingerprint") is not None and not FINGERPRINT.fullmatch(meta["dataset_fingerprint"]):
        raise ModelFileError(
            f'{name}: dataset_fingerprint must be "sha256:" and 64 hex digits; got {reprlib.repr(meta["dataset_fingerprint"])}'
        )
    for key, value in (meta.get("metrics") or {}).items():
        low, high = METRIC_RANGES.get(key, (-math.inf, math.inf))
        if value is not None and not (_is_real(value) and low <= value <= high):
            raise ModelFileError(f"{name}: metrics.{key} must be {_number_between(low, high)} or null; got {reprlib.repr(value)}")
    meta["edits"] = _read_edits(meta.get("edits") or [], sizes, name)
    return meta


def _read_edits(data: list, sizes: list[int], name: str) -> tuple[Edit, ...]:
    """The edits an edited copy lists (``inspect.edits.edits_from_list``), each unit one of these layer sizes'."""
    try:
        edits = edits_from_list(data)
    except ValueError as error:
        raise ModelFileError(f"{name}: {error}") from None
    widths = sizes[1:-1]  # of the hidden layers
    for position, edit in enumerate(edits, start=1):
        unit = getattr(edit, "unit", None)
        if unit is not None and not (0 <= unit.layer < len(widths) and 0 <= unit.unit < widths[unit.layer]):
            raise ModelFileError(f"{name}: edit {position} is of {unit}, which a {'-'.join(map(str, sizes))} network does not have")
    return edits


def _is_real(value) -> bool:
    """A finite JSON number: not a bool, not an integer too large for a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _number_between(low: float, high: float) -> str:
    if math.isinf(high):
        return "a finite number" if math.isinf(low) else f"a number from {low:g} up"
    return f"a number from {low:g} to {high:g}"


def _tensor_layout(header: dict, sizes: list[int], name: str) -> dict[str, _TensorPlace]:
    """Each tensor's dtype, shape and byte span in the data, checked against ``layer_sizes``: exactly the tensors
    of those layers, each with the shape they imply and as many bytes as its dtype and shape need."""
    expected = {f"{2 * i}.weight": (sizes[i + 1], sizes[i]) for i in range(len(sizes) - 1)}
    expected |= {f"{2 * i}.bias": (sizes[i + 1],) for i in range(len(sizes) - 1)}
    present = set(header) - {"__metadata__"}
    if present != set(expected):
        missing, extra = sorted(set(expected) - present), sorted(present - set(expected))
        raise ModelFileError(f"{name}: tensors do not match layer sizes {sizes}: missing {missing or 'none'}, unexpected {extra or 'none'}")
    layout = {}
    for key, shape in expected.items():
        entry = header[key]
        if not isinstance(entry, dict):
            raise ModelFileError(f"{name}: tensor {key} has no description")
        dtype = _DTYPES.get(entry.get("dtype")) if isinstance(entry.get("dtype"), str) else None
        if dtype is None:
            raise ModelFileError(f"{name}: tensor {key} has dtype {reprlib.repr(entry.get('dtype'))}; only F32 and F64 are supported")
        if entry.get("shape") != list(shape):
            raise ModelFileError(
                f"{name}: tensor {key} has shape {reprlib.repr(entry.get('shape'))}, expected {list(shape)} from layer_sizes"
            )
        span = entry.get("data_offsets")
        if not (isinstance(span, list) and len(span) == 2 and all(type(v) is int and v >= 0 for v in span)):
            raise ModelFileError(f"{name}: tensor {key} has invalid data_offsets {reprlib.repr(span)}")
        if span[1] - span[0] != math.prod(shape) * dtype.itemsize:
            raise ModelFileError(
                f"{name}: tensor {key} spans {span[1] - span[0]} bytes, but {math.prod(shape)} {entry['dtype']} values take "
                f"{math.prod(shape) * dtype.itemsize}; the file is corrupt"
            )
        layout[key] = _TensorPlace(dtype, shape, span[0], span[1])
    return layout


def _check_covers_data(layout: dict[str, _TensorPlace], data_size: int, name: str) -> None:
    """The safetensors rule: the tensors tile the ``data_size`` bytes after the header exactly, with no overlap,
    no gap and nothing after the last one (so a file cannot hide other content, or promise more than it holds)."""
    position = 0
    for key, place in sorted(layout.items(), key=lambda item: (item[1].start, item[1].end)):
        if place.start < position:
            raise ModelFileError(f"{name}: tensor {key} overlaps the tensor before it; the safetensors format forbids overlaps")
        if place.start > position:
            raise ModelFileError(f"{name}: {place.start - position} unused bytes before tensor {key}; the safetensors format forbids gaps")
        position = place.end
    if position > data_size:
        raise ModelFileError(
            f"{name}: the tensors need {position} bytes of data but the file holds {data_size}; it is truncated or corrupt"
        )
    if position < data_size:
        raise ModelFileError(f"{name}: {data_size - position} bytes after the last tensor; the safetensors format forbids trailing data")


def _read_tensor(data: bytes, key: str, place: _TensorPlace, name: str) -> np.ndarray:
    array = np.frombuffer(data, dtype=place.dtype, count=math.prod(place.shape), offset=place.start).reshape(place.shape)
    if not np.isfinite(array).all():
        raise ModelFileError(f"{name}: tensor {key} holds NaN or infinite values")
    return array.astype(place.dtype.newbyteorder("="))
