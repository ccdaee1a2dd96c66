"""The Training plots, the drawing pad and the image browser under hostile use (issue 19): runs that ended early,
scores of 0 %, overlays changed under the plots, buttons rebuilt under the focus, caches that must stay bounded."""

from datetime import datetime, timezone

import numpy as np
import pytest

from scratchnet.runs import StoredRun
from scratchnet.trainer import EpochEvent
from scratchnet_gui.curves_panel import CurvesPanel
from scratchnet_gui.run_curves import RunCurves


@pytest.fixture
def curves(qtbot):
    panel = CurvesPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    return panel


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
