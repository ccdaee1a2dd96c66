"""Live learning curves: loss per batch and per epoch, accuracy per epoch, recorded runs as overlays.

Data arrives in bursts (``add_batches``, ``add_epoch``) and is appended to growing NumPy buffers;
the plots are redrawn by a timer at ``REPAINT_HZ`` while a run is active, never once per batch, so
drawing costs the same whether the network trains 100 or 10 000 batches a second. The x axis is in
epochs, fractional during an epoch (2.5 = halfway through the third).

Drawing shares the Python interpreter (its GIL) with the training thread, so every millisecond
spent here is taken from learning. A frame is therefore kept cheap: during a run the x axis spans
the whole run from the start (a long run: 16 epochs, doubling when the curves reach the edge), the
loss axis moves only in round steps, shrinking only at the end of an epoch, and the accuracy axis
starts at a round floor (axes and legends are cached as pixmaps and redrawn only when they change),
the grid is drawn opaque (alpha blending is slow), the per-epoch curves are cached and only touched
when an epoch ends (one plot a frame), the raw batch losses (the costliest line: it zig-zags across
the plot) are cached and refreshed twice a second, and the timer runs at 10 Hz.

Nothing on the plots moves unless the user moves it or the data needs room: the axes show each run whole (the
loss from its first batch), and the legends stand beside the plots, never over the curves, as wide from the start
as a run's entries need.

The overlays are runs from the run store (the session's runs view says which, ``session.runs``), so
they outlive the session: each is drawn in its own colour with its smoothed loss and validation accuracy, all of
them as one cached item per plot (``OverlayLayer``), so that twenty cost a frame no more than one.

Memory stays bounded: the buffers hold the current run's curves (at most ``MAX_BATCH_POINTS`` of its batches) and
at most ``MAX_OVERLAYS`` recorded runs (as the store keeps them, thinned to ``OVERLAY_POINTS`` when drawn), and Qt's
pixmap cache, which holds the cached items, is limited to what the panel's size needs (``fit_pixmap_cache``).
"""

from __future__ import annotations

import bisect
import csv
import functools
import io
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QEvent, QIODevice, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen, QPixmapCache
from PySide6.QtWidgets import QCheckBox, QGraphicsItem, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from scratchnet.atomic import atomic_write
from scratchnet.nn.metrics import LossSmoother
from scratchnet.runs import thinned
from scratchnet.trainer import EpochEvent

from .run_curves import MAX_OVERLAYS, RunCurves
from .visuals import accuracy_text, overlay_color, without_export_menu

if TYPE_CHECKING:
    from .session import RunOutcome, Session

REPAINT_HZ = 10
MAX_BATCH_POINTS = 200_000  # the current run's batches kept, at most: then every other one goes (6 MB for its curves)
RAW_LOSS_HZ = 2  # the faint raw batch losses, the costliest curve to draw, are refreshed less often
FIRST_SPAN = 16  # epochs the x axis spans when a long run starts; it doubles whenever the run outgrows it
AXIS = QColor("#e4e7eb")  # axis lines and grid
AXIS_TEXT = QColor("#3a4652")
LADDER = sorted(m * 10.0**k for k in range(-6, 7) for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8))  # the loss axis snaps to these
ACCURACY_FLOORS = (0, 50, 80, 90, 95, 97, 98, 99)  # the accuracy axis (percent) starts at one of these and ends at 100
# Colours from Okabe and Ito's palette, which stays distinct for the common colour-vision deficiencies; train
# and validation also differ in line style and marker shape (``EPOCH_STYLES``), so no one has to tell them by hue.
RAW_LOSS = QColor(185, 208, 233)  # a pale blue, opaque: blending translucent lines is slow
SMOOTH_LOSS = QColor(0, 114, 178)
TRAIN = QColor(213, 94, 0)
VALIDATION = QColor(0, 158, 115)
TEST = QColor(170, 51, 119)  # a deep reddish purple
EPOCH_STYLES = {  # line style and marker of the per-epoch curves
    "train": (Qt.PenStyle.SolidLine, "o"),
    "validation": (Qt.PenStyle.DashLine, "s"),
}
OVERLAY_Z = -5  # recorded runs: above the raw batch-loss band, below this run's lines
OVERLAY_POINTS = 500  # each recorded run's loss curve is drawn with at most this many points: about one per 2 pixels
LEGEND_OVERLAYS = 5  # recorded runs named in the legend; more would not fit beside the plot, so the rest are counted
LEFT_AXIS_WIDTH = 64  # pixels: room for the axis label and ticks such as "0.0001"
LEGEND_POINTS = 9  # the legends' font size
LEGEND_LABEL_WIDTH = 230  # pixels: longer labels are elided (the legend takes this from the plots' width)
# Qt's pixmap cache (10 MB by default) must hold every cached item of the plots at once, each at most the size of its
# plot: together less than twice the panel's pixels, at 4 bytes a pixel (measured: with twenty overlays at 1800×1050,
# 10 MB + one panel's worth suffice). When it overflows, every cached item is redrawn from scratch at every frame
# (50 ms a frame in a maximised window). So the limit follows the panel's size (``fit_pixmap_cache``), with room
# for PIXMAPS_PER_PANEL panels (35 MB in a maximised window on a 1920×1080 screen, 110 MB on a 4K one): a fixed
# 256 MB let pixmaps of sizes the window no longer has pile up to that much after a while of resizing.
PIXMAPS_PER_PANEL = 3
DEFAULT_PIXMAP_CACHE_KB = 10 * 1024  # Qt's own limit: for the rest of the window
READOUT_HINT = "Hover over the plots to read the values."
WAITING = "Waiting for the data: use File ▸ Choose data folder…"


class OverlayLayer(pg.GraphicsObject):
    """Every recorded run of one plot drawn as a single item, so that the overlays cost one cached pixmap, however
    many there are: each frame of a run only blits it. (An item per run would need a pixmap each, the size of the
    plot; twenty of them overflow Qt's pixmap cache, and then every cached item, the overlays, the axes and the
    raw batch losses alike, is redrawn from scratch at every frame.) The curves are thinned to ``OVERLAY_POINTS``
    when set, so that redrawing the layer after the axes change (a few times a run) stays cheap too."""

    def __init__(self):
        super().__init__()
        self._curves: list[tuple[np.ndarray, np.ndarray, QPen]] = []
        self._paths: list[tuple[QPainterPath, QPen]] = []
        self._bounds = QRectF()
        self._log_y = False
        self.setZValue(OVERLAY_Z)
        _cache(self)

    def set_curves(self, curves: list[tuple[np.ndarray, np.ndarray, QPen]]) -> None:
        """Draw these (x, y, pen) curves instead of the ones drawn so far."""
        self._curves = [(*thinned(np.column_stack([x, y]), OVERLAY_POINTS).T, pen) for x, y, pen in curves]
        self._make_paths()

    def setLogMode(self, x: bool, y: bool) -> None:
        """Called by the plot when its axes change scale: a log axis draws log10 of the values."""
        self._log_y = y
        self._make_paths()

    def _make_paths(self) -> None:
        self.prepareGeometryChange()
        self._paths, self._bounds = [], QRectF()
        with np.errstate(divide="ignore", invalid="ignore"):
            for x, y, pen in self._curves:
                path = pg.arrayToQPath(x, np.log10(y) if self._log_y else y, connect="finite")
                self._paths.append((path, pen))
                self._bounds = self._bounds.united(path.boundingRect())
        self.update()

    def point_counts(self) -> list[int]:
        """How many points each curve is drawn with."""
        return [path.elementCount() for path, _ in self._paths]

    def data_rect(self) -> QRectF:
        """The rectangle the curves span, in the plot's coordinates (log10 of the values on a log axis)."""
        return QRectF(self._bounds)

    def boundingRect(self) -> QRectF:
        """The curves' data bounds and room for the pens' width (in pixels, whatever the zoom)."""
        pixel_x, pixel_y = self.pixelVectors()
        if pixel_x is None:
            return QRectF(self._bounds)
        pad_x, pad_y = 2 * pixel_x.length(), 2 * pixel_y.length()  # the widest pen is 2 px
        return self._bounds.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def viewTransformChanged(self) -> None:
        super().viewTransformChanged()
        self.prepareGeometryChange()  # the pixels' padding in boundingRect changed size

    def paint(self, painter: QPainter, *args) -> None:
        for path, pen in self._paths:
            painter.setPen(pen)
            painter.drawPath(path)


class CurvesPanel(QWidget):
    """The "Training" tab: loss and accuracy plots with a legend, a hover read-out and recorded-run overlays."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.current = RunCurves("")
        self._offset = 0.0  # epochs the weights had before this run: the x where its curves start
        self._run_end = 1.0  # the x where the current run will end if it runs all its epochs
        self._x_right = 1.0  # the right end of the x axis
        self._smoother: LossSmoother | None = None  # the current run's, made at its first batches
        self._batches_seen = 0  # the current run's batches so far; every ``_batch_stride``-th is kept
        self._batch_stride = 1
        self._overlays: list[RunCurves] = []  # the recorded runs drawn (by ``loss_overlays``, ``accuracy_overlays``)
        self._overlay_samples: list[pg.PlotDataItem] = []  # their legend entries' samples, never added to the plot
        self._overlay_entries: list[tuple[pg.PlotDataItem, str]] = []  # those samples and their labels
        self._batches_dirty = False
        self._stale_epoch_plots: list[Callable[[], None]] = []  # the plots whose per-epoch curves are out of date
        self._raw_pending = False  # batch losses not yet handed to the raw curve
        self._raw_drawn_at = -math.inf  # when they last were
        self._running = False
        self._loss_range: tuple[float, float] | None = None
        self._accuracy_floor: float | None = None
        self._timer = QTimer(self, interval=round(1000 / REPAINT_HZ), timerType=Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.repaint_curves)

        self.log_scale = QCheckBox("Log-scale loss")
        self.log_scale.setToolTip(
            "Plot the loss on a logarithmic axis. Loss falls fast at first and slowly later; a log scale shows\n"
            "both phases, and makes steady exponential progress look like a straight line."
        )
        self.log_scale.toggled.connect(self._set_log_scale)
        self.readout = QLabel(READOUT_HINT)
        self.readout.setObjectName("readout")
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        header = QHBoxLayout()
        header.addWidget(self.log_scale)
        header.addSpacing(12)
        header.addWidget(self.readout, 1)

        self.loss_widget = without_export_menu(pg.PlotWidget())
        self.accuracy_widget = without_export_menu(pg.PlotWidget())
        self.loss_plot = self.loss_widget.getPlotItem()
        self.accuracy_plot = self.accuracy_widget.getPlotItem()
        self._build_plots()
        self.placeholder = QLabel("", self.loss_widget)
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.loss_widget.installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(header)
        layout.addWidget(self.loss_widget, 3)
        layout.addWidget(self.accuracy_widget, 2)
        self.set_placeholder("Waiting for data…")

    def _build_plots(self) -> None:
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.showGrid(x=True, y=True, alpha=1.0)
            for side in ("left", "bottom"):
                plot.getAxis(side).setPen(AXIS)
                plot.getAxis(side).setTextPen(AXIS_TEXT)
                plot.getAxis(side).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # redrawn only when it changes
                plot.getAxis(side).enableAutoSIPrefix(False)
                plot.getAxis(side).setZValue(-1000)  # its grid lines go behind the curves and the legend
            plot.setLabel("bottom", "epoch")
            plot.getAxis("left").setWidth(LEFT_AXIS_WIDTH)  # new tick labels never shift the plot, and both plots align
            plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.loss_plot.setLabel("left", "loss (cross-entropy)")
        self.accuracy_plot.setLabel("left", "accuracy (%)")
        self.accuracy_plot.setXLink(self.loss_plot)
        self.accuracy_plot.setLimits(yMin=0, yMax=101, minYRange=1)  # percent; never a range of 1e-12 around one point
        self.loss_plot.disableAutoRange()  # the loss plot's ranges are set by begin_run and _fit_loss_range
        self.loss_plot.setRange(xRange=(0, 1), yRange=(0, 2.5), padding=0.01)
        self._fit_accuracy_range()
        self.raw_item = self.loss_plot.plot(pen=pg.mkPen(RAW_LOSS, width=1), name="batch loss")
        self.raw_item.setZValue(OVERLAY_Z - 1)
        self.raw_item.setDownsampling(auto=True, method="peak")
        self.raw_item.setClipToView(True)
        _cache(self.raw_item)  # the other curves' repaints reuse its pixmap
        self.loss_overlays, self.accuracy_overlays = OverlayLayer(), OverlayLayer()
        self.loss_plot.addItem(self.loss_overlays)
        self.accuracy_plot.addItem(self.accuracy_overlays)
        self.smooth_item = self.loss_plot.plot(pen=pg.mkPen(SMOOTH_LOSS, width=2), name="batch loss, smoothed")
        self.smooth_item.setDownsampling(auto=True, method="mean")
        self.smooth_item.setClipToView(True)
        self.train_loss_item = self._epoch_curve(self.loss_plot, "train", TRAIN, "train loss (epoch mean)")
        self.val_loss_item = self._epoch_curve(self.loss_plot, "validation", VALIDATION, "validation loss")
        self.train_acc_item = self._epoch_curve(self.accuracy_plot, "train", TRAIN, "train accuracy")
        self.val_acc_item = self._epoch_curve(self.accuracy_plot, "validation", VALIDATION, "validation accuracy")
        self.test_item = self.accuracy_plot.plot(
            pen=None, symbol="star", symbolSize=16, symbolBrush=TEST, symbolPen=pg.mkPen(TEST.darker(130)), name="test accuracy"
        )
        _style_legend_symbol(self.test_item, TEST, 12)
        self.test_text = pg.TextItem(color=TEST, anchor=(1.05, 1.1), fill=pg.mkBrush(255, 255, 255, 230))  # readable over curves
        self.accuracy_plot.addItem(self.test_text, ignoreBounds=True)  # its empty default at y = 0 must not stretch the axis
        self.divergence_item = self.loss_plot.plot(pen=None, symbol="x", symbolSize=14, symbolBrush=TEST, symbolPen=pg.mkPen(TEST))
        self.divergence_text = pg.TextItem(color=TEST, anchor=(1.05, 0.5))
        self.loss_plot.addItem(self.divergence_text, ignoreBounds=True)

        for plot in (self.loss_plot, self.accuracy_plot):
            plot.legend = _legend_beside(plot)  # after the curves: they join it when they have data (``_show_legends``)
        self._legend_width = self._full_legends_width()
        self._fit_legend_widths()

        cursor_pen = pg.mkPen(QColor(90, 90, 90, 110), width=1, style=Qt.PenStyle.DotLine)
        self.cursors = [pg.InfiniteLine(angle=90, pen=cursor_pen) for _ in range(2)]
        for plot, cursor in zip((self.loss_plot, self.accuracy_plot), self.cursors):
            cursor.setVisible(False)
            plot.addItem(cursor, ignoreBounds=True)
        self._mouse_proxies = [
            pg.SignalProxy(widget.scene().sigMouseMoved, rateLimit=30, slot=lambda args, p=plot: self._hover(p, args[0]))
            for widget, plot in ((self.loss_widget, self.loss_plot), (self.accuracy_widget, self.accuracy_plot))
        ]

    @staticmethod
    def _epoch_curve(plot: pg.PlotItem, split: str, color: QColor, name: str) -> pg.PlotDataItem:
        style, symbol = EPOCH_STYLES[split]
        item = plot.plot(
            pen=pg.mkPen(color, width=2, style=style),
            symbol=symbol,
            symbolSize=7,
            symbolBrush=color,
            symbolPen=None,
            name=name,
            antialias=True,
        )
        _style_legend_symbol(item, color, 7)
        _cache(item)  # it changes once an epoch: not redrawn every frame
        return item

    # ---- feeding data ---------------------------------------------------------------------------

    def follow(self, session: Session) -> None:
        """Draw ``session``'s runs as they train and how each ended; while it has no data, say what it waits for."""
        session.run_started.connect(self.begin_run)
        session.batches.connect(lambda chunk: self.add_batches(chunk.progress, chunk.loss, chunk.last.batches))
        session.epoch_done.connect(self.add_epoch)
        session.state_changed.connect(lambda state: self.set_running(state.active))
        session.run_finished.connect(self._show_outcome)
        session.started_over.connect(self.clear)
        session.runs.overlays_changed.connect(self.set_overlays)
        session.data_status.connect(lambda text: self.set_placeholder(f"Waiting for the data.\n{text}"))
        session.data_failed.connect(lambda _: self.set_placeholder(WAITING))
        session.data_cancelled.connect(lambda: self.set_placeholder(WAITING))
        session.dataset_changed.connect(lambda _: self.set_placeholder("Press Start to train the network." if self.current.empty else ""))

    def _show_outcome(self, outcome: RunOutcome) -> None:
        """Mark the test accuracy of the run's final weights (at the epochs behind them), and a divergence."""
        if outcome.test_accuracy is not None:
            self.set_test_accuracy(outcome.test_accuracy, outcome.model.epochs_trained)
        if outcome.status == "diverged":
            self.mark_divergence()

    def begin_run(self, label: str, from_epoch: float = 0.0, epochs: float = 1.0) -> None:
        """Start new curves for a run of ``epochs`` labelled ``label``, continuing weights trained for ``from_epoch``
        epochs (where its curves start on the x axis).

        The x axis spans the whole run (and the earlier runs) from the start, so that it stays still while it
        fills; a run of more than ``FIRST_SPAN`` epochs starts with that many and doubles the span as needed."""
        self.current = RunCurves(label)
        self._clear_readout()
        self._offset = from_epoch
        self._smoother = None
        self._batches_seen, self._batch_stride = 0, 1
        self._loss_range = None
        self._fit_accuracy_range()
        self.set_placeholder("")
        self._run_end = from_epoch + epochs
        self._set_x_right(from_epoch + min(epochs, FIRST_SPAN), force=True)
        self._batches_dirty = True
        self._mark_epochs_stale()
        self.repaint_curves()
        self._draw_markers()

    def add_batches(self, progress: np.ndarray, loss: np.ndarray, batches_per_epoch: int) -> None:
        """Append batch losses at ``progress`` (fractional epochs of this run) and their running average. Of a run
        longer than ``MAX_BATCH_POINTS`` batches, every 2nd (then 4th, …) is kept, so that memory stays bounded;
        the running average is taken over every batch."""
        x, loss = np.asarray(progress) + self._offset, np.asarray(loss)
        if self._smoother is None:
            self._smoother = LossSmoother(batches_per_epoch)
        smoothed = np.array([self._smoother.add(value) for value in loss])
        kept = (self._batches_seen + np.arange(len(loss))) % self._batch_stride == 0
        self._batches_seen += len(loss)
        self.current.batch_loss.extend(x[kept], loss[kept])
        self.current.smoothed_loss.extend(x[kept], smoothed[kept])
        if self.current.batch_loss.size > MAX_BATCH_POINTS:
            self.current.batch_loss.keep_every_other()
            self.current.smoothed_loss.keep_every_other()
            self._batch_stride *= 2
        self._batches_dirty = True

    def add_epoch(self, event: EpochEvent) -> None:
        """Append the per-epoch train and validation loss and accuracy."""
        x = np.array([event.epoch + self._offset])
        self.current.train_loss.extend(x, [event.train_loss])
        self.current.train_accuracy.extend(x, [event.train_accuracy])
        if event.val_loss is not None:
            self.current.val_loss.extend(x, [event.val_loss])
            self.current.val_accuracy.extend(x, [event.val_accuracy])
        self._mark_epochs_stale()

    def set_test_accuracy(self, accuracy: float, epoch: float) -> None:
        """Mark the final test-set accuracy of the run at x = ``epoch`` (epochs the weights have had)."""
        self.current.test_accuracy, self.current.test_epoch = accuracy, epoch
        self._fit_accuracy_range()
        self._draw_markers()

    def mark_divergence(self) -> None:
        """Mark where the current run diverged with a red ✕ half-way up the loss plot, just after its last
        batch on the plot (the batch whose loss exploded is never reported)."""
        if self.current.batch_loss.size:
            self.current.diverged_at = self.current.batch_loss.x[-1]
            self._draw_markers()

    def set_running(self, running: bool) -> None:
        """Repaint on the timer while a run is active; one last repaint when it ends."""
        self._running = running
        if running:
            self._timer.start()
        else:
            self._timer.stop()
            self.repaint_curves()
            self._fit_loss_range(shrink=True)
            if self.current.batch_loss.size:  # fit the axis to what the run did, however early it ended
                self._set_x_right(self.current.batch_loss.x[-1], force=True)

    def clear(self) -> None:
        """Forget the current run (the overlays are the session's runs view's to change)."""
        self.current = RunCurves("")
        self._clear_readout()
        self._batches_dirty = True
        self._mark_epochs_stale()
        self.repaint_curves()
        self._draw_markers()
        self.loss_plot.setRange(xRange=(0, 1), yRange=(0, 2.5), padding=0.01)
        self._x_right = 1.0
        self._fit_accuracy_range()

    def set_placeholder(self, text: str) -> None:
        """A message shown over the empty loss plot (e.g. what the window is waiting for); "" hides it."""
        self.placeholder.setText(text)
        self.placeholder.setVisible(bool(text))

    def set_overlays(self, runs: list[RunCurves]) -> None:
        """Draw these recorded runs (the first ``MAX_OVERLAYS``), each in its colour, instead of the overlays drawn
        so far: the smoothed loss, and the validation accuracy per epoch. The legend names the first
        ``LEGEND_OVERLAYS`` and counts the rest."""
        self._overlays = runs[:MAX_OVERLAYS]
        pens = [pg.mkPen(overlay_color(position), width=2) for position in range(len(self._overlays))]
        self.loss_overlays.set_curves([(run.smoothed_loss.x, run.smoothed_loss.y, pen) for run, pen in zip(self._overlays, pens)])
        self.accuracy_overlays.set_curves([(run.val_accuracy.x, 100 * run.val_accuracy.y, pen) for run, pen in zip(self._overlays, pens)])
        named = self._overlays[:LEGEND_OVERLAYS]
        self._overlay_samples = [pg.PlotDataItem(pen=pen) for pen in pens[: len(named)]]
        labels = [run.label for run in named]
        if len(self._overlays) > len(named):  # the last entry counts the rest, with no line of its own
            self._overlay_samples.append(pg.PlotDataItem(pen=None))
            labels.append(f"… and {len(self._overlays) - len(named)} more recorded runs")
        self._overlay_entries = list(zip(self._overlay_samples, labels))
        self._show_legends()
        self._set_x_right(self.current.batch_loss.x[-1] if self.current.batch_loss.size else 1.0, force=True)
        self._fit_loss_range(shrink=True)
        self._fit_accuracy_range()

    @property
    def overlay_labels(self) -> list[str]:
        return [run.label for run in self._overlays]

    @property
    def overlay_pens(self) -> list[QPen]:
        """The pen each overlaid run is drawn with (in ``overlay_labels``' order)."""
        return [sample.opts["pen"] for sample in self._overlay_samples]

    # ---- drawing --------------------------------------------------------------------------------

    def repaint_curves(self) -> None:
        """Hand the new data to the plot items (numpy views, no copies); called by the timer.

        Each costly change redraws a whole plot: the per-epoch curves of the loss plot, those of the accuracy plot,
        the raw batch losses. While a run is under way a frame makes one of them at most, so that the window's
        thread never stops for long (the others follow in the next frames, a tenth of a second apart)."""
        c = self.current
        if self._batches_dirty:
            self._batches_dirty, self._raw_pending = False, True
            self.smooth_item.setData(c.smoothed_loss.x, c.smoothed_loss.y)
            self._fit_loss_range(shrink=not self._running)
            self._grow_x_range()
        while self._stale_epoch_plots:
            self._stale_epoch_plots.pop(0)()
            if self._running:
                return
        now = time.monotonic()
        if self._raw_pending and (not self._running or now - self._raw_drawn_at >= 1 / RAW_LOSS_HZ):
            self._raw_pending, self._raw_drawn_at = False, now
            self.raw_item.setData(c.batch_loss.x, c.batch_loss.y)
        self._show_legends()

    def _mark_epochs_stale(self) -> None:
        """The per-epoch curves changed: redraw them in both plots (see ``repaint_curves``)."""
        self._stale_epoch_plots = [self._draw_epoch_losses, self._draw_epoch_accuracies]

    def _draw_epoch_losses(self) -> None:
        c = self.current
        self.train_loss_item.setData(c.train_loss.x, c.train_loss.y)
        self.val_loss_item.setData(c.val_loss.x, c.val_loss.y)
        self._fit_loss_range(shrink=True)

    def _draw_epoch_accuracies(self) -> None:
        c = self.current
        self.train_acc_item.setData(c.train_accuracy.x, 100 * c.train_accuracy.y)
        self.val_acc_item.setData(c.val_accuracy.x, 100 * c.val_accuracy.y)
        self._fit_accuracy_range()

    def _draw_markers(self) -> None:
        """The red ✕ where the run diverged and the test-accuracy star, when the run has them."""
        c = self.current
        if c.diverged_at is None:
            self.divergence_item.setData([], [])
            self.divergence_text.setText("")
        else:
            low, high = self.loss_plot.viewRange()[1]
            y = high - 0.45 * (high - low)  # below the legend, in view coordinates (log10 of the loss on a log axis)
            self.divergence_item.setData([c.diverged_at], [10**y if self.log_scale.isChecked() else y])
            self.divergence_text.setText("diverged")
            self.divergence_text.setPos(c.diverged_at, y)
        if c.test_accuracy is None:
            self.test_item.setData([], [])
            self.test_text.setText("")
        else:
            self.test_item.setData([c.test_epoch], [100 * c.test_accuracy])
            self.test_text.setText(f"test {accuracy_text(c.test_accuracy)}")
            self.test_text.setPos(c.test_epoch, 100 * c.test_accuracy)
            left, right = self.loss_plot.viewRange()[0]
            on_the_left = c.test_epoch > (left + right) / 2  # put the label where there is room for it
            self.test_text.setAnchor((1.05, 1.1) if on_the_left else (-0.05, 1.1))
        self._show_legends()

    def _show_legends(self) -> None:
        """List in each legend the curves its plot draws: this run's that have data so far (a run without a
        validation set has no validation curves), then the overlaid runs. A legend is redrawn only when its list
        changes. Both legends are as wide as the wider, so that the plots' epochs stay one above the other."""
        c = self.current
        loss = [(self.raw_item, c.batch_loss.size), (self.smooth_item, c.smoothed_loss.size)]
        loss += [(self.train_loss_item, c.train_loss.size), (self.val_loss_item, c.val_loss.size)]
        accuracy = [(self.train_acc_item, c.train_accuracy.size), (self.val_acc_item, c.val_accuracy.size)]
        accuracy += [(self.test_item, c.test_accuracy is not None)]
        changed = False
        for plot, entries in (
            (self.loss_plot, [(item, item.name()) for item, shown in loss if shown] + self._overlay_entries),
            (self.accuracy_plot, [(item, item.name()) for item, shown in accuracy if shown]),
        ):
            entries = [(item, _legend_label(name)) for item, name in entries]
            if [(sample.item, label.text) for sample, label in plot.legend.items] != entries:
                plot.legend.clear()
                for item, label in entries:
                    plot.legend.addItem(item, label)
                _cache(plot.legend)  # its new entries too
                changed = True
        if changed:
            self._fit_legend_widths()

    def _full_legends_width(self) -> float:
        """The width of the legends listing every curve of a run: kept from the start, so that a run's curves
        joining the legends never narrow the plots under the pointer (only overlaying a run may widen them)."""
        for plot, items in (
            (self.loss_plot, (self.raw_item, self.smooth_item, self.train_loss_item, self.val_loss_item)),
            (self.accuracy_plot, (self.train_acc_item, self.val_acc_item, self.test_item)),
        ):
            for item in items:
                plot.legend.addItem(item, item.name())
        width = max(_preferred_width(plot.legend) for plot in (self.loss_plot, self.accuracy_plot))
        for plot in (self.loss_plot, self.accuracy_plot):
            plot.legend.clear()
        return width

    def _fit_legend_widths(self) -> None:
        legends = (self.loss_plot.legend, self.accuracy_plot.legend)
        width = max(self._legend_width, *(_preferred_width(legend) for legend in legends))
        for legend in legends:
            legend.setMinimumWidth(width)
            legend.setMaximumWidth(width)

    def _grow_x_range(self) -> None:
        """Double the span of the x axis (up to the end of the run) when the curves reach its right end."""
        if not self.current.batch_loss.size or self.current.batch_loss.x[-1] <= self._x_right:
            return
        span = max(self._x_right - self._offset, 1.0)
        while self._offset + span < self.current.batch_loss.x[-1]:
            span *= 2
        self._set_x_right(min(self._offset + span, self._run_end))

    def _set_x_right(self, right: float, force: bool = False) -> None:
        """Span the x axis from 0 to ``right``, or further when earlier runs' curves reach beyond it; ``force``
        also undoes a zoom or pan of the user's (at the start and the end of a run)."""
        right = max([right, *(run.smoothed_loss.x[-1] for run in self._overlays if run.smoothed_loss.size)])
        if force or right != self._x_right:
            self._x_right = right
            self.loss_plot.setXRange(-0.01 * right, 1.03 * right, padding=0)  # room on the right for the test star

    def _fit_loss_range(self, shrink: bool) -> None:
        """Snap the loss axis to round steps (``LADDER``) around the smoothed and per-epoch losses of every run
        shown, so that it changes only now and then and shows each run whole: from its first batches (about 2.3
        for ten classes) to its last. (The log scale spreads out the small losses of the later epochs.)

        The axis grows at once but shrinks only when ``shrink`` (at the end of an epoch or of the run): each
        change redraws every curve, which costs the training thread time while it runs."""
        c = self.current
        log = self.log_scale.isChecked()
        values = np.concatenate([*(curves.smoothed_loss.y for curves in (c, *self._overlays)), c.train_loss.y, c.val_loss.y])
        values = values[np.isfinite(values) & (values > 0)]
        if not values.size:
            return
        high = LADDER[min(bisect.bisect_left(LADDER, values.max()), len(LADDER) - 1)]
        if log:
            low = LADDER[max(bisect.bisect_right(LADDER, values.min()) - 1, 0)]
            span = (math.log10(low), math.log10(high))
        else:
            span = (0.0, high)
        grows = self._loss_range is None or span[0] < self._loss_range[0] or span[1] > self._loss_range[1]
        if span != self._loss_range and (grows or shrink):
            self._loss_range = span
            self.loss_plot.setYRange(*span, padding=0.02)
            self._draw_markers()  # the ✕ sits at a height relative to the axis

    def _fit_accuracy_range(self) -> None:
        """Zoom in on the scores: the accuracy axis spans from the highest of ``ACCURACY_FLOORS`` below every score
        shown (0 while there is none) to 100 %. It changes only when a score falls below its floor: a change redraws
        the whole plot, which costs the training thread time while it runs (and the window its smoothness)."""
        c = self.current
        test = [c.test_accuracy] if c.test_accuracy is not None else []
        shown = [c.train_accuracy.y, c.val_accuracy.y, test, *(run.val_accuracy.y for run in self._overlays)]
        scores = 100 * np.concatenate(shown)
        lowest = scores[np.isfinite(scores)].min(initial=math.inf)
        # The highest floor below every score: 0 with no score yet, and with a score of 0 %.
        floor = max((floor for floor in ACCURACY_FLOORS if floor < lowest), default=0) if math.isfinite(lowest) else 0
        if floor != self._accuracy_floor:
            self._accuracy_floor = floor
            self.accuracy_plot.setYRange(floor, 100, padding=0.02)

    def _set_log_scale(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self.loss_plot.disableAutoRange()  # setLogMode turns pyqtgraph's own range fitting back on
        self._set_x_right(self._x_right, force=True)
        self._loss_range = None
        self._fit_loss_range(shrink=True)
        self._draw_markers()

    def _hover(self, plot: pg.PlotItem, position: QPointF) -> None:
        """Show the values under the mouse: the batch loss near x and the nearest epoch's scores. Only over the
        plot's data area (not its axes), and never before epoch 0 (the margin left of it)."""
        view = plot.getViewBox()
        if not view.sceneBoundingRect().contains(position):
            return
        x = max(view.mapSceneToView(position).x(), 0.0)
        for cursor in self.cursors:
            cursor.setPos(x)
            cursor.setVisible(True)
        self.readout.setText(self._describe(x))

    def _clear_readout(self) -> None:
        """Forget the values under the mouse: they belonged to the curves that were just replaced."""
        self.readout.setText(READOUT_HINT)
        for cursor in self.cursors:
            cursor.setVisible(False)

    def _describe(self, x: float) -> str:
        c = self.current
        parts = [f"<b>epoch {x:.2f}</b>"]
        if c.batch_loss.size:
            i = min(int(np.searchsorted(c.batch_loss.x, x)), c.batch_loss.size - 1)
            parts.append(f"batch loss {c.batch_loss.y[i]:.4f} (smoothed {c.smoothed_loss.y[i]:.4f})")
        if c.train_loss.size:
            i = int(np.abs(c.train_loss.x - x).argmin())
            epoch = f"after epoch {c.train_loss.x[i]:g}: train loss {c.train_loss.y[i]:.4f}, acc {accuracy_text(c.train_accuracy.y[i])}"
            j = np.flatnonzero(c.val_loss.x == c.train_loss.x[i])
            if len(j):
                epoch += f"; validation loss {c.val_loss.y[j[0]]:.4f}, acc {accuracy_text(c.val_accuracy.y[j[0]])}"
            parts.append(epoch)
        return " · ".join(parts)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_pixmap_cache()

    def fit_pixmap_cache(self) -> None:
        """Set Qt's pixmap cache (shared by the whole app) to hold the plots' cached items at the panel's size, and
        no more: see ``PIXMAPS_PER_PANEL``."""
        pixels = self.width() * self.height() * self.devicePixelRatioF() ** 2
        QPixmapCache.setCacheLimit(DEFAULT_PIXMAP_CACHE_KB + round(PIXMAPS_PER_PANEL * pixels * 4 / 1024))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.loss_widget and event.type() == QEvent.Type.Resize:
            self.placeholder.setGeometry(self.loss_widget.rect().adjusted(60, 20, -20, -40))
        return super().eventFilter(watched, event)

    # ---- export ---------------------------------------------------------------------------------

    def export_csv(self, path: str | Path) -> None:
        """Write every curve (this run and the overlaid ones) as tidy rows: run, label, series, epoch, value."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["run", "label", "series", "epoch", "value"])
        runs = self._overlays + ([self.current] if not self.current.empty else [])
        for number, run in enumerate(runs, start=1):
            for name, series in run.series().items():
                writer.writerows((number, run.label, name, f"{x:.6g}", f"{y:.8g}") for x, y in zip(series.x, series.y))
            if run.test_accuracy is not None:
                writer.writerow((number, run.label, "test_accuracy", f"{run.test_epoch:.6g}", f"{run.test_accuracy:.8g}"))
        atomic_write(path, out.getvalue().encode("utf-8"))

    def export_png(self, path: str | Path) -> None:
        """Save a picture of the plots as they are on screen."""
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.grab().save(buffer, "PNG")
        atomic_write(path, bytes(buffer.data()))


def _cache(item: QGraphicsItem) -> None:
    """Draw ``item`` and its children once into pixmaps, redrawn only when they change (Qt's item cache)."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    for child in item.childItems():
        _cache(child)


def _legend_beside(plot: pg.PlotItem) -> pg.LegendItem:
    """A legend in a column right of the plot's view box, at its top: beside the curves, never over them."""
    legend = pg.LegendItem(size=(1, 1), labelTextSize=f"{LEGEND_POINTS}pt", frame=False)  # (sized by the plot's layout)
    legend.mouseDragEvent = lambda event: event.ignore()  # it stays in its column
    legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
    plot.layout.addItem(legend, 2, 3)  # row 2 holds the left axis, the view box and the right axis
    plot.layout.setAlignment(legend, Qt.AlignmentFlag.AlignTop)
    return legend


def _preferred_width(legend: pg.LegendItem) -> float:
    return legend.layout.effectiveSizeHint(Qt.SizeHint.PreferredSize).width()


@functools.lru_cache(maxsize=256)  # asked at every frame, for the same few labels
def _legend_label(text: str) -> str:
    """``text`` elided to ``LEGEND_LABEL_WIDTH`` (a recorded run's label holds all its settings)."""
    font = QFont()
    font.setPointSizeF(LEGEND_POINTS)
    return QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, LEGEND_LABEL_WIDTH)


def _style_legend_symbol(item: pg.PlotDataItem, color: QColor, size: int) -> None:
    """Give the item's symbol its colours before it has data, so that the legend shows them from the start."""
    item.scatter.setBrush(color)
    item.scatter.setPen(None)
    item.scatter.setSize(size)
