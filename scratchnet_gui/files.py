"""File ▸ Open model, Save model, Export curves and Export run as code: the file dialogs and the folder last used. The session opens
and saves; a file that cannot be read or written is told in its notice bar (nothing else changes then)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QWidget

from .run_export import current_recipe, export_with_dialog
from .saved_settings import SavedValues
from .session import Session

MODEL_FILTER = "ScratchNet models (*.safetensors)"


class FileCommands:
    """The window's file commands over ``session``, with dialogs over ``window``; ``settings`` remembers the folder
    last used."""

    def __init__(self, window: QWidget, session: Session, settings: QSettings):
        self.window, self.session, self.settings = window, session, settings

    def save_model(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self.window, "Save model", self._last_folder("model.safetensors"), MODEL_FILTER)
        if path:
            self.save_model_to(path if path.endswith(".safetensors") else path + ".safetensors")

    def save_model_to(self, path: str | Path) -> None:
        """Write the current model to ``path`` (atomically; see ``scratchnet.model.save_model``)."""
        try:
            self.session.save_model(path)
        except OSError as error:
            self.session.warn(f"Could not save the model. {path}: {error.strerror or error}", "error")
            return
        self._remember_folder(path)

    def open_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open model", self._last_folder(""), MODEL_FILTER)
        if path:
            self.open_model_from(path)

    def open_model_from(self, path: str | Path) -> None:
        """Make a model file's weights the current ones (``Session.open_model``)."""
        if self.session.open_model(path) is not None:
            self._remember_folder(path)

    def export(self, write: Callable[[str], None], file_name: str, file_filter: str) -> None:
        """Export the curves with ``write(path)`` to a file the user chooses (``file_name`` suggested)."""
        path, _ = QFileDialog.getSaveFileName(self.window, "Export curves", self._last_folder(file_name), file_filter)
        if not path:
            return
        try:
            write(path)
        except OSError as error:
            self.session.warn(f"Could not export the curves: {error}", "error")
            return
        self._remember_folder(path)
        self.session.say(f"Exported {path}")

    def export_run_action(self) -> QAction:
        """File ▸ Export run as code…, enabled while there is a model (see ``export_run``)."""
        action = QAction("Export run as c&ode…", self.window)
        tip = "Write the current model's run as a Jupyter notebook, a NumPy script or a PyTorch script"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(self.export_run)
        action.setEnabled(self.session.model is not None)
        self.session.model_changed.connect(lambda model: action.setEnabled(model is not None))
        return action

    def export_run(self) -> None:
        """Export the current model's run (the model's own settings, when it is no recorded run's) as code, in the
        form and to the file the user chooses."""
        path = export_with_dialog(self.window, self.session, current_recipe(self.session), Path(self._last_folder("")))
        if path is not None:
            self._remember_folder(path)

    def _last_folder(self, file_name: str) -> str:
        saved = SavedValues(self.settings)
        folder = saved.text("last_folder") or str(Path.home())
        if report := saved.report():
            self.session.warn(report)
        return str(Path(folder) / file_name)

    def _remember_folder(self, path: str | Path) -> None:
        self.settings.setValue("last_folder", str(Path(path).parent))
