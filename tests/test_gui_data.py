"""Start-up without data: the window waits visibly, explains what is missing, and a download can be cancelled."""

import threading

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QPushButton

from scratchnet_gui import data_loader
from scratchnet_gui.data_loader import MissingDataDialog
from scratchnet_gui.main_window import MainWindow


def make_window(qtbot, tmp_path) -> MainWindow:
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    return window


def test_a_folder_without_the_files_is_explained_with_a_folder_picker(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    window.load_data(str(empty))
    qtbot.waitUntil(lambda: window.findChild(MissingDataDialog) is not None, timeout=10_000)
    dialog = window.findChild(MissingDataDialog)
    assert dialog.isVisible()  # shown with open(): the event loop keeps running
    assert "train-images-idx3-ubyte.gz" in dialog.informativeText() and str(empty) in dialog.informativeText()
    assert dialog.choose_button.text() == "Choose folder…"
    assert window.notice.isHidden()  # said once: in the dialog, then in the notice bar
    assert not window.start_action.isEnabled() and "waiting for the data" in window.start_action.toolTip()
    dialog.close()
    qtbot.waitUntil(lambda: window.notice.level == "error" and str(empty) in window.notice.text.text(), timeout=2000)


def test_the_window_shows_what_it_waits_for_then_loads(qtbot, tmp_path, fake_data_dir):
    window = make_window(qtbot, tmp_path)
    assert "Waiting for data" in window.curves.placeholder.text()
    with qtbot.waitSignal(window.session.dataset_changed, timeout=10_000):
        window.load_data(str(fake_data_dir))
        assert window.session.loader.busy
    assert window.session.dataset.image_shape == (12, 12)
    assert window.session.model.layer_sizes[0] == 144  # fresh weights sized for the data
    assert not window.notice.isVisible()


def test_cancelling_the_download_stops_it_and_says_what_to_do(qtbot, tmp_path, monkeypatch):
    def slow_download(data_dir=None, download=True, progress=None):
        done = 0
        while True:  # like a real download: progress reports until the callback raises
            done += 1 << 16
            progress(done, 10_000_000, "train-images-idx3-ubyte.gz")
            threading.Event().wait(0.01)

    monkeypatch.setattr(data_loader, "locate_or_download", slow_download)
    window = make_window(qtbot, tmp_path)
    with qtbot.waitSignal(window.session.loader.cancelled, timeout=10_000):
        window.load_data()
        qtbot.waitUntil(lambda: window.download.dialog is not None, timeout=10_000)
        assert "train-images-idx3-ubyte.gz" in window.download.dialog.labelText()
        window.download.dialog.findChild(QPushButton).click()  # its Cancel button
    assert window.download.dialog is None and not window.session.loader.busy
    assert window.notice.level == "warning" and "cancelled" in window.notice.text.text()
