"""The window's View and Help menus: the settings panel, the plots' log scale, moving between tabs; the keyboard
shortcuts, the documentation, and About (their dialogs are in help_dialogs.py)."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QTabWidget, QWhatsThis

from .curves_panel import CurvesPanel
from .help_dialogs import ShortcutsDialog, open_documentation, show_about

TAB_KEYS = {+1: ("Ctrl+Tab", "Ctrl+PgDown"), -1: ("Ctrl+Shift+Tab", "Ctrl+PgUp")}  # next and previous tab, as in browsers


def build_view_menu(window: QMainWindow, dock: QDockWidget, curves: CurvesPanel, tabs: QTabWidget) -> QMenu:
    """View: show or hide the settings panel, the loss axis's log scale (kept in step with the plots' own check
    box), and the next or previous tab from anywhere in the window."""
    menu = window.menuBar().addMenu("&View")
    menu.addAction(dock.toggleViewAction())
    log_scale = menu.addAction(curves.log_scale.text())
    log_scale.setCheckable(True)
    log_scale.toggled.connect(curves.log_scale.setChecked)
    curves.log_scale.toggled.connect(log_scale.setChecked)
    menu.addSeparator()
    for step, text in ((+1, "&Next tab"), (-1, "&Previous tab")):
        action = menu.addAction(text)
        action.setShortcuts([QKeySequence(key) for key in TAB_KEYS[step]])
        action.triggered.connect(lambda _=False, step=step: tabs.setCurrentIndex((tabs.currentIndex() + step) % tabs.count()))
    return menu


def build_help_menu(window: QMainWindow) -> QMenu:
    """Help: every keyboard shortcut, the documentation (F1), About."""
    menu = window.menuBar().addMenu("&Help")
    menu.addAction("&Keyboard shortcuts", lambda: ShortcutsDialog(window).open())
    documentation = menu.addAction("&Documentation", lambda: open_documentation(window))
    documentation.setShortcut(QKeySequence.StandardKey.HelpContents)
    menu.addAction(QWhatsThis.createAction(window))  # Shift+F1, then a click: what a view is and what it shows now
    menu.addSeparator()
    menu.addAction("&About ScratchNet", lambda: show_about(window))
    return menu
