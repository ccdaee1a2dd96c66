"""The Training plots, the drawing pad and the image browser under hostile use (issue 19): runs that ended early,
scores of 0 %, overlays changed under the plots, buttons rebuilt under the focus, caches that must stay bounded."""

from datetime import datetime, timezone
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QKeySequence, QPixmapCache
from PySide6.QtWidgets import QCheckBox, QToolBar, QVBoxLayout, QWidget

from scratchnet.model import Model
from scratchnet.nn.metrics import LossSmoother
from scratchnet.nn.network import init_params
from scratchnet.predictions import Predictions
from scratchnet.preprocess import MNIST_DEFAULT, Drawing, to_network_input
from scratchnet.runs import DatasetIdentity, RunOutcome, RunStore, StoredRun
from scratchnet.trainer import EpochEvent
from scratchnet_gui import curves_panel
from scratchnet_gui.confusion_view import ConfusionView
from scratchnet_gui.curves_panel import READOUT_HINT, CurvesPanel
from scratchnet_gui.draw_pad import DrawPad
from scratchnet_gui.image_browser import THUMBNAIL_CACHE_BYTES, ImageBrowser, ImageListModel
from scratchnet_gui.run_curves import RunCurves
from scratchnet_gui.shortcuts import FocusedControlsKeepSpace

from .test_gui_app import make_window, start_long_run, wait_idle
from .test_session import CONFIG


def stored_run(run_id: int, epochs: int, loss_curve: np.ndarray, test_accuracy: float | None = 0.5, history=()) -> StoredRun:
    """A run as the store gives it back."""
    return StoredRun(
        id=run_id,
        started=datetime(2026, 1, 1, tzinfo=timezone.utc),
        ended=datetime(2026, 1, 1, 0, 5, tzinfo=timezone.utc),
        status="stopped",
        message="",
        config_json="{}",
        dataset_name="mnist",
        epochs=epochs,
        val_accuracy=None,
        test_accuracy=test_accuracy,
        train_seconds=1.0,
        samples_per_second=1.0,
        blas_threads=1,
        model_path=None,
        history=list(history),
        loss_curve=loss_curve,
        test=None if test_accuracy is None else {"accuracy": test_accuracy},
    )


def test_a_run_stopped_before_its_first_epoch_exports_its_curves(curves, tmp_path):
    """Its test score belongs to the weights it started from, at epoch 0 (it was written as epoch None)."""
    early = RunCurves.of_record(stored_run(3, 0, np.array([[0.1, 2.3], [0.2, 2.1]], np.float32), test_accuracy=0.11), "#3")
    curves.set_overlays([early])
    curves.export_csv(tmp_path / "curves.csv")
    rows = (tmp_path / "curves.csv").read_text().splitlines()
    assert "1,#3,test_accuracy,0,0.11" in rows


def test_a_score_of_exactly_zero_percent_is_plotted(curves):
    curves.begin_run("hopeless", 0, 1)
    curves.add_batches(np.linspace(0.1, 1.0, 10), np.full(10, 2.3), 10)
    curves.add_epoch(EpochEvent(1, 1, 2.3, 0.0, 2.3, 0.0, 1.0, 1e-3))
    curves.set_test_accuracy(0.0, 1)
    curves.set_running(False)
    low, high = curves.accuracy_plot.viewRange()[1]
    assert low <= 0 < 100 <= high


def named_model(class_names: list[str]) -> Model:
    """Random weights reading 28×28 images into these classes."""
    params = init_params([784, 16, len(class_names)], "he", np.random.default_rng(0))
    return Model(params, "relu", class_names)


@pytest.fixture
def pad_window(qtbot):
    """A window holding the pad, a check box, and a Space shortcut that counts its presses (the window's Pause)."""
    window = QWidget()
    pad, box = DrawPad(), QCheckBox("a check box")
    layout = QVBoxLayout(window)
    layout.addWidget(pad)
    layout.addWidget(box)
    window.pauses = []
    pause = QAction("Pause", window, shortcut=QKeySequence(Qt.Key.Key_Space), triggered=lambda: window.pauses.append(1))
    window.addAction(pause)
    FocusedControlsKeepSpace(window)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    window.pad, window.box = pad, box
    return window


def test_a_label_button_with_the_focus_survives_a_model_naming_its_classes(pad_window, qtbot):
    """Clicking "This is a 3" gives it the focus; a model with named classes used to delete and rebuild every button,
    after which each focus change raised RuntimeError and Space on a check box paused instead of ticking it."""
    pad, box = pad_window.pad, pad_window.box
    three = pad.label_buttons[3]
    three.setFocus()
    qtbot.waitUntil(three.hasFocus, timeout=2000)
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    pad.set_model(named_model(names))
    qtbot.wait(10)  # deleteLater runs in the event loop
    assert [button.text() for button in pad.label_buttons] == names
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=2000)
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked() and not pad_window.pauses


def test_fewer_classes_remove_the_focused_button_and_the_focus_moves_to_the_canvas(pad_window, qtbot):
    pad, box = pad_window.pad, pad_window.box
    nine = pad.label_buttons[9]
    nine.setFocus()
    qtbot.waitUntil(nine.hasFocus, timeout=2000)
    pad.set_model(named_model(["cat", "dog"]))
    qtbot.wait(10)
    assert [button.text() for button in pad.label_buttons] == ["cat", "dog"]
    assert pad.canvas.hasFocus()
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=2000)
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked() and not pad_window.pauses


# ---- the plots show each run whole, beside their legends (items 18, 23) ----------------------------------------


def test_after_a_run_the_loss_axis_shows_its_whole_fall(curves):
    """It zoomed to 0-0.6 at the end of a run and cut off the fall from 2.3."""
    curves.begin_run("run", 0, 8)
    curves.set_running(True)
    x = np.linspace(0.01, 8, 800)
    curves.add_batches(x, 0.2 + 2.1 * np.exp(-3 * x), 100)
    for epoch in range(1, 9):
        curves.add_epoch(EpochEvent(epoch, 8, 0.25, 0.9, 0.3, 0.88, 1.0, 1e-3))
    curves.set_running(False)
    low, high = curves.loss_plot.viewRange()[1]
    assert low <= 0 and high >= curves.current.smoothed_loss.y.max()
    left, right = curves.loss_plot.viewRange()[0]
    assert left <= 0 and 8 <= right < 8.5


def test_the_legends_cover_neither_the_curves_nor_the_test_star(curves):
    one_full_run(curves)
    curves.set_overlays([recorded(4, 0.1), recorded(5, 0.2)])
    for plot in (curves.loss_plot, curves.accuracy_plot):
        legend = plot.legend.sceneBoundingRect()
        assert legend.width() > 0 and legend.left() >= plot.vb.sceneBoundingRect().right() - 1
        assert curves.rect().contains(curves.loss_widget.mapFromScene(legend.bottomRight()))


def test_the_legends_list_only_the_curves_the_run_has(curves):
    """A run without a validation set has no validation curves, and no test star before it is scored."""
    curves.begin_run("no validation", 0, 1)
    assert legend_labels(curves.loss_plot) == [] and legend_labels(curves.accuracy_plot) == []
    curves.add_batches(np.linspace(0.1, 1.0, 10), np.full(10, 1.0), 10)
    curves.add_epoch(EpochEvent(1, 1, 1.0, 0.5, None, None, 1.0, 1e-3))
    curves.set_running(False)
    assert legend_labels(curves.loss_plot) == ["batch loss", "batch loss, smoothed", "train loss (epoch mean)"]
    assert legend_labels(curves.accuracy_plot) == ["train accuracy"]
    curves.set_test_accuracy(0.5, 1)
    assert legend_labels(curves.accuracy_plot) == ["train accuracy", "test accuracy"]


def test_a_runs_curves_joining_the_legends_never_narrow_the_plots(curves, qtbot):
    """Nothing moves that the user did not move: the legends are as wide from the start as a run's entries need."""
    qtbot.wait(10)
    widths = [plot.vb.sceneBoundingRect().width() for plot in (curves.loss_plot, curves.accuracy_plot)]
    one_full_run(curves)
    qtbot.wait(10)
    assert [plot.vb.sceneBoundingRect().width() for plot in (curves.loss_plot, curves.accuracy_plot)] == widths
    assert widths[0] == widths[1]  # the epochs of the two plots stay one above the other


def legend_labels(plot) -> list[str]:
    return [label.text for _, label in plot.legend.items]


def one_full_run(curves: CurvesPanel) -> None:
    """Two epochs with validation, scored on the test set."""
    curves.begin_run("run", 0, 2)
    curves.add_batches(np.linspace(0.05, 2.0, 40), np.linspace(2.3, 0.1, 40), 20)
    for epoch in (1, 2):
        curves.add_epoch(EpochEvent(epoch, 2, 0.3 / epoch, 0.9, 0.35 / epoch, 0.88, 1.0, 1e-3))
    curves.set_running(False)
    curves.set_test_accuracy(0.97, 2)


def recorded(number: int, end: float, epochs: int = 8) -> RunCurves:
    run = RunCurves(f"#{number} 128-128 relu adam lr=0.002 bs=128 ep={epochs}")
    x = np.linspace(0, epochs, 800)
    run.smoothed_loss.extend(x, end + 2.2 * np.exp(-x))
    run.val_accuracy.extend(np.arange(1.0, epochs + 1), 0.9 + np.arange(1.0, epochs + 1) / 100)
    return run


# ---- nothing moves that the user did not move (item 19) ------------------------------------------------------


def test_the_pad_stays_put_while_its_messages_change(qtbot):
    """The first "This is a" click replaced a two-line message by one line: the buttons moved 14 px down, under the
    pointer, and scripted clicks missed. A prediction's verdict wrapping onto a second line moved the bars."""
    pad = DrawPad()
    qtbot.addWidget(pad)
    pad.resize(1000, 640)
    pad.show()
    qtbot.waitExposed(pad)
    pad.set_model(named_model([str(digit) for digit in range(10)]))
    before = widget_geometries(pad)
    qtbot.mouseClick(pad.label_buttons[3], Qt.MouseButton.LeftButton)  # nothing drawn yet: "Draw a digit first…"
    centre = pad.canvas.rect().center()
    qtbot.mousePress(pad.canvas, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(pad.canvas, centre + QPoint(30, 40))
    qtbot.mouseRelease(pad.canvas, Qt.MouseButton.LeftButton, pos=centre + QPoint(30, 40))
    pad.predict()
    assert "untrained network" in pad.verdict.text()
    qtbot.wait(10)
    assert widget_geometries(pad) == before


def widget_geometries(pad: DrawPad) -> dict[str, tuple]:
    """Where the pad's controls and read-outs lie, in its coordinates."""
    named = {"canvas": pad.canvas, "pen": pad.pen_slider, "saved": pad.saved, "hint": pad.hint, "verdict": pad.verdict}
    named |= {"bars": pad.bars, "input": pad.input_view, "saliency": pad.saliency_box, "hidden layers": pad.activations}
    named |= {f"This is a {button.text()}": button for button in pad.label_buttons}
    return {name: (widget.mapTo(pad, QPoint(0, 0)).toTuple(), widget.size().toTuple()) for name, widget in named.items()}


# ---- one way of writing an accuracy (item 22) ----------------------------------------------------------------


def test_the_browser_the_matrix_and_the_plot_write_an_accuracy_alike(qtbot, curves):
    """The browser said 98.5 % where the plot and the matrix said 98.56 %."""
    labels = np.arange(10_000) % 10
    predicted = np.where(np.arange(10_000) < 9856, labels, (labels + 1) % 10)
    probabilities = np.full((10_000, 10), 0.05)
    probabilities[np.arange(10_000), predicted] = 0.55
    answers = Predictions(probabilities, labels, [str(digit) for digit in range(10)])
    browser, matrix = ImageBrowser(), ConfusionView()
    qtbot.addWidget(browser)
    qtbot.addWidget(matrix)
    browser.dataset, browser.predictions = SimpleNamespace(test_labels=labels), answers
    browser._show_count(np.arange(10_000))
    matrix.set_predictions(answers)
    curves.set_test_accuracy(answers.accuracy, 1)
    assert "(98.56 % correct)" in browser.count_label.text()
    assert matrix.title().startswith("Test accuracy 98.56 %")
    assert curves.test_text.textItem.toPlainText() == "test 98.56 %"


def test_the_readout_never_shows_an_epoch_before_zero(curves, qtbot):
    """It read "epoch −0.42" with the pointer left of the axis."""
    one_full_run(curves)
    view = curves.loss_plot.vb
    widget = curves.loss_widget
    over_the_axis = widget.mapFromScene(view.sceneBoundingRect().center() - QPointF(view.sceneBoundingRect().width() / 2 + 20, 0))
    curves._hover(curves.loss_plot, widget.mapToScene(over_the_axis))
    assert curves.readout.text() == READOUT_HINT
    left_margin = view.sceneBoundingRect().center() - QPointF(view.sceneBoundingRect().width() / 2 - 1, 0)
    curves._hover(curves.loss_plot, left_margin)
    assert curves.readout.text().startswith("<b>epoch 0.00</b>")


def test_a_dot_stays_a_dot_in_the_networks_view():
    """A click whose pointer moved 2 units was redrawn as a slash across the 28×28 image."""
    dot = Drawing([np.array([[140.0, 140.0], [141.0, 141.0], [142.0, 142.0]])], [18.0])
    image = to_network_input(dot, (28, 28), MNIST_DEFAULT)
    rows, cols = np.flatnonzero((image > 0.1).any(axis=1)), np.flatnonzero((image > 0.1).any(axis=0))
    assert rows[-1] - rows[0] < 6 and cols[-1] - cols[0] < 6


# ---- memory stays bounded (item 6b) --------------------------------------------------------------------------


def test_the_browsers_thumbnail_cache_is_bounded(qtbot):
    """Each painted thumbnail was kept for ever: of a dataset of large images, hundreds of megabytes."""
    model = ImageListModel()
    images = np.random.default_rng(0).integers(0, 255, (3000, 64, 64), dtype=np.uint8)  # 12 MB of pixels
    model.set_images(images, np.zeros(3000, np.int64), ["0"])
    for i in range(3000):
        model.thumbnail(i)
    held = sum(image.sizeInBytes() for image in model._thumbnails.values())
    assert held <= THUMBNAIL_CACHE_BYTES and len(model._thumbnails) == THUMBNAIL_CACHE_BYTES // (64 * 64)
    first = model.thumbnail(0)  # forgotten, then made again
    assert (first.width(), first.height()) == (64, 64) and 0 in model._thumbnails


def test_the_pixmap_cache_follows_the_plots_size(curves, qtbot):
    """It was raised to 256 MB for good, and filled up with pixmaps of sizes the window no longer had."""
    curves.resize(1920, 1080)
    qtbot.waitUntil(lambda: curves.width() == 1920)
    maximised = QPixmapCache.cacheLimit()
    assert 1920 * 1080 * 4 / 1024 < maximised <= 48 * 1024
    curves.resize(900, 600)
    qtbot.waitUntil(lambda: curves.width() == 900)
    assert QPixmapCache.cacheLimit() < maximised


def test_pause_and_resume_move_no_toolbar_button(qtbot, fake_data_dir, tmp_path):
    """The Pause button became the wider "Resume" and pushed Step, Stop, Reset… to the right, under the pointer."""
    window = make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)
    window.settings_panel.field("validation_size").setValue(100)
    start_long_run(window, qtbot)
    toolbar = window.findChild(QToolBar, "runToolbar")
    running = [toolbar.widgetForAction(action).geometry() for action in toolbar.actions() if toolbar.widgetForAction(action)]
    window.pause_action.trigger()
    qtbot.waitUntil(lambda: window.session.state == "paused", timeout=5_000)
    assert window.pause_action.text() == "&Resume"
    qtbot.wait(10)
    paused = [toolbar.widgetForAction(action).geometry() for action in toolbar.actions() if toolbar.widgetForAction(action)]
    window.stop_action.trigger()
    wait_idle(window, qtbot)
    assert paused == running


# ---- overlays drawn where the store says (item 17) -------------------------------------------------------------


def record_run(store: RunStore, activation: str, final_loss: float, epochs: int) -> int:
    """A finished run whose smoothed loss falls from 2.3 to ``final_loss``, written straight into the store."""
    identity = DatasetIdentity("fake", None, ["0", "1", "2", "3"], (12, 12), 500, 100)
    config = CONFIG.replace(activation=activation, epochs=epochs)
    run_id = store.begin(config, identity)
    for epoch in range(1, epochs + 1):
        store.add_epoch(run_id, EpochEvent(epoch, epochs, 0.5 / epoch, 0.8, 0.6 / epoch, 0.9, 1.0, config.lr))
    x = np.linspace(0, epochs, 400)
    curve = np.column_stack([x, final_loss + 2.2 * np.exp(-2 * x)])
    store.finish(run_id, RunOutcome("completed", "", None, 1000.0, {"accuracy": 0.9}, curve))
    return run_id


def misdrawn_overlays(window, store: RunStore) -> list[tuple[int, float]]:
    """The (run, epoch) points of the overlaid runs' stored curves where the loss plot does not show the colour
    that the Runs table shows beside the run."""
    plot, widget, table = window.curves.loss_plot, window.curves.loss_widget, window.runs.table_model
    origin = widget.mapTo(window, QPoint(0, 0))  # what is on screen, not a fresh rendering (as widget.grab() would be)
    image = window.screen().grabWindow(window.winId(), origin.x(), origin.y(), widget.width(), widget.height()).toImage()
    log = window.curves.log_scale.isChecked()
    missing = []
    for run_id in window.session.runs.overlaid:
        color = table.data(table.index(table.row_of(run_id), 0), Qt.ItemDataRole.DecorationRole)
        curve = store.run(run_id).loss_curve
        for epoch, loss in curve[[len(curve) // 4, len(curve) // 2, -1]]:
            at = widget.mapFromScene(plot.vb.mapViewToScene(QPointF(float(epoch), float(np.log10(loss) if log else loss))))
            near = (image.pixelColor(at + QPoint(dx, dy)) for dx in range(-3, 4) for dy in range(-3, 4))
            if not any(sum(abs(a - b) for a, b in zip(pixel.getRgb()[:3], color.getRgb()[:3])) < 30 for pixel in near):
                missing.append((run_id, float(epoch)))
    return missing


def test_every_overlay_is_drawn_on_its_stored_curve_in_its_colour_after_selection_changes(qtbot, tmp_path, data_home, fake_data_dir):
    """Runs #4-6 overlaid once showed #6 ending near 0.32 and #5 near 0.15, where their stored curves end at 0.05 and
    0.22. Through selection changes (with the Training tab hidden meanwhile, as when choosing in the Runs tab) and on
    both scales, every point drawn is checked against the store, in the colour the Runs table shows."""
    data_home.mkdir(parents=True, exist_ok=True)
    with RunStore(data_home / "runs.sqlite3") as store:
        for final_loss in (0.3, 0.25, 0.2, 0.1, 0.22):
            record_run(store, "relu", final_loss, 2)
        record_run(store, "tanh", 0.05, 5)  # #6
    window = make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)
    window.resize(1200, 800)
    with RunStore(data_home / "runs.sqlite3") as store:
        for log in (False, True):
            window.curves.log_scale.setChecked(log)
            for selection in ([4, 5, 6], [4, 5], [6], [5, 6], [1, 2, 3, 4, 5, 6]):
                window.tabs.show_widget(window.runs)
                window.runs.select_runs(selection)
                qtbot.wait(10)  # the table's colours follow in the next turn of the event loop
                window.tabs.show_widget(window.curves)
                assert sorted(window.session.runs.overlaid) == selection
                qtbot.waitUntil(lambda: not misdrawn_overlays(window, store), timeout=2_000)


def test_a_long_run_keeps_a_bounded_number_of_batches(curves, monkeypatch):
    """Every batch of a run was kept: an overnight run at 10 000 batches a second, gigabytes."""
    monkeypatch.setattr(curves_panel, "MAX_BATCH_POINTS", 1000)
    curves.begin_run("long", 0, 100)
    losses = np.random.default_rng(0).uniform(0.1, 1.0, 10 * 512)
    for chunk in range(10):
        batches = np.arange(chunk * 512, (chunk + 1) * 512)
        curves.add_batches((batches + 1) / 100, losses[batches], 100)
    c = curves.current
    assert 500 <= c.batch_loss.size <= 1000 and c.smoothed_loss.size == c.batch_loss.size
    kept = np.rint(c.batch_loss.x * 100).astype(int) - 1  # the batches kept: every 8th, from the first
    assert (np.diff(kept) == 8).all() and kept[0] == 0 and (c.batch_loss.y == losses[kept]).all()
    smoother = LossSmoother(100)
    assert np.allclose(c.smoothed_loss.y, np.array([smoother.add(value) for value in losses])[kept])  # over every batch
