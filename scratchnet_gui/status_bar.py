"""The window's status bar: a message on the left that never runs under the figures on the right.

``QStatusBar`` cuts a long message off wherever the permanent widgets begin ("Test accuracy 98.4("). Here
the message is a label that takes the room left and elides what does not fit ("…"), with the whole text
in its tooltip; ``showMessage``/``currentMessage``/``clearMessage`` keep Qt's meaning.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits, ending in "…", and never asks for more room."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def shown_text(self) -> str:
        """The text as painted: elided to the label's width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.shown_text())


class StatusBar(QStatusBar):
    """A status bar whose messages are elided to the room they have, with the full text as a tooltip."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.message = ElidedLabel()
        self.addWidget(self.message, 1)
        self._expiry = QTimer(self, singleShot=True, timeout=self.clearMessage)

    def showMessage(self, text: str, timeout: int = 0) -> None:
        """Show ``text`` until the next message, or for ``timeout`` milliseconds when it is above 0."""
        self.message.setText(text)
        self.message.setToolTip(text)
        self._expiry.stop()
        if timeout > 0:
            self._expiry.start(timeout)

    def currentMessage(self) -> str:
        return self.message.text()

    def clearMessage(self) -> None:
        self.showMessage("")
