"""A guard against a reference-counting bug of some PySide6 builds on Python < 3.12.

PySide6 6.12.0's abi3 wheel, run by CPython 3.11, returns ``None`` from every void method and
``True`` from every ``Signal.emit`` without taking a reference to them. Each call then lowers the
reference count of the ``None`` / ``True`` singletons by one, and after some thousands of calls
Python aborts with "Fatal Python error: none_dealloc: deallocating None". From Python 3.12 on these
singletons are immortal and the bug is harmless.

``protect_singletons()`` checks for the bug with a few harmless calls and, only when it shows, raises
the reference counts of ``None``, ``True`` and ``False`` so far that they can never reach zero:
in effect, the immortality that Python 3.12 gives them.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject

MARGIN = 1 << 40  # about a trillion lost references before any danger: days of nonstop calls
PROBE_CALLS = 100


_protected = False


def protect_singletons() -> bool:
    """Make None/True/False immortal if this PySide6 drops references to them; True when they are (now or before).

    Safe to call more than once: the package's ``__init__`` and ``app.create_application`` both call it."""
    global _protected
    if _protected or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _protected
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(PROBE_CALLS):  # many calls, so that a one-off cache filled by the first one cannot hide the loss
        probe.setObjectName("probe")
    if before - sys.getrefcount(None) < PROBE_CALLS // 2:
        return False
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += MARGIN  # ob_refcnt, the first field of every object
    _protected = True
    return True
