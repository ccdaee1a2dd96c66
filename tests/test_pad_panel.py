"""The drawing pad as a user meets it: keys that work wherever the pad is on screen, saliency over the
drawing itself, and a canvas that keeps its size when the verdict appears."""

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget

from scratchnet.preprocess import MNIST_DEFAULT, Drawing, prepare
from scratchnet_gui.draw_pad import DrawPad
from scratchnet_gui.session import Session

from .quick_models import quick_model
from .test_gui_panels import draw_stroke


@pytest.fixture
def model(fake_dataset):
    return quick_model(fake_dataset, train_images=64, hidden=(32,), epochs=1)


@pytest.fixture
def window(qtbot):
    """The pad beside a text field and a button, as in the main window (settings on the left)."""
    window = QWidget()
    qtbot.addWidget(window)
    layout = QHBoxLayout(window)
    window.field, window.button, window.pad = QLineEdit(), QPushButton("Other"), DrawPad()
    for widget in (window.field, window.button, window.pad):
        layout.addWidget(widget)
    window.pad.follow(Session(parent=window))
    window.resize(1100, 560)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_ctrl_z_and_escape_work_wherever_the_focus_is_except_in_a_text_field(qtbot, window):
    pad = window.pad
    draw_stroke(qtbot, pad, [(0.3, 0.2), (0.3, 0.8)])
    draw_stroke(qtbot, pad, [(0.2, 0.5), (0.8, 0.5)])
    window.button.setFocus()
    qtbot.keyClick(window.button, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(pad.canvas.strokes) == 1
    window.field.setFocus()
    qtbot.keyClicks(window.field, "0.01")
    qtbot.keyClick(window.field, Qt.Key.Key_Escape)
    qtbot.keyClick(window.field, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the field's own undo
    assert len(pad.canvas.strokes) == 1 and window.field.text() == ""
    window.button.setFocus()
    qtbot.keyClick(window.button, Qt.Key.Key_Escape)
    assert pad.canvas.is_empty


def test_the_keys_do_nothing_while_the_pad_is_not_on_screen(qtbot, window):
    pad = window.pad
    draw_stroke(qtbot, pad, [(0.3, 0.2), (0.3, 0.8)])
    pad.hide()  # another tab is shown
    window.button.setFocus()
    qtbot.keyClick(window.button, Qt.Key.Key_Escape)
    qtbot.keyClick(window.button, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(pad.canvas.strokes) == 1


def colored_pixels(pad) -> int:
    """Pixels of the drawing sheet that are not grey (ink and paper are grey; saliency is red or blue)."""
    image = pad.canvas.grab().toImage()
    sheet = pad.canvas.sheet().toRect().adjusted(2, 2, -2, -2)
    pixels = [image.pixelColor(x, y) for x in range(sheet.left(), sheet.right(), 3) for y in range(sheet.top(), sheet.bottom(), 3)]
    return sum(max(c.red(), c.green(), c.blue()) - min(c.red(), c.green(), c.blue()) > 40 for c in pixels)


def test_the_saliency_overlay_lies_over_the_drawing_itself(qtbot, window, model):
    pad = window.pad
    pad.set_model(model)
    with qtbot.waitSignal(pad.session.input_changed, timeout=3000):
        draw_stroke(qtbot, pad, [(0.3, 0.2), (0.7, 0.3), (0.4, 0.8)])
    assert colored_pixels(pad) == 0
    pad.saliency_box.setChecked(True)
    assert colored_pixels(pad) > 50
    pad.saliency_box.setChecked(False)
    assert colored_pixels(pad) == 0


def test_where_the_input_lies_on_the_canvas_maps_the_strokes_onto_their_ink():
    stroke = np.array([[40.0, 30.0], [120.0, 60.0], [70.0, 200.0]])  # canvas units, off-centre
    prepared = prepare(Drawing([stroke], [18.0], 280.0), (28, 28), MNIST_DEFAULT)
    along = np.concatenate([np.linspace(a, b, 20) for a, b in zip(stroke[:-1], stroke[1:])])
    columns, rows = (along * prepared.scale + prepared.offset).astype(int).T
    assert (prepared.image[rows, columns] > 0.3).mean() > 0.95


def test_a_long_verdict_wraps_instead_of_shrinking_the_canvas(qtbot, window, model):
    pad = window.pad
    pad.set_model(dataclasses.replace(model, epochs_trained=0))  # "… — untrained network (random weights)"
    qtbot.waitUntil(lambda: not pad.prediction_pending, timeout=3000)  # the pad took the model and shows its verdict
    before = pad.canvas.sheet().width()
    with qtbot.waitSignal(pad.session.input_changed, timeout=3000):
        draw_stroke(qtbot, pad, [(0.5, 0.2), (0.5, 0.8)])
    QCoreApplication.processEvents()  # the layout requests of the verdict's new text
    assert "untrained" in pad.verdict.text()
    assert pad.canvas.sheet().width() == before
