"""The app's BLAS thread setting: the settings panel's combo box drives the trainer's count, keeps the window a core
on small machines, is remembered, and the status bar says what the batches use (nothing here is timed)."""

from PySide6.QtCore import QSettings

from scratchnet import runs
from scratchnet.runs import RunStore
from scratchnet_gui.blas_threads import BlasThreadSetting, ui_thread_limit, usable_cores

from .test_gui_app import RUN_TIMEOUT, configure, make_window, start_long_run, wait_idle, window  # noqa: F401  (the fixture)


def test_automatic_runs_leave_the_window_a_core_on_machines_of_two_cores_or_fewer():
    assert [ui_thread_limit(cores) for cores in (1, 2, 3, 4, 64)] == [1, 1, None, None, None]
    assert BlasThreadSetting(cores=2).limit == 1
    assert BlasThreadSetting(forced=2, cores=2).limit is None  # a forced count is the user's choice


def test_the_setting_says_how_the_count_was_chosen():
    assert BlasThreadSetting(forced=1, cores=8).describe(1) == "1 BLAS thread, as forced in the settings (BLAS threads)."
    assert "held to 1 of the 2 cores to leave the window a core" in BlasThreadSetting(cores=2).describe(1)
    assert BlasThreadSetting(cores=8).describe(8).startswith("8 BLAS threads: automatic, the fastest way of using the cores")


def test_a_count_chosen_in_the_panel_is_the_count_every_batch_trains_with_and_the_run_store_records(window, qtbot, data_home):  # noqa: F811
    combo = window.settings_panel.blas_threads
    assert combo.currentText() == "Automatic" and combo.count() == 1 + usable_cores()
    combo.setCurrentIndex(combo.count() - 1)  # all the cores: more than an automatic run on the tiny fake data takes
    counts = set()
    window.session.batches.connect(lambda chunk: counts.add(chunk.last.blas_threads))
    configure(window, epochs=1, batch_size=50)
    with qtbot.waitSignal(window.session.run_finished, timeout=RUN_TIMEOUT) as finished:
        window.start_action.trigger()
    outcome = finished.args[0]
    assert counts == {usable_cores()} and outcome.blas_threads == usable_cores()
    with RunStore(data_home / "runs.sqlite3") as store:
        assert store.run(outcome.run_id).environment.threads == usable_cores()
    assert f"Its last batches used {usable_cores()} BLAS thread" in window.statusBar().speed_label.toolTip()


def test_automatic_runs_on_a_two_core_machine_are_given_a_limit_of_one(window, qtbot, monkeypatch):  # noqa: F811
    given = []

    class RecordingTrainer(runs.Trainer):
        def __init__(self, *args, **kwargs):
            given.append((kwargs["blas_threads"], kwargs["blas_thread_limit"]))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(runs, "Trainer", RecordingTrainer)  # the trainer train_and_record makes
    window.session.blas_thread_setting = BlasThreadSetting(cores=2)  # as on a machine of two cores
    configure(window, epochs=1, batch_size=50)
    with qtbot.waitSignal(window.session.run_finished, timeout=RUN_TIMEOUT):
        window.start_action.trigger()
    window.settings_panel.blas_threads.setCurrentText("1")
    with qtbot.waitSignal(window.session.run_finished, timeout=RUN_TIMEOUT):
        window.start_action.trigger()
    assert given == [(None, 1), (1, None)]


def test_during_a_run_the_setting_is_locked_and_the_speed_says_what_the_batches_use(window, qtbot):  # noqa: F811
    window.settings_panel.blas_threads.setCurrentText("1")
    start_long_run(window, qtbot)
    combo, speed = window.settings_panel.blas_threads, window.statusBar().speed_label
    assert not combo.isEnabled() and "Locked during a run: the run's trainer was given it" in combo.toolTip()
    assert not window.session.set_blas_threads(None) and window.session.blas_thread_setting.forced == 1
    qtbot.waitUntil(lambda: "The batches use 1 BLAS thread, as forced" in speed.toolTip(), timeout=RUN_TIMEOUT)
    window.stop_action.trigger()
    wait_idle(window, qtbot)
    assert combo.isEnabled()
    combo.setCurrentText("Automatic")
    assert window.session.blas_thread_setting.forced is None


def test_the_setting_is_remembered_and_a_count_this_machine_lacks_reads_as_automatic(qtbot, tmp_path):
    first = make_window(qtbot, tmp_path / "settings.ini")
    first.settings_panel.blas_threads.setCurrentText("1")
    first.close()
    second = make_window(qtbot, tmp_path / "settings.ini")
    assert second.settings_panel.blas_threads.currentText() == "1" and second.session.blas_thread_setting.forced == 1
    second.close()
    QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat).setValue("blas_threads", "4096")
    third = make_window(qtbot, tmp_path / "settings.ini")
    assert third.settings_panel.blas_threads.currentText() == "Automatic" and third.session.blas_thread_setting.forced is None
