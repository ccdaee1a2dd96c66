"""Inside the network: first-layer weights as images, weight histograms, hidden activations for an input.

Each unit of the first hidden layer computes a weighted sum of the 784 pixels; drawn as a 28×28 image
(red = positive weight, blue = negative, white = 0, as the colour key under the tiles says), its weights
show the pattern the unit responds to. At initialisation they are noise; within an epoch strokes and
blobs appear. Wide layers are shown a page of tiles at a time. Below: one histogram of weights per layer
(pyqtgraph), and the activations of every hidden layer for the drawing on the pad.

Public API of ``NetworkView``: slots ``set_model(model)`` (redrawn at most every ``REDRAW_MS``, and only while
the view is on screen: a hidden view draws the latest model when it is shown) and ``show_input(x)`` (an input
image, e.g. from ``DrawPad.input_changed``, or None). A click on a weight tile or on a cell of the hidden layers
(or the arrow keys and Enter) opens that unit in the Unit tab, through ``session.open_unit``.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget

from scratchnet.inspect.edits import UnitRef
from scratchnet.model import Model

from .on_screen import RefreshWhenShown
from .visuals import (
    NO_MODEL,
    ActivationsView,
    ColorKey,
    ImageView,
    TileGrid,
    diverging_colors,
    figure,
    grid_image,
    ink_image,
    rgb_image,
    signed_key_colors,
    without_export_menu,
)

if TYPE_CHECKING:
    from .session import Session

TILES_PER_PAGE = 64
REDRAW_MS = 500  # redraw weights at most twice a second, however often new models arrive
HISTOGRAM_BINS = 60
TILE_GAP = 2  # pixels of grey between the weight tiles


def weight_histogram(weights: np.ndarray, bins: int = HISTOGRAM_BINS) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges (bins + 1,) and counts (bins,) of the finite ``weights``, in float64.

    ``np.histogram`` cannot split a range wider than the float type holds ("Too many bins"), as weights near
    ±1e38 in float32 or ±1e308 in float64 have: the values are binned divided by their largest magnitude, then
    the edges scaled back. NaN and infinities are left out; with no finite value at all there are no bins.
    """
    finite = weights[np.isfinite(weights)].astype(np.float64)
    if finite.size == 0:
        return np.zeros(1), np.zeros(0, np.int64)
    scale = float(np.abs(finite).max()) or 1.0
    counts, edges = np.histogram(finite / scale, bins=bins)
    return edges * scale, counts


class NetworkView(QWidget):
    """First-layer weight tiles (paged), a weight histogram per layer and the hidden activations. A click on a
    tile or on a cell of the hidden layers (or Enter on the one the arrow keys chose) opens that unit:
    ``unit_chosen(UnitRef)``, which ``follow`` hands to ``session.open_unit``."""

    unit_chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model: Model | None = None
        self.page = 0
        self._input: np.ndarray | None = None
        self._histogram_sizes: list[int] = []
        self._curves: list[pg.PlotDataItem] = []
        self._redraw_timer = QTimer(self, singleShot=True, timeout=self.redraw)
        self._last_redraw = -math.inf  # time.monotonic() of the last redraw
        self._when_shown = RefreshWhenShown(self, self._schedule_redraw)
        self._build()
        self.redraw()

    # ---- public slots ---------------------------------------------------------------------------

    def set_model(self, model: Model | None) -> None:
        self.model = model
        self._when_shown.request()

    def follow(self, session: Session) -> None:
        """Show ``session``'s current model, and its activations for the session's current input."""
        session.model_changed.connect(self.set_model)
        self.unit_chosen.connect(session.open_unit)
        session.input_changed.connect(lambda network_input: self.show_input(network_input.pixels if network_input else None))

    def show_input(self, x: np.ndarray | None) -> None:
        """Show every hidden layer's activations for the input ``x`` (or clear them for None)."""
        self._input = x
        self.input_view.set_image(ink_image(x) if x is not None else None)
        self.activations.show_input(self.model, x)

    @property
    def pages(self) -> int:
        units = self.model.layer_sizes[1] if self.model is not None else 0
        return max(math.ceil(units / TILES_PER_PAGE), 1)

    def turn_page(self, step: int) -> None:
        self.page = int(np.clip(self.page + step, 0, self.pages - 1))
        self._draw_tiles()

    def previous_page(self) -> None:
        self.turn_page(-1)

    def next_page(self) -> None:
        self.turn_page(1)

    # ---- drawing --------------------------------------------------------------------------------

    def _schedule_redraw(self) -> None:
        """Redraw soon: at once, or ``REDRAW_MS`` after the last redraw when that was more recent."""
        if not self._redraw_timer.isActive():
            wait = self._last_redraw + REDRAW_MS / 1000 - time.monotonic()
            self._redraw_timer.start(max(round(1000 * wait), 0))

    def redraw(self) -> None:
        self._last_redraw = time.monotonic()
        self.page = min(self.page, self.pages - 1)
        self._draw_tiles()
        self._draw_histograms()
        self.activations.show_input(self.model, self._input)

    def _draw_tiles(self) -> None:
        model = self.model
        self.previous_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page < self.pages - 1)
        if model is None:
            self.tiles.set_tiles(None)
            self.page_label.setText("")
            return
        weights = model.params[0]["W"]  # (inputs, units): column j is unit j's pattern
        units = weights.shape[1]
        first, last = self.page * TILES_PER_PAGE, min((self.page + 1) * TILES_PER_PAGE, units)
        tiles = weights[:, first:last].T.reshape(last - first, *model.image_shape)
        limits = np.maximum(np.abs(tiles).max(axis=(1, 2), keepdims=True), 1e-12)  # each tile its own contrast
        columns = min(math.ceil(math.sqrt(last - first)), 8)
        image = rgb_image(grid_image(diverging_colors(tiles / limits, 1.0), columns, gap=TILE_GAP))
        self.tiles.set_tiles(image, last - first, columns, model.image_shape, TILE_GAP)
        self.page_label.setText(f"units {first + 1}–{last} of {units}")

    def tile_unit(self, tile: int) -> UnitRef:
        """The first-layer unit tile ``tile`` of this page shows."""
        return UnitRef(0, self.page * TILES_PER_PAGE + tile)

    def _describe_tile(self, tile: int) -> str:
        unit = self.tile_unit(tile)
        if self.model is None or not unit.exists_in(self.model.params):
            return ""
        weights = self.model.params[0]["W"][:, unit.unit]
        bias = float(self.model.params[0]["b"][unit.unit])
        return (
            f"{str(unit).capitalize()}: weights {figure(float(weights.min()), '+.3f')} to {figure(float(weights.max()), '+.3f')}, "
            f"bias {figure(bias, '+.3f')}\nFull red or blue: this unit's largest |weight|. Click (or Enter) to open it."
        )

    def _tile_activated(self, tile: int) -> None:
        self.unit_chosen.emit(self.tile_unit(tile))

    def _cell_activated(self, layer: int, unit: int) -> None:
        self.unit_chosen.emit(UnitRef(layer, unit))

    def _draw_histograms(self) -> None:
        """One histogram per layer; the plots are rebuilt only when the architecture changes."""
        sizes = self.model.layer_sizes if self.model is not None else []
        if sizes != self._histogram_sizes:
            self._histogram_sizes = sizes
            self.histograms.clear()
            self._curves = []
            for k in range(len(sizes) - 1):
                plot = self.histograms.addPlot(row=0, col=k, title=f"layer {k + 1}: {sizes[k]}→{sizes[k + 1]}")
                plot.setLabel("bottom", "weight")
                plot.getAxis("bottom").enableAutoSIPrefix(False)
                plot.hideAxis("left")
                plot.setMouseEnabled(x=False, y=False)
                plot.hideButtons()
                curve = plot.plot(stepMode="center", fillLevel=0, brush=(33, 113, 181, 150), pen=pg.mkPen((33, 113, 181), width=1))
                self._curves.append(curve)
        for curve, layer in zip(self._curves, self.model.params if self.model is not None else []):
            curve.setData(*weight_histogram(layer["W"]))
        self.histogram_hint.setVisible(not sizes)

    def _build(self) -> None:
        self.tiles = TileGrid(NO_MODEL, minimum=200)
        self.tiles.setToolTip(
            "Each tile is one first-layer unit's weights laid out as an image:\n"
            "red pixels push the unit up when inked, blue ones push it down. Click a tile to open its unit."
        )
        self.tiles.describe = self._describe_tile
        self.tiles.tile_activated.connect(self._tile_activated)
        self.previous_button, self.next_button = QPushButton("◀ Previous"), QPushButton("Next ▶")
        # Bound methods, not lambdas: PySide holds lambdas strongly, which would keep this widget alive.
        self.previous_button.clicked.connect(self.previous_page)
        self.next_button.clicked.connect(self.next_page)
        self.page_label = QLabel()
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        pager = QHBoxLayout()
        pager.addWidget(self.previous_button)
        pager.addWidget(self.page_label, 1)
        pager.addWidget(self.next_button)
        weights_box = QGroupBox("First-layer weights: what each unit looks for")
        weights_column = QVBoxLayout(weights_box)
        weights_column.addWidget(self.tiles, 1)
        key = ColorKey(signed_key_colors, ("negative", "0", "positive weight"))
        key.setToolTip("Each tile has its own scale: full red or blue is that unit's largest weight.")
        weights_column.addWidget(key)
        weights_column.addLayout(pager)

        self.input_view = ImageView("No drawing yet", minimum=112)
        self.input_view.setFixedHeight(140)
        self.activations = ActivationsView()
        self.activations.unit_activated.connect(self._cell_activated)
        activations_box = QGroupBox("Your drawing, layer by layer")
        activations_column = QVBoxLayout(activations_box)
        activations_column.addWidget(self.input_view)
        activations_column.addWidget(self.activations)
        activations_column.addStretch(1)
        top = QSplitter()
        top.addWidget(weights_box)
        top.addWidget(activations_box)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setSizes([3000, 2000])  # start 3 : 2 too (sizes are scaled to the space), not squeezed to a minimum

        self.histograms = without_export_menu(pg.GraphicsLayoutWidget())
        self.histograms.setBackground(None)
        self.histograms.setMinimumHeight(160)
        self.histogram_hint = QLabel("Weight histograms appear with a model.")
        histograms_box = QGroupBox("Weights of each layer (histogram)")
        histograms_column = QVBoxLayout(histograms_box)
        histograms_column.addWidget(self.histogram_hint)
        histograms_column.addWidget(self.histograms)

        layout = QVBoxLayout(self)
        layout.addWidget(top, 3)
        layout.addWidget(histograms_box, 1)
