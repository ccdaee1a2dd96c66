"""The Training tab's plots read for every eye and show what their controls promise."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from scratchnet.trainer import EpochEvent
from scratchnet_gui.curves_panel import READOUT_HINT, CurvesPanel


@pytest.fixture
def curves(qtbot):
    panel = CurvesPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    return panel


def one_run(curves: CurvesPanel, label: str = "run", start_loss: float = 2.3) -> None:
    """Forty batches whose first two (5 %) start high, then two epochs of scores."""
    curves.begin_run(label, 0, 2)
    losses = np.concatenate([[start_loss, start_loss], np.linspace(0.4, 0.1, 38)])
    curves.add_batches(np.linspace(0.05, 2.0, 40), losses, 20)
    for epoch in (1, 2):
        curves.add_epoch(EpochEvent(epoch, 2, 0.3 / epoch, 0.9, 0.35 / epoch, 0.88, 1.0, 1e-3))
    curves.set_running(False)


def test_train_and_validation_differ_in_line_style_and_marker_not_only_in_colour(curves):
    for train, validation in ((curves.train_loss_item, curves.val_loss_item), (curves.train_acc_item, curves.val_acc_item)):
        assert train.opts["pen"].style() != validation.opts["pen"].style()
        assert train.opts["symbol"] != validation.opts["symbol"]


def test_the_log_axis_shows_the_first_batches_that_the_linear_axis_leaves_out(curves):
    one_run(curves, start_loss=2.3)
    linear_top = curves.loss_plot.viewRange()[1][1]
    assert linear_top < 2.3  # linear: the first 5 % would squash the rest into the bottom
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
    overlay_item = curves._overlays[0].items[0]
    assert curves.raw_item.zValue() < overlay_item.zValue() < curves.smooth_item.zValue()
    pen = overlay_item.opts["pen"].color()
    assert max(pen.red(), pen.green(), pen.blue()) - min(pen.red(), pen.green(), pen.blue()) > 40  # a colour, not a near-white
    assert curves._overlays[0].items[0].opts["pen"].style() == Qt.PenStyle.SolidLine
