"""How late the UI thread answers, for the benchmarks: a 10 ms timer that records how late each tick fires.

timer, delays = lateness_probe()
timer.start()   # ... the work to measure, with the event loop running ...
timer.stop()    # delays: ms late, tick by tick
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QElapsedTimer, Qt, QTimer

TICK_MS = 10


def lateness_probe() -> tuple[QTimer, list[float]]:
    """A 10 ms timer on the UI thread (not started) and the list of how late it fires, in ms."""
    delays = []
    clock = QElapsedTimer()
    timer = QTimer(interval=TICK_MS, timerType=Qt.TimerType.PreciseTimer)

    def tick() -> None:
        if clock.isValid():
            delays.append(clock.nsecsElapsed() / 1e6 - TICK_MS)
        clock.restart()

    timer.timeout.connect(tick)
    return timer, delays


def timings_ms(action, repeats: int) -> np.ndarray:
    """Milliseconds of each of ``repeats`` calls of ``action()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(1000 * (time.perf_counter() - start))
    return np.array(times)
