"""Work for panels that are on screen only.

During a run a new model arrives after every epoch, and every panel that shows a model could redraw for it:
weight tiles, histograms, predictions. That work runs on the window's thread, in the gaps the training thread
leaves it, and a panel on a tab nobody is looking at would do it for nothing. A panel therefore asks a
``RefreshWhenShown`` to refresh it: at once when it is on screen, otherwise once it is shown (its tab chosen).
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
        if watched is self._panel and event.type() == QEvent.Type.Show and self.out_of_date:
            self.out_of_date = False
            self._refresh()
        return False
