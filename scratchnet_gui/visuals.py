"""Pictures of arrays, shared by the panels: NumPy → QImage helpers and three small painted widgets.

- ``ImageView`` shows an image scaled to fit (pixelated, so a 28×28 input shows its pixels);
- ``ProbabilityBars`` shows class probabilities as labelled bars, the winner highlighted;
- ``ActivationsView`` shows what each hidden layer of a model computes for one input.

Images are drawn the way people write: dark ink on white paper, whatever the array stores (the
network's inputs have ink = 1). Signed quantities (weights, gradients) use blue for negative, white for
zero and red for positive.

Every helper here copes with NaN and infinity, whatever a model computes: numbers show as "n/a", colours
as grey, pixels as blank paper.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette
from PySide6.QtWidgets import QAbstractButton, QLabel, QSizePolicy, QVBoxLayout, QWidget

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
    """What each hidden layer computes for one input: its units as a grid of coloured cells.

    Non-negative activations (ReLU, sigmoid) go from white (0) to dark blue (the layer's largest value);
    signed ones (tanh) from blue through white to red.
    """

    COLUMNS = 32  # units per row of cells

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._message = QLabel("Draw a digit to see the hidden layers respond.")
        self._message.setWordWrap(True)
        self._layout.addWidget(self._message)
        self._rows: list[tuple[QLabel, ImageView]] = []
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
        for layer, ((title, view), values) in enumerate(zip(self._rows, self.activations), start=1):
            title.setText(f"Hidden layer {layer}: {len(values)} units, {int((values > 0).sum())} positive")
            view.set_image(rgb_image(self._cells(values)))

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

    def _ensure_rows(self, count: int) -> None:
        while len(self._rows) < count:
            title, view = QLabel(), ImageView(minimum=120, fit_width=True)
            self._layout.addWidget(title)
            self._layout.addWidget(view)
            self._rows.append((title, view))
        for i, (title, view) in enumerate(self._rows):
            title.setVisible(i < count)
            view.setVisible(i < count)


def without_export_menu(view: pg.GraphicsView) -> pg.GraphicsView:
    """``view`` without pyqtgraph's own right-click "Export…" dialog: the File menu exports the plots, and the
    dialog's exporters fail on some of them (CSV without a plot chosen, SVG of the cached overlays)."""
    view.scene().contextMenu = []
    return view
