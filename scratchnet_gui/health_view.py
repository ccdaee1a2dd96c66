"""The Health tab: what happens inside each layer while the network learns, and what to do when it goes wrong.

Six plots follow the health signals of the run in progress (``session.health``, measured by the trainer on the
batch at hand every few batches; see ``scratchnet.health``), one line per layer, and the same signals of the
recorded runs overlaid on the Training plots (``session.runs``), dashed. Beside them, the hints the signals give
(``scratchnet.hints``) as cards: what is seen, with its number, the likely cause, and buttons that apply the fix
to the settings, or apply it and start again. Below the hints, "One change at a time" trains the steps from the
notebook's recipe to the default preset's through the session (``session.comparison``) and tables what each gained.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scratchnet.compare_steps import BUDGET_EPOCHS, StepResult, steps_plan
from scratchnet.health import HealthHistory
from scratchnet.hints import Hint
from scratchnet.trainer import EpochEvent

from .on_screen import RefreshWhenShown
from .run_curves import RunCurves
from .status_bar import html
from .visuals import without_export_menu

if TYPE_CHECKING:
    from .session import Session

REDRAW_MS = 250  # the plots follow the run at most 4 times a second: its signals change every few batches
# One colour per layer, from Okabe and Ito's palette (distinct for the common colour-vision deficiencies); a deeper
# network cycles through them again with dotted lines.
LAYER_COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9"]
OVERLAY_MIX = 0.55  # an overlaid run's lines: their layer's colour this far towards the plot's background
HEALTHY_UPDATE = -3.0  # log10 update / weight: the usual healthy scale, drawn as a reference line
# The plots: key, title, y-axis label, logarithmic y.
PLOTS = [
    ("mean", "Activation mean", "mean of a"),
    ("spread", "Activation spread", "std of a"),
    ("inactive", "Dead or saturated share", "share"),
    ("grad_norm", "Gradient norm (log10)", "log10 ‖∇W‖"),
    ("update_ratio", "Update / weight (log10)", "log10 ‖ΔW‖/‖W‖"),
    ("gap", "Train − validation accuracy", "points"),
]
TITLE_SIZE = "9pt"
LEGEND_OVERLAYS = 5  # overlaid runs named in the legend; the others are counted
NO_RUN = "Train to see what happens inside each layer: its activations, gradients and steps, measured as it learns."
HEALTHY = "No hint: every signal is in its usual range."


class HintCard(QFrame):
    """One hint: what is seen (with its number), the likely cause, and the fix as two buttons."""

    def __init__(self, hint: Hint, apply, start_again, parent: QWidget | None = None):
        super().__init__(parent)
        self.hint = hint
        self.setObjectName("hintCard")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        seen = QLabel(f"<b>{html(hint.seen)}.</b>")
        cause = QLabel(f"Likely cause: {html(hint.cause)}")
        for label in (seen, cause):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(label)
        buttons = QHBoxLayout()
        self.setWhatsThis(f"<b>{html(hint.seen)}.</b><p>{html(hint.cause)}</p><p>The fix changes {html(', '.join(hint.fix))}.</p>")
        self.apply_button = QPushButton(f"Fix: {hint.fix_label}")
        self.apply_button.setToolTip("Put these settings in the settings panel, for the next run")
        self.again_button = QPushButton("Fix and start again")
        self.again_button.setToolTip("Put these settings in the settings panel and train them from fresh weights (stopping this run)")
        self.apply_button.clicked.connect(lambda: apply(hint))
        self.again_button.clicked.connect(lambda: start_again(hint))
        buttons.addWidget(self.apply_button, 1)
        buttons.addWidget(self.again_button)
        layout.addLayout(buttons)


class HealthView(QWidget):
    """The Health tab; ``follow(session)`` connects it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: Session | None = None
        self._overlays: list[tuple[str, HealthHistory, RunCurves]] = []
        self._items: dict[str, list[pg.PlotDataItem]] = {key: [] for key, *_ in PLOTS}
        self._build()
        self._refresher = RefreshWhenShown(self, self._draw)
        self._timer = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._timer.timeout.connect(self._refresher.request)

    def _build(self) -> None:
        self.legend = QLabel()
        self.legend.setObjectName("hint")
        self.legend.setWordWrap(True)  # a deep network, or many overlaid runs, never widens the window
        self.plots = without_export_menu(pg.GraphicsLayoutWidget())
        self.plots.setMinimumHeight(260)
        self.plot_items: dict[str, pg.PlotItem] = {}
        for index, (key, _, unit) in enumerate(PLOTS):
            plot = self.plots.addPlot(row=index // 3, col=index % 3)
            plot.setLabel("left", unit)
            plot.setLabel("bottom", "epoch")
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setMenuEnabled(False)
            self.plot_items[key] = plot
        self.plot_items["update_ratio"].addLine(y=HEALTHY_UPDATE, pen=pg.mkPen("#888888", style=Qt.PenStyle.DashLine))
        self.plot_items["inactive"].setYRange(0, 1)
        plots = QWidget()
        plots_layout = QVBoxLayout(plots)
        plots_layout.setContentsMargins(6, 4, 6, 0)
        plots_layout.addWidget(self.legend)
        plots_layout.addWidget(self.plots, 1)
        self._show_titles()
        self.plots.setWhatsThis(whats_this(HealthHistory(10)))

        self.summary = QLabel(NO_RUN)
        self.summary.setWhatsThis(
            "The loss of the first batch, before any step, against ln(classes): an untrained network should be unsure, near ln(classes)."
        )
        self.summary.setWordWrap(True)
        self.cards = QVBoxLayout()
        self.cards.setSpacing(6)
        hints = QWidget()
        hints_layout = QVBoxLayout(hints)
        hints_layout.addWidget(self.summary)
        hints_layout.addLayout(self.cards)
        hints_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(hints)

        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(scroll)
        bottom.addWidget(self._build_comparison())
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(plots)
        split.addWidget(bottom)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    def _build_comparison(self) -> QGroupBox:
        box = QGroupBox("One change at a time")
        layout = QVBoxLayout(box)
        about = QLabel("From the notebook's recipe to the default preset, one change per run, each for the same epochs.")
        about.setWordWrap(True)
        about.setObjectName("hint")
        row = QHBoxLayout()
        self.budget = QSpinBox(minimum=1, maximum=100, value=BUDGET_EPOCHS, suffix=" epochs each")
        self.budget.setToolTip("The epochs every step trains for: the same budget for each, so that the steps compare fairly")
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Train every step one after the other; each is recorded and overlaid on the one before")
        self.compare_button.clicked.connect(self._compare_or_cancel)
        box.setWhatsThis(
            "<b>One change at a time</b><p>Trains the notebook's recipe, then changes one thing per run (initialisation, "
            "activation, batch size, optimiser, schedule, shifts) until it is the default preset, each for the same epochs, "
            "and tables each step's test accuracy and what it gained over the step before.</p>"
        )
        row.addWidget(self.budget)
        row.addWidget(self.compare_button)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["step", "test", "gain"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(about)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        self._show_plan(steps_plan(BUDGET_EPOCHS), [])
        return box

    # ---- following the session ----------------------------------------------------------------------

    def follow(self, session: Session) -> None:
        """Plot ``session``'s run health and its overlaid runs'; show its hints; run its comparison."""
        self.session = session
        session.health.changed.connect(self._later)
        session.health.hints_changed.connect(self._show_hints)
        session.runs.overlays_changed.connect(self._set_overlays)
        session.state_changed.connect(lambda _: self._update_button())
        session.dataset_changed.connect(lambda _: self._update_button())
        comparison = session.comparison
        comparison.step_started.connect(lambda *_: self._show_plan(comparison.steps, comparison.results))
        comparison.step_done.connect(lambda *_: self._show_plan(comparison.steps, comparison.results))
        comparison.finished.connect(lambda _: self._update_button())
        comparison.cancelled.connect(self._update_button)
        self._update_button()

    def changeEvent(self, event: QEvent) -> None:
        """A new theme: the overlaid runs' lines mix with the new background."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "plot_items"):
            self._show_titles()
            self._later()

    def _show_titles(self) -> None:
        """The plots' titles in the theme's text colour (pyqtgraph's restyling leaves titles as they were made)."""
        colour = self.palette().color(self.foregroundRole()).name()
        for key, title, _ in PLOTS:
            self.plot_items[key].setTitle(title, size=TITLE_SIZE, color=colour)

    def _later(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _set_overlays(self, curves: list[RunCurves]) -> None:
        """Read the health recorded with each overlaid run (a run recorded before it was kept has none)."""
        runs = self.session.runs
        overlays = []
        for run_id, run_curves in zip(runs.overlaid, curves):
            health = runs.health(run_id)
            if health is not None:
                overlays.append((f"#{run_id}", health, run_curves))
        self._overlays = overlays
        self._later()

    # ---- the plots ------------------------------------------------------------------------------------

    def _draw(self) -> None:
        """Draw the current run's signals, then the overlaid runs' (lighter, dashed)."""
        health = self.session.health if self.session is not None else None
        lines = []  # (plot key, layer, x, y, overlaid)
        if health is not None:
            lines += [(key, layer, x + health.offset, y, False) for key, layer, x, y in _lines(health.history, _epoch_gaps(health.epochs))]
        for _, history, curves in self._overlays:
            lines += [(key, layer, x, y, True) for key, layer, x, y in _lines(history, _curve_gaps(curves))]
        background = self.palette().color(self.backgroundRole())
        for key, plot in self.plot_items.items():
            mine = [line for line in lines if line[0] == key]
            items = self._items[key]
            while len(items) < len(mine):
                items.append(plot.plot(antialias=True))
            for item, (_, layer, x, y, overlaid) in zip(items, mine):
                item.setData(x, y, connect="finite")
                item.setPen(_pen(layer, overlaid, background))
                item.setZValue(-1 if overlaid else 1)
            for item in items[len(mine) :]:
                item.setData([], [])
        self._show_legend(health.history if health is not None else None)
        self._show_summary()
        self.plots.setWhatsThis(whats_this(health.history if health is not None else HealthHistory(10)))

    def _show_legend(self, history: HealthHistory | None) -> None:
        layers = max([history.layers("grad_norm") if history else 0, *(h.layers("grad_norm") for _, h, _ in self._overlays)])
        names = [f"hidden {layer + 1}" for layer in range(layers - 1)] + (["output"] if layers else [])
        swatches = "  ".join(f"<span style='color:{_colour(layer)}'>■</span> {name}" for layer, name in enumerate(names))
        labels = [label for label, *_ in self._overlays]
        overlaid = ", ".join(labels[:LEGEND_OVERLAYS]) + (
            f" and {len(labels) - LEGEND_OVERLAYS} more" if len(labels) > LEGEND_OVERLAYS else ""
        )
        self.legend.setText(
            swatches + (f"   (solid: this run; dashed: overlaid run{'s' * (len(self._overlays) > 1)} {overlaid})" if overlaid else "")
        )

    # ---- hints ----------------------------------------------------------------------------------------

    def _show_hints(self, hints: list[Hint]) -> None:
        while self.cards.count():
            card = self.cards.takeAt(0).widget()
            card.deleteLater()
        health = self.session.health
        for hint in hints:
            self.cards.addWidget(HintCard(hint, health.apply_fix, health.start_again))
        self._show_summary()

    def _show_summary(self) -> None:
        if self.session is None:
            return
        health = self.session.health
        loss = health.history.initial_loss
        if health.config is None or loss is None:
            self.summary.setText(NO_RUN)
            return
        classes = health.history.classes
        start = f"Loss at initialisation: {loss:.2f} (ln {classes} = {math.log(classes):.2f}, a uniform guess's). "
        self.summary.setText(start + ("" if health.hints else HEALTHY))

    # ---- one change at a time ----------------------------------------------------------------------

    def _compare_or_cancel(self) -> None:
        comparison = self.session.comparison
        if comparison.running:
            comparison.cancel()
        elif comparison.start(self.budget.value()):
            self._show_plan(comparison.steps, comparison.results)
        self._update_button()

    def _update_button(self) -> None:
        if self.session is None:
            return
        running = self.session.comparison.running
        self.compare_button.setText("Cancel" if running else "Compare")
        idle = not self.session.state.active and self.session.dataset is not None
        self.compare_button.setEnabled(running or idle)
        self.budget.setEnabled(not running)

    def _show_plan(self, steps, results: list[StepResult]) -> None:
        """One row per step: its name (its change as a tooltip), and once trained its test accuracy and gain."""
        self.table.setRowCount(len(steps))
        before = None
        for row, step in enumerate(steps):
            result = results[row] if row < len(results) else None
            accuracy = result.test_accuracy if result is not None else None
            gain = "" if accuracy is None or before is None else f"{100 * (accuracy - before):+.1f}"
            cells = [step.name, "" if accuracy is None else f"{accuracy:.1%}", gain]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{step.name}: {step.change}\n{step.config.describe()}")
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
            before = accuracy if accuracy is not None else before


def whats_this(history: HealthHistory) -> str:
    """What the plots show, with the latest value of each signal per layer and what it means now (What's This?)."""
    if not history.samples:
        return f"<b>Health signals</b><p>{NO_RUN}</p>"
    sample = history.samples[-1]

    def values(name: str, spec: str) -> str:
        shown = [f"layer {layer + 1}: {'–' if value is None else format(value, spec)}" for layer, value in enumerate(getattr(sample, name))]
        return ", ".join(shown)

    rows = [
        (
            "Activation mean / spread",
            f"{values('mean', '.2f')} / {values('spread', '.2f')}",
            "a spread near 0 means the layer passes no signal",
        ),
        ("Dead units", values("dead", ".0%"), "ReLU units active for no image of the batch: no gradient reaches them"),
        ("Saturated outputs", values("saturated", ".0%"), "tanh/sigmoid outputs on the flat tails, where the derivative is almost 0"),
        ("Gradient norm", values("grad_norm", ".3g"), "the size of each layer's gradient, before clipping"),
        ("log10 update / weight", values("update_ratio", ".1f"), "about −3 is healthy; above −1 the steps throw the weights about"),
    ]
    items = "".join(f"<li><b>{title}</b> now {html(now)}: {meaning}.</li>" for title, now, meaning in rows)
    return f"<b>Health signals</b> at epoch {history.at[-1]:.2f}, measured on the batch at hand:<ul>{items}</ul>"


def _lines(history: HealthHistory, gaps: tuple[np.ndarray, np.ndarray]) -> list[tuple[str, int, np.ndarray, np.ndarray]]:
    """(plot key, layer, x, y) of every line a run draws: one per layer and signal, and the accuracy gap."""
    lines = []
    for key in ("mean", "spread", "update_ratio"):
        lines += [(key, layer, *history.series(key, layer)) for layer in range(history.layers(key))]
    with np.errstate(divide="ignore"):  # a zero gradient (a dead layer's) is -inf: no point drawn
        lines += [
            ("grad_norm", layer, x, np.log10(y))
            for layer in range(history.layers("grad_norm"))
            for x, y in [history.series("grad_norm", layer)]
        ]
    for signal in ("dead", "saturated"):
        lines += [("inactive", layer, *history.series(signal, layer)) for layer in range(history.layers(signal))]
    lines.append(("gap", 0, *gaps))
    return [line for line in lines if len(line[2])]


def _epoch_gaps(epochs: list[EpochEvent]) -> tuple[np.ndarray, np.ndarray]:
    """Per epoch, training accuracy minus validation accuracy, in points."""
    scored = [(event.epoch, 100 * (event.train_accuracy - event.val_accuracy)) for event in epochs if event.val_accuracy is not None]
    x, y = zip(*scored) if scored else ((), ())
    return np.array(x, float), np.array(y, float)


def _curve_gaps(curves: RunCurves) -> tuple[np.ndarray, np.ndarray]:
    """The same gap from a recorded run's curves (the epochs with a validation score)."""
    train = dict(zip(curves.train_accuracy.x, curves.train_accuracy.y))
    points = [(x, 100 * (train[x] - y)) for x, y in zip(curves.val_accuracy.x, curves.val_accuracy.y) if x in train]
    x, y = zip(*points) if points else ((), ())
    return np.array(x, float), np.array(y, float)


def _colour(layer: int) -> str:
    return LAYER_COLOURS[layer % len(LAYER_COLOURS)]


def _pen(layer: int, overlaid: bool, background: QColor):
    colour = QColor(_colour(layer))
    style = Qt.PenStyle.DotLine if layer >= len(LAYER_COLOURS) else Qt.PenStyle.SolidLine
    if overlaid:
        mix = OVERLAY_MIX
        colour = QColor(*(round(c + mix * (b - c)) for c, b in zip(colour.getRgb()[:3], background.getRgb()[:3])))
        style = Qt.PenStyle.DashLine
    return pg.mkPen(colour, width=1.5 if overlaid else 2, style=style)
