"""The run store against hostile and damaged rows: nothing a row holds can delete a file the store did not write,
crash a reader (``RunStore``, the ``scratchnet runs`` commands, the Runs tab) or hang it; a locked, or not regular,
store is waited for at most ``BUSY_TIMEOUT`` seconds and then said to be so."""

import os
import sqlite3

import pytest

from scratchnet import runs
from scratchnet.cli import main
from scratchnet.runs import MODELS_FOLDER, STORE_NAME, RunStore

from .test_runs import recorded_run


def tamper(store: RunStore, statement: str, *values) -> None:
    """Change the store behind its back, as another program (or a hand with the sqlite3 shell) would."""
    db = sqlite3.connect(store.path)
    db.execute(statement, values)
    db.commit()
    db.close()


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


