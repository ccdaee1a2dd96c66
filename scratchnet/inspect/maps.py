"""Representation maps: where a fixed sample of test images lies in each layer of the network, drawn in 2-D,
frame after frame while a run learns.

The curves say how well a network does; a map shows what each layer has made of the images. A fixed,
class-balanced sample of test images (``balanced_sample``) goes through the network by the same ``forward`` that
trains. Each layer's outputs, for the pixels, every hidden layer and the output's class probabilities, are
projected on their two principal axes (``principal_plane``, PCA), and each frame is turned to fit the frame
before by an orthogonal Procrustes rotation (``aligned``): points move smoothly, and a jump means that the network
changed, not the projection (Li, Zhao and Scheidegger, "Visualizing Neural Networks with the Grand Tour",
Distill 2020). The pixels never change: their map is made once.

How well a layer keeps the classes apart is its mean silhouette (``silhouettes``; Rousseeuw 1987), measured on
the layer's full outputs, not on its 2-D map (the map is a shadow: classes apart in 128 dimensions may overlap
in two), over ``SILHOUETTE_SIZE`` of the sample's images (class-balanced: the cost grows as the square of their
number). A class has *separated* in a layer at the first frame from which its own mean silhouette stays at or
above ``SEPARATED`` in every later frame (``RunMaps.separation_epochs``): 0.25, below which Kaufman and
Rousseeuw (1990) find "no substantial structure".

    recorder = MapRecorder.of_run(dataset, hidden_layers=2, activation=relu, epochs=8, dtype="float32", on_frame=show)
    recorder.start(trainer.snapshot)     # the frame of the weights before training; then, as trainer callbacks,
    recorder.on_batch, recorder.on_epoch # a frame after every epoch (and a few within each, in a short run)
    recorder.frame(params, epoch)        # one frame: points (layers, n, 2), scores, predictions

``sample_row``/``sample_from_row`` and ``frame_row``/``frame_from_row`` are how the run store writes the maps and
reads them back, as a stranger's input (every blob checked: shape, finiteness, range).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .. import stored_values
from ..data import Dataset, to_inputs
from ..nn.activations import Activation
from ..nn.network import Params, forward, softmax

SAMPLE_SIZE = 2000  # test images in a map
SAMPLE_SEED = 0  # the same images for every run on the same test set, so that their maps compare
SILHOUETTE_SIZE = 500  # of them, class-balanced, the silhouettes are measured on: their cost grows as its square
SEPARATED = 0.25  # a class's mean silhouette at or above which it counts as kept apart from the others
FRAMES_WANTED = 8  # a short run makes a few frames within each epoch, to have at least about this many
MAX_FRAMES_PER_EPOCH = 4
MAX_EPOCH_FRAMES = 200  # a longer run makes a frame every few epochs, to have at most about this many
EXACT_UNITS = 256  # a layer this wide or less is projected by an exact eigendecomposition; a wider one by
SUBSPACE, POWER_ROUNDS = 12, 6  # block power iteration in a subspace of this many directions, this many rounds
MAX_SAMPLE = 10_000  # the largest sample the store reads back
MAX_LAYERS = 256  # the most layers the store reads back (a deeper network's maps are not recorded)
MAX_NAME = 200  # characters of a stored layer or class name


def balanced_sample(labels: np.ndarray, size: int = SAMPLE_SIZE, seed: int = SAMPLE_SEED) -> np.ndarray:
    """Indices (size,) of ``labels`` with every class as equally often as it can be: the images of each class
    in a seeded random order, taken one per class in turn until ``size`` are taken (a class with too few
    images gives all it has; with more classes than ``size``, one image each of ``size`` random classes).
    Sorted, so that a sample reads in test-set order; all of them when there are no more than ``size``."""
    labels = np.asarray(labels)
    if len(labels) <= size:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    by_class = order[np.argsort(labels[order], kind="stable")]  # each class's images together, shuffled within
    classes, starts, counts = np.unique(labels[by_class], return_index=True, return_counts=True)
    rank = np.arange(len(labels)) - np.repeat(starts, counts)  # each image's turn within its class: 0, 1, 2, …
    class_turn = rng.permutation(len(classes))[np.searchsorted(classes, labels[by_class])]  # which class goes first
    chosen = np.lexsort((class_turn, rank))[:size]  # first every class's first image, then every second, …
    return np.sort(by_class[chosen])


def layer_outputs(params: Params, x: np.ndarray, activation: Activation) -> list[np.ndarray]:
    """What each layer makes of the batch ``x`` (n, inputs), read from ``forward``'s cache: the pixels, each hidden
    layer's activations and the output's class probabilities (softmax of the logits)."""
    logits, cache = forward(params, x, activation)
    return [x, *cache.activations, softmax(logits)]


def layer_names(hidden_layers: int) -> list[str]:
    """ "pixels", "hidden 1", …, "output"."""
    return ["pixels", *(f"hidden {k}" for k in range(1, hidden_layers + 1)), "output"]


def principal_plane(outputs: np.ndarray) -> np.ndarray:
    """The rows of ``outputs`` (n, units) on their two principal axes, (n, 2) float64: the plane through their
    mean that keeps the most of their spread. (A layer of one unit has no second axis: its second coordinate
    is 0.)

    Up to ``EXACT_UNITS`` units, the axes are the top eigenvectors of the covariance (units, units). A wider layer
    (the 784 pixels) has them found by a few rounds of block power iteration (Halko, Martinsson and Tropp 2011):
    ``SUBSPACE`` directions multiplied by ``xᵀx`` again and again turn towards the axes of most spread, at a
    small part of a full eigendecomposition's cost."""
    x = outputs - outputs.mean(axis=0)
    if x.shape[1] <= EXACT_UNITS:
        _, axes = np.linalg.eigh((x.T @ x).astype(np.float64))
        plane = x @ axes[:, ::-1][:, :2]
    else:
        basis = np.random.default_rng(0).standard_normal((x.shape[1], SUBSPACE)).astype(x.dtype)
        for _ in range(POWER_ROUNDS):
            basis, _ = np.linalg.qr(x.T @ (x @ basis))
        reduced = (x @ basis).astype(np.float64)  # the rows in that subspace: its SVD gives the top axes
        u, singular, _ = np.linalg.svd(reduced, full_matrices=False)
        plane = u[:, :2] * singular[:2]
    return np.pad(plane, ((0, 0), (0, 2 - plane.shape[1])))


def aligned(points: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """``points`` (n, 2) turned (rotated, and mirrored when that fits better) about the origin to lie as close as
    can be to ``previous`` (n, 2), the same images' points in the frame before: orthogonal Procrustes. With
    ``U S Vᵀ`` the singular value decomposition of ``pointsᵀ previous``, the best orthogonal matrix is ``U Vᵀ``.
    Distances between points are kept: only the view turns."""
    u, _, vt = np.linalg.svd(points.T @ previous)
    return points @ (u @ vt)


def silhouettes(outputs: np.ndarray, labels: np.ndarray, chunk: int = 1000) -> np.ndarray:
    """Each row's silhouette (n,), from -1 to 1: ``(b - a) / max(a, b)``, with ``a`` its mean Euclidean distance
    to the other rows of its class and ``b`` its mean distance to the rows of the nearest other class. Near 1:
    well inside its class, far from the others; near 0: between two; below 0: nearer another class. A row alone
    in its class, or in a layer where all rows coincide, scores 0.

    Vectorised over ``chunk`` rows at a time: squared distances as ``|x|² + |y|² - 2 x·y`` (one matrix product),
    summed per class with ``np.add.reduceat`` over the rows sorted by class."""
    order = np.argsort(labels, kind="stable")
    x = outputs[order].astype(np.float32)
    x -= x.mean(axis=0)  # distances do not change; the products lose less to rounding
    y = np.asarray(labels)[order]
    n = len(y)
    classes, starts, counts = np.unique(y, return_index=True, return_counts=True)
    own = np.searchsorted(classes, y)  # each row's class, as a column of the sums
    squares = (x * x).sum(axis=1)
    sums = np.empty((n, len(classes)))
    for first in range(0, n, chunk):
        rows = slice(first, min(first + chunk, n))
        distances = x[rows] @ x.T
        distances *= -2
        distances += squares[rows, None]
        distances += squares[None, :]
        np.maximum(distances, 0, out=distances)
        np.sqrt(distances, out=distances)
        distances[np.arange(rows.stop - first), np.arange(first, rows.stop)] = 0  # a row's distance to itself
        sums[rows] = np.add.reduceat(distances, starts, axis=1)
    peers = counts[own] - 1
    a = sums[np.arange(n), own] / np.maximum(peers, 1)
    means = sums / counts
    means[np.arange(n), own] = np.inf
    b = means.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = (b - a) / np.maximum(a, b)
    s[(peers == 0) | ~np.isfinite(s)] = 0.0
    unsorted = np.empty(n)
    unsorted[order] = s
    return unsorted


def class_means(values: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """The mean of ``values`` (n,) over each class's rows (num_classes,); NaN for a class with none."""
    totals = np.bincount(labels, weights=values, minlength=num_classes)
    counts = np.bincount(labels, minlength=num_classes)
    with np.errstate(invalid="ignore", divide="ignore"):
        return totals / counts


@dataclass(eq=False)
class MapSample:
    """The test images a run's maps show: their indices in the test set (n,) and classes (n,), the names of the
    classes and of the layers, and which test set they are of (its ``Dataset.test_fingerprint``)."""

    indices: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    layer_names: list[str]
    fingerprint: str | None = None

    @classmethod
    def of(cls, dataset: Dataset, hidden_layers: int, size: int = SAMPLE_SIZE) -> MapSample:
        """``size`` test images of ``dataset``, class-balanced (``balanced_sample``), for a network with this many
        hidden layers."""
        indices = balanced_sample(dataset.test_labels, size)
        labels = dataset.test_labels[indices].astype(np.int64)
        return cls(indices, labels, list(dataset.class_names), layer_names(hidden_layers), dataset.test_fingerprint)

    def __len__(self) -> int:
        return len(self.indices)


@dataclass(eq=False)
class MapFrame:
    """The maps of every layer for one set of weights: each layer's points (layers, n, 2), its mean silhouette
    (layers,) and each class's (layers, classes), and the class the network predicts for each image (n,)."""

    epoch: float  # epochs of training behind the weights
    points: np.ndarray
    scores: np.ndarray
    class_scores: np.ndarray
    predictions: np.ndarray


@dataclass(eq=False)
class RunMaps:
    """A run's maps: its sample and its frames in the order they were made; ``run_id`` the run's in the store
    (None: not recorded); ``unreadable`` how many stored frames could not be read back."""

    sample: MapSample
    frames: list[MapFrame] = field(default_factory=list)
    run_id: int | None = None
    unreadable: int = 0

    def scores(self) -> np.ndarray:
        """(frames, layers): each layer's mean silhouette in each frame."""
        return np.array([frame.scores for frame in self.frames]).reshape(len(self.frames), len(self.sample.layer_names))

    def epochs(self) -> np.ndarray:
        return np.array([frame.epoch for frame in self.frames], float)

    def separation_epochs(self) -> np.ndarray:
        """(layers, classes): for each layer and class, the epoch of the first frame from which the class's mean
        silhouette stays at or above ``SEPARATED`` in every later frame; NaN where it is below in the last frame."""
        layers, classes = len(self.sample.layer_names), len(self.sample.class_names)
        if not self.frames:
            return np.full((layers, classes), np.nan)
        above = np.array([frame.class_scores for frame in self.frames]) >= SEPARATED  # (frames, layers, classes)
        stays = np.flip(np.logical_and.accumulate(np.flip(above, axis=0), axis=0), axis=0)  # above from here on
        first = stays.argmax(axis=0)
        return np.where(stays[-1], self.epochs()[first], np.nan)


class MapRecorder:
    """Makes the frames of a run's maps as it trains, and hands each to ``on_frame(sample, frame)``.

    ``start(weights)`` makes the first frame, of the weights before training (``weights()`` returns a copy, as
    ``Trainer.snapshot`` does), ``stop()`` ends the recording; ``on_batch`` and ``on_epoch`` are trainer callbacks:
    a frame after every epoch (every ``epoch_stride``-th in a run of more than ``MAX_EPOCH_FRAMES`` epochs, and the
    last), and in a run of fewer than ``FRAMES_WANTED`` epochs a few within each too (``frames_per_epoch``). Frames are labelled with the
    epochs behind their weights, counting the ``from_epoch`` epochs the run started from. ``inputs`` (n, pixels)
    are the sample's images as the network reads them."""

    def __init__(
        self,
        sample: MapSample,
        inputs: np.ndarray,
        activation: Activation,
        epochs: int,
        on_frame: Callable[[MapSample, MapFrame], None],
        from_epoch: float = 0,
    ):
        self.sample, self.inputs, self.activation = sample, inputs, activation
        self.on_frame, self.from_epoch = on_frame, from_epoch
        self.scored = balanced_sample(sample.labels, SILHOUETTE_SIZE)  # the images the silhouettes are measured on
        self.frames_per_epoch = min(MAX_FRAMES_PER_EPOCH, max(1, math.ceil(FRAMES_WANTED / max(epochs, 1))))
        self.epoch_stride = math.ceil(epochs / MAX_EPOCH_FRAMES) if epochs > MAX_EPOCH_FRAMES else 1
        self._weights: Callable[[], Params] | None = None
        self._last: MapFrame | None = None

    @classmethod
    def of_run(
        cls, dataset: Dataset, hidden_layers: int, activation: Activation, epochs: int, dtype: str, on_frame, from_epoch: float = 0
    ) -> MapRecorder | None:
        """The recorder of a run on ``dataset``, its network inputs of ``dtype``; None for a network deeper than the
        store keeps maps of, or a dataset without test images."""
        sample = MapSample.of(dataset, hidden_layers)
        if not len(sample) or len(sample.layer_names) > MAX_LAYERS:
            return None
        inputs = to_inputs(dataset.test_images[sample.indices], np.dtype(dtype).type)
        return cls(sample, inputs, activation, epochs, on_frame, from_epoch)

    def start(self, weights: Callable[[], Params]) -> None:
        self._weights = weights
        self._record(self.from_epoch)

    def stop(self) -> None:
        """Let go of the run's weights (the trainer they come from holds this recorder's callbacks: a cycle)."""
        self._weights = None

    def on_batch(self, event) -> None:
        """Within an epoch (a ``BatchEvent``): a frame at each ``frames_per_epoch``-th of it."""
        if event.batch < event.batches and event.batch in self._batches_with_frames(event.batches):
            self._record(self.from_epoch + event.progress)

    def on_epoch(self, event) -> None:
        """At the end of an epoch (an ``EpochEvent``)."""
        if event.epoch % self.epoch_stride == 0 or event.epoch == event.epochs:
            self._record(self.from_epoch + event.epoch)

    def frame(self, params: Params, epoch: float, previous: MapFrame | None = None) -> MapFrame | None:
        """The frame of the weights ``params``, each layer's map turned to fit its map in the ``previous`` frame
        (whose pixel map it reuses: the pixels do not change). None when the network's outputs are not all
        finite (a run diverging), or a projection fails."""
        with np.errstate(all="ignore"):  # a diverging network overflows: its outputs are checked just below
            outputs = layer_outputs(params, self.inputs, self.activation)
        if not all(np.isfinite(layer).all() for layer in outputs):
            return None
        labels, num_classes = self.sample.labels[self.scored], len(self.sample.class_names)
        points, scores, class_scores = [], [], []
        try:
            for k, layer in enumerate(outputs):
                if k == 0 and previous is not None:
                    points.append(previous.points[0])
                    scores.append(previous.scores[0])
                    class_scores.append(previous.class_scores[0])
                    continue
                plane = principal_plane(layer)
                points.append(plane if previous is None else aligned(plane, previous.points[k]))
                s = silhouettes(layer[self.scored], labels)
                scores.append(s.mean())
                class_scores.append(class_means(s, labels, num_classes))
        except np.linalg.LinAlgError:
            return None
        as_arrays = (np.array(values, np.float32) for values in (points, scores, class_scores))
        return MapFrame(epoch, *as_arrays, predictions=outputs[-1].argmax(axis=1))

    def _batches_with_frames(self, batches: int) -> set[int]:
        return {round(k * batches / self.frames_per_epoch) for k in range(1, self.frames_per_epoch)}

    def _record(self, epoch: float) -> None:
        if self._weights is None:
            return
        frame = self.frame(self._weights(), epoch, self._last)
        if frame is not None:
            self._last = frame
            self.on_frame(self.sample, frame)


# ---- how the run store keeps them ----------------------------------------------------------------------------


def sample_row(sample: MapSample) -> tuple:
    """The maps table's columns for ``sample``: indices (uint32), labels (uint16), layer and class names (JSON),
    fingerprint."""
    return (
        sample.indices.astype("<u4").tobytes(),
        sample.labels.astype("<u2").tobytes(),
        json.dumps(sample.layer_names),
        json.dumps(sample.class_names),
        sample.fingerprint,
    )


def sample_from_row(indices: object, labels: object, layers: object, classes: object, fingerprint: object) -> MapSample:
    """A sample read back from the maps table; ``stored_values.Unreadable`` when it is not what ``sample_row``
    writes (blobs of another length, classes out of range, names that are not a list of texts, …)."""
    layer_names, class_names = _names(layers, low=2, high=MAX_LAYERS), _names(classes, low=1, high=MAX_SAMPLE)
    if not isinstance(indices, bytes) or not isinstance(labels, bytes) or len(indices) != 2 * len(labels):
        raise stored_values.Unreadable("sample")
    index_array = np.frombuffer(indices, "<u4").astype(np.int64)
    label_array = np.frombuffer(labels, "<u2").astype(np.int64)
    if not 0 < len(index_array) <= MAX_SAMPLE or int(label_array.max()) >= len(class_names):
        raise stored_values.Unreadable("sample")
    return MapSample(index_array, label_array, class_names, layer_names, stored_values.optional(stored_values.text)(fingerprint))


def frame_sizes(sample: MapSample) -> tuple[int, int, int, int]:
    """The bytes of a frame's points, scales, scores and predictions for ``sample``: what ``frame_row`` writes."""
    layers, n = len(sample.layer_names), len(sample)
    return 2 * layers * n * 2, 4 * layers, 4 * layers * (1 + len(sample.class_names)), 2 * n


def frame_row(frame: MapFrame) -> tuple:
    """The map_frames table's columns for ``frame``: epoch, points (float16, each layer divided by its largest
    coordinate, so that no value overflows), those scales (float32), the scores (float32, each layer's mean
    silhouette then its classes') and the predictions (uint16)."""
    scales = np.abs(frame.points).max(axis=(1, 2))
    scales[scales == 0] = 1.0
    points = (frame.points / scales[:, None, None]).astype("<f2")
    scores = np.concatenate([frame.scores[:, None], frame.class_scores], axis=1).astype("<f4")
    return frame.epoch, points.tobytes(), scales.astype("<f4").tobytes(), scores.tobytes(), frame.predictions.astype("<u2").tobytes()


def frame_from_row(sample: MapSample, epoch: object, points: object, scales: object, scores: object, predictions: object) -> MapFrame:
    """A frame read back from the map_frames table; ``stored_values.Unreadable`` when it is not what ``frame_row``
    writes for ``sample``: blobs of other sizes, points beyond their scale, NaN or infinities, scores outside
    -1…1, predictions of no class."""
    blobs = (points, scales, scores, predictions)
    if not all(isinstance(blob, bytes) for blob in blobs) or tuple(map(len, blobs)) != frame_sizes(sample):
        raise stored_values.Unreadable("frame")
    layers, classes = len(sample.layer_names), len(sample.class_names)
    unit_points = np.frombuffer(points, "<f2").reshape(layers, len(sample), 2).astype(np.float32)
    scale_array = np.frombuffer(scales, "<f4")
    score_array = np.frombuffer(scores, "<f4").reshape(layers, 1 + classes)
    prediction_array = np.frombuffer(predictions, "<u2").astype(np.int64)
    measured = score_array[np.isfinite(score_array)]  # a class absent from the sample has no score: NaN
    if not (
        np.isfinite(unit_points).all()
        and np.abs(unit_points).max() <= 1.0
        and np.isfinite(scale_array).all()
        and ((scale_array > 0) & (scale_array <= 1e30)).all()
        and np.isfinite(score_array[:, 0]).all()
        and (np.abs(measured) <= 1.0 + 1e-6).all()
        and prediction_array.max() < classes
    ):
        raise stored_values.Unreadable("frame")
    epoch = stored_values.real(epoch, 0.0, 1e9)
    return MapFrame(epoch, unit_points * scale_array[:, None, None], score_array[:, 0].copy(), score_array[:, 1:].copy(), prediction_array)


def _names(value: object, low: int, high: int) -> list[str]:
    """A JSON list of ``low`` to ``high`` texts, each cut to ``MAX_NAME`` characters."""
    names = stored_values.list_of(stored_values.text)(stored_values.json_value(value))
    if not low <= len(names) <= high:
        raise stored_values.Unreadable(value)
    return [name[:MAX_NAME] for name in names]
