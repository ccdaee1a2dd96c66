"""Work for panels that are on screen only.

During a run a new model arrives after every epoch, and every panel that shows a model could redraw for it:
weight tiles, histograms, predictions. That work runs on the window's thread, in the gaps the training thread
leaves it, and a panel on a tab nobody is looking at would do it for nothing. A panel therefore asks a
``RefreshWhenShown`` to refresh it: at once when it is on screen, otherwise once it is shown (its tab chosen).
A panel that shows what the session computes for it (the test-set answers) says when it is on screen with
``TellWhenShown``, so that nothing is computed for a hidden panel.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class RefreshWhenShown(QObject):
    """Runs ``refresh`` for ``panel`` when asked (``request``) if the panel is on screen; otherwise marks it out of
    date, and runs ``refresh`` once when the panel is next shown."""

    def __init__(self, panel: QWidget, refresh: Callable[[], None]):
        super().__init__(panel)
        self._panel, self._refresh = panel, refresh
        self.out_of_date = False
        panel.installEventFilter(self)

    def request(self) -> None:
        """Refresh the panel now if it is on screen, else when it is shown."""
        self.out_of_date = not self._panel.isVisible()
        if not self.out_of_date:
            self._refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not hasattr(self, "_panel"):  # Qt asked a filter whose Python side is gone (its panel is being deleted)
            return False
        if watched is self._panel and event.type() == QEvent.Type.Show and self.out_of_date:
            self.out_of_date = False
            self._refresh()
        return False


class TellWhenShown(QObject):
    """Calls ``shown(panel, True)`` when ``panel`` is shown and ``shown(panel, False)`` when it is hidden (its tab
    left, the window minimised), and once at once with whether it is on screen now."""

    def __init__(self, panel: QWidget, shown: Callable[[QWidget, bool], None]):
        super().__init__(panel)
        self._panel, self._shown = panel, shown
        panel.installEventFilter(self)
        shown(panel, panel.isVisible())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not hasattr(self, "_panel"):  # as in RefreshWhenShown
            return False
        if watched is self._panel and event.type() in (QEvent.Type.Show, QEvent.Type.Hide):
            self._shown(self._panel, event.type() == QEvent.Type.Show)
        return False
