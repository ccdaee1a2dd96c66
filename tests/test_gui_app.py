"""The desktop app driven through its real widgets and actions (pytest-qt, offscreen, the small fake dataset)."""

import csv
import dataclasses
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QThread
from PySide6.QtWidgets import QApplication, QFileDialog

from scratchnet import runs as run_store
from scratchnet.config import TrainConfig
from scratchnet.presets import load_preset, preset_names
from scratchnet.settings import MAX_WIDTH
from scratchnet.trainer import TrainingData
from scratchnet_gui.main_window import MainWindow
from scratchnet_gui.messages import epochs_text

from .conftest import write_dataset

RUN_TIMEOUT = 20_000  # ms; runs here take well under a second


def make_window(qtbot, settings_path, data_dir=None) -> MainWindow:
    window = MainWindow(QSettings(str(settings_path), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    if data_dir is not None:
        with qtbot.waitSignal(window.session.dataset_changed, timeout=10_000):
            window.load_data(str(data_dir))
    return window


@pytest.fixture
def window(qtbot, fake_data_dir, tmp_path):
    window = make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)
    window.settings_panel.field("validation_size").setValue(100)  # the fake set has only 600 training images
    return window


def configure(window, **values) -> None:
    """Set controls the way a user would leave them (through the widgets' own setters)."""
    for name, value in values.items():
        widget = window.settings_panel.field(name)
        widget.setCurrentText(value) if isinstance(value, str) else widget.setValue(value)


def type_into(qtbot, spin, text: str) -> None:
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


def batches(window) -> int:
    return window.curves.current.batch_loss.size


def settled_batches(window, qtbot, trainer_pauses) -> int:
    """The batch count once the trainer waits in its pause (a paused run reports its last batch first)."""
    qtbot.waitUntil(trainer_pauses.waiting.is_set, timeout=RUN_TIMEOUT)
    QCoreApplication.processEvents()  # the reports it sent before it paused
    return batches(window)


def start_long_run(window, qtbot, **values) -> None:
    configure(window, **{"epochs": 100_000, "batch_size": 16, "schedule": "constant", **values})
    window.start_action.trigger()
    qtbot.waitUntil(lambda: batches(window) > 10, timeout=RUN_TIMEOUT)


def wait_idle(window, qtbot) -> None:
    """Wait for the run to end (however it ends)."""
    qtbot.waitUntil(lambda: not window.session.state.active, timeout=RUN_TIMEOUT)


def test_a_short_run_draws_batch_and_epoch_curves_and_the_test_accuracy(window, qtbot):
    models = []
    window.session.model_changed.connect(models.append)
    configure(window, epochs=3, batch_size=50)
    window.start_action.trigger()
    assert window.session.state == "running"
    assert not window.settings_panel.field("epochs").isEnabled()
    assert "Locked during a run" in window.settings_panel.field("epochs").toolTip()
    assert window.settings_panel.field("lr").isEnabled()
    wait_idle(window, qtbot)

    curves = window.curves.current
    assert curves.batch_loss.size == 3 * 10  # 500 training images / 50 per batch = 10 batches per epoch
    assert curves.batch_loss.x[-1] == pytest.approx(3.0)
    assert np.all(np.diff(curves.batch_loss.x) > 0)
    assert curves.train_loss.size == curves.val_accuracy.size == 3
    assert window.curves.raw_item.xData.size == 30 and window.curves.val_acc_item.yData.size == 3
    assert 0 <= curves.test_accuracy <= 1 and "test" in window.curves.test_text.toPlainText()
    assert len(models) == 3 + 1  # one snapshot per epoch, then the final model
    assert models[-1].metrics["test_accuracy"] == curves.test_accuracy
    assert window.settings_panel.field("epochs").isEnabled()
    assert window.statusBar().epoch_label.text() == "Epoch 3 / 3" and "samples/s" in window.statusBar().speed_label.text()


def test_pause_stops_batch_progress_and_resume_continues_it(window, qtbot, trainer_pauses):
    start_long_run(window, qtbot)
    window.pause_action.trigger()
    assert window.session.state == "paused" and window.pause_action.text() == "&Resume"
    paused_at = settled_batches(window, qtbot, trainer_pauses)  # the batch in flight finishes and is reported
    assert paused_at == trainer_pauses.boundaries - 1  # every batch trained before the pause is drawn
    window.pause_action.trigger()
    assert window.session.state == "running"
    qtbot.waitUntil(lambda: batches(window) > paused_at + 10, timeout=RUN_TIMEOUT)
    window.stop_action.trigger()
    wait_idle(window, qtbot)


def test_space_toggles_pause(window, qtbot):
    start_long_run(window, qtbot)
    window.activateWindow()
    window.tabs.setFocus()
    qtbot.keyClick(window.tabs, Qt.Key.Key_Space)
    assert window.session.state == "paused"
    qtbot.keyClick(window.tabs, Qt.Key.Key_Space)
    assert window.session.state == "running"
    window.stop_action.trigger()
    wait_idle(window, qtbot)


def test_a_learning_rate_typed_mid_run_reaches_the_trainer(window, qtbot):
    start_long_run(window, qtbot, optimizer="sgd", lr=0.01)
    type_into(qtbot, window.settings_panel.field("lr"), "0.0123")
    # the status bar shows the learning rate the training loop used for its latest batch
    qtbot.waitUntil(lambda: window.statusBar().lr_label.text() == "lr 0.0123", timeout=RUN_TIMEOUT)
    window.stop_action.trigger()
    wait_idle(window, qtbot)


def test_stop_ends_the_run_and_keeps_the_weights(window, qtbot):
    start_long_run(window, qtbot)
    qtbot.waitUntil(lambda: window.curves.current.train_loss.size >= 2, timeout=RUN_TIMEOUT)
    with qtbot.waitSignal(window.session.run_finished, timeout=RUN_TIMEOUT) as finished:
        window.stop_action.trigger()
    outcome = finished.args[0]
    assert "stopped by the user" in window.statusBar().currentMessage().lower()
    assert window.curves.current.test_accuracy is not None
    assert window.start_action.isEnabled() and not window.stop_action.isEnabled()
    epochs = outcome.weights_epoch  # the epochs completed, plus the fraction of the one cut short
    assert len(outcome.history) >= 2 and len(outcome.history) <= epochs < len(outcome.history) + 1
    assert window.session.model.epochs_trained == epochs == window.curves.current.test_epoch
    assert f"continues from the current weights ({epochs_text(epochs)} trained)" in window.start_action.toolTip()
    for kept, trained in zip(window.session.model.params, outcome.model.params):
        np.testing.assert_array_equal(kept["W"], trained["W"])


def test_a_continued_run_counts_every_epoch_in_the_saved_model(window, qtbot, tmp_path):
    configure(window, epochs=2, batch_size=50)
    for _ in range(2):
        window.start_action.trigger()
        wait_idle(window, qtbot)
    assert window.session.model.epochs_trained == 4
    path = tmp_path / "net.safetensors"
    window.files.save_model_to(path)
    window.reset_action.trigger()
    window.files.open_model_from(path)
    assert "continues from the current weights (4 epochs" in window.start_action.toolTip()


def test_step_runs_one_epoch_then_pauses(window, qtbot, trainer_pauses):
    configure(window, epochs=50, batch_size=50)
    window.step_action.trigger()
    qtbot.waitUntil(lambda: window.session.state == "paused", timeout=RUN_TIMEOUT)
    assert window.curves.current.train_loss.size == 1
    assert settled_batches(window, qtbot, trainer_pauses) == 10
    window.step_action.trigger()
    qtbot.waitUntil(lambda: window.curves.current.train_loss.size == 2 and window.session.state == "paused", timeout=RUN_TIMEOUT)
    window.stop_action.trigger()
    wait_idle(window, qtbot)


def test_save_then_open_gives_the_same_predictions(window, qtbot, tmp_path, monkeypatch):
    configure(window, epochs=2, batch_size=50)
    window.start_action.trigger()
    wait_idle(window, qtbot)
    images = window.session.dataset.test_images
    trained = window.session.model.predict_images(images)

    path = tmp_path / "net.safetensors"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(path), ""))
    window.save_action.trigger()
    assert path.is_file()

    window.reset_action.trigger()
    assert not np.allclose(window.session.model.predict_images(images), trained)

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))
    window.open_action.trigger()
    np.testing.assert_array_equal(window.session.model.predict_images(images), trained)
    assert "continues from the current weights (2 epochs" in window.start_action.toolTip()

    window.start_action.trigger()  # continues the opened network: its curves start at epoch 2
    wait_idle(window, qtbot)
    assert window.curves.current.batch_loss.x[0] > 2


def test_closing_mid_run_stops_the_thread_within_a_second(window, qtbot, capfd, monkeypatch):
    """Closing ends the run at the batch in flight, without scoring the test set (on MNIST, a noticeable wait)."""
    scored = []
    score = run_store.score_on_test_set  # where the app's runs are scored (scratchnet.runs.train_and_record)
    monkeypatch.setattr(run_store, "score_on_test_set", lambda *args: scored.append(args) or score(*args))
    start_long_run(window, qtbot)
    threads = window.findChildren(QThread)
    assert any(thread.isRunning() for thread in threads)
    window.close()
    assert all(thread.isFinished() for thread in threads)  # so destroying them later is safe
    assert scored == []
    QCoreApplication.processEvents()  # late reports from the worker must be ignored quietly
    assert "QThread" not in capfd.readouterr().err


def test_invalid_values_cannot_be_typed_or_are_explained(window, qtbot):
    width = window.settings_panel.layers.spin_boxes()[0]
    type_into(qtbot, width, "5000")
    assert 1 <= width.value() <= MAX_WIDTH

    lr = window.settings_panel.field("lr")
    before = lr.value()
    for text in ("abc", "-1", "0"):
        type_into(qtbot, lr, text)
        assert lr.value() == before
    type_into(qtbot, lr, "3e-4")
    assert lr.value() == pytest.approx(3e-4)

    configure(window, schedule="cosine", epochs=2, warmup_epochs=5)
    panel = window.settings_panel
    assert panel.error_label.text() == "Cannot start: Warm-up must be at least 0 and shorter than the run (2 epochs); got 5.0."
    warmup_label = panel.field("warmup_epochs").parentWidget().layout().labelForField(panel.field("warmup_epochs"))
    assert window.settings_panel.error_label.isVisible() and warmup_label.property("invalid")
    assert not window.start_action.isEnabled()
    configure(window, warmup_epochs=1)
    assert not warmup_label.property("invalid")
    assert not window.settings_panel.error_label.isVisible() and window.start_action.isEnabled()

    configure(window, validation_size=600)
    assert "Validation must leave images" in window.settings_panel.error_label.text() and not window.start_action.isEnabled()


@pytest.mark.parametrize("name", preset_names())
def test_choosing_a_preset_fills_every_control(window, name):
    window.settings_panel.preset.setCurrentText(name)
    expected = load_preset(name)[0]
    assert TrainConfig.from_dict(window.settings_panel.values()) == expected
    assert window.settings_panel.layers.widths() == expected.hidden
    assert window.settings_panel.preset_description.text() == load_preset(name)[1]
    window.settings_panel.field("seed").setValue(expected.seed + 1)
    assert window.settings_panel.preset_name == "custom"


def test_notebook_preset_shows_full_batch_and_hides_adam_settings(window):
    window.settings_panel.preset.setCurrentText("notebook")
    assert window.settings_panel.field("batch_size").text() == "full"
    assert window.settings_panel.field("activation").currentText() == "tanh"
    assert not window.settings_panel.field("beta1").isVisibleTo(window.settings_panel)
    window.settings_panel.field("optimizer").setCurrentText("momentum")
    assert window.settings_panel.field("momentum").isVisibleTo(window.settings_panel)


def test_divergence_is_reported_without_blocking_and_the_app_keeps_working(window, qtbot):
    configure(window, optimizer="sgd", lr=10.0, grad_clip=0, init="randn", epochs=20, batch_size=50, schedule="constant")
    window.settings_panel.layers.add_button.click()
    for spin in window.settings_panel.layers.spin_boxes():
        spin.setValue(512)
    assert window.settings_panel.layers.widths() == [512, 512, 512]
    window.start_action.trigger()
    wait_idle(window, qtbot)
    assert window.notice.isVisible() and window.notice.level == "warning"
    assert "lower the learning rate" in window.notice.text.text()
    assert "Training diverged.</b> Diverged at epoch" in window.notice.text.text()
    curves = window.curves
    assert curves.divergence_text.toPlainText() == "diverged"
    (left, right), (bottom, top) = curves.loss_plot.viewRange()
    marker = curves.divergence_text.pos()
    assert left <= marker.x() <= right and bottom <= marker.y() <= top  # on screen, at the run's last batch
    configure(window, lr=0.01, init="he", epochs=2)  # untrained weights: the run draws them afresh, as He says
    window.start_action.trigger()
    wait_idle(window, qtbot)
    assert np.isfinite(window.curves.current.train_loss.y).all()


def test_earlier_runs_stay_as_overlays_while_selected_in_the_runs_table(window, qtbot):
    for lr in (0.01, 0.001):
        configure(window, epochs=2, batch_size=50, optimizer="sgd", lr=lr)
        window.reset_action.trigger()
        window.start_action.trigger()
        wait_idle(window, qtbot)
        if lr == 0.01:
            window.runs.select_runs([1])
    assert window.curves.overlay_labels == ["#1 128-128 relu sgd lr=0.01 bs=50 ep=2"]
    window.runs.table.clearSelection()
    assert window.curves.overlay_labels == []


def test_export_writes_csv_and_png(window, qtbot, tmp_path, monkeypatch):
    configure(window, epochs=2, batch_size=50)
    window.start_action.trigger()
    wait_idle(window, qtbot)
    for action, name in ((window.export_csv_action, "curves.csv"), (window.export_png_action, "curves.png")):
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, n=name, **kwargs: (str(tmp_path / n), ""))
        action.trigger()
    rows = list(csv.DictReader((tmp_path / "curves.csv").open()))
    assert {row["series"] for row in rows} >= {"batch_loss", "val_accuracy", "test_accuracy"}
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_settings_and_data_folder_are_remembered(qtbot, fake_data_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("SCRATCHNET_DATA_DIR", raising=False)
    first = make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)
    first.settings_panel.preset.setCurrentText("notebook")
    first.settings_panel.field("lr").setValue(0.05)
    first.close()
    second = make_window(qtbot, tmp_path / "settings.ini")
    assert second.settings_panel.field("lr").value() == pytest.approx(0.05)
    assert second.settings_panel.field("activation").currentText() == "tanh"
    with qtbot.waitSignal(second.session.dataset_changed, timeout=10_000) as loaded:
        second.load_data()  # no folder given: the remembered one
    assert loaded.args[0].folder == fake_data_dir

    other = write_dataset(tmp_path / "other")
    monkeypatch.setenv("SCRATCHNET_DATA_DIR", str(other))  # set for this launch: it wins over the remembered folder
    with qtbot.waitSignal(second.session.dataset_changed, timeout=10_000) as loaded:
        second.load_data()
    assert loaded.args[0].folder == other


def test_an_unexpected_error_in_the_worker_is_shown_and_the_app_recovers(window, qtbot, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(TrainingData, "from_dataset", broken)
    configure(window, epochs=2, batch_size=50)
    window.start_action.trigger()
    wait_idle(window, qtbot)
    assert window.notice.level == "error" and "disk on fire" in window.notice.text.text()
    assert window.start_action.isEnabled() and window.settings_panel.field("epochs").isEnabled()


def test_the_command_line_offers_data_dir():
    result = subprocess.run([sys.executable, "-m", "scratchnet_gui", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--data-dir DIR" in result.stdout


def test_hovering_reads_out_values_and_the_loss_axis_can_be_logarithmic(window, qtbot):
    configure(window, epochs=2, batch_size=50)
    window.start_action.trigger()
    wait_idle(window, qtbot)
    curves = window.curves
    viewport = curves.loss_widget.viewport()
    qtbot.mouseMove(viewport, viewport.rect().center())
    qtbot.waitUntil(lambda: "batch loss" in curves.readout.text(), timeout=5_000)
    assert "validation loss" in curves.readout.text()
    curves.log_scale.click()
    assert curves.loss_plot.getAxis("left").logMode


def test_testing_tabs_follow_the_run_and_a_confusion_click_filters_the_browser(window, qtbot):
    """The wired window: a run's model reaches the browser and the confusion matrix, whose cell opens the browser."""
    assert window.tab_titles() == [
        "Training",
        "Drawing pad",
        "Test images",
        "Confusion matrix",
        "Robustness",
        "Confidence",
        "Overview",
        "Unit",
        "One example",
        "Edits",
        "Maps",
        "Health",
        "My handwriting",
        "Runs",
    ]
    configure(window, epochs=2, batch_size=50)
    window.start_action.trigger()
    wait_idle(window, qtbot)
    assert window.browser.model is None  # 10 000 predictions are not made for tabs nobody looks at
    window.show_tab("Confusion matrix")
    final = window.session.model.predict_images(window.session.dataset.test_images).argmax(axis=1)

    def panels_show_the_final_model():  # the browser refreshes at most once a second, the last model included
        predictions = window.confusion.predictions
        return predictions is not None and np.array_equal(predictions.predicted, final)

    qtbot.waitUntil(panels_show_the_final_model, timeout=5000)
    predictions = window.confusion.predictions
    true_class, predicted_class = 1, 1
    qtbot.mouseClick(
        window.confusion, Qt.MouseButton.LeftButton, pos=window.confusion.cell_rect(true_class, predicted_class).center().toPoint()
    )
    assert window.tabs.current() is window.browser
    shown = window.browser.list_model.rows
    expected = np.flatnonzero((predictions.labels == true_class) & (predictions.predicted == predicted_class))
    assert np.array_equal(np.sort(shown), expected)


def test_a_run_that_would_not_fit_in_memory_asks_first(window, qtbot, monkeypatch):
    from scratchnet_gui import main_window, session

    asked = []
    monkeypatch.setattr(session, "available_bytes", lambda: 1000)
    monkeypatch.setattr(
        main_window.QMessageBox, "warning", lambda *args: asked.append(args[2]) or main_window.QMessageBox.StandardButton.Cancel
    )
    window.start_action.trigger()
    assert window.session.state == "idle" and "needs about" in asked[0]
    monkeypatch.setattr(main_window.QMessageBox, "warning", lambda *args: main_window.QMessageBox.StandardButton.Ignore)
    configure(window, epochs=1)
    window.start_action.trigger()
    assert window.session.state == "running"
    wait_idle(window, qtbot)


def test_at_most_max_overlays_runs_are_drawn(qtbot):
    from scratchnet_gui.curves_panel import CurvesPanel
    from scratchnet_gui.run_curves import MAX_OVERLAYS, RunCurves

    curves = CurvesPanel()
    qtbot.addWidget(curves)
    runs = [RunCurves(f"run {run}") for run in range(MAX_OVERLAYS + 5)]
    for run in runs:
        run.smoothed_loss.extend(np.array([0.5, 1.0]), np.array([2.0, 1.0]))
    curves.set_overlays(runs)
    assert curves.overlay_labels == [f"run {run}" for run in range(MAX_OVERLAYS)]


def test_the_epoch_axis_grows_with_a_long_run_and_fits_it_when_it_ends(qtbot):
    from scratchnet_gui.curves_panel import FIRST_SPAN, CurvesPanel

    curves = CurvesPanel()
    qtbot.addWidget(curves)

    def right_end() -> float:
        return curves.loss_plot.viewRange()[0][1]

    curves.begin_run("short", 0, 8)
    assert right_end() == pytest.approx(8, rel=0.05)  # a short run: the whole run from the start
    curves.begin_run("notebook", 0, 2000)
    curves.set_running(True)
    assert right_end() == pytest.approx(FIRST_SPAN, rel=0.05)
    curves.add_batches(np.arange(1.0, 21.0), np.linspace(2.0, 1.0, 20), 1)
    curves.repaint_curves()
    assert right_end() == pytest.approx(2 * FIRST_SPAN, rel=0.05)
    curves.set_running(False)  # stopped at epoch 20 of 2000
    assert right_end() == pytest.approx(20, rel=0.05)
    curves.log_scale.setChecked(True)  # pyqtgraph's log mode must not bring back its own x fitting
    assert right_end() == pytest.approx(20, rel=0.05)

    curves.loss_plot.setXRange(1, 1.5, padding=0)  # the user zooms in ...
    curves.begin_run("next", 20, 4)  # ... and the next run shows all the runs again
    assert right_end() == pytest.approx(24, rel=0.05)


def test_opening_a_model_trained_beyond_the_panels_ranges_says_so(window, qtbot, tmp_path):
    from scratchnet.model import save_model

    model = window.session.model
    model.config = TrainConfig(hidden=[128, 128], lr=50.0, epochs=3).to_dict()  # lr beyond what the panel offers
    path = tmp_path / "odd.safetensors"
    save_model(model, path)
    window.files.open_model_from(path)
    assert window.notice.isVisible() and "cannot show (Learning rate 50.0)" in window.notice.text.text()
    assert window.settings_panel.field("epochs").value() == 3


def test_a_model_file_that_does_not_record_its_epochs_is_not_called_untrained(window, qtbot, tmp_path):
    from scratchnet.model import save_model

    configure(window, epochs=1, batch_size=50)
    window.start_action.trigger()
    wait_idle(window, qtbot)
    model = dataclasses.replace(window.session.model, metrics={}, epochs_trained=None)  # as older files were saved
    save_model(model, tmp_path / "bare.safetensors")
    window.files.open_model_from(tmp_path / "bare.safetensors")
    assert window.session.model.epochs_trained is None
    assert "continues from the current weights; Reset" in window.start_action.toolTip()


def test_after_early_stopping_the_test_score_sits_at_the_restored_epoch(window, qtbot):
    configure(window, epochs=60, batch_size=50, early_stopping=1, lr=0.05)
    with qtbot.waitSignal(window.session.run_finished, timeout=RUN_TIMEOUT) as finished:
        window.start_action.trigger()
    outcome = finished.args[0]
    assert outcome.status == "early_stopped" and outcome.weights_epoch < len(outcome.history)
    assert window.curves.current.test_epoch == outcome.weights_epoch
    assert window.session.model.epochs_trained == outcome.weights_epoch
    best = outcome.history[outcome.weights_epoch - 1]
    assert window.session.model.metrics["val_accuracy"] == best.val_accuracy
    assert f"continues from the current weights ({epochs_text(outcome.weights_epoch)} trained)" in window.start_action.toolTip()


def test_unknown_options_are_refused():
    result = subprocess.run([sys.executable, "-m", "scratchnet_gui", "--bogus"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "unrecognized arguments: --bogus" in result.stderr


def test_a_long_preset_description_is_shown_whole_after_a_short_one(window, qtbot):
    """A word-wrapped label in a form row kept the height of the text before it: the description was cut off."""
    window.resize(1280, 800)
    description = window.settings_panel.preset_description
    window.settings_panel.field("epochs").setValue(2)  # your own settings: a one-line description
    box = description.parentWidget()
    qtbot.waitUntil(lambda: box.height() == box.sizeHint().height())  # laid out at one line
    window.settings_panel.select_preset("default")  # seven lines in the settings dock
    lines = description.heightForWidth(description.width()) // description.fontMetrics().lineSpacing()
    qtbot.waitUntil(lambda: description.height() >= description.heightForWidth(description.width()))
    assert lines >= 5


def test_reset_new_and_open_start_the_run_figures_afresh(window, qtbot, tmp_path):
    configure(window, epochs=1, batch_size=64)
    window.start_action.trigger()
    wait_idle(window, qtbot)
    bar = window.statusBar()
    saved = tmp_path / "trained.safetensors"
    window.files.save_model_to(saved)
    for command in (lambda: window.files.open_model_from(saved), window.reset_action.trigger, window.new_action.trigger):
        window.start_action.trigger()
        wait_idle(window, qtbot)
        assert "samples/s" in bar.speed_label.text() and bar.elapsed_label.text()  # the last run's figures
        command()
        assert window.session.progress() is None and window.session.state == "idle"
        assert (bar.speed_label.text(), bar.elapsed_label.text(), bar.eta_label.text(), bar.lr_label.text()) == ("", "", "", "")
        assert bar.epoch_label.text() == "Epoch – / –" and bar.progress_bar.value() == 0


def test_a_finished_run_says_finished_once_in_the_status_bar(window, qtbot):
    configure(window, epochs=1, batch_size=64)
    window.start_action.trigger()
    wait_idle(window, qtbot)
    bar = window.statusBar()
    figures = [label.text() for label in (bar.state_label, bar.epoch_label, bar.speed_label, bar.elapsed_label, bar.eta_label)]
    assert " ".join(figures).lower().count("finished") == 1, figures


def test_editing_a_setting_moves_no_field_under_the_pointer(window, qtbot):
    panel = window.settings_panel
    panel.select_preset("default")  # its description is several lines long
    lr = panel.field("lr")
    qtbot.waitUntil(lambda: panel.preset_description.height() > 2 * panel.preset_description.fontMetrics().height())
    before = lr.mapTo(window, lr.rect().topLeft())
    type_into(qtbot, lr, "0.2")  # the panel becomes "custom": a one-line description
    assert panel.preset_name == "custom"
    box = panel.preset_description.parentWidget()
    qtbot.waitUntil(lambda: box.height() == box.sizeHint().height())  # laid out for the new text
    QApplication.processEvents()
    assert lr.mapTo(window, lr.rect().topLeft()) == before
