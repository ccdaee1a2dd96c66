"""The training loop: mini-batches, validation, events, and controls that another thread may call.

The loop is the notebook's, generalised::

    for epoch in range(epochs):
        for each mini-batch (x, y) of a fresh shuffle:
            logits, cache = forward(params, x)
            loss, dlogits = softmax_cross_entropy(logits, y)
            grads = backward(params, cache, dlogits)
            optimizer.step(params, grads)
        evaluate on the validation split

Every few batches the step is also measured (``health.py``): its activations, gradients and the size of its
update, from what the step computed anyway; the samples go out with the batch events.

Around it: a learning-rate schedule, early stopping, divergence detection, and the run's
``RunControls`` (pause, step one epoch, stop, live settings; see ``controls.py``), which another
thread may use at any time and which the loop reads between two batches. A ``ThreadChooser`` times
the first batches of each epoch to pick how many threads NumPy's BLAS uses (see ``threads.py``), and
``Batches`` makes the next batch on a second thread while this one trains (see ``batches.py``).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .augment import Augmentation
from .batches import Batches
from .config import TrainConfig
from .controls import LiveSettings, RunControls
from .data import Dataset, to_inputs
from .errors import ConfigError
from .health import HealthProbe, HealthSample, every_how_many
from .model import Model
from .nn.activations import get_activation
from .nn.metrics import accuracy, evaluate, mean_cross_entropy
from .nn.network import Params, backward, copy_params, forward, init_params, layer_sizes_of, predict_proba, softmax_cross_entropy
from .nn.optimizers import OPTIMIZER_SETTINGS, clip_grad_norm, make_optimizer
from .nn.schedules import Schedule
from .threads import ThreadChooser

# A run has diverged when a batch's loss is not finite or exceeds this many times the first batch's loss
# (or log(classes), the loss of a uniform guess, when that is larger): no healthy run climbs that far.
DIVERGENCE_FACTOR = 100.0


@dataclass
class TrainingData:
    """Network inputs (n, features) in [0, 1] with integer labels, split into train and validation."""

    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    image_shape: tuple[int, int]
    class_names: list[str]
    dataset_name: str = ""
    dataset_fingerprint: str | None = None  # Dataset.test_fingerprint, recorded in the models trained on this data

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def astype(self, dtype) -> TrainingData:
        """The same data with inputs of ``dtype`` (no copy when they already are)."""
        return dataclasses.replace(self, train_x=self.train_x.astype(dtype, copy=False), val_x=self.val_x.astype(dtype, copy=False))

    @classmethod
    def from_dataset(cls, dataset: Dataset, validation_size: int = 5000, dtype: str = "float32") -> TrainingData:
        """Hold out the last ``validation_size`` training images for validation; the test set stays untouched."""
        n = len(dataset.train_images)
        if validation_size >= n:
            raise ConfigError.about("validation_size", f"{validation_size} leaves no training images (the set has {n})")
        x = to_inputs(dataset.train_images, np.dtype(dtype).type)
        split = n - validation_size
        labels, shape = dataset.train_labels, dataset.image_shape
        return cls(x[:split], labels[:split], x[split:], labels[split:], shape, dataset.class_names, dataset.name, dataset.test_fingerprint)


@dataclass
class BatchEvent:
    epoch: int  # 1-based
    batch: int  # 1-based within the epoch
    batches: int
    step: int  # batches done since the start of the run
    loss: float
    lr: float
    samples_per_second: float
    blas_threads: int = 1  # the BLAS thread count this batch trained with (see ``threads.py``)
    health: HealthSample | None = None  # what this step showed, every few batches (see ``health.py``)

    @property
    def progress(self) -> float:
        """Epochs done so far as a fraction, e.g. 2.5 halfway through the third epoch."""
        return self.epoch - 1 + self.batch / self.batches

    @property
    def progress_before(self) -> float:
        """Epochs done before this batch: where its health sample is drawn (it measures the step's starting weights)."""
        return self.epoch - 1 + (self.batch - 1) / self.batches


@dataclass
class EpochEvent:
    epoch: int  # 1-based
    epochs: int
    train_loss: float  # mean of this epoch's batch losses (with dropout, if any)
    train_accuracy: float
    val_loss: float | None
    val_accuracy: float | None
    seconds: float  # wall time of this epoch
    lr: float


@dataclass
class TrainResult:
    params: Params
    history: list[EpochEvent] = field(default_factory=list)
    status: str = "completed"  # completed | stopped | interrupted | early_stopped | diverged
    message: str = ""
    # Epochs of this run behind the final weights: the best epoch when restored, the last completed one
    # otherwise, with a fraction for the batches of an epoch cut short by ``stop`` (0: the weights the run
    # started from). The model counts the epochs before the run too: ``Model.epochs_trained``.
    weights_epoch: float = 0
    train_seconds: float = 0.0
    samples_seen: int = 0
    blas_threads: int = 1  # the BLAS thread count chosen last (see ``threads.py``)
    batches_ahead: bool = False  # whether the way chosen last made batches ahead on a second thread

    @property
    def samples_per_second(self) -> float:
        return self.samples_seen / self.train_seconds if self.train_seconds > 0 else 0.0


class Trainer:
    """Runs ``config`` on ``data``; ``run()`` blocks, ``controls`` may be used from any thread.

    ``params``: the weights to start from (default: drawn as ``config`` says), trained for ``from_epoch``
    epochs already (their ``Model.epochs_trained``): the ``model()`` it trains counts those epochs too.
    ``blas_threads``: the BLAS thread count to use (default: the faster of one and all, measured; all but at most
    ``blas_thread_limit``)."""

    def __init__(
        self,
        config: TrainConfig,
        data: TrainingData,
        params: Params | None = None,
        on_batch: Callable[[BatchEvent], None] | None = None,
        on_epoch: Callable[[EpochEvent], None] | None = None,
        controls: RunControls | None = None,
        from_epoch: float = 0,
        blas_threads: int | None = None,
        blas_thread_limit: int | None = None,
    ):
        self.config = config.replace()  # our own copy: live changes update it, not the caller's
        self.data = data.astype(config.dtype)
        self.activation = get_activation(config.activation)
        self.rng = np.random.default_rng(config.seed)
        dtype = np.dtype(config.dtype)
        self.layer_sizes = config.layer_sizes(data.train_x.shape[1], data.num_classes)
        if params is None:
            params = init_params(self.layer_sizes, config.init, self.rng, dtype)
        elif layer_sizes_of(params) != self.layer_sizes:
            raise ConfigError(f"the given weights have layer sizes {layer_sizes_of(params)}, the config needs {self.layer_sizes}")
        self.params = [{name: array.astype(dtype) for name, array in layer.items()} for layer in params]  # our own copy
        self.optimizer = make_optimizer(config.optimizer, config.lr, config.momentum, config.beta1, config.beta2, config.weight_decay)
        self.schedule = Schedule(config.schedule, config.epochs, config.warmup_epochs, config.step_epochs, config.step_gamma)
        self.on_batch = on_batch or (lambda event: None)
        self.on_epoch = on_epoch or (lambda event: None)
        self.controls = controls or RunControls(LiveSettings.of(config))
        self.from_epoch = from_epoch
        batch_size = min(config.batch_size or len(data.train_x), len(data.train_x))
        augment_rng = self.rng.spawn(1)[0]
        augmentation = Augmentation.of(config)
        self.batches = Batches(self.data.train_x, self.data.train_y, data.image_shape, batch_size, augmentation, augment_rng)
        many_batches = len(self.batches) > 1
        self.threads = ThreadChooser(self.layer_sizes, batch_size, blas_threads, blas_thread_limit, can_make_ahead=many_batches)
        self.measure_every = every_how_many(len(self.batches))  # batches between two health samples
        self._lock = threading.Lock()  # held while the weights change, so that a snapshot sees them whole
        self._result = TrainResult(params=self.params)  # the same list: restores change it in place

    def snapshot(self) -> Params:
        """A consistent copy of the current weights, safe to use from another thread."""
        with self._lock:
            return copy_params(self.params)

    def model(self, metrics: dict | None = None) -> Model:
        """The current network as a ``Model`` (a copy of the weights, with its config, class names and dataset,
        and the epochs behind the weights: ``from_epoch`` and this run's ``weights_epoch``)."""
        data = self.data
        return Model(
            self.snapshot(),
            self.config.activation,
            list(data.class_names),
            data.image_shape,
            data.dataset_name,
            self.config.to_dict(),
            metrics or {},
            data.dataset_fingerprint,
            epochs_trained=self.from_epoch + self._result.weights_epoch,
        )

    # ---- the loop ---------------------------------------------------------------------------------

    def run(self) -> TrainResult:
        """Train for ``config.epochs`` epochs, or until stopped, diverged or early-stopped."""
        self._best = _Best()
        self._loss_limit: float | None = None  # set from the first batch's loss
        self.threads.start()
        try:
            for epoch in range(1, self.config.epochs + 1):
                self._run_epoch(epoch)
            status, message = "completed", f"completed {self.config.epochs} epoch{'s' * (self.config.epochs != 1)}"
            if self._best.params is not None and self._best.epoch != self.config.epochs:
                self._restore_best()
                message = f"restored the weights of the best epoch, {self._best.epoch}"
        except _RunEnded as ended:
            status, message = ended.status, ended.message
        finally:
            self._result.blas_threads, self._result.batches_ahead = self.threads.use.blas_threads, self.threads.use.batches_ahead
            self.threads.restore()
            self.batches.close()
        self._result.status, self._result.message = status, message
        return self._result

    def _run_epoch(self, epoch: int) -> None:
        """One pass over a fresh shuffle of the training set, then validation and the end-of-epoch checks."""
        config, data, controls = self.config, self.data, self.controls
        n, batches = len(data.train_x), len(self.batches)
        order = self.rng.permutation(n) if batches > 1 else None
        last_good = copy_params(self.params)
        clock = _EpochClock()
        loss_sum = correct = seen = 0
        self.threads.start_epoch()
        try:
            epoch_batches = self.batches.epoch(order)
            for batch in range(1, batches + 1):
                clock.paused += controls.wait_while_paused()
                if controls.end_requested == "stopped":
                    self._result.weights_epoch = epoch - 1 + (batch - 1) / batches
                    raise _RunEnded("stopped", f"stopped by the user in epoch {epoch}, batch {batch}")
                if controls.end_requested == "interrupted":
                    self._interrupted(last_good, epoch, batch)
                live = controls.take_new_settings()
                if live is not None:
                    self._apply_live_settings(live)
                    config = self.config
                self.threads.before_batch()
                use = self.threads.use  # after_batch may change it for the next batch
                self.batches.ahead = use.batches_ahead
                x, y = next(epoch_batches)
                lr = config.lr * self.schedule.factor(epoch - 1 + (batch - 0.5) / batches)  # at the middle of this step
                step = (epoch - 1) * batches + batch
                loss, predicted, health = self._step(x, y, lr, measure=(step - 1) % self.measure_every == 0)
                self.threads.after_batch()
                if self._loss_limit is None:
                    self._loss_limit = DIVERGENCE_FACTOR * max(loss, math.log(data.num_classes))
                if not loss <= self._loss_limit:  # also true for NaN
                    self._diverged(last_good, epoch, batch, lr)
                loss_sum += loss * len(y)
                correct += int((predicted == y).sum())
                seen += len(y)
                self._result.samples_seen += len(y)
                self.on_batch(BatchEvent(epoch, batch, batches, step, loss, lr, seen / clock.elapsed(), use.blas_threads, health))
            if not all(np.isfinite(array).all() for layer in self.params for array in layer.values()):
                self._diverged(last_good, epoch, batches, lr)
            val_loss, val_accuracy = self._validate()
            if val_loss is not None and not math.isfinite(val_loss):
                self._diverged(last_good, epoch, batches, lr)
        except _RunEnded:
            self._result.train_seconds += clock.elapsed()  # the partial epoch counts too
            raise
        seconds = clock.elapsed()
        self._result.train_seconds += seconds
        event = EpochEvent(epoch, config.epochs, loss_sum / seen, correct / seen, val_loss, val_accuracy, seconds, lr)
        self._result.history.append(event)
        self._result.weights_epoch = epoch
        controls.pause_if_stepping()  # before on_epoch, so that a callback sees a step's pause
        self.on_epoch(event)
        self._check_early_stopping(event)

    def _step(self, x: np.ndarray, y: np.ndarray, lr: float, measure: bool = False) -> tuple[float, np.ndarray, HealthSample | None]:
        """One gradient-descent step on the batch (x, y); returns its loss, the predicted classes and, when asked
        to ``measure``, what the step showed (``health.py``)."""
        config, health = self.config, None
        with np.errstate(over="ignore", invalid="ignore"):  # overflow shows as a non-finite loss: divergence
            logits, cache = forward(self.params, x, self.activation, config.dropout, self.rng)
            loss, dlogits = softmax_cross_entropy(logits, y)
            if math.isfinite(loss):
                grads, _ = backward(self.params, cache, dlogits, self.activation)
                probe = HealthProbe(config.activation, loss, cache, grads, self.params) if measure else None
                if config.grad_clip:
                    clip_grad_norm(grads, config.grad_clip)
                with self._lock:
                    self.optimizer.lr = lr
                    self.optimizer.step(self.params, grads)
                if probe is not None:
                    health = probe.after_step(self.params)
        return loss, logits.argmax(axis=1), health

    def _check_early_stopping(self, event: EpochEvent) -> None:
        """Remember the weights of the best validation loss; end the run after ``early_stopping`` epochs without one."""
        patience = self.config.early_stopping
        if not patience or event.val_loss is None:
            return
        if event.val_loss < self._best.val_loss:
            self._best = _Best(event.val_loss, event.epoch, copy_params(self.params))
        elif event.epoch - self._best.epoch >= patience:
            self._restore_best()
            raise _RunEnded(
                "early_stopped",
                f"validation loss has not improved for {patience} epochs; restored the weights of epoch {self._best.epoch}",
            )

    def _diverged(self, last_good: Params, epoch: int, batch: int, lr: float) -> None:
        """Roll back to the weights of the start of the epoch and end the run."""
        self._restore(last_good)
        raise _RunEnded("diverged", _divergence_message(epoch, batch, lr))

    def _interrupted(self, last_good: Params, epoch: int, batch: int) -> None:
        """Go back to the weights of the last completed epoch (the best epoch's, with early stopping) and end the run."""
        if self._best.params is not None:
            self._restore_best()
        else:
            self._restore(last_good)
            self._result.weights_epoch = epoch - 1
        kept = f"kept the weights of epoch {self._result.weights_epoch}" if self._result.weights_epoch else "no epoch was completed"
        raise _RunEnded("interrupted", f"interrupted in epoch {epoch}, batch {batch}: {kept}")

    def _restore_best(self) -> None:
        self._restore(self._best.params)
        self._result.weights_epoch = self._best.epoch

    def _restore(self, params: Params) -> None:
        with self._lock:
            self.params[:] = params

    def _validate(self) -> tuple[float | None, float | None]:
        if len(self.data.val_x) == 0:
            return None, None
        probabilities = predict_proba(self.params, self.data.val_x, self.activation)
        return mean_cross_entropy(probabilities, self.data.val_y), accuracy(probabilities, self.data.val_y)

    def _apply_live_settings(self, live: LiveSettings) -> None:
        """Train with the live settings changed during the run from this batch on: the loop reads the learning
        rate (which the schedule scales), gradient clipping and dropout from the config; the optimiser holds
        its own weight decay, and momentum or betas when it uses them; the batches their augmentation."""
        self.config = live.applied_to(self.config)
        self.batches.augmentation = Augmentation.of(live)
        uses = OPTIMIZER_SETTINGS[self.config.optimizer]  # plain SGD has no momentum to change, Adam no momentum at all
        self.optimizer.weight_decay = live.weight_decay
        if "momentum" in uses:
            self.optimizer.momentum = live.momentum
        if "beta1" in uses:
            self.optimizer.beta1, self.optimizer.beta2 = live.beta1, live.beta2


def score_on_test_set(model: Model, dataset: Dataset, result: TrainResult) -> dict:
    """Evaluate a trained ``model`` on the test set (see ``metrics.evaluate``), record the headline figures of
    the run in ``model.metrics`` (saved with the model) and return the full report."""
    test = evaluate(model.predict_images(dataset.test_images), dataset.test_labels)
    completed = float(result.weights_epoch).is_integer() and result.weights_epoch >= 1  # weights from an epoch's end
    weights_event = result.history[int(result.weights_epoch) - 1] if completed else None
    model.metrics = {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "val_accuracy": weights_event.val_accuracy if weights_event else None,
        "train_seconds": result.train_seconds,
    }
    return test


class _RunEnded(Exception):
    """Raised inside the loop to end a run early with a status and a message for the user."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@dataclass
class _Best:
    """The best validation loss so far, its epoch and a copy of its weights (for early stopping)."""

    val_loss: float = math.inf
    epoch: int | None = None
    params: Params | None = None


class _EpochClock:
    """Wall time since the epoch started, not counting pauses."""

    def __init__(self):
        self.start, self.paused = time.perf_counter(), 0.0

    def elapsed(self) -> float:
        return max(time.perf_counter() - self.start - self.paused, 1e-9)


def _divergence_message(epoch: int, batch: int, lr: float) -> str:
    return (
        f"diverged at epoch {epoch}, batch {batch} (the loss exploded or the weights stopped being finite at learning rate "
        f"{lr:.3g}): lower the learning rate, or turn on gradient clipping. "
        f"The weights were restored to the start of epoch {epoch}."
    )
