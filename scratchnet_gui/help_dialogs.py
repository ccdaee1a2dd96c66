"""What the Help menu shows: every keyboard shortcut, the documentation, and About (the version and licences).

The shortcuts are read from the window's actions, so the list cannot fall behind them. The licence and the
documentation come from the installed distribution (``scratchnet.DISTRIBUTION``: its LICENSE file, the README
it carries as its description), or from the source tree when the app runs from a checkout.
"""

from __future__ import annotations

import importlib.metadata
import re
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from scratchnet import DISTRIBUTION, __version__

SOURCE_TREE = Path(__file__).resolve().parent.parent  # a checkout (or an editable install) when pyproject.toml is there
LICENCES = (  # what the app is made of and the data it learns, with the licence each comes under
    ("ScratchNet", "the ScratchNet authors", "MIT"),
    ("Qt and PySide6", "The Qt Company", "LGPL 3.0"),
    ("pyqtgraph", "the pyqtgraph developers", "MIT"),
    ("NumPy", "the NumPy developers", "BSD 3-Clause"),
    ("safetensors", "Hugging Face", "Apache 2.0"),
    (
        "The MNIST database of handwritten digits (not part of ScratchNet: downloaded or read from your folder)",
        "Yann LeCun, Corinna Cortes and Christopher J. C. Burges",
        "CC BY-SA 3.0, as its distributors state",
    ),
)
SPACE_NOTE = "Space belongs to a focused button, check box or list (it presses or ticks it); elsewhere it pauses the run."


# ---- keyboard shortcuts ------------------------------------------------------------------------------


def plain_text(action: QAction) -> str:
    """An action's text without its mnemonic ampersands ("S&top" → "Stop", "&&" → "&")."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")


def where(action: QAction, window: QMainWindow) -> str:
    """Where an action's keys work: the menu it is in, else the tab of the panel that owns it, else the window."""
    menus = [owner for owner in action.associatedObjects() if isinstance(owner, QMenu)]
    if menus:
        return f"{plain_text(menus[0].menuAction())} menu"
    widget = action.parent()
    tabs = window.findChild(QTabWidget)
    while isinstance(widget, QWidget) and tabs is not None:
        index = tabs.indexOf(widget)
        if index >= 0:
            return f"the {tabs.tabText(index)} tab"
        widget = widget.parentWidget()
    return "the window"


def shortcut_rows(window: QMainWindow) -> list[tuple[str, str, str]]:
    """(command, keys, where) for every action of the window that has a shortcut: the menus' in menu order, then the
    panels' own."""
    in_menus = [action for menu in window.menuBar().findChildren(QMenu) for action in menu.actions()]
    rows = []
    for action in dict.fromkeys([*in_menus, *window.findChildren(QAction)]):
        keys = ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts())
        if keys:
            rows.append((plain_text(action), keys, where(action, window)))
    return rows


class ShortcutsDialog(QDialog):
    """A table of every shortcut of the window: the command, its keys, and where they work."""

    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(window)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Command", "Keys", "Where"])
        for row, values in enumerate(rows):
            for column, value in enumerate(values):
                self.table.setItem(row, column, QTableWidgetItem(value))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        note = QLabel(SPACE_NOTE)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(640, 700)  # every row of today's window without scrolling, within 1024×768


# ---- about and documentation -------------------------------------------------------------------------


def source_tree() -> Path | None:
    """The checkout the app runs from, if it does (pyproject.toml beside the packages), else ``None``."""
    return SOURCE_TREE if (SOURCE_TREE / "pyproject.toml").is_file() else None


def installed_text(name: str) -> str | None:
    """A file of the installed distribution's metadata (``licenses/LICENSE``, ``METADATA``), or ``None``."""
    try:
        return importlib.metadata.distribution(DISTRIBUTION).read_text(name)
    except (importlib.metadata.PackageNotFoundError, OSError, UnicodeDecodeError):
        return None


def licence_text() -> str:
    """ScratchNet's LICENSE file: the installed one, else the checkout's; the licence's name if neither is there."""
    text = installed_text("licenses/LICENSE")
    if text is None and source_tree() is not None:
        try:
            text = (source_tree() / "LICENSE").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    return text or "MIT License"


def about_text() -> str:
    rows = "".join(f"<li>{escape(what)} — {escape(who)}: <b>{escape(licence)}</b></li>" for what, who, licence in LICENCES)
    return (
        f"<h3>ScratchNet {__version__}</h3><p>A neural network written from scratch in NumPy, learning MNIST while you "
        f"watch. Installed as <code>{DISTRIBUTION}</code>.</p><p>Made of, and licensed under:</p><ul>{rows}</ul>"
        "<p><i>Show Details</i> shows ScratchNet's licence in full.</p>"
    )


def show_about(window: QMainWindow) -> QMessageBox:
    """About ScratchNet: the version and licences, ScratchNet's LICENSE file behind *Show Details*."""
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About ScratchNet", about_text(), QMessageBox.StandardButton.Close, window)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIconPixmap(window.windowIcon().pixmap(64, 64))
    box.setDetailedText(licence_text())
    box.open()
    return box


def readme_text() -> str | None:
    """The README, as the installed distribution carries it (the body of its METADATA), or the checkout's."""
    metadata = installed_text("METADATA")
    if metadata is not None and "\n\n" in metadata:
        return metadata.partition("\n\n")[2]
    try:
        return (source_tree() / "README.md").read_text(encoding="utf-8") if source_tree() else None
    except (OSError, UnicodeDecodeError):
        return None


class ReadmeDialog(QDialog):
    """The README rendered in the window: the documentation an installed wheel has (the guides are in docs/)."""

    def __init__(self, text: str, parent: QWidget):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle("ScratchNet — documentation")
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)  # the web's links open in the browser; the docs' own files are not installed
        self.browser.anchorClicked.connect(lambda url: url.scheme() in ("http", "https") and QDesktopServices.openUrl(url))
        self.browser.setMarkdown(re.sub(r"!\[[^\]]*\]\([^)]*\)", "", text))  # without the screenshots, not installed either
        note = QLabel("The full guides (the app, the command line, how it works) are in the docs/ folder of ScratchNet's repository.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.resize(760, 640)


def open_documentation(window: QMainWindow) -> QDialog | None:
    """Open the app's guide (docs/app.md of a checkout) in the system's viewer; else show the README in a dialog
    (returned), or say where the documentation is."""
    tree = source_tree()
    guide = tree / "docs" / "app.md" if tree else None
    if guide is not None and guide.is_file() and QDesktopServices.openUrl(QUrl.fromLocalFile(str(guide))):
        return None
    text = readme_text()
    if text is None:
        QMessageBox.information(window, "Documentation", "The documentation is the README and the docs/ folder of ScratchNet's repository.")
        return None
    dialog = ReadmeDialog(text, window)
    dialog.open()
    return dialog
