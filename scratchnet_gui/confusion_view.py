"""The confusion matrix: for every true class (row), how its test images were predicted (columns).

The diagonal holds the right answers, coloured by the row's accuracy; every other cell is a kind of
mistake, coloured by how common it is, so the typical confusions (4 read as 9, 7 as 2) stand out even
though they are a hundred times rarer than right answers. A column on the right gives each class's
accuracy. Clicking a cell asks the session to show exactly those images in the browser; clicking a row or column
label asks for a whole true or predicted class.

The matrix always fits the widget: with many classes (up to a hundred or so) the cells shrink, long
row names are elided, a name goes beside every k-th row when rows are shorter than a line of text,
columns too narrow for their names show class numbers, and counts that do not fit a cell are left to
its tooltip, which always names both classes in full.

Public API of ``ConfusionView``: ``follow(session)`` shows the session's test-set answers
(``session.test_predictions``) and asks the session to show the test images of a clicked cell;
``set_predictions(predictions, weights="")`` shows answers given directly (the weights that gave them word the
title); signal ``filter_requested(object, object)`` = (true class or None, predicted class or None).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from scratchnet.nn.metrics import per_class_accuracy
from scratchnet.predictions import Predictions

from .on_screen import TellWhenShown
from .visuals import LEFT, WHITE, accuracy_text

if TYPE_CHECKING:
    from .session import Session

NAME_CHARACTERS = 16  # row labels are elided beyond about this many characters
# Blue for right answers and orange for mistakes (Okabe and Ito's palette): unlike green and red, they stay
# far apart for people with any of the common colour-vision deficiencies (tests/test_colour_vision.py).
DIAGONAL = np.array([0, 114, 178.0])  # right answers: blue
OFF_DIAGONAL = np.array([230, 120, 0.0])  # mistakes: orange


class ConfusionView(QWidget):
    """A painted heat map of the confusion matrix with per-class accuracy; cells are clickable."""

    filter_requested = Signal(object, object)  # (true class | None, predicted class | None)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.predictions: Predictions | None = None
        self.weights = ""  # which weights the predictions come from, e.g. "weights after epoch 3"
        self.matrix = np.zeros((0, 0), np.int64)
        self._hover: tuple[int | None, int | None] | None = None
        self.setMouseTracking(True)
        self.setMinimumSize(420, 360)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def follow(self, session: Session) -> None:
        """Show ``session``'s test-set answers; a click asks it to show those test images."""
        answers = session.test_predictions
        answers.changed.connect(lambda: self.set_predictions(answers.predictions, answers.weights))
        self.filter_requested.connect(session.show_test_images)
        TellWhenShown(self, answers.set_watched)  # the answers are computed while it is on screen

    def set_predictions(self, predictions: Predictions | None, weights: str = "") -> None:
        self.predictions, self.weights = predictions, weights
        self.matrix = predictions.confusion() if predictions is not None else np.zeros((0, 0), np.int64)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(640, 560)

    def title(self) -> str:
        """The first line above the matrix: overall accuracy, mistakes, and which weights made them."""
        p = self.predictions
        text = f"Test accuracy {accuracy_text(p.accuracy)}  ·  {p.mistakes} mistakes in {len(p.labels):,} images"
        return f"{text} — {self.weights}" if self.weights else text

    # ---- geometry -------------------------------------------------------------------------------

    def _layout(self) -> tuple[QRectF, float, float]:
        """The matrix area, the width of the row labels and the side of a cell. The block of axis title,
        row labels, matrix and accuracy column is centred across the widget."""
        names = self.predictions.class_names
        metrics = self.fontMetrics()
        longest = max(metrics.horizontalAdvance(name) for name in names)
        label_width = min(longest, NAME_CHARACTERS * metrics.averageCharWidth()) + 12
        header = 4.4 * metrics.height()  # title, explanation, axis title
        n = len(names)
        left_of_grid = metrics.height() + 8 + label_width  # axis title "true", row labels
        right_of_grid = 8 + metrics.horizontalAdvance(accuracy_text(1.0)) + 8  # accuracy column
        side = min((self.width() - left_of_grid - right_of_grid - 16) / n, (self.height() - header - 2.2 * metrics.height()) / n)
        side = max(side, 2.0)
        margin = max((self.width() - left_of_grid - side * n - right_of_grid) / 2, 0.0)
        grid = QRectF(margin + left_of_grid, header + metrics.height() * 1.4, side * n, side * n)
        return grid, label_width, side

    def cell_at(self, position: QPointF) -> tuple[int | None, int | None] | None:
        """(true, predicted) under ``position``: a cell gives both, a row label (true, None), a column
        label (None, predicted); None elsewhere."""
        if self.predictions is None:
            return None
        grid, label_width, side = self._layout()
        n = len(self.matrix)
        row, column = int((position.y() - grid.top()) // side), int((position.x() - grid.left()) // side)
        inside_rows, inside_columns = 0 <= row < n and position.y() >= grid.top(), 0 <= column < n and position.x() >= grid.left()
        if inside_rows and inside_columns:
            return row, column
        if inside_rows and grid.left() - label_width - 8 <= position.x() < grid.left():
            return row, None
        if inside_columns and grid.top() - self.fontMetrics().height() * 1.4 <= position.y() < grid.top():
            return None, column
        return None

    def column_labels(self, side: float) -> tuple[list[str], bool]:
        """The text above each column ("" for an unlabelled one) and whether it is class numbers rather than
        names: names when every one fits above its column, else the number of every k-th column."""
        names, metrics = self.predictions.class_names, self.fontMetrics()
        if all(metrics.horizontalAdvance(name) <= side for name in names):
            return list(names), False
        step = math.ceil(metrics.horizontalAdvance("000 ") / side)
        return [str(k) if k % step == 0 else "" for k in range(len(names))], True

    def cell_rect(self, true_class: int, predicted_class: int) -> QRectF:
        grid, _, side = self._layout()
        return QRectF(grid.left() + predicted_class * side, grid.top() + true_class * side, side, side)

    # ---- painting -------------------------------------------------------------------------------

    def _colors(self) -> np.ndarray:
        """Cell colours (n, n, 3): white to blue on the diagonal by the row's accuracy; white to orange
        elsewhere by the square root of the count over the largest mistake count, so rare ones still show."""
        matrix = self.matrix
        mistakes = matrix.astype(float)
        np.fill_diagonal(mistakes, 0)
        strength = np.sqrt(mistakes / max(mistakes.max(), 1.0))[..., None]
        colors = WHITE + strength * (OFF_DIAGONAL - WHITE)
        accuracy = np.nan_to_num(per_class_accuracy(matrix))[:, None]
        diagonal = np.arange(len(matrix))
        colors[diagonal, diagonal] = WHITE + accuracy * (DIAGONAL - WHITE)
        return colors

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.Text)
        if self.predictions is None:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter, "No model yet: the confusion matrix appears once there are predictions."
            )
            return
        names, matrix = self.predictions.class_names, self.matrix
        grid, label_width, side = self._layout()
        metrics = self.fontMetrics()
        bold = QFont(self.font())
        bold.setBold(True)
        left = max(grid.left() - label_width - metrics.height() - 8, 8.0)  # the header lines up with the block

        painter.setFont(bold)
        painter.setPen(text_color)
        painter.drawText(QRectF(left, 4, self.width() - left - 8, metrics.height() * 1.5), LEFT, self.title())
        painter.setFont(self.font())
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            QRectF(left, 4 + metrics.height() * 1.5, self.width() - left - 8, metrics.height() * 1.3),
            LEFT,
            "Rows: true class · columns: predicted class · click a cell to see those images in the browser",
        )
        painter.setPen(text_color)
        column_labels, numbered = self.column_labels(side)
        painter.drawText(
            QRectF(grid.left(), grid.top() - 2.6 * metrics.height(), grid.width(), metrics.height()),
            Qt.AlignmentFlag.AlignCenter,
            "predicted (class numbers; point at one for its name)" if numbered else "predicted",
        )
        painter.save()
        painter.translate(grid.left() - label_width - 8, grid.center().y())
        painter.rotate(-90)
        painter.drawText(
            QRectF(-grid.height() / 2, -metrics.height() - 2, grid.height(), metrics.height()), Qt.AlignmentFlag.AlignCenter, "true"
        )
        painter.restore()

        colors = self._colors()
        accuracy = per_class_accuracy(matrix)
        small = QFont(self.font())
        small.setPointSizeF(max(6.0, min(self.font().pointSizeF(), side / 3.2)))
        small_metrics = QFontMetricsF(small)
        line = metrics.height()
        row_step = math.ceil(line / side)  # a name beside every k-th row when rows are shorter than a line
        for i, name in enumerate(names):
            row_centre = grid.top() + (i + 0.5) * side
            painter.setFont(self.font())
            painter.setPen(text_color)
            if i % row_step == 0:
                painter.drawText(
                    QRectF(grid.left() - label_width - 4, row_centre - line / 2, label_width, line),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(label_width)),
                )
                acc = "–" if np.isnan(accuracy[i]) else accuracy_text(accuracy[i])
                painter.drawText(QRectF(grid.right() + 8, row_centre - line / 2, self.width() - grid.right() - 8, line), LEFT, acc)
            width = metrics.horizontalAdvance(column_labels[i]) + side
            painter.drawText(
                QRectF(grid.left() + (i + 0.5) * side - width / 2, grid.top() - line * 1.4, width, line * 1.3),
                Qt.AlignmentFlag.AlignCenter,
                column_labels[i],
            )
            painter.setFont(small)
            for j in range(len(names)):
                cell = self.cell_rect(i, j)
                color = QColor(*colors[i, j].astype(int))
                painter.fillRect(cell, color)
                count = str(matrix[i, j])
                if matrix[i, j] and small_metrics.horizontalAdvance(count) < side and small_metrics.height() <= side * 1.2:
                    painter.setPen(Qt.GlobalColor.white if color.lightness() < 140 else Qt.GlobalColor.black)
                    painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, count)
        painter.setFont(self.font())
        painter.setPen(text_color)
        painter.drawText(
            QRectF(grid.right() + 8, grid.top() - metrics.height() * 1.4, self.width(), metrics.height() * 1.3),
            LEFT,
            "accuracy",
        )
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        for k in range(len(names) + 1):
            painter.drawLine(QPointF(grid.left(), grid.top() + k * side), QPointF(grid.right(), grid.top() + k * side))
            painter.drawLine(QPointF(grid.left() + k * side, grid.top()), QPointF(grid.left() + k * side, grid.bottom()))
        if self._hover is not None and None not in self._hover:
            painter.setPen(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRect(self.cell_rect(*self._hover).adjusted(1, 1, -1, -1))

    # ---- interaction ----------------------------------------------------------------------------

    def _set_hover(self, hover: tuple[int | None, int | None] | None) -> None:
        """Outline the cell under the pointer (and show a pointing hand over anything clickable)."""
        if hover != self._hover:
            self._hover = hover
            self.setCursor(Qt.CursorShape.PointingHandCursor if hover else Qt.CursorShape.ArrowCursor)
            self.update()

    def mouseMoveEvent(self, event) -> None:
        hover = self.cell_at(event.position())
        self._set_hover(hover)
        if hover:
            QToolTip.showText(event.globalPosition().toPoint(), self.describe(*hover), self)

    def leaveEvent(self, event) -> None:
        self._set_hover(None)
        super().leaveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        target = self.cell_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and target is not None:
            self.filter_requested.emit(*target)

    def describe(self, true_class: int | None, predicted_class: int | None) -> str:
        names, matrix = self.predictions.class_names, self.matrix
        if predicted_class is None:
            return f"All {matrix[true_class].sum()} images of {names[true_class]}: click to show them"
        if true_class is None:
            return f"All {matrix[:, predicted_class].sum()} images predicted {names[predicted_class]}: click to show them"
        count = matrix[true_class, predicted_class]
        what = "read correctly" if true_class == predicted_class else f"read as {names[predicted_class]}"
        return f"{count} images of {names[true_class]} {what}: click to show them"
