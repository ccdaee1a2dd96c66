"""The main window: settings on the left, tabs in the centre, run controls above, progress below.

The window builds the menus, toolbar, dock and tabs and wires each of them to ``self.session``, a ``Session``
(see ``session.py``) that holds the app's state: the dataset, the current model, the run, the current input,
the test-set answers, the recorded runs. Panels follow the session's signals and call its commands, never each
other; the window turns the user's menu and toolbar actions into the session's commands and shows what it
reports. It holds no run logic of its own.

For panels added later: ``add_tab(widget, title, group=None)`` adds a tab after the existing ones, or inside a
group's tab; ``show_tab(title)`` and ``tab_titles()`` switch to and list them.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMargins, QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from scratchnet.config import TrainConfig
from scratchnet.data import ENV_VAR, Dataset, find_files
from scratchnet.errors import ConfigError

from .actions import add_actions, icon
from .arithmetic_view import ArithmeticView
from .confidence_view import ConfidenceView
from .confusion_view import ConfusionView
from .curves_panel import CurvesPanel
from .data_loader import DownloadDialog, MissingDataDialog
from .draw_pad import DrawPad
from .edit_panel import EditPanel
from .files import FileCommands
from .handwriting_panel import HandwritingPanel
from .health_view import HealthView
from .image_browser import ImageBrowser
from .maps_view import MapsView
from .messages import sentence
from .network_view import NetworkView
from .robustness_view import RobustnessView
from .runs_panel import RunsPanel
from .saved_settings import SavedValues, open_settings
from .session import RunOutcome, RunState, Session, memory_warning
from .settings_panel import SettingsPanel
from .shortcuts import FocusedControlsKeepSpace
from .status_bar import NoticeBar, StatusBar, html
from .unit_view import UnitView
from .visuals import hold_widest
from .window_menus import build_help_menu, build_view_menu
from .window_tabs import WindowTabs

KEY = QKeySequence.StandardKey
ACTIONS = {  # text, icon, shortcut and tooltip of each action in the menus and the toolbar
    "start": ("&Start", "play", "F5", "Train with the settings on the left"),
    "pause": ("&Pause", "pause", "Space", "Pause after the current batch; again to resume"),
    "step": ("Step one &epoch", "step", "F10", "Train to the end of the current epoch, then pause"),
    "stop": ("S&top", "stop", "Shift+F5", "End the run after the current batch, keeping the weights"),
    "reset": ("&Reset weights", "reset", "Ctrl+Shift+R", "Discard the trained weights: the next run starts from fresh random ones"),
    "new": ("&New", "new", KEY.New, "Fresh weights, no curves, default settings"),
    "open": ("&Open model…", "open", KEY.Open, "Load a saved .safetensors model"),
    "save": ("&Save model…", "save", KEY.Save, "Save the current network to a file"),
    "export_csv": ("Export curves as &CSV…", "export", "Ctrl+E", "Write every curve to a CSV file"),
    "export_png": ("Export curves as &PNG…", None, "Ctrl+Shift+E", "Save a picture of the plots"),
    "data": ("Choose &data folder…", None, None, "Load MNIST from another folder"),
    "quit": ("&Quit", None, KEY.Quit, "Close ScratchNet"),
}
TEST_SET, INSIDE = "Test set", "Inside the network"  # tabs with tabs of their own: the test set's views, the network's
DOCK_WIDTH = 310  # the settings panel's first width; the user's own is remembered


class MainWindow(QMainWindow):
    """ScratchNet's window over a ``Session``. Call ``load_data()`` after showing it."""

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None):
        """``settings``: where the window remembers its layout and settings (default: ``saved_settings.open_settings()``)."""
        super().__init__(parent)
        settings, moved_aside = (settings, None) if settings is not None else open_settings()
        self.settings, self.saved = settings, SavedValues(settings)
        self.setWindowTitle("ScratchNet")
        self.setWindowIcon(icon("scratchnet"))
        self.session = Session(confirm_low_memory=self._ask_to_start_anyway, settings=self.settings, parent=self)
        self._missing_dialog: MissingDataDialog | None = None

        self.settings_panel = SettingsPanel()
        self.notice = NoticeBar()
        self.files = FileCommands(self, self.session, self.settings)
        self.tabs = WindowTabs()
        self._build_tabs()
        central = QWidget()
        layout = QVBoxLayout(central, spacing=0, contentsMargins=QMargins(0, 0, 0, 0))
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._build_dock()
        self._build_actions()
        self.setStatusBar(StatusBar())
        self.download = DownloadDialog(self.session.loader, self)
        FocusedControlsKeepSpace(self)
        self._wire_session()
        self.settings_panel.config_changed.connect(self._update_actions)
        self.settings_panel.validity_changed.connect(lambda _: self._update_actions())
        self._restore_settings()
        self._update_actions()
        self._report_dropped_settings(moved_aside)

    # ---- building -----------------------------------------------------------------------------------

    def _build_tabs(self) -> None:
        """The panels, each on a tab of its own or inside a group's tab; every one follows the session."""
        self.curves, self.pad, self.browser, self.confusion = CurvesPanel(), DrawPad(), ImageBrowser(), ConfusionView()
        self.robustness, self.confidence = RobustnessView(), ConfidenceView()
        self.network, self.unit, self.arithmetic, self.editing = NetworkView(), UnitView(), ArithmeticView(), EditPanel()
        self.maps, self.health, self.handwriting, self.runs = MapsView(), HealthView(), HandwritingPanel(), RunsPanel()
        for panel, title, group in (
            (self.curves, "Training", None),
            (self.pad, "Drawing pad", None),
            (self.browser, "Test images", TEST_SET),
            (self.confusion, "Confusion matrix", TEST_SET),
            (self.robustness, "Robustness", TEST_SET),
            (self.confidence, "Confidence", TEST_SET),
            (self.network, "Overview", INSIDE),
            (self.unit, "Unit", INSIDE),
            (self.arithmetic, "One example", INSIDE),
            (self.editing, "Edits", INSIDE),
            (self.maps, "Maps", INSIDE),
            (self.health, "Health", None),  # inside the layers while it learns, and hints when it goes wrong
            (self.handwriting, "My handwriting", None),
            (self.runs, "Runs", None),  # the run store: its selected runs overlay the plots
        ):
            self.add_tab(panel, title, group)

    def _build_dock(self) -> None:
        self.dock = QDockWidget("Settings", self)
        self.dock.setObjectName("settingsDock")
        self.dock.setWidget(self.settings_panel)
        features = QDockWidget.DockWidgetFeature
        self.dock.setFeatures(features.DockWidgetMovable | features.DockWidgetFloatable | features.DockWidgetClosable)
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
        self.start_action = self._action(*ACTIONS["start"], self.start)
        self.pause_action = self._action(*ACTIONS["pause"], self.toggle_pause)
        self.pause_action.setCheckable(True)
        self.step_action = self._action(*ACTIONS["step"], self.step)
        self.stop_action = self._action(*ACTIONS["stop"], self.session.stop)
        self.reset_action = self._action(*ACTIONS["reset"], self.reset_weights)
        self.new_action = self._action(*ACTIONS["new"], self.new)
        self.open_action = self._action(*ACTIONS["open"], self.files.open_model)
        self.save_action = self._action(*ACTIONS["save"], self.files.save_model)
        self.export_csv_action = self._action(
            *ACTIONS["export_csv"], lambda: self.files.export(self.curves.export_csv, "curves.csv", "CSV files (*.csv)")
        )
        self.export_png_action = self._action(
            *ACTIONS["export_png"], lambda: self.files.export(self.curves.export_png, "curves.png", "PNG images (*.png)")
        )
        self.data_action = self._action(*ACTIONS["data"], self.choose_data_folder)
        self.quit_action = self._action(*ACTIONS["quit"], self.close)

        run = (self.start_action, self.pause_action, self.step_action, self.stop_action, None, self.reset_action)
        exports = (self.export_csv_action, self.export_png_action, self.files.export_run_action())
        files = (self.new_action, self.open_action, self.save_action, None, *exports)
        menu = self.menuBar()
        add_actions(menu.addMenu("&File"), (*files, None, self.data_action, None, self.quit_action))
        add_actions(menu.addMenu("&Training"), run)
        build_view_menu(self, self.dock, self.curves, self.tabs)
        build_help_menu(self)

        toolbar = self.addToolBar("Run")
        toolbar.setObjectName("runToolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        add_actions(toolbar, (*run, None, self.open_action, self.save_action, self.export_csv_action))
        hold_widest(toolbar.widgetForAction(self.pause_action), ("&Pause", "&Resume"))  # Pause → Resume moves nothing

    def _wire_session(self) -> None:
        """Panels follow the session's signals; the window shows its notices and the data's progress."""
        session = self.session
        self.settings_panel.follow(session)
        self.statusBar().follow(session)
        for panel in self.tabs.panels():
            panel.follow(session)
        asked = {self.pad: session.test_image_opened, self.browser: session.test_images_requested, self.unit: session.unit_opened}
        for panel, request in {**asked, self.maps: session.maps_opened}.items():  # a panel asked for: bring it forward
            request.connect(lambda *_, panel=panel: self.tabs.show_widget(panel))
        session.model_changed.connect(lambda _: self._update_actions())
        session.dataset_changed.connect(self._dataset_changed)
        session.state_changed.connect(self._show_state)
        session.run_started.connect(lambda *_: self.notice.clear())
        session.run_finished.connect(self._run_finished)
        session.run_failed.connect(lambda message: self.notice.show_message(f"<b>Training failed.</b> {html(message)}", "error"))
        session.notice.connect(lambda text, level: self.notice.show_message(html(text), level))
        session.data_status.connect(self._data_status)
        session.data_failed.connect(self._data_failed)

    # ---- tabs ------------------------------------------------------------------------------------------

    def add_tab(self, widget: QWidget, title: str, group: str | None = None) -> None:
        """Add a panel as a tab after the existing ones, or inside the tab of ``group`` (see ``window_tabs.py``)."""
        self.tabs.add(widget, title, group)

    def show_tab(self, title: str) -> None:
        """Bring the panel or group called ``title`` forward (``ValueError`` when there is none)."""
        self.tabs.show_title(title)

    def tab_titles(self) -> list[str]:
        """Every panel's title, in the order of the tabs."""
        return self.tabs.titles()

    # ---- data -------------------------------------------------------------------------------------

    def load_data(self, data_dir: str | None = None) -> None:
        """Find and load the dataset in the background: ``data_dir``, else ``$SCRATCHNET_DATA_DIR``, else the
        last folder used, else the cache, downloading MNIST when it is nowhere."""
        if data_dir is None and not os.environ.get(ENV_VAR):
            remembered = self.saved.text("data_dir")
            if remembered and find_files(Path(remembered)) is not None:
                data_dir = remembered
        self._report_dropped_settings()
        self.session.load_data(data_dir)

    def choose_data_folder(self) -> None:
        start = self.saved.text("data_dir") or ""  # the folder loaded last
        self._report_dropped_settings()
        folder = QFileDialog.getExistingDirectory(self, "Choose the folder holding the MNIST files", start)
        if folder:
            self.load_data(folder)

    def _data_status(self, text: str) -> None:
        if not self.notice.shows_other_than("data"):  # the data's progress never covers a notice that matters
            self.notice.show_message(text, "info", "data")
        self.statusBar().showMessage(text)

    def _dataset_changed(self, dataset: Dataset) -> None:
        if dataset.folder:
            self.settings.setValue("data_dir", str(dataset.folder))
        self.notice.clear("data")
        if self.session.model is None:
            self.reset_weights()
        self._update_actions()

    def _data_failed(self, message: str) -> None:
        """Say why there is no data once: in a dialog offering a folder, then (closed with none) in the notice bar."""
        self.notice.clear("data")
        self.statusBar().showMessage("No data: choose the folder holding the MNIST files (File ▸ Choose data folder…)")
        if self._missing_dialog is not None:
            self._missing_dialog.close()
            self._missing_dialog.deleteLater()
        self._missing_dialog = MissingDataDialog(message, self)
        self._missing_dialog.folder_chosen.connect(self.load_data)
        self._missing_dialog.retry_requested.connect(self.load_data)
        self._missing_dialog.finished.connect(lambda: self._data_still_missing(message))
        self._missing_dialog.open()

    def _data_still_missing(self, message: str) -> None:
        if not self.session.loader.busy:  # closed without a folder to try
            self.notice.show_message(f"<b>No data to train on.</b> {html(message)}", "error", "data")

    # ---- run commands -------------------------------------------------------------------------------

    def _config_or_notice(self) -> TrainConfig | None:
        """The settings on the left, or None (and a notice saying what is impossible)."""
        try:
            return self.settings_panel.config()
        except ConfigError as error:
            self.notice.show_message(f"Cannot start: {html(str(error))}.", "error")
            return None

    def start(self) -> None:
        """Start a run with the settings on the left, from the current weights when they fit them."""
        config = self._config_or_notice()
        if config is not None:
            self.session.start(config)

    def _ask_to_start_anyway(self, needed: int, available: int | None) -> bool:
        """Asked by the session before a run that may not fit in memory: True to start it anyway."""
        answer = QMessageBox.warning(
            self,
            "Not enough memory",
            f"{memory_warning(needed, available)}\n\nUse fewer or narrower layers, a smaller batch or float32 — or start anyway?",
            QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Ignore,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Ignore

    def toggle_pause(self) -> None:
        """Pause the run after the current batch, or resume it."""
        self.session.resume() if self.session.state == RunState.PAUSED else self.session.pause()
        self.pause_action.setChecked(self.session.state == RunState.PAUSED)

    def step(self) -> None:
        """Train to the end of the current epoch (a whole epoch when no run is under way), then pause."""
        if self.session.state.active:
            self.session.step()
        elif (config := self._config_or_notice()) is not None:
            self.session.step(config)

    def reset_weights(self) -> None:
        self.session.reset_weights(self._weights_config())

    def new(self) -> None:
        """Default settings, fresh weights and empty plots."""
        if not self.session.state.active:
            self.settings_panel.select_preset("default")
            self.session.new(self._weights_config())

    def _weights_config(self) -> TrainConfig:
        """The settings fresh weights are drawn from: the panel's, or the defaults while those are impossible."""
        try:
            return self.settings_panel.config()
        except ConfigError:
            return TrainConfig()

    # ---- what the session reports ----------------------------------------------------------------

    def _run_finished(self, outcome: RunOutcome) -> None:
        if outcome.status == "diverged":
            self.notice.show_message(f"<b>Training diverged.</b> {html(sentence(outcome.message))}", "warning")

    def _show_state(self, state: RunState) -> None:
        paused = state == RunState.PAUSED
        self.pause_action.setChecked(paused)
        self.pause_action.setText("&Resume" if paused else "&Pause")
        self.pause_action.setIcon(icon("play" if paused else "pause"))
        self._update_actions()

    def _update_actions(self) -> None:
        session = self.session
        idle, has_data, valid = not session.state.active, session.dataset is not None, self.settings_panel.valid
        self.start_action.setEnabled(idle and has_data and valid)
        self.step_action.setEnabled(has_data and (valid or not idle))
        self.pause_action.setEnabled(not idle)
        self.stop_action.setEnabled(not idle)
        self.reset_action.setEnabled(idle and has_data)
        self.new_action.setEnabled(idle)
        self.open_action.setEnabled(idle)
        self.save_action.setEnabled(session.model is not None)
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
            return self.session.what_start_does(self.settings_panel.config())
        except ConfigError:
            return "fix the settings first"

    # ---- settings and closing ---------------------------------------------------------------------

    def _restore_settings(self) -> None:
        """The window's size and layout and the settings panel as last saved; what is unusable is dropped."""
        if not self.saved.restore("window/geometry", self.restoreGeometry, "window geometry"):
            self.resize(1280, 800)
        if not self.saved.restore("window/state", self.restoreState, "window layout"):
            self.resizeDocks([self.dock], [DOCK_WIDTH], Qt.Orientation.Horizontal)
        self.settings_panel.restore_from(self.saved)

    def _report_dropped_settings(self, *notices: str | None) -> None:
        """Tell in the notice bar what was wrong with the saved settings (nothing when all was well)."""
        text = " ".join(notice for notice in (*notices, self.saved.report()) if notice)
        if text:
            self.session.warn(text)

    def save_settings(self) -> None:
        """Remember the window's geometry and layout, the settings and the data folder."""
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings_panel.save_to(self.settings)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Remember the settings, stop any run at once (no test-set scoring) and wait for the threads."""
        self.save_settings()
        self.session.shutdown()
        self.curves.set_running(False)
        super().closeEvent(event)
