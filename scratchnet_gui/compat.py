"""A guard against a reference-counting bug of some PySide6 builds on Python < 3.12.

PySide6 6.12.0's abi3 wheel, run by CPython 3.11, returns ``None`` from every void method and
``True`` from every ``Signal.emit`` without taking a reference to them. Each call then lowers the
reference count of the ``None`` / ``True`` singletons by one, and after some thousands of calls
Python aborts with "Fatal Python error: none_dealloc: deallocating None". From Python 3.12 on these
singletons are immortal and the bug is harmless.

``protect_singletons()`` checks for the bug with one harmless call and, only when it shows, raises
the reference counts of ``None``, ``True`` and ``False`` so far that they can never reach zero:
in effect, the immortality that Python 3.12 gives them.
"""

from __future__ import annotations

import ctypes
import sys

from PySide6.QtCore import QObject

MARGIN = 1 << 40  # about a trillion lost references before any danger: days of nonstop calls


def protect_singletons() -> bool:
    """Make None/True/False immortal if this PySide6 drops references to them; True when it did."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    probe = QObject()
    before = sys.getrefcount(None)
    probe.setObjectName("probe")
    if sys.getrefcount(None) >= before:
        return False
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += MARGIN  # ob_refcnt, the first field of every object
    return True
