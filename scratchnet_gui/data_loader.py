"""Finding, downloading and reading the dataset without freezing the window.

``DataLoader`` (no widgets; the session owns it) runs ``scratchnet.data.locate_or_download`` and
``load_dataset`` on a worker thread. A download (first run, no data anywhere) is shown by a
``DownloadDialog`` following the loader; its Cancel button makes the progress callback raise
``DownloadCancelled``, which the core turns into a clean stop with no partial file left behind. When
the data cannot be found or fetched, ``MissingDataDialog`` says which files are needed and where, and
offers a folder picker.
"""

from __future__ import annotations

import os
import threading
import time

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QWidget

from scratchnet.data import cache_dir, load_dataset, locate_or_download
from scratchnet.errors import DataError, DownloadCancelled

PROGRESS_INTERVAL = 0.05  # seconds between two progress reports from the download thread


class _LoadWorker(QObject):
    """Locates (downloading if needed) and loads the dataset on its thread; reports through signals."""

    status = Signal(str)
    progress = Signal(int, int, str)  # bytes done, bytes total (0 if unknown), file name
    loaded = Signal(object)  # scratchnet.data.Dataset
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, data_dir: str | os.PathLike | None):
        super().__init__()
        self._data_dir = data_dir
        self._cancel = threading.Event()
        self._last_report = 0.0

    def cancel(self) -> None:
        """Ask the download to stop at its next chunk (thread-safe)."""
        self._cancel.set()

    @Slot()
    def run(self) -> None:
        try:
            self.status.emit("Looking for MNIST…")
            folder = locate_or_download(self._data_dir, progress=self._report)
            self.status.emit(f"Reading the dataset from {folder}…")
            self.loaded.emit(load_dataset(folder))
        except DownloadCancelled:
            self.cancelled.emit()
        except DataError as error:
            self.failed.emit(str(error))
        except Exception as error:  # an unreadable disk, a permissions problem: the window must hear about it
            self.failed.emit(f"{type(error).__name__}: {error}")

    def _report(self, done: int, total: int, file_name: str) -> None:
        if self._cancel.is_set():
            raise DownloadCancelled("the download was cancelled")
        now = time.monotonic()
        if now - self._last_report >= PROGRESS_INTERVAL or (total and done >= total):
            self._last_report = now
            self.progress.emit(done, total, file_name)


class DataLoader(QObject):
    """Loads a dataset in the background; ``loaded``, ``failed`` or ``cancelled`` ends every ``start``.

    ``status`` describes what it is doing, for the window to show while it waits; ``progress`` reports a
    download (bytes done, bytes total or 0 when unknown, file name)."""

    status = Signal(str)
    progress = Signal(int, int, str)
    loaded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: _LoadWorker | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None

    def start(self, data_dir: str | os.PathLike | None = None) -> None:
        """Look for the data (``data_dir`` first, see ``scratchnet.data.resolve_data_dir``) and load it."""
        if self.busy:
            return
        self._worker = _LoadWorker(data_dir)
        self._thread = QThread(self)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.status.connect(self.status)
        self._worker.progress.connect(self.progress)
        self._worker.loaded.connect(self._loaded)
        self._worker.failed.connect(self._failed)
        self._worker.cancelled.connect(self._cancelled)
        self._thread.start()

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def shutdown(self) -> None:
        """Cancel any download and wait for the thread (the window is closing)."""
        if self._thread is not None:
            self._worker.cancel()
            self._finish()

    def _loaded(self, dataset) -> None:
        self._finish()
        self.loaded.emit(dataset)

    def _failed(self, message: str) -> None:
        self._finish()
        self.failed.emit(message)

    def _cancelled(self) -> None:
        self._finish()
        self.cancelled.emit()

    def _finish(self) -> None:
        if self._thread is None:  # a report queued before shutdown() arrived after it
            return
        self._thread.quit()
        self._thread.wait()
        self._thread.deleteLater()
        self._thread = self._worker = None


class DownloadDialog(QObject):
    """Shows a ``loader``'s download in a window-modal progress dialog (``dialog`` while one is under way),
    from its first progress report to the end of the load; Cancel cancels it."""

    def __init__(self, loader: DataLoader, parent_widget: QWidget):
        super().__init__(parent_widget)
        self._loader = loader
        self._parent_widget = parent_widget
        self.dialog: QProgressDialog | None = None
        loader.progress.connect(self._show_progress)
        for ended in (loader.loaded, loader.failed, loader.cancelled):
            ended.connect(self._close)

    @Slot(int, int, str)
    def _show_progress(self, done: int, total: int, file_name: str) -> None:
        if self.dialog is None:
            dialog = QProgressDialog("Downloading MNIST…", "Cancel", 0, 1000, self._parent_widget)
            dialog.setWindowTitle("Downloading MNIST")
            dialog.setWindowModality(Qt.WindowModality.WindowModal)
            dialog.setMinimumDuration(0)
            dialog.setAutoClose(False)
            dialog.setAutoReset(False)
            dialog.canceled.connect(self._loader.cancel)
            self.dialog = dialog
            dialog.show()
        megabytes = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        self.dialog.setLabelText(f"Downloading {file_name} into {cache_dir()}\n{megabytes}")
        self.dialog.setValue(int(1000 * done / total) if total else 0)

    def _close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None


class MissingDataDialog(QMessageBox):
    """Explains what data is missing; offers to choose a folder that has it, or to try again.

    Non-blocking: show it with ``open()``; it emits ``folder_chosen(str)`` or ``retry_requested()``."""

    folder_chosen = Signal(str)
    retry_requested = Signal()

    def __init__(self, message: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("MNIST is needed")
        self.setIcon(QMessageBox.Icon.Warning)
        self.setText("ScratchNet needs the MNIST files to train, and could not find or download them.")
        self.setInformativeText(message)
        self.choose_button = self.addButton("Choose folder…", QMessageBox.ButtonRole.AcceptRole)
        self.retry_button = self.addButton("Try again", QMessageBox.ButtonRole.ActionRole)
        self.addButton("Close", QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.choose_button)
        self.buttonClicked.connect(self._clicked)

    def _clicked(self, button) -> None:
        if button is self.retry_button:
            self.retry_requested.emit()
        elif button is self.choose_button:
            folder = QFileDialog.getExistingDirectory(self.parentWidget(), "Choose the folder holding the MNIST files")
            if folder:
                self.folder_chosen.emit(folder)
