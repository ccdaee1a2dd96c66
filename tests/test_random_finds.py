"""What the randomised GUI run (tests/random_gui.py) found, each pinned by a test of its own."""

import os

import numpy as np

from scratchnet_gui.curves_panel import CurvesPanel
from scratchnet_gui.network_view import NetworkView
from scratchnet_gui.teaching import Handwriting


def test_exporting_the_handwriting_into_a_link_loop_says_why_and_raises_nothing(qtbot, tmp_path):
    handwriting = Handwriting(tmp_path / "collection")
    handwriting.add(np.zeros((28, 28), np.float32), 3)
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    with qtbot.waitSignal(handwriting.failed) as failed:
        assert not handwriting.export_folder(tmp_path / "loop")
    assert "loop" in failed.args[0]


def test_the_plots_offer_no_export_dialog_of_pyqtgraphs_own(qtbot):
    """Its CSV exporter raises without a plot chosen; the File menu exports the curves."""
    curves, network = CurvesPanel(), NetworkView()
    for widget in (curves, network):
        qtbot.addWidget(widget)
    for view in (curves.loss_widget, curves.accuracy_widget, network.histograms):
        assert view.scene().contextMenu == []
