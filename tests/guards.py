"""Bounds for reliability tests: a hard deadline that turns a hang into a test failure."""

from __future__ import annotations

import contextlib
import signal
import threading


class Hung(BaseException):
    """Raised by ``deadline`` when code runs too long; a BaseException, so no ``except Exception`` can swallow it."""


@contextlib.contextmanager
def deadline(seconds: float, what: str = "the code under test"):
    """Fail with ``Hung`` if the block runs longer than ``seconds`` (SIGALRM; main thread only, elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise Hung(f"{what} did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
