"""The window's tabs: one per panel, and groups of related panels that share a tab with tabs of their own.

Many views explain the network from the inside (its weights, one example's arithmetic, edits, maps); side by side
they would not fit a 1024-pixel screen, so they share the tab "Inside the network", each on a tab of its own
under it. ``WindowTabs`` finds a panel by its title or its widget whichever level it is on.
"""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget


class WindowTabs(QTabWidget):
    """The central tabs. ``add(panel, title, group=None)``: a tab, or a tab inside the group ``group`` (made the
    first time it is named); ``show_title(title)`` and ``show_widget(panel)`` bring a panel or a group forward;
    ``titles()`` and ``panels()`` list the panels in order; ``current()`` is the panel on screen."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setDocumentMode(True)
        self._groups: dict[str, QTabWidget] = {}

    def add(self, panel: QWidget, title: str, group: str | None = None) -> None:
        if group is None:
            self.addTab(panel, title)
            return
        if group not in self._groups:
            tabs = self._groups[group] = QTabWidget()
            tabs.setObjectName(f"{group} tabs")
            tabs.setDocumentMode(True)
            self.addTab(tabs, group)
        self._groups[group].addTab(panel, title)

    def show_title(self, title: str) -> None:
        """Bring the panel or group called ``title`` forward (``ValueError`` when there is none)."""
        self.show_widget(self._groups[title] if title in self._groups else self._panel(title))

    def show_widget(self, panel: QWidget) -> None:
        """Bring ``panel`` forward, and the group it is in."""
        for tabs in self._groups.values():
            if tabs.indexOf(panel) >= 0:
                tabs.setCurrentWidget(panel)
                panel = tabs
        self.setCurrentWidget(panel)

    def panels(self) -> list[QWidget]:
        """Every panel, in the order of the tabs."""
        return [self._panel(title) for title in self.titles()]

    def _panel(self, title: str) -> QWidget:
        for tabs in (self, *self._groups.values()):
            for index in range(tabs.count()):
                if tabs.tabText(index) == title and tabs.widget(index) not in self._groups.values():
                    return tabs.widget(index)
        raise ValueError(f"no panel called {title!r}")

    def titles(self) -> list[str]:
        """Every panel's title, in the order of the tabs (a group's panels where the group is)."""
        titles = []
        for index in range(self.count()):
            group = self._groups.get(self.tabText(index))
            titles += [group.tabText(i) for i in range(group.count())] if group else [self.tabText(index)]
        return titles

    def current(self) -> QWidget | None:
        """The panel on screen (inside a group: the group's current one)."""
        widget = self.currentWidget()
        return widget.currentWidget() if widget in self._groups.values() else widget
