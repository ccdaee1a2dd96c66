"""Keys that belong to the focused control before they belong to the window.

Space is the window's Pause shortcut, but a focused button, check box, list or combo box uses Space
itself (to press, tick or open). Qt asks the focused widget first with a ``ShortcutOverride`` event; these
controls do not claim Space there, so the shortcut would win. ``FocusedControlsKeepSpace`` claims it for
them: it watches the one widget that has the focus, so no other event pays for the check, and forgets it
when it is deleted (a panel may rebuild its buttons while one has the focus).
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QApplication, QComboBox, QWidget

CONTROLS_USING_SPACE = (QAbstractButton, QAbstractItemView, QComboBox)


class FocusedControlsKeepSpace(QObject):
    """While a control that uses Space has the keyboard focus, Space goes to it, not to a shortcut."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._watched: QWidget | None = None
        QApplication.instance().focusChanged.connect(self._focus_changed)

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if self._watched is not None and shiboken6.isValid(self._watched):  # not a control being deleted
            self._watched.removeEventFilter(self)
        self._watched = new if isinstance(new, CONTROLS_USING_SPACE) else None
        if self._watched is not None:
            self._watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and event.key() == Qt.Key.Key_Space and not event.modifiers():
            event.accept()  # the key press goes to the control
        return False
