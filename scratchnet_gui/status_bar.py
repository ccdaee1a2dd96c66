"""The window's status bar and its notice bar.

``StatusBar``: a message on the left that never runs under the run's figures on the right (state, epoch,
progress, speed, elapsed time, time left, learning rate), which it reads from the session a few times a
second while a run trains. ``QStatusBar`` cuts a long message off wherever the permanent widgets begin
("Test accuracy 98.4("). Here the message is a label that takes the room left and elides what does not
fit ("…"), with the whole text in its tooltip; ``showMessage``/``currentMessage``/``clearMessage`` keep
Qt's meaning.

``NoticeBar``: a dismissible message across the top of the window, for what the user must not miss.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QSizePolicy, QStatusBar, QToolButton, QWidget

from .blas_threads import BlasThreadSetting, threads_text
from .session import RunOutcome, RunProgress, RunState, Session

REFRESH_MS = 250  # the figures change a few times a second: faster would be unreadable
STATE_TEXT = {
    RunState.IDLE: "Idle",
    RunState.RUNNING: "Training",
    RunState.PAUSED: "Paused",
    RunState.FINISHED: "Finished",
    RunState.STOPPED: "Stopped",
    RunState.DIVERGED: "Diverged",
    RunState.FAILED: "Failed",
}


SPEED_TIP = "Training speed this epoch: images per second through forward, backward and update"


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as fits, ending in "…", and never asks for more room."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def shown_text(self) -> str:
        """The text as painted: elided to the label's width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.contentsRect().width())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(self.contentsRect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.shown_text())


class StatusBar(QStatusBar):
    """A status bar whose messages are elided to the room they have, with the full text as a tooltip, and
    the figures of the session's run on the right (call ``follow(session)``)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.message = ElidedLabel()
        self.addWidget(self.message, 1)
        self._expiry = QTimer(self, singleShot=True, timeout=self.clearMessage)
        self.state_label = QLabel()
        self.epoch_label = QLabel("Epoch – / –")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.setFixedWidth(150)
        self.progress_bar.setToolTip("Progress of the whole run")
        self.speed_label = QLabel()
        self.speed_label.setToolTip(SPEED_TIP)
        self.elapsed_label = QLabel()
        self.elapsed_label.setToolTip("Training time of this run (pauses excluded)")
        self.eta_label = QLabel()
        self.eta_label.setToolTip("Estimated time left in this run")
        self.lr_label = QLabel()
        self.lr_label.setToolTip("The learning rate of the last batch (after the schedule)")
        for widget in (
            self.state_label,
            self.epoch_label,
            self.progress_bar,
            self.speed_label,
            self.elapsed_label,
            self.eta_label,
            self.lr_label,
        ):
            self.addPermanentWidget(widget)
        self._refresh = QTimer(self, interval=REFRESH_MS)
        self.show_state(RunState.IDLE)

    def follow(self, session: Session) -> None:
        """Show ``session``'s messages, its state, and its run's figures (refreshed while it trains)."""
        session.status.connect(self.showMessage)
        session.state_changed.connect(self.show_state)
        session.state_changed.connect(lambda state: self.show_progress(session.progress()))
        session.run_finished.connect(lambda outcome: self._show_run_speed(outcome, session.progress()))
        session.run_started.connect(lambda *_: self.speed_label.setToolTip(SPEED_TIP))
        self._refresh.timeout.connect(lambda: self.show_progress(session.progress()))

    def show_state(self, state: RunState) -> None:
        self.state_label.setText(STATE_TEXT[state])
        self.state_label.setProperty("state", state.value)
        self.state_label.style().unpolish(self.state_label)
        self.state_label.style().polish(self.state_label)
        self._refresh.start() if state.active else self._refresh.stop()

    def show_progress(self, progress: RunProgress | None) -> None:
        """Epoch, progress bar, speed, elapsed time, time left and learning rate of ``progress`` (None: no run
        since the weights were made or opened, so no figures)."""
        if progress is None:
            self.epoch_label.setText("Epoch – / –")
            self.progress_bar.setValue(0)
            for label in (self.speed_label, self.elapsed_label, self.eta_label, self.lr_label):
                label.clear()
            return
        self.elapsed_label.setText(f"elapsed {_duration(progress.seconds)}")
        last = progress.last_batch
        if last is None:
            return
        epochs = progress.epochs
        self.epoch_label.setText(f"Epoch {last.epoch} / {epochs}")
        self.progress_bar.setValue(int(1000 * last.progress / epochs))
        self.speed_label.setText(f"{last.samples_per_second:,.0f} samples/s")
        self.lr_label.setText(f"lr {last.lr:.3g}")
        if progress.active:
            threads = _threads_text(progress.blas_thread_setting, last.blas_threads)
            self.speed_label.setToolTip(f"{SPEED_TIP}.\nThe batches use {threads}")
            self.eta_label.setText(f"ETA {_duration(progress.seconds / last.progress * (epochs - last.progress))}")
        else:
            self.eta_label.setText("" if last.progress >= epochs else "ended early")  # the state already says "Finished"

    def _show_run_speed(self, outcome: RunOutcome, progress: RunProgress | None) -> None:
        """At the end of a run scored on the test set: its average speed, as in the summary message, and the BLAS
        threads it ended with."""
        if outcome.test_accuracy is not None:
            self.speed_label.setText(f"{outcome.samples_per_second:,.0f} samples/s")
        if outcome.blas_threads is not None:
            threads = _threads_text(progress.blas_thread_setting if progress else None, outcome.blas_threads)
            self.speed_label.setToolTip(f"The run's average training speed.\nIts last batches used {threads}")

    def showMessage(self, text: str, timeout: int = 0) -> None:
        """Show ``text`` until the next message, or for ``timeout`` milliseconds when it is above 0."""
        self.message.setText(text)
        self.message.setToolTip(text)
        self._expiry.stop()
        if timeout > 0:
            self._expiry.start(timeout)

    def currentMessage(self) -> str:
        return self.message.text()

    def clearMessage(self) -> None:
        self.showMessage("")


class NoticeBar(QFrame):
    """A dismissible message across the top of the window: info, warning or error. Never blocks."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("notice")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setMinimumWidth(1)  # a word wider than the window (a long file name) is cut at its edge, and
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)  # never widens it
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss this message")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.text, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.topic = ""
        self.hide()

    @property
    def level(self) -> str:
        return self.property("level") or ""

    def show_message(self, text: str, level: str = "info", topic: str = "") -> None:
        """Show ``text`` (rich text: escape what is not meant as markup, see ``html``) at ``level``; ``topic``
        names what it is about, so that ``clear(topic)`` removes it and nothing newer."""
        self.setProperty("level", level)
        self.style().unpolish(self)
        self.style().polish(self)
        self.text.setText(text)
        self.text.setToolTip(text)  # the whole of it, and the text can be selected and copied
        self.topic = topic
        self.show()

    def clear(self, topic: str | None = None) -> None:
        """Hide the message: any message, or only one about ``topic``."""
        if topic is None or topic == self.topic:
            self.hide()
            self.text.clear()
            self.topic = ""

    def shows_other_than(self, topic: str) -> bool:
        """Whether a message about something else than ``topic`` is on screen, which a passing one must not replace."""
        return not self.isHidden() and self.topic != topic


def html(text: str) -> str:
    """Plain ``text`` as rich text: markup characters escaped, line breaks kept."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br>")


def _threads_text(setting: BlasThreadSetting | None, count: int) -> str:
    """``count`` BLAS threads, and why, when the ``setting`` they were chosen by is known."""
    return setting.describe(count) if setting is not None else f"{threads_text(count)}."


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
