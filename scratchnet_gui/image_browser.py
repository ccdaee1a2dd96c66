"""The test-set browser: all 10 000 test images with the network's answer on each, filtered and sorted.

A ``QListView`` in icon mode over ``ImageListModel``, a ``QAbstractListModel`` whose rows are an index
array into the test set: filtering and sorting compute a new index array with NumPy
(``Predictions.select``) instead of touching 10 000 items. Thumbnails are made when a cell is first
painted and then cached, up to ``THUMBNAIL_CACHE_BYTES`` (all of MNIST's test set; of larger images, the least
recently painted go first), so that memory stays bounded whatever the dataset; every cell has the same size, so
the view lays out and scrolls in constant time.

The predictions are the session's (``session.test_predictions``, computed off the window's thread); the browser
only shows them when they arrive. ``follow(session)`` connects it; ``show_filter(true_class, predicted_class)``
shows one cell of the confusion matrix; "Open in drawing pad" makes the selected image the session's input.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QRect, QSignalBlocker, QSize, Qt
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)

from scratchnet.data import Dataset, to_inputs
from scratchnet.model import Model
from scratchnet.predictions import ORDERS, Predictions

from .on_screen import TellWhenShown
from .visuals import CORRECT, NO_MODEL, WRONG, ImageView, ProbabilityBars, accuracy_text, figure, ink_image, percent, saliency_image

IMAGE_ROLE = Qt.ItemDataRole.UserRole  # the test-set index of a row
THUMBNAIL = 56  # pixels: 28×28 images shown twice their size
CELL = QSize(100, 96)
THUMBNAIL_CACHE_BYTES = 8 * 1024 * 1024  # the thumbnails' pixels kept at most: 10 000 of 28×28, 500 of 128×128
CLASS_NAME_CHARACTERS = 14  # the class filters are this wide; longer names are elided, in full in the tooltips
SELECT_IMAGE = "Select an image to see the network's probabilities for it."

if TYPE_CHECKING:
    from .session import Session


class ImageListModel(QAbstractListModel):
    """Rows = ``self.rows``, an index array into the test images; data() answers from NumPy arrays."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.images = np.zeros((0, 28, 28), np.uint8)
        self.labels = np.zeros(0, np.int64)
        self.class_names: list[str] = []
        self.predictions: Predictions | None = None
        self.threshold = 0.0  # answers less sure than this are "not sure"
        self.rows = np.zeros(0, np.int64)
        self._thumbnails: OrderedDict[int, QImage] = OrderedDict()  # by test-set index, the most recently painted last

    def set_images(self, images: np.ndarray, labels: np.ndarray, class_names: list[str]) -> None:
        self.beginResetModel()
        self.images, self.labels, self.class_names = images, labels, list(class_names)
        self.predictions, self.rows = None, np.arange(len(images))
        self._thumbnails.clear()
        self.endResetModel()

    def set_view(self, rows: np.ndarray, predictions: Predictions | None) -> None:
        """Show the images ``rows`` (in this order) with these predictions."""
        self.beginResetModel()
        self.rows, self.predictions = rows, predictions
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def thumbnail(self, image_index: int) -> QImage:
        """The image ``image_index`` as painted, from the cache (which then forgets the least recently painted)."""
        image = self._thumbnails.pop(image_index, None)
        if image is None:
            image = ink_image(self.images[image_index])
        self._thumbnails[image_index] = image
        while len(self._thumbnails) > self.thumbnails_kept:
            self._thumbnails.popitem(last=False)
        return image

    @property
    def thumbnails_kept(self) -> int:
        """How many thumbnails the cache holds at most: ``THUMBNAIL_CACHE_BYTES`` of them (one pixel, one byte)."""
        return max(THUMBNAIL_CACHE_BYTES // max(self.images[0].size if len(self.images) else 1, 1), 1)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        i = int(self.rows[index.row()])
        if role == IMAGE_ROLE:
            return i
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(i)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.describe(i, long=role == Qt.ItemDataRole.ToolTipRole)  # a string whatever the predictions hold
        return None

    def describe(self, i: int, long: bool = False) -> str:
        """Short: "✓ 7  99.5 %" or "✗ 2 (7)  87.3 %"; long: a sentence for the tooltip and the detail pane,
        "Test image #12, labelled 7: predicted 2, 87.3 % sure. ✗ Wrong (loss 2.06)"."""
        true = self.class_names[self.labels[i]]
        p = self.predictions
        if p is None:
            return f"Test image #{i}, labelled {true}" if long else true
        guess, sure = self.class_names[p.predicted[i]], percent(p.confidence[i])
        if long:
            verdict = "✓ Right" if p.correct[i] else "✗ Wrong"
            doubt = f" Not sure: below the {100 * self.threshold:g} % confidence threshold." if self.unsure(i) else ""
            return f"Test image #{i}, labelled {true}: predicted {guess}, {sure} sure. {verdict} (loss {figure(p.loss[i])}).{doubt}"
        return "  ".join(self.caption(i))

    def unsure(self, i: int) -> bool:
        """The answer on image ``i`` is less sure than the threshold: "not sure"."""
        return self.predictions is not None and bool(self.predictions.confidence[i] < self.threshold)

    def caption(self, i: int) -> tuple[str, ...]:
        """The thumbnail's caption in parts: the answer, then the confidence when there are predictions,
        ("✗ 2 (7)", "87.3 %"); a long answer is elided, never the confidence."""
        true = self.class_names[self.labels[i]]
        p = self.predictions
        if p is None:
            return (true,)
        guess = self.class_names[p.predicted[i]]
        return (f"✓ {guess}" if p.correct[i] else f"✗ {guess} ({true})"), percent(p.confidence[i])


class ThumbnailDelegate(QStyledItemDelegate):
    """Paints a cell: the thumbnail, then the answer in green with ✓ or in red with ✗ (the mark says it
    without colour)."""

    def sizeHint(self, option, index) -> QSize:
        return CELL

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        model = index.model()
        i = index.data(IMAGE_ROLE)
        rect = option.rect
        palette = option.palette
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        image_rect = QRect(rect.left() + (rect.width() - THUMBNAIL) // 2, rect.top() + 6, THUMBNAIL, THUMBNAIL)
        painter.drawImage(image_rect, index.data(Qt.ItemDataRole.DecorationRole))
        text_rect = QRect(rect.left() + 2, image_rect.bottom() + 2, rect.width() - 4, rect.bottom() - image_rect.bottom() - 4)
        p = model.predictions
        if p is None:
            color = palette.color(QPalette.ColorRole.Text)
        else:
            color = CORRECT if p.correct[i] else WRONG
        if option.state & QStyle.StateFlag.State_Selected:
            color = palette.color(QPalette.ColorRole.HighlightedText)
        painter.setPen(color)
        text = fit_caption(painter.fontMetrics(), model.caption(i), text_rect.width())
        if model.unsure(i):
            text += "\nnot sure"
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)


def fit_caption(metrics: QFontMetrics, parts: tuple[str, ...], width: int) -> str:
    """The caption ``parts`` joined to fit ``width`` pixels by eliding the first (the answer), so that the rest
    (the confidence) always shows: ("✗ class 12: a long name (7)", "87.3 %") → "✗ class 12: a lo…  87.3 %"."""
    answer, *rest = parts
    tail = "".join(f"  {part}" for part in rest)
    return metrics.elidedText(answer, Qt.TextElideMode.ElideRight, max(width - metrics.horizontalAdvance(tail), 0)) + tail


class ImageBrowser(QWidget):
    """Filter bar, the grid of test images and a detail pane for the selected one."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: Session | None = None
        self.dataset: Dataset | None = None
        self.predictions: Predictions | None = None
        self.model: Model | None = None  # the model the predictions shown come from
        self.weights = ""  # which weights the predictions come from (weights_caption)
        self.problem = ""  # why there are no predictions, when a model is set but does not fit the data
        self.list_model = ImageListModel(self)
        self._build()

    def follow(self, session: Session) -> None:
        """Show ``session``'s test images with its current model's answers on them."""
        self.session = session
        session.dataset_changed.connect(self.set_dataset)
        session.test_predictions.changed.connect(self._show_predictions)
        session.test_images_requested.connect(self.show_filter)
        session.confidence_threshold_changed.connect(self._threshold_changed)
        self._threshold_changed(session.confidence_threshold)
        TellWhenShown(self, session.test_predictions.set_watched)  # the answers are computed while it is on screen

    # ---- public slots ---------------------------------------------------------------------------

    def set_dataset(self, dataset: Dataset) -> None:
        """Show ``dataset``'s test images (the session's: call ``follow`` first)."""
        self.dataset = dataset
        self.list_model.set_images(dataset.test_images, dataset.test_labels, dataset.class_names)
        longest = max(len(name) for name in ["any", *dataset.class_names])
        for combo in (self.true_combo, self.predicted_combo):
            combo.setMinimumContentsLength(min(longest, CLASS_NAME_CHARACTERS))
            with QSignalBlocker(combo):
                combo.clear()
                combo.addItem("any", None)
                for k, name in enumerate(dataset.class_names):
                    combo.addItem(name, k)
                    combo.setItemData(k + 1, name, Qt.ItemDataRole.ToolTipRole)  # the full name, however long
        self._show_predictions()

    def show_filter(self, true_class: int | None, predicted_class: int | None) -> None:
        """Show the images of this true class predicted as this class; None means any."""
        with QSignalBlocker(self.mistakes_box), QSignalBlocker(self.true_combo), QSignalBlocker(self.predicted_combo):
            self.mistakes_box.setChecked(False)
            for combo, value in ((self.true_combo, true_class), (self.predicted_combo, predicted_class)):
                combo.setCurrentIndex(max(combo.findData(value), 0))
        self.apply_filter()

    def open_selected_in_pad(self) -> None:
        """Make the selected image the session's input, to read and draw over on the pad."""
        self.session.open_test_image(self.selected_image())

    def _show_predictions(self) -> None:
        """Show the session's latest answers (or none, and the problem that prevented them)."""
        answers = self.session.test_predictions
        if answers.dataset is not self.dataset:  # answers about other images than these: set_dataset follows
            return
        self.predictions, self.model, self.problem, self.weights = answers.predictions, answers.model, answers.problem, answers.weights
        for control in (self.predicted_combo, self.mistakes_box, self.sort_combo):
            control.setEnabled(self.predictions is not None)
        self.apply_filter(keep_scroll=True)

    def _threshold_changed(self, threshold: float) -> None:
        self.list_model.threshold = threshold
        self.list_view.viewport().update()
        if self.dataset is not None:
            self._show_count(self.rows)
            self._show_detail()

    # ---- filtering ------------------------------------------------------------------------------

    def apply_filter(self, keep_scroll: bool = False) -> None:
        """Recompute the shown rows from the controls, keeping the selected image if it is still shown
        (and, with ``keep_scroll``, the scroll position: new predictions should not move the view)."""
        if self.dataset is None:
            return
        selected = self.selected_image()
        scroll = self.list_view.verticalScrollBar().value()
        for combo in (self.true_combo, self.predicted_combo):
            combo.setToolTip(combo.currentText())  # the full class name, which the box may elide
        true_class = self.true_combo.currentData()
        p = self.predictions
        if p is None:
            labels = self.dataset.test_labels
            rows = np.arange(len(labels)) if true_class is None else np.flatnonzero(labels == true_class)
        else:
            rows = p.select(true_class, self.predicted_combo.currentData(), self.mistakes_box.isChecked(), self.sort_combo.currentData())
        self.list_model.set_view(rows, p)
        self._show_count(rows)
        if selected is not None and selected in rows:
            index = self.list_model.index(int(np.flatnonzero(rows == selected)[0]))
            self.list_view.setCurrentIndex(index)
        else:
            self._show_detail()
        if keep_scroll:
            self.list_view.verticalScrollBar().setValue(scroll)
        elif selected is not None:
            self.list_view.scrollTo(self.list_view.currentIndex())

    def _controls_changed(self) -> None:
        self.apply_filter()  # not connected directly: the signals' value would land in keep_scroll

    @property
    def rows(self) -> np.ndarray:
        """Test-set indices of the images shown, in display order."""
        return self.list_model.rows

    def selected_image(self) -> int | None:
        index = self.list_view.currentIndex()
        return index.data(IMAGE_ROLE) if index.isValid() else None

    def _show_count(self, rows: np.ndarray) -> None:
        total = len(self.dataset.test_labels)
        text = f"{len(rows):,} of {total:,} shown"
        if self.predictions is not None:
            p = self.predictions
            text += f" · {p.mistakes} misclassified ({accuracy_text(p.accuracy)} correct)"
            text += f" · {int((p.confidence < self.list_model.threshold).sum()):,} not sure (below {100 * self.list_model.threshold:g} %)"
            if self.weights:
                text += f" — {self.weights}"
        elif self.problem:
            text += f" · {self.problem}"
        else:
            text += " · no model yet"
        self.count_label.setText(text)

    # ---- layout and detail pane -----------------------------------------------------------------

    def _build(self) -> None:
        self.true_combo, self.predicted_combo = QComboBox(), QComboBox()
        self.mistakes_box = QCheckBox("Mistakes only")
        self.sort_combo = QComboBox()
        for key, label in ORDERS.items():
            self.sort_combo.addItem(f"Sort by {label}", key)
        for combo in (self.true_combo, self.predicted_combo):  # long class names are elided, not held wide
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        for combo in (self.true_combo, self.predicted_combo, self.sort_combo):
            combo.currentIndexChanged.connect(self._controls_changed)
        self.mistakes_box.toggled.connect(self._controls_changed)
        self.count_label = QLabel()
        self.count_label.setWordWrap(True)
        bar = QHBoxLayout()
        for widget in (
            QLabel("True class"),
            self.true_combo,
            QLabel("Predicted"),
            self.predicted_combo,
            self.mistakes_box,
            self.sort_combo,
        ):
            bar.addWidget(widget)
        bar.addStretch(1)

        view = self.list_view = QListView()
        view.setViewMode(QListView.ViewMode.IconMode)
        view.setMovement(QListView.Movement.Static)
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setUniformItemSizes(True)
        view.setLayoutMode(QListView.LayoutMode.Batched)
        view.setBatchSize(500)
        view.setGridSize(CELL)
        view.setSpacing(0)
        view.setItemDelegate(ThumbnailDelegate(view))
        view.setModel(self.list_model)
        view.selectionModel().currentChanged.connect(self._show_detail)

        self.detail_image = ImageView("Select an image", minimum=168)
        self.detail_saliency = QCheckBox("Saliency overlay")
        self.detail_saliency.setToolTip("Red: more ink here would make the network surer of its answer; blue: less sure.")
        self.detail_saliency.toggled.connect(self._show_detail)
        self.detail_text = QLabel()
        self.detail_text.setWordWrap(True)
        font = QFont(self.detail_text.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.detail_text.setFont(font)
        self.detail_bars = ProbabilityBars()
        self.open_button = QPushButton("Open in drawing pad")
        self.open_button.setToolTip("Copy this image to the drawing pad to edit it and watch the prediction change")
        self.open_button.clicked.connect(self.open_selected_in_pad)
        detail = QWidget()
        column = QVBoxLayout(detail)
        column.addWidget(self.detail_image, 3)
        column.addWidget(self.detail_saliency)
        column.addWidget(self.detail_text)
        column.addWidget(self.detail_bars, 3)
        column.addWidget(self.open_button)

        splitter = QSplitter()
        splitter.addWidget(view)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        self.legend = QLabel(
            "Under each image: ✓ right or ✗ wrong, the predicted class, the true class in brackets when wrong, confidence;"
            ' "not sure" below the confidence threshold (set in the Robustness tab)'
        )
        self.legend.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.legend.setWordWrap(True)  # both lines wrap rather than hold the window wide
        layout.addWidget(self.count_label)
        layout.addWidget(self.legend)
        layout.addWidget(splitter, 1)
        self._show_detail()

    def _show_detail(self) -> None:
        i = self.selected_image()
        self.open_button.setEnabled(i is not None)
        self.detail_saliency.setEnabled(i is not None and self.predictions is not None)
        no_model = self.session is None or self.session.model is None
        self.detail_bars.placeholder = self.problem or (NO_MODEL if no_model else SELECT_IMAGE)
        if i is None:
            self.detail_image.set_image(None)
            self.detail_text.setText("")
            self.detail_bars.set_probabilities(None, [])
            return
        image, names = self.dataset.test_images[i], self.dataset.class_names
        self.detail_text.setText(self.list_model.describe(i, long=True))
        if self.predictions is None:
            self.detail_image.set_image(ink_image(image))
            self.detail_bars.set_probabilities(None, names)
            return
        if self.detail_saliency.isChecked():
            model = self.model
            saliency, _ = model.saliency(to_inputs(image[None], model.dtype.type))
            self.detail_image.set_image(saliency_image(image / 255.0, saliency.reshape(image.shape)))
        else:
            self.detail_image.set_image(ink_image(image))
        self.detail_bars.set_probabilities(self.predictions.probabilities[i], names, true_class=int(self.dataset.test_labels[i]))
