"""Light and dark: the app follows the system's colour scheme, plots included, and changes with it live.

A ``Scheme`` names every colour the app paints with: the stylesheet ``resources/styles/app.qss`` refers to them
as ``$name``, the palette (what the widgets the stylesheet leaves alone use) is built from them, and the plots'
background, axes and labels take theirs. ``Theme`` applies the scheme the system asks for
(``QStyleHints.colorScheme``, Qt ≥ 6.5; when the platform does not say, the lightness of the palette the app
started with) and again at each ``colorSchemeChanged``. Text keeps a contrast of at least 4.5:1 (WCAG AA) with
what it is drawn on, in both schemes: ``TEXT_ON_BACKGROUND`` lists each pair, and a test measures them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from string import Template

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from scratchnet.presets import resources_dir


@dataclass(frozen=True)
class Scheme:
    """The colours of one scheme, as ``#rrggbb``."""

    name: str
    window: str  # the window, the dock, the scroll area
    panel: str  # group boxes, the tab pane, the toolbar, inputs, lists, the plots
    bar: str  # the dock's title and the status bar
    border: str
    text: str
    strong_text: str  # titles and the toolbar's buttons
    hint: str  # secondary text: hints, section labels, tab titles
    placeholder: str  # "Waiting for data…" where a plot will be
    disabled_text: str  # disabled controls (exempt from the contrast rule, as WCAG exempts them)
    hover: str
    checked: str
    accent: str  # the selected tab, links, selections
    accent_text: str  # text on the accent
    error_text: str
    error_background: str
    error_border: str
    info_text: str
    info_background: str
    warning_text: str
    warning_background: str
    running: str
    paused: str
    progress: str
    progress_border: str
    plot_axis: str  # axis lines and the grid


LIGHT = Scheme(
    name="light",
    window="#f6f7f9",
    panel="#ffffff",
    bar="#eceff3",
    border="#dfe3e8",
    text="#3a4652",
    strong_text="#24303c",
    hint="#5b6773",
    placeholder="#66717d",
    disabled_text="#a3acb5",
    hover="#eaf0f7",
    checked="#fdf0d8",
    accent="#1f56a8",
    accent_text="#ffffff",
    error_text="#8c1d18",
    error_background="#fde7e6",
    error_border="#f3b6b2",
    info_text="#1d4f87",
    info_background="#e8f1fb",
    warning_text="#6b4e00",
    warning_background="#fff4d6",
    running="#1f7a45",
    paused="#865700",
    progress="#3d7fd0",
    progress_border="#c9d0d8",
    plot_axis="#e4e7eb",
)
DARK = Scheme(
    name="dark",
    window="#1c2026",
    panel="#252a31",
    bar="#2b3139",
    border="#3a424c",
    text="#d5dbe2",
    strong_text="#eef1f4",
    hint="#a7b1bc",
    placeholder="#9ba6b2",
    disabled_text="#69737e",
    hover="#303b49",
    checked="#4a3b1c",
    accent="#7fb0f0",
    accent_text="#10161d",
    error_text="#ffb4ab",
    error_background="#4a1f1c",
    error_border="#7a302a",
    info_text="#a8cdf5",
    info_background="#1c2f45",
    warning_text="#f3d27a",
    warning_background="#3f3214",
    running="#6fd39b",
    paused="#f0b95a",
    progress="#5b9be6",
    progress_border="#4a525c",
    plot_axis="#3a424c",
)
SCHEMES = {scheme.name: scheme for scheme in (LIGHT, DARK)}
TEXT_ON_BACKGROUND = (  # (text, background) pairs the app draws, each to keep ≥ 4.5:1
    ("text", "window"),
    ("text", "panel"),
    ("text", "bar"),
    ("strong_text", "panel"),
    ("strong_text", "hover"),
    ("strong_text", "checked"),
    ("hint", "window"),
    ("hint", "panel"),
    ("placeholder", "panel"),
    ("accent", "panel"),
    ("accent_text", "accent"),
    ("error_text", "error_background"),
    ("error_text", "panel"),
    ("info_text", "info_background"),
    ("warning_text", "warning_background"),
    ("running", "bar"),
    ("paused", "bar"),
)


def stylesheet(scheme: Scheme) -> str:
    """The app's stylesheet in the colours of ``scheme``."""
    template = Template((resources_dir() / "styles" / "app.qss").read_text(encoding="utf-8"))
    return template.substitute(dataclasses.asdict(scheme))


def palette(scheme: Scheme) -> QPalette:
    """A palette of ``scheme``'s colours, for what the stylesheet does not paint (labels, inputs, menus)."""
    colours = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    for roles, colour in (
        ((role.Window,), scheme.window),
        ((role.WindowText, role.Text, role.ButtonText, role.ToolTipText), scheme.text),
        ((role.Base, role.Button, role.ToolTipBase), scheme.panel),
        ((role.AlternateBase, role.Midlight), scheme.bar),
        ((role.Mid, role.Dark), scheme.border),
        ((role.Highlight, role.Link), scheme.accent),
        ((role.HighlightedText,), scheme.accent_text),
        ((role.PlaceholderText,), scheme.placeholder),
        ((role.BrightText,), scheme.strong_text),
    ):
        for each in roles:
            colours.setColor(each, QColor(colour))
    for each in (role.WindowText, role.Text, role.ButtonText):
        colours.setColor(group.Disabled, each, QColor(scheme.disabled_text))
    return colours


def contrast(foreground: str, background: str) -> float:
    """WCAG's contrast ratio of two colours: 1 (the same) to 21 (black on white)."""
    lighter, darker = sorted((_luminance(QColor(foreground)), _luminance(QColor(background))), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(colour: QColor) -> float:
    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(colour.redF()) + 0.7152 * linear(colour.greenF()) + 0.0722 * linear(colour.blueF())


class Theme(QObject):
    """Keeps ``app`` in the system's colour scheme: palette, stylesheet and plots, now and at every change."""

    def __init__(self, app: QApplication):
        super().__init__(app)
        self._app = app
        self._started_dark = app.palette().color(QPalette.ColorRole.Window).lightness() < 128
        self.scheme = LIGHT
        app.styleHints().colorSchemeChanged.connect(self._system_changed)
        self.apply(self._system_scheme(app.styleHints().colorScheme()))

    def apply(self, scheme: Scheme) -> None:
        """Paint the app in ``scheme``: new plots take its colours, and the plots on screen are restyled."""
        self.scheme = scheme
        self._app.setPalette(palette(scheme))
        self._app.setStyleSheet(stylesheet(scheme))
        pg.setConfigOptions(background=scheme.panel, foreground=scheme.text)
        self.restyle_plots()

    def restyle_plots(self) -> None:
        """Give every plot on screen the scheme's background, axes and axis labels (an opaque background only:
        a transparent plot shows the panel behind it)."""
        # Walked down from the windows, not QApplication.allWidgets(): that list also holds widgets being destroyed,
        # whose wrappers can crash (a segmentation fault in a long test session).
        windows = [window for window in self._app.topLevelWidgets() if shiboken6.isValid(window)]
        views = [view for window in windows for view in [window, *window.findChildren(pg.GraphicsView)]]
        for view in (view for view in views if isinstance(view, pg.GraphicsView)):
            if view.backgroundBrush().style() != Qt.BrushStyle.NoBrush:
                view.setBackground(self.scheme.panel)
            for item in view.scene().items():
                if isinstance(item, pg.AxisItem):
                    item.setPen(self.scheme.plot_axis)
                    item.setTextPen(self.scheme.text)
                elif isinstance(item, pg.LegendItem):
                    item.setBrush(pg.mkBrush(QColor(self.scheme.panel)))
                    item.setPen(self.scheme.border)
                    item.setLabelTextColor(self.scheme.text)
                    for _, label in item.items:  # the labels already there keep their colour until set again
                        label.setText(label.text, color=self.scheme.text)

    def _system_scheme(self, system: Qt.ColorScheme) -> Scheme:
        if system == Qt.ColorScheme.Unknown:
            return DARK if self._started_dark else LIGHT
        return DARK if system == Qt.ColorScheme.Dark else LIGHT

    def _system_changed(self, system: Qt.ColorScheme) -> None:
        self.apply(self._system_scheme(system))
