"""The "Maps" tab: where a fixed sample of test images lies in each layer of the network, epoch after epoch.

One map per layer (pixels, hidden 1, …, output) in a grid that fits the tab (and scrolls beyond about six
layers), an epoch slider with Play, and beside them each layer's separation score (its silhouette) over the
epochs and, per class, the epoch it separated. Everything shown is the session's ``maps`` (``scratchnet.inspect
.maps``: made on the training thread, projections included); this view only draws them, with one
``ScatterPlotItem`` of arrays per layer. It follows a run live (while the slider is at the last frame, it moves
with each new frame) and replays a recorded run's maps (Runs tab ▸ Maps).

Points are coloured by class with colour-blind-safe colours (Okabe and Ito's) and, as colours alone cannot keep
ten classes apart for every eye, shaped by class too. Hovering a point shows its image, label and prediction and
rings the same image in every map; clicking it opens it in the pad.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scratchnet.data import to_inputs
from scratchnet.inspect.maps import SEPARATED, RunMaps

from .on_screen import RefreshWhenShown
from .visuals import ImageView, ink_image, plain_axes, without_export_menu

if TYPE_CHECKING:
    from .session import Session

# Okabe and Ito's colours (black left out: it would vanish in the dark theme), ordered so that the classes that
# share a shape (k and k + 5) get colours far apart for every eye.
CLASS_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999", "#F0E442"]
CLASS_SYMBOLS = ["o", "s", "t", "d", "star"]
MIN_CELL = 140  # pixels: a map smaller than this makes the grid scroll instead
POINT_SIZE = 5
HOVER_PIXELS = 8  # a point this close to the pointer is the one hovered
PLAY_MS = 150  # between two frames while playing
LEGEND_CLASSES = 30  # class names listed in the legend; more are summed up
SIDE_WIDTH = 290
NO_MAPS = "No maps yet: start a run to watch each layer sort the images, or replay a recorded run's (Runs tab ▸ Maps)."


def class_style(k: int) -> tuple[str, str]:
    """The colour and shape of class ``k``'s points."""
    return CLASS_COLOURS[k % len(CLASS_COLOURS)], CLASS_SYMBOLS[k % len(CLASS_SYMBOLS)]


def epoch_text(epoch: float) -> str:
    return f"{epoch:.2f}".rstrip("0").rstrip(".")


class MapsView(QWidget):
    """The session's representation maps: a grid of maps, an epoch slider with Play, the separation scores."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: Session | None = None
        self.maps: RunMaps | None = None
        self.frame = 0
        self.hovered: int | None = None  # the sample image under the pointer
        self._shown_frames = 0  # frames of self.maps drawn into the slider and the score plot
        self._plots: list[pg.PlotWidget] = []
        self._scatters: list[pg.ScatterPlotItem] = []
        self._rings: list[pg.ScatterPlotItem] = []
        self._styles: tuple[np.ndarray, np.ndarray] | None = None  # each point's brush and symbol
        self._columns = 0
        self._dataset_matches = False
        self._play_timer = QTimer(self, interval=PLAY_MS)
        self._play_timer.timeout.connect(self._next_frame)
        self._when_shown = RefreshWhenShown(self, self.redraw)
        self._build()
        self.redraw()

    def follow(self, session: Session) -> None:
        """Show ``session``'s maps; clicking a point opens its image in the pad."""
        self.session = session
        session.maps_changed.connect(self.set_maps)
        session.dataset_changed.connect(lambda _: self._check_dataset())
        self.set_maps(session.maps)

    def set_maps(self, maps: RunMaps | None) -> None:
        """Show ``maps`` (the same maps with more frames: a live run; then, if the slider was at the last frame, the
        new last one)."""
        following = maps is not None and maps is self.maps and self.frame >= self._shown_frames - 1
        if maps is not self.maps:
            self.maps, self.frame, self.hovered = maps, 0, None
            self._shown_frames = 0
            self._play_timer.stop()
            self._rebuild_plots()
            self._check_dataset()
        if maps is not None and following:
            self.frame = len(maps.frames) - 1
        self._when_shown.request()

    # ---- building -----------------------------------------------------------------------------------

    def _build(self) -> None:
        self.play_button = QPushButton("▶ Play", toolTip="Play the frames from the first (Space while the slider has focus pauses)")
        self.play_button.setCheckable(True)
        self.play_button.toggled.connect(self._play)
        self.slider = QSlider(Qt.Orientation.Horizontal, toolTip="The frame shown: the maps after that many epochs of training")
        self.slider.valueChanged.connect(self.show_frame)
        self.frame_label = QLabel()
        self.source_label = QLabel(wordWrap=True)
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.frame_label)

        self.placeholder = QLabel(NO_MAPS, wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.grid_widget = QWidget()
        self.grid = QGridLayout(self.grid_widget)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(4)
        self.scroll = QScrollArea(widgetResizable=True)
        self.scroll.setWidget(self.grid_widget)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.legend = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        maps_column = QWidget()
        maps_layout = QVBoxLayout(maps_column)
        maps_layout.setContentsMargins(0, 0, 0, 0)
        maps_layout.addWidget(self.placeholder)
        maps_layout.addWidget(self.scroll, 1)
        maps_layout.addWidget(self.legend)

        self.scores = plain_axes(without_export_menu(pg.PlotWidget()))
        self.scores.setMinimumHeight(170)
        self.scores.setMouseEnabled(x=False, y=False)
        self.scores.hideButtons()
        self.scores.setLabel("left", "silhouette")
        self.scores.setLabel("bottom", "epoch")
        self.scores.showGrid(x=True, y=True, alpha=0.25)
        self.scores.setToolTip(
            "How well each layer keeps the classes apart: the mean silhouette of its full activations (1: each image "
            "far nearer its own class than any other; 0: between classes)."
        )
        self.score_legend = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.now_line = pg.InfiniteLine(angle=90, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine))
        self.scores.addItem(self.now_line)
        self.hover_image = ImageView("Hover over a point to see its image", minimum=84)
        self.hover_image.setFixedHeight(96)
        self.hover_text = QLabel(wordWrap=True)
        self.separation_title = QLabel(f"Epoch each class separated (its silhouette stayed ≥ {SEPARATED:g}):", wordWrap=True)
        self.separation = QTableWidget()
        self.separation.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.separation.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.separation.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        side = QWidget()
        side.setMaximumWidth(SIDE_WIDTH + 60)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(self.score_legend)
        side_layout.addWidget(self.scores, 2)
        side_layout.addWidget(self.hover_image)
        side_layout.addWidget(self.hover_text)
        side_layout.addWidget(self.separation_title)
        side_layout.addWidget(self.separation, 3)

        splitter = QSplitter()
        splitter.addWidget(maps_column)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 1)
        splitter.setSizes([3000, SIDE_WIDTH])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(controls)
        layout.addWidget(self.source_label)
        layout.addWidget(splitter, 1)

    def _rebuild_plots(self) -> None:
        """One map per layer of the maps shown, the scores' curves, the legend and the separation table's shape."""
        for plot in self._plots:
            self.grid.removeWidget(plot)
            plot.deleteLater()
        self._plots, self._scatters, self._rings, self._columns = [], [], [], 0
        for item in [item for item in self.scores.listDataItems()]:
            self.scores.removeItem(item)
        maps = self.maps
        if maps is None:
            self._styles = None
            return
        sample = maps.sample
        brushes = [pg.mkBrush(class_style(k)[0]) for k in range(len(sample.class_names))]
        self._styles = (np.array(brushes, dtype=object)[sample.labels], np.array([class_style(k)[1] for k in sample.labels], dtype=object))
        for k, name in enumerate(sample.layer_names):
            plot = without_export_menu(pg.PlotWidget(title=name))
            plot.setMinimumSize(MIN_CELL, MIN_CELL)
            plot.setAspectLocked(True)
            plot.hideAxis("left")
            plot.hideAxis("bottom")
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            scatter = pg.ScatterPlotItem(size=POINT_SIZE, pen=None)
            ring = pg.ScatterPlotItem(size=POINT_SIZE * 3, brush=None, symbol="o")
            plot.addItem(scatter)
            plot.addItem(ring)
            plot.scene().sigMouseMoved.connect(lambda position, layer=k: self._hover(layer, position))
            plot.scene().sigMouseClicked.connect(lambda event, layer=k: self._click(layer, event))
            self._plots.append(plot)
            self._scatters.append(scatter)
            self._rings.append(ring)
        colours = pg.colormap.get("viridis")  # ordered and colour-blind-safe: darker is nearer the pixels
        legend = []
        for k, name in enumerate(sample.layer_names):
            colour = colours.map(0.9 * k / max(len(sample.layer_names) - 1, 1), mode="qcolor")
            self.scores.plot([], [], pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=4, symbolBrush=colour, symbolPen=None)
            legend.append(f'<span style="color:{colour.name()}">━━</span>&nbsp;{_escaped(name).replace(" ", "&nbsp;")}')
        self.score_legend.setText("Separation of each layer: " + "&nbsp;&nbsp; ".join(legend))
        self.separation.setColumnCount(len(sample.layer_names))
        self.separation.setHorizontalHeaderLabels(sample.layer_names)
        self.separation.setRowCount(len(sample.class_names))
        self.separation.setVerticalHeaderLabels(sample.class_names)
        self.legend.setText(self._legend_html())
        self._lay_out_grid()

    def _legend_html(self) -> str:
        names = self.maps.sample.class_names
        marks = {"o": "●", "s": "■", "t": "▼", "d": "◆", "star": "★"}
        entries = []
        for k, name in enumerate(names[:LEGEND_CLASSES]):
            colour, symbol = class_style(k)
            entries.append(f'<span style="color:{colour}">{marks[symbol]}</span>&nbsp;{_escaped(name)}')
        more = f" … and {len(names) - LEGEND_CLASSES} more classes" if len(names) > LEGEND_CLASSES else ""
        return "&nbsp;&nbsp; ".join(entries) + more

    def changeEvent(self, event) -> None:
        """A new theme: titles and rings in its text colour."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.maps is not None:
            self.show_frame(self.frame)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._lay_out_grid()

    def _lay_out_grid(self) -> None:
        """As many columns as make the maps largest while all fit; when even that makes them smaller than
        ``MIN_CELL``, as many as fit across, and the grid scrolls down."""
        count = len(self._plots)
        if not count:
            return
        width, height = self.scroll.viewport().width(), max(self.scroll.viewport().height(), 1)
        cell = {columns: min(width / columns, height / math.ceil(count / columns)) for columns in range(1, count + 1)}
        columns = max(cell, key=cell.get)
        if cell[columns] < MIN_CELL:
            columns = max(1, min(count, width // MIN_CELL))
        if columns != self._columns:
            self._columns = columns
            for k, plot in enumerate(self._plots):
                self.grid.addWidget(plot, k // columns, k % columns)

    # ---- drawing ------------------------------------------------------------------------------------

    def redraw(self) -> None:
        """Draw the maps shown: the slider's range, the scores over the frames, the separation table, the frame."""
        maps = self.maps
        has_frames = maps is not None and bool(maps.frames)
        self.placeholder.setVisible(not has_frames)
        self.scroll.setVisible(has_frames)
        self.legend.setVisible(has_frames)
        for widget in (self.play_button, self.slider):
            widget.setEnabled(has_frames)
        if not has_frames:
            self.frame_label.setText("")
            self.source_label.setText("")
            return
        count = len(maps.frames)
        if count != self._shown_frames:
            self._shown_frames = count
            self._draw_scores()
        self.slider.blockSignals(True)
        self.slider.setRange(0, count - 1)
        self.slider.setValue(min(self.frame, count - 1))
        self.slider.blockSignals(False)
        self.show_frame(min(self.frame, count - 1))

    def show_frame(self, frame: int) -> None:
        """Draw frame ``frame`` of the maps shown in every layer's map."""
        maps = self.maps
        if maps is None or not 0 <= frame < len(maps.frames):
            return
        self.frame = frame
        shown = maps.frames[frame]
        brushes, symbols = self._styles
        for scatter, points in zip(self._scatters, shown.points):
            scatter.setData(x=points[:, 0], y=points[:, 1], brush=brushes, symbol=symbols)
        epochs = f"epoch {epoch_text(shown.epoch)}"
        self.frame_label.setText(f"{epochs} · frame {frame + 1} of {len(maps.frames)}")
        self.now_line.setValue(shown.epoch)
        whose = f"run {maps.run_id}" if maps.run_id is not None else "the run in progress"
        accuracy = float((shown.predictions == maps.sample.labels).mean())
        self.source_label.setText(
            f"The maps of {whose}: {len(maps.sample):,} test images, each layer's activations on their two principal axes; "
            f"{100 * accuracy:.1f} % of them read right at {epochs}."
        )
        text = self.palette().color(QPalette.ColorRole.Text).name()
        for plot, name, score in zip(self._plots, maps.sample.layer_names, shown.scores):
            plot.setTitle(f"{name} · silhouette {score:.2f}", size="9pt", color=text)
        self._draw_ring()

    def _draw_scores(self) -> None:
        maps = self.maps
        epochs, scores = maps.epochs(), maps.scores()
        for curve, layer_scores in zip(self.scores.listDataItems(), scores.T):
            curve.setData(epochs, layer_scores)
        separated = maps.separation_epochs()  # (layers, classes)
        for k in range(separated.shape[1]):
            for layer, epoch in enumerate(separated[:, k]):
                text = "–" if math.isnan(epoch) else epoch_text(epoch)
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setToolTip("not separated (yet)" if math.isnan(epoch) else f"separated from epoch {text} on")
                self.separation.setItem(k, layer, item)

    # ---- playing ------------------------------------------------------------------------------------

    def _play(self, playing: bool) -> None:
        self.play_button.setText("⏸ Pause" if playing else "▶ Play")
        if playing:
            if self.maps is not None and self.frame >= len(self.maps.frames) - 1:
                self.slider.setValue(0)
            self._play_timer.start()
        else:
            self._play_timer.stop()

    def _next_frame(self) -> None:
        if self.maps is None or self.frame >= len(self.maps.frames) - 1:
            self.play_button.setChecked(False)
            return
        self.slider.setValue(self.frame + 1)

    # ---- hovering and clicking ----------------------------------------------------------------------

    def point_at(self, layer: int, position: QPointF) -> int | None:
        """The sample image whose point in map ``layer`` lies within ``HOVER_PIXELS`` of the scene ``position``."""
        if self.maps is None or not self.maps.frames:
            return None
        view = self._plots[layer].getViewBox()
        if not view.sceneBoundingRect().contains(position):
            return None
        at = view.mapSceneToView(position)
        pixel_width, pixel_height = view.viewPixelSize()
        points = self.maps.frames[self.frame].points[layer]
        distances = ((points[:, 0] - at.x()) / pixel_width) ** 2 + ((points[:, 1] - at.y()) / pixel_height) ** 2
        nearest = int(np.argmin(distances))
        return nearest if distances[nearest] <= HOVER_PIXELS**2 else None

    def _hover(self, layer: int, position: QPointF) -> None:
        self.hovered = self.point_at(layer, position)
        self._draw_ring()
        self._describe_hovered()

    def _click(self, layer: int, event) -> None:
        index = self.point_at(layer, event.scenePos())
        if index is None or self.session is None:
            return
        if self._dataset_matches:
            self.session.open_test_image(int(self.maps.sample.indices[index]))
        else:
            self.session.say("This image is of another test set than the one loaded: it cannot be opened.", 5000)

    def _draw_ring(self) -> None:
        """Ring the hovered image in every map: where the same image lies in each layer."""
        pen = pg.mkPen(self.palette().color(QPalette.ColorRole.Text), width=2)
        for ring, points in zip(self._rings, self.maps.frames[self.frame].points if self.maps and self.maps.frames else []):
            ring.setData(pos=points[[self.hovered]] if self.hovered is not None else np.empty((0, 2)), pen=pen)

    def _describe_hovered(self) -> None:
        if self.hovered is None or self.maps is None:
            return
        sample, shown = self.maps.sample, self.maps.frames[self.frame]
        index, label, predicted = int(sample.indices[self.hovered]), int(sample.labels[self.hovered]), int(shown.predictions[self.hovered])
        image = None
        if self._dataset_matches:
            pixels = self.session.dataset.test_images[index]
            image = ink_image(to_inputs(pixels[None]).reshape(pixels.shape))
        self.hover_image.set_image(image)
        verdict = "right" if label == predicted else "wrong"
        self.hover_text.setText(
            f"Test image #{index}: a {sample.class_names[label]}, read as {sample.class_names[predicted]} ({verdict}) at epoch "
            f"{epoch_text(shown.epoch)}." + (" Click to open it in the pad." if self._dataset_matches else " (Of another test set.)")
        )

    def _check_dataset(self) -> None:
        """Whether the loaded test set is the one the maps' images are of (their images can then be shown)."""
        dataset = self.session.dataset if self.session is not None else None
        sample = self.maps.sample if self.maps is not None else None
        self._dataset_matches = (
            dataset is not None
            and sample is not None
            and int(sample.indices.max()) < len(dataset.test_images)
            and (sample.fingerprint is None or sample.fingerprint == dataset.test_fingerprint)
        )


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
