"""The mouse wheel over a panel of settings scrolls the panel; it changes a value only in the field being edited.

Qt's spin boxes and combo boxes take the wheel whenever the pointer is over them, focused or not: scrolling down
the settings, ten notches turned the learning rate, the clipping and the warm-up, and the preset into "custom".
``WheelScrollsPanel`` watches such controls: a wheel turn over one that does not have the keyboard focus goes to
the panel's scroll bar instead. The controls no longer take the focus from the wheel (``StrongFocus``): a click or
Tab gives it, and then the wheel steps the value, as a user who chose that field expects.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

CONTROLS_WITH_A_WHEEL = (QAbstractSpinBox, QComboBox)


class WheelScrollsPanel(QObject):
    """Sends the wheel over an unfocused control inside ``scroll_area`` to the area's vertical scroll bar."""

    def __init__(self, scroll_area: QAbstractScrollArea):
        super().__init__(scroll_area)
        self._scroll_bar = scroll_area.verticalScrollBar()

    def guard(self, root: QWidget) -> None:
        """Watch every spin box and combo box under ``root`` (again after rows are rebuilt: watching twice is once)."""
        for control in [widget for widget in root.findChildren(QWidget) if isinstance(widget, CONTROLS_WITH_A_WHEEL)]:
            control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            control.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            QApplication.sendEvent(self._scroll_bar, event)
            return True
        return False
