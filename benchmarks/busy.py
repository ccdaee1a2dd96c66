"""A second busy program for the benchmarks: ``with one_core_busy(True):`` keeps one core spinning meanwhile.

The spinner is a separate process (so it does not share our GIL), started with ``subprocess`` rather than
``multiprocessing`` so that a process with Qt's threads running is never forked.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator

SPIN = "while True: pass"


@contextlib.contextmanager
def one_core_busy(busy: bool) -> Iterator[None]:
    """While inside: with ``busy``, another process spinning on one core (a second busy program)."""
    if not busy:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        yield
    finally:
        spinner.terminate()
        spinner.wait()
