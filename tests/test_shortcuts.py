"""Space belongs to the focused control, even after a focused control was deleted."""

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QPushButton, QVBoxLayout, QWidget

from scratchnet_gui.shortcuts import FocusedControlsKeepSpace


def test_a_deleted_focused_button_leaves_space_to_the_next_focused_control(qtbot):
    window = QWidget()
    qtbot.addWidget(window)
    paused = []
    pause = QAction("Pause", window, shortcut=QKeySequence("Space"), triggered=lambda: paused.append(True))
    window.addAction(pause)
    FocusedControlsKeepSpace(window)
    layout = QVBoxLayout(window)
    button, box = QPushButton("This is a 3"), QCheckBox("Saliency overlay")
    layout.addWidget(button)
    layout.addWidget(box)
    window.show()
    qtbot.waitExposed(window)
    button.setFocus()
    qtbot.waitUntil(button.hasFocus)
    button.deleteLater()  # a panel rebuilding its buttons while one has the focus
    qtbot.waitUntil(lambda: not window.findChildren(QPushButton))
    box.setFocus()  # every later focus change used to raise "Internal C++ object already deleted"
    qtbot.waitUntil(box.hasFocus)
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked() and not paused  # the check box took Space; the run was not paused
