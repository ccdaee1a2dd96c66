"""The main window at the edges a user meets: small screens and keys on focused controls."""

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QApplication, QTabWidget

from scratchnet_gui.theme import LIGHT, stylesheet

from .test_gui_app import configure, start_long_run, wait_idle, window  # noqa: F401  (the fixture)


def test_a_long_status_message_is_elided_with_the_whole_text_in_its_tooltip(window, qtbot):  # noqa: F811
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.size() == QSize(1024, 768))  # its layouts follow the resize event at once
    message = "Completed 8 epochs. Test accuracy 98.46 % (93,500 samples/s); the weights of epoch 8 were kept " * 2
    window.statusBar().showMessage(message)
    label = window.statusBar().message
    assert window.statusBar().currentMessage() == message and label.toolTip() == message
    shown = label.shown_text()
    assert shown.endswith("…") and message.startswith(shown[:-1])
    assert label.geometry().right() < window.statusBar().state_label.geometry().left()  # it stops before the figures


def test_status_messages_expire(window, qtbot):  # noqa: F811
    window.statusBar().showMessage("Saved", 50)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "", timeout=2000)


def test_space_on_a_focused_check_box_ticks_it_instead_of_pausing_the_run(window, qtbot):  # noqa: F811
    start_long_run(window, qtbot)
    window.activateWindow()
    box = window.curves.log_scale
    box.setFocus()
    qtbot.waitUntil(box.hasFocus, timeout=2000)
    qtbot.keyClick(box, Qt.Key.Key_Space)
    assert box.isChecked() and window.session.state == "running"
    window.tabs.setFocus()
    qtbot.keyClick(window.tabs, Qt.Key.Key_Space)  # elsewhere, Space still pauses
    assert window.session.state == "paused"
    window.stop_action.trigger()
    wait_idle(window, qtbot)


def test_a_thumbnail_caption_elides_a_long_class_name_but_never_the_confidence(window):  # noqa: F811
    from scratchnet_gui.image_browser import fit_caption

    metrics = window.fontMetrics()
    parts = ("✗ class 037: a deliberately long, descriptive category name (class 012: another long name)", "87.3 %")
    for width in (90, 120, 200):
        caption = fit_caption(metrics, parts, width)
        assert caption.endswith("  87.3 %") and "…" in caption
        assert metrics.horizontalAdvance(caption) <= width
    assert fit_caption(metrics, ("✓ 7", "99.5 %"), 200) == "✓ 7  99.5 %"


def test_the_window_with_every_tab_fits_a_1024_by_768_screen(window, qtbot):  # noqa: F811
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 768
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.width() == 1024 and window.height() == 768, timeout=2000)


def test_every_tab_title_shows_on_a_1024_by_768_screen_in_the_app_style(window, qtbot):  # noqa: F811
    window.setStyleSheet(stylesheet(LIGHT))
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=2000)
    for title in window.tab_titles():  # every tab bar, a group's too: no scroll arrows hiding a tab
        window.show_tab(title)
        QApplication.processEvents()
        for tabs in (tabs for tabs in window.findChildren(QTabWidget) if tabs.isVisible()):
            assert tabs.tabBar().sizeHint().width() <= tabs.width(), title


def test_after_a_run_the_speed_says_how_many_blas_threads_it_used(window, qtbot):  # noqa: F811
    configure(window, epochs=1, batch_size=50)
    with qtbot.waitSignal(window.session.run_finished, timeout=20_000) as finished:
        window.start_action.trigger()
    threads = finished.args[0].blas_threads
    assert threads >= 1
    assert f"used {threads} BLAS thread" in window.statusBar().speed_label.toolTip()
    window.start_action.trigger()  # a new run: the tooltip says what the figure is while it trains
    assert "BLAS" not in window.statusBar().speed_label.toolTip()
    window.stop_action.trigger()
    wait_idle(window, qtbot)
