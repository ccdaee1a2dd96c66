"""The settings panel under the wheel and the keys a user (or a randomised run) sends to every field."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QScrollArea, QWidget

from scratchnet_gui.settings_panel import SettingsPanel


@pytest.fixture
def panel(qtbot):
    """The settings panel on screen, short enough to scroll."""
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 420)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def turn_wheel(widget, notches: int) -> None:
    """Turn the wheel over the middle of ``widget`` (negative: towards the user, scrolling down)."""
    at = QPointF(widget.rect().center())
    event = QWheelEvent(
        at,
        widget.mapToGlobal(at),
        QPoint(),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def controls(panel):
    return [widget for widget in panel.findChildren(QWidget) if isinstance(widget, (QAbstractSpinBox, QComboBox))]


def shown_values(panel) -> list:
    return [control.currentText() if isinstance(control, QComboBox) else control.text() for control in controls(panel)]


def test_the_wheel_over_unfocused_fields_scrolls_the_panel_and_changes_no_setting(panel):
    before = shown_values(panel)

    scroll = panel.findChild(QScrollArea).verticalScrollBar()
    assert scroll.maximum() > 0
    for control in controls(panel):
        turn_wheel(control, -10)
        if isinstance(control, QAbstractSpinBox):
            turn_wheel(control.lineEdit(), 10)  # over the digits themselves
    assert shown_values(panel) == before and panel.preset_name == "default"
    scroll.setValue(0)
    turn_wheel(panel.field("lr"), -2)
    assert scroll.value() > 0


def test_the_wheel_steps_the_focused_field(panel, qtbot):
    lr = panel.field("lr")
    lr.setFocus()
    qtbot.waitUntil(lr.hasFocus, timeout=2000)
    before = lr.value()
    turn_wheel(lr, 1)
    assert lr.value() > before and panel.preset_name == "custom"


STEP_KEYS = (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Up, Qt.Key.Key_Down)


def spin_boxes(panel):
    return [control for control in controls(panel) if isinstance(control, QAbstractSpinBox)]


@pytest.mark.parametrize("end", ["minimum", "maximum"])
def test_every_spin_box_takes_every_step_key_at_both_ends_of_its_range(panel, qtbot, end):
    """Page Down in the batch size at 1 raised ValueError ("negative shift count") in ``stepBy``; sent as QTest
    sends it, the process died. Each key, at each end, leaves a value in the box's range."""
    panel.layers.add_layer()
    for spin in spin_boxes(panel):
        for key in STEP_KEYS:
            spin.setValue(getattr(spin, end)())
            qtbot.keyClick(spin, key)
            qtbot.keyClick(spin, key)
            assert spin.minimum() <= spin.value() <= spin.maximum(), (spin.objectName(), key)
        spin.setFocus()
        turn_wheel(spin, -3)
        turn_wheel(spin, 3)
