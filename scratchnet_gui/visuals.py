"""Pictures of arrays, shared by the panels: NumPy → QImage helpers and three small painted widgets.

- ``ImageView`` shows an image scaled to fit (pixelated, so a 28×28 input shows its pixels);
- ``TileGrid`` is an ``ImageView`` of a grid of tiles (weight tiles, activation cells) that says which tile is
  clicked, or chosen with the arrow keys and Enter, and explains each in a tooltip;
- ``ColorKey`` is the labelled strip of colours under a picture of numbers;
- ``ProbabilityBars`` shows class probabilities as labelled bars, the winner highlighted;
- ``ActivationsView`` shows what each hidden layer of a model computes for one input.

Images are drawn the way people write: dark ink on white paper, whatever the array stores (the
network's inputs have ink = 1). Signed quantities (weights, gradients) use blue for negative, white for
zero and red for positive.

Every helper here copes with NaN and infinity, whatever a model computes: numbers show as "n/a", colours
as grey, pixels as blank paper.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QAbstractButton, QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

from scratchnet.model import Model

DIGITS = [str(digit) for digit in range(10)]  # the class names shown before a model names its own

RED, WHITE, BLUE = np.array([178, 24, 43.0]), np.array([255, 255, 255.0]), np.array([33, 102, 172.0])
DARK_BLUE = np.array([8, 48, 107.0])
ACCENT = QColor(33, 113, 181)
MUTED = QColor(176, 194, 214)
CORRECT = QColor(26, 128, 70)
WRONG = QColor(196, 40, 40)
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
NO_MODEL = "No model yet: train one or open a model file."
NOT_A_NUMBER = "n/a"  # what a NaN or infinite figure shows as
NO_VALUE_GREY = 200.0  # the colour of a cell without a (finite) value
OVERLAY_COLORS = ["#8e44ad", "#7f8c8d", "#16a085", "#c0392b", "#d35400", "#2c3e50", "#b7950b"]  # recorded runs'


def overlay_color(position: int) -> QColor:
    """The colour of the recorded run overlaid ``position``-th (0: the first) on the Training plots, also shown
    beside it in the Runs tab: light, as a transparent line would be, but opaque, which is much faster to draw."""
    color = QColor(OVERLAY_COLORS[position % len(OVERLAY_COLORS)])
    return QColor(*(round(255 - 0.75 * (255 - c)) for c in (color.red(), color.green(), color.blue())))


def figure(value: float, spec: str = ".2f") -> str:
    """``value`` formatted with ``spec``, or "n/a" when it is NaN or infinite."""
    return format(float(value), spec) if math.isfinite(value) else NOT_A_NUMBER


def hold_widest(button: QAbstractButton, texts: tuple[str, ...]) -> None:
    """Keep ``button`` as wide as the widest of the ``texts`` it shows in turn ("Pause", "Resume"), so that a new
    text never moves the buttons beside it under the pointer."""
    shown, widths = button.text(), []
    for text in texts:
        button.setText(text)
        widths.append(button.sizeHint().width())
    button.setText(shown)
    button.setMinimumWidth(max(widths))


def accuracy_text(fraction: float | None) -> str:
    """An accuracy (the fraction of answers right) as the app writes it everywhere, in the plots, the matrix and the
    browser alike: a percentage with two decimals, "98.56 %"; "–" when there is none, "n/a" when NaN. (A confidence
    is written with ``percent``.)"""
    if fraction is None:
        return "–"
    return f"{figure(100 * float(fraction))} %" if math.isfinite(fraction) else NOT_A_NUMBER


def percent(probability: float) -> str:
    """A probability (or fraction) as a percentage with one decimal, rounded down: "99.5 %". Only a
    certainty shows as 100.0 %, so a 99.96 % answer is never presented as sure. NaN or infinity: "n/a"."""
    if not math.isfinite(probability):
        return NOT_A_NUMBER
    return f"{math.floor(round(1000 * float(probability), 3)) / 10:.1f} %"  # round(): float32 0.57 is 0.5699999...


def _qimage(array: np.ndarray, fmt: QImage.Format) -> QImage:
    """A new QImage holding a copy of a uint8 array (H, W) or (H, W, channels), row by row (Qt pads each row of
    its own buffer to a multiple of 4 bytes, so the rows are copied to its stride)."""
    height, width = array.shape[:2]
    image = QImage(width, height, fmt)
    rows = np.frombuffer(image.bits(), np.uint8).reshape(height, image.bytesPerLine())
    rows[:, : array[0].size] = array.reshape(height, -1)
    return image


def ink_image(image: np.ndarray) -> QImage:
    """A grayscale picture of ``image`` (H, W) with ink = high values (uint8, or float in [0, 1]): dark on white."""
    if image.dtype != np.uint8:
        image = np.round(np.clip(np.nan_to_num(image, nan=0.0), 0.0, 1.0) * 255).astype(np.uint8)
    return _qimage(255 - image, QImage.Format.Format_Grayscale8)


def rgb_image(rgb: np.ndarray) -> QImage:
    """A QImage of an (H, W, 3) array of colours 0–255; NaN shows grey."""
    return _qimage(np.clip(np.nan_to_num(rgb, nan=NO_VALUE_GREY), 0, 255).astype(np.uint8), QImage.Format.Format_RGB888)


def diverging_colors(values: np.ndarray, limit: float) -> np.ndarray:
    """RGB (…, 3) colours: blue at ``-limit``, white at 0, red at ``+limit`` (clipped beyond)."""
    t = np.clip(values / max(limit, 1e-12), -1.0, 1.0)[..., None]
    return np.where(t > 0, WHITE + t * (RED - WHITE), WHITE - t * (BLUE - WHITE))


def sequential_colors(values: np.ndarray, limit: float) -> np.ndarray:
    """RGB (…, 3) colours from white at 0 to dark blue at ``limit``."""
    t = np.clip(values / max(limit, 1e-12), 0.0, 1.0)[..., None]
    return WHITE + t * (DARK_BLUE - WHITE)


def saliency_image(image: np.ndarray, saliency: np.ndarray) -> QImage:
    """``image`` (H, W) in [0, 1], faded to grey, under its saliency (H, W); see ``saliency_colors``."""
    base = (255.0 - 110.0 * np.clip(image, 0.0, 1.0))[..., None]
    color, alpha = saliency_colors(saliency)
    return rgb_image(base * (1.0 - alpha) + color * alpha)


def saliency_overlay(saliency: np.ndarray) -> QImage:
    """The saliency (H, W) alone, as a translucent image to lay over a drawing (lighter than on the network's
    view, so the drawing stays legible under it); see ``saliency_colors``."""
    color, alpha = saliency_colors(saliency)
    return _qimage(np.round(np.concatenate([color, 160 * alpha], axis=-1)).astype(np.uint8), QImage.Format.Format_RGBA8888)


def saliency_colors(saliency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colours (H, W, 3) and opacities (H, W, 1) for a saliency map: red where more ink would raise the
    predicted class's probability, blue where it would lower it, more opaque for a larger effect (full
    colour from the 99th percentile of the magnitudes up, so one extreme pixel does not wash out the rest).
    Non-finite values are shown as no effect."""
    saliency = np.nan_to_num(saliency, nan=0.0, posinf=0.0, neginf=0.0)
    magnitude = np.abs(saliency)
    alpha = (0.85 * np.clip(magnitude / max(float(np.percentile(magnitude, 99)), 1e-12), 0.0, 1.0))[..., None]
    return np.where(saliency[..., None] > 0, RED, BLUE), alpha


def grid_image(tiles: np.ndarray, columns: int, gap: int) -> np.ndarray:
    """Lay RGB ``tiles`` (n, h, w, 3) out in a grid ``columns`` wide, separated by ``gap``-pixel grey lines."""
    n, height, width, _ = tiles.shape
    rows = math.ceil(n / columns)
    grid = np.full((rows * (height + gap) + gap, columns * (width + gap) + gap, 3), 200.0)
    for i, tile in enumerate(tiles):
        top, left = gap + (i // columns) * (height + gap), gap + (i % columns) * (width + gap)
        grid[top : top + height, left : left + width] = tile
    return grid


class ImageView(QWidget):
    """An image scaled to fit with its aspect ratio kept and its pixels sharp, or a grey placeholder text
    when there is none. With ``fit_width`` the view fills its width and takes the height that needs."""

    def __init__(self, placeholder: str = "", minimum: int = 56, fit_width: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self._image: QImage | None = None
        self.placeholder = placeholder
        self.fit_width = fit_width
        self.setMinimumSize(minimum, minimum // 4 if fit_width else minimum)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred if fit_width else QSizePolicy.Policy.Expanding)
        policy.setHeightForWidth(fit_width)
        self.setSizePolicy(policy)

    def set_image(self, image: QImage | None) -> None:
        reshaped = self._image is None or image is None or image.size() != self._image.size()
        self._image = image
        if reshaped and self.fit_width:
            self.updateGeometry()
        self.update()

    def hasHeightForWidth(self) -> bool:
        return self.fit_width and self._image is not None

    def heightForWidth(self, width: int) -> int:
        return max(round(width * self._image.height() / self._image.width()), 1) if self.hasHeightForWidth() else -1

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width(), self.heightForWidth(hint.width())) if self.hasHeightForWidth() else hint

    def image(self) -> QImage | None:
        return self._image

    def target_rect(self) -> QRectF:
        """Where the image is drawn: as large as fits, centred."""
        if self._image is None or self._image.isNull():
            return QRectF(self.rect())
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        width, height = self._image.width() * scale, self._image.height() * scale
        return QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if self._image is None:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        target = self.target_rect()
        painter.drawImage(target, self._image)
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        painter.drawRect(target.adjusted(0, 0, -1, -1))


class TileGrid(ImageView):
    """An image of ``count`` tiles of ``tile`` (height, width) pixels laid out ``columns`` wide with ``gap``-pixel
    lines between and around them (as ``grid_image`` lays them out; ``gap`` 0: cells side by side).

    A click on a tile, or Enter on the one the arrow keys moved the focus to (drawn as a frame), emits
    ``tile_activated(index)``; hovering shows ``describe(index)`` as a tooltip."""

    tile_activated = Signal(int)

    def __init__(self, placeholder: str = "", minimum: int = 56, fit_width: bool = False, parent: QWidget | None = None):
        super().__init__(placeholder, minimum, fit_width, parent)
        self.count, self.columns, self.tile, self.gap = 0, 1, (1, 1), 0
        self.focused = 0
        self.describe: Callable[[int], str] | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)

    def set_tiles(self, image: QImage | None, count: int = 0, columns: int = 1, tile: tuple[int, int] = (1, 1), gap: int = 0) -> None:
        """Show ``image``, a grid of ``count`` tiles (None: none)."""
        self.count, self.columns, self.tile, self.gap = (count, max(columns, 1), tile, gap) if image is not None else (0, 1, (1, 1), 0)
        self.focused = min(self.focused, max(self.count - 1, 0))
        self.set_image(image)

    def tile_rect(self, index: int) -> QRectF:
        """Where tile ``index`` is drawn, in the widget's coordinates."""
        target = self.target_rect()
        image = self.image()
        scale = target.width() / image.width() if image is not None and image.width() else 1.0
        height, width = self.tile
        row, column = divmod(index, self.columns)
        left = self.gap + column * (width + self.gap)
        top = self.gap + row * (height + self.gap)
        return QRectF(target.left() + left * scale, target.top() + top * scale, width * scale, height * scale)

    def tile_at(self, point: QPointF) -> int | None:
        """The tile under ``point`` (widget coordinates), or None (a gap, or outside the tiles)."""
        image = self.image()
        if image is None or self.count == 0:
            return None
        target = self.target_rect()
        scale = target.width() / image.width()
        x, y = (point.x() - target.left()) / scale - self.gap, (point.y() - target.top()) / scale - self.gap
        height, width = self.tile
        column, row = math.floor(x / (width + self.gap)), math.floor(y / (height + self.gap))
        inside = x - column * (width + self.gap) < width and y - row * (height + self.gap) < height
        index = row * self.columns + column
        return index if inside and 0 <= column < self.columns and row >= 0 and index < self.count else None

    def mousePressEvent(self, event) -> None:
        index = self.tile_at(event.position())
        if index is not None and event.button() == Qt.MouseButton.LeftButton:
            self.focused = index
            self.update()
            self.tile_activated.emit(index)
        super().mousePressEvent(event)

    def keyPressEvent(self, event) -> None:
        steps = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -self.columns, Qt.Key.Key_Down: self.columns}
        key = event.key()
        if self.count and key in steps:
            self.focused = int(np.clip(self.focused + steps[key], 0, self.count - 1))
            self.update()
            if self.describe is not None:
                QToolTip.showText(self.mapToGlobal(self.tile_rect(self.focused).bottomRight().toPoint()), self.describe(self.focused), self)
        elif self.count and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.tile_activated.emit(self.focused)
        else:
            super().keyPressEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.describe is not None:
            index = self.tile_at(QPointF(event.pos()))
            if index is not None:
                QToolTip.showText(event.globalPos(), self.describe(index), self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if self.hasFocus() and self.count:
            painter = QPainter(self)
            pen = QPen(self.palette().color(QPalette.ColorRole.Highlight), 2)
            painter.setPen(pen)
            painter.drawRect(self.tile_rect(self.focused).adjusted(-1, -1, 1, 1))


class ColorKey(QWidget):
    """The key to a picture's colours: a strip drawn by ``colors`` (values -1…1, or 0…1, to RGB), with labels
    under its left end, middle and right end ("−0.12", "0", "+0.12 weight")."""

    STRIP_WIDTH = 240

    def __init__(
        self, colors: Callable[[np.ndarray], np.ndarray], labels: tuple[str, str, str] = ("", "", ""), parent: QWidget | None = None
    ):
        super().__init__(parent)
        self._strip = rgb_image(colors(np.linspace(-1.0, 1.0, self.STRIP_WIDTH)[None, :]))
        self.labels = labels
        self.setFixedHeight(round(2.2 * self.fontMetrics().height()))

    def set_labels(self, left: str, middle: str, right: str) -> None:
        self.labels = (left, middle, right)
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(self.STRIP_WIDTH, self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(160, self.height())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        text_height = self.fontMetrics().height()
        width = min(self.STRIP_WIDTH, self.width() - 2)
        strip = QRectF((self.width() - width) / 2, 1, width, self.height() - text_height - 3)
        painter.drawImage(strip, self._strip)
        painter.setPen(self.palette().color(QPalette.ColorRole.Mid))
        painter.drawRect(strip.adjusted(0, 0, -1, -1))
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        labels = QRectF(strip.left(), strip.bottom() + 2, strip.width(), text_height)
        left, middle, right = self.labels
        painter.drawText(labels, LEFT, left)
        painter.drawText(labels, Qt.AlignmentFlag.AlignCenter, middle)
        painter.drawText(labels, RIGHT, right)


def signed_key_colors(t: np.ndarray) -> np.ndarray:
    """The colours of ``diverging_colors`` along a key's strip, -1 to 1."""
    return diverging_colors(t, 1.0)


def unsigned_key_colors(t: np.ndarray) -> np.ndarray:
    """The colours of ``sequential_colors`` along a key's strip, its left end 0, its right end 1."""
    return sequential_colors((t + 1.0) / 2.0, 1.0)


class ProbabilityBars(QWidget):
    """One horizontal bar per class with its name and percentage; the most probable class in the accent
    colour and bold, the true class (when known) marked "true"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._probabilities: np.ndarray | None = None
        self._class_names: list[str] = []
        self._true_class: int | None = None
        self.placeholder = NO_MODEL
        self.setMinimumSize(200, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_probabilities(self, probabilities: np.ndarray | None, class_names: list[str], true_class: int | None = None) -> None:
        self._probabilities, self._class_names, self._true_class = probabilities, list(class_names), true_class
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(280, 22 * max(len(self._class_names), 10))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        if self._probabilities is None:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            return
        probabilities = np.clip(np.nan_to_num(self._probabilities, nan=0.0), 0.0, 1.0)  # what the bars can draw
        n = len(probabilities)
        winner = int(np.argmax(probabilities))
        metrics = painter.fontMetrics()
        name_width = max(metrics.horizontalAdvance(name) for name in self._class_names) + 8
        value_width = metrics.horizontalAdvance("100.0 %  true") + 8
        row = self.height() / n
        bar_left, bar_width = name_width, max(self.width() - name_width - value_width, 10)
        bold = QFont(painter.font())
        bold.setBold(True)
        for k, (p, drawn) in enumerate(zip(self._probabilities, probabilities)):
            top = k * row
            bar = QRectF(bar_left, top + row * 0.18, bar_width, row * 0.64)
            painter.setFont(bold if k == winner else self.font())
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(
                QRectF(0, top, name_width - 6, row), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self._class_names[k]
            )
            painter.fillRect(bar, palette.color(QPalette.ColorRole.AlternateBase))
            painter.fillRect(QRectF(bar.left(), bar.top(), bar.width() * float(drawn), bar.height()), ACCENT if k == winner else MUTED)
            label = percent(p) + ("  true" if k == self._true_class else "")
            painter.drawText(
                QRectF(bar.right() + 6, top, value_width, row), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label
            )


class ActivationsView(QWidget):
    """What each hidden layer computes for one input: its units as a grid of coloured cells, under a colour key.

    Non-negative activations (ReLU, sigmoid) go from white (0) to dark blue (the layer's largest value);
    signed ones (tanh) from blue through white to red, each layer on its own scale. Hovering over a cell tells
    its unit and value; a click on it, or Enter on the cell the arrow keys chose, emits ``unit_activated(layer,
    unit)`` (both from 0), to open that unit.
    """

    COLUMNS = 32  # units per row of cells
    unit_activated = Signal(int, int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._message = QLabel("Draw a digit to see the hidden layers respond.")
        self._message.setWordWrap(True)
        self._layout.addWidget(self._message)
        self._rows: list[tuple[QLabel, TileGrid]] = []
        self._keys = {True: ColorKey(signed_key_colors), False: ColorKey(unsigned_key_colors)}
        for signed, key in self._keys.items():
            key.set_labels("−largest", "0", "+largest a") if signed else key.set_labels("0", "", "the layer's largest a")
            key.setToolTip("Each layer has its own scale: the deepest colour is that layer's largest activation |a|.")
            self._layout.addWidget(key)
            key.hide()
        self.activations: list[np.ndarray] = []

    def show_input(self, model: Model | None, x: np.ndarray | None) -> None:
        """Run ``model`` forward on one input ``x`` (any shape with the model's input size) and show each
        hidden layer's output; clear the view when either is None."""
        if model is None or x is None:
            self.activations = []
            self._message.setText("No model yet." if model is None else "Draw a digit to see the hidden layers respond.")
        else:
            self.activations = [a[0] for a in model.hidden_activations(x.reshape(1, -1))]
            self._message.setText("" if self.activations else "This network has no hidden layer.")
        self._message.setVisible(bool(self._message.text()))
        self._ensure_rows(len(self.activations))
        signed = False
        for layer, ((title, view), values) in enumerate(zip(self._rows, self.activations), start=1):
            finite = values[np.isfinite(values)]
            signed |= bool(finite.size and finite.min() < 0)
            largest = figure(float(np.abs(finite).max()) if finite.size else math.nan, ".3g")
            title.setText(f"Hidden layer {layer}: {len(values)} units, {int((values > 0).sum())} positive, largest |a| {largest}")
            columns = min(len(values), self.COLUMNS)
            view.set_tiles(rgb_image(self._cells(values)), len(values), columns)
        for is_signed, key in self._keys.items():
            key.setVisible(bool(self.activations) and is_signed == signed)

    def describe(self, layer: int, unit: int) -> str:
        """The tooltip of a cell: its unit, its activation, and that a click opens it."""
        value = self.activations[layer][unit] if layer < len(self.activations) else math.nan
        return f"Unit {unit + 1} of hidden layer {layer + 1}: a = {figure(float(value), '.4g')}\nClick (or Enter) to open this unit"

    def _cells(self, values: np.ndarray) -> np.ndarray:
        """Cell colours, scaled to the largest finite value; padding and non-finite values are grey."""
        columns = min(len(values), self.COLUMNS)
        padded = np.full(math.ceil(len(values) / columns) * columns, np.nan)
        padded[: len(values)] = np.where(np.isfinite(values), values, np.nan)
        grid = padded.reshape(-1, columns)
        finite = values[np.isfinite(values)]
        limit = float(np.abs(finite).max()) if finite.size else 1.0
        colors = sequential_colors(grid, limit) if finite.size == 0 or finite.min() >= 0 else diverging_colors(grid, limit)
        colors[np.isnan(grid)] = NO_VALUE_GREY
        return colors

    def _cell_activated(self, unit: int) -> None:
        layer = next(i for i, (_, view) in enumerate(self._rows) if view is self.sender())
        self.unit_activated.emit(layer, unit)

    def cells(self, layer: int) -> TileGrid:
        """The grid of cells of hidden layer ``layer`` (from 0)."""
        return self._rows[layer][1]

    def _ensure_rows(self, count: int) -> None:
        while len(self._rows) < count:
            layer = len(self._rows)
            title, view = QLabel(), TileGrid(minimum=120, fit_width=True)
            view.describe = functools.partial(self.describe, layer)
            view.tile_activated.connect(self._cell_activated)  # a bound method: a lambda would keep this view alive
            self._layout.insertWidget(self._layout.count() - len(self._keys), title)
            self._layout.insertWidget(self._layout.count() - len(self._keys), view)
            self._rows.append((title, view))
        for i, (title, view) in enumerate(self._rows):
            title.setVisible(i < count)
            view.setVisible(i < count)


def plain_axes(plot: pg.PlotWidget) -> pg.PlotWidget:
    """``plot`` with its axes in the units their labels name: no automatic "(x0.001)" rescaling."""
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)
    return plot


def without_export_menu(view: pg.GraphicsView) -> pg.GraphicsView:
    """``view`` without pyqtgraph's own right-click "Export…" dialog: the File menu exports the plots, and the
    dialog's exporters fail on some of them (CSV without a plot chosen, SVG of the cached overlays)."""
    view.scene().contextMenu = []
    return view
