"""The Robustness and Confidence tabs, and "not sure" on the pad and in the browser, driven through their widgets."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QSettings

from scratchnet import robustness
from scratchnet.calibration import answered_at
from scratchnet.damage import DAMAGES
from scratchnet.robustness import sweep
from scratchnet_gui.confidence_view import ConfidenceView
from scratchnet_gui.image_browser import ImageBrowser
from scratchnet_gui.robustness_view import RobustnessView
from scratchnet_gui.session import DEFAULT_THRESHOLD, Session
from scratchnet_gui.visuals import ink_image

from .quick_models import quick_model


def model_of(session):
    return quick_model(session.dataset, train_images=600, hidden=(16,), epochs=3)


@pytest.fixture
def robustness_view(qtbot, session):
    view = RobustnessView()
    view.follow(session)
    qtbot.addWidget(view)
    view.set_dataset(session.dataset)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_the_sweep_runs_off_the_window_thread_and_shows_the_cores_numbers(qtbot, session, robustness_view, monkeypatch):
    threads = []
    read = robustness.read_damaged

    def recording(*args, **kwargs):
        threads.append(threading.current_thread())
        return read(*args, **kwargs)

    monkeypatch.setattr(robustness, "read_damaged", recording)
    session.set_model(model_of(session))
    qtbot.waitUntil(
        lambda: not robustness_view.busy and set(robustness_view.tables.get(None, robustness.RobustnessTable(0)).accuracy) == set(DAMAGES),
        timeout=20_000,
    )
    assert threads and threading.main_thread() not in threads
    expected = sweep(session.model, session.dataset.test_images, session.dataset.test_labels)
    assert robustness_view.tables[None].accuracy == expected.accuracy
    assert "six severities of six kinds" in robustness_view.status.text()
    curve = robustness_view.plot.getPlotItem().listDataItems()[0]
    assert np.allclose(curve.yData, 100 * np.array(expected.accuracy[robustness_view.kind]))


def test_kind_and_severity_change_the_preview_and_the_plot(qtbot, session, robustness_view):
    session.set_model(model_of(session))
    qtbot.waitUntil(lambda: None in robustness_view.tables and not robustness_view.busy, timeout=20_000)
    image, caption = robustness_view.previews[0]
    before = image._image.copy()
    robustness_view.select("occlusion", DAMAGES["occlusion"].levels((12, 12))[-1])
    assert robustness_view.kind == "occlusion" and robustness_view.severity == pytest.approx(DAMAGES["occlusion"].levels((12, 12))[-1])
    assert image._image != before and caption.text()[0] in "✓✗"
    assert "covering patch" in robustness_view.plot.getPlotItem().getAxis("bottom").labelText
    assert robustness_view.marker.value() == pytest.approx(robustness_view.severity)
    robustness_view.select("noise", 0.0)
    clean = ink_image(session.dataset.test_images[robustness_view._preview_rows[0]])
    assert image._image == clean  # severity 0: the test image itself


def test_a_new_model_is_swept_again(qtbot, session, robustness_view):
    session.set_model(model_of(session))
    qtbot.waitUntil(lambda: None in robustness_view.tables and not robustness_view.busy, timeout=20_000)
    first = robustness_view.tables[None]
    session.set_model(quick_model(session.dataset, train_images=300, hidden=(8,), epochs=1))
    assert None not in robustness_view.tables  # the old figures are dropped at once
    with qtbot.waitSignal(robustness_view.swept, timeout=20_000):
        pass
    qtbot.waitUntil(lambda: not robustness_view.busy, timeout=20_000)
    assert robustness_view.tables[None].accuracy != first.accuracy


@pytest.fixture
def confidence_view(qtbot, session):
    view = ConfidenceView()
    view.follow(session)
    qtbot.addWidget(view)
    view._dataset_changed(session.dataset)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)
    return view


def test_the_confidence_tab_shows_coverage_calibration_and_scribbles(qtbot, session, confidence_view):
    with qtbot.waitSignal(confidence_view.computed, timeout=20_000):
        session.set_model(model_of(session))
    qtbot.waitUntil(lambda: session.test_predictions.predictions is not None, timeout=10_000)
    answers = session.test_predictions.predictions
    expected = answered_at(answers.confidence, answers.correct, DEFAULT_THRESHOLD).sentence(DEFAULT_THRESHOLD)
    assert confidence_view.answered_text.text() == expected
    assert "Expected calibration error" in confidence_view.calibration_text.text() and "→" in confidence_view.calibration_text.text()
    assert "Random marks that are no digit" in confidence_view.scribbles_text.text()
    with qtbot.waitSignal(session.confidence_threshold_changed) as changed:
        confidence_view.spin.setValue(50.0)
    assert changed.args == [0.5] and session.confidence_threshold == 0.5 and confidence_view.slider.value() == 500
    assert confidence_view.answered_text.text() == answered_at(answers.confidence, answers.correct, 0.5).sentence(0.5)


def test_the_threshold_is_the_sessions_and_is_remembered(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    session = Session(settings=settings)
    assert session.confidence_threshold == DEFAULT_THRESHOLD
    session.set_confidence_threshold(0.75)
    session.set_confidence_threshold(float("nan"))  # nothing a setting or a caller holds breaks it
    assert session.confidence_threshold == DEFAULT_THRESHOLD
    session.set_confidence_threshold(0.75)
    session.shutdown()
    again = Session(settings=settings)
    assert again.confidence_threshold == 0.75
    settings.setValue("doubt/threshold", "lots")
    assert Session(settings=settings).confidence_threshold == DEFAULT_THRESHOLD
    again.shutdown()


def test_the_pad_says_not_sure_below_the_threshold(qtbot, pad, fake_dataset):
    model = quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=3)
    pad.set_model(model)
    canvas = pad.canvas
    canvas.begin_stroke(QPointF(60, 60))
    canvas.extend_stroke(QPointF(200, 180))
    canvas.end_stroke()
    pad.predict()
    pad.session.set_confidence_threshold(1.0)
    assert pad.verdict.text().startswith("Not sure — perhaps")
    pad.session.set_confidence_threshold(0.0)
    assert pad.verdict.text().startswith("Prediction:")


def test_the_browser_says_not_sure_below_the_threshold(qtbot, session):
    browser = ImageBrowser()
    qtbot.addWidget(browser)
    browser.follow(session)
    browser.set_dataset(session.dataset)
    browser.show()
    qtbot.waitExposed(browser)
    session.set_model(model_of(session))
    qtbot.waitUntil(lambda: browser.predictions is not None, timeout=10_000)
    session.set_confidence_threshold(1.0)
    assert browser.list_model.unsure(0) and "Not sure" in browser.list_model.describe(0, long=True)
    assert f"{len(session.dataset.test_images)} not sure" in browser.count_label.text()
    session.set_confidence_threshold(0.0)
    assert not browser.list_model.unsure(0) and "Not sure" not in browser.list_model.describe(0, long=True)
    assert "· 0 not sure" in browser.count_label.text()
