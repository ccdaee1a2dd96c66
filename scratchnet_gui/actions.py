"""Helpers for the window's actions: the shipped icons, and filling a menu or toolbar."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from scratchnet.presets import resources_dir


def icon(name: str) -> QIcon:
    """One of the shipped SVG icons in ``resources/icons/``."""
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


def add_actions(target, actions) -> None:
    """Add ``actions`` to a menu or toolbar in order, None standing for a separator."""
    for action in actions:
        target.addAction(action) if action else target.addSeparator()
