"""The run store against hostile and damaged rows: nothing a row holds can delete a file the store did not write,
crash a reader (``RunStore``, the ``scratchnet runs`` commands, the Runs tab) or hang it; a locked, or not regular,
store is waited for at most ``BUSY_TIMEOUT`` seconds and then said to be so."""

import contextlib
import csv
import gc
import json
import math
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchnet import runs
from scratchnet.cli import main
from scratchnet.config import TrainConfig
from scratchnet.errors import RunStoreError
from scratchnet.health import HEALTH_COLUMNS as HEALTH_COLUMN_NAMES
from scratchnet.health import HealthSample
from scratchnet.home import HOME_ENV_VAR
from scratchnet.runs import MODELS_FOLDER, STORE_NAME, RunStore

from .conftest import REPO
from .guards import deadline
from .test_runs import ENVIRONMENT, IDENTITY, epoch, recorded_run


def tamper(store: RunStore, statement: str, *values) -> None:
    """Change the store behind its back, as another program (or a hand with the sqlite3 shell) would."""
    with contextlib.closing(sqlite3.connect(store.path)) as db, db:
        db.execute(statement, values)


# ---- only the store's own weights are ever deleted -----------------------------------------------------


@pytest.fixture
def victim(tmp_path):
    """A file of the user's, outside the data home's models folder."""
    path = tmp_path / "victim.txt"
    path.write_text("the user's own file")
    return path


def weights_file(store: RunStore, run_id: int):
    path = store.path.parent / MODELS_FOLDER / f"{run_id}.safetensors"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"weights")
    return path


@pytest.mark.parametrize(
    "model_file",
    [
        "../victim.txt",  # relative, out of the data home
        "{victim}",  # absolute
        "models/../../victim.txt",  # through models/
        "models/{other}.safetensors",  # another run's weights
        STORE_NAME,  # the store itself
    ],
)
def test_deleting_a_run_deletes_no_file_but_its_own_weights(data_home, victim, model_file, capsys):
    store = RunStore()
    run_id, other = recorded_run(store), recorded_run(store)
    others_weights = weights_file(store, other)
    tamper(store, "UPDATE runs SET model_file = ? WHERE id = ?", model_file.format(victim=victim, other=other), run_id)
    assert main(["runs", "delete", str(run_id)]) == 0
    assert victim.read_text() == "the user's own file" and others_weights.exists() and store.path.exists()
    assert [run.id for run in store.runs()] == [other]


def test_the_purge_at_every_open_deletes_no_file_but_the_runs_own_weights(data_home, victim):
    store = RunStore()
    hostile, own = recorded_run(store), recorded_run(store)
    own_weights = weights_file(store, own)
    tamper(store, "UPDATE runs SET model_file = ?, deleted = 1 WHERE id = ?", "../victim.txt", hostile)
    tamper(store, "UPDATE runs SET model_file = ?, deleted = 1 WHERE id = ?", f"models/{own}.safetensors", own)
    RunStore()
    assert victim.exists() and not own_weights.exists()
    assert store.runs() == []


def test_weights_reached_through_a_symbolic_link_are_not_deleted(data_home, tmp_path, victim):
    store = RunStore()
    linked_file, linked_folder = recorded_run(store), recorded_run(store)
    (store.path.parent / MODELS_FOLDER).mkdir()
    os.symlink(victim, store.path.parent / MODELS_FOLDER / f"{linked_file}.safetensors")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / f"{linked_folder}.safetensors").write_text("not the store's")
    for run_id in (linked_file, linked_folder):
        tamper(store, "UPDATE runs SET model_file = ? WHERE id = ?", f"models/{run_id}.safetensors", run_id)
    store.delete([linked_file])
    store.purge([linked_file])
    assert victim.exists()
    os.unlink(store.path.parent / MODELS_FOLDER / f"{linked_file}.safetensors")
    os.rmdir(store.path.parent / MODELS_FOLDER)
    os.symlink(elsewhere, store.path.parent / MODELS_FOLDER)
    store.delete([linked_folder])
    store.purge([linked_folder])
    assert (elsewhere / f"{linked_folder}.safetensors").exists()


def test_a_row_naming_a_file_not_its_own_has_no_weights_to_open(data_home, victim):
    store = RunStore()
    run_id = recorded_run(store)
    tamper(store, "UPDATE runs SET model_file = ? WHERE id = ?", str(victim), run_id)
    assert store.run(run_id).model_path is None and store.runs()[0].model_path is None


def test_the_store_still_deletes_the_weights_it_wrote(fake_dataset, data_home):
    from .test_runs import train_recorded

    store = RunStore()
    run_id = train_recorded(fake_dataset, store, []).run_id
    weights = store.run(run_id).model_path
    assert weights == data_home / MODELS_FOLDER / f"{run_id}.safetensors" and weights.is_file()
    store.delete([run_id])
    store.purge([run_id])
    assert not weights.exists()


# ---- hostile values in every column ---------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000  # past any parser's recursion limit
NESTED = '{"a": ' * 900 + "1" + "}" * 900  # parsed by Python's json, then far too deep to walk
HOSTILE_VALUES = [
    "abc",
    "\x1b]0;owned\x07\x1b[31mred",  # a terminal title and a colour, with the bell
    b"\x00\xff\x1b blob",
    2**63 - 1,
    -1,
    -62135596800,  # the year 1: no local time before it
    1e300,
    float("-inf"),
    None,  # refused by the NOT NULL columns
    "[]",
    '{"name": [1, 2], "image_shape": "ab", "threads": "x", "accuracy": "y", "loss": "z"}',
    '{"numpy": {"a": 1}, "class_names": 5, "train_size": 1e300}',
    NESTED,
    DEEP,
]
RUN_COLUMNS = [
    "started",
    "ended",
    "status",
    "message",
    "config",
    "dataset",
    "environment",
    "host",
    "pid",
    "process_started",
    "epochs",
    "val_accuracy",
    "test_accuracy",
    "test",
    "train_seconds",
    "samples_per_second",
    "model_file",
    "deleted",
]
EPOCH_COLUMNS = ["epoch", "epochs", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds", "lr"]
HEALTH_COLUMNS = list(HEALTH_COLUMN_NAMES)
EDIT_COLUMNS = ["edit_of", "edits"]  # of an edited copy of a run's weights


def set_hostile(store: RunStore, table: str, column: str, value, run_id: int) -> bool:
    """Write ``value`` into a column of run ``run_id``'s rows; False when the schema refuses it (NULL in NOT NULL)."""
    key = "id" if table == "runs" else "run_id"
    one_health_row = " AND at = 0.5 AND layer = 1" if table == "health" else ""  # (a sample's rows cannot all have one layer)
    if table == "edits":  # the run is made an edited copy first (of the first run, pruned)
        edit = '[{"kind": "prune", "fraction": 0.5}]'
        tamper(store, "INSERT OR IGNORE INTO edits (run_id, edit_of, edits) VALUES (?, 1, ?)", run_id, edit)
    try:
        tamper(store, f"UPDATE {table} SET {column} = ? WHERE {key} = ?{one_health_row}", value, run_id)
    except sqlite3.IntegrityError:
        return False
    return True


def hostile_store(table: str, column: str, value) -> tuple[RunStore, int, int] | None:
    """A store of two good runs and one whose ``column`` holds ``value``; the hostile one's id, and a good one's
    (None when the schema refuses the value)."""
    store = RunStore()
    good, hostile, _ = recorded_run(store), recorded_run(store), recorded_run(store)
    tamper(store, "INSERT OR REPLACE INTO curves (run_id, points) VALUES (?, ?)", hostile, b"\x00\x00\x80\x3f" * 8)
    store.add_health(hostile, [(at, HEALTH_SAMPLE) for at in (0.0, 0.5, 1.0)])
    if not set_hostile(store, table, column, value, hostile):
        return None
    return store, hostile, good


def hostile_store_or_skip(table: str, column: str, value) -> tuple[RunStore, int, int]:
    made = hostile_store(table, column, value)
    if made is None:
        pytest.skip("the schema refuses it")
    return made


def check_everything_reads(store: RunStore, hostile: int, good: int, capsys, tmp_path) -> None:
    """Every reader of the store copes: the store's own, and each ``scratchnet runs`` command."""
    listed = {run.id: run for run in store.runs()}
    assert good in listed
    if hostile in listed:  # (deleted = 'abc' hides it)
        assert store.run(hostile).to_json() and listed[hostile].to_json() and listed[hostile].settings
        check_health_reads(store, hostile)
    commands = [["runs", "list"], ["runs", "show", str(hostile)], ["runs", "show", str(hostile), "--json"]]
    commands += [["runs", "export", str(hostile), str(good), "--csv", str(tmp_path / "runs.csv")]]
    for command in commands:
        assert main(command) in (0, 2), command
        out, err = capsys.readouterr()
        assert "Traceback" not in err and "\x1b" not in out + err and "\x07" not in out + err, command
        assert all(line.startswith("scratchnet: ") for line in err.splitlines()), (command, err)
    json.loads(main(["runs", "list", "--json"]) == 0 and capsys.readouterr().out)
    assert main(["runs", "delete", str(hostile)]) in (0, 2)
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
@pytest.mark.parametrize("column", RUN_COLUMNS)
def test_a_hostile_value_in_any_column_of_a_run_is_read_as_unknown(column, value, capsys, tmp_path):
    store, hostile, good = hostile_store_or_skip("runs", column, value)
    check_everything_reads(store, hostile, good, capsys, tmp_path)


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
@pytest.mark.parametrize("column", EPOCH_COLUMNS)
def test_a_hostile_value_in_any_column_of_an_epoch_is_read_as_unknown(column, value, capsys, tmp_path):
    store, hostile, good = hostile_store_or_skip("epochs", column, value)
    check_everything_reads(store, hostile, good, capsys, tmp_path)


HEALTH_SAMPLE = HealthSample(2.3, [0.1, 0.2], [0.5, 0.6], [0.0, 0.1], [None, None], [1.0, 2.0, 3.0], [-3.0, -2.5, None])


def check_health_reads(store: RunStore, run_id: int) -> None:
    """The run's health reads as samples whose every figure is a finite number or None, with one value per layer."""
    from scratchnet.hints import hints_for

    health = store.health(run_id)
    for sample in health.samples:
        hidden = len(sample.grad_norm) - 1
        assert all(len(getattr(sample, name)) == hidden for name in ("mean", "spread", "dead", "saturated"))
        figures = [sample.loss, *sample.mean, *sample.spread, *sample.dead, *sample.saturated, *sample.grad_norm, *sample.update_ratio]
        assert all(value is None or (isinstance(value, float) and abs(value) < float("inf")) for value in figures)
        for name in ("mean", "dead", "grad_norm", "update_ratio"):
            for layer in range(health.layers(name)):
                health.series(name, layer), health.recent(name, layer)
    hints_for(TrainConfig(), health, [])


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
@pytest.mark.parametrize("column", HEALTH_COLUMNS)
def test_a_hostile_value_in_any_column_of_a_health_sample_is_read_as_missing(column, value, capsys, tmp_path):
    store, hostile, good = hostile_store_or_skip("health", column, value)
    check_everything_reads(store, hostile, good, capsys, tmp_path)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(*[st.none() | st.integers(-3, 3) | st.floats() | st.text(max_size=5) for _ in HEALTH_COLUMNS]), max_size=12))
def test_any_health_rows_read_without_an_error(data_home, rows):
    store = RunStore()
    run_id = recorded_run(store)
    for row in rows:
        with contextlib.suppress(sqlite3.IntegrityError):  # a NULL in a NOT NULL column, or the same sample twice
            tamper(store, f"INSERT INTO health (run_id, {', '.join(HEALTH_COLUMNS)}) VALUES (?{', ?' * len(HEALTH_COLUMNS)})", run_id, *row)
    check_health_reads(store, run_id)
    tamper(store, "DELETE FROM runs")


@pytest.mark.parametrize(
    "value", HOSTILE_VALUES + ['[{"kind": "prune", "fraction": 5}]', '[{"kind": "switch_off"}]', '{"kind": "prune"}'], ids=repr
)
@pytest.mark.parametrize("column", EDIT_COLUMNS)
def test_a_hostile_value_in_the_edits_of_a_run_is_read_as_unknown(column, value, capsys, tmp_path):
    store, hostile, good = hostile_store_or_skip("edits", column, value)
    run = store.run(hostile)
    assert run.edit_text is None or run.edit_text.startswith("edit of ")
    check_everything_reads(store, hostile, good, capsys, tmp_path)


@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=repr)
def test_a_hostile_loss_curve_is_left_out(value, capsys, tmp_path):
    store, hostile, good = hostile_store_or_skip("curves", "points", value)
    check_everything_reads(store, hostile, good, capsys, tmp_path)


def test_unreadable_values_show_as_unknown_with_one_warning(capsys):
    store = RunStore()
    run_id, good = recorded_run(store), recorded_run(store)
    tamper(store, "UPDATE runs SET started = 'abc', pid = 'x', test_accuracy = 'abc', message = '\x1b[2J\x07wiped' WHERE id = ?", run_id)
    assert main(["runs", "list"]) == 0
    out, err = capsys.readouterr()
    rows = {row.split()[0]: row.split() for row in out.splitlines()[1:]}
    assert rows[str(run_id)][:3] == [str(run_id), "-", "completed"] and rows[str(run_id)][-3:] == ["-", "50.00%", "0.8"]
    assert rows[str(good)][-3] == "-" and rows[str(good)][1] != "-"
    notice = f"run {run_id} of the run store holds values this ScratchNet cannot read (started, test_accuracy); they are shown as unknown"
    assert err == f"scratchnet: warning: {notice}\n"
    assert main(["runs", "show", str(run_id)]) == 0
    out, err = capsys.readouterr()
    assert f"run {run_id}: completed ( [2J wiped)" in out and "started      -, ended " in out and "process -" in out
    assert "(started, test_accuracy, pid)" in err


def test_a_run_id_past_the_largest_stored_one_is_no_such_run(capsys):
    recorded_run(RunStore())
    for command in (["runs", "show", str(2**70)], ["runs", "delete", str(2**70)], ["runs", "export", str(2**70), "--csv", "x.csv"]):
        assert main(command) == 2
        assert capsys.readouterr().err == f"scratchnet: error: no recorded run with id {2**70}\n"


def test_export_writes_only_numbers_so_no_cell_is_a_formula(tmp_path):
    store = RunStore()
    run_id = recorded_run(store)
    for column, formula in (("train_loss", "=HYPERLINK(1)"), ("val_loss", "+1+2"), ("lr", "@SUM(A1)"), ("seconds", "-2+3")):
        tamper(store, f"UPDATE epochs SET {column} = ? WHERE run_id = ? AND epoch = 1", formula, run_id)
    store.export_csv([run_id], tmp_path / "runs.csv")
    rows = list(csv.reader((tmp_path / "runs.csv").open()))
    assert len(rows) == 4 and all(cell == "" or float(cell) == float(cell) for row in rows[1:] for cell in row)
    assert [rows[1][EPOCH_COLUMNS.index(column) + 1] for column in ("train_loss", "val_loss", "lr", "seconds")] == [""] * 4


def test_export_refuses_a_symbolic_link_and_a_missing_folder(tmp_path, capsys):
    run_id = recorded_run(RunStore())
    target = tmp_path / "kept.csv"
    target.write_text("the user's data")
    link = tmp_path / "link.csv"
    link.symlink_to(target)
    assert main(["runs", "export", str(run_id), "--csv", str(link)]) == 2
    assert capsys.readouterr().err == f"scratchnet: error: cannot write {link}: it is a symbolic link (to {target}); name the file itself\n"
    assert link.is_symlink() and target.read_text() == "the user's data"
    typo = tmp_path / "typo" / "a" / "b.csv"
    assert main(["runs", "export", str(run_id), "--csv", str(typo)]) == 2
    assert capsys.readouterr().err == f"scratchnet: error: cannot write {typo}: the folder {typo.parent} does not exist\n"
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize(
    "pid, process_started", [("x", 1.0), (2**63 - 1, 1.0), (-1, 1.0), (0, 1.0), (os.getpid(), "abc"), (os.getpid(), 1e300)]
)
def test_a_running_run_of_an_unreadable_process_is_marked_interrupted_on_open(pid, process_started):
    store = RunStore()
    run_id = store.begin(TrainConfig(), IDENTITY, ENVIRONMENT)
    tamper(store, "UPDATE runs SET pid = ?, process_started = ? WHERE id = ?", pid, process_started, run_id)
    assert RunStore().run(run_id).status == "interrupted"


# ---- the Runs tab over hostile rows ------------------------------------------------------------------------


def exercise_runs_tab(columns: list[tuple[str, str]]) -> None:
    """For each (table, column): the Runs tab over a store of one good run and one run per ``HOSTILE_VALUES``
    value in that column, every cell painted and asked for every role, all runs selected and compared, sorted by
    each column both ways, filtered, each hostile run opened and its settings taken. Run in a subprocess
    (``runs_tab_survives``): a native crash fails the test, not the whole test run."""
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from scratchnet_gui.runs_panel import ANSWERED_ROLES, RunsPanel
    from scratchnet_gui.session import Session

    app = QApplication.instance() or QApplication([])
    for number, (table, column) in enumerate(columns):
        home = Path(os.environ["CASES_FOLDER"]) / str(number)
        os.environ[HOME_ENV_VAR] = str(home)
        store = RunStore()
        recorded_run(store)
        hostile = [recorded_run(store) for _ in HOSTILE_VALUES]
        for run_id, value in zip(hostile, HOSTILE_VALUES):
            tamper(store, "INSERT OR REPLACE INTO curves (run_id, points) VALUES (?, ?)", run_id, b"\x00\x00\x80\x3f" * 8)
            set_hostile(store, table, column, value, run_id)
        session = Session(settings=QSettings(str(home / "settings.ini"), QSettings.Format.IniFormat))
        panel = RunsPanel()
        panel.follow(session)
        panel.show()
        app.processEvents()  # the session's runs view starts once the window listens
        model = panel.table_model
        for row in range(model.rowCount()):
            for cell in range(model.columnCount()):
                for role in ANSWERED_ROLES:
                    model.data(model.index(row, cell), role)
        panel.table.selectAll()
        panel.compare()
        panel.grab()
        for cell in range(model.columnCount()):
            for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
                panel.table.sortByColumn(cell, order)
        panel.grab()
        panel._filter_timer.setInterval(0)
        for text in ("a", "adam", "–", "1", ""):
            panel.filter.setText(text)  # typed: the table is filtered once typing pauses
            app.processEvents()
            panel.grab()
        for run_id in hostile:
            panel.select_runs([run_id])
            panel.repeat_button.click()
            panel.open_button.click()
        session.shutdown()
        panel.close()
    print("survived", len(columns))


def runs_tab_survives(columns: list[tuple[str, str]]) -> None:
    """``exercise_runs_tab(columns)`` in a subprocess ends well: no native crash, no Python exception."""
    code = f"from tests.test_runs_hostile import exercise_runs_tab; exercise_runs_tab({columns!r})"
    environment = {**os.environ, "CASES_FOLDER": os.environ[HOME_ENV_VAR], "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", code], cwd=REPO, env=environment, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert done.stdout.strip().endswith(f"survived {len(columns)}")


def test_the_runs_tab_survives_hostile_values_in_every_column():
    columns = [("runs", column) for column in RUN_COLUMNS if column != "deleted"]
    edits = [("edits", column) for column in EDIT_COLUMNS]
    runs_tab_survives(columns + [("epochs", column) for column in EPOCH_COLUMNS] + [("curves", "points")] + edits)


def test_the_filter_hiding_the_overlaid_run_leaves_the_overlays_as_they_were(qtbot, tmp_path, qtlog):
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from scratchnet_gui.runs_panel import RunsPanel
    from scratchnet_gui.session import Session

    store = RunStore()
    first, second = recorded_run(store, status="stopped"), recorded_run(store)
    session = Session(settings=QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    panel = RunsPanel()
    panel.follow(session)
    qtbot.addWidget(panel)
    panel.show()
    QApplication.processEvents()  # the session's runs view starts once the window listens
    for _ in range(3):
        panel.select_runs([second])
        assert session.runs.overlaid == [second]
        panel.filter.setText("adam")  # no run's settings hold it
        qtbot.waitUntil(lambda: panel.proxy.rowCount() == 0)
        assert panel.count.text() == "0 of 2 runs" and session.runs.overlaid == [second]
        panel.filter.setText("")
        qtbot.waitUntil(lambda: panel.proxy.rowCount() == 2)
        assert panel.count.text() == "2 runs" and session.runs.overlaid == [second] and panel.selected_ids() == [second]
    panel.filter.setText("stopped")  # hides the overlaid run; the user then selects the one shown
    qtbot.waitUntil(lambda: panel.proxy.rowCount() == 1)
    panel.table.selectRow(0)
    assert sorted(session.runs.overlaid) == [first, second]  # the hidden one was not unselected by the user
    assert not [record for record in qtlog.records if "Invalid index" in record.message]
    store.delete([first])
    session.runs.refresh()
    panel.filter.setText("")
    qtbot.waitUntil(lambda: panel.count.text() == "1 run")
    session.shutdown()


# ---- files that are not a store: FIFOs, devices; a store locked by another process ----------------------------


def runs_command(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    """``scratchnet runs ...`` in a process of its own (a hang is a timeout, not a hung test run)."""
    return subprocess.run([sys.executable, "-m", "scratchnet", "runs", *args], capture_output=True, text=True, timeout=timeout, cwd=REPO)


@pytest.mark.parametrize("suffix", ["", "-wal"])
def test_a_store_that_is_a_fifo_is_refused_at_once(data_home, suffix):
    data_home.mkdir()
    if suffix:
        with RunStore() as store:  # closed now, not whenever it is collected (sqlite would delete the FIFO then)
            recorded_run(store)
    fifo = data_home / f"{STORE_NAME}{suffix}"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    done = runs_command("list")
    assert done.returncode == 2
    assert done.stderr == f"scratchnet: error: cannot open the run store {data_home / STORE_NAME}: {fifo.name} is a FIFO, not a file\n"


def test_a_store_that_is_a_device_is_refused(data_home):
    data_home.mkdir()
    (data_home / STORE_NAME).symlink_to("/dev/zero")
    with pytest.raises(RunStoreError, match=f"{STORE_NAME} is a device, not a file"):
        RunStore()


LOCKER = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "exclusive":  # readers are shut out too
    db.execute("PRAGMA locking_mode = EXCLUSIVE")
db.execute("BEGIN IMMEDIATE")
db.execute("UPDATE runs SET message = message")
print("locked", flush=True)
time.sleep(120)
"""


@contextlib.contextmanager
def locked_by_another_process(store: RunStore, how: str):
    """The store locked by another process until the block ends: for writing ("write"), or altogether ("exclusive")."""
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(store.path), how], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline() == "locked\n"
        yield
    finally:
        locker.kill()
        locker.wait()


def test_a_store_another_process_writes_to_is_listed_at_once(data_home):
    store = RunStore()
    run_id = recorded_run(store)
    with locked_by_another_process(store, "write"):
        done = runs_command("list", "--json", timeout=15)  # it used to wait 30 s to open the store
    assert done.returncode == 0 and [run["id"] for run in json.loads(done.stdout)] == [run_id]


def test_a_store_locked_altogether_is_waited_for_two_seconds_then_said_so(data_home):
    store = RunStore()
    recorded_run(store)
    store.close()  # (an exclusive lock waits for every other connection to close)
    with locked_by_another_process(store, "exclusive"):
        done = runs_command("list", timeout=15)
    assert done.returncode == 2
    assert done.stderr == (f"scratchnet: error: cannot open the run store {store.path}: another process holds it locked (waited 2 s)\n")


def test_a_run_goes_on_unrecorded_when_the_store_stays_locked(fake_data_dir, data_home):
    store = RunStore()
    with locked_by_another_process(store, "write"):
        train = [sys.executable, "-m", "scratchnet", "train", "--data-dir", str(fake_data_dir), "--hidden", "8", "--epochs", "1"]
        done = subprocess.run([*train, "--validation-size", "100"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0 and "test accuracy" in done.stdout and "recorded as run" not in done.stdout
    warning = f"scratchnet: warning: the run store {store.path}: another process holds it locked (waited 2 s); "
    assert warning + "the run goes on without being recorded\n" in done.stderr


def test_a_thread_waiting_for_a_locked_store_keeps_no_other_thread_waiting(monkeypatch):
    """The app's worker waits to record an epoch; the UI thread's reads of the store do not wait for it."""
    monkeypatch.setattr(runs, "BUSY_TIMEOUT", 60.0)  # the worker waits long
    store = RunStore()
    run_id = recorded_run(store)
    writing = threading.Event()

    def record_an_epoch():
        writing.set()
        with contextlib.suppress(RunStoreError):
            store.add_epoch(run_id, epoch(4))

    with locked_by_another_process(store, "write"):
        worker = threading.Thread(target=record_an_epoch)
        worker.start()
        writing.wait()
        with deadline(20, "reading the store while another thread waits to write"):
            for _ in range(50):
                assert [run.id for run in store.runs()] == [run_id]
    worker.join()


# ---- two processes at once ----------------------------------------------------------------------------------

ENDLESS_WRITER = """
from scratchnet.config import TrainConfig
from scratchnet.runs import DatasetIdentity, Environment, RunOutcome, RunStore
from scratchnet.trainer import EpochEvent

store = RunStore()
while True:
    run_id = store.begin(TrainConfig(), DatasetIdentity("fake", None, ["a"], (1, 1), 1, 0), Environment("", "", 1, "", ""))
    for number in (1, 2, 3):
        store.add_epoch(run_id, EpochEvent(number, 3, 1.0, 0.5, None, None, 0.1, 0.01))
    store.finish(run_id, RunOutcome("completed", loss_curve=[[0.5, 1.0]] * 1000))
    print(run_id, flush=True)
"""


def test_the_app_follows_a_process_recording_until_it_is_killed_mid_write(qtbot):
    from scratchnet_gui.runs_view import RunsView

    view = RunsView(RunStore())
    messages = []
    view.message.connect(lambda text, undo: messages.append(text))
    writer = subprocess.Popen([sys.executable, "-c", ENDLESS_WRITER], stdout=subprocess.PIPE, text=True, cwd=REPO)
    finished = []
    with deadline(120, "the recording process"):
        while len(finished) < 20:
            finished.append(int(writer.stdout.readline()))
            view.refresh()  # the app reads as the other process writes
    writer.kill()  # in the middle of its next run, most likely of a write
    writer.wait()
    reopened = RunStore()
    assert reopened.notice is None and messages == []
    view.refresh()
    listed = {run.id: run for run in view.runs}
    assert set(finished) <= set(listed) and all(listed[run_id].status == "completed" for run_id in finished)
    assert all(reopened.run(run_id).epochs in (0, 1, 2, 3) for run_id in listed)
    view.close()


# ---- any values at once (hypothesis) -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(["name", "accuracy", "loss", "threads", "hidden"]), children)
    ),
    max_leaves=12,
)
stored = (
    st.none()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(max_size=50)
    | st.binary(max_size=40)
    | json_values.map(json.dumps)
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.fixed_dictionaries({column: stored for column in RUN_COLUMNS if column != "deleted"}))
def test_any_values_in_a_row_at_once_read_without_an_error(data_home, capsys, row):
    store = RunStore()
    run_id = recorded_run(store)
    for column, value in row.items():
        set_hostile(store, "runs", column, value, run_id)
    (summary,) = store.runs()
    assert summary.to_json() and summary.settings and store.run(run_id).to_json()
    for command in (["runs", "list"], ["runs", "show", str(run_id)], ["runs", "show", str(run_id), "--json"]):
        assert main(command) == 0
    assert "Traceback" not in capsys.readouterr().err
    tamper(store, "DELETE FROM runs")


@pytest.mark.parametrize("remembered", ["9" * 5000, "²,1", "1,,x,-3, 1 ", 12, ["1", "2"]])
def test_hostile_remembered_overlays_overlay_only_runs_of_the_store(qtbot, tmp_path, remembered):
    from PySide6.QtCore import QSettings

    from scratchnet_gui.runs_view import OVERLAID_KEY, RunsView

    store = RunStore()
    run_id = recorded_run(store)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue(OVERLAID_KEY, remembered)
    view = RunsView(store, settings)
    messages = []
    view.message.connect(lambda text, undo: messages.append(text))
    view.start()
    assert view.overlaid in ([], [run_id]) and messages == []
    view.close()


def test_the_runs_view_says_which_runs_hold_unreadable_values(qtbot):
    from scratchnet_gui.runs_view import RunsView

    store = RunStore()
    run_id = recorded_run(store)
    tamper(store, "UPDATE runs SET test_accuracy = 'abc' WHERE id = ?", run_id)
    view = RunsView(store)
    with qtbot.waitSignal(view.message) as said:
        view.refresh()
    assert said.args == [
        f"Run {run_id} of the run store holds values this ScratchNet cannot read (test_accuracy); they are shown as unknown.",
        False,
    ]
    view.close()


def test_the_app_waits_for_a_locked_store_only_a_moment(qtbot):
    from scratchnet_gui.runs_view import UI_WAIT, RunsView

    opened = []
    opener = threading.Thread(target=lambda: opened.append(RunStore()))  # its connection closes as the thread ends
    opener.start()
    opener.join()
    gc.collect()  # (a connection is freed with the cycles it is part of)
    (store,) = opened
    with locked_by_another_process(store, "exclusive"):
        view = RunsView(store)  # in the UI thread
        with qtbot.waitSignal(view.message) as said:
            view.refresh()
    assert said.args[0].endswith(f"another process holds it locked (waited {UI_WAIT:g} s).")
    view.close()


def test_a_start_in_the_year_1_is_unknown_in_any_time_zone(monkeypatch, capsys):
    store = RunStore()
    run_id = recorded_run(store)
    tamper(store, "UPDATE runs SET started = -62135596800 WHERE id = ?", run_id)
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert main(["runs", "list"]) == 0 and main(["runs", "show", str(run_id)]) == 0
    finally:
        monkeypatch.undo()
        time.tzset()
    assert "(started)" in capsys.readouterr().err


# ---- representation maps ---------------------------------------------------------------------------------


def run_with_maps(store: RunStore) -> int:
    """A recorded run with maps of three images of two classes, in two layers, over two frames."""
    from scratchnet.inspect.maps import MapFrame, MapSample

    run_id = recorded_run(store)
    sample = MapSample(np.array([4, 9, 20]), np.array([0, 1, 1]), ["a", "b"], ["pixels", "output"], "sha256:00")
    for number in range(2):
        points = np.arange(12, dtype=np.float32).reshape(2, 3, 2) * (number + 1)
        frame = MapFrame(float(number), points, np.array([0.1, 0.5]), np.array([[0.1, 0.2], [0.5, 0.6]]), np.array([0, 1, 0]))
        store.add_map_frame(run_id, number, sample, frame)
    return run_id


def float16s(*values: float) -> bytes:
    return np.resize(np.array(values, "<f2"), 12).tobytes()  # a frame's 2 layers × 3 images × 2 coordinates


@pytest.mark.parametrize(
    "column, value",
    [
        ("points", b"\x00" * 5),  # too short
        ("points", b"\x00" * 10**6),  # far too long: never even loaded
        ("points", float16s(np.nan)),
        ("points", float16s(np.inf, 0.5)),
        ("points", float16s(65504.0)),  # beyond the layer's scale
        ("points", "x" * 24),  # text of the right length
        ("points", 12),
        ("scales", np.array([np.inf, 1], "<f4").tobytes()),
        ("scales", np.array([-1, 1], "<f4").tobytes()),
        ("scales", np.array([1e38, 1], "<f4").tobytes()),
        ("scores", np.array([np.nan, 0, 0, 0, 0, 0], "<f4").tobytes()),  # a layer's own score is always measured
        ("scores", np.array([5, 0, 0, 0, 0, 0], "<f4").tobytes()),
        ("predictions", np.array([0, 1, 99], "<u2").tobytes()),  # no such class
        ("epoch", "abc"),
        ("epoch", -1.0),
        ("epoch", 1e300),
        ("epoch", math.nan),
    ],
)
def test_a_hostile_map_frame_is_left_out_and_the_others_read(column, value):
    store = RunStore()
    run_id = run_with_maps(store)
    try:
        tamper(store, f"UPDATE map_frames SET {column} = ? WHERE run_id = ? AND frame = 0", value, run_id)
    except sqlite3.IntegrityError:
        pytest.skip("the schema refuses this value")
    with deadline(5):
        maps = store.maps(run_id)
    assert maps.unreadable == 1 and [frame.epoch for frame in maps.frames] == [1.0]
    assert np.allclose(maps.frames[0].points, np.arange(12).reshape(2, 3, 2) * 2, rtol=1e-3)


@pytest.mark.parametrize(
    "column, value",
    [
        ("indices", b"\x00" * 3),
        ("indices", b"\x00" * (4 * 10**6)),  # beyond the largest sample: never loaded
        ("indices", "abc"),
        ("labels", np.array([0, 1, 7], "<u2").tobytes()),  # a class beyond the names
        ("labels", b""),
        ("layers", "not json"),
        ("layers", '["one"]'),  # a map needs at least the pixels and the output
        ("layers", json.dumps(["layer"] * 1000)),
        ("layers", "[" * 100_000),
        ("layers", json.dumps([1, 2])),
        ("classes", "[]"),
        ("classes", json.dumps({"a": 1})),
        ("fingerprint", b"\x00\x01"),
    ],
)
def test_a_hostile_sample_of_maps_makes_them_unreadable_and_says_so(column, value):
    store = RunStore()
    run_id = run_with_maps(store)
    assert set_hostile(store, "maps", column, value, run_id)
    with deadline(5), pytest.raises(RunStoreError, match=f"the maps of run {run_id} cannot be read"):
        store.maps(run_id)
    assert store.run(run_id).epochs == 3  # the rest of the run reads as before


def test_names_of_maps_are_cut_to_be_shown():
    store = RunStore()
    run_id = run_with_maps(store)
    tamper(store, "UPDATE maps SET classes = ? WHERE run_id = ?", json.dumps(["\x1b[31m" + "b" * 5000, "ok"]), run_id)
    names = store.maps(run_id).sample.class_names
    assert len(names[0]) <= 200 and "\x1b" not in names[0]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    row=st.fixed_dictionaries({column: stored for column in ("epoch", "points", "scales", "scores", "predictions")}),
    header=st.fixed_dictionaries({column: stored for column in ("indices", "labels", "layers", "classes", "fingerprint")}),
    hostile_header=st.booleans(),
)
def test_any_values_in_the_maps_read_without_an_error(data_home, row, header, hostile_header):
    store = RunStore()
    run_id = run_with_maps(store)
    for column, value in (header if hostile_header else row).items():
        set_hostile(store, "maps" if hostile_header else "map_frames", column, value, run_id)
    try:
        maps = store.maps(run_id)
    except RunStoreError:
        assert hostile_header
    else:
        assert all(np.isfinite(frame.points).all() and frame.predictions.max() < 2 for frame in maps.frames)
    for table in ("map_frames", "maps", "runs"):
        tamper(store, f"DELETE FROM {table}")
