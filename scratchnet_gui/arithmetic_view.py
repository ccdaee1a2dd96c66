"""The arithmetic of one example: the numbers of one forward and backward pass for the current input.

Read from top to bottom, as the network computes: for one unit of each layer, its weighted sum ``z = x·w + b`` as
its largest terms (value × weight = term), the rest, its bias and its activation (layer 1's terms outlined on the
input where they come from); the softmax steps class by class and the loss; then backward, the last layer first:
``dlogits = p − y``, each unit's error δ carried back through ``Wᵀ`` and ``f'(z)``, and the gradient of its
incoming weights (layer 1's as an image with a labelled colour scale). Each number says which line of
``scratchnet/nn/network.py`` computes it (its code in the tooltip, and under each table). **Take one step** applies
one plain gradient-descent step to a copy of the weights and shows what it changed.

The units shown form a path to the label's logit: below each unit, the unit adding the largest term to it. A unit
chosen in a layer (its spin box, or ``show_unit``) puts the path through it. Every number comes from
``scratchnet.inspect.arithmetic``, which asks ``scratchnet.nn``; this module only lays them out.

Public API of ``ArithmeticView``: ``follow(session)`` (the session's model and current input), slots
``set_model(model)``, ``set_input(network_input)``, ``choose_label(label)`` (None: the true class of an opened
test image, else the predicted one), ``show_unit(layer, unit)`` (hidden layer and unit, 0-based),
``follow_strongest()`` and ``take_step()``; ``example`` and ``step`` hold the numbers shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, QSignalBlocker, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scratchnet.inspect.arithmetic import LINES, Example, GradientStep, Line, Product, Sum, explain_example, take_step
from scratchnet.inspect.edits import UnitRef
from scratchnet.model import Model
from scratchnet.nn.activations import get_activation

from .on_screen import RefreshWhenShown
from .visuals import BLUE, NO_MODEL, NOT_A_NUMBER, RED, ImageView, diverging_colors, ink_image, percent, rgb_image

if TYPE_CHECKING:
    from .session import NetworkInput, Session

DEFAULT_LR = 0.1  # the learning rate offered when the model does not say which it was trained with
NO_INPUT = "Draw a digit on the pad, or open a test image, to see the network's arithmetic for it."
MINUS = "\u2212"
PICTURE = 118  # the side of the small pictures (input, terms, gradient), in pixels


def number(value: float) -> str:
    """``value`` with 4 significant digits and a real minus sign: "−0.01234", "3.2e−05"; "n/a" for NaN."""
    if math.isnan(value):
        return NOT_A_NUMBER
    if math.isinf(value):
        return "∞" if value > 0 else f"{MINUS}∞"
    if value == 0:
        return "0"
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text.replace("-", MINUS)


# ---- small widgets --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableCell:
    """A table cell: its text, a tooltip, and whether it stands out (a result, the label's row)."""

    text: str
    tip: str = ""
    strong: bool = False


def line_cell(line: Line) -> TableCell:
    return TableCell(str(line), f"{line}: {line.code}")


class NumbersTable(QTableWidget):
    """A small read-only table as tall and wide as its rows: the view around it scrolls, never the table."""

    def __init__(self, headers: list[str], parent: QWidget | None = None):
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(headers)
        self.verticalHeader().hide()
        self.horizontalHeader().setHighlightSections(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setTabKeyNavigation(False)  # Tab moves on to the next control; the arrow keys move inside
        self.setWordWrap(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustToContents)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def show_rows(self, rows: list[list[TableCell | Line | str]]) -> None:
        """Fill the table: numbers right-aligned, the first column left-aligned, a ``Line`` as "network.py:84"."""
        self.setRowCount(len(rows))
        bold = QFont(self.font())
        bold.setBold(True)
        for r, row in enumerate(rows):
            for c in range(self.columnCount()):
                cell = row[c] if c < len(row) else ""
                cell = line_cell(cell) if isinstance(cell, Line) else TableCell(cell) if isinstance(cell, str) else cell
                item = QTableWidgetItem(cell.text)
                item.setToolTip(cell.tip)
                item.setTextAlignment(
                    (Qt.AlignmentFlag.AlignLeft if c == 0 else Qt.AlignmentFlag.AlignRight) | Qt.AlignmentFlag.AlignVCenter
                )
                if cell.strong:
                    item.setFont(bold)
                self.setItem(r, c, item)
        self.resizeColumnsToContents()
        self.resizeRowsToContents()
        self.setFixedHeight(self.horizontalHeader().height() + sum(self.rowHeight(r) for r in range(len(rows))) + 2 * self.frameWidth())

    def text_at(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text() if item is not None else ""


class MarkedImage(ImageView):
    """An image with some of its pixels outlined: red for a positive term, blue for a negative one."""

    def __init__(self, placeholder: str = "", minimum: int = 0, parent: QWidget | None = None):
        minimum = minimum or PICTURE
        super().__init__(placeholder, minimum, parent=parent)
        self.marks: list[tuple[int, int, float]] = []  # row, column, signed value
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(minimum, minimum)

    def set_marks(self, marks: list[tuple[int, int, float]]) -> None:
        self.marks = marks
        self.update()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        image = self.image()
        if image is None or not self.marks:
            return
        painter = QPainter(self)
        target = self.target_rect()
        cell_width, cell_height = target.width() / image.width(), target.height() / image.height()
        for row, column, value in self.marks:
            painter.setPen(QPen(QColor(*(RED if value > 0 else BLUE).astype(int)), 2))
            painter.drawRect(QRectF(target.left() + column * cell_width, target.top() + row * cell_height, cell_width, cell_height))


class ScaleKey(QWidget):
    """A diverging colour scale ``width`` pixels wide, blue through white to red, labelled with its limits and
    what it measures."""

    def __init__(self, width: int, parent: QWidget | None = None):
        super().__init__(parent)
        self._strip = rgb_image(diverging_colors(np.linspace(-1.0, 1.0, width)[None, :], 1.0))
        self.limit, self.quantity = 1.0, ""
        small = QFont(self.font())
        small.setPointSizeF(small.pointSizeF() * 0.85)
        self.setFont(small)
        self.setFixedSize(width, round(3.3 * self.fontMetrics().height()))

    def set_scale(self, limit: float, quantity: str) -> None:
        self.limit, self.quantity = limit, quantity
        self.setToolTip(f"Colour scale of {quantity}: full blue is {number(-limit)}, white 0, full red {number(limit)}.")
        self.update()

    def sizeHint(self) -> QSize:
        return self.size()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        line = self.fontMetrics().height()
        strip = QRectF(0, 1, self.width(), line)
        painter.drawImage(strip, self._strip)
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        painter.drawRect(strip.adjusted(0, 0, -1, -1))
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        labels = QRectF(0, strip.bottom() + 1, self.width(), line)
        painter.drawText(labels, Qt.AlignmentFlag.AlignLeft, number(-self.limit))
        painter.drawText(labels, Qt.AlignmentFlag.AlignHCenter, "0")
        painter.drawText(labels, Qt.AlignmentFlag.AlignRight, number(self.limit))
        painter.drawText(QRectF(0, labels.bottom(), self.width(), line), Qt.AlignmentFlag.AlignHCenter, self.quantity)


def picture_column(pictures: list[tuple[str, QWidget]], key: ScaleKey) -> QVBoxLayout:
    """Small captioned pictures stacked above their colour key."""
    column = QVBoxLayout()
    for caption, picture in pictures:
        if caption:
            label = QLabel(caption)
            label.setWordWrap(True)
            label.setFixedWidth(PICTURE)
            column.addWidget(label)
        column.addWidget(picture)
    column.addWidget(key)
    column.addStretch(1)
    return column


class CodeLegend(QLabel):
    """The lines of network.py behind a table, with their code, in a small monospace font."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWordWrap(True)
        self.setForegroundRole(QPalette.ColorRole.PlaceholderText)

    def show_lines(self, names: list[str]) -> None:
        lines = sorted({LINES[name] for name in names}, key=lambda line: line.number)
        self.setText("\n".join(f"{line}  {line.code}" for line in lines))


class Section(QFrame):
    """A titled part of the view: a title row (with room for controls) above its content."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.header = QHBoxLayout()
        self.header.addWidget(self.title)
        self.body = QVBoxLayout(self)
        self.body.addLayout(self.header)

    def end_header(self) -> None:
        self.header.addStretch(1)


# ---- what a section shows -------------------------------------------------------------------------------------


def source_names(count: int, image_shape: tuple[int, int] | None, class_names: list[str] | None = None) -> list[str]:
    """What the inputs of a layer are called: pixels (row, column from 1) of the image, classes, or units."""
    if image_shape is not None:
        width = image_shape[1]
        return [f"pixel ({i // width + 1}, {i % width + 1})" for i in range(count)]
    if class_names is not None:
        return [f"class {name}" for name in class_names]
    return [f"unit {i + 1}" for i in range(count)]


def term_rows(total: Sum, names: list[str], line: Line, sum_name: str) -> list[list[TableCell | Line | str]]:
    """A sum's rows: its largest terms (the followed one in bold), the rest, and the sum itself."""
    rows: list[list[TableCell | Line | str]] = []
    for term in total.terms:
        followed = term.source == total.followed
        name = TableCell(names[term.source] + (" ◂ path" if followed else ""), "on the path of units shown" if followed else "", followed)
        rows.append([name, number(term.left), number(term.right), TableCell(number(term.value), strong=followed), line])
    if total.rest_count:
        zeros = f", {total.rest_zeros} of them 0" if total.rest_zeros else ""
        rows.append([TableCell(f"the other {total.rest_count}{zeros}"), "", "", number(total.rest), line])
    rows.append([TableCell(sum_name, strong=True), "", "", TableCell(number(total.total), strong=True), line])
    return rows


def gradient_rows(largest: tuple[Product, ...], names: list[str]) -> list[list[TableCell | Line | str]]:
    return [[names[g.source], number(g.left), number(g.right), number(g.value), LINES["gradients"]] for g in largest]


def image_marks(terms: tuple[Product, ...], width: int) -> list[tuple[int, int, float]]:
    return [(term.source // width, term.source % width, term.value) for term in terms if term.value != 0]


def signed_image(values: np.ndarray, shape: tuple[int, int]):
    """``values`` as an image of ``shape``, blue–white–red up to their largest finite magnitude; and that limit."""
    finite = np.abs(values[np.isfinite(values)])
    limit = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    return rgb_image(diverging_colors(np.nan_to_num(values, nan=0.0).reshape(shape), limit)), limit


class ForwardSection(Section):
    """One unit's weighted sum and activation; layer 1's terms also on the input, and as an image. A hidden layer's
    unit box says ``unit_chosen(layer, unit)`` (0-based) when the learner picks another unit."""

    unit_chosen = Signal(int, int)

    HEADERS = ["input", "value x", "× weight w", "= term", "line"]

    def __init__(self, layer: int, hidden: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.layer, self.hidden = layer, hidden
        self.unit_box: QSpinBox | None = None
        if hidden:
            self.unit_box = QSpinBox()
            self.unit_box.setKeyboardTracking(False)
            self.unit_box.setToolTip("Choose the unit of this layer to explain: the path of units shown goes through it.")
            self.unit_box.setAccessibleName(f"Unit of hidden layer {layer + 1}")
            self.unit_box.valueChanged.connect(self._unit_changed)
            self.header.addWidget(QLabel("unit"))
            self.header.addWidget(self.unit_box)
            self.of_units = QLabel()
            self.header.addWidget(self.of_units)
        self.end_header()
        self.table = NumbersTable(self.HEADERS)
        self.legend = CodeLegend()
        numbers = QVBoxLayout()
        numbers.addWidget(self.table)
        numbers.addWidget(self.legend)
        numbers.addStretch(1)
        row = QHBoxLayout()
        row.addLayout(numbers)
        if layer == 0:
            self.input_image = MarkedImage("input")
            self.input_image.setToolTip("The input, its largest terms outlined: red adds to z, blue takes away.")
            self.term_image = MarkedImage("terms")
            self.term_image.setToolTip("Every term x × w of this unit, pixel by pixel: red adds to z, blue takes away.")
            self.term_key = ScaleKey(PICTURE)
            row.addLayout(
                picture_column(
                    [("the input, largest terms outlined", self.input_image), ("every term x × w", self.term_image)], self.term_key
                )
            )
        row.addStretch(1)
        self.body.addLayout(row)

    def _unit_changed(self, value: int) -> None:
        self.unit_chosen.emit(self.layer, value - 1)

    def show_example(self, example: Example, model: Model, pixels: np.ndarray) -> None:
        shown = example.forward[self.layer]
        fan_in = model.layer_sizes[self.layer]
        names = source_names(fan_in, model.image_shape if self.layer == 0 else None)
        activation = model.activation
        if self.hidden:
            self.title.setText(f"<b>Hidden layer {self.layer + 1}</b>")
            with QSignalBlocker(self.unit_box):
                self.unit_box.setRange(1, model.layer_sizes[self.layer + 1])
                self.unit_box.setValue(shown.unit + 1)
            self.of_units.setText(f"of {model.layer_sizes[self.layer + 1]}: z = x·w + b, then a = {activation}(z)")
            sum_line, bias_line = LINES["weighted_sum"], LINES["bias"]
        else:
            name = model.class_names[shown.unit]
            self.title.setText(f"<b>Output layer</b>: the logit of class {name} (the label), z = x·w + b")
            sum_line, bias_line = LINES["logit_sum"], LINES["logit_bias"]
        rows = term_rows(shown.weighted, names, sum_line, "x·w, all terms added")
        rows.append(["+ bias b", "", "", number(shown.bias), bias_line])
        rows.append([TableCell("= z", strong=True), "", "", TableCell(number(shown.z), strong=True), bias_line])
        if shown.a is not None:
            a = TableCell(number(shown.a), strong=True)
            rows.append([TableCell(f"a = {activation}(z)", strong=True), "", "", a, LINES["activation"]])
        self.table.show_rows(rows)
        self.legend.show_lines(["weighted_sum", "bias", "activation"] if self.hidden else ["logit_sum", "logit_bias"])
        if self.layer == 0:
            shape, marks = model.image_shape, image_marks(shown.weighted.terms, model.image_shape[1])
            self.input_image.set_image(ink_image(pixels.reshape(shape)))
            self.input_image.set_marks(marks)
            image, limit = signed_image(shown.weighted.products, shape)
            self.term_image.set_image(image)
            self.term_image.set_marks(marks)
            self.term_key.set_scale(limit, "term x × w")


class SoftmaxSection(Section):
    """The logits → z − max → exp → ÷ Σ → probabilities, class by class, and the loss."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title.setText("<b>Softmax</b>: the logits become probabilities, then the loss −log p[label]")
        self.end_header()
        self.table = NumbersTable(["class", "logit z", "z − max z", "exp(z − max z)", "÷ Σ exp = p"])
        self.loss_table = NumbersTable(["the loss", "", "", "line"])
        self.body.addWidget(self.table)
        self.body.addWidget(self.loss_table)
        self.legend = CodeLegend()
        self.legend.show_lines(["logit_bias", "shift", "normalise", "probabilities", "loss"])
        self.body.addWidget(self.legend)

    def show_example(self, example: Example, model: Model) -> None:
        steps, label = example.softmax, example.label
        rows: list[list[TableCell | Line | str]] = []
        for k, name in enumerate(model.class_names):
            strong = k == label
            marks = " ◂ label" if k == label else ""
            marks += " (predicted)" if k == example.predicted else ""
            rows.append(
                [TableCell(f"{name}{marks}", strong=strong)]
                + [TableCell(number(v), strong=strong) for v in (steps.logits[k], steps.shifted[k], steps.exps[k])]
                + [TableCell(number(steps.probabilities[k]), strong=strong)]
            )
        rows.append(
            [
                TableCell("Σ", strong=True),
                "",
                "",
                TableCell(number(steps.total), strong=True),
                TableCell(number(float(steps.probabilities.sum())), strong=True),
            ]
        )
        rows.append(["computed at", *(line_cell(LINES[name]) for name in ("logit_bias", "shift", "normalise", "probabilities"))])
        self.table.show_rows(rows)
        p = steps.probabilities[label]
        loss, name = TableCell(number(example.loss), strong=True), TableCell(f"−log p[{model.class_names[label]}]", strong=True)
        self.loss_table.show_rows([[name, f"= −log({number(p)})", loss, LINES["loss"]]])


class DlogitsSection(Section):
    """dlogits = p − y, class by class."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title.setText("<b>Backward starts at the logits</b>: dL/dz = p − y (y is 1 for the label, 0 elsewhere)")
        self.end_header()
        self.table = NumbersTable(["class", "p", "− y", "= dL/dz", "line"])
        self.body.addWidget(self.table)
        self.legend = CodeLegend()
        self.legend.show_lines(["probabilities", "dlogits"])
        self.body.addWidget(self.legend)

    def show_example(self, example: Example, model: Model) -> None:
        steps, rows = example.softmax, []
        for k, name in enumerate(model.class_names):
            strong = k == example.label
            y = "1" if strong else "0"
            rows.append(
                [
                    TableCell(name + (" ◂ label" if strong else ""), strong=strong),
                    number(steps.probabilities[k]),
                    y,
                    TableCell(number(steps.dlogits[k]), strong=strong),
                    LINES["dlogits"],
                ]
            )
        self.table.show_rows(rows)


class BackwardSection(Section):
    """One unit's error δ — carried back through Wᵀ and f'(z) in a hidden layer — and its weights' gradient."""

    def __init__(self, layer: int, hidden: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.layer, self.hidden = layer, hidden
        self.end_header()
        self.delta_table = NumbersTable(["from the layer above", "δ above", "× weight", "= term", "line"])
        self.gradient_table = NumbersTable(["weight from", "input x", "× δ", "= dL/dw", "line"])
        self.body.addWidget(self.delta_table)
        self.gradient_title = QLabel()
        self.body.addWidget(self.gradient_title)
        row = QHBoxLayout()
        if layer == 0:
            self.gradient_image = MarkedImage("gradient")
            self.gradient_image.setToolTip("dL/dw of each incoming weight, pixel by pixel: x × δ, so only inked pixels' weights change.")
            self.gradient_key = ScaleKey(PICTURE)
            row.addLayout(picture_column([("", self.gradient_image)], self.gradient_key))
        row.addWidget(self.gradient_table, 0, Qt.AlignmentFlag.AlignTop)
        row.addStretch(1)
        self.body.addLayout(row)
        self.legend = CodeLegend()
        self.legend.show_lines(["carry_back", "slope", "gradients"] if hidden else ["dlogits", "gradients"])
        self.body.addWidget(self.legend)

    def show_example(self, example: Example, model: Model) -> None:
        shown = example.backward[self.layer]
        sizes = model.layer_sizes
        inputs = source_names(sizes[self.layer], model.image_shape if self.layer == 0 else None)
        delta = TableCell(number(shown.delta), strong=True)
        if self.hidden:
            self.title.setText(f"<b>Hidden layer {self.layer + 1}, unit {shown.unit + 1}</b>: its error δ = dL/dz")
            above_is_output = self.layer + 1 == len(sizes) - 2
            names = source_names(sizes[self.layer + 2], None, model.class_names if above_is_output else None)
            rows = term_rows(shown.carried, names, LINES["carry_back"], "dL/da, all terms added")
            z = example.forward[self.layer].z
            rows.append([f"× {model.activation}′(z) at z = {number(z)}", "", "", number(shown.slope), LINES["slope"]])
            rows.append([TableCell("= δ = dL/dz", strong=True), "", "", delta, LINES["slope"]])
        else:
            name = model.class_names[shown.unit]
            self.title.setText(f"<b>Output layer, the logit of class {name}</b>: its error δ = dL/dz = p − y")
            rows = [[TableCell("δ = dL/dz", strong=True), "", "", delta, LINES["dlogits"]]]
        rows.append(["dL/db = δ", "", "", number(float(example.gradients[self.layer]["b"][shown.unit])), LINES["gradients"]])
        self.delta_table.show_rows(rows)
        self.gradient_table.show_rows(gradient_rows(shown.largest, inputs))
        self.gradient_title.setText(f"The gradient of its {sizes[self.layer]} incoming weights, dL/dw = x × δ; the largest:")
        if self.layer == 0:
            image, limit = signed_image(shown.weight_gradient.astype(np.float64), model.image_shape)
            self.gradient_image.set_image(image)
            self.gradient_key.set_scale(limit, "gradient dL/dw")


class RateBox(QDoubleSpinBox):
    """A learning rate, written as short as it is ("0.002", not "0.002000")."""

    def textFromValue(self, value: float) -> str:
        return f"{value:g}"


class StepSection(Section):
    """Take one step: the learning rate, the button, and the loss and prediction before → after."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title.setText("<b>Take one step</b> of plain gradient descent, W −= lr · g, on a copy of the weights")
        self.end_header()
        controls = QHBoxLayout()
        self.lr_box = RateBox()
        self.lr_box.setDecimals(6)
        self.lr_box.setRange(0.000001, 100.0)
        self.lr_box.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.lr_box.setAccessibleName("Learning rate of the step")
        self.button = QPushButton("Take one step")
        self.button.setToolTip("Move every weight and bias by −lr × its gradient for this example, on a copy: the model does not change.")
        controls.addWidget(QLabel("learning rate"))
        controls.addWidget(self.lr_box)
        controls.addWidget(self.button)
        controls.addStretch(1)
        self.body.addLayout(controls)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.body.addWidget(self.note)
        self.table = NumbersTable(["", "before", "after the step"])
        self.table.hide()
        self.body.addWidget(self.table)
        self.change = QLabel()
        self.change.setWordWrap(True)
        self.body.addWidget(self.change)

    def clear(self, model: Model | None) -> None:
        trained_with = (model.config or {}).get("optimizer") if model is not None else None
        self.note.setText(
            "The trained model never changes: the step is taken on a copy, with this example's gradients only."
            + (
                f" (The model was trained with {trained_with}, over batches; this is one plain SGD step.)"
                if trained_with not in (None, "sgd")
                else ""
            )
        )
        self.table.hide()
        self.change.setText("")

    def show_step(self, step: GradientStep, example: Example, model: Model) -> None:
        names, label = model.class_names, example.label

        def prediction(probabilities: np.ndarray, predicted: int) -> str:
            return f"{names[predicted]} ({percent(float(probabilities[predicted]))})"

        self.table.show_rows(
            [
                [TableCell("loss", strong=True), number(step.loss_before), TableCell(number(step.loss_after), strong=True)],
                [f"p[{names[label]}]", number(step.probabilities_before[label]), number(step.probabilities_after[label])],
                [
                    "prediction",
                    prediction(step.probabilities_before, step.predicted_before),
                    prediction(step.probabilities_after, step.predicted_after),
                ],
            ]
        )
        self.table.show()
        squared = example.squared_gradient_norm
        self.change.setText(
            f"Change of the loss: actual <b>{number(step.actual_change)}</b>; first-order prediction −lr·‖g‖² = "
            f"−{number(step.lr)} × {number(squared)} = <b>{number(step.predicted_change)}</b>. "
            "The two agree for small steps; a large step overshoots the straight line the prediction follows."
        )


# ---- the view ----------------------------------------------------------------------------------------------


class ArithmeticView(QWidget):
    """The numbers of one forward and backward pass for the current input; see the module docstring."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model: Model | None = None
        self.input: NetworkInput | None = None
        self.example: Example | None = None
        self.step: GradientStep | None = None
        self._chosen_label: int | None = None
        self._through: tuple[int, int] | None = None
        self._session: Session | None = None  # once following one: the unit chosen here is the session's
        self._lr_of: float | None = None  # the learning rate of the model whose lr the box was last set to
        self._forward: list[ForwardSection] = []
        self._backward: list[BackwardSection] = []
        self._build()
        self._when_shown = RefreshWhenShown(self, self.refresh)
        self.refresh()

    # ---- public slots ---------------------------------------------------------------------------------

    def follow(self, session: Session) -> None:
        """Show the arithmetic of ``session``'s current input under its current model."""
        self._session = session
        session.model_changed.connect(self.set_model)
        session.input_changed.connect(self.set_input)
        session.unit_selected.connect(lambda unit: unit is not None and self.show_unit(unit.layer, unit.unit))
        self.set_model(session.model)
        self.set_input(session.input)

    def set_model(self, model: Model | None) -> None:
        self.model = model
        if model is not None and self._through is not None and not self._through_exists(model):
            self._through = None
        lr = (model.config or {}).get("lr") if model is not None else None
        lr = float(lr) if isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0 else DEFAULT_LR
        if lr != self._lr_of:
            self._lr_of = lr
            self.step_section.lr_box.setValue(lr)
        self._when_shown.request()

    def set_input(self, network_input: NetworkInput | None) -> None:
        self.input = network_input
        self._chosen_label = None
        self._when_shown.request()

    def choose_label(self, label: int | None) -> None:
        """Explain the loss of class ``label`` (None: the input's true class when known, else the predicted one)."""
        self._chosen_label = label
        self._when_shown.request()

    def show_unit(self, layer: int, unit: int) -> None:
        """Put the path of units shown through ``unit`` of hidden layer ``layer`` (both 0-based)."""
        if self._through != (layer, unit):
            self._through = (layer, unit)
            self._when_shown.request()

    def _unit_chosen(self, layer: int, unit: int) -> None:
        """A unit picked in a layer's box: the session's selected unit (which every view of one follows)."""
        if self._session is None:
            self.show_unit(layer, unit)
        else:
            self._session.select_unit(UnitRef(layer, unit))
            self.show_unit(layer, unit)  # shown even when the session already had it selected

    def follow_strongest(self) -> None:
        """Show the path of the strongest terms down from the label's logit again."""
        self._through = None
        self._when_shown.request()

    def take_step(self) -> None:
        """One plain gradient-descent step on a copy of the weights, at the learning rate in the box."""
        if self.example is None:
            return
        self.step = take_step(self.model.params, get_activation(self.model.activation), self.example, self.step_section.lr_box.value())
        self.step_section.show_step(self.step, self.example, self.model)

    # ---- drawing --------------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.example, self.step = None, None
        problem = self._problem()
        self.message.setText(problem or "")
        self.message.setVisible(problem is not None)
        self.scroll.setVisible(problem is None)
        self.step_section.clear(self.model)
        if problem is None:
            self._explain()
        self._show_label()

    def _explain(self) -> None:
        model, pixels = self.model, self.input.pixels
        label = self._label()
        self.example = explain_example(model.params, get_activation(model.activation), pixels, label, self._through)
        self._ensure_sections(len(model.params))
        for section in self._forward:
            section.show_example(self.example, model, pixels)
        self.softmax_section.show_example(self.example, model)
        self.dlogits_section.show_example(self.example, model)
        for section in self._backward:
            section.show_example(self.example, model)
        self.path_note.setText(self._path_text())
        self.strongest_button.setEnabled(self._through is not None)

    def _problem(self) -> str | None:
        if self.model is None:
            return NO_MODEL
        if self.input is None:
            return NO_INPUT
        if self.input.pixels.size != self.model.layer_sizes[0]:
            return "The current input has another size than the model's inputs: draw again, or open a test image of this dataset."
        return None

    def _label(self) -> int | None:
        classes = self.model.layer_sizes[-1]
        for label in (self._chosen_label, self.input.label):
            if label is not None and 0 <= label < classes:
                return label
        return None  # the predicted class

    def _through_exists(self, model: Model) -> bool:
        layer, unit = self._through
        return 0 <= layer < len(model.params) - 1 and 0 <= unit < model.layer_sizes[layer + 1]

    def _path_text(self) -> str:
        example, model = self.example, self.model
        origin = self.input.origin
        truth = (
            f", true class {model.class_names[self.input.label]}"
            if self.input.label is not None and self.input.label < len(model.class_names)
            else ""
        )
        predicted, confidence = model.class_names[example.predicted], percent(float(example.softmax.probabilities[example.predicted]))
        text = f"{origin[:1].upper()}{origin[1:]}{truth}: the network predicts {predicted} ({confidence}). "
        if len(model.params) == 1:
            return text + "This network has no hidden layer: its logits are weighted sums of the pixels."
        if self._through is None:
            return text + "Each hidden layer shows the unit that adds the largest term to the unit above it, up to the label's logit."
        layer, unit = self._through
        return text + (
            f"The path goes through unit {unit + 1} of hidden layer {layer + 1}: below it, each layer's strongest contributor; "
            "above it, the unit it adds its largest term to."
        )

    def _show_label(self) -> None:
        """The label box: the model's classes, the label explained current."""
        names = list(self.model.class_names) if self.model is not None else []
        box = self.label_box
        with QSignalBlocker(box):
            if [box.itemText(i) for i in range(box.count())] != names:
                box.clear()
                box.addItems(names)
            box.setCurrentIndex(self.example.label if self.example is not None else -1)
        box.setEnabled(self.example is not None)
        self.label_kind.setText(self._label_kind() if self.example is not None else "")

    def _ensure_sections(self, dense_layers: int) -> None:
        """One forward and one backward section per dense layer (rebuilt when the depth changes)."""
        if len(self._forward) == dense_layers:
            return
        for section in [*self._forward, *self._backward]:
            section.setParent(None)
            section.deleteLater()
        self._forward = [ForwardSection(k, k < dense_layers - 1) for k in range(dense_layers)]
        self._backward = [BackwardSection(k, k < dense_layers - 1) for k in range(dense_layers)]
        layout = self.content_layout
        at = layout.indexOf(self.softmax_section)
        for offset, section in enumerate(self._forward):
            section.unit_chosen.connect(self._unit_chosen)
            layout.insertWidget(at + offset, section)
            section.show()  # at once, not when the event loop gets to it: a widget added to a visible one is hidden
        at = layout.indexOf(self.dlogits_section) + 1
        for offset, section in enumerate(reversed(self._backward)):
            layout.insertWidget(at + offset, section)
            section.show()

    def _label_kind(self) -> str:
        if self._chosen_label is not None:
            return "(your choice)"
        if self.input is not None and self.input.label is not None:
            return "(its true class)"
        return "(the predicted class)"

    def _label_chosen(self, index: int) -> None:
        if index >= 0:
            self.choose_label(index)

    def _build(self) -> None:
        self.label_box = QComboBox()
        self.label_box.setAccessibleName("Label of the example")
        self.label_box.setToolTip("The class whose loss −log p[label] is explained, and whose logit ends the path.")
        self.label_box.activated.connect(self._label_chosen)
        self.label_kind = QLabel()
        self.strongest_button = QPushButton("Strongest path")
        self.strongest_button.setToolTip("Show again, in each layer, the unit adding the largest term to the unit above it.")
        self.strongest_button.clicked.connect(self.follow_strongest)
        top = QHBoxLayout()
        top.addWidget(QLabel("Label"))
        top.addWidget(self.label_box)
        top.addWidget(self.label_kind)
        top.addStretch(1)
        top.addWidget(self.strongest_button)
        self.path_note = QLabel()
        self.path_note.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setForegroundRole(QPalette.ColorRole.PlaceholderText)

        content = QWidget()
        self.content_layout = QVBoxLayout(content)
        self.content_layout.addWidget(self.path_note)
        self.content_layout.addWidget(heading("Forward: from the input to the loss"))
        self.softmax_section = SoftmaxSection()
        self.content_layout.addWidget(self.softmax_section)
        self.content_layout.addWidget(heading("Backward: how the loss changes with each number, from the last layer down"))
        self.dlogits_section = DlogitsSection()
        self.content_layout.addWidget(self.dlogits_section)
        self.step_section = StepSection()
        self.step_section.button.clicked.connect(self.take_step)
        self.content_layout.addWidget(heading("One step downhill"))
        self.content_layout.addWidget(self.step_section)
        self.content_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(content)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.scroll, 1)


def heading(text: str) -> QLabel:
    label = QLabel(f"<b>{text}</b>")
    label.setContentsMargins(0, 8, 0, 0)
    return label
