"""Light and dark: every text readable in both schemes, and the window (plots included) following a change live."""

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from scratchnet_gui.main_window import MainWindow
from scratchnet_gui.theme import DARK, LIGHT, SCHEMES, TEXT_ON_BACKGROUND, Theme, contrast, palette, stylesheet

ROLE = QPalette.ColorRole
PALETTE_PAIRS = (
    (ROLE.WindowText, ROLE.Window),
    (ROLE.Text, ROLE.Base),
    (ROLE.ButtonText, ROLE.Button),
    (ROLE.ToolTipText, ROLE.ToolTipBase),
)
PALETTE_PAIRS += ((ROLE.HighlightedText, ROLE.Highlight), (ROLE.PlaceholderText, ROLE.Base), (ROLE.Link, ROLE.Base))


@pytest.mark.parametrize("scheme", SCHEMES.values(), ids=list(SCHEMES))
def test_every_text_has_a_contrast_of_at_least_4_5_to_1_in_both_schemes(scheme):
    low = {(text, under): contrast(getattr(scheme, text), getattr(scheme, under)) for text, under in TEXT_ON_BACKGROUND}
    assert {pair: round(ratio, 2) for pair, ratio in low.items() if ratio < 4.5} == {}
    colours = palette(scheme)
    low = {(text.name, under.name): contrast(colours.color(text).name(), colours.color(under).name()) for text, under in PALETTE_PAIRS}
    assert {pair: round(ratio, 2) for pair, ratio in low.items() if ratio < 4.5} == {}


def test_the_stylesheet_uses_only_the_schemes_colours():
    for scheme in SCHEMES.values():
        sheet = stylesheet(scheme)
        assert "$" not in sheet and scheme.window in sheet
    assert contrast("#000000", "#ffffff") == pytest.approx(21)


@pytest.fixture
def themed_window(qtbot, tmp_path):
    """A window in an app that follows the colour scheme; the app's look is given back afterwards."""
    app = QApplication.instance()
    saved = (app.palette(), app.styleSheet(), pg.getConfigOption("background"), pg.getConfigOption("foreground"))
    theme = Theme(app)
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    theme.restyle_plots()
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    yield window, theme
    theme.setParent(None)
    theme.deleteLater()
    app.setPalette(saved[0])
    app.setStyleSheet(saved[1])
    pg.setConfigOptions(background=saved[2], foreground=saved[3])


def test_the_window_and_its_plots_follow_the_system_scheme_live(themed_window, tmp_path):
    window, theme = themed_window
    for system, scheme in ((Qt.ColorScheme.Dark, DARK), (Qt.ColorScheme.Light, LIGHT)):
        QApplication.instance().styleHints().colorSchemeChanged.emit(system)  # as the platform does when the user switches
        assert theme.scheme is scheme
        label = window.settings_panel.layers.findChild(type(window.settings_panel.error_label))  # "Layer 1"
        shown = label.palette().color(label.foregroundRole()).name()
        assert contrast(shown, scheme.panel) >= 4.5, (label.text(), shown)
        plot = window.curves.loss_widget
        assert plot.backgroundBrush().color().name() == scheme.panel
        axis = plot.getPlotItem().getAxis("left")
        assert contrast(axis.textPen().color().name(), scheme.panel) >= 4.5
        window.grab().save(str(tmp_path / f"window-{scheme.name}.png"))
