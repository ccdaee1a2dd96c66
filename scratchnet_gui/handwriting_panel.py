"""The "My handwriting" tab: the learner's examples, and teaching the network to read them.

Left, the gallery: every example drawn on the pad (or imported) as a thumbnail, grouped by class, with
the count of each class; select some to relabel or delete them (Undo delete brings them back), and
import or export the collection as an IDX folder. Right, Teach: fine-tune the current model on the
examples mixed with MNIST replay (the curves draw live on the Training tab), then the evidence — held-out
accuracy and MNIST test accuracy before → after, a per-class table, the held-out drawings that flipped —
and Keep (the taught model becomes current, recorded as a run) or Discard.

Public API: ``HandwritingPanel.follow(session)``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scratchnet.finetune import NOTHING_HELD_OUT, FinetuneResult, unmeasured_reason
from scratchnet.handwriting import Examples

from .on_screen import RefreshWhenShown
from .session import Session
from .teaching import Taught
from .visuals import CORRECT, DIGITS, WRONG, ink_image, percent

THUMBNAIL = 56  # pixels on a side of a gallery thumbnail
RELOAD_EVERY_MS = 2000  # while on screen, look this often for examples other windows added (a few file stats)
TABLE_COLUMNS = (  # the per-class table of a Teach result: title, tooltip
    ("Class", "The class (digit)"),
    ("Examples", "Your examples of the class (in brackets: how many were held out to measure, not learnt from)"),
    ("Yours", "Accuracy on your held-out examples of the class, before → after teaching"),
    ("MNIST test", "Accuracy on MNIST's test images of the class, before → after teaching"),
)


class ExamplesModel(QAbstractListModel):
    """The examples as a list of thumbnails, grouped by class (then in the order they were collected),
    optionally of one class only. ``position(row)`` is the example's position in the collection."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.examples = Examples.empty()
        self.class_names: list[str] = DIGITS
        self.shown_class: int | None = None
        self.rows = np.zeros(0, np.int64)

    def set_examples(self, examples: Examples, class_names: list[str]) -> None:
        self.examples, self.class_names = examples, class_names
        self._update_rows()

    def show_class(self, label: int | None) -> None:
        """Show the examples of class ``label`` only; None shows every class."""
        self.shown_class = label
        self._update_rows()

    def _update_rows(self) -> None:
        self.beginResetModel()
        labels = self.examples.labels
        grouped = np.lexsort((np.arange(len(labels)), labels))
        self.rows = grouped if self.shown_class is None else grouped[labels[grouped] == self.shown_class]
        self.endResetModel()

    def position(self, row: int) -> int:
        return int(self.rows[row])

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        position = self.position(index.row())
        if role == Qt.ItemDataRole.DecorationRole:
            return thumbnail(self.examples.images[position])
        if role == Qt.ItemDataRole.DisplayRole:
            return class_name(self.class_names, self.examples.labels[position])
        if role == Qt.ItemDataRole.ToolTipRole:
            drawn = "drawn on the pad" if self.examples.drawings[position] is not None else "imported"
            return f"Example #{position}, a {class_name(self.class_names, self.examples.labels[position])}, {drawn}"
        return None


def thumbnail(image: np.ndarray) -> QPixmap:
    """An example image (H, W), ink high, as a THUMBNAIL-sized picture, dark on white."""
    return QPixmap.fromImage(ink_image(image)).scaled(THUMBNAIL, THUMBNAIL, mode=Qt.TransformationMode.SmoothTransformation)


def class_name(names: list[str], label: int) -> str:
    return names[label] if label < len(names) else str(label)


def before_after(before: float | None, after: float | None) -> str:
    """ "91.2 % → 97.5 %", with a dash for what nothing measures."""
    return " → ".join(percent(value) if value is not None else "—" for value in (before, after))


class HandwritingPanel(QWidget):
    """The gallery of the learner's examples and the Teach result; see the module docstring."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: Session | None = None
        self.examples_model = ExamplesModel(self)
        self._when_shown = RefreshWhenShown(self, self._refresh)  # for new models: one after every epoch of a run
        self._reload_timer = QTimer(self, interval=RELOAD_EVERY_MS)
        self._reload_timer.timeout.connect(self._reload)
        self._build()

    # ---- wiring ---------------------------------------------------------------------------------------

    def follow(self, session: Session) -> None:
        """Show ``session``'s handwriting collection, teach its model, show and settle what teaching did."""
        self.session = session
        session.handwriting.changed.connect(self._refresh)
        session.model_changed.connect(lambda _: self._when_shown.request())
        session.dataset_changed.connect(lambda _: self._update_teach())
        session.state_changed.connect(lambda _: self._update_teach())
        session.run_started.connect(lambda *_: self.result_view.hide())  # a new run: the result shown is the past
        session.taught.connect(self.show_result)
        self._refresh()

    def showEvent(self, event) -> None:
        """On screen: show the collection as it is now, and keep it so, with what other windows add to it."""
        super().showEvent(event)
        self._reload()
        self._reload_timer.start()

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self._reload_timer.stop()

    def _reload(self) -> None:
        if self.session is not None:
            self.session.handwriting.reload()

    # ---- building -------------------------------------------------------------------------------------

    def _build(self) -> None:
        self.class_filter = QComboBox()
        self.class_filter.currentIndexChanged.connect(lambda _: self.examples_model.show_class(self.class_filter.currentData()))
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {WRONG.name()}")
        self.gallery = QListView()
        self.gallery.setModel(self.examples_model)
        self.gallery.setViewMode(QListView.ViewMode.IconMode)
        self.gallery.setResizeMode(QListView.ResizeMode.Adjust)
        self.gallery.setMovement(QListView.Movement.Static)
        self.gallery.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.gallery.setGridSize(QSize(THUMBNAIL + 16, THUMBNAIL + 24))
        self.gallery.setUniformItemSizes(True)
        self.gallery.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.gallery.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.gallery.customContextMenuRequested.connect(self._context_menu)
        self.gallery.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.relabel_combo = QComboBox()
        self.relabel_button = QPushButton("Relabel")
        self.relabel_button.setToolTip("Give the selected examples the class on the left")
        self.relabel_button.clicked.connect(lambda: self.relabel(self.relabel_combo.currentIndex()))
        self.delete_button = QPushButton("Delete")
        self.delete_button.setToolTip("Remove the selected examples (Undo delete brings them back)")
        self.delete_button.clicked.connect(self.delete_selected)
        self.undo_button = QPushButton("Undo delete")
        self.undo_button.clicked.connect(lambda: self.session.handwriting.undo_delete())
        import_button = QPushButton("Import…")
        import_button.setToolTip("Add the examples of a folder holding images-idx3-ubyte and labels-idx1-ubyte")
        import_button.clicked.connect(self.import_folder)
        export_button = QPushButton("Export…")
        export_button.setToolTip("Write your examples to a folder as IDX files (with their strokes)")
        export_button.clicked.connect(self.export_folder)

        top = QHBoxLayout()  # two short rows rather than one long one: the tab must fit a 1024-pixel screen
        top.addWidget(QLabel("Show"))
        top.addWidget(self.class_filter)
        top.addStretch(1)
        top.addWidget(import_button)
        top.addWidget(export_button)
        edit = QHBoxLayout()
        edit.addWidget(QLabel("Relabel as"))
        for widget in (self.relabel_combo, self.relabel_button, self.delete_button, self.undo_button):
            edit.addWidget(widget)
        edit.addStretch(1)
        gallery_box = QGroupBox("Your examples")
        left = QVBoxLayout(gallery_box)
        left.addLayout(top)
        left.addWidget(self.counts)
        left.addWidget(self.problem)
        left.addWidget(self.gallery, 1)
        left.addLayout(edit)

        layout = QHBoxLayout(self)
        layout.addWidget(gallery_box, 4)
        layout.addWidget(self._build_teach(), 5)
        self.problem.hide()

    def _build_teach(self) -> QWidget:
        self.teach_button = QPushButton("Teach")
        self.teach_button.setToolTip("Fine-tune the current model on your examples mixed with MNIST, so it does not forget")
        self.teach_button.clicked.connect(lambda: self.session.teach())
        self.teach_reason = QLabel()
        self.teach_reason.setWordWrap(True)
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.class_table = QTableWidget(0, len(TABLE_COLUMNS))
        self.class_table.setWordWrap(False)
        self.class_table.verticalHeader().hide()
        self.class_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.class_table.horizontalHeader()
        for column, (title, tip) in enumerate(TABLE_COLUMNS):
            item = QTableWidgetItem(title)
            item.setToolTip(tip)
            self.class_table.setHorizontalHeaderItem(column, item)
            fits = QHeaderView.ResizeMode.ResizeToContents if column < 2 else QHeaderView.ResizeMode.Stretch
            header.setSectionResizeMode(column, fits)
        self.fixed = self._flip_list()
        self.broken = self._flip_list()
        self.fixed_label, self.broken_label = QLabel(), QLabel()
        self.keep_button = QPushButton("Keep the taught model")
        self.keep_button.setToolTip("Make the taught model the current one (recorded as a run)")
        self.keep_button.clicked.connect(self.keep)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("Forget the taught model: keep the model as it was before teaching")
        self.discard_button.clicked.connect(self.discard)
        self.verdict = QLabel(wordWrap=True)  # a sentence under Keep and Discard: beside them it squeezed them at 1024 px

        box = QGroupBox("Teach the network your handwriting")
        column = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(self.teach_button)
        row.addWidget(self.teach_reason, 1)
        column.addLayout(row)
        self.result_view = QWidget()
        result = QVBoxLayout(self.result_view)
        result.setContentsMargins(0, 0, 0, 0)
        result.addWidget(self.headline)
        result.addWidget(self.class_table, 1)
        for label, strip in ((self.fixed_label, self.fixed), (self.broken_label, self.broken)):
            result.addWidget(label)
            result.addWidget(strip)
        buttons = QHBoxLayout()
        buttons.addWidget(self.keep_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        result.addLayout(buttons)
        result.addWidget(self.verdict)
        column.addWidget(self.result_view, 1)
        self.result_view.hide()
        column.addStretch(0)
        return box

    def _flip_list(self) -> QListWidget:
        """A strip of the held-out drawings that flipped (a few dozen at most)."""
        strip = QListWidget()
        strip.setViewMode(QListView.ViewMode.IconMode)
        strip.setFlow(QListView.Flow.LeftToRight)
        strip.setWrapping(False)
        strip.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        strip.setFixedHeight(THUMBNAIL + 40)
        strip.setMovement(QListView.Movement.Static)
        return strip

    # ---- the gallery ----------------------------------------------------------------------------------

    def class_names(self) -> list[str]:
        model = self.session.model if self.session is not None else None
        return list(model.class_names) if model is not None else DIGITS

    def selected_positions(self) -> list[int]:
        return sorted(self.examples_model.position(index.row()) for index in self.gallery.selectionModel().selectedIndexes())

    def relabel(self, label: int) -> None:
        self.session.handwriting.relabel(self.selected_positions(), label)

    def delete_selected(self) -> None:
        self.session.handwriting.delete(self.selected_positions())

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a folder of examples (images-idx3-ubyte, labels-idx1-ubyte)")
        if folder and (count := self.session.handwriting.import_folder(folder)):
            self.session.say(f"Imported {count} examples from {folder}", 8000)

    def export_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose the folder to export your examples to")
        if folder and self.session.handwriting.export_folder(folder):
            self.session.say(f"Exported {len(self.session.handwriting.examples)} examples to {folder}", 8000)

    def _context_menu(self, point) -> None:
        if not self.selected_positions():
            return
        menu = QMenu(self)
        relabel = menu.addMenu("Relabel as")
        for label, name in enumerate(self.class_names()):
            relabel.addAction(name, lambda label=label: self.relabel(label))
        menu.addAction("Delete", self.delete_selected)
        menu.exec(self.gallery.viewport().mapToGlobal(point))

    def _refresh(self) -> None:
        """Show the collection as it is now, with the class names of the current model."""
        names, examples = self.class_names(), self.session.handwriting.examples
        self.problem.setText(self.session.handwriting.problem or "")
        self.problem.setVisible(self.session.handwriting.problem is not None)
        self.examples_model.set_examples(examples, names)
        counts = examples.counts(len(names))
        self.counts.setText(
            f"{len(examples)} examples: " + "  ".join(f"{name} × {count}" for name, count in zip(names, counts))
            if len(examples)
            else "No examples yet: draw a digit on the Drawing pad and press “This is a …” (or type the digit)."
        )
        shown = self.class_filter.currentData()
        self.class_filter.blockSignals(True)
        self.class_filter.clear()
        self.class_filter.addItem("all classes", None)
        for label, (name, count) in enumerate(zip(names, counts)):
            self.class_filter.addItem(f"{name} ({count})", label)
        self.class_filter.setCurrentIndex(max(self.class_filter.findData(shown), 0))
        self.class_filter.blockSignals(False)
        if [self.relabel_combo.itemText(i) for i in range(self.relabel_combo.count())] != names:
            self.relabel_combo.clear()
            self.relabel_combo.addItems(names)
        self._update_buttons()
        self._update_teach()

    def _update_buttons(self) -> None:
        selected = bool(self.gallery.selectionModel().hasSelection())
        self.relabel_button.setEnabled(selected)
        self.delete_button.setEnabled(selected)
        self.undo_button.setEnabled(self.session is not None and self.session.handwriting.can_undo)

    # ---- teaching -------------------------------------------------------------------------------------

    def _update_teach(self) -> None:
        refusal = self.session.teach_refusal()
        self.teach_button.setEnabled(refusal is None)
        if self.session.state.active:
            self.teach_reason.setText("Training… the curves are on the Training tab.")
        else:
            ready = "Fine-tunes the current model for a few seconds; you choose to keep it or not."
            self.teach_reason.setText(refusal or unmeasured_reason(self.session.handwriting.examples.labels) or ready)

    def show_result(self, taught: Taught) -> None:
        """Show what teaching did, with Keep and Discard."""
        result, names = taught.result, self.class_names()
        self.headline.setText(headline(result, names))
        self.class_table.setRowCount(0)
        for row in result.classes:
            if not row.examples:
                continue
            counts = f"{row.examples} ({row.held_out})"
            cells = (row.name, counts, before_after(row.examples_before, row.examples_after), before_after(row.test_before, row.test_after))
            position = self.class_table.rowCount()
            self.class_table.insertRow(position)
            for column, text in enumerate(cells):
                self.class_table.setItem(position, column, QTableWidgetItem(text))
        self._show_flips(self.fixed, self.fixed_label, taught, result.fixed, "Now read right (misread before)")
        self._show_flips(self.broken, self.broken_label, taught, result.broken, "Now misread (read right before)")
        self.keep_button.setEnabled(True)
        self.discard_button.setEnabled(True)
        self.verdict.setText("")
        self.result_view.show()

    def _show_flips(self, strip: QListWidget, label: QLabel, taught: Taught, positions: np.ndarray, title: str) -> None:
        result, names = taught.result, self.class_names()
        label.setText(f"{title}: {len(positions)}")
        strip.clear()
        strip.setVisible(len(positions) > 0)
        held_out = list(result.held_out)
        for position in positions:
            i = held_out.index(position)
            before, after = (class_name(names, result.predicted_before[i]), class_name(names, result.predicted_after[i]))
            item = QListWidgetItem(thumbnail(taught.examples.images[position]), f"{before} → {after}")
            item.setToolTip(f"A {class_name(names, taught.examples.labels[position])} you drew: read as {before} before, {after} after")
            strip.addItem(item)

    def keep(self) -> None:
        self.session.keep_taught()
        self._settled("Kept: the taught model is the current one.")

    def discard(self) -> None:
        self.session.discard_taught()
        self._settled("Discarded: the model is as it was before teaching.")

    def _settled(self, text: str) -> None:
        self.keep_button.setEnabled(False)
        self.discard_button.setEnabled(False)
        self.verdict.setText(text)


def headline(result: FinetuneResult, names: list[str]) -> str:
    """The result in two or three lines of HTML: held-out accuracy and MNIST test accuracy before → after."""
    color = CORRECT if (result.examples_after or 0) >= (result.examples_before or 0) else WRONG
    change = before_after(result.examples_before, result.examples_after)
    held_out = (
        f" ({len(result.held_out)} examples): <b style='color:{color.name()}'>{change}</b>"
        if len(result.held_out)
        else f": {NOTHING_HELD_OUT}"
    )
    lines = [f"<b>Your held-out handwriting</b>{held_out}", f"<b>MNIST test</b>: {before_after(result.test_before, result.test_after)}"]
    if len(result.held_out) and result.train_only_classes:
        classes = ", ".join(class_name(names, label) for label in result.train_only_classes)
        lines.append(f"Too few examples to hold any out (used for training only): {classes}.")
    if result.training.status != "completed":
        lines.append(f"The fine-tune {result.training.message}.")
    return "<br>".join(lines)
