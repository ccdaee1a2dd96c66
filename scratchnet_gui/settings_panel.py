"""The side panel of training settings: presets, architecture, learning, regularisation, reproducibility.

The core's table of settings (``scratchnet.settings.SETTINGS``) gives every control its label, its tooltip (the
help text ``scratchnet train --help`` shows too), its unit and the values it accepts: the spin boxes take their
ranges from it, the combo boxes their choices. Combinations that are still impossible (e.g. a warm-up as long as
the run) are named under the controls and keep Start disabled. During a run the live settings (``LIVE_SETTINGS``)
keep working and are sent out as a ``LiveSettings``; the others lock, with a tooltip saying why.

The BLAS thread count is not a training setting (it changes the speed, not what is learnt): it is the
session's (``Session.set_blas_threads``), shown and remembered here.
"""

from __future__ import annotations

import bisect
import html
import json
import math
import textwrap
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from scratchnet.augment import Augmentation
from scratchnet.config import TrainConfig
from scratchnet.controls import LIVE_SETTINGS, LiveSettings
from scratchnet.errors import ConfigError
from scratchnet.memory import estimate_training_bytes, format_bytes
from scratchnet.nn.network import count_parameters
from scratchnet.nn.optimizers import ADAPTIVE_OPTIMIZERS, OPTIMIZER_SETTINGS, USUAL_LR, lr_after_switch
from scratchnet.presets import load_preset, preset_names
from scratchnet.settings import SETTINGS, Kind

from .augment_preview import AugmentPreview
from .blas_threads import usable_cores
from .saved_settings import SavedValues
from .wheel import WheelScrollsPanel

if TYPE_CHECKING:
    from .session import Session

CUSTOM = "custom"
MAX_LAYERS = 10
# 1-2-5 steps over many decades: the up/down arrows of the log-scale inputs walk this ladder.
LADDER = sorted(m * 10.0**k for k in range(-9, 5) for m in (1, 2, 5))
QSPINBOX_MAX = 2**31 - 1  # QSpinBox holds a C int
WIDTHS = SETTINGS["hidden"].range  # of one hidden layer

LOCK_REASONS = {
    "architecture": "the weights already have this shape",
    "run": "the run was planned with it at the start (its batches, schedule and data split)",
    "threads": "the run's trainer was given it at the start",
}
TOOLTIP_WIDTH = 110  # characters per line: Qt does not wrap a plain-text tooltip
TOOLTIPS = {  # of the controls that are not training settings (those have the table's help text)
    "preset": "A starting point: choosing a preset fills every control below. Editing any control switches to 'custom'.",
    "blas_threads": (
        "How many threads NumPy's BLAS library uses for the matrix products. OpenBLAS threads spin while they wait\n"
        "for work: on a machine busy with another program, more threads can make training three times slower.\n"
        "Automatic: at each epoch's start the trainer times one thread, all, and one with the next batch made on a\n"
        "second thread, and keeps the fastest; with two cores or fewer it leaves one core to the window. A number\n"
        "forces that count (as scratchnet train --threads). The same seed repeats a run exactly only with the same count."
    ),
}
AUTOMATIC = "Automatic"


class _LadderSteps:
    """For spin boxes whose arrows walk a ladder of values (``_next``) instead of adding a fixed step."""

    def stepBy(self, steps: int) -> None:
        value = self.value()
        for _ in range(abs(steps)):
            value = self._next(value, up=steps > 0)
        self.setValue(value)


class LogSpinBox(_LadderSteps, QDoubleSpinBox):
    """A number input for values that span decades (learning rates, weight decay).

    Accepts typed values such as ``3e-4``; the arrows walk the 1-2-5 ladder (…, 0.001, 0.002, 0.005, 0.01, …).
    With ``minimum == 0`` the value 0 reads "off" and sits one step below the smallest positive value."""

    DECIMALS = 12
    HINT = "Type a value such as 3e-4; the arrows step 1, 2, 5, 10, …"

    def __init__(self, minimum: float, maximum: float, smallest: float, parent: QWidget | None = None):
        super().__init__(parent)
        self._smallest = smallest
        self.setDecimals(self.DECIMALS)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)  # commit on Enter or focus-out, not at each keystroke
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
        if minimum == 0:
            self.setSpecialValueText("off")

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        text = text.strip()
        if text == self.specialValueText() or not text:
            return self.minimum()
        return float(text)

    def validate(self, text: str, position: int) -> tuple[QValidator.State, str, int]:
        stripped = text.strip()
        if self.specialValueText() and self.specialValueText().startswith(stripped):
            state = QValidator.State.Acceptable if stripped == self.specialValueText() else QValidator.State.Intermediate
            return state, text, position
        try:
            value = float(stripped)
        except ValueError:
            partial = stripped == "" or all(ch in "0123456789.eE+-" for ch in stripped)
            return (QValidator.State.Intermediate if partial else QValidator.State.Invalid), text, position
        if not math.isfinite(value) or value > self.maximum() or value < 0:
            return QValidator.State.Invalid, text, position
        if value < self.minimum() or (value == 0 and self.minimum() > 0):
            return QValidator.State.Intermediate, text, position
        return QValidator.State.Acceptable, text, position

    def _next(self, value: float, up: bool) -> float:
        if up:
            if value < self._smallest:
                return self._smallest
            i = bisect.bisect_right(LADDER, value * (1 + 1e-9))
            return min(LADDER[i] if i < len(LADDER) else value, self.maximum())
        i = bisect.bisect_left(LADDER, value * (1 - 1e-9)) - 1
        lower = LADDER[i] if i >= 0 else 0.0
        return lower if lower >= self._smallest else self.minimum()


class BatchSizeSpinBox(_LadderSteps, QSpinBox):
    """Batch size: any number typed, powers of two with the arrows, and "full" (the value 0) above them all."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        batch_size = SETTINGS["batch_size"]
        self.setRange(0, min(batch_size.range.high, QSPINBOX_MAX))
        self.setSpecialValueText(batch_size.none_means)

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.value() != 0:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        if self.value() != 1:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return flags

    def _next(self, value: int, up: bool) -> int:
        largest = 1 << 15
        if value == 0:
            return 0 if up else largest
        if up:
            return 0 if value >= largest else 1 << value.bit_length()
        return 1 << ((value - 1).bit_length() - 1) if value > 1 else 1  # the power of two below; 1 is the bottom


class WholeNumberSpinBox(QAbstractSpinBox):
    """A spin box for whole numbers past QSpinBox's 32 bits (seeds up to 2⁶³−1), held as a Python int.

    Typed digits commit on Enter or focus-out; the arrows, arrow keys, Page Up/Down and the wheel step by one
    (ten with Page keys). ``valueChanged`` carries the int as an object, since Qt's int signal is 32-bit."""

    valueChanged = Signal(object)

    def __init__(self, minimum: int, maximum: int, parent: QWidget | None = None):
        super().__init__(parent)
        self._minimum, self._maximum, self._value = minimum, maximum, minimum
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
        self.lineEdit().setText(str(minimum))
        self.editingFinished.connect(self._commit)

    def minimum(self) -> int:
        return self._minimum

    def maximum(self) -> int:
        return self._maximum

    def value(self) -> int:
        return self._value

    def setValue(self, value: int) -> None:
        value = min(max(int(value), self._minimum), self._maximum)
        self.lineEdit().setText(str(value))
        if value != self._value:
            self._value = value
            self.valueChanged.emit(value)

    def stepBy(self, steps: int) -> None:
        self.setValue(self._value + steps)

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self._value < self._maximum:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        if self._value > self._minimum:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        return flags

    def validate(self, text: str, position: int) -> tuple[QValidator.State, str, int]:
        digits = text.strip()
        if not digits:
            return QValidator.State.Intermediate, text, position
        if not (digits.isascii() and digits.isdigit()) or int(digits) > self._maximum:
            return QValidator.State.Invalid, text, position
        state = QValidator.State.Acceptable if int(digits) >= self._minimum else QValidator.State.Intermediate
        return state, text, position

    def fixup(self, text: str) -> str:
        return str(self._value)

    def _commit(self) -> None:
        text = self.lineEdit().text()
        if self.validate(text, 0)[0] == QValidator.State.Acceptable:
            self.setValue(int(text))
        else:
            self.lineEdit().setText(str(self._value))


class LayersEditor(QWidget):
    """Hidden layers as rows of widths, with buttons to add, remove and reorder them. ``changed`` follows an edit,
    ``rebuilt`` every new set of rows."""

    changed = Signal()
    rebuilt = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._widths: list[int] = []
        self._rows: list[QWidget] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(3)
        self.empty_label = QLabel("No hidden layer: softmax regression (a linear classifier).")
        self.empty_label.setObjectName("hint")
        self.empty_label.setWordWrap(True)
        self.add_button = QPushButton("Add layer")
        self.add_button.setToolTip(f"Add a hidden layer after the last one (at most {MAX_LAYERS}).")
        self.add_button.clicked.connect(self.add_layer)
        self._layout.addWidget(self.empty_label)
        self._layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)

    def widths(self) -> list[int]:
        return list(self._widths)

    def set_widths(self, widths: list[int]) -> None:
        self._widths = [int(w) for w in widths]
        self._rebuild()

    def spin_boxes(self) -> list[QSpinBox]:
        """The width inputs, top (next to the input) to bottom (next to the output)."""
        return [row.findChild(QSpinBox) for row in self._rows]

    def add_layer(self) -> None:
        if len(self._widths) < MAX_LAYERS:
            self._widths.append(self._widths[-1] if self._widths else 128)
            self._rebuild()
            self.changed.emit()

    def remove_layer(self, index: int) -> None:
        del self._widths[index]
        self._rebuild()
        self.changed.emit()

    def move_layer(self, index: int, offset: int) -> None:
        other = index + offset
        if 0 <= other < len(self._widths):
            self._widths[index], self._widths[other] = self._widths[other], self._widths[index]
            self._rebuild()
            self.changed.emit()

    def _rebuild(self) -> None:
        for row in self._rows:
            row.deleteLater()
        self._rows = [self._make_row(i, width) for i, width in enumerate(self._widths)]
        for i, row in enumerate(self._rows):
            self._layout.insertWidget(i, row)
        self.empty_label.setVisible(not self._widths)
        self.add_button.setEnabled(len(self._widths) < MAX_LAYERS)
        self.rebuilt.emit()

    def _make_row(self, index: int, width: int) -> QWidget:
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        label = QLabel(f"Layer {index + 1}")
        label.setMinimumWidth(52)
        spin = QSpinBox()
        spin.setRange(int(WIDTHS.low), int(WIDTHS.high))
        spin.setValue(width)
        spin.setSuffix(f" {SETTINGS['hidden'].unit}")
        spin.setAccessibleName(f"Width of hidden layer {index + 1}")
        spin.setToolTip(f"Units (neurons) in hidden layer {index + 1}: {WIDTHS.low}–{WIDTHS.high}.")
        spin.valueChanged.connect(lambda value, i=index: self._set_width(i, value))
        layout.addWidget(label)
        layout.addWidget(spin, 1)
        for text, tip, action, enabled in (
            ("↑", "Move this layer nearer the input", lambda i=index: self.move_layer(i, -1), index > 0),
            ("↓", "Move this layer nearer the output", lambda i=index: self.move_layer(i, +1), index < len(self._widths) - 1),
            ("✕", "Remove this layer", lambda i=index: self.remove_layer(i), True),
        ):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.setEnabled(enabled)
            button.clicked.connect(action)
            layout.addWidget(button)
        return row

    def _set_width(self, index: int, value: int) -> None:
        self._widths[index] = value
        self.changed.emit()


class SettingsPanel(QWidget):
    """Every training setting, as widgets. ``config()`` reads them as a ``TrainConfig``.

    Signals: ``config_changed()`` after any edit; ``live_changed(LiveSettings)`` when a live setting changed
    during a run (all of them, as they now stand); ``validity_changed(bool)``."""

    config_changed = Signal()
    live_changed = Signal(object)
    validity_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._filling = False
        self._running = False
        self._valid = True
        self._optimizer = ""  # the optimiser shown until the latest edit, whose learning rate the field holds
        self._inputs, self._classes, self._train_images = 784, 10, 60000
        self._fields: dict[str, QWidget] = {}
        self._lock_groups: dict[str, str] = {}
        self._labels: dict[str, QLabel] = {}  # field name -> the label in front of its control
        self._tooltips: dict[str, str] = {**TOOLTIPS, "hidden": textwrap.fill(SETTINGS["hidden"].help, TOOLTIP_WIDTH)}
        self._build()
        self.select_preset("default" if "default" in preset_names() else preset_names()[0])

    # ---- building ---------------------------------------------------------------------------------

    def _build(self) -> None:
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(8)

        self.preset = QComboBox()
        self.preset.addItems([*preset_names(), CUSTOM])
        self.preset.setToolTip(self._tooltips["preset"])
        self.preset.currentTextChanged.connect(self._preset_chosen)
        self.preset_description = QLabel()
        self.preset_description.setObjectName("hint")
        self.preset_description.setWordWrap(True)
        self.preset_description.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # in the room it keeps
        box = QGroupBox("Preset")
        column = QVBoxLayout(box)
        column.setContentsMargins(8, 6, 8, 8)
        column.addWidget(self.preset)
        column.addWidget(self.preset_description)
        self._lock_groups["preset"] = "run"
        layout.addWidget(box)

        box, form = self._group("Architecture")
        self.layers = LayersEditor()
        self.layers.setToolTip(self._tooltips["hidden"])
        self.layers.changed.connect(self._edited)
        form.addRow(self.layers)
        self._add(form, "activation", self._combo("activation"), fixed_because="architecture")
        self._add(form, "init", self._combo("init"), fixed_because="architecture")
        self.size_label = QLabel()
        self.size_label.setObjectName("hint")
        self.size_label.setWordWrap(True)
        self.size_label.setToolTip(
            "Weights and biases to learn: for each layer, inputs × outputs + outputs. Memory while training counts\n"
            "the weights, their gradients, the optimiser's running averages, one batch of activations, and the\n"
            "training images converted to floating point."
        )
        form.addRow(self.size_label)
        self._lock_groups["hidden"] = "architecture"
        layout.addWidget(box)

        box, form = self._group("Optimiser")
        self._add(form, "optimizer", self._combo("optimizer"))
        self._add(form, "lr", self._log("lr", LADDER[0], up_to=10.0))
        self._add(form, "momentum", self._double("momentum", 0.05, 3))
        self._add(form, "beta1", self._double("beta1", 0.01, 3))
        self._add(form, "beta2", self._double("beta2", 0.001, 5))
        self._add(form, "weight_decay", self._log("weight_decay", 1e-6, up_to=1.0))
        self._add(form, "grad_clip", self._log("grad_clip", 0.01, up_to=1000.0))
        self.optimizer_form = form
        layout.addWidget(box)

        box, form = self._group("Schedule and batches")
        self._add(form, "schedule", self._combo("schedule"))
        self._add(form, "warmup_epochs", self._double("warmup_epochs", 0.5, 2, up_to=1000.0))
        self._add(form, "step_epochs", self._double("step_epochs", 1.0, 1, up_to=10000.0))
        self._add(form, "step_gamma", self._double("step_gamma", 0.05, 3))
        self._add(form, "batch_size", BatchSizeSpinBox())
        self._add(form, "epochs", self._int("epochs"))
        self.schedule_form = form
        layout.addWidget(box)

        box, form = self._group("Augmentation: varied training images")
        self._add(form, "augment_shift", self._int("augment_shift", zero_text="off"))
        self._add(form, "augment_rotate", self._double("augment_rotate", 5.0, 1, zero_text="off"))
        self._add(form, "augment_thickness", self._int("augment_thickness", zero_text="off"))
        self._add(form, "augment_noise", self._double("augment_noise", 0.05, 2, zero_text="off"))
        self.augment_preview = AugmentPreview(self)
        preview = QPushButton("Preview…", toolTip="Show training images as this augmentation varies them")
        preview.clicked.connect(self.augment_preview.show)
        form.addRow("", preview)
        self.config_changed.connect(self._preview_augmentation)
        layout.addWidget(box)

        box, form = self._group("Regularisation and validation")
        self._add(form, "dropout", self._double("dropout", 0.05, 2))
        self._add(form, "early_stopping", self._int("early_stopping", zero_text="off"))
        self._add(form, "validation_size", self._int("validation_size"))
        layout.addWidget(box)

        box, form = self._group("Reproducibility and speed")
        seeds = SETTINGS["seed"].range
        self._add(form, "seed", WholeNumberSpinBox(int(seeds.low), int(seeds.high)))
        self._add(form, "dtype", self._combo("dtype"))
        self.blas_threads = QComboBox(objectName="blas_threads", toolTip=self._tooltips["blas_threads"])
        self.blas_threads.addItem(AUTOMATIC, None)
        for count in range(1, usable_cores() + 1):
            self.blas_threads.addItem(str(count), count)
        self._labels["blas_threads"] = QLabel("BLAS threads", toolTip=self._tooltips["blas_threads"], buddy=self.blas_threads)
        form.addRow(self._labels["blas_threads"], self.blas_threads)
        self._lock_groups["blas_threads"] = "threads"
        layout.addWidget(box)

        layout.addStretch(1)

        content.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)  # scroll rather than squeeze rows
        scroll = QScrollArea()
        scroll.setWidget(content)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(content.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width())
        wheel = WheelScrollsPanel(scroll)  # the wheel scrolls the settings, and edits only the focused one
        wheel.guard(content)
        self.layers.rebuilt.connect(lambda: wheel.guard(self.layers))
        self.error_label = QLabel()  # below the scrolling settings, so it is always in view
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)
        self.run_hint = QLabel("Training: the greyed settings are fixed for this run; the others apply from the next batch.")
        self.run_hint.setObjectName("hint")
        self.run_hint.setWordWrap(True)
        self.run_hint.setContentsMargins(8, 4, 8, 4)
        self.run_hint.setVisible(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(self.run_hint)
        outer.addWidget(scroll, 1)
        outer.addWidget(self.error_label)

    @staticmethod
    def _group(title: str) -> tuple[QGroupBox, QFormLayout]:
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setContentsMargins(8, 6, 8, 8)
        form.setVerticalSpacing(5)
        return box, form

    def _add(self, form: QFormLayout, name: str, widget: QWidget, fixed_because: str = "run") -> None:
        """Add ``widget`` as the control of config field ``name``, with the label and tooltip of its row in the table
        of settings. Unless the table says the setting is live, it locks during a run: ``fixed_because`` names why."""
        setting = SETTINGS[name]
        tooltip = textwrap.fill(setting.help + (f" {LogSpinBox.HINT}" if isinstance(widget, LogSpinBox) else ""), TOOLTIP_WIDTH)
        self._tooltips[name] = tooltip + ("\nApplies live: during a run, from the next batch." if setting.live else "")
        widget.setToolTip(self._tooltips[name])
        widget.setObjectName(name)
        label_widget = QLabel(setting.label)
        label_widget.setToolTip(self._tooltips[name])
        self._labels[name] = label_widget
        label_widget.setBuddy(widget)
        form.addRow(label_widget, widget)
        self._fields[name] = widget
        if not setting.live:
            self._lock_groups[name] = fixed_because
        signal = widget.currentTextChanged if isinstance(widget, QComboBox) else widget.valueChanged
        signal.connect(lambda *_, n=name: self._edited(n))

    @staticmethod
    def _combo(name: str) -> QComboBox:
        """A list of the choices of setting ``name``."""
        combo = QComboBox()
        combo.addItems(list(SETTINGS[name].choices))
        return combo

    @staticmethod
    def _log(name: str, smallest: float, up_to: float) -> LogSpinBox:
        """A decade-spanning input for setting ``name``, over the core's range (up to ``up_to`` where it has no limit)."""
        return LogSpinBox(*_shown_range(name, LogSpinBox.DECIMALS, up_to), smallest)

    @staticmethod
    def _double(name: str, step: float, decimals: int, up_to: float = math.inf, zero_text: str = "") -> QDoubleSpinBox:
        """A decimal input for setting ``name``, over the core's range (up to ``up_to`` where the core has no limit)."""
        spin = QDoubleSpinBox()
        spin.setDecimals(decimals)
        spin.setRange(*_shown_range(name, decimals, up_to))
        spin.setSingleStep(step)
        spin.setSuffix(_suffix(name))
        if zero_text:
            spin.setSpecialValueText(zero_text)
        return spin

    @staticmethod
    def _int(name: str, zero_text: str = "") -> QSpinBox:
        """A whole-number input for setting ``name``, over the core's range as far as a QSpinBox reaches."""
        spin = QSpinBox()
        spin.setRange(*_shown_range(name, 0, QSPINBOX_MAX))
        spin.setSuffix(_suffix(name))
        if zero_text:
            spin.setSpecialValueText(zero_text)
        return spin

    # ---- reading and filling ----------------------------------------------------------------------

    def field(self, name: str) -> QWidget:
        """The control of config field ``name`` (e.g. ``field("lr")`` is the learning-rate input)."""
        return self._fields[name]

    def label_of(self, name: str) -> str:
        """The panel's words for config field ``name``: "Learning rate" for "lr"."""
        return SETTINGS[name].label

    def values(self) -> dict:
        """The controls' values as TrainConfig fields (not yet validated)."""
        values = {"hidden": self.layers.widths()}
        for name, widget in self._fields.items():
            values[name] = widget.currentText() if isinstance(widget, QComboBox) else widget.value()
        values["batch_size"] = values["batch_size"] or None
        return values

    def config(self) -> TrainConfig:
        """The settings as a checked ``TrainConfig``; raises ``ConfigError`` naming what is impossible (in the
        panel's words: "Warm-up must be …", where the core says "warmup_epochs must be …")."""
        try:
            config = TrainConfig.from_dict(self.values())
        except ConfigError as error:
            if error.setting not in self._labels:
                raise
            raise _SettingError(error.setting, f"{self.label_of(error.setting)} {error.rule}") from None
        if config.validation_size >= self._train_images:
            label = self.label_of("validation_size")
            raise _SettingError(
                "validation_size", f"{label} must leave images to train on: the training set has {self._train_images:,} images"
            )
        return config

    def set_config(self, config: TrainConfig, preset: str = CUSTOM) -> list[str]:
        """Fill every control from ``config`` and show ``preset`` as its origin; return the names of the
        settings the controls could not show exactly (outside their range), so the caller can say so."""
        self._filling = True
        try:
            self.layers.set_widths(config.hidden)
            for name, value in config.to_dict().items():
                widget = self._fields.get(name)
                if isinstance(widget, QComboBox):
                    widget.setCurrentText(value)
                elif widget is not None:  # a value past the control's end shows as that end, and is reported below
                    widget.setValue(min(max(0 if value is None else value, widget.minimum()), widget.maximum()))
            self.preset.setCurrentText(preset)
            self.preset_description.setMinimumHeight(0)  # a choice of the user's: the description takes its own room
            self.preset_description.setText(load_preset(preset)[1] if preset != CUSTOM else "Your own settings.")
        finally:
            self._filling = False
        self._refresh()
        self.config_changed.emit()
        shown = self.values()
        return [name for name, value in config.to_dict().items() if name in shown and not _same(shown[name], value)]

    def show_settings_of(self, values: dict) -> str | None:
        """Fill the controls with the settings a model was trained with (``Model.config``); return a warning when
        they are unusable (the controls keep theirs) or some cannot be shown exactly, else None."""
        try:
            config = TrainConfig.from_dict(values)
        except (ConfigError, TypeError):
            return "The model file has no usable training settings; the panel keeps its own."
        adjusted = self.set_config(config)
        if not adjusted:
            return None
        unshown = ", ".join(f"{self.label_of(name)} {getattr(config, name):,}" for name in adjusted)
        return f"The model was trained with settings the panel cannot show ({unshown}); the panel shows the nearest values it allows."

    def select_preset(self, name: str) -> None:
        """Choose a preset by name, filling the controls (``"custom"`` keeps them as they are)."""
        if name == CUSTOM:
            self.preset.setCurrentText(CUSTOM)
        else:
            self.set_config(load_preset(name)[0], name)

    @property
    def preset_name(self) -> str:
        return self.preset.currentText()

    def set_dataset_shape(self, inputs: int, classes: int, train_images: int) -> None:
        """Tell the panel the data's size, for the parameter count and the validation limit."""
        self._inputs, self._classes, self._train_images = inputs, classes, train_images
        self._refresh()

    @property
    def valid(self) -> bool:
        return self._valid

    def save_to(self, settings: QSettings) -> None:
        """Remember the preset, the settings and the BLAS thread count for the next start (``restore_from``)."""
        settings.setValue("preset", self.preset_name)
        settings.setValue("config", json.dumps(self.values()))
        settings.setValue("blas_threads", self.blas_threads.currentText())

    def restore_from(self, saved: SavedValues) -> None:
        """Show the preset or settings ``save_to`` remembered. A value that is unusable (an old or hand-edited
        file) is dropped (``saved.report()`` names it) and the controls keep what they show."""
        preset, config = saved.text("preset"), saved.json_object("config")
        if preset in preset_names():
            self.select_preset(preset)
        else:  # custom, or a preset unknown here: the settings saved with it stand for themselves
            if preset not in (None, CUSTOM):
                saved.drop("preset", "names no preset")
            try:
                if config is not None:
                    self.set_config(TrainConfig.from_dict(config))
            except ConfigError as error:
                saved.drop("config", f"holds impossible settings ({error})")
        threads = saved.text("blas_threads")
        self.blas_threads.setCurrentIndex(max(self.blas_threads.findText(threads or AUTOMATIC), 0))  # a count this machine lacks: Automatic

    # ---- running ----------------------------------------------------------------------------------

    def follow(self, session: Session) -> None:
        """Lock the settings while ``session`` trains and send it the live ones as they change; size the
        parameter count and the validation limit to its data; show the settings it proposes for the next run
        (an opened model's, a recorded run's), warning through it when some cannot be shown exactly."""
        session.state_changed.connect(lambda state: self.set_running(state.active))
        session.settings_proposed.connect(lambda config: self._show_proposed(config, session))
        session.dataset_changed.connect(lambda data: self.set_dataset_shape(data.num_features, data.num_classes, len(data.train_images)))
        session.dataset_changed.connect(lambda data: self.augment_preview.set_images(data.train_images))
        self.live_changed.connect(session.set_live_settings)
        self.blas_threads.setCurrentIndex(self.blas_threads.findData(session.blas_thread_setting.forced))
        self.blas_threads.currentIndexChanged.connect(lambda _: session.set_blas_threads(self.blas_threads.currentData()))

    def _preview_augmentation(self) -> None:
        """Show the augmentation the settings describe (while some setting is impossible: the last possible one)."""
        try:
            self.augment_preview.set_augmentation(Augmentation.of(self.config()))
        except ConfigError:
            pass

    def _show_proposed(self, config: TrainConfig, session: Session) -> None:
        warning = self.show_settings_of(config.to_dict())
        if warning:
            session.warn(warning)

    def set_running(self, running: bool) -> None:
        """Lock the settings that cannot change mid-run (explaining why in their tooltips); keep the live ones."""
        self._running = running
        self.run_hint.setVisible(running)
        widgets = {**self._fields, "hidden": self.layers, "preset": self.preset, "blas_threads": self.blas_threads}
        optimizer = self._fields["optimizer"].currentText()
        unused = {"momentum", "beta1", "beta2"} - set(OPTIMIZER_SETTINGS[optimizer])
        live = ", ".join(self.label_of(name).lower() for name in LIVE_SETTINGS if name not in unused)
        for name, group in self._lock_groups.items():
            widget = widgets[name]
            widget.setEnabled(not running)
            if name in self._labels:
                self._labels[name].setEnabled(not running)
            base = self._tooltips[name]
            if running:
                reason = LOCK_REASONS[group]
                widget.setToolTip(
                    f"{base}\n\nLocked during a run: {reason}. Stop the run to change it.\n"
                    f"These can still be changed while it trains: {live}."
                )
            else:
                widget.setToolTip(base)

    # ---- reacting to edits ------------------------------------------------------------------------

    def _preset_chosen(self, name: str) -> None:
        if not self._filling and name != CUSTOM:
            self.select_preset(name)

    def _edited(self, name: str = "hidden") -> None:
        if self._filling:
            return
        self._filling = True
        if self.preset.currentText() != CUSTOM:
            self.preset.setCurrentText(CUSTOM)
            # The shorter text keeps the room the preset's took: the field being edited must not jump away.
            self.preset_description.setMinimumHeight(self.preset_description.height())
            self.preset_description.setText("Your own settings.")
        if name == "optimizer":  # a learning rate for SGD is about a hundred times Adam's: switching kinds takes the new one's
            lr = self._fields["lr"]
            lr.setValue(lr_after_switch(lr.value(), self._optimizer, self._fields["optimizer"].currentText()))
        self._filling = False
        self._refresh()
        if self._running and name in LIVE_SETTINGS and self._valid:
            self.live_changed.emit(LiveSettings.of(self.config()))
        self.config_changed.emit()

    def _refresh(self) -> None:
        """Show the rows that matter for this optimiser and schedule; update the size read-out and the error."""
        optimizer = self._optimizer = self._fields["optimizer"].currentText()
        for setting in ("momentum", "beta1", "beta2"):
            self.optimizer_form.setRowVisible(self._fields[setting], setting in OPTIMIZER_SETTINGS[optimizer])
        is_step = self._fields["schedule"].currentText() == "step"
        for name in ("step_epochs", "step_gamma"):
            self.schedule_form.setRowVisible(self._fields[name], is_step)
        self.size_label.setText(self._size_text())
        self._explain_values()
        try:
            self.config()
            error, culprit = "", None
        except ConfigError as problem:
            error, culprit = f"Cannot start: {problem}.", getattr(problem, "setting", None)
        self.error_label.setText(error)
        self.error_label.setVisible(bool(error))
        for name, label in self._labels.items():  # the label of the impossible setting turns red
            invalid = name == culprit
            if label.property("invalid") != invalid:
                label.setProperty("invalid", invalid)
                label.style().unpolish(label)
                label.style().polish(label)
        if self._valid != (not error):
            self._valid = not error
            self.validity_changed.emit(self._valid)

    def _explain_values(self) -> None:
        """What's This? (Shift+F1, then a click) on a control: what the setting is, its value now and what it means,
        from the table of settings."""
        adaptive = self._optimizer in ADAPTIVE_OPTIMIZERS
        for name, widget in self._fields.items():
            setting = SETTINGS[name]
            value = widget.currentText() if isinstance(widget, QComboBox) else widget.text()
            now = f"<p><b>{html.escape(setting.label)}</b>: now <b>{html.escape(value)}</b>.</p>"
            if name == "lr":
                now += f"<p>The usual learning rate for {self._optimizer} is about {USUAL_LR[adaptive]:g}.</p>"
            live = "<p>Changes apply during a run, from the next batch.</p>" if setting.live else ""
            rule = "" if setting.kind is Kind.CHOICE else f"<p>It {html.escape(setting.rule())}.</p>"
            widget.setWhatsThis(f"{now}<p>{html.escape(setting.help)}</p>{rule}{live}")

    def _size_text(self) -> str:
        """Parameter count and the memory a run needs (the core's estimate), for the settings as they stand."""
        values = self.values()
        sizes = [self._inputs, *values["hidden"], self._classes]
        params = count_parameters(sizes)
        text = f"{params:,} parameters ({format_bytes(params * np.dtype(values['dtype']).itemsize)} of weights)"
        try:
            config = self.config()
        except ConfigError:
            return text
        needed = estimate_training_bytes(config, self._train_images, self._inputs, self._classes)
        return text + f"\n≈ {format_bytes(needed)} to train, images included"


class _SettingError(ConfigError):
    """A ``ConfigError`` worded with the panel's labels, naming the ``setting`` (config field) at fault."""

    def __init__(self, setting: str, message: str):
        super().__init__(message)
        self.setting = setting


def _shown_range(name: str, decimals: int, up_to: float) -> tuple[float, float]:
    """The core's range of setting ``name`` as a spin box with ``decimals`` holds it: an open end moves in by
    one displayed step, and an end the core leaves open-ended stops at ``up_to``."""
    allowed, step = SETTINGS[name].range, 10.0**-decimals
    low = allowed.low + step if allowed.low_open else allowed.low
    high = min(allowed.high, up_to)
    high = high - step if allowed.high_open and high == allowed.high else high
    return (int(low), int(high)) if decimals == 0 else (low, high)


def _suffix(name: str) -> str:
    """What follows the number in the control of setting ``name``: its unit, " epochs"."""
    unit = SETTINGS[name].unit
    return f" {unit}" if unit else ""


def _same(shown, wanted) -> bool:
    """A control's value equals the setting (floats to the spin box's display precision)."""
    if isinstance(wanted, float) and isinstance(shown, (int, float)):
        return math.isclose(shown, wanted, rel_tol=1e-3, abs_tol=1e-9)
    return shown == wanted
