"""The window's menus: every command reachable and enabled when it can act, tabs by keyboard, a Help menu."""

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from scratchnet import DISTRIBUTION, __version__
from scratchnet_gui import help_dialogs
from scratchnet_gui.help_dialogs import ShortcutsDialog
from scratchnet_gui.main_window import MainWindow
from tests.conftest import REPO


def make_window(qtbot, tmp_path) -> MainWindow:
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def menu(window, title: str):
    return next(action.menu() for action in window.menuBar().actions() if action.text().replace("&", "") == title)


def test_view_settings_is_enabled_and_hides_and_shows_the_settings_panel(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    settings = next(action for action in menu(window, "View").actions() if action.text() == "Settings")
    assert settings.isEnabled() and settings.isChecked()
    settings.trigger()
    assert window.dock.isHidden() and not settings.isChecked()
    settings.trigger()
    assert window.dock.isVisible()


def test_ctrl_tab_and_ctrl_page_down_switch_tabs_from_anywhere_in_the_window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.activateWindow()
    field = window.settings_panel.field("epochs")
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    for key, modifiers, expected in (
        (Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier, 1),
        (Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier, 2),
        (Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier, 1),
        (Qt.Key.Key_Backtab, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier, 0),
        (Qt.Key.Key_PageUp, Qt.KeyboardModifier.ControlModifier, window.tabs.count() - 1),  # round the end
    ):
        qtbot.keyClick(field, key, modifiers)
        assert window.tabs.currentIndex() == expected, (key, modifiers)


def test_the_help_menu_has_shortcuts_documentation_and_about(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    actions = {action.text().replace("&", ""): action for action in menu(window, "Help").actions()}
    assert {"Keyboard shortcuts", "Documentation", "About ScratchNet"} <= set(actions)
    assert actions["Documentation"].shortcut() == QKeySequence(QKeySequence.StandardKey.HelpContents)


def test_about_shows_the_version_the_licences_and_the_licence_file(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    next(a for a in menu(window, "Help").actions() if a.text() == "&About ScratchNet").trigger()
    qtbot.waitUntil(lambda: window.findChild(QMessageBox) is not None)
    box = window.findChild(QMessageBox)
    text = box.text()
    assert __version__ in text and DISTRIBUTION in text and "MIT" in text
    assert "MNIST" in text and "LeCun, Corinna Cortes and Christopher J. C. Burges" in text and "CC BY-SA 3.0" in text
    assert box.detailedText() == (REPO / "LICENSE").read_text(encoding="utf-8")


def test_the_shortcuts_dialog_lists_every_action_with_keys_from_the_actions_themselves(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    extra = QAction("Brand-new command", window, shortcut=QKeySequence("Ctrl+Alt+J"))  # one no list was told about
    window.pad.addAction(extra)
    extra.setParent(window.pad)
    next(a for a in menu(window, "Help").actions() if a.text() == "&Keyboard shortcuts").trigger()
    qtbot.waitUntil(lambda: window.findChild(ShortcutsDialog) is not None and window.findChild(ShortcutsDialog).isVisible())
    table = window.findChild(ShortcutsDialog).table
    rows = {tuple(table.item(row, column).text() for column in range(3)) for row in range(table.rowCount())}
    with_keys = [action for action in window.findChildren(QAction) if not action.shortcut().isEmpty()]
    assert len(rows) == table.rowCount() == len(with_keys)
    for expected in (
        ("Start", "F5", "Training menu"),
        ("Pause", "Space", "Training menu"),
        ("Next tab", "Ctrl+Tab, Ctrl+PgDown", "View menu"),
        ("Documentation", "F1", "Help menu"),
        ("Undo stroke", "Ctrl+Z", "the Drawing pad tab"),
        ("This is a 7", "7", "the Drawing pad tab"),
        ("Brand-new command", "Ctrl+Alt+J", "the Drawing pad tab"),
    ):
        assert expected in rows


def test_documentation_without_a_checkout_shows_the_installed_readme(qtbot, tmp_path, monkeypatch):
    window = make_window(qtbot, tmp_path)
    monkeypatch.setattr(help_dialogs, "source_tree", lambda: None)  # as installed from a wheel: no docs/ folder
    monkeypatch.setattr(
        help_dialogs, "installed_text", lambda name: "Metadata-Version: 2.4\n\n# ScratchNet\n\n![shot](docs/x.png)\nRead me."
    )
    dialog = help_dialogs.open_documentation(window)
    qtbot.waitUntil(dialog.isVisible)
    assert "Read me." in dialog.browser.toPlainText() and "shot" not in dialog.browser.toPlainText()
