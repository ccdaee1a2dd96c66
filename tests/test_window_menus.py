"""The window's menus: every command reachable and enabled when it can act, tabs by keyboard, a Help menu."""

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from scratchnet import __version__
from scratchnet_gui.main_window import MainWindow


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


def test_the_help_menu_has_about_with_the_version_and_licences_shortcuts_and_documentation(qtbot, tmp_path, monkeypatch):
    window = make_window(qtbot, tmp_path)
    shown = {}
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.update(about=text))
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: shown.update({title: text}))
    actions = {action.text().replace("&", ""): action for action in menu(window, "Help").actions()}
    assert {"Keyboard shortcuts", "Documentation", "About ScratchNet"} <= set(actions)
    actions["About ScratchNet"].trigger()
    assert __version__ in shown["about"] and "CC BY-SA 3.0" in shown["about"] and "MNIST" in shown["about"] and "MIT" in shown["about"]
    actions["Keyboard shortcuts"].trigger()
    table = shown["Keyboard shortcuts"]
    assert all(words in table for words in ("Start", "F5", "Next tab", "Ctrl+Tab", "Pause", "Space"))
