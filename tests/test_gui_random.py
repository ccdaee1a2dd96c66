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

from .random_gui import run
from .x11 import missing_tools

SECONDS = 45
OFFSCREEN_SEEDS = (1, 2)
X11_SEEDS = (3,)  # real pointer and key events through xdotool, on a private Xvfb
MAX_IDLE_GROWTH_MB = 64  # resident memory when idle after the actions, over what it was after loading the data

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm; FIFOs and X11 as on Linux"),
]


def check(report) -> None:
    message = report.describe()
    assert not report.crashed, message
    summary = report.summary
    assert summary["exceptions"] == 0, message
    assert summary["qt_criticals"] == 0, message
    assert summary["too_wide"] == 0, message  # a notice or a name widened the window past any screen
    assert summary["driver_errors"] == 0, message  # the driver itself must stay sound, or it proves nothing
    assert summary.get("idle_growth_mb", float("inf")) < MAX_IDLE_GROWTH_MB, message  # absent: the window closed early
    assert report.problems == [], message


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
