"""The main window: settings on the left, tabs in the centre, run controls above, progress below.

The testing panels (drawing pad, test images, confusion matrix, inside the network) are tabs that follow
the signals below. Public interface for panels:

Signals
    ``model_changed(object)``   a ``scratchnet.model.Model`` (a copy the panel may keep): after every epoch
                                of a run (a snapshot of the weights), at the end of a run (with the test
                                metrics in ``model.metrics``), and when a model is opened, reset or created.
    ``dataset_changed(object)`` a ``scratchnet.data.Dataset``, once the data is loaded (or reloaded).
    ``run_state_changed(str)``  "idle", "running" or "paused" (heavy views may wait for "idle").
    ``run_finished(object)``    a ``worker.RunOutcome`` (status, message, final model, history, test metrics).

Methods
    ``add_tab(widget, title, icon=None) -> int``  add a panel as a tab (the first tab is "Training").
    ``show_tab(title)``, ``tab_titles()``          switch to / list the tabs.
    ``current_model() -> Model | None``, ``current_dataset() -> Dataset | None``, ``run_state() -> str``.

Training runs in a ``TrainingWorker`` on a ``QThread`` (see ``worker.py``); this window only forwards
the user's commands to it and draws what it reports.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QSettings, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from scratchnet.config import TrainConfig
from scratchnet.data import ENV_VAR, Dataset, find_files
from scratchnet.errors import ConfigError, ModelFileError, ScratchNetError
from scratchnet.memory import MEMORY_MARGIN, available_bytes, estimate_training_bytes, fits_in_memory, format_bytes
from scratchnet.model import Model, load_model, save_model
from scratchnet.network import copy_params, init_params
from scratchnet.presets import resources_dir
from scratchnet.trainer import BatchEvent, EpochEvent

from .confusion_view import ConfusionView
from .controls_panel import CUSTOM, ControlsPanel
from .curves_panel import CurvesPanel
from .data_loader import DataLoader, MissingDataDialog
from .draw_pad import DrawPad
from .network_view import NetworkView
from .shortcuts import FocusedControlsKeepSpace
from .status_bar import StatusBar
from .test_browser import ImageBrowser
from .visuals import epochs_text
from .worker import BatchChunk, RunOutcome, TrainingWorker

MODEL_FILTER = "ScratchNet models (*.safetensors)"
STATUS_INTERVAL_MS = 250
DOCK_WIDTH = 310  # the settings panel's first width; the user's own is remembered
IDLE, RUNNING, PAUSED = "idle", "running", "paused"
DIFFERENT_DATASET = "Its scores on this data may mean little."


def icon(name: str) -> QIcon:
    """One of the shipped SVG icons in ``resources/icons/``."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


class NoticeBar(QFrame):
    """A dismissible message across the top of the window: info, warning or error. Never blocks."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("notice")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss this message")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def level(self) -> str:
        return self.property("level") or ""

    def show_message(self, text: str, level: str = "info") -> None:
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self.text.setText(text)
        self.show()

    def clear(self) -> None:
        self.hide()
        self.text.clear()


@dataclass
class _Run:
    """The run in progress: its worker and thread, its settings and where its curves start."""

    worker: TrainingWorker
    thread: QThread
    config: TrainConfig
    label: str
    epochs_before: int
    clock: QElapsedTimer
    paused_ms: int = 0
    paused_since: int | None = None
    last_batch: BatchEvent | None = None

    def active_seconds(self) -> float:
        paused = self.paused_ms + (self.clock.elapsed() - self.paused_since if self.paused_since is not None else 0)
        return (self.clock.elapsed() - paused) / 1000


class MainWindow(QMainWindow):
    """ScratchNet's window. Call ``load_data()`` after showing it; see the module docstring for the panel API."""

    model_changed = Signal(object)
    dataset_changed = Signal(object)
    run_state_changed = Signal(str)
    run_finished = Signal(object)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings("ScratchNet", "ScratchNet")
        self.setWindowTitle("ScratchNet")
        self.setWindowIcon(icon("scratchnet"))
        self._dataset: Dataset | None = None
        self._model: Model | None = None
        self._fresh = True  # the current weights are untrained: a run starts from the seed instead
        self._weights_epochs: float | None = 0  # epochs of training behind the current weights (None: unknown)
        self._state = IDLE
        self._run: _Run | None = None
        self._data_folder: str | None = None
        self._missing_dialog: MissingDataDialog | None = None

        self.controls = ControlsPanel()
        self.curves = CurvesPanel()
        self.notice = NoticeBar()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.curves, "Training")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._build_testing_tabs()
        self._build_dock()
        self._build_actions()
        self._build_status_bar()
        FocusedControlsKeepSpace(self)

        self.loader = DataLoader(self)
        self.loader.status.connect(self._data_status)
        self.loader.loaded.connect(self._data_loaded)
        self.loader.failed.connect(self._data_failed)
        self.loader.cancelled.connect(self._data_cancelled)
        self.controls.config_changed.connect(self._update_actions)
        self.controls.validity_changed.connect(lambda _: self._update_actions())
        self.controls.live_changed.connect(self._live_changed)
        self._status_timer = QTimer(self, interval=STATUS_INTERVAL_MS)
        self._status_timer.timeout.connect(self._update_status)
        self._restore_settings()
        self._update_actions()

    # ---- building -----------------------------------------------------------------------------------

    def _build_testing_tabs(self) -> None:
        """The panels where a learner tests the network: they follow the current model and dataset."""
        self.pad = DrawPad()
        self.browser = ImageBrowser()
        self.confusion = ConfusionView()
        self.network = NetworkView()
        for panel, title in (
            (self.pad, "Drawing pad"),
            (self.browser, "Test images"),
            (self.confusion, "Confusion matrix"),
            (self.network, "Inside the network"),
        ):
            self.add_tab(panel, title)
        for panel in (self.pad, self.network):
            self.model_changed.connect(panel.set_model)
        self.model_changed.connect(self._update_test_set_tabs)
        self.tabs.currentChanged.connect(self._update_test_set_tabs)
        self.dataset_changed.connect(self.browser.set_dataset)
        self.dataset_changed.connect(self.pad.set_dataset)
        self.browser.predictions_changed.connect(self.confusion.set_predictions)
        self.confusion.filter_requested.connect(self._show_in_browser)
        self.browser.open_in_pad.connect(self._open_in_pad)
        self.pad.input_changed.connect(self.network.show_input)

    def _update_test_set_tabs(self, _=None) -> None:
        """Give the current model to the test-image browser (and so the confusion matrix) when one of them
        is on screen: 10 000 predictions per epoch are worth their time only when someone looks."""
        if self.tabs.currentWidget() in (self.browser, self.confusion) and self.browser.model is not self._model:
            self.browser.set_model(self._model)

    def _show_in_browser(self, true_class: int | None, predicted_class: int | None) -> None:
        self.browser.show_filter(true_class, predicted_class)
        self.tabs.setCurrentWidget(self.browser)

    def _open_in_pad(self, image: np.ndarray) -> None:
        self.pad.load_image(image)
        self.tabs.setCurrentWidget(self.pad)

    def _build_dock(self) -> None:
        self.dock = QDockWidget("Settings", self)
        self.dock.setObjectName("settingsDock")
        self.dock.setWidget(self.controls)
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.dock)

    def _action(self, text: str, icon_name: str | None, shortcut, tip: str, slot) -> QAction:
        action = QAction(text, self)
        if icon_name:
            action.setIcon(icon(icon_name))
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
            tip = f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.start_action = self._action("&Start", "play", "F5", "Train with the settings on the left", self.start)
        self.pause_action = self._action("&Pause", "pause", "Space", "Pause after the current batch; again to resume", self.toggle_pause)
        self.pause_action.setCheckable(True)
        self.step_action = self._action("Step one &epoch", "step", "F10", "Train to the end of the current epoch, then pause", self.step)
        self.stop_action = self._action("S&top", "stop", "Shift+F5", "End the run after the current batch, keeping the weights", self.stop)
        self.reset_action = self._action(
            "&Reset weights",
            "reset",
            "Ctrl+Shift+R",
            "Discard the trained weights: the next run starts from fresh random ones",
            self.reset_weights,
        )
        self.new_action = self._action("&New", "new", QKeySequence.StandardKey.New, "Fresh weights, no curves, default settings", self.new)
        self.open_action = self._action(
            "&Open model…", "open", QKeySequence.StandardKey.Open, "Load a saved .safetensors model", self.open_model
        )
        self.save_action = self._action(
            "&Save model…", "save", QKeySequence.StandardKey.Save, "Save the current network to a file", self.save_model
        )
        self.export_csv_action = self._action(
            "Export curves as &CSV…", "export", "Ctrl+E", "Write every curve to a CSV file", self.export_csv
        )
        self.export_png_action = self._action(
            "Export curves as &PNG…", None, "Ctrl+Shift+E", "Save a picture of the plots", self.export_png
        )
        self.data_action = self._action("Choose &data folder…", None, None, "Load MNIST from another folder", self.choose_data_folder)
        self.quit_action = self._action("&Quit", None, QKeySequence.StandardKey.Quit, "Close ScratchNet", self.close)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for action in (self.new_action, self.open_action, self.save_action, None, self.export_csv_action, self.export_png_action):
            file_menu.addAction(action) if action else file_menu.addSeparator()
        file_menu.addSeparator()
        file_menu.addAction(self.data_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        train_menu = menu.addMenu("&Training")
        for action in (self.start_action, self.pause_action, self.step_action, self.stop_action, None, self.reset_action):
            train_menu.addAction(action) if action else train_menu.addSeparator()
        view_menu = menu.addMenu("&View")
        view_menu.addAction(self.dock.toggleViewAction())
        log_action = view_menu.addAction(self.curves.log_scale.text())
        log_action.setCheckable(True)
        log_action.toggled.connect(self.curves.log_scale.setChecked)
        self.curves.log_scale.toggled.connect(log_action.setChecked)

        toolbar = self.addToolBar("Run")
        toolbar.setObjectName("runToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for action in (self.start_action, self.pause_action, self.step_action, self.stop_action, None, self.reset_action):
            toolbar.addAction(action) if action else toolbar.addSeparator()
        toolbar.addSeparator()
        for action in (self.open_action, self.save_action, self.export_csv_action):
            toolbar.addAction(action)

    def _build_status_bar(self) -> None:
        bar = StatusBar()
        self.setStatusBar(bar)
        self.state_label = QLabel()
        self.epoch_label = QLabel("Epoch – / –")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setFixedWidth(150)
        self.progress_bar.setToolTip("Progress of the whole run")
        self.speed_label = QLabel()
        self.speed_label.setToolTip("Training speed this epoch: images per second through forward, backward and update")
        self.elapsed_label = QLabel()
        self.elapsed_label.setToolTip("Training time of this run (pauses excluded)")
        self.eta_label = QLabel()
        self.eta_label.setToolTip("Estimated time left in this run")
        self.lr_label = QLabel()
        self.lr_label.setToolTip("The learning rate of the last batch (after the schedule)")
        for widget in (
            self.state_label,
            self.epoch_label,
            self.progress_bar,
            self.speed_label,
            self.elapsed_label,
            self.eta_label,
            self.lr_label,
        ):
            bar.addPermanentWidget(widget)
        self._set_state(IDLE)

    # ---- public API for panels ---------------------------------------------------------------------

    def add_tab(self, widget: QWidget, title: str, icon: QIcon | None = None) -> int:
        """Add a panel as a tab after the existing ones; returns its index."""
        return self.tabs.addTab(widget, icon, title) if icon is not None else self.tabs.addTab(widget, title)

    def show_tab(self, title: str) -> None:
        """Make the tab called ``title`` the visible one (``ValueError`` when there is none)."""
        self.tabs.setCurrentIndex(self.tab_titles().index(title))

    def tab_titles(self) -> list[str]:
        return [self.tabs.tabText(i) for i in range(self.tabs.count())]

    def current_model(self) -> Model | None:
        """The latest network: the last epoch's snapshot during a run, otherwise the current weights."""
        return self._model

    def current_dataset(self) -> Dataset | None:
        return self._dataset

    def run_state(self) -> str:
        return self._state

    # ---- data -------------------------------------------------------------------------------------

    def load_data(self, data_dir: str | None = None) -> None:
        """Find and load the dataset in the background: ``data_dir``, else ``$SCRATCHNET_DATA_DIR``, else the
        last folder used, else the cache, downloading MNIST when it is nowhere."""
        if data_dir is None and not os.environ.get(ENV_VAR):
            remembered = self.settings.value("data_dir")
            if remembered and find_files(Path(remembered)) is not None:
                data_dir = remembered
        self.loader.start(data_dir)

    def choose_data_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the folder holding the MNIST files", self._data_folder or "")
        if folder:
            self.load_data(folder)

    def _data_status(self, text: str) -> None:
        self.notice.show_message(text, "info")
        self.curves.set_placeholder(f"Waiting for the data.\n{text}")
        self.statusBar().showMessage(text)

    def _data_loaded(self, dataset: Dataset) -> None:
        self._dataset = dataset
        self._data_folder = str(dataset.folder) if dataset.folder else None
        if self._data_folder:
            self.settings.setValue("data_dir", self._data_folder)
        self.notice.clear()
        height, width = dataset.image_shape
        self.controls.set_dataset_shape(height * width, dataset.num_classes, len(dataset.train_images))
        self.curves.set_placeholder("" if not self.curves.current.empty else "Press Start to train the network.")
        self.statusBar().showMessage(
            f"{dataset.name}: {len(dataset.train_images):,} training and {len(dataset.test_images):,} test images "
            f"of {height}×{width} from {dataset.folder}",
            10000,
        )
        self.dataset_changed.emit(dataset)
        if self._model is not None:
            try:
                self._model.predict_test_set(dataset)  # refuses a model for other images or classes, or that overflows on them
            except ModelFileError as error:
                self.notice.show_message(
                    f"The current model does not fit this dataset ({error}); it was replaced by fresh weights.", "warning"
                )
                self._model = None
            else:
                mismatch = self._model.dataset_mismatch(dataset)
                if mismatch:
                    self.notice.show_message(f"{_html(_sentence(mismatch))} {DIFFERENT_DATASET}", "warning")
        if self._model is None:
            self.reset_weights()
        self._update_actions()

    def _data_failed(self, message: str) -> None:
        self.notice.show_message(f"<b>No data to train on.</b> {_html(message)}", "error")
        self.statusBar().showMessage("No data: choose the folder holding the MNIST files (File ▸ Choose data folder…)")
        self.curves.set_placeholder("Waiting for the data: use File ▸ Choose data folder…")
        if self._missing_dialog is not None:
            self._missing_dialog.close()
            self._missing_dialog.deleteLater()
        self._missing_dialog = MissingDataDialog(message, self)
        self._missing_dialog.folder_chosen.connect(self.load_data)
        self._missing_dialog.retry_requested.connect(self.load_data)
        self._missing_dialog.open()

    def _data_cancelled(self) -> None:
        self.notice.show_message(
            "The download was cancelled. ScratchNet needs MNIST to train: use File ▸ Choose data folder… "
            "if you have the files, or restart to download them.",
            "warning",
        )
        self.statusBar().showMessage("Download cancelled: no data to train on")
        self.curves.set_placeholder("Waiting for the data: use File ▸ Choose data folder…")

    # ---- run control --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start a run with the settings on the left, from the current weights when they fit them."""
        if self._state != IDLE or self._dataset is None:
            return
        try:
            config = self.controls.config()
        except ConfigError as error:
            self.notice.show_message(f"Cannot start: {error}.", "error")
            return
        if not self._memory_is_enough(config):
            return
        params = self._weights_for(config)
        epochs_before = (self._weights_epochs or 0) if params is not None else 0
        worker = TrainingWorker(config, self._dataset, params, epochs_before)
        thread = QThread(self)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.preparing.connect(self._preparing)
        worker.batches.connect(self._batches)
        worker.epoch_done.connect(self._epoch_done)
        worker.paused_after_step.connect(self._paused_after_step)
        worker.finished.connect(self._finished)
        worker.failed.connect(self._failed)
        clock = QElapsedTimer()
        clock.start()
        label = config.describe() + (f" (from epoch {epochs_before})" if epochs_before else "")
        self._run = _Run(worker, thread, config, label, epochs_before, clock)
        self.curves.begin_run(label, epochs_before, config.epochs)
        self.curves.set_running(True)
        self.controls.set_running(True)
        self.notice.clear()
        self._status_timer.start()
        self._set_state(RUNNING)
        thread.start()

    def _memory_is_enough(self, config: TrainConfig) -> bool:
        """True when the run fits in the memory available now (with the margin of ``fits_in_memory``), or the user
        chose to try anyway."""
        dataset = self._dataset
        needed = estimate_training_bytes(config, len(dataset.train_images), dataset.num_features, dataset.num_classes)
        available = available_bytes()
        if fits_in_memory(needed, available):
            return True
        answer = QMessageBox.warning(
            self,
            "Not enough memory",
            f"This configuration needs about {format_bytes(needed)} of memory, more than {MEMORY_MARGIN * 100:.0f} % of the "
            f"{format_bytes(available)} available now. Training may fail or make the computer swap.\n\n"
            "Use fewer or narrower layers, a smaller batch or float32 — or start anyway?",
            QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Ignore,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Ignore

    def toggle_pause(self) -> None:
        """Pause the run after the current batch, or resume it."""
        if self._run is None:
            self.pause_action.setChecked(False)
        elif self._state == RUNNING:
            self._run.worker.pause()
            self._set_state(PAUSED)
        else:
            self._run.worker.resume()
            self._set_state(RUNNING)

    def step(self) -> None:
        """Train to the end of the current epoch (a whole epoch when idle), then pause."""
        if self._run is None:
            self.start()
            if self._run is None:
                return
        self._run.worker.step_epoch()
        self._set_state(RUNNING)

    def stop(self) -> None:
        """End the run after the current batch; the weights are kept and scored on the test set."""
        if self._run is not None:
            self._run.worker.stop()
            self.statusBar().showMessage("Stopping after the current batch…")

    def reset_weights(self) -> None:
        """Replace the weights by fresh random ones drawn as the settings say (initialisation, seed)."""
        if self._state != IDLE or self._dataset is None:
            return
        try:
            config = self.controls.config()
        except ConfigError:
            config = TrainConfig()
        dataset = self._dataset
        sizes = config.layer_sizes(dataset.num_features, dataset.num_classes)
        params = init_params(sizes, config.init, np.random.default_rng(config.seed), np.dtype(config.dtype))
        self._set_model(
            Model(params, config.activation, list(dataset.class_names), dataset.image_shape, dataset.name, config.to_dict()),
            fresh=True,
            epochs=0,
        )
        self.statusBar().showMessage("Fresh weights: the next run starts from scratch.", 5000)

    def new(self) -> None:
        """Default settings, fresh weights and empty plots."""
        if self._state != IDLE:
            return
        self.controls.select_preset("default")
        self.curves.clear()
        self.reset_weights()

    def _weights_for(self, config: TrainConfig) -> list | None:
        """The current weights (a copy) if they were trained and fit ``config``, else None (start from the seed)."""
        model = self._model
        if model is None or self._fresh:
            return None
        sizes = config.layer_sizes(self._dataset.num_features, self._dataset.num_classes)
        if model.layer_sizes != sizes or model.activation != config.activation or model.dtype != np.dtype(config.dtype):
            return None
        return copy_params(model.params)

    def _live_changed(self, changes: dict) -> None:
        if self._run is None:
            return
        try:
            self._run.worker.set_hyperparameters(**changes)
            self.statusBar().showMessage("Applied from the next batch: " + ", ".join(f"{k} = {v:g}" for k, v in changes.items()), 4000)
        except ConfigError as error:
            self.notice.show_message(f"Could not apply the change: {error}.", "error")

    # ---- worker reports ---------------------------------------------------------------------------

    def _preparing(self, text: str) -> None:
        if self._run is not None:
            self.statusBar().showMessage(text.capitalize(), 3000)

    def _batches(self, chunk: BatchChunk) -> None:
        run = self._run
        if run is not None:
            if run.last_batch is None:
                self.statusBar().showMessage(f"Training {run.label}")
            run.last_batch = chunk.last
            self.curves.add_batches(chunk.progress, chunk.loss, chunk.last.batches)

    def _epoch_done(self, event: EpochEvent, model: Model) -> None:
        if self._run is None:
            return
        self.curves.add_epoch(event)
        self._set_model(model, fresh=False, epochs=self._run.epochs_before + event.epoch)

    def _paused_after_step(self, epoch: int) -> None:
        if self._run is not None:
            self._set_state(PAUSED)
            self.statusBar().showMessage(f"Paused after epoch {epoch}: Step for one more, Space to resume.", 5000)

    def _finished(self, outcome: RunOutcome) -> None:
        run = self._end_run()
        if run is None:
            return
        epochs = run.epochs_before + outcome.weights_epoch
        self._set_model(outcome.model, fresh=False, epochs=epochs)
        summary = _sentence(outcome.message)
        rolled_back_to_start = outcome.status == "diverged" and outcome.weights_epoch == 0
        if outcome.test is not None and not rolled_back_to_start:  # no star for weights the run never changed
            self.curves.set_test_accuracy(outcome.test["accuracy"], epochs)
            summary += f" Test accuracy {100 * outcome.test['accuracy']:.2f} % ({outcome.samples_per_second:,.0f} samples/s)."
            self.speed_label.setText(f"{outcome.samples_per_second:,.0f} samples/s")  # the run's average, as in the message
        if outcome.status == "diverged":
            self.curves.mark_divergence()
            self.notice.show_message(f"<b>Training diverged.</b> {_html(_sentence(outcome.message))}", "warning")
        self.statusBar().showMessage(summary, 15000)
        self.run_finished.emit(outcome)

    def _failed(self, message: str) -> None:
        if self._end_run() is not None:
            self.notice.show_message(f"<b>Training failed.</b> {_html(message)}", "error")

    def _end_run(self) -> _Run | None:
        """Wait for the finished worker's thread and return to idle; None when no run was active."""
        run, self._run = self._run, None
        if run is None:
            return None
        run.thread.quit()
        run.thread.wait()
        run.thread.deleteLater()
        self._update_status(run)
        self._status_timer.stop()
        self.curves.set_running(False)
        self.controls.set_running(False)
        self._set_state(IDLE)
        return run

    def _set_model(self, model: Model, fresh: bool, epochs: float | None) -> None:
        """Make ``model`` the current network; ``epochs`` of training are behind it (0: random weights; None:
        unknown, e.g. a file that does not record it).

        The panels read that count from ``model.metrics["epochs"]`` to say which weights they show."""
        if epochs is not None:
            model.metrics["epochs"] = epochs
        self._model, self._fresh, self._weights_epochs = model, fresh, epochs
        self.model_changed.emit(model)
        self._update_actions()

    # ---- files ------------------------------------------------------------------------------------

    def save_model(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save model", self._last_folder("model.safetensors"), MODEL_FILTER)
        if path:
            self.save_model_to(path if path.endswith(".safetensors") else path + ".safetensors")

    def save_model_to(self, path: str | Path) -> None:
        """Write the current model to ``path`` (atomically; see ``scratchnet.model.save_model``)."""
        try:
            save_model(self._model, path)
        except OSError as error:
            reason = error.strerror or str(error)
            self.notice.show_message(f"<b>Could not save the model.</b> {_html(f'{path}: {reason}')}", "error")
            return
        self.settings.setValue("last_folder", str(Path(path).parent))
        self.statusBar().showMessage(f"Saved {path}", 5000)

    def open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", self._last_folder(""), MODEL_FILTER)
        if path:
            self.open_model_from(path)

    def open_model_from(self, path: str | Path) -> None:
        """Load a model file; its weights become the current ones and its settings fill the panel."""
        if self._state != IDLE:
            return
        try:
            model = load_model(path)
            if self._dataset is not None:
                model.predict_test_set(self._dataset)  # refuses a model for other images or classes, or that overflows on them
        except ModelFileError as error:
            self.notice.show_message(f"<b>Could not open the model.</b> {_html(str(error))}", "error")
            return
        warnings = []
        try:
            config = TrainConfig.from_dict(model.config)
            adjusted = self.controls.set_config(config)
            if adjusted:
                unshown = ", ".join(f"{self.controls.label_of(name)} {getattr(config, name):,}" for name in adjusted)
                warnings.append(
                    f"The model was trained with settings the panel cannot show ({_html(unshown)}); "
                    "the panel shows the nearest values it allows."
                )
        except (ConfigError, TypeError):
            warnings.append("The model file has no usable training settings; the panel keeps its own.")
        mismatch = model.dataset_mismatch(self._dataset) if self._dataset is not None else None
        if mismatch:
            warnings.append(f"{_html(_sentence(mismatch))} {DIFFERENT_DATASET}")
        if warnings:
            self.notice.show_message("<br>".join(warnings), "warning")
        self.settings.setValue("last_folder", str(Path(path).parent))
        self._set_model(model, fresh=False, epochs=model.metrics.get("epochs"))  # load_model checked it: a number >= 0, or None
        test = model.metrics.get("test_accuracy")
        tested = f", test accuracy {100 * test:.2f} %" if isinstance(test, (int, float)) else ""
        self.statusBar().showMessage(f"Opened {Path(path).name}: {'-'.join(map(str, model.layer_sizes))} {model.activation}{tested}", 10000)

    def export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", self._last_folder("curves.csv"), "CSV files (*.csv)")
        if path:
            self._export(self.curves.export_csv, path)

    def export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export curves", self._last_folder("curves.png"), "PNG images (*.png)")
        if path:
            self._export(self.curves.export_png, path)

    def _export(self, write, path: str) -> None:
        try:
            write(path)
        except OSError as error:
            self.notice.show_message(f"Could not export the curves: {_html(str(error))}", "error")
            return
        self.settings.setValue("last_folder", str(Path(path).parent))
        self.statusBar().showMessage(f"Exported {path}", 5000)

    def _last_folder(self, file_name: str) -> str:
        return str(Path(self.settings.value("last_folder", str(Path.home()))) / file_name)

    # ---- state and status -------------------------------------------------------------------------

    def _set_state(self, state: str) -> None:
        changed = state != self._state
        self._state = state
        run = self._run
        if run is not None:
            if state == PAUSED and run.paused_since is None:
                run.paused_since = run.clock.elapsed()
            elif state == RUNNING and run.paused_since is not None:
                run.paused_ms += run.clock.elapsed() - run.paused_since
                run.paused_since = None
        self.state_label.setText({IDLE: "Idle", RUNNING: "Training", PAUSED: "Paused"}[state])
        self.state_label.setProperty("state", state)
        self.state_label.style().unpolish(self.state_label)
        self.state_label.style().polish(self.state_label)
        self.pause_action.setChecked(state == PAUSED)
        self.pause_action.setText("&Resume" if state == PAUSED else "&Pause")
        self.pause_action.setIcon(icon("play" if state == PAUSED else "pause"))
        self._update_actions()
        if changed:
            self.run_state_changed.emit(state)

    def _update_actions(self) -> None:
        idle, has_data, valid = self._state == IDLE, self._dataset is not None, self.controls.valid
        self.start_action.setEnabled(idle and has_data and valid)
        self.step_action.setEnabled(has_data and (valid or not idle))
        self.pause_action.setEnabled(not idle)
        self.stop_action.setEnabled(not idle)
        self.reset_action.setEnabled(idle and has_data)
        self.new_action.setEnabled(idle)
        self.open_action.setEnabled(idle)
        self.save_action.setEnabled(self._model is not None)
        self.data_action.setEnabled(idle)
        if not has_data:
            why = "waiting for the data"
        elif not valid:
            why = "a setting on the left is impossible (see the message under the settings)"
        elif not idle:
            why = "a run is in progress"
        else:
            why = self._start_explanation()
        self.start_action.setToolTip(f"Start training (F5): {why}")

    def _start_explanation(self) -> str:
        try:
            continues = self._weights_for(self.controls.config()) is not None
        except ConfigError:
            return "fix the settings first"
        if continues:
            trained = "" if self._weights_epochs is None else f" ({epochs_text(self._weights_epochs)} trained)"
            return f"continues from the current weights{trained}; Reset weights to start afresh"
        return "starts from fresh random weights"

    def _update_status(self, run: _Run | None = None) -> None:
        """Refresh the status bar from the latest batch (a few times a second: faster would be unreadable)."""
        run = run or self._run
        if run is None:
            return
        seconds = run.active_seconds()
        self.elapsed_label.setText(f"elapsed {_duration(seconds)}")
        last = run.last_batch
        if last is None:
            return
        epochs = run.config.epochs
        self.epoch_label.setText(f"Epoch {last.epoch} / {epochs}")
        self.progress_bar.setValue(int(1000 * last.progress / epochs))
        self.speed_label.setText(f"{last.samples_per_second:,.0f} samples/s")
        self.lr_label.setText(f"lr {last.lr:.3g}")
        if self._run is run:
            self.eta_label.setText(f"ETA {_duration(seconds / last.progress * (epochs - last.progress))}")
        else:
            self.eta_label.setText("finished" if last.progress >= epochs else "ended early")

    # ---- settings and closing ---------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        else:
            self.resizeDocks([self.dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
        preset = self.settings.value("preset")
        try:
            if preset and preset != CUSTOM:
                self.controls.select_preset(preset)
            elif self.settings.value("config"):
                self.controls.set_config(TrainConfig.from_dict(json.loads(self.settings.value("config"))))
        except (ScratchNetError, ValueError, TypeError):
            pass  # an old or hand-edited settings file: keep the default preset

    def save_settings(self) -> None:
        """Remember the window's geometry and layout, the settings and the data folder."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("preset", self.controls.preset_name)
        self.settings.setValue("config", json.dumps(self.controls.values()))
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember the settings, stop any run at once (no test-set scoring) and wait for the threads."""
        self.save_settings()
        run, self._run = self._run, None
        if run is not None:
            run.worker.abort()
            run.thread.quit()
            run.thread.wait()
        self._status_timer.stop()
        self.curves.set_running(False)
        self.loader.shutdown()
        super().closeEvent(event)


def _sentence(text: str) -> str:
    """``text`` as a sentence: a capital first letter and one full stop at the end."""
    text = text.rstrip(". ")
    return text[:1].upper() + text[1:] + "."


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")
