"""The app's state without widgets: what the window shows, and the commands that change it.

A ``Session`` owns what the window shows and what several panels share:

- the dataset, and the current model (``open_model`` makes a file, a recorded run or a taught model current);
- the run state machine, the controls of the run in progress (``RunControls``: pause, step, stop, live
  settings) and the BLAS thread setting of its runs;
- the current input (``input``: the pad's drawing or an opened test image, as the network reads it);
- the hidden unit the learner opened (``selected_unit``), and the edits made to a copy of the trained weights
  (``edits``; ``trained_model`` keeps the weights they were made to, which never change), with their effect on
  the whole test set (``edit_effect``, scored at once: its answers are the test-set answers too);
- the current model's answers on the test set (``test_predictions``, computed off the UI thread), and its hidden
  units explained (``units``: each unit's study, and the ranking of a layer's units, off the UI thread);
- the recorded runs as the app shows them (``runs``: the overlaid ones, delete with undo, export, runs that
  other processes record);
- the representation maps the Maps tab shows (``maps``): the run in progress's, frame after frame, or a recorded
  run's, replayed (``show_run_maps``);
- the health of the run in progress and its hints (``health``), and the comparison of one change at a time
  (``comparison``);
- the learner's handwriting collection, and the fine-tune that teaches it;
- the confidence threshold below which the app's answers say "not sure" (``confidence_threshold``);
- the messages for the user (``say`` for the status bar, ``warn`` for the notice bar).

It loads data with a ``DataLoader`` and trains with a ``TrainingWorker`` on a ``QThread``, which records every
run in the run store ``store`` (``scratchnet.runs``; None when it cannot be opened: runs then go unrecorded).
The window and its panels observe its signals and call its commands, never each other; tests drive it without
a window.

The run state machine::

    idle ──start──▶ running ◀──pause/resume──▶ paused
                       │                          │
                       └──────────┬───────────────┘
                                  ▼ the run ends
                 finished | stopped | diverged | failed ──start──▶ running

New or opened weights bring it back to idle.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QSettings, QThread, QTimer, Signal

from scratchnet.config import TrainConfig
from scratchnet.controls import LiveSettings, RunControls
from scratchnet.data import Dataset, to_inputs
from scratchnet.errors import ConfigError, DataError, ModelFileError, RunStoreError
from scratchnet.finetune import FinetuneSettings, check_examples
from scratchnet.inspect.edit_effects import EditEffect, EditEvaluator
from scratchnet.inspect.edits import GLOBAL_EDITS, Edit, SwitchOff, UnitRef, apply_edits, describe_edits
from scratchnet.inspect.maps import MapFrame, MapSample, RunMaps
from scratchnet.memory import MEMORY_MARGIN, available_bytes, estimate_training_bytes, fits_in_memory, format_bytes, return_freed_memory
from scratchnet.model import Model, save_model
from scratchnet.model_file import load_model
from scratchnet.nn.activations import get_activation
from scratchnet.nn.metrics import evaluate
from scratchnet.nn.network import copy_params, init_params
from scratchnet.runs import DatasetIdentity, RunOutcome, RunStore
from scratchnet.trainer import BatchEvent, EpochEvent

from .blas_threads import BlasThreadSetting
from .data_loader import DataLoader
from .messages import epochs_text, sentence
from .predictor import TestSetPredictions
from .run_health import RunHealth
from .runs_view import RunsView
from .step_comparison import StepsComparison
from .teaching import FinetuneJob, Handwriting, Taught
from .unit_studies import UnitStudies
from .worker import BatchChunk, TrainingJob, TrainingWorker

DEFAULT_THRESHOLD = 0.9  # the confidence below which an answer says "not sure"; see set_confidence_threshold
THRESHOLD_KEY = "doubt/threshold"
DIFFERENT_DATASET = "Its scores on this data may mean little."
RUN_IN_PROGRESS = "Stop the run in progress first: its weights are the current model until it ends."
EDITED = "The network is edited (on a copy): save it as a new model or reset the edits before training it."
EDIT_DURING_RUN = "The network cannot be edited while it trains: stop the run first (edits are made to a copy of trained weights)."


class RunState(str, Enum):
    """Where the session is in the run state machine (a ``str``: ``state == "running"`` holds)."""

    IDLE = "idle"  # no run since these weights were made or opened
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # the last run trained all its epochs, or stopped early on the validation loss
    STOPPED = "stopped"
    DIVERGED = "diverged"
    FAILED = "failed"

    @property
    def active(self) -> bool:
        """A run is under way (running or paused)."""
        return self in (RunState.RUNNING, RunState.PAUSED)


# How each ``TrainResult.status`` ends the run.
ENDINGS = {
    "completed": RunState.FINISHED,
    "early_stopped": RunState.FINISHED,
    "stopped": RunState.STOPPED,
    "interrupted": RunState.STOPPED,
    "diverged": RunState.DIVERGED,
}


@dataclass(frozen=True)
class NetworkInput:
    """What the network reads now: the pad's drawing, or a test image opened to be read and drawn over."""

    pixels: np.ndarray  # (H, W) in [0, 1]: the network's input, as it reads it
    origin: str  # what it is, for a caption: "your drawing", "test image #12"
    label: int | None = None  # its true class, when known
    image: np.ndarray | None = None  # a test image (H, W) uint8 to put on the pad; None for the pad's own drawing


@dataclass
class RunProgress:
    """How far a run has come: its length in epochs, its training time so far (pauses excluded) and its
    latest batch (None before the first), whether it is still under way, and the BLAS thread setting it trains
    with (None: a fine-tune, which measures its own)."""

    epochs: int
    seconds: float
    last_batch: BatchEvent | None
    active: bool
    blas_thread_setting: BlasThreadSetting | None = None


@dataclass
class _Run:
    """The run in progress: its worker and thread, its controls and settings, and its clock."""

    worker: TrainingWorker
    thread: QThread
    controls: RunControls
    config: TrainConfig
    label: str
    blas_thread_setting: BlasThreadSetting | None
    started: float = field(default_factory=time.monotonic)
    paused_seconds: float = 0.0
    paused_since: float | None = None
    last_batch: BatchEvent | None = None

    def set_paused(self, paused: bool) -> None:
        """Start or stop the clock of the time spent paused."""
        now = time.monotonic()
        if paused and self.paused_since is None:
            self.paused_since = now
        elif not paused and self.paused_since is not None:
            self.paused_seconds += now - self.paused_since
            self.paused_since = None

    def progress(self, active: bool) -> RunProgress:
        now = time.monotonic()
        paused = self.paused_seconds + (now - self.paused_since if self.paused_since is not None else 0.0)
        return RunProgress(self.config.epochs, now - self.started - paused, self.last_batch, active, self.blas_thread_setting)


class Session(QObject):
    """The dataset, the current model, the run, the current input, the test-set answers and the recorded runs;
    see the module docstring.

    ``confirm_low_memory(needed, available)`` is asked (in bytes) before a run that may not fit in memory;
    True starts it anyway. Without it such a run is refused with a notice. ``settings`` remembers what the
    app shows between starts (the overlaid runs); None remembers nothing."""

    dataset_changed = Signal(object)  # Dataset
    model_changed = Signal(object)  # Model: after every epoch of a run (a snapshot), at its end, when made or opened
    state_changed = Signal(object)  # RunState
    run_started = Signal(str, float, int)  # label, the epochs_trained it starts from, its epochs
    batches = Signal(object)  # BatchChunk
    epoch_done = Signal(object)  # EpochEvent
    run_finished = Signal(object)  # RunOutcome
    run_failed = Signal(str)  # what went wrong
    started_over = Signal()  # New: the runs of this session are off the plots; fresh weights follow
    data_status = Signal(str)  # what the data loader is doing
    data_failed = Signal(str)  # why there is no data
    data_cancelled = Signal()  # the user cancelled the download
    notice = Signal(str, str)  # plain text, level: info | warning | error
    status = Signal(str, int)  # a passing message, and for how many ms (0: until the next one)
    taught = Signal(object)  # Taught: a fine-tune on the learner's handwriting ended; keep_taught or discard_taught
    input_changed = Signal(object)  # NetworkInput | None: the current input
    settings_proposed = Signal(object)  # TrainConfig: settings to fill the settings panel with for the next run
    test_images_requested = Signal(object, object)  # true class | None, predicted class | None: show these test images
    test_image_opened = Signal(int)  # a test image, by its index, is the current input, to be read and drawn over
    unit_selected = Signal(object)  # UnitRef | None: the hidden unit the views that explain one show
    unit_opened = Signal(object)  # UnitRef: a unit the learner clicked, to be shown in the unit view
    edits_changed = Signal(object)  # tuple[Edit, ...]: the edits made to the trained weights (empty: none)
    confidence_threshold_changed = Signal(float)  # the new threshold, 0 to 1
    maps_changed = Signal(object)  # RunMaps | None: the maps to show (the run's, with one frame more; or a recorded run's)
    maps_opened = Signal(int)  # a recorded run's maps, by its id, are the ones shown (show_run_maps)
    edit_effect_changed = Signal(object)  # EditEffect | None: the edits' effect on the test set (None: no edits, or no data)

    def __init__(
        self,
        confirm_low_memory: Callable[[int, int | None], bool] | None = None,
        settings: QSettings | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self.model: Model | None = None
        self.model_run_id: int | None = None  # the recorded run whose weights are the current model (None: none is)
        self.state = RunState.IDLE
        self.blas_thread_setting = BlasThreadSetting()  # of the next run; see set_blas_threads
        self._confirm_low_memory = confirm_low_memory or self._refuse_low_memory
        self._run: _Run | None = None
        self._last_progress: RunProgress | None = None
        self.loader = DataLoader(self)
        self.loader.status.connect(self.data_status)
        self.loader.loaded.connect(self.set_dataset)
        self.loader.failed.connect(self.data_failed)
        self.loader.cancelled.connect(self._data_cancelled)
        self.store = self._open_run_store()
        self.handwriting = Handwriting(parent=self)
        self.handwriting.failed.connect(lambda text: self.warn(text, "error"))
        self.teaching: Taught | None = None  # the last fine-tune, until it is kept or discarded
        self.input: NetworkInput | None = None
        self.selected_unit: UnitRef | None = None
        self.edits: tuple[Edit, ...] = ()
        self.trained_model: Model | None = None  # while there are edits: the weights they were made to
        self.maps: RunMaps | None = None  # the representation maps shown: the last run's, or a recorded run's
        self.edit_effect: EditEffect | None = None  # while there are edits (and data): what they do to the test set
        self._evaluator: EditEvaluator | None = None  # the trained weights' layers over the test set, kept while editing
        self.test_predictions = TestSetPredictions(self)
        self.model_changed.connect(self.test_predictions.set_model)
        self.dataset_changed.connect(self.test_predictions.set_dataset)
        self.units = UnitStudies(self)  # the current model's units explained, and its layers' rankings
        self.model_changed.connect(self.units.set_model)
        self.dataset_changed.connect(self.units.set_dataset)
        self.runs = RunsView(self.store, settings, self)
        for ended_or_begun in (self.run_started, self.run_finished, self.run_failed):  # the store holds one run more, or its end
            ended_or_begun.connect(lambda *_: self.runs.refresh())
        self.started_over.connect(lambda: self.runs.set_overlaid([]))
        self._settings = settings
        self.confidence_threshold = remembered_threshold(settings)
        self.started_over.connect(lambda: self._show_maps(None))
        QTimer.singleShot(0, self, self.runs.start)  # once the window listens
        self.health = RunHealth(self)
        self.comparison = StepsComparison(self)

    # ---- messages -----------------------------------------------------------------------------------------

    def say(self, text: str, milliseconds: int = 5000) -> None:
        """Show ``text`` in the status bar for a while (0: until the next message)."""
        self.status.emit(text, milliseconds)

    def warn(self, text: str, level: str = "warning") -> None:
        """Show ``text`` (plain text) in the notice bar, which stays until dismissed: level info, warning or error."""
        self.notice.emit(text, level)

    # ---- data ---------------------------------------------------------------------------------------

    def load_data(self, folder: str | Path | None = None) -> None:
        """Find and load the dataset in the background (``folder`` first; see ``scratchnet.data.resolve_data_dir``):
        ``dataset_changed``, ``data_failed`` or ``data_cancelled`` follows."""
        self.loader.start(folder)

    def set_dataset(self, dataset: Dataset) -> None:
        """Use ``dataset``. A current model that cannot read it is dropped (with a notice): the observer of
        ``dataset_changed`` sees ``model`` None and may ask for fresh weights."""
        warning = None
        if self.model is not None:
            try:
                self.model.predict_test_set(dataset)  # refuses a model for other images or classes, or that overflows on them
            except ModelFileError as error:
                warning = f"The current model does not fit this dataset ({error}); it was replaced by fresh weights."
                self.set_model(None)
        self.dataset = dataset
        self._evaluator = None  # its values are the other test set's
        if self.input is not None and self.input.pixels.shape != tuple(dataset.image_shape):
            self.set_input(None)  # an input of the other dataset's size: no model of this one could read it
        height, width = dataset.image_shape
        self.say(
            f"{dataset.name}: {len(dataset.train_images):,} training and {len(dataset.test_images):,} test images "
            f"of {height}×{width} from {dataset.folder}",
            10000,
        )
        self.dataset_changed.emit(dataset)
        if self.edits:
            self._show_edits(self.edits, self.trained_model)  # their effect on these test images
        mismatch = self.dataset_mismatch()
        if warning or mismatch:
            self.warn(warning or f"{sentence(mismatch)} {DIFFERENT_DATASET}", "warning")

    def _data_cancelled(self) -> None:
        self.warn(
            "The download was cancelled. ScratchNet needs MNIST to train: use File ▸ Choose data folder… "
            "if you have the files, or restart to download them.",
            "warning",
        )
        self.say("Download cancelled: no data to train on", 0)
        self.data_cancelled.emit()

    def dataset_mismatch(self) -> str | None:
        """Why the dataset seems not to be the one the current model learnt from (see ``Model.dataset_mismatch``)."""
        if self.model is None or self.dataset is None:
            return None
        return self.model.dataset_mismatch(self.dataset)

    # ---- the model ------------------------------------------------------------------------------------

    def set_model(self, model: Model | None) -> None:
        """Make ``model`` the current network (a run's snapshot after each epoch, or its final weights; None: none).
        Edits made to the weights before are dropped: they were made to other weights."""
        self._evaluator = None
        if self.edits:
            self.edits, self.trained_model, self.edit_effect = (), None, None
            self.edits_changed.emit(())
            self.edit_effect_changed.emit(None)
        self._show_model(model)

    def _show_model(self, model: Model | None) -> None:
        self.model = model
        if self.selected_unit is not None and (model is None or not self.selected_unit.exists_in(model.params)):
            self.select_unit(None)
        self.model_changed.emit(model)

    def reset_weights(self, config: TrainConfig) -> None:
        """Replace the weights by fresh random ones drawn as ``config`` says (architecture, initialisation, seed)."""
        if self.state.active or self.dataset is None:
            return
        dataset = self.dataset
        sizes = config.layer_sizes(dataset.num_features, dataset.num_classes)
        params = init_params(sizes, config.init, np.random.default_rng(config.seed), np.dtype(config.dtype))
        names, shape = list(dataset.class_names), dataset.image_shape
        self._use_model(Model(params, config.activation, names, shape, dataset.name, config.to_dict(), epochs_trained=0))
        self.say("Fresh weights: the next run starts from scratch.")

    def new(self, config: TrainConfig) -> None:
        """Start over: clear the plots of this session's runs and draw fresh weights from ``config``."""
        if self.state.active:
            return
        self.started_over.emit()
        self.reset_weights(config)

    def open_model(self, source: str | os.PathLike | int | Model, propose_settings: bool = True) -> Model | None:
        """Make a model the current network: a model file, the weights of a recorded run (its id) or a model in
        hand (a taught one). It must fit the dataset's images and classes; the run figures start afresh and, with
        ``propose_settings``, the settings it was trained with are proposed for the next run (``settings_proposed``).
        None, with a notice saying why, when it cannot be used, or while a run is under way."""
        if self.state.active:
            self.warn(RUN_IN_PROGRESS)
            return None
        try:
            model, name = self._model_from(source)
            if self.dataset is not None:
                model.predict_test_set(self.dataset)  # refuses a model for other images or classes, or that overflows on them
        except ModelFileError as error:
            self.warn(f"Could not open the model. {error}", "error")
            return None
        self._use_model(model, source if isinstance(source, int) else None)
        if propose_settings:
            self._propose_settings_of(model)
        elif mismatch := self.dataset_mismatch():
            self.warn(f"{sentence(mismatch)} {DIFFERENT_DATASET}")
        test = model.metrics.get("test_accuracy")
        tested = f", test accuracy {100 * test:.2f} %" if isinstance(test, (int, float)) else ""
        self.say(f"Opened {name}: {'-'.join(map(str, model.layer_sizes))} {model.activation}{tested}", 10000)
        return model

    def _model_from(self, source: str | os.PathLike | int | Model) -> tuple[Model, str]:
        """The model ``open_model`` was given, and its name for a message (``ModelFileError`` when unusable)."""
        if isinstance(source, Model):
            return source, "the taught model"
        if isinstance(source, int):
            run = self.runs.run(source)
            if run is None:
                raise ModelFileError(f"run {source} is not in the run store")
            if run.model_path is None:
                raise ModelFileError(f"run {source} has no saved weights: it completed no epoch")
            return load_model(run.model_path), f"the weights of run {source}"
        return load_model(source), Path(source).name

    def _propose_settings_of(self, model: Model) -> None:
        """Propose the settings ``model`` was trained with for the next run; warn when it is for other data."""
        problems = []
        try:
            self.settings_proposed.emit(TrainConfig.from_dict(model.config))
        except (ConfigError, TypeError):
            problems.append("The model has no usable training settings; the settings panel keeps its own.")
        if mismatch := self.dataset_mismatch():
            problems.append(f"{sentence(mismatch)} {DIFFERENT_DATASET}")
        if problems:
            self.warn(" ".join(problems))

    def propose_settings(self, config: TrainConfig) -> None:
        """Fill the settings panel with ``config``, ready for the next run."""
        self.settings_proposed.emit(config)

    def _use_model(self, model: Model, run_id: int | None = None) -> None:
        """Make ``model`` the current network, with no run behind it yet: the run figures start afresh. ``run_id``:
        the recorded run whose weights it holds, if any."""
        self.model_run_id = run_id
        self._last_progress = None
        self.set_model(model)
        self._set_state(RunState.IDLE)

    def save_model(self, path: str | Path) -> None:
        """Write the current model to ``path`` (atomically; ``OSError`` when it cannot be written)."""
        save_model(self.model, path)
        self.say(f"Saved {path}", 5000)

    def model_to_continue(self, config: TrainConfig) -> Model | None:
        """The current model when a run with ``config`` would continue from it: weights that have been trained
        (untrained ones are drawn afresh from ``config``) and fit its architecture and data type."""
        model, dataset = self.model, self.dataset
        if model is None or dataset is None or model.epochs_trained == 0:
            return None
        sizes = config.layer_sizes(dataset.num_features, dataset.num_classes)
        if model.layer_sizes != sizes or model.activation != config.activation or model.dtype != np.dtype(config.dtype):
            return None
        return model

    # ---- opening the network: a unit, and edits on a copy -------------------------------------------------

    def select_unit(self, unit: UnitRef | None) -> None:
        """Open hidden unit ``unit`` of the current model in the views that explain one (None: close it)."""
        if unit is not None and (self.model is None or not unit.exists_in(self.model.params)):
            unit = None
        if unit != self.selected_unit:
            self.selected_unit = unit
            self.unit_selected.emit(unit)

    def open_unit(self, unit: UnitRef) -> None:
        """Select ``unit`` and ask for it to be shown: a click on a unit anywhere brings the unit view forward."""
        self.select_unit(unit)
        if self.selected_unit == unit:
            self.unit_opened.emit(unit)

    def edit_network(self, edit: Edit) -> bool:
        """Apply ``edit`` to a copy of the trained weights, after the edits made before, and make the copy the
        current model (the trained weights stay in ``trained_model``); its effect on the test set follows at once
        (``edit_effect``). A global edit (prune, weight noise, temperature) sets its setting: it replaces an earlier
        edit of its kind, and at its neutral value (prune 0 %, no noise, temperature 1) only removes that. False
        (with a notice) when it cannot be made: a run is under way, there is no model, or the edit's unit is not in it."""
        if self.state.active:
            self.warn(EDIT_DURING_RUN)
            return False
        trained = self.trained_model or self.model
        unit = getattr(edit, "unit", None)
        if trained is None or (unit is not None and not unit.exists_in(trained.params)):
            self.warn("There is no such unit to edit in the current model.")
            return False
        edits = (*self.edits, edit)
        if isinstance(edit, GLOBAL_EDITS):  # it replaces the earlier one of its kind; at its neutral value, it goes
            edits = (*(earlier for earlier in self.edits if type(earlier) is not type(edit)), *([] if edit.does_nothing() else [edit]))
        self._show_edits(edits, trained)
        if self.edit_effect is not None:
            effect = self.edit_effect
            self.say(f"Test accuracy {100 * effect.accuracy_before:.2f} % → {100 * effect.accuracy_after:.2f} % ({edit})", 8000)
        return True

    def undo_edit(self) -> None:
        """Take back the last edit."""
        if self.edits and not self.state.active:
            self._show_edits(self.edits[:-1], self.trained_model)

    def reset_edits(self) -> None:
        """Back to the trained weights."""
        if self.edits and not self.state.active:
            self._show_edits((), self.trained_model)

    def switched_off(self, unit: UnitRef) -> bool:
        """Whether one of the edits switches ``unit`` off."""
        return any(isinstance(edit, SwitchOff) and edit.unit == unit for edit in self.edits)

    def input_answers(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The class probabilities the trained weights and the edited copy give the current input (one row each
        of (1, classes)); None without edits, an input or data."""
        if self._evaluator is None or self.input is None or not self.edits:
            return None
        x = self.input.pixels.reshape(1, -1).astype(self.model.dtype, copy=False)
        return self._evaluator.probabilities_for(self.model.params, x)

    def _show_edits(self, edits: tuple[Edit, ...], trained: Model) -> None:
        """Make ``trained`` with ``edits`` the current model, score it on the test set, and hand those answers to
        ``test_predictions`` (no second pass over the test set is needed)."""
        self.edits = edits
        self.trained_model = trained if edits else None
        edited = trained
        if edits:
            params = apply_edits(trained.params, list(edits))
            edited = dataclasses.replace(trained, params=params, metrics={}, edits=(*trained.edits, *edits))
        evaluator = self._edit_evaluator(trained)
        self.edit_effect = evaluator.effect(edited.params) if evaluator is not None and edits else None
        self.edits_changed.emit(edits)
        self._show_model(edited)
        if evaluator is not None:
            self.test_predictions.show(self.edit_effect.after if edits else evaluator.before, edited)
        self.edit_effect_changed.emit(self.edit_effect)

    def _edit_evaluator(self, trained: Model) -> EditEvaluator | None:
        """The evaluator of edits to ``trained`` on the dataset's test set (made at the first edit: one pass over
        the test set); None without data, or when the model cannot read it."""
        dataset = self.dataset
        if self._evaluator is not None and self._evaluator.params is trained.params:
            return self._evaluator
        self._evaluator = None
        if dataset is None:
            return None
        try:
            trained.check_compatible(dataset.image_shape, dataset.class_names)
        except ModelFileError:
            return None
        inputs = to_inputs(dataset.test_images, trained.dtype.type)
        self._evaluator = EditEvaluator(
            trained.params, get_activation(trained.activation), inputs, dataset.test_labels, dataset.class_names
        )
        return self._evaluator

    def save_edited_model(self, path: str | Path) -> Model | None:
        """Write the edited copy to ``path`` (its edits listed in the file), record it in the run store as an edit
        of the run whose weights it edits (``model_run_id``), and make it the current model, to be trained further
        like any other. None, with a notice, when there are no edits, a run is under way, or the file cannot be
        written; a run store that fails only leaves it unrecorded (with a notice)."""
        if self.state.active or not self.edits or self.model is None:
            self.warn(RUN_IN_PROGRESS if self.state.active else "There are no edits to save: the trained weights are the current model.")
            return None
        model, effect, base_run = self.model, self.edit_effect, self.model_run_id
        test = evaluate(effect.after.probabilities, effect.after.labels) if effect is not None and not effect.overflows else None
        if test is not None:
            model = dataclasses.replace(model, metrics={"test_accuracy": test["accuracy"], "test_loss": test["loss"]})
        try:
            save_model(model, path)
        except OSError as error:
            self.warn(f"Could not save the edited model: {error.strerror or error}", "error")
            return None
        run_id = self._record_edit(model, self.edits, test, base_run)
        if self.open_model(path, propose_settings=False) is None:
            return None
        self.model_run_id = run_id
        recorded = f", recorded as run {run_id}" if run_id is not None else ""
        self.say(f"Saved the edited model as {Path(path).name}{recorded}: it is the current model now.", 10000)
        return self.model

    def _record_edit(self, model: Model, edits: tuple[Edit, ...], test: dict | None, base_run: int | None) -> int | None:
        """Record ``model``, the weights of run ``base_run`` with ``edits``, in the run store; its id, or None."""
        if self.store is None:
            self.warn("The edited model was saved, but not recorded: the run store could not be opened.")
            return None
        dataset = self.dataset
        identity = DatasetIdentity(
            dataset.name if dataset else model.dataset,
            dataset.test_fingerprint if dataset else model.dataset_fingerprint,
            list(model.class_names),
            tuple(model.image_shape),
            len(dataset.train_images) if dataset else 0,
            0,
        )
        base = f"run {base_run}" if base_run is not None else "weights no run recorded"
        message = f"edit of {base}: {describe_edits(edits, shown=20)}"
        outcome = RunOutcome("completed", message, 0.0, 0.0, test, model=model)
        try:
            run_id = self.store.record_edit(model.config, identity, outcome, base_run, edits)
        except RunStoreError as error:
            self.warn(f"The edited model was saved, but not recorded as a run: {error}")
            return None
        self.runs.refresh()
        return run_id

    def what_start_does(self, config: TrainConfig) -> str:
        """What starting a run with ``config`` would do to the current weights, in words for the Start button."""
        if self.edits:
            return "first save the edited network as a new model, or reset the edits"
        model = self.model_to_continue(config)
        if model is None:
            return "starts from fresh random weights"
        trained = "" if model.epochs_trained is None else f" ({epochs_text(model.epochs_trained)} trained)"
        return f"continues from the current weights{trained}; Reset weights to start afresh"

    # ---- run commands -----------------------------------------------------------------------------------

    def start(self, config: TrainConfig) -> bool:
        """Train with ``config``, from the current weights when they fit it (``model_to_continue``). False when
        no run started: one is under way, there is no data yet, the network is edited, or it may not fit in
        memory and was declined."""
        if self.edits and not self.state.active:
            self.warn(EDITED)
            return False
        if self.state.active or self.dataset is None or not self._memory_is_enough(config):
            return False
        start = self.model_to_continue(config)
        params = copy_params(start.params) if start is not None else None
        from_epoch = (start.epochs_trained or 0) if start is not None else 0  # unknown counts as none
        controls = RunControls(LiveSettings.of(config))
        threads = self.blas_thread_setting
        worker = TrainingWorker(TrainingJob(config, self.dataset, controls, params, from_epoch, self.store, threads), controls)
        worker.epoch_done.connect(self._epoch_done)
        worker.map_frame.connect(self._map_frame)
        worker.finished.connect(self._finished)
        label = config.describe() + (f" (from epoch {from_epoch:g})" if from_epoch else "")
        self._show_maps(None)  # the new run's maps follow, a frame at a time
        self._begin(worker, controls, config, label, from_epoch, threads)
        return True

    def _begin(
        self,
        worker: TrainingWorker,
        controls: RunControls,
        config: TrainConfig,
        label: str,
        from_epoch: float,
        threads: BlasThreadSetting | None = None,
    ) -> None:
        """Run ``worker`` on its own thread as the run in progress (its epoch and finished reports are the caller's
        to connect); ``threads`` is the BLAS thread setting it was given (None: it measures its own)."""
        thread = QThread(self)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.preparing.connect(self._preparing)
        worker.batches.connect(self._batches)
        worker.failed.connect(self._failed)
        worker.recording_failed.connect(lambda message: self.warn(sentence(message), "warning"))
        self._run = _Run(worker, thread, controls, config, label, threads)
        self.health.begin(config, self.dataset.num_classes, from_epoch)
        self.run_started.emit(label, from_epoch, config.epochs)
        self._set_state(RunState.RUNNING)
        thread.start()

    def pause(self) -> None:
        """Pause the run after the current batch."""
        if self.state == RunState.RUNNING:
            self._run.controls.pause()
            self._set_state(RunState.PAUSED)

    def resume(self) -> None:
        if self.state == RunState.PAUSED:
            self._run.controls.resume()
            self._set_state(RunState.RUNNING)

    def step(self, config: TrainConfig | None = None) -> None:
        """Train to the end of the current epoch, then pause; with no run under way, start one with ``config``."""
        if not self.state.active and (config is None or not self.start(config)):
            return
        self._run.controls.step_epoch()
        self._set_state(RunState.RUNNING)

    def stop(self) -> None:
        """End the run after the current batch; its weights are kept and scored on the test set."""
        if self._run is not None:
            self._run.controls.stop()
            self.say("Stopping after the current batch…", 0)

    def set_live_settings(self, settings: LiveSettings) -> None:
        """Train with ``settings`` from the run's next batch on (no run: nothing to change)."""
        if self._run is None:
            return
        before = self._run.controls.settings
        self._run.controls.change_settings(settings)
        changes = [f"{name} = {value:g}" for name, value in dataclasses.asdict(settings).items() if getattr(before, name) != value]
        if changes:
            self.say("Applied from the next batch: " + ", ".join(changes), 4000)

    def set_blas_threads(self, forced: int | None) -> bool:
        """Force the BLAS thread count of the next runs (None: automatic, see ``BlasThreadSetting``). False, and
        nothing changes, while a run is under way: its trainer was given its count at the start."""
        if self.state.active:
            return False
        self.blas_thread_setting = BlasThreadSetting(forced, self.blas_thread_setting.cores)
        return True

    def progress(self) -> RunProgress | None:
        """How far the run in progress, or else the last one, has come (None before the first run)."""
        return self._run.progress(active=True) if self._run is not None else self._last_progress

    def shutdown(self) -> None:
        """End any run at once (no test-set scoring) and any data loading, wait for their threads, and close
        the run store."""
        run, self._run = self._run, None  # reports still queued from the worker are ignored from here on
        if run is not None:
            run.worker.abort()
            run.thread.quit()
            run.thread.wait()
        self.loader.shutdown()
        self.test_predictions.shutdown()
        self.units.shutdown()
        self.runs.close()
        store, self.store = self.store, None
        if store is not None:
            store.close()

    # ---- the current input and the test images ------------------------------------------------------

    def set_input(self, network_input: NetworkInput | None) -> None:
        """Make ``network_input`` what the network reads now (None: nothing is drawn). The same input again (the pad
        reads its drawing anew with each new model) changes nothing."""
        if network_input is not None and self.dataset is not None and network_input.pixels.shape != tuple(self.dataset.image_shape):
            network_input = None  # not an input of this dataset's images (a drawing over another's)
        if _same_input(network_input, self.input):
            return
        self.input = network_input
        self.input_changed.emit(network_input)

    def open_test_image(self, index: int) -> None:
        """Make test image ``index`` the current input, to be read and drawn over on the pad."""
        if self.dataset is None:
            return
        image = self.dataset.test_images[index]
        pixels = to_inputs(image[None]).reshape(image.shape)
        self.set_input(NetworkInput(pixels, f"test image #{index}", int(self.dataset.test_labels[index]), image.copy()))
        self.test_image_opened.emit(index)

    def show_test_images(self, true_class: int | None, predicted_class: int | None) -> None:
        """Ask for the test images of this true class predicted as this class (None: any) to be shown."""
        self.test_images_requested.emit(true_class, predicted_class)

    # ---- doubt ------------------------------------------------------------------------------------------

    def set_confidence_threshold(self, threshold: float) -> None:
        """Answers less sure than ``threshold`` (a probability, 0 to 1; clipped) say "not sure" on the pad, in the test
        browser and in the Confidence tab; remembered between starts."""
        threshold = min(max(float(threshold), 0.0), 1.0) if np.isfinite(threshold) else DEFAULT_THRESHOLD
        if threshold != self.confidence_threshold:
            self.confidence_threshold = threshold
            if self._settings is not None:
                self._settings.setValue(THRESHOLD_KEY, threshold)
            self.confidence_threshold_changed.emit(threshold)

    def unsure(self, confidence: float) -> bool:
        """Whether an answer of this ``confidence`` falls below the threshold: "not sure"."""
        return confidence < self.confidence_threshold

    # ---- representation maps ----------------------------------------------------------------------------

    def show_run_maps(self, run_id: int) -> bool:
        """Show the representation maps recorded with run ``run_id`` (``maps_changed``, then ``maps_opened``). False,
        with a notice saying why, when they cannot be: a run is under way (its maps are the ones shown), the run has
        none (recorded before ScratchNet recorded maps) or they cannot be read."""
        if self.state.active:
            self.warn("Wait for the run in progress to end: its maps are the ones shown until then.")
            return False
        if self.store is None:
            self.warn("The run store could not be opened: there are no recorded maps to show.")
            return False
        try:
            maps = self.store.maps(run_id)
        except RunStoreError as error:
            self.warn(sentence(str(error)))
            return False
        if maps is None or not maps.frames:
            why = "recorded before ScratchNet recorded maps, or by teaching" if maps is None else "none of its frames can be read"
            self.warn(f"Run {run_id} has no representation maps to show: {why}.", "info")
            return False
        self._show_maps(maps)
        self.maps_opened.emit(run_id)
        lost = f"; {maps.unreadable} could not be read and are left out" if maps.unreadable else ""
        self.say(f"Showing the maps of run {run_id}: {len(maps.frames)} frames{lost}.", 8000)
        return True

    def _show_maps(self, maps: RunMaps | None) -> None:
        self.maps = maps
        self.maps_changed.emit(maps)

    def _map_frame(self, sample: MapSample, frame: MapFrame) -> None:
        """A frame of the run in progress's maps: the maps shown gain it."""
        if self._run is None:
            return
        if self.maps is None or self.maps.sample is not sample:
            self.maps = RunMaps(sample)
        self.maps.frames.append(frame)
        self.maps_changed.emit(self.maps)

    # ---- the run store ----------------------------------------------------------------------------------

    def _open_run_store(self) -> RunStore | None:
        """The run store in the data home; None when it cannot be opened. Why not, or that an unusable store
        was moved aside, is told as a notice once the window listens (training goes on either way)."""
        try:
            store = RunStore()
            problem = store.notice
        except RunStoreError as error:
            store, problem = None, f"{error}; runs will not be recorded"
        if problem:
            QTimer.singleShot(0, self, lambda: self.warn(sentence(problem), "warning"))
        return store

    # ---- worker reports ---------------------------------------------------------------------------------

    def _preparing(self, text: str) -> None:
        if self._run is not None:
            self.say(text.capitalize(), 3000)

    def _batches(self, chunk: BatchChunk) -> None:
        run = self._run
        if run is not None:
            if run.last_batch is None:
                self.say(f"Training {run.label}", 0)
            run.last_batch = chunk.last
            self.batches.emit(chunk)

    def _epoch_done(self, event: EpochEvent, model: Model) -> None:
        if self._run is None:
            return
        self.epoch_done.emit(event)
        self.set_model(model)
        self._pause_if_stepped(event)

    def _pause_if_stepped(self, event: EpochEvent) -> None:
        """A step pauses the trainer at the end of its epoch (the last epoch ends the run instead)."""
        if self.state == RunState.RUNNING and self._run.controls.paused and event.epoch < event.epochs:
            self._set_state(RunState.PAUSED)
            self.say(f"Paused after epoch {event.epoch}: Step for one more, Space to resume.", 5000)

    def _finished(self, outcome: RunOutcome) -> None:
        if self._end_run() is None:
            return
        self.set_model(outcome.model)
        self.model_run_id = outcome.run_id
        if self.maps is not None and self.maps.run_id is None:  # the run's maps, now recorded
            self.maps.run_id = outcome.run_id
        self._set_state(ENDINGS[outcome.status])
        summary = sentence(outcome.message)
        if outcome.test_accuracy is not None:
            summary += f" Test accuracy {100 * outcome.test_accuracy:.2f} % ({outcome.samples_per_second:,.0f} samples/s)."
        self.say(summary, 15000)
        self.run_finished.emit(outcome)

    def _failed(self, message: str) -> None:
        if self._end_run() is not None:
            self._set_state(RunState.FAILED)
            self.run_failed.emit(message)

    def _end_run(self) -> _Run | None:
        """Wait for the finished worker's thread; None when no run was active (a late report)."""
        run, self._run = self._run, None
        if run is None:
            return None
        run.thread.quit()
        run.thread.wait()
        run.thread.deleteLater()
        self._last_progress = run.progress(active=False)
        QTimer.singleShot(0, self, return_freed_memory)  # once the run's last reports are gone too
        return run

    # ---- teaching the learner's handwriting --------------------------------------------------------------

    def teach_refusal(self) -> str | None:
        """Why ``teach`` cannot start now, in a sentence; None when it can."""
        if self.state.active:
            return "Wait for the run in progress to end."
        if self.edits:
            return EDITED
        if self.dataset is None:
            return "Teaching needs MNIST loaded, to remind the network of the digits it knows."
        if self.model is None or self.model.epochs_trained == 0:
            return "Train a model first (or open one): teaching fine-tunes the current model."
        try:
            check_examples(self.handwriting.examples, self.model)
        except DataError as error:
            return sentence(str(error))
        return None

    def teach(self, settings: FinetuneSettings | None = None) -> bool:
        """Fine-tune a copy of the current model on the handwriting examples, as a run (live curves, pause,
        stop); ``taught`` follows, and the current model stays until ``keep_taught``. False (with a notice)
        when it cannot start (see ``teach_refusal``)."""
        self.handwriting.reload()  # teach what the collection holds now, other windows' examples too
        refusal = self.teach_refusal()
        if refusal is None:
            try:
                job = FinetuneJob(self.model, self.handwriting.examples, self.dataset, settings or FinetuneSettings(), self.model_run_id)
            except (DataError, ModelFileError, ConfigError) as error:  # ConfigError: it would not fit in memory
                refusal = sentence(str(error))
            except MemoryError:
                refusal = "There is not enough memory to prepare the fine-tune: teach with fewer examples."
            except Exception as error:  # as the worker does: the window must hear about every failure, whatever it is
                refusal = f"{type(error).__name__}: {error}"
        if refusal is not None:
            self.notice.emit(f"Cannot teach: {refusal}", "error")
            return False
        worker = TrainingWorker(job, job.controls)
        worker.epoch_done.connect(self._teaching_epoch_done)
        worker.finished.connect(self._teaching_finished)
        label = f"on your handwriting: {len(self.handwriting.examples)} examples + MNIST replay"
        self.teaching = None
        self._begin(worker, job.controls, job.config, label, self.model.epochs_trained or 0)
        return True

    def keep_taught(self) -> None:
        """Make the fine-tuned model the current one and record the fine-tune in the run store, as a fine-tune of
        the run it started from (see ``Taught.outcome``)."""
        taught, self.teaching = self.teaching, None
        if taught is None:
            return
        run_id = None
        if self.store is None:
            self.notice.emit("The taught model is current, but it was not recorded: the run store could not be opened.", "warning")
        else:
            try:
                run_id = self.store.record(taught.config, taught.dataset, taught.outcome())
            except RunStoreError as error:
                self.notice.emit(f"The taught model is current, but it was not recorded as a run: {error}", "warning")
        self.runs.refresh()
        if self.open_model(taught.result.model, propose_settings=False) is not None:  # the learner's settings stay
            self.model_run_id = run_id
            self.say("Kept the model taught your handwriting" + (f", recorded as run {run_id}." if run_id is not None else "."), 8000)

    def discard_taught(self) -> None:
        """Forget the fine-tuned model: the current one stays as it was before teaching."""
        if self.teaching is not None:
            self.teaching = None
            self.status.emit("Discarded the taught model; the model is as it was before teaching.", 8000)

    def _teaching_epoch_done(self, event: EpochEvent, _snapshot: Model) -> None:
        """An epoch of teaching: its curves, but the current model stays until ``keep_taught``."""
        if self._run is not None:
            self.epoch_done.emit(event)
            self._pause_if_stepped(event)

    def _teaching_finished(self, taught: Taught) -> None:
        if self._end_run() is None:
            return
        self.teaching = taught
        self._set_state(ENDINGS[taught.result.training.status])
        self.taught.emit(taught)

    # ---- state ------------------------------------------------------------------------------------------

    def _set_state(self, state: RunState) -> None:
        if self._run is not None:
            self._run.set_paused(state == RunState.PAUSED)
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _memory_is_enough(self, config: TrainConfig) -> bool:
        """True when the run fits in the memory available now (with the margin of ``fits_in_memory``), or the
        user chose to try anyway."""
        dataset = self.dataset
        needed = estimate_training_bytes(config, len(dataset.train_images), dataset.num_features, dataset.num_classes)
        available = available_bytes()
        return fits_in_memory(needed, available) or self._confirm_low_memory(needed, available)

    def _refuse_low_memory(self, needed: int, available: int | None) -> bool:
        self.warn(memory_warning(needed, available), "error")
        return False


def _same_input(a: NetworkInput | None, b: NetworkInput | None) -> bool:
    if a is None or b is None:
        return a is b
    same_image = (a.image is None and b.image is None) or (a.image is not None and b.image is not None and np.array_equal(a.image, b.image))
    return (a.origin, a.label) == (b.origin, b.label) and same_image and np.array_equal(a.pixels, b.pixels)


def remembered_threshold(settings: QSettings | None) -> float:
    """The confidence threshold saved in ``settings``; ``DEFAULT_THRESHOLD`` when there is none or it is not a probability."""
    try:
        value = float(settings.value(THRESHOLD_KEY, DEFAULT_THRESHOLD)) if settings is not None else DEFAULT_THRESHOLD
    except (TypeError, ValueError):
        return DEFAULT_THRESHOLD
    return value if 0.0 <= value <= 1.0 else DEFAULT_THRESHOLD


def memory_warning(needed: int, available: int | None) -> str:
    """Why a run may not fit in memory, in a sentence."""
    return (
        f"This configuration needs about {format_bytes(needed)} of memory, more than {MEMORY_MARGIN * 100:.0f} % of the "
        f"{format_bytes(available)} available now. Training may fail or make the computer swap."
    )
