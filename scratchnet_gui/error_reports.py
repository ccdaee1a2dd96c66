"""Errors nobody caught: shown in the window and written to a log, never only on a terminal nobody reads.

An exception raised in a slot or a timer's callback returns to Qt's event loop, which cannot raise it further:
PySide6 hands it to ``sys.excepthook``, and an exception ending a Python thread goes to ``threading.excepthook``.
``ErrorReports.install()`` takes both hooks (passing each error on to the previous hook too, so the terminal
still shows it): the whole traceback is appended to ``errors.log`` in the data home, and the session's ``warn``
shows the error in the notice bar with the log's path. Errors of other threads reach the window through a
queued signal, on the UI thread.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Signal

from scratchnet.home import data_home

PACKAGES = (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "scratchnet")  # where "in" points
MAX_LOG_BYTES = 1 << 20  # then the log starts afresh, keeping the previous one as errors.log.1


def log_path() -> Path:
    return data_home() / "logs" / "errors.log"


def append_report(text: str, path: Path | None = None) -> Path:
    """Append ``text`` to the error log at ``path`` (default ``log_path()``), rotated past ``MAX_LOG_BYTES``;
    return the path. ``OSError`` when it cannot be written. A link in its place is not followed."""
    path = log_path() if path is None else path
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if path.lstat().st_size > MAX_LOG_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    with open(fd, "a", encoding="utf-8") as log:
        log.write(text)
    return path


class ErrorReports(QObject):
    """Shows every uncaught exception through ``warn(text, level)`` (the session's) and logs it in full."""

    _reported = Signal(str, str)  # the error in one line, its full report: sent to the UI thread

    def __init__(self, warn: Callable[[str, str], None], parent: QObject | None = None):
        super().__init__(parent)
        self._warn = warn
        self._previous: tuple | None = None
        self._last_shown = ""
        self._reported.connect(self._show)

    def install(self) -> None:
        """Take ``sys.excepthook`` and ``threading.excepthook`` (``uninstall`` gives them back)."""
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook, threading.excepthook = self._main_thread_hook, self._thread_hook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None

    def report(self, kind: type[BaseException], error: BaseException, trace: TracebackType | None, where: str = "") -> None:
        """Log the exception and show it in the window (from any thread)."""
        header = f"{time.strftime('%Y-%m-%d %H:%M:%S')} uncaught in {where or threading.current_thread().name}\n"
        full = header + "".join(traceback.format_exception(kind, error, trace)) + "\n"
        self._reported.emit(summary(kind, error, trace), full)

    def _main_thread_hook(self, kind, error, trace) -> None:
        if self._previous is not None:
            self._previous[0](kind, error, trace)
        if not issubclass(kind, (KeyboardInterrupt, SystemExit)):
            self.report(kind, error, trace)

    def _thread_hook(self, hook_args) -> None:
        if self._previous is not None:
            self._previous[1](hook_args)
        if not issubclass(hook_args.exc_type, SystemExit):
            name = hook_args.thread.name if hook_args.thread is not None else ""
            self.report(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback, f"thread {name}")

    def _show(self, line: str, full: str) -> None:
        if line == self._last_shown:  # an error repeating in every paint or timer tick is logged once
            return
        self._last_shown = line
        try:
            where = f"the full report was written to {append_report(full)}"
        except OSError as error:
            where = f"the full report could not be written to {log_path()} ({error.strerror or error})"
        self._warn(f"Something went wrong: {line}. ScratchNet keeps running; {where}.", "error")


def summary(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> str:
    """The error in one line, with the place in ScratchNet's code it came from: "ValueError: … (in teaching.py, line 80)"."""
    message = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
    frames = [frame for frame in traceback.extract_tb(trace) if _in_packages(frame.filename)]
    place = f" (in {Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""
    return f"{kind.__name__}{': ' + message if message else ''}{place}"


def _in_packages(filename: str) -> bool:
    path = Path(filename).resolve()
    return any(path.is_relative_to(package) for package in PACKAGES)
