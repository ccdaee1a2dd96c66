"""The session's runs view without a window: which recorded runs are overlaid, remembered, deleted and restored."""

import csv

import pytest
from PySide6.QtCore import QCoreApplication, QSettings

from scratchnet.runs import RunStore
from scratchnet_gui.run_curves import MAX_OVERLAYS
from scratchnet_gui.runs_view import RunsView
from scratchnet_gui.session import Session

from .test_runs_panel import record
from .test_session import CONFIG


@pytest.fixture
def store(data_home):
    store = RunStore(data_home / "runs.sqlite3")
    yield store
    store.close()


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def overlay_labels(view: RunsView, qtbot, change) -> list[str]:
    """The labels of the curves ``change()`` makes the view overlay."""
    with qtbot.waitSignal(view.overlays_changed) as sent:
        change()
    return [curves.label for curves in sent.args[0]]


def test_overlaid_runs_are_remembered_and_overlaid_again_at_the_next_start(qtbot, store, settings):
    ids = [record(store, CONFIG.replace(lr=lr), 0.9) for lr in (0.1, 0.2, 0.3)]
    view = RunsView(store, settings)
    assert sorted(run.id for run in view.runs) == ids
    labels = overlay_labels(view, qtbot, lambda: view.set_overlaid([ids[2], ids[0]]))
    assert [label.split()[0] for label in labels] == [f"#{ids[2]}", f"#{ids[0]}"]
    view.close()

    again = RunsView(store, settings)
    assert overlay_labels(again, qtbot, again.start) == labels
    assert again.overlaid == [ids[2], ids[0]]


def test_at_most_max_overlays_and_the_apps_last_run_is_overlaid_first(qtbot, store):
    ids = [record(store, CONFIG, 0.5) for _ in range(MAX_OVERLAYS + 1)]
    view = RunsView(store)
    view.set_overlaid(ids[1:])
    assert view.overlaid == ids[1:]
    view.run_ended(ids[0])
    view.run_started()  # the next run starts: the last one joins the overlays, even with MAX_OVERLAYS shown
    assert len(view.overlaid) == MAX_OVERLAYS and view.overlaid[0] == ids[0]


def test_delete_then_undo_brings_the_runs_back(qtbot, store, tmp_path):
    ids = [record(store, CONFIG, 0.5) for _ in range(3)]
    view = RunsView(store)
    view.set_overlaid(ids)
    with qtbot.waitSignal(view.message) as said:
        view.delete(ids[:2])
    assert said.args == [f"Deleted runs {ids[0]}, {ids[1]}.", True]
    assert [run.id for run in view.runs] == [ids[2]] and view.overlaid == [ids[2]]
    assert view.undo_delete() == ids[:2]
    assert sorted(run.id for run in view.runs) == ids
    assert view.undo_delete() == []  # nothing more to undo
    view.export_csv(ids[1:], tmp_path / "runs.csv")
    with open(tmp_path / "runs.csv") as file:
        assert sorted({int(row["run_id"]) for row in csv.DictReader(file)}) == ids[1:]


def test_runs_recorded_by_another_process_are_read_when_the_store_changes(qtbot, store, data_home):
    view = RunsView(RunStore(data_home / "runs.sqlite3"))  # the app's own connection
    assert view.runs == []
    with qtbot.assertNotEmitted(view.runs_changed):
        view.refresh_if_changed()  # nothing changed: nothing is read
    run_id = record(store, CONFIG, 0.9)  # another connection, as the CLI's
    with qtbot.waitSignal(view.runs_changed):
        view.refresh_if_changed()
    assert [run.id for run in view.runs] == [run_id]


def test_new_takes_the_overlays_off_the_plots_and_forgets_them(qtbot, store, settings, fake_data_dir):
    run_id = record(store, CONFIG, 0.9)
    session = Session(settings=settings)
    with qtbot.waitSignal(session.dataset_changed, timeout=10_000):
        session.load_data(fake_data_dir)
    session.runs.set_overlaid([run_id])
    assert settings.value("runs/overlaid") == str(run_id)
    with qtbot.waitSignal(session.runs.overlays_changed) as sent:
        session.new(CONFIG)
    assert sent.args == [[]] and session.runs.overlaid == [] and settings.value("runs/overlaid") == ""
    session.shutdown()


def test_a_session_closed_before_the_event_loop_runs_reads_nothing_more(qtbot, store, settings):
    settings.setValue("runs/overlaid", str(record(store, CONFIG, 0.9)))
    session = Session(settings=settings)
    session.shutdown()  # before the start queued for the event loop
    with qtbot.assertNotEmitted(session.runs.overlays_changed):
        QCoreApplication.processEvents()  # the queued start runs: it must do nothing, not fail
    assert not session.runs._timer.isActive()
