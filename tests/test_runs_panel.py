"""The app's runs in the run store, and the Runs panel over it (pytest-qt, offscreen, the small fake dataset)."""

import csv
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt

from scratchnet.config import TrainConfig
from scratchnet.runs import DatasetIdentity, RunOutcome, RunStore
from scratchnet.trainer import EpochEvent
from scratchnet_gui import worker
from scratchnet_gui.runs_panel import differing_settings
from scratchnet_gui.session import Session

from .test_gui_app import make_window
from .test_session import CONFIG, RUN_TIMEOUT


def train(qtbot, session: Session, config: TrainConfig = CONFIG):
    with qtbot.waitSignal(session.run_finished, timeout=RUN_TIMEOUT) as finished:
        assert session.start(config)
    return finished.args[0]


def test_the_app_records_every_run_with_its_epochs_and_weights(qtbot, session, data_home):
    outcome = train(qtbot, session)
    with RunStore(data_home / "runs.sqlite3") as store:
        record = store.run(outcome.run_id)
    assert record.status == "completed"
    assert [epoch.epoch for epoch in record.history] == [1, 2]
    assert record.test_accuracy == pytest.approx(outcome.test_accuracy)
    assert record.model_path.is_file()
    assert len(record.loss_curve) > 0


def test_a_stopped_run_is_recorded_as_stopped(qtbot, session, data_home):
    assert session.start(CONFIG.replace(epochs=100_000, batch_size=16))
    qtbot.waitUntil(lambda: session.progress().last_batch is not None, timeout=RUN_TIMEOUT)
    with qtbot.waitSignal(session.run_finished, timeout=RUN_TIMEOUT) as finished:
        session.stop()
    with RunStore(data_home / "runs.sqlite3") as store:
        assert store.run(finished.args[0].run_id).status == "stopped"


def test_a_failed_run_is_recorded_as_failed_with_its_error(qtbot, session, data_home, monkeypatch):
    def explode(self):
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(worker.Trainer, "run", explode)
    with qtbot.waitSignal(session.run_failed, timeout=RUN_TIMEOUT):
        assert session.start(CONFIG)
    with RunStore(data_home / "runs.sqlite3") as store:
        (run,) = store.runs()
    assert run.status == "failed" and run.message == "the disk caught fire"


def test_an_unopenable_store_is_a_notice_and_training_goes_on_unrecorded(qtbot, fake_data_dir, data_home):
    data_home.mkdir(parents=True)
    (data_home / "runs.sqlite3").mkdir()  # a folder where the store's file should be
    session = Session()
    with qtbot.waitSignal(session.notice, timeout=5_000) as notice:
        pass
    assert "run store" in notice.args[0] and "not be recorded" in notice.args[0]
    with qtbot.waitSignal(session.dataset_changed, timeout=10_000):
        session.load_data(fake_data_dir)
    assert train(qtbot, session).run_id is None
    session.shutdown()


# ---- the Runs panel ------------------------------------------------------------------------------------


def record(store: RunStore, config: TrainConfig, test_accuracy: float, epochs: int = 2) -> int:
    """A finished run written straight into the store, as another process would write it."""
    identity = DatasetIdentity("fake", None, ["0", "1", "2", "3"], (12, 12), 500, 100)
    run_id = store.begin(config, identity)
    for epoch in range(1, epochs + 1):
        store.add_epoch(run_id, EpochEvent(epoch, epochs, 0.5 / epoch, 0.8, 0.6 / epoch, test_accuracy, 1.0, config.lr))
    curve = np.column_stack([np.linspace(0, epochs, 50), np.geomspace(2.3, 0.2, 50)])
    store.finish(run_id, RunOutcome("completed", "", None, 1000.0, {"accuracy": test_accuracy}, curve))
    return run_id


@pytest.fixture
def other_process_store(data_home):
    """The app's store opened a second time: writes through it are another connection's, like the CLI's."""
    store = RunStore(data_home / "runs.sqlite3")
    yield store
    store.close()


@pytest.fixture
def window(qtbot, tmp_path):
    return make_window(qtbot, tmp_path / "settings.ini")


def shown_ids(window) -> list[int]:
    runs = window.runs
    return [runs.table_model.run_at(runs.proxy.mapToSource(runs.proxy.index(row, 0)).row()).id for row in range(runs.proxy.rowCount())]


def three_runs(store: RunStore) -> list[int]:
    return [
        record(store, CONFIG.replace(activation="relu"), 0.90),
        record(store, CONFIG.replace(activation="tanh"), 0.80),
        record(store, CONFIG.replace(activation="relu", lr=0.2), 0.85),
    ]


def test_runs_recorded_by_another_process_appear_in_the_table(qtbot, window, other_process_store):
    assert window.runs.table_model.rowCount() == 0
    run_id = record(other_process_store, CONFIG, 0.9)
    window.session.runs.refresh_if_changed()  # what its timer calls every REFRESH_MS
    assert shown_ids(window) == [run_id]


def test_a_run_trained_by_the_cli_while_the_app_is_open_appears_in_its_table(qtbot, window, fake_data_dir):
    train_args = ["--hidden", "16", "--epochs", "1", "--batch-size", "32", "--validation-size", "100", "--json"]
    command = [sys.executable, "-m", "scratchnet", "train", "--data-dir", str(fake_data_dir), *train_args]
    subprocess.run(command, check=True, capture_output=True, timeout=120)  # the same $SCRATCHNET_HOME as the app's
    window.session.runs.refresh_if_changed()  # what its timer calls every REFRESH_MS
    assert window.runs.table_model.rowCount() == 1
    assert window.runs.table_model.run_at(0).status == "completed"


def test_the_table_sorts_numbers_as_numbers_and_filters_on_any_column(qtbot, window, other_process_store):
    ids = [record(other_process_store, CONFIG.replace(lr=lr), accuracy) for lr, accuracy in ((0.05, 0.9), (0.2, 0.1), (0.1, 0.85))]
    window.session.runs.refresh()
    test_column = [column.title for column in window.runs.table_model.columns].index("test acc")
    window.runs.table.sortByColumn(test_column, Qt.SortOrder.AscendingOrder)
    assert shown_ids(window) == [ids[1], ids[2], ids[0]]  # 10 % < 85 % < 90 %, not "10" < "85" < "90" by luck of text
    window.runs.filter.setText("LR=0.2")
    qtbot.waitUntil(lambda: shown_ids(window) == [ids[1]], timeout=5_000)
    assert window.runs.count.text() == "1 of 3 runs"


def test_selected_runs_overlay_the_plots_each_with_a_legend_entry(qtbot, window, other_process_store):
    ids = three_runs(other_process_store)
    window.session.runs.refresh()
    window.runs.select_runs(ids)
    labels = window.curves.overlay_labels
    assert sorted(label.split()[0] for label in labels) == [f"#{run_id}" for run_id in ids]
    legend = [label.text for _, label in window.curves.loss_plot.legend.items]
    assert all(label in legend for label in labels)
    colors = {pen.color().name() for pen in window.curves.overlay_pens}
    assert len(colors) == 3
    model = window.runs.table_model

    def swatch(run_id):
        return model.data(model.index(model.row_of(run_id), 0), Qt.ItemDataRole.DecorationRole)

    qtbot.waitUntil(lambda: all(swatch(run_id) is not None for run_id in ids))
    assert {swatch(run_id).name() for run_id in ids} == colors  # each run's id cell shows its curves' colour
    window.runs.select_runs(ids[:1])
    qtbot.waitUntil(lambda: swatch(ids[1]) is None)
    assert len(window.curves.overlay_labels) == 1
    assert len([label for _, label in window.curves.loss_plot.legend.items if label.text.startswith("#")]) == 1


def test_compare_shows_only_the_settings_that_differ(window, other_process_store):
    ids = three_runs(other_process_store)
    window.session.runs.refresh()
    window.runs.select_runs(ids)
    window.runs.compare_button.click()
    table = window.runs.comparison
    rows = [table.verticalHeaderItem(row).text() for row in range(table.rowCount())]
    assert rows[:2] == ["lr", "activation"] or rows[:2] == ["activation", "lr"]
    assert "epochs" in rows and "test accuracy" in rows and "hidden" not in rows
    assert differing_settings([{"a": 1, "b": [2]}, {"a": 1, "b": [3]}]) == ["b"]


def test_delete_hides_runs_until_undo(window, other_process_store):
    ids = three_runs(other_process_store)
    window.session.runs.refresh()
    window.runs.select_runs(ids[:2])
    window.runs.delete_button.click()
    assert shown_ids(window) == [ids[2]]
    assert not window.runs.undo_button.isHidden()
    window.runs.undo_button.click()
    assert sorted(shown_ids(window)) == ids
    assert window.runs.selected_ids() == sorted(ids[:2], reverse=True)


def test_export_writes_the_selected_runs_epochs(window, other_process_store, tmp_path):
    ids = three_runs(other_process_store)
    window.session.runs.refresh()
    window.runs.select_runs(ids[1:])
    window.runs.export_selection(tmp_path / "runs.csv")
    with open(tmp_path / "runs.csv") as file:
        rows = list(csv.DictReader(file))
    assert sorted({int(row["run_id"]) for row in rows}) == ids[1:]
    assert len(rows) == 4  # two runs of two epochs


def test_a_run_trained_in_the_app_can_be_reopened_repeated_and_survives_a_restart(qtbot, fake_data_dir, tmp_path):
    settings = tmp_path / "settings.ini"
    window = make_window(qtbot, settings, fake_data_dir)
    window.settings_panel.set_config(CONFIG.replace(activation="tanh"))
    window.start_action.trigger()
    qtbot.waitUntil(lambda: not window.session.state.active, timeout=RUN_TIMEOUT)
    (run_id,) = shown_ids(window)
    window.reset_action.trigger()
    window.settings_panel.set_config(CONFIG)
    window.runs.select_runs([run_id])
    window.runs.open_button.click()
    assert window.session.model.activation == "tanh" and window.session.model.epochs_trained == 2
    # As File ▸ Open does: the run's settings fill the panel, so that Start continues from its weights.
    assert window.settings_panel.config().activation == "tanh"
    assert "continues from the current weights (2 epochs trained)" in window.start_action.toolTip()
    window.settings_panel.set_config(CONFIG)
    window.runs.repeat_button.click()
    assert window.settings_panel.config().activation == "tanh"
    assert len(window.curves.overlay_labels) == 1
    window.close()

    restarted = make_window(qtbot, settings)
    assert shown_ids(restarted) == [run_id]
    qtbot.waitUntil(lambda: restarted.curves.overlay_labels == window.curves.overlay_labels, timeout=5_000)
    assert restarted.runs.selected_ids() == [run_id]


def test_a_finished_run_is_overlaid_only_when_the_user_selects_it(qtbot, fake_data_dir, tmp_path):
    """Overlaying is the user's choice (issue 19, item 18): a run that joined the overlays by itself squeezed the next
    run's curves into a corner of the axis (a 120-epoch run before an 8-epoch one)."""
    window = make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)
    window.settings_panel.set_config(CONFIG)
    for _ in range(2):
        window.start_action.trigger()
        qtbot.waitUntil(lambda: not window.session.state.active, timeout=RUN_TIMEOUT)
    assert window.runs.selected_ids() == [] and window.curves.overlay_labels == []
    first = min(shown_ids(window))
    window.runs.select_runs([first])
    assert window.curves.overlay_labels == [f"#{first} {CONFIG.describe()}"]
