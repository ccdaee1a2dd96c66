"""The Robustness tab of the window: two pages, the damage sweep (``robustness_view``) and the confidence threshold
with calibration (``confidence_view``), under one title, since the window's tab bar has room for one more at
1024×768. Like the window, it only builds and wires: each page follows the session on its own."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget

from .confidence_view import ConfidenceView
from .robustness_view import RobustnessView
from .session import Session


class DamageAndDoubt(QTabWidget):
    """The pages "Damaged images" (``robustness``) and "Confidence" (``confidence``)."""

    @classmethod
    def following(cls, session: Session) -> DamageAndDoubt:
        tab = cls()
        tab.robustness.follow(session)
        tab.confidence.follow(session)
        return tab

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDocumentMode(True)
        self.robustness, self.confidence = RobustnessView(), ConfidenceView()
        self.addTab(self.robustness, "Damaged images")
        self.addTab(self.confidence, "Confidence: when to say \u201cnot sure\u201d")
