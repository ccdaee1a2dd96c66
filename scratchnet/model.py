"""A trained network with everything needed to use it, and its file format.

Model files are safetensors: a JSON header, then raw little-endian arrays; nothing in
them is ever executed. Layer ``i`` is stored as ``f"{2*i}.weight"`` (out, in) and
``f"{2*i}.bias"``, the names and layout of ``torch.nn.Sequential(Linear, act, Linear,
act, ..., Linear)``, so ``load_state_dict`` accepts the file as it is. Everything else
(layer sizes, activation, input scaling, class names, training config, final metrics)
is JSON in the header's ``__metadata__["scratchnet"]``.
"""

from __future__ import annotations

import json
import math
import os
import reprlib  # short, depth-limited reprs of untrusted values in error messages
import struct
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .activations import ACTIVATIONS, get_activation
from .atomic import atomic_write
from .data import to_inputs
from .errors import ModelFileError
from .network import Params, forward, input_saliency, layer_sizes_of, predict_proba

FORMAT = "scratchnet-mlp"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 1 << 24
_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


@dataclass
class Model:
    """Weights plus what they mean: activation, input image shape, class names, how they were trained."""

    params: Params
    activation: str
    class_names: list[str]
    image_shape: tuple[int, int] = (28, 28)
    dataset: str = "MNIST"
    config: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    @property
    def layer_sizes(self) -> list[int]:
        return layer_sizes_of(self.params)

    @property
    def dtype(self) -> np.dtype:
        return self.params[0]["W"].dtype

    def predict_proba(self, inputs: np.ndarray) -> np.ndarray:
        """Probabilities (n, classes) for inputs (n, features) already scaled to [0, 1]."""
        return predict_proba(self.params, inputs.astype(self.dtype, copy=False), get_activation(self.activation))

    def predict_images(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (n, classes) for uint8 images (n, H, W)."""
        return self.predict_proba(to_inputs(images, self.dtype.type))

    def check_compatible(self, image_shape: tuple[int, int], class_names: list[str]) -> None:
        """Raise ``ModelFileError`` unless this model reads images of ``image_shape`` and predicts these classes."""
        if tuple(image_shape) != tuple(self.image_shape) or len(class_names) != len(self.class_names):
            raise ModelFileError(
                f"the model reads {self.image_shape[0]}×{self.image_shape[1]} images into {len(self.class_names)} classes, "
                f"but the dataset has {image_shape[0]}×{image_shape[1]} images and {len(class_names)} classes"
            )

    def hidden_activations(self, inputs: np.ndarray) -> list[np.ndarray]:
        """What each hidden layer outputs for inputs (n, features): one (n, width) array per hidden layer."""
        _, cache = forward(self.params, inputs.astype(self.dtype, copy=False), get_activation(self.activation))
        return cache.activations

    def saliency(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input gradients of the predicted class's log-probability, and the probabilities; see ``input_saliency``."""
        return input_saliency(self.params, inputs.astype(self.dtype, copy=False), get_activation(self.activation))


def save_model(model: Model, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` as safetensors, atomically (a temp file renamed over the target)."""
    from safetensors.numpy import save

    tensors = {}
    for i, layer in enumerate(model.params):
        tensors[f"{2 * i}.weight"] = np.ascontiguousarray(layer["W"].T)
        tensors[f"{2 * i}.bias"] = layer["b"]
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "layer_sizes": model.layer_sizes,
        "activation": model.activation,
        "input": {"image_shape": list(model.image_shape), "scale": 1 / 255, "offset": 0.0},
        "dataset": model.dataset,
        "class_names": list(model.class_names),
        "config": model.config,
        "metrics": model.metrics,
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    atomic_write(path, save(tensors, metadata={"scratchnet": json.dumps(metadata)}))


def load_model(path: str | os.PathLike) -> Model:
    """Read a model file, checking everything; raise ``ModelFileError`` saying what is wrong."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read: {error.strerror or error}") from None
    return parse_model(data, path.name)


def parse_model(data: bytes, name: str = "model") -> Model:
    """Parse the bytes of a model file; see ``load_model``."""
    header, offset = _read_header(data, name)
    meta = _read_metadata(header, name)
    sizes = meta["layer_sizes"]
    expected = {f"{2 * i}.{kind}" for i in range(len(sizes) - 1) for kind in ("weight", "bias")}
    present = set(header) - {"__metadata__"}
    if present != expected:
        missing, extra = sorted(expected - present), sorted(present - expected)
        raise ModelFileError(f"{name}: tensors do not match layer sizes {sizes}: missing {missing or 'none'}, unexpected {extra or 'none'}")
    params: Params = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        weight = _read_tensor(data, offset, header, f"{2 * i}.weight", (fan_out, fan_in), name)
        bias = _read_tensor(data, offset, header, f"{2 * i}.bias", (fan_out,), name)
        if weight.dtype != bias.dtype or (params and weight.dtype != params[0]["W"].dtype):
            raise ModelFileError(f"{name}: all tensors must share one dtype")
        params.append({"W": np.ascontiguousarray(weight.T), "b": bias})
    return Model(
        params=params,
        activation=meta["activation"],
        class_names=meta["class_names"],
        image_shape=tuple(meta["input"]["image_shape"]),
        dataset=str(meta.get("dataset", "")),
        config=meta.get("config") or {},
        metrics=meta.get("metrics") or {},
    )


def _read_header(data: bytes, name: str) -> tuple[dict, int]:
    if len(data) < 8:
        raise ModelFileError(f"{name}: not a safetensors model file (only {len(data)} bytes)")
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > MAX_HEADER_BYTES or 8 + header_size > len(data):
        raise ModelFileError(f"{name}: not a safetensors model file (header size {header_size} does not fit the file)")
    header = _parse_json(data[8 : 8 + header_size], f"{name}: not a safetensors model file (header is not JSON)")
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
    shape = (meta.get("input") or {}).get("image_shape") if isinstance(meta.get("input"), dict) else None
    if not (isinstance(shape, list) and len(shape) == 2 and all(type(s) is int and s > 0 for s in shape) and math.prod(shape) == sizes[0]):
        raise ModelFileError(f"{name}: input image_shape {reprlib.repr(shape)} does not match the {sizes[0]} inputs of the first layer")
    for optional in ("config", "metrics"):
        if meta.get(optional) is not None and not isinstance(meta[optional], dict):
            raise ModelFileError(f"{name}: {optional} must be a JSON object")
    return meta


def _read_tensor(data: bytes, offset: int, header: dict, key: str, shape: tuple[int, ...], name: str) -> np.ndarray:
    entry = header[key]
    if not isinstance(entry, dict):
        raise ModelFileError(f"{name}: tensor {key} has no description")
    dtype = _DTYPES.get(entry.get("dtype")) if isinstance(entry.get("dtype"), str) else None
    if dtype is None:
        raise ModelFileError(f"{name}: tensor {key} has dtype {reprlib.repr(entry.get('dtype'))}; only F32 and F64 are supported")
    if entry.get("shape") != list(shape):
        raise ModelFileError(f"{name}: tensor {key} has shape {reprlib.repr(entry.get('shape'))}, expected {list(shape)} from layer_sizes")
    span = entry.get("data_offsets")
    if not (isinstance(span, list) and len(span) == 2 and all(type(v) is int for v in span)):
        raise ModelFileError(f"{name}: tensor {key} has invalid data_offsets {reprlib.repr(span)}")
    start, end = offset + span[0], offset + span[1]
    if not (offset <= start <= end <= len(data)) or end - start != math.prod(shape) * dtype.itemsize:
        raise ModelFileError(f"{name}: tensor {key} data lies outside the file or has the wrong length; the file is truncated or corrupt")
    array = np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=start).reshape(shape)
    if not np.isfinite(array).all():
        raise ModelFileError(f"{name}: tensor {key} holds NaN or infinite values")
    return array.astype(dtype.newbyteorder("="))
