"""The randomised GUI run (tests/random_gui.py) as CI runs it: a few fixed seeds for under a minute each, in a
child process each. Nothing may reach the event loop as an exception, Qt may say nothing critical, the process
may neither crash nor freeze, and the app may hold only so much more memory when idle again than it held after
loading the data.

A failure prints the seed, what was found and the last actions; it replays with

    python -m tests.random_gui --seed SEED --seconds SECONDS [--x11]

Longer runs (``--seconds 600``, other seeds) are for a person to start by hand. Marked slow: ``-m 'not slow'``
skips it, ``.ci/run`` runs it."""

import sys

import pytest

from .random_gui import HUGE_WINDOW, run
from .x11 import missing_tools

SECONDS = 45
OFFSCREEN_SEEDS = (1, 2)
X11_SEEDS = (3,)  # real pointer and key events through xdotool, on a private Xvfb
# Resident memory when idle after the actions, over what it was after loading the data: what the app holds by
# design at the largest window the run makes (HUGE_WINDOW; per pixel, the plots' pixmap cache of three panel-sized
# pixmaps and the window's own backing store, 4 bytes each), and 64 MB of everything else (thumbnails ≤ 8 MB, the
# current run's batches, Qt's and the allocator's own). Measured over seeds 1-9 on 2026-12-06: 20-133 MB.
MAX_IDLE_GROWTH_MB = 64 + HUGE_WINDOW[0] * HUGE_WINDOW[1] * 16 / 2**20

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm; FIFOs and X11 as on Linux"),
]


def check(report) -> None:
    """Fail with the seed's report (its problems, last actions and how to replay it) when anything was found."""
    summary = report.summary or {}
    found = {
        "a native crash, abort or hang": report.crashed,
        "exceptions": summary.get("exceptions"),
        "Qt critical messages": summary.get("qt_criticals"),
        "a window too wide for any screen": summary.get("too_wide"),  # widened by a notice or a name
        "errors of the driver itself": summary.get("driver_errors"),  # it must stay sound, or it proves nothing
        "memory held when idle": bool(summary) and summary.get("idle_growth_mb", float("inf")) >= MAX_IDLE_GROWTH_MB,  # none: closed early
        "other problems": report.problems,
    }
    failed = [what for what, count in found.items() if count]
    if failed:
        pytest.fail(f"found {', '.join(failed)}\n{report.describe()}", pytrace=False)


@pytest.mark.parametrize("seed", OFFSCREEN_SEEDS)
def test_random_actions_offscreen_find_no_exception_crash_hang_or_leak(seed, capfd, tmp_path):
    report = run(seed, SECONDS, keep=tmp_path)
    with capfd.disabled():
        print(f"\nrandom GUI seed {seed}: {report.headline()}")
    check(report)


@pytest.mark.skipif(bool(missing_tools()), reason=f"needs {', '.join(missing_tools())} (apt install xvfb xdotool x11-apps)")
@pytest.mark.parametrize("seed", X11_SEEDS)
def test_random_actions_on_x11_find_no_exception_crash_hang_or_leak(seed, capfd, tmp_path):
    report = run(seed, SECONDS, x11=True, keep=tmp_path)
    with capfd.disabled():
        print(f"\nrandom GUI seed {seed} (X11): {report.headline()}")
    check(report)
