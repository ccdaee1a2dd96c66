"""Export a run as code — a Jupyter notebook, a NumPy script or a PyTorch script — from File ▸ Export run as code…
(the current model's run, or the model itself) and from the Runs tab (the selected run). The export itself is the
core's (``scratchnet.export``); this module asks for the file and tells how it went, in the session's messages."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from scratchnet import atomic
from scratchnet.export import KINDS, ExportError, Recipe, recipe_of_model, recipe_of_run, write_export
from scratchnet.model import Model

from .session import Session

FILTERS = {  # the file dialog's filter for each kind of export: choosing one chooses the kind
    "notebook": "Jupyter notebook (*.ipynb)",
    "script": "NumPy script (*.py)",
    "torch": "PyTorch script (*.py)",
}
SUGGESTED_NAMES = {"notebook": "{}.ipynb", "script": "{}.py", "torch": "{}_torch.py"}


def current_recipe(session: Session) -> Recipe | None:
    """The recipe of the current model: its recorded run's when it is one's, else the model's own settings;
    None, with a notice saying why, when there is nothing to export."""
    if session.model_run_id is not None and session.store is not None:
        return recipe_or_notice(session, session.model_run_id)
    if session.model is None:
        session.warn("There is no model to export yet: train one, or open one.")
        return None
    return recipe_or_notice(session, session.model)


def recipe_or_notice(session: Session, source: int | Model) -> Recipe | None:
    """The recipe of a recorded run (its id) or of a model; None, with a notice, when it cannot be exported."""
    try:
        if isinstance(source, Model):
            return recipe_of_model(source, "The current model")
        if session.store is None:
            raise ExportError("the run store could not be opened")
        return recipe_of_run(session.store, source)
    except ExportError as error:
        session.warn(f"Cannot export: {error}.", "error")
        return None


def export_with_dialog(parent: QWidget, session: Session, recipe: Recipe | None, folder: Path) -> Path | None:
    """Ask where to write ``recipe`` and in which form (the dialog's file type), then write it; the path written
    (None when cancelled or refused)."""
    if recipe is None:
        return None
    stem = recipe.title.lower().replace(" ", "_")
    suggested = folder / SUGGESTED_NAMES["notebook"].format(stem)
    path, chosen = QFileDialog.getSaveFileName(
        parent, f"Export {recipe.title.lower()} as code", str(suggested), ";;".join(FILTERS.values())
    )
    if not path:
        return None
    kind = next((kind for kind, text in FILTERS.items() if text == chosen), "notebook")
    return write(session, recipe, kind, Path(path))


def write(session: Session, recipe: Recipe, kind: str, path: Path) -> Path | None:
    """Write the export of ``kind`` at ``path`` (with the kind's suffix when it has none, unless a file of that
    name exists: that one the user did not name); the data folder it loads by default is the session's."""
    if not path.suffix:
        named = path.with_suffix(KINDS[kind])
        if not atomic.unsafe_target(named) and named.exists():
            session.warn(f"Not exported: {named} exists. Name it in full to replace it.", "error")
            return None
        path = named
    folder = session.dataset.folder if session.dataset is not None else None
    try:
        write_export(recipe, kind, path, folder)
    except ExportError as error:
        session.warn(f"Could not export: {error}.", "error")
        return None
    session.say(f"Exported {recipe.title.lower()} to {path}", 8000)
    return path
