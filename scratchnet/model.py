"""A trained network with everything needed to use it, and how it is written to a file.

Model files are safetensors: a JSON header, then raw little-endian arrays; nothing in
them is ever executed. Layer ``i`` is stored as ``f"{2*i}.weight"`` (out, in) and
``f"{2*i}.bias"``, the names and layout of ``torch.nn.Sequential(Linear, act, Linear,
act, ..., Linear)``, so ``load_state_dict`` accepts the file as it is. Everything else
(layer sizes, activation, input scaling, class names, training config, final metrics, and
``metrics.epochs``, the epochs of training behind the weights: ``Model.epochs_trained``)
is JSON in the header's ``__metadata__["scratchnet"]``, including a fingerprint of the dataset the
model learnt from, so that using it on another dataset can be flagged, and, for an edited copy of trained
weights (the app's Save as new model), ``edits``: the list of edits made, each ``inspect.edits.edit_to_dict``.

``save_model`` writes a file; ``scratchnet.model_file.load_model`` reads one back, defensively.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from .atomic import atomic_write
from .data import Dataset, to_inputs
from .errors import ModelFileError
from .inspect.edits import Edit, edit_to_dict
from .nn.activations import get_activation
from .nn.network import Params, forward, input_saliency, layer_sizes_of, predict_proba, softmax

FORMAT = "scratchnet-mlp"
FORMAT_VERSION = 1
BATCH = 2048  # rows per forward pass when checking a whole test set, so memory stays bounded


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
    dataset_fingerprint: str | None = None  # Dataset.test_fingerprint of the data it learnt from; None when unknown
    # Epochs of training behind these weights, over every run that trained them (2.5: stopped halfway through
    # the third); 0 for fresh random weights, None when unknown (a file that does not record it).
    epochs_trained: float | None = 0
    # The edits made to trained weights to give these (``scratchnet.inspect.edits``; Save as new model), in order;
    # () for weights as training left them.
    edits: tuple[Edit, ...] = ()

    @property
    def layer_sizes(self) -> list[int]:
        return layer_sizes_of(self.params)

    @property
    def dtype(self) -> np.dtype:
        return self.params[0]["W"].dtype

    def predict_proba(self, inputs: np.ndarray) -> np.ndarray:
        """Probabilities (n, classes) for inputs (n, features) already scaled to [0, 1]."""
        return predict_proba(self.params, inputs.astype(self.dtype, copy=False), get_activation(self.activation))

    def logits(self, inputs: np.ndarray) -> np.ndarray:
        """The last layer's weighted sums (n, classes) for inputs (n, features) in [0, 1], before softmax: what
        temperature scaling divides (``calibration.py``). In batches, so memory stays bounded."""
        activation, out = get_activation(self.activation), np.empty((len(inputs), self.layer_sizes[-1]), self.dtype)
        for start in range(0, len(inputs), BATCH):
            out[start : start + BATCH], _ = forward(self.params, inputs[start : start + BATCH].astype(self.dtype, copy=False), activation)
        return out

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

    def checked_proba(self, inputs: np.ndarray, what: str) -> np.ndarray:
        """``predict_proba``, refusing weights that overflow: raise ``ModelFileError`` when the weighted sums of
        any layer (logits included) are infinite or NaN for ``inputs`` (n, features), ``what`` naming them.

        Finite weights can overflow once multiplied and summed (weights near 1e38 in float32), and the
        probabilities would not always show it: softmax turns huge logits into tidy zeros and ones, or NaN.
        """
        activation = get_activation(self.activation)
        probabilities = np.empty((len(inputs), self.layer_sizes[-1]), self.dtype)
        with np.errstate(all="ignore"):  # overflow is reported below, as an error, not as RuntimeWarnings
            for start in range(0, len(inputs), BATCH):
                logits, cache = forward(self.params, inputs[start : start + BATCH].astype(self.dtype, copy=False), activation)
                for layer, sums in enumerate([*cache.pre_activations, logits], start=1):
                    if not np.isfinite(sums).all():
                        raise ModelFileError(
                            f"the weights overflow: layer {layer} of {len(self.params)} computes infinite or NaN values for {what}"
                        )
                probabilities[start : start + BATCH] = softmax(logits)
        return probabilities

    def predict_test_set(self, dataset: Dataset) -> np.ndarray:
        """Probabilities (n, classes) for the test images of ``dataset``, after checking that this model can be
        used on them: ``ModelFileError`` when it reads other images or classes, or overflows on them."""
        self.check_compatible(dataset.image_shape, dataset.class_names)
        return self.checked_proba(to_inputs(dataset.test_images, self.dtype.type), f"the test images of {dataset.name}")

    def dataset_mismatch(self, dataset: Dataset) -> str | None:
        """Why ``dataset`` seems not to be the one this model learnt from (other class names, or a test set
        with another fingerprint), or None. A file that does not record its dataset's fingerprint (saved by
        an older ScratchNet) is given the benefit of the doubt."""
        if list(self.class_names) != list(dataset.class_names):
            ours, theirs = names_text(self.class_names), names_text(dataset.class_names)
            return f"the model's classes are {ours} but those of {dataset.name} are {theirs}"
        if self.dataset_fingerprint not in (None, dataset.test_fingerprint):
            learnt_from = self.dataset or "an unnamed dataset"
            return f"the model learnt from another dataset ({learnt_from}) than this one ({dataset.name}): their test sets differ"
        return None

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
        "dataset_fingerprint": model.dataset_fingerprint,
        "class_names": list(model.class_names),
        "config": model.config,
        "metrics": model.metrics if model.epochs_trained is None else {**model.metrics, "epochs": model.epochs_trained},
        "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if model.edits:
        metadata["edits"] = [edit_to_dict(edit) for edit in model.edits]
    atomic_write(path, save(tensors, metadata={"scratchnet": json.dumps(metadata)}))


def names_text(names: list[str]) -> str:
    """Class names for a one-line message: the first few, then "…"."""
    shown = ", ".join(names[:4])
    return shown + (", …" if len(names) > 4 else "")
