"""File ▸ Open model, Save model and Export curves: the file dialogs, the folder last used, and a notice
when a file cannot be read or written (nothing else changes then)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from scratchnet.errors import ModelFileError

from .session import DIFFERENT_DATASET, Session, sentence
from .settings_panel import SettingsPanel
from .status_bar import NoticeBar, html

MODEL_FILTER = "ScratchNet models (*.safetensors)"


class FileCommands:
    """The window's file commands over ``session``: an opened model's settings fill ``controls``; problems
    show in ``notice``; ``settings`` remembers the folder last used."""

    def __init__(self, window: QWidget, session: Session, controls: SettingsPanel, notice: NoticeBar, settings: QSettings):
        self.window, self.session, self.controls, self.notice, self.settings = window, session, controls, notice, settings

    def save_model(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save model", self._last_folder("model.safetensors"), MODEL_FILTER)
        if path:
            self.save_model_to(path if path.endswith(".safetensors") else path + ".safetensors")

    def save_model_to(self, path: str | Path) -> None:
        """Write the current model to ``path`` (atomically; see ``scratchnet.model.save_model``)."""
        try:
            self.session.save_model(path)
        except OSError as error:
            reason = error.strerror or str(error)
            self.notice.show_message(f"<b>Could not save the model.</b> {html(f'{path}: {reason}')}", "error")
            return
        self._remember_folder(path)

    def open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open model", self._last_folder(""), MODEL_FILTER)
        if path:
            self.open_model_from(path)

    def open_model_from(self, path: str | Path) -> None:
        """Load a model file; its weights become the current ones and its settings fill the panel."""
        try:
            model = self.session.open_model(path)
        except ModelFileError as error:
            self.notice.show_message(f"<b>Could not open the model.</b> {html(str(error))}", "error")
            return
        if model is None:  # a run is under way
            return
        self._remember_folder(path)
        mismatch = self.session.dataset_mismatch()
        warnings = [self.controls.show_settings_of(model.config), mismatch and f"{sentence(mismatch)} {DIFFERENT_DATASET}"]
        if any(warnings):
            self.notice.show_message("<br>".join(html(warning) for warning in warnings if warning), "warning")

    def export(self, write: Callable[[str], None], file_name: str, file_filter: str) -> None:
        """Export the curves with ``write(path)`` to a file the user chooses (``file_name`` suggested)."""
        path, _ = QFileDialog.getSaveFileName(self.window, "Export curves", self._last_folder(file_name), file_filter)
        if not path:
            return
        try:
            write(path)
        except OSError as error:
            self.notice.show_message(f"Could not export the curves: {html(str(error))}", "error")
            return
        self._remember_folder(path)
        self.session.status.emit(f"Exported {path}", 5000)

    def _last_folder(self, file_name: str) -> str:
        return str(Path(self.settings.value("last_folder", str(Path.home()))) / file_name)

    def _remember_folder(self, path: str | Path) -> None:
        self.settings.setValue("last_folder", str(Path(path).parent))
