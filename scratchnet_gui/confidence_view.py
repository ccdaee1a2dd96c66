"""The Confidence tab: when should the network say "I don't know", and are its confidences honest?

- The threshold (the session's: ``session.confidence_threshold``): answers less sure than it say "not sure", here,
  on the drawing pad and in the test browser. Beside it: "answers N % of the test images, M % of those right".
- The risk-coverage curve: for every threshold at once, the share of test images answered against the accuracy
  of those answers; a dot marks the chosen threshold.
- The reliability diagram: the test answers binned by confidence, each bin's accuracy against its confidence (on
  the diagonal when calibrated), before and after temperature scaling fitted on the validation split, with the
  expected calibration error (ECE) of each.
- How often random scribbles and nearly blank pads (``scratchnet.scribbles``) fall below the threshold.

The figures come from the core (``scratchnet.calibration``, ``scratchnet.scribbles``) and the session's test-set
answers; the calibration fit and the scribbles are computed off the window's thread (``background.py``).

Public API: ``follow(session)``; ``calibration`` and ``scribble_confidence``
hold the last figures computed.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from scratchnet.calibration import Calibration, answered_at, calibrate, risk_coverage
from scratchnet.data import Dataset
from scratchnet.model import Model
from scratchnet.preprocess import choose_preparation
from scratchnet.scribbles import FAMILIES, scribble_inputs

from .background import LatestWork
from .on_screen import RefreshWhenShown, TellWhenShown
from .session import Session
from .visuals import ACCENT, plain_axes

SCRIBBLES = 400  # random drawings, as many of each family
# Okabe and Ito's blue and orange: apart for every common colour-vision deficiency (tests/test_colour_vision.py).
BEFORE, AFTER = QColor(0, 114, 178), QColor(230, 159, 0)


class ConfidenceView(QWidget):
    """The threshold, the risk-coverage curve, the reliability diagram before and after temperature scaling, and how
    scribbles fare."""

    computed = Signal()  # new calibration and scribble figures

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: Session | None = None
        self.dataset: Dataset | None = None
        self.model: Model | None = None
        self.calibration: Calibration | None = None
        self.scribble_confidence: np.ndarray | None = None  # (SCRIBBLES,) the model's confidence on each
        self.scribble_families: np.ndarray | None = None
        self._scribbles: tuple[Dataset, np.ndarray, np.ndarray] | None = None  # the dataset they were prepared for
        self._work = LatestWork(self)
        self._work.done.connect(self._computed)
        self._work.failed.connect(lambda problem: self.calibration_text.setText(f"The calibration failed: {problem}"))
        self._when_shown = RefreshWhenShown(self, self._compute)
        self._build()

    def follow(self, session: Session) -> None:
        self.session = session
        session.dataset_changed.connect(self._dataset_changed)
        session.model_changed.connect(self._model_changed)
        session.test_predictions.changed.connect(self._draw)
        session.confidence_threshold_changed.connect(self._threshold_changed)
        TellWhenShown(self, session.test_predictions.set_watched)  # the test answers are computed while it is on screen
        self._threshold_changed(session.confidence_threshold)

    @property
    def busy(self) -> bool:
        return self._work.busy

    def _dataset_changed(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._forget()

    def _model_changed(self, model: Model | None) -> None:
        self.model = model
        self._forget()

    def _forget(self) -> None:
        self.calibration = self.scribble_confidence = None
        self._work.cancel()
        self._draw()
        self._when_shown.request()

    # ---- computing ---------------------------------------------------------------------------------------

    def _compute(self) -> None:
        """Fit the temperature and read the scribbles for the current model, in the background."""
        model, dataset = self.model, self.dataset
        if model is None or dataset is None or self.calibration is not None:
            return
        scribbles = self._scribbles if self._scribbles is not None and self._scribbles[0] is dataset else None
        self.calibration_text.setText("Fitting the temperature on the validation images…")

        def work(stop, report):
            model.check_compatible(dataset.image_shape, dataset.class_names)
            calibration = calibrate(model, dataset)
            drawn = scribbles or (dataset, *scribble_inputs(SCRIBBLES, dataset.image_shape, choose_preparation(dataset.train_images)))
            return calibration, drawn, model.predict_proba(drawn[1]).max(axis=1)

        self._work.submit(work)

    def _computed(self, value: tuple) -> None:
        self.calibration, self._scribbles, self.scribble_confidence = value
        self.scribble_families = self._scribbles[2]
        self._draw()
        self.computed.emit()

    # ---- the threshold ------------------------------------------------------------------------------------

    def _threshold_changed(self, threshold: float) -> None:
        with QSignalBlocker(self.spin), QSignalBlocker(self.slider):
            self.spin.setValue(100 * threshold)
            self.slider.setValue(round(1000 * threshold))
        self._draw()

    def _set_threshold(self, percent: float) -> None:
        if self.session is not None:
            self.session.set_confidence_threshold(percent / 100)

    @property
    def threshold(self) -> float:
        return self.session.confidence_threshold if self.session is not None else self.spin.value() / 100

    # ---- layout and drawing ----------------------------------------------------------------------------------

    def _build(self) -> None:
        self.slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=1000)
        self.slider.setToolTip("Answers less sure than this say \u201cnot sure\u201d, here, on the drawing pad and in the test browser")
        self.spin = QDoubleSpinBox(minimum=0.0, maximum=100.0, decimals=1, singleStep=1.0, suffix=" %")
        self.spin.setToolTip(self.slider.toolTip())
        self.slider.valueChanged.connect(lambda value: self._set_threshold(value / 10))
        self.spin.valueChanged.connect(self._set_threshold)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Say \u201cnot sure\u201d below"))
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.spin)
        self.answered_text = QLabel()
        self.answered_text.setWordWrap(True)
        font = self.answered_text.font()
        font.setBold(True)
        self.answered_text.setFont(font)

        self.coverage_plot = plain_axes(pg.PlotWidget())
        self.coverage_plot.setLabel("bottom", "test images answered", units="%")
        self.coverage_plot.setLabel("left", "accuracy of the answers", units="%")
        self.reliability_plot = plain_axes(pg.PlotWidget())
        self.reliability_plot.setLabel("bottom", "confidence", units="%")
        self.reliability_plot.setLabel("left", "accuracy", units="%")
        self.reliability_legend = self.reliability_plot.addLegend(offset=(10, 10))
        for plot in (self.coverage_plot, self.reliability_plot):
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setMinimumSize(200, 200)
        self.reliability_plot.setRange(xRange=(0, 100), yRange=(0, 100), padding=0.02)
        plots = QGridLayout()
        for column, (title, plot) in enumerate(
            (
                ("Risk–coverage: a higher threshold answers fewer images, more of them right", self.coverage_plot),
                ("Reliability: accuracy against confidence, before and after temperature scaling", self.reliability_plot),
            )
        ):
            heading = QLabel(title)
            heading.setWordWrap(True)
            plots.addWidget(heading, 0, column)
            plots.addWidget(plot, 1, column)
            plots.setColumnStretch(column, 1)
        self.calibration_text = QLabel()
        self.calibration_text.setWordWrap(True)
        self.scribbles_text = QLabel()
        self.scribbles_text.setWordWrap(True)
        hint = QLabel(
            "Temperature scaling divides the network's last-layer sums by one number T fitted on held-out images: "
            "the answers stay the same, the confidences become more honest (T > 1 tempers overconfidence). "
            "The threshold applies to the network's own confidence, as the pad and the browser show it."
        )
        hint.setWordWrap(True)
        hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.answered_text)
        layout.addLayout(plots, 1)
        layout.addWidget(self.calibration_text)
        layout.addWidget(self.scribbles_text)
        layout.addWidget(hint)
        self._draw()

    def _draw(self) -> None:
        self._draw_coverage()
        self._draw_reliability()
        self._draw_scribbles()

    def _draw_coverage(self) -> None:
        plot, threshold = self.coverage_plot, self.threshold
        plot.clear()
        answers = self.session.test_predictions.predictions if self.session is not None else None
        if answers is None or not len(answers.labels):
            self.answered_text.setText("No test-set answers yet: train a model or open one.")
            return
        coverage, accuracy, _ = risk_coverage(answers.confidence, answers.correct)
        plot.plot(100 * coverage, 100 * accuracy, pen=pg.mkPen(ACCENT, width=2))
        chosen = answered_at(answers.confidence, answers.correct, threshold)
        if chosen.accuracy is not None:
            plot.plot([100 * chosen.coverage], [100 * chosen.accuracy], pen=None, symbol="o", symbolSize=10, symbolBrush=AFTER)
        low = min(float(accuracy.min()), chosen.accuracy or 1.0)
        plot.setRange(xRange=(0, 100), yRange=(100 * low - 1, 100.5), padding=0)
        self.answered_text.setText(chosen.sentence(threshold))

    def _draw_reliability(self) -> None:
        plot, calibration = self.reliability_plot, self.calibration
        plot.clear()
        self.reliability_legend.clear()
        plot.plot([0, 100], [0, 100], pen=pg.mkPen(QColor(128, 128, 128), width=1, style=Qt.PenStyle.DashLine), name="calibrated")
        if calibration is None:
            if self.model is not None:
                self.calibration_text.setText("Fitting the temperature on the validation images…")
            else:
                self.calibration_text.setText("")
            return
        width = 100 / len(calibration.before.counts)
        for reliability, color, shift, name in (
            (calibration.before, BEFORE, -width / 4, f"as trained: ECE {100 * calibration.before.ece:.2f} %"),
            (calibration.after, AFTER, width / 4, f"T = {calibration.temperature:.2f}: ECE {100 * calibration.after.ece:.2f} %"),
        ):
            filled = reliability.counts > 0
            centres = 100 * (reliability.edges[:-1] + reliability.edges[1:]) / 2
            bars = pg.BarGraphItem(
                x=centres[filled] + shift, height=100 * reliability.accuracy[filled], width=width / 2, brush=color, pen=None, name=name
            )
            plot.addItem(bars)
        self.calibration_text.setText(calibration.sentence())

    def _draw_scribbles(self) -> None:
        if self.scribble_confidence is None:
            self.scribbles_text.setText("")
            return
        unsure = self.scribble_confidence < self.threshold
        families = ", ".join(f"{family} {100 * unsure[self.scribble_families == k].mean():.0f} %" for k, family in enumerate(FAMILIES))
        self.scribbles_text.setText(
            f"Random marks that are no digit: {100 * unsure.mean():.0f} % of {len(unsure)} fall below the threshold "
            f"and get \u201cnot sure\u201d ({families})."
        )
