"""The "Edits" tab: edit a copy of the trained network and see at once what the edits do to all 10 000 test images.

On the left, the edits of the whole network — prune the x % smallest weights, add weight noise, set the softmax
temperature, each a slider that edits as it moves — and the list of the edits made (those of single units come
from the Unit tab), with Undo, Reset and **Save as new model…**. On the right, what they do: the test accuracy
before → after in large type, the mean confidence and loss, each class's accuracy before → after, the current
input's answer before → after, and the test images the edits made wrong or right, each a click away from the pad.

Everything shown is the session's (``session.edit_effect``, scored by ``scratchnet.inspect.edit_effects`` from the
same ``forward`` that trains); the panel draws it and calls the session's commands (``edit_network``,
``undo_edit``, ``reset_edits``, ``save_edited_model``, ``open_test_image``).

Why a tab of its own: the table of classes and the thumbnails need the room, and a dock would squeeze every other
tab of a 1024×768 window; the headline (accuracy before → after) also reaches the status bar at every edit, so an
edit made in the Unit tab shows its effect there too.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QIcon, QKeySequence, QPalette, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scratchnet.inspect.edit_effects import EditEffect
from scratchnet.inspect.edits import Edit, Prune, Temperature, WeightNoise

from .on_screen import TellWhenShown
from .visuals import RIGHT, accuracy_text, ink_image, percent

if TYPE_CHECKING:
    from .session import Session

# Okabe and Ito's blue and orange, as the confusion matrix: apart for every common colour-vision deficiency.
BETTER = QColor(0, 114, 178)
WORSE = QColor(230, 120, 0)
MOST_TINT = 0.55  # the strongest tint of a changed class's cell: its text stays readable in both themes
FULL_TINT_POINTS = 20.0  # a class that gains or loses this many points of accuracy gets the strongest tint
THUMBNAILS = 48  # changed test images shown in each list (the surest first); the count says how many there are
THUMBNAIL = 42  # pixels
APPLY_DELAY_MS = 60  # a moving slider edits at most this often
TEMPERATURE_RANGE = 100  # the slider's steps either side of 1: t = 10 ** (value / 100), 0.1 to 10
NOT_EDITABLE_WHILE_TRAINING = "Stop the run to edit the network: edits are made to a copy of trained weights."
INTRODUCTION = (
    "Edit a copy of the trained network — prune it, add noise, change the temperature here, or switch units off "
    "in the Unit tab — and see what it does to all the test images. The trained weights never change."
)


class EditPanel(QWidget):
    """Edits of the whole network and their effect on the test set; ``follow(session)`` connects it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: Session | None = None
        self.effect: EditEffect | None = None
        self._pending: list[Edit] = []  # slider edits waiting for the throttle
        self._apply_timer = QTimer(self, singleShot=True, interval=APPLY_DELAY_MS, timeout=self._apply_pending)
        self._build()
        self._show_effect(None)

    # ---- building -----------------------------------------------------------------------------------

    def _build(self) -> None:
        content = QWidget()
        layout = QGridLayout(content)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setHorizontalSpacing(12)
        layout.addLayout(self._build_headline(), 0, 0, 1, 2)
        left = QVBoxLayout()
        left.addWidget(self._build_global_edits())
        left.addWidget(self._build_edit_list(), 1)
        layout.addLayout(left, 1, 0)
        layout.addWidget(self._build_classes(), 1, 1)
        layout.addWidget(self._build_changed(), 2, 0, 1, 2)
        layout.setColumnStretch(0, 5)
        layout.setColumnStretch(1, 6)
        layout.setRowStretch(2, 1)
        scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        QShortcut(QKeySequence.StandardKey.Undo, self, self._undo, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def _build_headline(self) -> QGridLayout:
        self.accuracy = QLabel()
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        self.accuracy.setFont(font)
        self.accuracy.setAccessibleName("Test accuracy before and after the edits")
        self.change = QLabel(wordWrap=True)
        self.confidence = QLabel(wordWrap=True)
        self.input_answer = QLabel(wordWrap=True, textFormat=Qt.TextFormat.RichText)
        self.input_image = QLabel(fixedSize=QSize(2 * THUMBNAIL, 2 * THUMBNAIL), alignment=Qt.AlignmentFlag.AlignCenter)
        grid = QGridLayout()
        grid.addWidget(self.accuracy, 0, 0)
        grid.addWidget(self.change, 1, 0)
        grid.addWidget(self.confidence, 2, 0)
        grid.addWidget(self.input_image, 0, 1, 3, 1)
        grid.addWidget(self.input_answer, 0, 2, 3, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(2, 2)
        return grid

    def _build_global_edits(self) -> QGroupBox:
        box = QGroupBox("Edit every weight")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        self.prune = self._slider(0, 99, "Prune: set to 0 the x % of all weights with the smallest magnitudes")
        self.noise = self._slider(0, 200, "Weight noise: add Gaussian noise to every weight, in units of its layer's spread")
        self.temperature = self._slider(-TEMPERATURE_RANGE, TEMPERATURE_RANGE, "Softmax temperature: divide the logits by t")
        self.prune_label, self.noise_label, self.temperature_label = QLabel(), QLabel(), QLabel()
        for slider, label, title in (
            (self.prune, self.prune_label, "&Prune"),
            (self.noise, self.noise_label, "&Noise"),
            (self.temperature, self.temperature_label, "&Temperature"),
        ):
            row = QHBoxLayout()
            row.setSpacing(8)
            row.addWidget(slider, 1)
            label.setMinimumWidth(self.fontMetrics().horizontalAdvance("× 2.00 spread "))
            row.addWidget(label)
            caption = QLabel(title)
            caption.setBuddy(slider)
            caption.setContentsMargins(0, 0, 8, 0)
            form.addRow(caption, row)
        self.prune.valueChanged.connect(lambda value: self._slid(Prune(value / 100)))
        self.noise.valueChanged.connect(lambda value: self._slid(WeightNoise(value / 100)))
        self.temperature.valueChanged.connect(lambda value: self._slid(Temperature(temperature_of(value))))
        self._show_slider_labels()
        return box

    def _slider(self, low: int, high: int, tip: str) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal, minimum=low, maximum=high, toolTip=tip)
        slider.setAccessibleName(tip.split(":")[0])
        slider.setPageStep(max(round((high - low + 1) / 10), 1))  # Page Up / Down: a tenth of the way
        return slider

    def _build_edit_list(self) -> QGroupBox:
        box = QGroupBox("Edits made (on a copy)")
        layout = QVBoxLayout(box)
        self.edit_list = QListWidget()
        self.edit_list.setAccessibleName("Edits made")
        self.edit_list.setMinimumHeight(4 * self.fontMetrics().height())
        self.edit_list.setMaximumHeight(8 * self.fontMetrics().height())
        self.edit_list.setWordWrap(True)
        layout.addWidget(self.edit_list, 1)
        buttons = QHBoxLayout()
        self.undo_button = QPushButton("&Undo", toolTip="Take back the last edit (Ctrl+Z)")
        self.reset_button = QPushButton("&Reset", toolTip="Back to the trained weights")
        self.save_button = QPushButton("&Save as new model…", toolTip="Write the edited copy to a file and record it as an edit of its run")
        self.undo_button.clicked.connect(self._undo)
        self.reset_button.clicked.connect(lambda: self.session and self.session.reset_edits())
        self.save_button.clicked.connect(self._save_to_chosen_file)
        for button in (self.undo_button, self.reset_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self.state_note = QLabel(wordWrap=True)
        self.state_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        layout.addWidget(self.state_note)
        return box

    def _build_classes(self) -> QGroupBox:
        box = QGroupBox("Test accuracy of each class")
        layout = QVBoxLayout(box)
        self.classes = QTableWidget(0, 4)
        self.classes.setHorizontalHeaderLabels(["class", "before", "after", "change"])
        self.classes.verticalHeader().hide()
        self.classes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.classes.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.classes.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.classes.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.classes.setAccessibleName("Test accuracy of each class before and after the edits")
        self.classes.setMinimumHeight(8 * (self.fontMetrics().height() + 6))
        layout.addWidget(self.classes)
        return box

    def _build_changed(self) -> QGroupBox:
        box = QGroupBox("Test images the edits changed (click one to open it on the pad)")
        layout = QGridLayout(box)
        self.broken_title, self.mended_title = QLabel(), QLabel()
        self.broken, self.mended = self._thumbnail_list("Made wrong by the edits"), self._thumbnail_list("Made right by the edits")
        layout.addWidget(self.broken_title, 0, 0)
        layout.addWidget(self.mended_title, 0, 1)
        layout.addWidget(self.broken, 1, 0)
        layout.addWidget(self.mended, 1, 1)
        layout.setColumnStretch(0, 3)
        layout.setColumnStretch(1, 2)
        return box

    def _thumbnail_list(self, name: str) -> QListWidget:
        view = QListWidget()
        view.setAccessibleName(name)
        view.setViewMode(QListView.ViewMode.IconMode)
        view.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        view.setGridSize(QSize(THUMBNAIL + 8, THUMBNAIL + 8))
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setMovement(QListView.Movement.Static)
        view.setMinimumHeight(2 * (THUMBNAIL + 8) + 10)
        view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        view.itemActivated.connect(self._open_image)
        view.itemClicked.connect(self._open_image)
        return view

    # ---- following the session ---------------------------------------------------------------------

    def follow(self, session: Session) -> None:
        """Show ``session``'s edits and their effect; the controls call its commands."""
        self.session = session
        session.edits_changed.connect(self._show_edits)
        session.edit_effect_changed.connect(self._show_effect)
        session.input_changed.connect(lambda _: self._show_input())
        session.state_changed.connect(lambda _: self._show_state())
        session.model_changed.connect(lambda _: self._show_state())
        session.test_predictions.changed.connect(lambda: self.effect is None and self._show_effect(None))
        TellWhenShown(self, session.test_predictions.set_watched)  # the accuracy before any edit, while on screen
        self._show_edits(session.edits)
        self._show_effect(session.edit_effect)

    def _show_edits(self, edits: tuple[Edit, ...]) -> None:
        self.edit_list.clear()
        for number, edit in enumerate(edits, start=1):
            text = str(edit)
            self.edit_list.addItem(f"{number}. {text[0].upper()}{text[1:]}")
        if not edits:
            self.edit_list.addItem("None yet: these are the trained weights.")
        settings = {type(edit): edit for edit in edits}
        for slider, value in (
            (self.prune, round(100 * settings[Prune].fraction) if Prune in settings else 0),
            (self.noise, round(100 * settings[WeightNoise].scale) if WeightNoise in settings else 0),
            (self.temperature, slider_of(settings[Temperature].t) if Temperature in settings else 0),
        ):
            if not self._apply_timer.isActive():  # (a slider being moved keeps its place)
                slider.blockSignals(True)
                slider.setValue(value)
                slider.blockSignals(False)
        self._show_slider_labels()
        self._show_state()

    def _show_state(self) -> None:
        session = self.session
        training = session is not None and session.state.active
        editable = session is not None and not training and session.model is not None
        for control in (self.prune, self.noise, self.temperature):
            control.setEnabled(editable)
        edited = session is not None and bool(session.edits)
        self.undo_button.setEnabled(edited and not training)
        self.reset_button.setEnabled(edited and not training)
        self.save_button.setEnabled(edited and not training)
        self.state_note.setText(NOT_EDITABLE_WHILE_TRAINING if training else "")
        self.state_note.setVisible(training)

    def _show_slider_labels(self) -> None:
        self.prune_label.setText(f"{self.prune.value()} %")
        self.noise_label.setText(f"× {self.noise.value() / 100:.2f} spread")
        self.temperature_label.setText(f"t = {temperature_of(self.temperature.value()):.2g}")

    def changeEvent(self, event: QEvent) -> None:
        """A new theme: the change column is tinted from the new base colour."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self.effect is not None:
            self._show_classes(self.effect)

    # ---- the effect ----------------------------------------------------------------------------------

    def _show_effect(self, effect: EditEffect | None) -> None:
        self.effect = effect
        if effect is None:
            answers = self.session.test_predictions.predictions if self.session is not None else None
            self.accuracy.setText(f"Test accuracy {accuracy_text(answers.accuracy)}" if answers is not None else "Test accuracy")
            self.change.setText(INTRODUCTION)
            self.confidence.setText("")
            self._show_classes(None)
            self._show_changed(None)
            self._show_input()
            return
        before, after = effect.accuracy_before, effect.accuracy_after
        self.accuracy.setText(f"{accuracy_text(before)} → {accuracy_text(after)}")
        points = 100 * (after - before)
        images = len(effect.after.labels)
        moved = "no change" if points == 0 else f"{points:+.2f} points".replace("-", "−")
        warning = " The edited weights overflow: some answers are NaN." if effect.overflows else ""
        self.change.setText(f"Test accuracy on all {images:,} test images: {moved}.{warning}")
        self.confidence.setText(
            f"Mean confidence {percent(effect.confidence_before)} → {percent(effect.confidence_after)}\n"
            f"Loss (mean −log p of the true class) {effect.loss_before:.3f} → {effect.loss_after:.3f}"
        )
        self._show_classes(effect)
        self._show_changed(effect)
        self._show_input()

    def _show_classes(self, effect: EditEffect | None) -> None:
        table = self.classes
        if effect is None:
            table.setRowCount(0)
            return
        names = effect.after.class_names
        before, after = effect.per_class_before, effect.per_class_after
        table.setRowCount(len(names))
        base = self.palette().color(QPalette.ColorRole.Base)
        for row, name in enumerate(names):
            change = 100 * (after[row] - before[row])
            cells = [name, accuracy_text(before[row]), accuracy_text(after[row]), change_text(change)]
            for column, text in enumerate(cells):
                item = table.item(row, column)
                if item is None:
                    item = QTableWidgetItem()
                    table.setItem(row, column, item)
                item.setText(text)
                if column:
                    item.setTextAlignment(RIGHT)
            table.item(row, 3).setBackground(change_color(change, base))
            table.item(row, 3).setToolTip(f"{name}: {accuracy_text(before[row])} → {accuracy_text(after[row])}")

    def _show_changed(self, effect: EditEffect | None) -> None:
        for view, title, rows, what in (
            (self.broken, self.broken_title, effect.broken if effect else np.empty(0, int), "made wrong"),
            (self.mended, self.mended_title, effect.mended if effect else np.empty(0, int), "made right"),
        ):
            title.setText(f"<b>{len(rows):,}</b> {what}" + (f" (the surest {THUMBNAILS} shown)" if len(rows) > THUMBNAILS else ""))
            view.clear()
            if effect is None or self.session is None or self.session.dataset is None:
                continue
            images, names = self.session.dataset.test_images, effect.after.class_names
            for index in rows[:THUMBNAILS]:
                index = int(index)
                item = QListWidgetItem(QIcon(QPixmap.fromImage(ink_image(images[index]))), "")
                item.setData(Qt.ItemDataRole.UserRole, index)
                label, answer = int(effect.after.labels[index]), int(effect.after.predicted[index])
                was = int(effect.before.predicted[index])
                item.setToolTip(
                    f"Test image #{index}, a {names[label]}: read as {names[was]} before the edits, "
                    f"as {names[answer]} ({percent(effect.after.confidence[index])}) after"
                )
                view.addItem(item)

    def _show_input(self) -> None:
        session = self.session
        network_input = session.input if session is not None else None
        answers = session.input_answers() if session is not None else None
        if network_input is None:
            self.input_image.clear()
            self.input_answer.setText("Draw on the pad, or open a test image, to see its answer before → after.")
            return
        pixmap = QPixmap.fromImage(ink_image(network_input.pixels)).scaled(self.input_image.size(), Qt.AspectRatioMode.KeepAspectRatio)
        self.input_image.setPixmap(pixmap)
        what = network_input.origin.capitalize()
        if answers is None:
            model = session.model
            if model is None:
                self.input_answer.setText(what)
                return
            probabilities = model.predict_proba(network_input.pixels.reshape(1, -1))[0]
            names = model.class_names
            self.input_answer.setText(f"{what}: read as <b>{names[probabilities.argmax()]}</b> ({percent(probabilities.max())})")
            return
        names = session.model.class_names
        before, after = answers[0][0], answers[1][0]
        self.input_answer.setText(
            f"{what}:<br><b>{names[before.argmax()]}</b> ({percent(before.max())}) → "
            f"<b>{names[after.argmax()]}</b> ({percent(after.max())})<br><small>before → after the edits</small>"
        )

    # ---- commands --------------------------------------------------------------------------------------

    def _slid(self, edit: Edit) -> None:
        """A slider moved: edit once the throttle allows (the latest value of each slider wins)."""
        self._show_slider_labels()
        self._pending = [pending for pending in self._pending if type(pending) is not type(edit)] + [edit]
        if not self._apply_timer.isActive():
            self._apply_timer.start()

    def _apply_pending(self) -> None:
        pending, self._pending = self._pending, []
        for edit in pending:
            if self.session is not None and not self.session.edit_network(edit):
                self._show_edits(self.session.edits)  # refused: the sliders show the edits there are
                return

    def _undo(self) -> None:
        if self.session is not None:
            self.session.undo_edit()

    def _open_image(self, item: QListWidgetItem) -> None:
        if self.session is not None:
            self.session.open_test_image(int(item.data(Qt.ItemDataRole.UserRole)))

    def save_to(self, path: str) -> None:
        """Save the edited copy to ``path`` as a new model (see ``Session.save_edited_model``)."""
        if self.session is not None:
            self.session.save_edited_model(path)

    def _save_to_chosen_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the edited network as a new model", "edited.safetensors", "Models (*.safetensors)"
        )
        if path:
            self.save_to(path)


def temperature_of(value: int) -> float:
    """The temperature a slider position stands for: 10 ** (value / 100), rounded to 2 significant figures."""
    return float(f"{10 ** (value / TEMPERATURE_RANGE):.2g}")


def slider_of(t: float) -> int:
    return round(TEMPERATURE_RANGE * math.log10(t))


def change_text(points: float) -> str:
    """A change of accuracy in points: "+1.20", "−3.40", "0.00"; "n/a" for NaN (a class with no images)."""
    if not math.isfinite(points):
        return "n/a"
    return "0.00" if round(points, 2) == 0 else f"{points:+.2f}".replace("-", "−")


def change_color(points: float, base: QColor) -> QColor:
    """The background of a change: ``base`` tinted blue for a gain, orange for a loss, more for larger changes."""
    if not math.isfinite(points) or round(points, 2) == 0:
        return base
    hue = BETTER if points > 0 else WORSE
    tint = MOST_TINT * min(abs(points) / FULL_TINT_POINTS, 1.0) ** 0.5
    channels = [round((1 - tint) * b + tint * h) for b, h in zip(base.getRgb()[:3], hue.getRgb()[:3])]
    return QColor(*channels)
