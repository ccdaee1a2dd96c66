"""The Training tab's plots read for every eye and show what their controls promise."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSize, Qt

from scratchnet.trainer import EpochEvent
from scratchnet_gui import curves_panel
from scratchnet_gui.curves_panel import LEGEND_OVERLAYS, OVERLAY_POINTS, READOUT_HINT, CurvesPanel, OverlayLayer
from scratchnet_gui.run_curves import MAX_OVERLAYS, RunCurves


def one_run(curves: CurvesPanel, label: str = "run", start_loss: float = 2.3) -> None:
    """Forty batches whose first two (5 %) start high, then two epochs of scores."""
    curves.begin_run(label, 0, 2)
    losses = np.concatenate([[start_loss, start_loss], np.linspace(0.4, 0.1, 38)])
    curves.add_batches(np.linspace(0.05, 2.0, 40), losses, 20)
    for epoch in (1, 2):
        curves.add_epoch(EpochEvent(epoch, 2, 0.3 / epoch, 0.9, 0.35 / epoch, 0.88, 1.0, 1e-3))
    curves.set_running(False)


def test_train_and_validation_differ_in_line_style_and_marker_not_only_in_color(curves):
    for train, validation in ((curves.train_loss_item, curves.val_loss_item), (curves.train_acc_item, curves.val_acc_item)):
        assert train.opts["pen"].style() != validation.opts["pen"].style()
        assert train.opts["symbol"] != validation.opts["symbol"]


def test_both_loss_axes_show_the_first_batches(curves):
    one_run(curves, start_loss=2.3)
    assert curves.loss_plot.viewRange()[1][1] >= 2.3
    curves.log_scale.setChecked(True)
    log_top = curves.loss_plot.viewRange()[1][1]  # in log10 units on a log axis
    assert 10**log_top >= 2.3


def test_a_new_run_clears_the_previous_runs_readout(qtbot, curves):
    one_run(curves)
    viewport = curves.loss_widget.viewport()
    qtbot.mouseMove(viewport, viewport.rect().center())
    qtbot.waitUntil(lambda: "batch loss" in curves.readout.text(), timeout=5_000)
    assert any(cursor.isVisible() for cursor in curves.cursors)
    curves.begin_run("next", 2, 2)
    assert curves.readout.text() == READOUT_HINT
    assert not any(cursor.isVisible() for cursor in curves.cursors)


def test_earlier_runs_are_drawn_above_the_batch_loss_band(curves):
    one_run(curves, "first")
    first = curves.current
    one_run(curves, "second")
    curves.set_overlays([first])
    assert curves.raw_item.zValue() < curves.loss_overlays.zValue() < curves.smooth_item.zValue()
    pen = curves.overlay_pens[0].color()
    assert max(pen.red(), pen.green(), pen.blue()) - min(pen.red(), pen.green(), pen.blue()) > 40  # a colour, not a near-white
    assert curves.overlay_pens[0].style() == Qt.PenStyle.SolidLine


def recorded_run(number: int, points: int = 2000) -> RunCurves:
    """A recorded run of eight epochs with a long smoothed loss curve, as the run store keeps them."""
    run = RunCurves(f"#{number} recorded")
    x = np.linspace(0, 8, points)
    run.smoothed_loss.extend(x, 0.05 + (1 + number / 10) * np.exp(-x))
    epochs = np.arange(1.0, 9.0)
    run.val_accuracy.extend(epochs, 0.9 + epochs / 100)
    return run


def test_many_overlaid_runs_keep_the_legend_beside_the_plot_naming_the_first_and_counting_the_rest(curves, qtbot):
    curves.resize(970, 620)  # the Training tab's size in a 1024×768 window
    curves.set_overlays([recorded_run(number) for number in range(MAX_OVERLAYS)])
    qtbot.waitUntil(lambda: curves.size() == QSize(970, 620))  # the legend's geometry follows at once
    labels = [label.text for _, label in curves.loss_plot.legend.items]
    assert labels[-1] == f"… and {MAX_OVERLAYS - LEGEND_OVERLAYS} more recorded runs"
    assert labels[-1 - LEGEND_OVERLAYS : -1] == curves.overlay_labels[:LEGEND_OVERLAYS]
    legend = curves.loss_plot.legend.sceneBoundingRect()
    assert curves.loss_plot.sceneBoundingRect().contains(legend) and legend.left() >= curves.loss_plot.vb.sceneBoundingRect().right() - 1
    curves.set_overlays([recorded_run(1)])
    assert [label.text for _, label in curves.loss_plot.legend.items][-1] == curves.overlay_labels[0]


def test_frames_of_a_run_redraw_only_its_live_curve_however_many_runs_are_overlaid(curves, monkeypatch):
    """Everything else is cached as pixmaps and blitted: with twenty overlaid runs in a maximised window, the
    caches overflowed Qt's pixmap cache and every curve and axis was redrawn at every frame."""
    curves.resize(1800, 1050)
    curves.set_overlays([recorded_run(number) for number in range(MAX_OVERLAYS)])
    monkeypatch.setattr(curves_panel, "RAW_LOSS_HZ", 1e-9)  # the raw batch losses: drawn at the first frame only
    painted = []
    for item_class in (pg.PlotCurveItem, pg.AxisItem, OverlayLayer):
        paint = item_class.paint
        monkeypatch.setattr(item_class, "paint", lambda item, *args, paint=paint: (painted.append(item), paint(item, *args)))
    curves.begin_run("live", 0, 8)
    curves.set_running(True)
    rng = np.random.default_rng(0)
    for frame in range(10):
        progress = (frame + np.linspace(0, 1, 20, endpoint=False)) / 20  # the first half epoch: the axes stay put
        curves.add_batches(progress, rng.uniform(0.4, 0.5, 20), 200)
        curves.repaint_curves()
        painted.clear()  # the first frame draws everything once
        for widget in (curves.loss_widget, curves.accuracy_widget):
            widget.viewport().repaint()
        if frame:
            redrawn = [type(item).__name__ for item in painted if item is not curves.smooth_item.curve]
            assert not redrawn, f"frame {frame} redrew {redrawn}"
    curves.set_running(False)


def test_an_overlaid_run_is_drawn_with_a_few_hundred_points_and_exported_with_all(curves, tmp_path):
    run = recorded_run(1, points=5000)
    curves.set_overlays([run])
    drawn = curves.loss_overlays.point_counts()
    assert drawn == [OVERLAY_POINTS]
    curves.export_csv(tmp_path / "curves.csv")
    rows = (tmp_path / "curves.csv").read_text().splitlines()
    assert sum(",smoothed_loss," in row for row in rows) == 5000


def test_overlays_follow_the_log_scale(curves):
    curves.set_overlays([recorded_run(1)])
    curves.log_scale.setChecked(True)
    bounds = curves.loss_overlays.data_rect()
    assert bounds.top() == pytest.approx(np.log10(0.05 + 1.1 * np.exp(-8)), abs=1e-3)
    assert bounds.bottom() == pytest.approx(np.log10(1.15), abs=1e-3)
