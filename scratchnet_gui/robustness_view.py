"""The Robustness tab: how the current model reads test images damaged on purpose, and how recorded runs compare.

Pick a kind of damage (noise, rotation, stroke thickness, shift, blur, a covering patch) and a severity: a row of
test images shows that damage, each with the model's answer on it, and a plot shows the model's accuracy on all the
test images against the severity, with the runs overlaid in the Runs tab beside it. The sweep behind the plot
(``scratchnet.robustness.sweep``: every kind at six severities) runs off the window's thread (``background.py``),
while the tab is on screen, again for each new model; recorded runs are swept once each and kept.

Public API: ``follow(session)``,
``select(kind, severity)``; ``tables`` holds the sweeps so far: ``None`` (the current model) and run ids as keys.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QSlider, QVBoxLayout, QWidget
from threadpoolctl import threadpool_limits

from scratchnet.damage import DAMAGES
from scratchnet.data import Dataset
from scratchnet.errors import ModelFileError
from scratchnet.model import Model
from scratchnet.model_file import load_model
from scratchnet.robustness import RobustnessTable, damaged_inputs, sweep

from .background import LatestWork
from .on_screen import RefreshWhenShown
from .session import Session
from .visuals import ACCENT, CORRECT, WRONG, ImageView, accuracy_text, ink_image, overlay_color, plain_axes

PREVIEW_IMAGES = 8  # damaged test images shown, the first of each class (then the next ones)
SLIDER_STEPS = 100  # positions of the severity slider between the kind's mildest and most severe levels


def preview_rows(labels: np.ndarray, count: int = PREVIEW_IMAGES) -> np.ndarray:
    """Test-set indices of the preview: the first image of each class in turn, then the first others, ``count`` in all."""
    firsts = [int(np.flatnonzero(labels == label)[0]) for label in np.unique(labels)][:count]
    others = [i for i in range(len(labels)) if i not in firsts][: count - len(firsts)]
    return np.array(sorted(firsts + others), dtype=np.intp)


class RobustnessView(QWidget):
    """Kind and severity controls, the damaged preview with the model's answers, and accuracy against severity."""

    swept = Signal()  # a sweep (of the current model or of a recorded run) has new figures

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: Session | None = None
        self.dataset: Dataset | None = None
        self.model: Model | None = None
        self.tables: dict[int | None, RobustnessTable] = {}  # None: the current model; else a run id
        self.labels: dict[int, str] = {}  # the overlaid runs' labels
        self.problem = ""
        self._work = LatestWork(self)
        self._work.partial.connect(self._partial)
        self._work.done.connect(self._done)
        self._work.failed.connect(self._failed)
        self._when_shown = RefreshWhenShown(self, self._refresh)
        self._build()

    def follow(self, session: Session) -> None:
        """Sweep ``session``'s model on its test images, with its overlaid runs beside it."""
        self.session = session
        session.dataset_changed.connect(self.set_dataset)
        session.model_changed.connect(self.set_model)
        session.runs.overlays_changed.connect(lambda _: self._when_shown.request())

    @property
    def busy(self) -> bool:
        return self._work.busy

    def set_dataset(self, dataset: Dataset) -> None:
        self.dataset, self.tables = dataset, {}
        self._preview_rows = preview_rows(dataset.test_labels)
        self._show_kind()
        self._when_shown.request()

    def set_model(self, model: Model | None) -> None:
        self.model = model
        self.tables.pop(None, None)
        self._when_shown.request()  # the preview's answers and the sweep: once on screen

    def _refresh(self) -> None:
        self._show_preview()
        self._start_sweep()

    def select(self, kind: str, severity: float) -> None:
        """Show ``kind`` at (about) ``severity``: the slider's nearest position."""
        self.kind_combo.setCurrentIndex(list(DAMAGES).index(kind))
        low, high = self._range()
        self.slider.setValue(round((severity - low) / (high - low) * SLIDER_STEPS) if high > low else 0)

    @property
    def kind(self) -> str:
        return self.kind_combo.currentData()

    @property
    def severity(self) -> float:
        low, high = self._range()
        return low + (high - low) * self.slider.value() / SLIDER_STEPS

    def _range(self) -> tuple[float, float]:
        levels = DAMAGES[self.kind].levels(self.dataset.image_shape if self.dataset is not None else (28, 28))
        return min(levels), max(levels)

    # ---- the sweep, off the window's thread -------------------------------------------------------------

    def _start_sweep(self) -> None:
        """Sweep the current model, then each overlaid run not swept yet, in the background."""
        if self.session is None or self.dataset is None:
            return
        dataset, model, cores = self.dataset, self.model, 1
        runs = [(run_id, self.session.runs.run(run_id)) for run_id in self.session.runs.overlaid]
        self.labels = {run_id: f"#{run_id} {run.settings}" for run_id, run in runs if run is not None}
        wanted = [(run_id, run.model_path) for run_id, run in runs if run is not None and run.model_path and run_id not in self.tables]
        need_current = model is not None and None not in self.tables
        if not need_current and not wanted:
            self._draw()
            return
        self.status.setText("Damaging the test images and reading them…")

        # One BLAS thread: OpenBLAS's threads spin, and on two cores would leave the window none. While a run trains,
        # its trainer owns the BLAS thread count (and holds it to one on such machines, see blas_threads.py).
        threads = contextlib.nullcontext() if self.session.state.active else threadpool_limits(1, user_api="blas")

        def work(stop, report):
            with threads:
                return sweep_all(stop, report)

        def sweep_all(stop, report):
            seconds = None
            if need_current:
                model.check_compatible(dataset.image_shape, dataset.class_names)
                table = sweep(
                    model, dataset.test_images, dataset.test_labels, workers=cores, stop=stop, on_kind=lambda t, _: report((None, t))
                )
                seconds = table.seconds
            for run_id, path in wanted:
                try:
                    recorded = load_model(path)
                    recorded.check_compatible(dataset.image_shape, dataset.class_names)
                except ModelFileError as error:
                    report((run_id, str(error)))
                    continue
                table = sweep(recorded, dataset.test_images, dataset.test_labels, workers=cores, stop=stop)
                if not stop.is_set():
                    report((run_id, table))
            return seconds

        self._work.submit(work)

    def _partial(self, value: tuple[int | None, RobustnessTable | str]) -> None:
        key, table = value
        if isinstance(table, str):
            self.labels[key] = f"#{key}: {table}"
            return
        self.tables[key] = RobustnessTable(table.count, dict(table.severities), dict(table.accuracy), dict(table.confidence))
        self._draw()
        self.swept.emit()

    def _done(self, seconds: float | None) -> None:
        table = self.tables.get(None)
        seconds = f" (the current model's sweep took {seconds:.1f} s)" if seconds else ""
        count = table.count if table is not None else len(self.dataset.test_images)
        self.status.setText(f"Each point: all {count:,} test images damaged and read; six severities of six kinds{seconds}.")
        self._draw()

    def _failed(self, problem: str) -> None:
        self.status.setText(f"The sweep failed: {problem}")

    # ---- layout ---------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.kind_combo = QComboBox()
        for damage in DAMAGES.values():
            self.kind_combo.addItem(damage.label, damage.name)
            self.kind_combo.setItemData(self.kind_combo.count() - 1, damage.help, Qt.ItemDataRole.ToolTipRole)
        self.kind_combo.currentIndexChanged.connect(self._show_kind)
        self.slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=SLIDER_STEPS)
        self.slider.setToolTip("How severe the damage of the preview is; the plot marks it")
        self.slider.valueChanged.connect(self._severity_changed)
        self.severity_label = QLabel()
        self.severity_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("severity −0.55 px") + 8)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Damage"))
        controls.addWidget(self.kind_combo)
        controls.addWidget(QLabel("Severity"))
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.severity_label)
        self.help = QLabel()
        self.help.setWordWrap(True)
        self.help.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        self.previews: list[tuple[ImageView, QLabel]] = []
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        for column in range(PREVIEW_IMAGES):
            image, caption = ImageView("", minimum=56), QLabel()
            image.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            image.setFixedHeight(72)
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            grid.addWidget(image, 0, column)
            grid.addWidget(caption, 1, column)
            self.previews.append((image, caption))

        self.plot = plain_axes(pg.PlotWidget())
        self.plot.setMinimumHeight(220)
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.plot.setLabel("left", "test accuracy", units="%")
        self.plot.setYRange(0, 100)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.legend = self.plot.addLegend(offset=(-10, -10))
        self.marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(QColor(WRONG), width=1, style=Qt.PenStyle.DashLine))
        self.status = QLabel("The sweep runs when a model and the test images are ready.")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.help)
        layout.addLayout(grid)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.status)
        self._show_kind()

    def _show_kind(self) -> None:
        damage = DAMAGES[self.kind]
        self.help.setText(f"{damage.label}: {damage.help}. Severity in {damage.unit}.")
        self.plot.setLabel("bottom", f"{damage.label.lower()} ({damage.unit})")
        self.slider.setValue(SLIDER_STEPS // 2)
        self._severity_changed()
        self._draw()

    def _severity_changed(self) -> None:
        self.severity_label.setText(f"severity {DAMAGES[self.kind].severity_text(round(self.severity, 2))}")
        self.marker.setValue(self.severity)
        self._show_preview()

    def _show_preview(self) -> None:
        """The preview images damaged as the sweep damages them, with the current model's answer on each."""
        if self.dataset is None:
            return
        rows = self._preview_rows
        images = damaged_inputs(self.dataset.test_images[rows], self.kind, self.severity)
        answers = self.model.predict_proba(images.reshape(len(rows), -1)) if self._model_fits() else None
        for k, (view, caption) in enumerate(self.previews):
            if k >= len(rows):
                view.set_image(None)
                caption.setText("")
                continue
            view.set_image(ink_image(images[k]))
            if answers is None:
                caption.setText("")
                continue
            label, guess = int(self.dataset.test_labels[rows[k]]), int(answers[k].argmax())
            names = self.dataset.class_names
            right = guess == label
            caption.setText(f"{'✓' if right else '✗'} {names[guess]}")
            caption.setStyleSheet(f"color: {(CORRECT if right else WRONG).name()}")
            caption.setToolTip(f"labelled {names[label]}, read as {names[guess]} ({100 * answers[k].max():.1f} % sure)")

    def _model_fits(self) -> bool:
        model, dataset = self.model, self.dataset
        return model is not None and tuple(model.image_shape) == tuple(dataset.image_shape) and model.layer_sizes[-1] == dataset.num_classes

    def _draw(self) -> None:
        """Accuracy against severity of the chosen kind: the current model, and each overlaid run swept so far."""
        self.plot.clear()
        self.legend.clear()
        kind = self.kind
        curves = [(None, "current model", pg.mkPen(ACCENT, width=2.5), ACCENT)]
        if self.session is not None:
            for position, run_id in enumerate(self.session.runs.overlaid):
                color = overlay_color(position)
                curves.append((run_id, self.labels.get(run_id, f"#{run_id}"), pg.mkPen(color, width=1.5), color))
        for key, name, pen, color in curves:
            table = self.tables.get(key)
            if table is None or kind not in table.accuracy:
                continue
            x, y = np.array(table.severities[kind]), 100 * np.array(table.accuracy[kind])
            self.plot.plot(x, y, pen=pen, symbol="o", symbolSize=6, symbolBrush=color, symbolPen=None, name=name)
        self.plot.addItem(self.marker)
        low, high = self._range()
        self.plot.setXRange(low, high, padding=0.04)
        table = self.tables.get(None)
        if table is not None and kind in table.accuracy:
            self.plot.setTitle(f"{DAMAGES[kind].label}: {accuracy_text(table.accuracy[kind][-1])} at the most severe level")
        else:
            self.plot.setTitle("")
