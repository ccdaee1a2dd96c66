"""The run store: recording, reading, deleting, exporting; parallel writers, corrupt stores, migrations, killed
processes; and the ``scratchnet runs`` commands."""

import csv
import dataclasses
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from scratchnet import cli, runs
from scratchnet.cli import main
from scratchnet.config import TrainConfig
from scratchnet.errors import RunStoreError
from scratchnet.inspect.edits import edit_to_dict
from scratchnet.model_file import load_model
from scratchnet.runs import (
    MAX_CURVE_POINTS,
    STORE_NAME,
    DatasetIdentity,
    Environment,
    RunOutcome,
    RunStore,
    SmoothedLoss,
    train_and_record,
)
from scratchnet.trainer import BatchEvent, EpochEvent, Trainer
from tests.guards import deadline

FAST = ["--hidden", "16", "--epochs", "3", "--batch-size", "32", "--validation-size", "100", "--lr", "0.01"]
IDENTITY = DatasetIdentity("fake", None, ["a", "b"], (2, 2), 10, 2)
ENVIRONMENT = Environment("1.0", "openblas 0.3", 2, "3.11", "Linux")


def epoch(number: int, val_accuracy: float | None = 0.5) -> EpochEvent:
    return EpochEvent(number, 3, 1.0 / number, 0.5, 0.9 / number, val_accuracy, 0.25, 0.01)


def recorded_run(store: RunStore, epochs: int = 3, status: str = "completed") -> int:
    run_id = store.begin(TrainConfig(epochs=3), IDENTITY, ENVIRONMENT)
    for number in range(1, epochs + 1):
        store.add_epoch(run_id, epoch(number))
    store.finish(run_id, RunOutcome(status, f"{status} for the test", samples_per_second=100.0))
    return run_id


def train_recorded(fake_dataset, store: RunStore | None, warnings: list[str], **settings) -> RunOutcome:
    """A real short run recorded as the command line and the app record it; returns how it ended."""
    adam = {"optimizer": "adam", "lr": 0.01}
    config = TrainConfig(**{"hidden": [16], "epochs": 3, "batch_size": 32, "validation_size": 100, **adam, **settings})
    return train_and_record(config, fake_dataset, store, warnings.append)


# ---- recording and reading -------------------------------------------------------------------------


def test_a_training_run_is_recorded_with_everything(fake_dataset, data_home):
    warnings = []
    with RunStore() as store:
        result = train_recorded(fake_dataset, store, warnings)
        record = store.run(result.run_id)
    model = result.model
    assert warnings == [] and store.path == data_home / STORE_NAME
    assert record.status == "completed" and record.message == result.message and record.ended >= record.started
    assert record.config == model.config and record.epochs == 3 and len(record.history) == 3
    assert [event.train_loss for event in record.history] == [event.train_loss for event in result.history]
    assert record.val_accuracy == result.history[-1].val_accuracy and record.test_accuracy == model.metrics["test_accuracy"]
    assert record.test == result.test and record.test["confusion_matrix"] and record.train_seconds == result.train_seconds
    assert record.samples_per_second == result.samples_per_second > 0
    assert np.array_equal(record.loss_curve, result.loss_curve) and result.test_accuracy == record.test_accuracy
    assert record.dataset == DatasetIdentity(fake_dataset.name, fake_dataset.test_fingerprint, fake_dataset.class_names, (12, 12), 500, 100)
    assert record.environment.numpy == np.__version__ and record.environment.threads >= 1 and record.environment.blas
    assert record.host and record.pid == os.getpid()
    batches = 3 * int(np.ceil(500 / 32))
    assert record.loss_curve.shape == (batches, 2) and record.loss_curve[-1, 0] == pytest.approx(3.0)
    assert record.model_path == data_home / "models" / f"{result.run_id}.safetensors"
    assert np.array_equal(load_model(record.model_path).params[0]["W"], model.params[0]["W"])


def test_a_run_not_recorded_as_it_trained_is_recorded_at_once_with_its_epochs(fake_dataset):
    result = train_recorded(fake_dataset, None, [])  # as a fine-tune trains: unrecorded, until the learner keeps it
    assert result.run_id is None
    with RunStore() as store:
        run_id = store.record(TrainConfig(hidden=[16]), IDENTITY, dataclasses.replace(result, message="kept"))
        record = store.run(run_id)
    assert record.status == "completed" and record.message == "kept" and record.history == result.history
    assert record.epochs == 3 and record.test_accuracy == result.test_accuracy and record.model_path.exists()


def test_the_store_is_a_write_ahead_log_with_a_schema_version(data_home):
    RunStore().close()
    db = sqlite3.connect(data_home / STORE_NAME)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == max(runs.MIGRATIONS) == len(runs.MIGRATIONS)


def test_runs_lists_summaries_newest_first_without_deleted_ones():
    store = RunStore()
    first, second, third = (recorded_run(store) for _ in range(3))
    store.delete([second])
    assert [run.id for run in store.runs()] == [third, first]
    summary = store.runs()[0]
    assert summary.dataset_name == "fake" and summary.epochs == 3 and summary.val_accuracy == 0.5
    assert summary.model_path is None  # no weights were given


def test_a_run_that_completed_no_epoch_keeps_no_weights(fake_dataset, data_home):
    warnings = []
    with RunStore() as store:
        result = train_recorded(fake_dataset, store, warnings, lr=1e6)  # diverges in its first epoch
        record = store.run(result.run_id)
    assert record.status == "diverged" == result.status and record.epochs == 0
    assert record.model_path is None and not (data_home / "models").exists()


def test_an_exception_during_training_records_the_run_as_failed(fake_dataset, monkeypatch):
    def broken_step(self, *step_args, **step_options):
        raise MemoryError("out of memory in the test")

    monkeypatch.setattr(Trainer, "_step", broken_step)
    store = RunStore()
    with pytest.raises(MemoryError):
        train_recorded(fake_dataset, store, [])
    (run,) = store.runs()
    assert run.status == "failed" and run.message == "out of memory in the test" and run.ended is not None


def test_a_store_failing_mid_run_warns_once_and_training_goes_on(fake_dataset, monkeypatch):
    def disk_full(self, run_id, event):
        raise RunStoreError("the run store: database or disk is full")

    monkeypatch.setattr(RunStore, "add_epoch", disk_full)
    warnings = []
    result = train_recorded(fake_dataset, RunStore(), warnings)
    assert result.status == "completed" and len(result.history) == 3
    assert warnings == ["the run store: database or disk is full; the run goes on without being recorded"]


def test_the_smoothed_loss_is_the_bias_corrected_average_of_the_app():
    curve = SmoothedLoss()
    for step, loss in enumerate([2.0, 1.0, 4.0], 1):
        curve.add(BatchEvent(1, step, 30, step, loss, 0.1, 1.0))
    # 30 batches an epoch: a span of 3 batches, so each average keeps half of the one before: 1, 1, 2.5,
    # divided by 1 - 0.5**n to undo the pull towards the starting 0
    assert curve.points()[:, 1] == pytest.approx([2.0, 1 / 0.75, 2.5 / 0.875], rel=1e-6)
    assert curve.points()[:, 0] == pytest.approx([1 / 30, 2 / 30, 3 / 30])


def test_a_long_run_keeps_a_bounded_curve_and_stores_at_most_2000_points():
    curve = SmoothedLoss()
    batches = 50_001
    for step in range(1, batches + 1):
        curve.add(BatchEvent(1, step, batches, step, 1.0, 0.1, 1.0))
        assert len(curve._kept) < 2 * MAX_CURVE_POINTS
    points = curve.points()
    assert points[0, 0] == pytest.approx(1 / batches) and points[-1, 0] == pytest.approx(1.0)
    store = RunStore()
    run_id = store.begin(TrainConfig(), IDENTITY, ENVIRONMENT)
    store.finish(run_id, RunOutcome("stopped", loss_curve=points))
    stored = store.run(run_id).loss_curve
    assert len(stored) <= MAX_CURVE_POINTS and stored[-1, 0] == pytest.approx(1.0) and stored[0, 0] == points[0, 0]
    assert np.all(np.diff(stored[:, 0]) > 0)


# ---- deleting and exporting --------------------------------------------------------------------------


def test_delete_can_be_undone_until_purged_and_purge_removes_the_weights(fake_dataset, data_home):
    store = RunStore()
    run_id = train_recorded(fake_dataset, store, []).run_id
    weights = store.run(run_id).model_path
    store.delete([run_id])
    assert store.runs() == [] and weights.exists()
    with pytest.raises(RunStoreError, match=f"no recorded run with id {run_id}"):
        store.run(run_id)
    store.restore([run_id])
    assert [run.id for run in store.runs()] == [run_id]
    store.delete([run_id])
    store.purge([run_id])
    store.restore([run_id])  # too late
    assert store.runs() == [] and not weights.exists()
    assert sqlite3.connect(store.path).execute("SELECT count(*) FROM epochs").fetchone()[0] == 0


def test_runs_deleted_a_day_ago_are_purged_when_a_store_is_opened(monkeypatch):
    store = RunStore()
    old, recent = recorded_run(store), recorded_run(store)
    two_days_ago = runs.time.time() - 2 * 24 * 3600
    with monkeypatch.context() as patch:
        patch.setattr(runs.time, "time", lambda: two_days_ago)
        store.delete([old])
    store.delete([recent])
    RunStore()
    store.restore([old, recent])
    assert [run.id for run in store.runs()] == [recent]


def test_unknown_ids_change_nothing():
    store = RunStore()
    run_id = recorded_run(store)
    with pytest.raises(RunStoreError, match="no recorded runs with ids 98, 99"):
        store.delete([run_id, 98, 99])
    assert [run.id for run in store.runs()] == [run_id]


def test_export_writes_one_row_per_run_and_epoch(tmp_path):
    store = RunStore()
    first, second = recorded_run(store, epochs=2), recorded_run(store, epochs=1)
    target = tmp_path / "epochs.csv"
    store.export_csv([second, first], target)
    rows = list(csv.DictReader(target.open()))
    assert [(row["run_id"], row["epoch"]) for row in rows] == [(str(second), "1"), (str(first), "1"), (str(first), "2")]
    assert list(rows[0]) == ["run_id", "epoch", "epochs", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "seconds", "lr"]
    assert float(rows[2]["train_loss"]) == 0.5 and sorted(os.listdir(tmp_path)) == ["epochs.csv", "scratchnet-home"]


# ---- reliability ----------------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from scratchnet.config import TrainConfig
    from scratchnet.runs import DatasetIdentity, Environment, RunOutcome, RunStore
    from scratchnet.trainer import EpochEvent

    store = RunStore()
    for _ in range(int(sys.argv[1])):
        run_id = store.begin(TrainConfig(), DatasetIdentity("fake", None, ["a"], (1, 1), 1, 0), Environment("", "", 1, "", ""))
        for epoch in (1, 2, 3):
            store.add_epoch(run_id, EpochEvent(epoch, 3, 1.0, 0.5, None, None, 0.1, 0.01))
        store.finish(run_id, RunOutcome("completed"))
    if sys.argv[2] == "die":
        run_id = store.begin(TrainConfig(), DatasetIdentity("fake", None, ["a"], (1, 1), 1, 0), Environment("", "", 1, "", ""))
        store.add_epoch(run_id, EpochEvent(1, 3, 1.0, 0.5, None, None, 0.1, 0.01))
        import os, signal
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def run_writers(count: int, runs_each: int, then: str = "exit") -> list[subprocess.Popen]:
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(runs_each), then]) for _ in range(count)]
    with deadline(120, "the writing processes"):
        for writer in writers:
            writer.wait()
    return writers


def test_parallel_processes_recording_at_once_lose_no_run():
    writers = run_writers(count=4, runs_each=15)
    assert [writer.returncode for writer in writers] == [0] * 4
    store = RunStore()
    assert len(store.runs()) == 60 and {run.epochs for run in store.runs()} == {3}
    assert {run.status for run in store.runs()} == {"completed"}


def test_a_run_whose_process_was_killed_is_marked_interrupted_on_the_next_open_keeping_its_epochs():
    (writer,) = run_writers(count=1, runs_each=0, then="die")
    assert writer.returncode == -signal.SIGKILL
    store = RunStore()
    (killed,) = store.runs()
    assert (
        killed.status == "interrupted" and killed.epochs == 1 and killed.message == "the process recording the run ended before the run did"
    )
    alive = store.begin(TrainConfig(), IDENTITY, ENVIRONMENT)  # this process lives: its run stays "running"
    assert RunStore().run(alive).status == "running"


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"this is not a database at all, just text" * 100, "is damaged (file is not a database)"),
        (b"", None),  # an empty file is a new store
    ],
)
def test_a_store_that_is_not_a_database_is_moved_aside_and_a_new_one_starts(data_home, content, reason):
    data_home.mkdir()
    (data_home / STORE_NAME).write_bytes(content)
    (data_home / f"{STORE_NAME}-wal").write_bytes(b"junk")
    store = RunStore()
    recorded_run(store)
    assert len(store.runs()) == 1
    if reason is None:
        assert store.notice is None
        return
    (aside,) = data_home.glob(f"{STORE_NAME}.corrupt-*Z")
    assert aside.read_bytes() == content and (data_home / f"{aside.name}-wal").read_bytes() == b"junk"
    assert store.notice == f"the run store {store.path} {reason}; it was moved to {aside.name} and a new store was started"


def test_a_damaged_page_is_found_and_the_store_moved_aside(data_home):
    store = RunStore()
    for _ in range(200):
        recorded_run(store)
    store.close()
    sqlite3.connect(store.path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    page_size = 4096
    with open(store.path, "r+b") as file:
        file.seek(3 * page_size)
        file.write(b"\xff" * page_size)
    reopened = RunStore()
    assert reopened.notice and "is damaged" in reopened.notice and reopened.runs() == []
    assert len(list(data_home.glob(f"{STORE_NAME}.corrupt-*Z"))) == 1


def test_another_programs_database_and_a_newer_store_are_moved_aside(data_home):
    data_home.mkdir()
    sqlite3.connect(data_home / STORE_NAME).execute("CREATE TABLE photos (id INTEGER)").connection.commit()
    assert "runs.sqlite3 is not a ScratchNet run store; it was moved to runs.sqlite3.corrupt-" in RunStore().notice
    db = sqlite3.connect(data_home / STORE_NAME)
    db.execute("PRAGMA user_version = 7")
    db.close()
    assert f"was written by a newer ScratchNet (store version 7; this one reads up to {max(runs.MIGRATIONS)})" in RunStore().notice
    assert len([path for path in data_home.glob(f"{STORE_NAME}.corrupt-*") if not path.name.endswith(("-wal", "-shm"))]) == 2


def test_an_older_store_is_migrated_keeping_its_runs(monkeypatch):
    store = RunStore()
    run_id = recorded_run(store)
    store.close()
    newer = max(runs.MIGRATIONS) + 1
    migration = ["ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT ''", "CREATE INDEX runs_by_status ON runs (status)"]
    monkeypatch.setitem(runs.MIGRATIONS, newer, migration)
    upgraded = RunStore()
    assert [run.id for run in upgraded.runs()] == [run_id] and upgraded.run(run_id).epochs == 3
    db = sqlite3.connect(upgraded.path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == newer
    assert db.execute("SELECT note FROM runs").fetchall() == [("",)]


def test_a_store_of_version_1_gains_the_health_table_and_its_runs_have_no_samples(monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(runs, "MIGRATIONS", {1: runs.MIGRATIONS[1]})
        store = RunStore()
        run_id = recorded_run(store)
        store.close()
    upgraded = RunStore()
    assert upgraded.health(run_id).samples == [] and upgraded.run(run_id).epochs == 3


def test_a_store_without_the_edits_table_gains_it_and_its_runs_are_no_edits(monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(
            runs,
            "MIGRATIONS",
            {version: statements for version, statements in runs.MIGRATIONS.items() if statements is not runs.EDITS_TABLE},
        )
        store = RunStore()
        run_id = recorded_run(store)
        store.close()
    upgraded = RunStore()
    (run,) = upgraded.runs()
    assert run.id == run_id and run.edits is None and run.edit_text is None and upgraded.run(run_id).epochs == 3


def test_an_edited_copy_is_recorded_as_an_edit_of_its_run(fake_dataset):
    from scratchnet.inspect.edits import Prune, SwitchOff, UnitRef

    store = RunStore()
    result = train_recorded(fake_dataset, store, [])
    edits = (SwitchOff(UnitRef(0, 3)), Prune(0.9))
    edited = dataclasses.replace(result.model, edits=edits)
    outcome = RunOutcome("completed", "edit of run …", 0.0, 0.0, {"accuracy": 0.25, "loss": 1.5}, model=edited)
    edit_id = store.record_edit(result.model.config, IDENTITY, outcome, result.run_id, edits)
    listed = {run.id: run for run in store.runs()}
    assert listed[edit_id].edit_of == result.run_id and listed[edit_id].edits == edits and listed[result.run_id].edits is None
    assert (
        listed[edit_id].edit_text == f"edit of run {result.run_id}: switched off unit 4 of hidden layer 1; pruned the 90 % smallest weights"
    )
    record = store.run(edit_id)
    assert record.test_accuracy == 0.25 and record.epochs == 0 and record.history == [] and record.status == "completed"
    assert record.model_path.exists() and load_model(record.model_path).edits == edits
    assert record.to_json()["edits"] == [edit_to_dict(edit) for edit in edits]
    store.delete([result.run_id])
    store.purge()
    assert store.run(edit_id).edit_of == result.run_id  # an edit keeps its history when its run goes
    store.delete([edit_id])
    store.purge()
    assert sqlite3.connect(store.path).execute("SELECT count(*) FROM edits").fetchone() == (0,)


def test_a_store_that_cannot_be_opened_is_a_clear_error(data_home):
    data_home.parent.mkdir(exist_ok=True)
    data_home.write_text("a file where the data home folder should be")
    with pytest.raises(RunStoreError, match=f"cannot open the run store {data_home / STORE_NAME}"):
        RunStore()


# ---- the command line -------------------------------------------------------------------------------------


def last_json(text: str):
    return json.loads(text.strip().splitlines()[-1])


def test_train_records_the_run_and_runs_list_and_show_report_it(fake_data_dir, data_home, capsys):
    assert main(["train", "--data-dir", str(fake_data_dir), *FAST, "--json"]) == 0
    result = last_json(capsys.readouterr().out)
    assert main(["runs", "list", "--json"]) == 0
    (listed,) = last_json(capsys.readouterr().out)
    assert listed["id"] == result["run_id"] and listed["status"] == "completed" and listed["epochs"] == 3
    assert listed["config"] == result["config"] and listed["test_accuracy"] == pytest.approx(result["test_accuracy"])
    assert listed["val_accuracy"] == result["val_accuracy"] and listed["train_seconds"] == pytest.approx(result["train_seconds"])
    assert listed["model_path"] == str(data_home / "models" / f"{listed['id']}.safetensors") and "started" in listed

    assert main(["runs", "list"]) == 0
    title, row = capsys.readouterr().out.splitlines()
    assert title.split() == ["id", "started", "status", "settings", "epochs", "test", "acc", "val", "acc", "seconds"]
    assert " completed  16 relu nesterov lr=0.01 bs=32 ep=3 " in row and title.index("seconds") + len("seconds") == len(row)

    assert main(["runs", "show", str(listed["id"]), "--json"]) == 0
    shown = last_json(capsys.readouterr().out)
    assert len(shown["history"]) == 3 and shown["dataset"]["train_size"] == 500 and shown["environment"]["numpy"] == np.__version__
    assert len(shown["loss_curve"]) == 48 and shown["test"]["count"] == 200
    assert main(["runs", "show", str(listed["id"])]) == 0
    text = capsys.readouterr().out
    assert f"run {listed['id']}: completed (completed 3 epochs)" in text and "train loss" in text and "openblas" in text.lower()


def test_a_run_records_the_blas_thread_count_it_trained_with(fake_data_dir, data_home, capsys):
    with threadpool_limits(limits=2, user_api="blas"):  # BLAS starts with 2 threads; the run forces 1
        assert main(["train", "--data-dir", str(fake_data_dir), *FAST, "--threads", "1", "--json"]) == 0
    run_id = last_json(capsys.readouterr().out)["run_id"]
    assert main(["runs", "show", str(run_id)]) == 0
    assert " with 1 thread, " in capsys.readouterr().out
    assert main(["runs", "show", str(run_id), "--json"]) == 0
    assert last_json(capsys.readouterr().out)["environment"]["threads"] == 1
    with RunStore() as store:
        assert store.runs()[0].blas_threads == 1  # what the Runs tab compares


def test_finish_records_the_thread_count_and_keeps_the_first_one_when_unknown(tmp_path):
    with RunStore(tmp_path / STORE_NAME) as store:
        told, untold = store.begin(TrainConfig(), IDENTITY, ENVIRONMENT), store.begin(TrainConfig(), IDENTITY, ENVIRONMENT)
        store.finish(told, RunOutcome("completed", blas_threads=1))
        store.finish(untold, RunOutcome("completed"))
        assert store.run(told).environment == dataclasses.replace(ENVIRONMENT, threads=1)
        assert store.run(untold).environment == ENVIRONMENT
        assert {run.id: run.blas_threads for run in store.runs()} == {told: 1, untold: ENVIRONMENT.threads}


def test_no_record_records_nothing(fake_data_dir, data_home, capsys):
    assert main(["train", "--data-dir", str(fake_data_dir), *FAST, "--json", "--no-record"]) == 0
    assert last_json(capsys.readouterr().out)["run_id"] is None
    assert main(["runs", "list"]) == 0
    assert capsys.readouterr().out.startswith("no runs recorded yet")


def test_a_store_that_cannot_be_opened_does_not_stop_training(fake_data_dir, data_home, capsys):
    data_home.parent.mkdir(exist_ok=True)
    data_home.write_text("not a folder")
    assert main(["train", "--data-dir", str(fake_data_dir), *FAST]) == 0
    captured = capsys.readouterr()
    assert "test accuracy" in captured.out and "recorded as run" not in captured.out
    (warning,) = [line for line in captured.err.splitlines() if line.startswith("scratchnet: warning: ")]
    assert warning.startswith(f"scratchnet: warning: cannot open the run store {data_home / STORE_NAME}: ")
    assert warning.endswith("; this run will not be recorded")


def test_a_corrupt_store_is_reported_as_a_warning_by_the_command_line(data_home, capsys):
    data_home.mkdir()
    (data_home / STORE_NAME).write_bytes(b"garbage" * 1000)
    assert main(["runs", "list"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("scratchnet: warning: the run store ") and "moved to runs.sqlite3.corrupt-" in err and err.count("\n") == 1


def test_a_run_ended_by_ctrl_c_is_recorded_as_interrupted_with_its_weights(fake_data_dir, capsys, monkeypatch):
    show_batch = cli.EpochProgress.show_batch

    def press_ctrl_c_in_epoch_2(progress, event):
        show_batch(progress, event)
        if event.epoch == 2 and event.batch == 3:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(cli.EpochProgress, "show_batch", press_ctrl_c_in_epoch_2)
    assert main(["train", "--data-dir", str(fake_data_dir), *FAST, "--json"]) == 130
    run = RunStore().run(last_json(capsys.readouterr().out)["run_id"])
    assert run.status == "interrupted" and run.epochs == 1 and run.model_path.exists()
    assert load_model(run.model_path).epochs_trained == 1


def test_a_run_aborted_by_a_second_ctrl_c_is_recorded_as_interrupted(fake_data_dir, capsys, monkeypatch):
    show_batch = cli.EpochProgress.show_batch

    def press_ctrl_c_twice_in_epoch_2(progress, event):
        show_batch(progress, event)
        if event.epoch == 2 and event.batch == 3:
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(cli.EpochProgress, "show_batch", press_ctrl_c_twice_in_epoch_2)
    assert main(["train", "--data-dir", str(fake_data_dir), *FAST]) == 130
    (run,) = RunStore().runs()
    assert run.status == "interrupted" and run.message == "KeyboardInterrupt" and run.epochs == 1


def test_a_diverged_run_is_recorded_as_diverged(fake_data_dir, capsys):
    assert main(["train", "--data-dir", str(fake_data_dir), *FAST, "--lr", "1e6"]) == 1
    (run,) = RunStore().runs()
    assert run.status == "diverged" and run.message.startswith("diverged at epoch 1")


def test_export_and_delete_from_the_command_line(tmp_path, data_home, capsys):
    store = RunStore()
    first, second = recorded_run(store, epochs=2), recorded_run(store, epochs=1)
    target = tmp_path / "runs.csv"
    assert main(["runs", "export", str(first), str(second), "--csv", str(target)]) == 0
    assert capsys.readouterr().out == f"exported the epochs of 2 runs to {target}\n"
    assert len(target.read_text().splitlines()) == 1 + 3
    assert main(["runs", "delete", str(first)]) == 0
    assert capsys.readouterr().out == f"deleted run {first}\n"
    store.restore([first])  # the command line deletes for good
    assert [run.id for run in store.runs()] == [second]


@pytest.mark.parametrize(
    "args, message",
    [
        (["runs", "show", "42"], "no recorded run with id 42"),
        (["runs", "delete", "1", "42"], "no recorded run with id 42"),
        (["runs", "export", "42", "43", "--csv", "out.csv"], "no recorded runs with ids 42, 43"),
    ],
)
def test_unknown_run_ids_exit_2_with_one_line_and_change_nothing(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    recorded_run(RunStore())
    assert main(args) == 2
    assert capsys.readouterr().err == f"scratchnet: error: {message}\n"
    assert not (tmp_path / "out.csv").exists() and len(RunStore().runs()) == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["runs", "show", "one"], "argument id: expected a whole number; got 'one'; see 'scratchnet runs show --help'"),
        (["runs", "export", "1"], "the following arguments are required: --csv; see 'scratchnet runs export --help'"),
        (["runs"], "the following arguments are required: ACTION; see 'scratchnet runs --help'"),
    ],
)
def test_bad_runs_arguments_exit_2_with_one_line(capsys, args, message):
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2 and capsys.readouterr().err == f"scratchnet: error: {message}\n"
