"""The window's View and Help menus: the settings panel, the plots' log scale, moving between tabs; the keyboard
shortcuts, the documentation, and About (the version and the licences of what ScratchNet is made of)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QMessageBox, QTabWidget, QWhatsThis

from scratchnet import __version__

from .curves_panel import CurvesPanel

DOCS = Path(__file__).resolve().parent.parent / "docs"  # beside the sources (a checkout or an editable install)
LICENCES = (  # what the app is made of and the data it learns, with the licence each comes under
    ("ScratchNet", "the ScratchNet authors", "MIT"),
    ("Qt and PySide6", "The Qt Company", "LGPL 3.0"),
    ("pyqtgraph", "the pyqtgraph developers", "MIT"),
    ("NumPy", "the NumPy developers", "BSD 3-Clause"),
    ("safetensors", "Hugging Face", "Apache 2.0"),
    (
        "The MNIST database (not part of ScratchNet: downloaded or read from your folder)",
        "Yann LeCun, Corinna Cortes and Christopher J. C. Burges",
        "CC BY-SA 3.0",
    ),
)
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
    menu = window.menuBar().addMenu("&Help")
    menu.addAction("&Keyboard shortcuts", lambda: QMessageBox.information(window, "Keyboard shortcuts", shortcuts_table(window)))
    documentation = menu.addAction("&Documentation", lambda: open_documentation(window))
    documentation.setShortcut(QKeySequence.StandardKey.HelpContents)
    menu.addAction(QWhatsThis.createAction(window))  # Shift+F1, then a click: what a view is and what it shows now
    menu.addSeparator()
    menu.addAction("&About ScratchNet", lambda: QMessageBox.about(window, "About ScratchNet", about_text()))
    return menu


def shortcuts_table(window: QMainWindow) -> str:
    """Every shortcut of the window's menus, as a rich-text table: the command, then its keys."""
    rows = []
    for menu in (action.menu() for action in window.menuBar().actions() if action.menu()):
        for action in menu.actions():
            keys = ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts())
            if keys:
                rows.append(f"<tr><td>{escape(action.text().replace('&', ''))}</td><td>&nbsp;&nbsp;<b>{escape(keys)}</b></td></tr>")
    note = "<p>Space belongs to a focused button, check box or list (it presses or ticks it); elsewhere it pauses the run.</p>"
    return f"<table>{''.join(rows)}</table>{note}"


def about_text() -> str:
    rows = "".join(f"<li>{escape(what)} — {escape(who)}: <b>{licence}</b></li>" for what, who, licence in LICENCES)
    return (
        f"<h3>ScratchNet {__version__}</h3><p>A neural network written from scratch in NumPy, learning MNIST while you "
        f"watch.</p><p>Made of, and licensed under:</p><ul>{rows}</ul>"
    )


def open_documentation(window: QMainWindow) -> None:
    """Open the app's guide (docs/app.md) in the system's viewer, or say where the documentation is."""
    guide = DOCS / "app.md"
    if not (guide.is_file() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(guide)))):
        QMessageBox.information(
            window, "Documentation", "The documentation is the README and the docs/ folder of ScratchNet's source distribution."
        )
