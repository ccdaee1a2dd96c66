"""The window on a 1024×768 screen: every button's text shown whole, in every tab, and the run table readable."""

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QAbstractButton, QApplication, QPushButton, QScrollArea, QToolButton

from scratchnet_gui.main_window import MainWindow
from scratchnet_gui.theme import LIGHT, stylesheet


def text_width(button: QPushButton) -> int:
    """The width a push button needs to show its text and icon: theirs plus the style's margins (4 px a side)."""
    icon = button.iconSize().width() + 4 if not button.icon().isNull() else 0
    return button.fontMetrics().horizontalAdvance(button.text().replace("&", "")) + icon + 8


def clipped_buttons(window) -> list[str]:
    """The visible buttons of the current tab (and around it) narrower than their text, or cut off by their parent."""
    clipped = []
    for button in window.findChildren(QAbstractButton):
        if not button.isVisibleTo(window) or not button.text() or isinstance(button, QToolButton) and button.autoRaise():
            continue
        if isinstance(button, QPushButton) and button.width() < text_width(button):
            clipped.append(f"{button.text()!r}: {button.width()} < {text_width(button)} px")
        elif button.visibleRegion().isEmpty() and scrolled_into(button):
            continue  # below the fold of a scrolling panel: the user scrolls to it
        elif button.visibleRegion().boundingRect().width() < button.width():
            clipped.append(f"{button.text()!r}: only {button.visibleRegion().boundingRect().width()} of {button.width()} px in view")
    return clipped


def scrolled_into(widget) -> bool:
    """Whether ``widget`` lies inside a scroll area (where out of view means scrolled away, not cut)."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    return parent is not None


def test_no_button_text_is_cut_at_1024_by_768_in_any_tab(qtbot, tmp_path, fake_data_dir):
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.setStyleSheet(stylesheet(LIGHT))
    window.show()
    with qtbot.waitSignal(window.session.dataset_changed, timeout=10_000):
        window.load_data(str(fake_data_dir))
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=2000)
    window.handwriting.result_view.show()  # as after a Teach: "Keep the taught model", "Discard", and what was done
    window.handwriting.verdict.setText("Discarded: the model is as it was before teaching.")
    problems = {}
    for title in window.tab_titles():
        window.show_tab(title)
        QApplication.processEvents()
        if clipped := clipped_buttons(window):
            problems[title] = clipped
        if window.width() != 1024 or window.minimumSizeHint().width() > 1024:
            problems[title] = f"the window needs {window.minimumSizeHint().width()} px"
    assert problems == {}
    window.show_tab("Runs")
    QApplication.processEvents()
    assert window.runs.table.columnWidth(3) >= 150  # the settings column: "128-128 relu nesterov…", not "128-1…"
