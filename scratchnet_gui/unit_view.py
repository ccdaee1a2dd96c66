"""The Unit tab: one hidden unit of the current model, opened from a weight tile, a cell of the hidden layers or a
list, and explained with the real numbers.

For the unit the session has open (``session.selected_unit``) it shows, from ``session.units.study()`` (the core's
``scratchnet.inspect.units``, over the same ``forward`` that trains):

- its incoming weights (the first hidden layer's as an image, with a labelled colour key; a deeper layer's as its
  strongest incoming units, a click away) and its bias;
- for the current input, ``z = w·x + b`` as its largest terms and the rest, the activation, and the pixels those
  terms come from, highlighted;
- what it votes for: its weights to each class, or its strongest connections to the next layer;
- the 16 test images that drive it most and least (a click opens one as the current input), the histogram of its
  activation over the test set, and how often it is dead or saturated;
- which units of its layer matter: a ranking by the test accuracy lost when each is switched off, computed off
  the window's thread, whose rows open their unit;
- and the edits of the unit: switch it off, scale its incoming weights, shift its bias (``session.edit_network``).

``UnitView.follow(session)`` connects it. Red is positive and blue negative throughout, as on the weight tiles
(a scale that stays apart for the common colour-vision deficiencies, tests/test_colour_vision.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from scratchnet.inspect.edits import ScaleIncoming, ShiftBias, SwitchOff, UnitRef
from scratchnet.inspect.units import EXTREMES, Ablation, UnitReport, UnitStudy, WeightedSum

from .on_screen import RefreshWhenShown
from .visuals import (
    BLUE,
    RED,
    ColorKey,
    ImageView,
    accuracy_text,
    diverging_colors,
    figure,
    ink_image,
    rgb_image,
    signed_key_colors,
    without_export_menu,
)

if TYPE_CHECKING:
    from scratchnet.model import Model

    from .session import Session

THUMBNAIL = 32  # pixels of a test-image thumbnail
THUMBNAIL_COLUMNS = 8
SWITCH_OFF_AT_ONCE = 5  # units the ranking's "switch off the top" button switches off
NO_UNIT = (
    "No unit open. Click a weight tile or a cell of the hidden layers (Inside the network, Drawing pad), "
    "or choose a layer and a unit above."
)


def signed(value: float, spec: str = "+.3f") -> str:
    return figure(value, spec)


def terms_html(weighted: WeightedSum, unit: UnitRef, image_shape: tuple[int, int], activation: str) -> str:
    """``z = w·x + b`` written out: one row per shown term, the rest, the bias, z and a."""
    width = image_shape[1]
    rows = []
    for position, x, w, term in zip(weighted.positions, weighted.inputs, weighted.weights, weighted.terms):
        source = (
            f"pixel ({position // width + 1}, {position % width + 1})" if unit.layer == 0 else f"unit {position + 1} of layer {unit.layer}"
        )
        rows.append(f"<tr><td>{source}</td><td align=right>{figure(x, '.3f')} × {signed(w)}</td><td align=right>= {signed(term)}</td></tr>")
    rows.append(f"<tr><td colspan=2>the other {weighted.others} terms</td><td align=right>{signed(weighted.rest)}</td></tr>")
    rows.append(f"<tr><td colspan=2>bias b</td><td align=right>{signed(weighted.bias)}</td></tr>")
    rows.append(f"<tr><td colspan=2><b>z = w·x + b</b></td><td align=right><b>{signed(weighted.z)}</b></td></tr>")
    rows.append(f"<tr><td colspan=2><b>a = {activation}(z)</b></td><td align=right><b>{signed(weighted.a)}</b></td></tr>")
    return "<table cellspacing=0 cellpadding=1>" + "".join(rows) + "</table>"


def highlighted_input(pixels: np.ndarray, weighted: WeightedSum) -> np.ndarray:
    """RGB (H, W, 3): the input faded to grey, with the pixels of the shown terms in red (they raise z) or blue
    (they lower it), more strongly for a larger term."""
    base = np.repeat((255.0 - 110.0 * np.clip(np.nan_to_num(pixels), 0.0, 1.0))[..., None], 3, axis=-1)
    flat = base.reshape(-1, 3)
    largest = max(float(np.abs(weighted.terms).max()), 1e-12) if len(weighted.terms) else 1.0
    for position, term in zip(weighted.positions, weighted.terms):
        strength = 0.35 + 0.65 * min(abs(float(term)) / largest, 1.0)
        flat[position] = (1 - strength) * flat[position] + strength * (RED if term > 0 else BLUE)
    return base


class ThumbnailRow(QWidget):
    """A row of test-image thumbnails; a click on one emits ``opened(index)`` with its test-image index."""

    opened = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        self.buttons: list[QToolButton] = []
        self.indices: list[int] = []
        for k in range(EXTREMES):
            button = QToolButton()
            button.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
            button.setAutoRaise(True)
            button.clicked.connect(self._clicked)
            layout.addWidget(button, k // THUMBNAIL_COLUMNS, k % THUMBNAIL_COLUMNS)
            self.buttons.append(button)
        layout.setColumnStretch(THUMBNAIL_COLUMNS, 1)

    def show_images(self, indices: np.ndarray, images: np.ndarray, captions: list[str]) -> None:
        self.indices = [int(i) for i in indices]
        for k, button in enumerate(self.buttons):
            button.setVisible(k < len(self.indices))
            if k < len(self.indices):
                button.setIcon(QIcon(QPixmap.fromImage(ink_image(images[self.indices[k]]))))
                button.setToolTip(captions[k])

    def _clicked(self) -> None:
        self.opened.emit(self.indices[self.buttons.index(self.sender())])


class UnitView(QWidget):
    """One hidden unit explained and edited; see the module docstring."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: Session | None = None
        self.report: UnitReport | None = None
        self.ablation: Ablation | None = None
        self._ablation_model: Model | None = None
        self._study: UnitStudy | None = None
        self._refresh_timer = QTimer(self, singleShot=True, interval=0, timeout=self.refresh)
        self._when_shown = RefreshWhenShown(self, self._refresh_timer.start)
        self._build()
        self.refresh()

    # ---- following the session ------------------------------------------------------------------

    def follow(self, session: Session) -> None:
        """Explain ``session``'s open unit for its current model and input; edit through its commands."""
        self.session = session
        for signal in (
            session.unit_selected,
            session.model_changed,
            session.input_changed,
            session.dataset_changed,
            session.edits_changed,
            session.state_changed,
        ):
            signal.connect(self._changed)
        session.units.progress.connect(self._ranking_progress)
        session.units.ranked.connect(self._ranked)
        session.units.failed.connect(self._ranking_failed)
        self._changed()

    def _changed(self, *_) -> None:
        self._when_shown.request()

    def select(self, unit: UnitRef) -> None:
        if self.session is not None:
            self.session.select_unit(unit)

    # ---- drawing ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw everything from the session's unit, model and input."""
        session = self.session
        self._study = study = session.units.study() if session is not None else None
        unit = session.selected_unit if session is not None else None
        self._update_choosers(study, unit)
        if study is None or unit is None or not unit.exists_in(study.params):
            self.report = None
            self.placeholder.setText(NO_UNIT if study is not None else "No model yet: train one or open a model file.")
            self.placeholder.show()
            self.body.hide()
            self._update_edit_buttons()
            self._show_ranking()
            return
        network_input = session.input
        pixels = network_input.pixels if network_input is not None and network_input.pixels.size == study.params[0]["W"].shape[0] else None
        self.report = report = study.explain(unit, pixels)
        self.placeholder.hide()
        self.body.show()
        model = study.model
        sizes = model.layer_sizes
        shape = f"{sizes[unit.layer]} inputs → {sizes[unit.layer + 1]} units, {model.activation}"
        self.title.setText(f"<b>{str(unit).capitalize()}</b> of {len(sizes) - 2} ({shape})")
        self._show_incoming(report, study)
        self._show_weighted_sum(report, study, network_input)
        self._show_votes(report, study)
        self._show_test_set(report, study)
        self._update_edit_buttons()
        self._show_ranking()

    def _update_choosers(self, study: UnitStudy | None, unit: UnitRef | None) -> None:
        hidden = study.hidden_layers if study is not None else 0
        for box in (self.layer_box, self.unit_box):
            box.blockSignals(True)
        self.layer_box.setRange(1, max(hidden, 1))
        self.layer_box.setEnabled(hidden > 0)
        layer = unit.layer if unit is not None else self.layer_box.value() - 1
        layer = min(max(layer, 0), max(hidden - 1, 0))
        self.layer_box.setValue(layer + 1)
        width = study.params[layer]["W"].shape[1] if hidden else 1
        self.unit_box.setRange(1, width)
        self.unit_box.setEnabled(hidden > 0)
        self.unit_box.setSuffix(f" of {width}")
        if unit is not None:
            self.unit_box.setValue(unit.unit + 1)
        for box in (self.layer_box, self.unit_box):
            box.blockSignals(False)
        self.rank_button.setText(f"Rank the units of hidden layer {layer + 1}")
        training = self.session is not None and self.session.state.active
        ranking = self.session is not None and self.session.units.ranking
        self.rank_button.setEnabled(hidden > 0 and not training and not ranking)
        self.rank_button.setToolTip(
            "Wait for the run to end: its weights change every epoch"
            if training
            else "Switch each unit of the layer off in turn and score the whole test set (a second or two)"
        )

    def _show_incoming(self, report: UnitReport, study: UnitStudy) -> None:
        first = report.unit.layer == 0
        self.incoming_image.setVisible(first)
        self.incoming_key.setVisible(first)
        self.incoming_list.setVisible(not first)
        if first:
            weights = report.incoming.reshape(study.model.image_shape)
            finite = weights[np.isfinite(weights)]
            limit = float(np.abs(finite).max()) if finite.size else 1.0
            self.incoming_image.set_image(rgb_image(diverging_colors(np.where(np.isfinite(weights), weights, np.nan), limit)))
            self.incoming_key.set_labels(signed(-limit), "0", f"{signed(limit)} weight")
        else:
            self._fill_unit_list(self.incoming_list, report.strongest_incoming, report.incoming, report.unit.layer - 1, "w")
        self.bias_label.setText(f"Bias b = {signed(report.bias)}")

    def _fill_unit_list(self, widget: QListWidget, indices: np.ndarray, weights: np.ndarray, layer: int, name: str) -> None:
        widget.clear()
        for index in indices:
            item = QListWidgetItem(f"unit {index + 1} of hidden layer {layer + 1}:  {name} = {signed(float(weights[index]))}")
            item.setData(Qt.ItemDataRole.UserRole, UnitRef(layer, int(index)))
            item.setToolTip("Click (or Enter) to open this unit")
            widget.addItem(item)

    def _show_weighted_sum(self, report: UnitReport, study: UnitStudy, network_input) -> None:
        weighted = report.weighted_sum
        first = report.unit.layer == 0
        self.input_image.setVisible(first and weighted is not None)
        if weighted is None:
            self.input_caption.setText("Draw on the Drawing pad, or open a test image, to see this unit's weighted sum for it.")
            self.terms_label.setText("")
            return
        self.input_caption.setText(
            f"z = w·x + b for {network_input.origin}, its {len(weighted.terms)} largest terms x × w first"
            + (" (their pixels: red raise z, blue lower it)" if first else "")
        )
        self.terms_label.setText(terms_html(weighted, report.unit, study.model.image_shape, study.model.activation))
        if first:
            self.input_image.set_image(rgb_image(highlighted_input(network_input.pixels, weighted)))

    def _show_votes(self, report: UnitReport, study: UnitStudy) -> None:
        classes = report.votes_for_classes
        self.votes_plot.setVisible(classes)
        self.votes_list.setVisible(not classes)
        if classes:
            names = study.model.class_names
            self.votes_box.setTitle("What it votes for: each class")
            heights = np.nan_to_num(report.outgoing.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
            brushes = [pg.mkBrush(*(RED if h > 0 else BLUE).astype(int)) for h in heights]
            self.votes_bars.setOpts(x=np.arange(len(heights)), height=heights, width=0.7, brushes=brushes)
            step = max(1, math.ceil(len(names) / 12))
            ticks = [(k, names[k][:8]) for k in range(0, len(names), step)]
            self.votes_plot.getAxis("bottom").setTicks([ticks, []])
            self.votes_plot.setXRange(-0.6, len(heights) - 0.4, padding=0)
            best = int(np.argmax(heights))
            self.votes_caption.setText(f"Firing, it pushes most towards “{names[best]}” ({signed(float(heights[best]))}).")
        else:
            self.votes_box.setTitle("What it votes for: the next layer")
            self._fill_unit_list(self.votes_list, report.strongest_outgoing, report.outgoing, report.unit.layer + 1, "w")
            self.votes_caption.setText("")

    def _show_test_set(self, report: UnitReport, study: UnitStudy) -> None:
        dataset = study.dataset
        n = len(report.z_of_test_images)
        self.test_box.setTitle(f"Its activation on {n:,} test images")
        edges, counts = report.histogram
        self.histogram_curve.setData(edges, counts)
        idle = report.idleness
        self.idle_label.setText(f"<b>{idle.word.capitalize()} on {100 * report.idle_share:.1f} %</b> of them: {idle.rule}.")
        names, z = dataset.class_names, report.z_of_test_images
        for row, indices in ((self.most_row, report.most), (self.least_row, report.least)):
            captions = [
                f"Test image #{i} ({names[int(dataset.test_labels[i])]}): z = {signed(float(z[i]))}. Click to open it." for i in indices
            ]
            row.show_images(indices, dataset.test_images, captions)

    def _update_edit_buttons(self) -> None:
        session, report = self.session, self.report
        editable = session is not None and report is not None and not session.state.active
        off = report is not None and session.switched_off(report.unit)
        self.switch_off_button.setEnabled(editable and not off)
        self.scale_button.setEnabled(editable)
        self.shift_button.setEnabled(editable)
        edits = len(session.edits) if session is not None else 0
        if report is None:
            self.state_label.setText("")
        elif off:
            self.state_label.setText("<b>Switched off</b>: its output reaches no unit above (undo it among the edits).")
        else:
            self.state_label.setText(
                "Edited network: " + f"{edits} edit{'s' * (edits != 1)} on a copy." if edits else "Trained weights, unedited."
            )

    # ---- the ranking ---------------------------------------------------------------------------------

    def rank(self) -> None:
        """Rank the units of the chosen layer by the test accuracy lost when each is switched off (in the background)."""
        if self.session is not None and not self.session.state.active and self.session.units.rank(self.layer_box.value() - 1):
            self.ablation = None
            self.rank_progress.setValue(0)
            self.rank_progress.show()
            self.rank_button.setEnabled(False)
            self.rank_caption.setText("Switching each unit off in turn…")
            self._show_ranking()

    def _ranking_progress(self, done: int, total: int) -> None:
        self.rank_progress.setMaximum(total)
        self.rank_progress.setValue(done)

    def _ranked(self, ablation: Ablation, model) -> None:
        self.ablation, self._ablation_model = ablation, model
        self.rank_progress.hide()
        self.rank_button.setEnabled(True)
        self._show_ranking()

    def _ranking_failed(self, problem: str) -> None:
        self.rank_progress.hide()
        self.rank_button.setEnabled(True)
        if problem != "cancelled":
            self.rank_caption.setText(f"The ranking failed: {problem}")

    def ranked_class(self) -> int | None:
        return self.class_box.currentData()

    def _show_ranking(self) -> None:
        """The ranking, while it is about the current model or the trained weights it is an edit of."""
        session, ablation = self.session, self.ablation
        current = (
            session is not None
            and self._ablation_model is not None
            and any(self._ablation_model is m for m in (session.model, session.trained_model))
        )
        self.rank_list.clear()
        if ablation is None or not current:
            if ablation is not None:
                self.rank_caption.setText("The ranking was of other weights: rank again.")
            elif session is None or not session.units.ranking:
                self.rank_caption.setText("Switch each unit of the layer off in turn and rank them by the test accuracy lost.")
            self.switch_top_button.setEnabled(False)
            return
        names = self._ablation_model.class_names
        if self.class_box.count() != len(names) + 1 or self.class_box.itemText(1) != f"on the {names[0]} images":
            self.class_box.blockSignals(True)
            self.class_box.clear()
            self.class_box.addItem("on every test image", None)
            for k, name in enumerate(names):
                self.class_box.addItem(f"on the {name} images", k)
            self.class_box.blockSignals(False)
        chosen = self.ranked_class()
        lost = ablation.lost if chosen is None else ablation.lost_by_class[:, chosen]
        accuracy = ablation.accuracy if chosen is None else float(ablation.class_accuracy[chosen])
        edited = " (ranked on the trained weights)" if self._ablation_model is not session.model else ""
        self.rank_caption.setText(
            f"Hidden layer {ablation.layer + 1}: accuracy {self.class_box.currentText()} {accuracy_text(accuracy)} "
            f"with every unit on{edited}; with each unit off, it loses:"
        )
        for unit in ablation.ranking(chosen):
            ref = UnitRef(ablation.layer, int(unit))
            off = " — switched off" if session.switched_off(ref) else ""
            item = QListWidgetItem(
                f"unit {unit + 1}:  {signed(-100 * float(lost[unit]), '+.2f')} points  →  {accuracy_text(accuracy - lost[unit])}{off}"
            )
            item.setData(Qt.ItemDataRole.UserRole, ref)
            item.setToolTip(f"Open {ref}")
            self.rank_list.addItem(item)
        self.switch_top_button.setEnabled(not session.state.active)

    def switch_off_top(self) -> None:
        """Switch off the ``SWITCH_OFF_AT_ONCE`` units the ranking puts first (those not yet off)."""
        if self.ablation is None or self.session is None:
            return
        count = 0
        for unit in self.ablation.ranking(self.ranked_class()):
            ref = UnitRef(self.ablation.layer, int(unit))
            if count == SWITCH_OFF_AT_ONCE:
                break
            if not self.session.switched_off(ref):
                if not self.session.edit_network(SwitchOff(ref)):
                    break
                count += 1

    # ---- edits ------------------------------------------------------------------------------------------

    def switch_off(self) -> None:
        if self.report is not None:
            self.session.edit_network(SwitchOff(self.report.unit))

    def scale_incoming(self) -> None:
        if self.report is None:
            return
        factor, ok = QInputDialog.getDouble(
            self, "Scale incoming weights", f"Multiply the incoming weights of {self.report.unit} by:", 0.5, -10.0, 10.0, 2
        )
        if ok:
            self.session.edit_network(ScaleIncoming(self.report.unit, factor))

    def shift_bias(self) -> None:
        if self.report is None:
            return
        shift, ok = QInputDialog.getDouble(
            self, "Shift bias", f"Add to the bias of {self.report.unit} (now {signed(self.report.bias)}):", 1.0, -100.0, 100.0, 2
        )
        if ok:
            self.session.edit_network(ShiftBias(self.report.unit, shift))

    def _chosen(self) -> None:
        """A layer or unit chosen in the boxes: open it (the unit number kept within the layer's width)."""
        if self._study is None:
            return
        layer = self.layer_box.value() - 1
        width = self._study.params[layer]["W"].shape[1]
        self.select(UnitRef(layer, min(self.unit_box.value(), width) - 1))

    def _item_opened(self, item: QListWidgetItem) -> None:
        self.select(item.data(Qt.ItemDataRole.UserRole))

    def _open_test_image(self, index: int) -> None:
        if self.session is not None:
            self.session.open_test_image(index)

    # ---- building ------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.layer_box, self.unit_box = QSpinBox(), QSpinBox()
        self.layer_box.setPrefix("hidden layer ")
        self.unit_box.setPrefix("unit ")
        self.layer_box.setToolTip("The hidden layer of the unit to open (1: the first, fed by the pixels)")
        self.unit_box.setToolTip("The unit of that layer to open")
        self.layer_box.valueChanged.connect(self._chosen)
        self.unit_box.valueChanged.connect(self._chosen)
        self.switch_off_button = QPushButton("Switch off")
        self.switch_off_button.setToolTip("Set its outgoing weights to 0, on a copy: it no longer reaches any unit above")
        self.scale_button = QPushButton("Scale incoming weights…")
        self.scale_button.setToolTip("Multiply its incoming weights, on a copy (0.5 halves what it hears, −1 flips it)")
        self.shift_button = QPushButton("Shift bias…")
        self.shift_button.setToolTip("Add to its bias, on a copy: positive makes it fire more easily")
        self.switch_off_button.clicked.connect(self.switch_off)
        self.scale_button.clicked.connect(self.scale_incoming)
        self.shift_button.clicked.connect(self.shift_bias)
        chooser = QHBoxLayout()
        chooser.addWidget(QLabel("Open"))
        chooser.addWidget(self.layer_box)
        chooser.addWidget(self.unit_box)
        chooser.addStretch(1)
        edit_row = QHBoxLayout()
        edit_row.addWidget(QLabel("Edit it (on a copy):"))
        for button in (self.switch_off_button, self.scale_button, self.shift_button):
            edit_row.addWidget(button)
        edit_row.addStretch(1)
        self.title = QLabel()
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        self.placeholder = QLabel(NO_UNIT)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)

        # incoming weights
        self.incoming_image = ImageView(minimum=140)
        self.incoming_image.setToolTip("Its weight from each pixel: red pixels raise z when inked, blue ones lower it")
        self.incoming_key = ColorKey(signed_key_colors)
        self.incoming_list = self._unit_list()
        self.bias_label = QLabel()
        incoming = QGroupBox("Incoming weights w")
        column = QVBoxLayout(incoming)
        column.addWidget(self.incoming_image, 1)
        column.addWidget(self.incoming_key)
        column.addWidget(self.incoming_list, 1)
        column.addWidget(self.bias_label)

        # the current input
        self.input_caption = QLabel()
        self.input_caption.setWordWrap(True)
        self.input_image = ImageView(minimum=84)
        self.input_image.setFixedHeight(96)
        self.terms_label = QLabel()
        self.terms_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        current = QGroupBox("For the current input")
        column = QVBoxLayout(current)
        column.addWidget(self.input_caption)
        column.addWidget(self.input_image)
        column.addWidget(self.terms_label)
        column.addStretch(1)

        # votes
        self.votes_plot = without_export_menu(pg.PlotWidget())
        self.votes_plot.setMouseEnabled(x=False, y=False)
        self.votes_plot.hideButtons()
        self.votes_plot.setLabel("left", "weight")
        self.votes_plot.getAxis("left").enableAutoSIPrefix(False)
        self.votes_plot.setMinimumHeight(140)
        self.votes_plot.setMaximumHeight(220)
        self.votes_bars = pg.BarGraphItem(x=[0], height=[0], width=0.7)
        self.votes_plot.addItem(self.votes_bars)
        self.votes_plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((128, 128, 128))))
        self.votes_list = self._unit_list()
        self.votes_caption = QLabel()
        self.votes_caption.setWordWrap(True)
        self.votes_box = QGroupBox("What it votes for")
        column = QVBoxLayout(self.votes_box)
        column.addWidget(self.votes_plot, 1)
        column.addWidget(self.votes_list, 1)
        column.addWidget(self.votes_caption)

        # the test set
        self.histogram_plot = without_export_menu(pg.PlotWidget())
        self.histogram_plot.setMouseEnabled(x=False, y=False)
        self.histogram_plot.hideButtons()
        self.histogram_plot.setLabel("bottom", "activation a")
        self.histogram_plot.setLabel("left", "images")
        for side in ("left", "bottom"):
            self.histogram_plot.getAxis(side).enableAutoSIPrefix(False)
        self.histogram_plot.setMinimumHeight(140)
        self.histogram_plot.setMaximumHeight(220)
        self.histogram_curve = self.histogram_plot.plot(
            stepMode="center", fillLevel=0, brush=(33, 113, 181, 150), pen=pg.mkPen((33, 113, 181))
        )
        self.idle_label = QLabel()
        self.idle_label.setWordWrap(True)
        self.test_box = QGroupBox("Over the test images")
        column = QVBoxLayout(self.test_box)
        column.addWidget(self.histogram_plot, 1)
        column.addWidget(self.idle_label)

        # the extremes
        self.most_row, self.least_row = ThumbnailRow(), ThumbnailRow()
        self.most_row.opened.connect(self._open_test_image)
        self.least_row.opened.connect(self._open_test_image)
        most = QGroupBox(f"The {EXTREMES} test images driving it most")
        QVBoxLayout(most).addWidget(self.most_row)
        most.setToolTip("The largest z over the test set; click one to make it the current input")
        least = QGroupBox("… and least")
        QVBoxLayout(least).addWidget(self.least_row)
        least.setToolTip("The smallest z over the test set; click one to make it the current input")

        # the ranking
        self.rank_button = QPushButton("Rank the units of this layer")
        self.rank_button.setToolTip("Switch each unit of the layer off in turn and score the whole test set (a second or two)")
        self.rank_button.clicked.connect(self.rank)
        self.rank_progress = QProgressBar()
        self.rank_progress.hide()
        self.class_box = QComboBox()
        self.class_box.addItem("on every test image", None)
        self.class_box.setToolTip("Rank by the accuracy lost on every test image, or on one class's")
        self.class_box.currentIndexChanged.connect(self._show_ranking)
        self.switch_top_button = QPushButton(f"Switch off the top {SWITCH_OFF_AT_ONCE}")
        self.switch_top_button.setToolTip(f"Switch off the {SWITCH_OFF_AT_ONCE} units at the top of this ranking not yet off (on a copy)")
        self.switch_top_button.clicked.connect(self.switch_off_top)
        self.rank_caption = QLabel()
        self.rank_caption.setWordWrap(True)
        self.rank_list = self._unit_list()
        self.rank_list.setMinimumHeight(120)
        ranking = QGroupBox("Which units of the layer matter")
        column = QVBoxLayout(ranking)
        row = QHBoxLayout()
        row.addWidget(self.rank_button)
        row.addWidget(self.class_box)
        row.addWidget(self.switch_top_button)
        row.addStretch(1)
        column.addLayout(row)
        column.addWidget(self.rank_progress)
        column.addWidget(self.rank_caption)
        column.addWidget(self.rank_list, 1)

        self.body = QWidget()
        grid = QGridLayout(self.body)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(incoming, 0, 0)
        grid.addWidget(current, 0, 1)
        grid.addWidget(self.votes_box, 1, 0)
        grid.addWidget(self.test_box, 1, 1)
        grid.addWidget(most, 2, 0)
        grid.addWidget(least, 2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addLayout(chooser)
        layout.addWidget(self.title)
        layout.addLayout(edit_row)
        layout.addWidget(self.state_label)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.body)
        layout.addWidget(ranking)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # everything wraps to the width
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    def _unit_list(self) -> QListWidget:
        """A list whose rows are units: a click, or Enter, opens the row's unit."""
        widget = QListWidget()
        widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        widget.setMaximumHeight(200)
        widget.itemClicked.connect(self._item_opened)
        widget.itemActivated.connect(self._item_opened)
        return widget
