"""The app's own stored surfaces made hostile: its settings file, presets, and what reaches the event loop."""

import os
import subprocess
import sys
import threading

import pytest
from PySide6.QtCore import QByteArray, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from scratchnet.errors import ConfigError
from scratchnet.presets import load_preset, preset_names
from scratchnet_gui.error_reports import ErrorReports, log_path
from scratchnet_gui.main_window import MainWindow


@pytest.mark.parametrize("make", ["fifo", "device", "folder", "huge"])
def test_a_preset_that_is_not_a_small_regular_file_is_refused_unread(tmp_path, make):
    path = tmp_path / "preset.json"
    if make == "fifo":
        os.mkfifo(path)  # no writer: a plain read would wait for ever
    elif make == "device":
        path = "/dev/zero"  # a plain read would fill the memory
    elif make == "folder":
        path = tmp_path / "presets" / "x.json"
        path.mkdir(parents=True)
    else:
        path.write_bytes(b" " * (2 << 20))
    with pytest.raises(ConfigError, match="not a regular file|larger than"):
        load_preset(str(path))


# ---- the settings file ------------------------------------------------------------------------------------

SAVED_KEYS = ("window/geometry", "window/state", "preset", "config", "blas_threads", "data_dir", "last_folder", "runs/overlaid")
HOSTILE_VALUES = {  # what a hand edit, another version or another program may leave under any key
    "text": "abc",
    "number": 5,
    "empty": "",
    "list": ["a", "b"],
    "nested list": [[["x"]]],
    "map": {"a": 1},
    "bytes": QByteArray(b"\x00\xff" * 40),
    "deep JSON": "[" * 100_000,
    "long text": "x" * 1_000_000,
    "huge number": "9" * 5000,
    "a path": "/dev/zero",
    "JSON object": '{"lr": "fast", "hidden": [[1]]}',
}
HOSTILE_INI_LINES = (  # values only the file's text can hold: Qt types, and serialised variants of garbage
    "@Rect(1 2 3 4)",
    "@Size(-1 -1)",
    "@Point(1 2)",
    "@Invalid()",
    "@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x1\\xff\\xff)",
    "@ByteArray(\\xff\\xfe)",
    "@Variant(",
)


RESTORED_KEYS = ("window/geometry", "window/state", "preset", "config", "blas_threads")  # read as the window opens
TYPES_NO_READER_TAKES = ("list", "nested list", "map", "bytes", "deep JSON", "long text")


def start_window(qtbot, settings_path, monkeypatch, fake_data_dir, dropped=()):
    """The real window on the settings file at ``settings_path``, used the way a first minute uses it: the data
    folder remembered, the file dialogs' folder, the settings saved again at the end. Each reading of the file
    must name in its notice the ``dropped`` keys it reads."""
    monkeypatch.delenv("SCRATCHNET_DATA_DIR", raising=False)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args, **kwargs: "")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: ("", ""))
    window = MainWindow(QSettings(str(settings_path), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()

    def notice_names(keys) -> None:
        shown = window.notice.text.text()
        assert all(key in shown for key in keys if key in dropped), shown

    notice_names(RESTORED_KEYS)
    folders = []
    monkeypatch.setattr(window.session, "load_data", folders.append)  # where the remembered folder would load from
    window.load_data()
    notice_names(["data_dir"])
    window.choose_data_folder()
    window.files.save_model()
    notice_names(["last_folder"])
    monkeypatch.undo()
    with qtbot.waitSignal(window.session.dataset_changed, timeout=10_000):
        window.load_data(str(fake_data_dir))
    return window


@pytest.mark.parametrize("kind", HOSTILE_VALUES)
def test_a_saved_setting_of_any_hostile_value_is_dropped_with_a_notice_as_the_window_starts(
    qtbot, tmp_path, monkeypatch, fake_data_dir, kind
):
    path = tmp_path / "settings.ini"
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    for key in SAVED_KEYS:
        settings.setValue(key, HOSTILE_VALUES[kind])
    settings.sync()
    del settings
    window = start_window(qtbot, path, monkeypatch, fake_data_dir, SAVED_KEYS if kind in TYPES_NO_READER_TAKES else ())
    assert window.isVisible() and window.session.dataset is not None
    window.close()
    again = QSettings(str(path), QSettings.Format.IniFormat)
    assert isinstance(again.value("window/geometry"), QByteArray) and again.value("preset") in (*preset_names(), "custom")


@pytest.mark.parametrize("line", HOSTILE_INI_LINES)
def test_a_settings_file_holding_qt_types_under_every_key_starts_the_window(qtbot, tmp_path, monkeypatch, fake_data_dir, line):
    path = tmp_path / "settings.ini"
    sections = {}
    for key in SAVED_KEYS:
        section, _, name = key.rpartition("/")
        sections.setdefault(section or "General", []).append(f"{name}={line}")
    path.write_text("".join(f"[{section}]\n" + "\n".join(lines) + "\n" for section, lines in sections.items()), encoding="latin-1")
    window = start_window(qtbot, path, monkeypatch, fake_data_dir)
    assert window.isVisible() and window.session.dataset is not None
    window.close()


@pytest.mark.parametrize("make", ["fifo", "folder", "huge", "unreadable"])
def test_a_settings_file_that_is_not_a_small_readable_file_is_moved_aside_and_the_window_starts(tmp_path, make):
    config_home = tmp_path / "config"
    path = config_home / "ScratchNet" / "ScratchNet.conf"
    path.parent.mkdir(parents=True)
    if make == "fifo":
        os.mkfifo(path)  # Qt would wait for a writer for ever
    elif make == "folder":
        path.mkdir()
    elif make == "huge":
        path.write_text("[General]\n" + "x=1\n" * 1_000_000)
    else:
        path.write_text("[General]\npreset=default\n")
        path.chmod(0)
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who reads every file")
    start = "from PySide6.QtWidgets import QApplication; app = QApplication([]); from scratchnet_gui.main_window import MainWindow"
    code = f"{start}; window = MainWindow(); print(window.notice.text.text()); window.close()"
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "the file was moved to ScratchNet.conf.damaged-" in result.stdout
    assert path.is_file() and [p.name.startswith("ScratchNet.conf.damaged-") for p in path.parent.iterdir()].count(True) == 1


# ---- errors nobody caught ----------------------------------------------------------------------------------


@pytest.fixture
def reporting_window(qtbot, tmp_path, data_home):
    """A window whose uncaught errors are reported as the app's are (``ErrorReports``), the log in the data home."""
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    with qtbot.capture_exceptions() as caught:  # pytest-qt's hook, which ours passes every error on to
        reports = ErrorReports(window.session.warn, window)
        reports.install()
        window.caught = caught
        yield window
        reports.uninstall()


def test_an_error_in_a_timers_slot_shows_in_the_window_with_the_log_holding_its_traceback(reporting_window, qtbot, data_home):
    def broken_slot():
        raise ZeroDivisionError("a slot divided by zero")

    QTimer.singleShot(0, broken_slot)
    qtbot.waitUntil(lambda: "a slot divided by zero" in reporting_window.notice.text.text(), timeout=5000)
    shown = reporting_window.notice.text.text()
    assert reporting_window.notice.level == "error" and "ZeroDivisionError" in shown and str(log_path()) in shown
    assert log_path().is_relative_to(data_home)
    log = log_path().read_text(encoding="utf-8")
    assert "Traceback" in log and "broken_slot" in log
    assert [type(error) for _, error, _ in reporting_window.caught] == [ZeroDivisionError]  # the previous hook saw it too


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # pytest's hook, passed the error too
def test_an_error_ending_a_thread_shows_in_the_window(reporting_window, qtbot):
    def broken_thread():
        raise KeyError("a thread lost its key")

    thread = threading.Thread(target=broken_thread, name="worker-x")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: "a thread lost its key" in reporting_window.notice.text.text(), timeout=5000)
    assert "worker-x" in log_path().read_text(encoding="utf-8")


# ---- the window's own size -----------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [300, 5000])
def test_a_notice_with_a_long_unbreakable_file_name_wraps_instead_of_widening_the_window(qtbot, tmp_path, length):
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    window.resize(1024, 700)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=2000)
    name = "/data/" + "x" * length + ".safetensors"
    window.session.warn(f"Could not save the model. {name}: No space left on device", "error")
    qtbot.waitUntil(window.notice.isVisible, timeout=2000)
    QApplication.processEvents()  # the layout requests that would grow the window
    assert window.width() == 1024 and window.minimumSizeHint().width() <= 1024
    assert window.notice.text.width() < 1024
    window.resize(800, 700)
    qtbot.waitUntil(lambda: window.width() <= 1000, timeout=2000)  # and it can still be narrowed


def test_a_saved_preset_unknown_here_is_dropped_and_the_settings_saved_with_it_are_shown(qtbot, tmp_path):
    path = tmp_path / "settings.ini"
    settings = QSettings(str(path), QSettings.Format.IniFormat)
    settings.setValue("preset", "a preset of a later version")
    settings.setValue("config", '{"lr": 0.05, "optimizer": "adam"}')
    settings.sync()
    window = MainWindow(QSettings(str(path), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    assert "preset names no preset" in window.notice.text.text()
    assert window.settings_panel.field("lr").value() == pytest.approx(0.05) and window.settings_panel.preset_name == "custom"
