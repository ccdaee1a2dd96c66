"""The drawing pad: write a digit with the mouse or a pen and watch the network read it.

While you draw, the pad hands its strokes (as vectors) to the core's ``preprocess.prepare``,
which draws them as the dataset's images were made (MNIST style when the training images look like
MNIST's, else as drawn in the image's frame; see ``preprocess.choose_preparation``), and asks the current
model for its probabilities, at most ~25 times a second (and, while the pad is not on screen, once it is
shown: the models a run sends after every epoch cost nothing while nobody looks). A test image opened from
the browser goes to the network exactly as the browser gives it; strokes drawn over it add ink in its frame.
Beside the canvas: the class probabilities, the 28×28 image the network actually sees (with the saliency
overlay from the core's backward pass, if switched on) and the hidden layers' activations.

Below the canvas, "This is a: 0 … 9" (or typing the digit) keeps the drawing as a labelled example of the
learner's handwriting, in the session's collection: the network input as prepared, and the strokes.

Public API: ``DrawPad.follow(session)`` (the pad's drawing becomes ``session.input``, and the test images the
session opens come onto the canvas), ``set_model(model)``, ``set_dataset(dataset)``, ``clear()``, ``undo()``,
``label_as(label)``.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QFont, QImage, QKeySequence, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSlider,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from scratchnet.data import Dataset
from scratchnet.inspect.edits import UnitRef
from scratchnet.model import Model
from scratchnet.preprocess import MNIST_DEFAULT, Drawing, Preparation, PreparedInput, choose_preparation, prepare

from .on_screen import RefreshWhenShown
from .session import NetworkInput, Session
from .visuals import (
    ACCENT,
    DIGITS,
    NO_MODEL,
    ActivationsView,
    ImageView,
    ProbabilityBars,
    ink_image,
    percent,
    saliency_image,
    saliency_overlay,
)

CANVAS_SIZE = 280  # side of the square canvas in canvas units; rendered at this many pixels for the network
PREDICT_INTERVAL_MS = 40  # live predictions at most 25 times a second while drawing
DRAW_HINTS = {  # what happens to a drawing, by preparation (MNIST style or not); the reason follows
    True: "Write one digit anywhere, at any size, with any pen: it is redrawn as MNIST's digits were made "
    "(scaled into a 20-px box, at MNIST's stroke width, centred by mass).",
    False: "Draw in the frame: the pad is the image, and the network reads your strokes where and as wide as you draw them.",
}
LOADED_HINT = (
    "A test image, given to the network exactly as in the test browser (the same prediction). "
    "Draw over it to see what changes: your strokes are added in the image's own frame."
)
INK = QColor(20, 20, 20)
LABEL_COLUMNS = 5  # "This is a" buttons per row: two rows of digits fit beside a narrow canvas
SAVED_LINES, HINT_LINES, VERDICT_LINES = 2, 4, 2  # lines of text kept for the messages around the canvas
TEXT_FIELDS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)  # where Ctrl+Z and Esc are the field's own


class Canvas(QWidget):
    """A square sheet of paper holding strokes as smooth vector paths, so that undo removes one stroke and
    the drawing stays sharp at any widget size. ``changed`` is emitted whenever the drawing changes."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.pen_width = 18.0  # in canvas units (the canvas is CANVAS_SIZE units wide)
        self.strokes: list[tuple[QPainterPath, float]] = []
        self.image: np.ndarray | None = None  # a loaded uint8 image (H, W), ink = high values, under the strokes
        self.background: QImage | None = None  # the same, dark ink on white paper, for the screen
        self._current: QPainterPath | None = None
        self._last: QPointF | None = None
        self._overlay: tuple[QImage, PreparedInput] | None = None
        self.setMinimumSize(240, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_TabletTracking)

    @property
    def is_empty(self) -> bool:
        return not self.strokes and self._current is None and self.background is None

    def clear(self) -> None:
        self.strokes, self._current = [], None
        self.image = self.background = None
        self._changed()

    def undo(self) -> None:
        """Remove the last finished stroke."""
        if self.strokes:
            self.strokes.pop()
            self._changed()

    def set_background(self, image: np.ndarray) -> None:
        """Start from ``image`` (H, W) uint8, ink = high values, replacing the drawing."""
        self.strokes, self._current = [], None
        self.image, self.background = image, ink_image(image)
        self._changed()

    def set_overlay(self, image: QImage | None, placement: PreparedInput | None = None) -> None:
        """Lay ``image``, a map of the network input (e.g. its saliency), over the drawing where ``placement``
        says the input lies on the canvas; None removes it. Only the screen shows it, never the network."""
        self._overlay = None if image is None else (image, placement)
        self.update()

    def drawing(self) -> Drawing:
        """The drawing as plain arrays for the core: each stroke (finished or not) as the polyline Qt paints
        it, with its pen width, and the loaded image under them."""
        strokes = self.strokes + ([(self._current, self.pen_width)] if self._current is not None else [])
        return Drawing([_polyline(path) for path, _ in strokes], [width for _, width in strokes], CANVAS_SIZE, self.image)

    # ---- geometry -------------------------------------------------------------------------------

    def sheet(self) -> QRectF:
        """The square on screen where the canvas is shown, centred in the widget."""
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def to_canvas(self, position: QPointF) -> QPointF:
        """Widget coordinates → canvas units, held on the sheet: a pen leaving the paper runs along its edge."""
        sheet = self.sheet()
        point = (position - sheet.topLeft()) * (CANVAS_SIZE / sheet.width())
        return QPointF(min(max(point.x(), 0.0), CANVAS_SIZE), min(max(point.y(), 0.0), CANVAS_SIZE))

    # ---- painting -------------------------------------------------------------------------------

    def _paint_drawing(self, painter: QPainter, target: QRectF) -> None:
        """Paint background and strokes into ``target``, dark ink on white paper, with round anti-aliased pens."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.setClipRect(target)
        if self.background is not None:
            painter.drawImage(target, self.background)
        painter.save()
        painter.translate(target.topLeft())
        painter.scale(target.width() / CANVAS_SIZE, target.height() / CANVAS_SIZE)
        strokes = self.strokes + ([(self._current, self.pen_width)] if self._current is not None else [])
        for path, width in strokes:
            painter.setPen(QPen(INK, width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
            painter.drawPath(path)
        if self._overlay is not None:  # input pixel p lies at canvas point (p - offset) / scale
            image, placement = self._overlay
            (scale_x, scale_y), (offset_x, offset_y) = placement.scale, placement.offset
            painter.translate(-offset_x / scale_x, -offset_y / scale_y)
            painter.scale(1 / scale_x, 1 / scale_y)
            painter.drawImage(QRectF(0, 0, image.width(), image.height()), image)
        painter.restore()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        sheet = self.sheet()
        painter.fillRect(sheet, Qt.GlobalColor.white)
        self._paint_drawing(painter, sheet)
        painter.setClipping(False)
        painter.setPen(QPen(QColor(190, 190, 190), 1))
        painter.drawRect(sheet.adjusted(0, 0, -1, -1))
        if self.is_empty:
            painter.setPen(QColor(150, 150, 150))
            painter.drawText(sheet, Qt.AlignmentFlag.AlignCenter, "Draw a digit here")

    # ---- input: mouse and tablet ----------------------------------------------------------------

    def begin_stroke(self, position: QPointF) -> None:
        point = self.to_canvas(position)
        self._current = QPainterPath(point)
        self._last = point
        self._changed()

    def extend_stroke(self, position: QPointF) -> None:
        """Continue the stroke with a quadratic curve through the midpoints of the sampled points."""
        if self._current is None:
            return
        point = self.to_canvas(position)
        self._current.quadTo(self._last, (self._last + point) / 2)
        self._last = point
        self._changed()

    def end_stroke(self) -> None:
        if self._current is None:
            return
        self._current.lineTo(self._last)  # the last half segment; for a click, a dot (a round cap)
        self.strokes.append((self._current, self.pen_width))
        self._current = None
        self._changed()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.begin_stroke(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.extend_stroke(event.position())

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.end_stroke()

    def tabletEvent(self, event) -> None:
        """A pen: the same strokes as the mouse (accepting the event stops Qt from also sending mouse events)."""
        kind = event.type()
        if kind == event.Type.TabletPress:
            self.begin_stroke(event.position())
        elif kind == event.Type.TabletMove and event.pressure() > 0:
            self.extend_stroke(event.position())
        elif kind == event.Type.TabletRelease:
            self.end_stroke()
        event.accept()

    def _changed(self) -> None:
        self.update()
        self.changed.emit()


def _polyline(path: QPainterPath) -> np.ndarray:
    """The points (k, 2) of a stroke's path as Qt flattens it to paint it; a dot is its one point."""
    polygons = path.toSubpathPolygons()
    points = polygons[0] if polygons else [path.currentPosition()]
    return np.array([(point.x(), point.y()) for point in points])


class DrawPad(QWidget):
    """Canvas, pen controls, live prediction, the network's view of the drawing and its hidden layers.

    ``follow(session)`` makes the drawing the session's current input (``Session.set_input``) as it changes, and
    puts the test images the session opens on the canvas to read and draw over."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.session: Session | None = None
        self.opened: NetworkInput | None = None  # the test image on the canvas, while it is there
        self.model: Model | None = None
        self.preparation: Preparation = MNIST_DEFAULT
        self.network_input: np.ndarray | None = None
        self.prepared: PreparedInput | None = None
        self.probabilities: np.ndarray | None = None
        self.saliency: np.ndarray | None = None
        self.canvas = Canvas()
        self._timer = QTimer(self, singleShot=True, interval=PREDICT_INTERVAL_MS, timeout=self.predict)
        self._when_shown = RefreshWhenShown(self, self._schedule)
        self.canvas.changed.connect(self._schedule)
        self._build()

    def follow(self, session: Session) -> None:
        """Read with ``session``'s model, prepare as its dataset's images were made, keep labelled drawings in its
        handwriting collection, and make the drawing its current input."""
        self.session = session
        self.activations.unit_activated.connect(self._open_unit)
        session.model_changed.connect(self.set_model)
        session.dataset_changed.connect(self.set_dataset)
        session.input_changed.connect(self._input_changed)
        session.handwriting.added.connect(self._saved)
        session.confidence_threshold_changed.connect(lambda _: self._show())

    @property
    def prediction_pending(self) -> bool:
        """A new reading of the drawing waits: for the throttle's timer, or for the pad to be shown."""
        return self._timer.isActive() or self._when_shown.out_of_date

    # ---- public slots ---------------------------------------------------------------------------

    def set_model(self, model: Model | None) -> None:
        """Use ``model`` from now on (during training a fresh copy arrives every epoch)."""
        self.model = model
        self._show_label_buttons(list(model.class_names) if model is not None else DIGITS)
        self._when_shown.request()

    def label_as(self, label: int) -> None:
        """Keep the drawing as an example of class ``label``: the network input as prepared now, and the strokes."""
        self.predict()  # the input of the drawing as it is now, not as the throttled last prediction saw it
        if self.network_input is None:
            self.saved.setText("Draw a digit first, then say which it is.")
        elif self.session is not None:
            self.session.handwriting.add(self.network_input, label, self.canvas.drawing())

    def _saved(self, label: int, count: int) -> None:
        names = [button.text() for button in self.label_buttons]
        name = names[label] if label < len(names) else str(label)
        self.saved.setText(f"Saved as a {name} — {count} example{'s' * (count != 1)} of your handwriting.")
        self.clear()

    def _key_label(self, label: int) -> None:
        if not _typing() and label < len(self.label_buttons):
            self.label_as(label)

    def _show_label_buttons(self, names: list[str]) -> None:
        """One "This is a" button per class of the model. The buttons that exist are renamed, never rebuilt, so that
        the one the learner just clicked keeps its place and the focus; a button no longer needed hands the focus
        to the canvas before it goes (a focused widget deleted leaves the window's keys to a dead object)."""
        for button in self.label_buttons[len(names) :]:
            if button.hasFocus():
                self.canvas.setFocus()
            self.label_grid.removeWidget(button)
            button.deleteLater()
        del self.label_buttons[len(names) :]
        for label in range(len(self.label_buttons), len(names)):
            button = QPushButton()
            button.setMinimumWidth(28)
            button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # they must fit a narrow pad
            button.clicked.connect(lambda _=False, label=label: self.label_as(label))
            self.label_grid.addWidget(button, label // LABEL_COLUMNS, 1 + label % LABEL_COLUMNS)
            self.label_buttons.append(button)
        for label, (button, name) in enumerate(zip(self.label_buttons, names)):
            button.setText(name)
            button.setToolTip(f"Keep this drawing as an example of your {name}" + (f" (key {label})" if label < 10 else ""))

    def set_dataset(self, dataset: Dataset) -> None:
        """Prepare drawings as ``dataset``'s images were made: measured from its training images. An opened image
        of another size (the previous dataset's) leaves the canvas."""
        self.preparation = choose_preparation(dataset.train_images)
        if self.canvas.image is not None and self.canvas.image.shape != tuple(dataset.image_shape):
            self.clear()
        self._when_shown.request()

    def _input_changed(self, network_input: NetworkInput | None) -> None:
        """Put a test image the session opened on the canvas (the pad's own inputs are already there)."""
        if network_input is not None and network_input.image is not None:
            self.load_image(network_input.image, network_input)

    def load_image(self, image: np.ndarray, opened: NetworkInput | None = None) -> None:
        """Put an image (H, W) uint8, ink = high values, on the canvas to read and draw over; ``opened`` says
        which test image it is."""
        self.opened = opened
        self.canvas.set_background(image)

    def clear(self) -> None:
        self.canvas.clear()

    def set_pen_width(self, width: float) -> None:
        """Width of the next strokes, in canvas units (the canvas is ``CANVAS_SIZE`` units wide)."""
        self.canvas.pen_width = float(width)

    def undo(self) -> None:
        self.canvas.undo()

    def _key_undo(self) -> None:
        if not _typing():
            self.undo()

    def _key_clear(self) -> None:
        if not _typing():
            self.clear()

    def predict(self) -> None:
        """Turn the drawing into the network's input and show what the model makes of it (called by the
        throttling timer). The probabilities come from the same call as the test browser's."""
        shape = tuple(self.model.image_shape) if self.model is not None else (28, 28)
        dtype = self.model.dtype.type if self.model is not None else np.float32
        self.prepared = prepare(self.canvas.drawing(), shape, self.preparation, dtype)
        x = self.network_input = None if self.prepared is None else self.prepared.image
        self.probabilities = self.saliency = None
        if x is not None and self.model is not None and x.shape == shape:
            inputs = x.reshape(1, -1)
            self.probabilities = self.model.predict_proba(inputs)[0]
            self.saliency = self.model.saliency(inputs)[0][0].reshape(shape)
        self._show()
        if self.session is not None:
            self.session.set_input(self._as_input(x))

    @property
    def unsure(self) -> bool:
        """The model's answer to the drawing falls below the session's confidence threshold: "not sure"."""
        if self.probabilities is None or self.session is None:
            return False
        return self.session.unsure(float(self.probabilities.max()))

    def _as_input(self, x: np.ndarray | None) -> NetworkInput | None:
        """The network input ``x`` with what it shows: an opened test image (its label known while nothing is
        drawn over it), or the learner's drawing."""
        if x is None:
            return None
        opened = self.opened if self.canvas.image is not None else None
        if opened is None:
            return NetworkInput(x, "your drawing")
        if self.canvas.strokes:
            return NetworkInput(x, f"{opened.origin}, drawn over")
        return NetworkInput(x, opened.origin, opened.label)

    # ---- layout and display ---------------------------------------------------------------------

    def _build(self) -> None:
        self.pen_slider = QSlider(Qt.Orientation.Horizontal, minimum=6, maximum=40, value=int(self.canvas.pen_width))
        self.pen_slider.setToolTip(
            "Pen width, as you like it: for an MNIST-like dataset the strokes are redrawn\n"
            "at MNIST's stroke width; otherwise the network reads them as wide as drawn."
        )
        self.pen_slider.valueChanged.connect(self.set_pen_width)
        undo_button = QPushButton("Undo")
        undo_button.setToolTip("Remove the last stroke (Ctrl+Z)")
        undo_button.clicked.connect(self.undo)
        clear_button = QPushButton("Clear")
        clear_button.setToolTip("Start again (Esc)")
        clear_button.clicked.connect(self.clear)
        # Whenever the pad is on screen (Qt ignores the shortcuts of hidden widgets), except while typing.
        for text, keys, slot in (
            ("Undo stroke", QKeySequence.StandardKey.Undo, self._key_undo),
            ("Clear", Qt.Key.Key_Escape, self._key_clear),
        ):
            action = QAction(text, self, shortcut=QKeySequence(keys), triggered=slot)
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)
        for digit in range(10):
            action = QAction(
                f"This is a {digit}", self, shortcut=QKeySequence(str(digit)), triggered=lambda _=False, d=digit: self._key_label(d)
            )
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)

        tools = QHBoxLayout()
        tools.addWidget(QLabel("Pen"))
        tools.addWidget(self.pen_slider, 1)
        tools.addWidget(undo_button)
        tools.addWidget(clear_button)
        left = QVBoxLayout()
        left.addWidget(self.canvas, 1)
        left.addLayout(tools)
        self.label_grid = QGridLayout()  # "This is a:" then the classes, LABEL_COLUMNS to a row
        self.label_grid.setHorizontalSpacing(4)
        self.label_grid.addWidget(QLabel("This is a:"), 0, 0)
        self.label_buttons: list[QPushButton] = []
        self._show_label_buttons(DIGITS)
        left.addLayout(self.label_grid)
        self.saved = QLabel("Teach the network your handwriting: draw a digit, then say which it is (or type it).")
        _keep_lines(self.saved, SAVED_LINES)
        left.addWidget(self.saved)
        self.hint = QLabel()
        _keep_lines(self.hint, HINT_LINES)
        self.hint.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        left.addWidget(self.hint)

        self.verdict = QLabel()
        font = QFont(self.verdict.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.verdict.setFont(font)
        _keep_lines(self.verdict, VERDICT_LINES)  # a long verdict wraps rather than widening its column and shrinking the canvas
        self.bars = ProbabilityBars()
        self.input_view = ImageView("Nothing drawn")
        self.input_view.setFixedSize(196, 196)
        self.input_view.setToolTip("The image the network reads, prepared as the hint below the pad says")
        self.saliency_box = QCheckBox("Saliency overlay")
        self.saliency_box.setToolTip(
            "Gradient of the predicted class's log-probability with respect to each input pixel,\n"
            "shown over the network's view and over your drawing"
        )
        self.saliency_legend = QLabel("Red: more ink here would make the network surer of its answer. Blue: less sure.")
        self.saliency_legend.setWordWrap(True)
        self.saliency_legend.setFixedWidth(196)
        self.saliency_legend.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.saliency_box.toggled.connect(self._show)
        seen = QVBoxLayout()
        seen.addWidget(QLabel("What the network sees"))
        seen.addWidget(self.input_view)
        seen.addWidget(self.saliency_box)
        seen.addWidget(self.saliency_legend)
        seen.addStretch(1)
        prediction = QHBoxLayout()
        prediction.addWidget(self.bars, 1)
        prediction.addLayout(seen)
        self.activations = ActivationsView()
        hidden = QGroupBox("Hidden layers for this drawing")
        QVBoxLayout(hidden).addWidget(self.activations)

        right = QVBoxLayout()
        right.addWidget(self.verdict)
        right.addLayout(prediction, 3)
        right.addWidget(hidden, 2)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        self._show()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _show(self) -> None:
        model, x = self.model, self.network_input
        if self.canvas.image is not None:
            self.hint.setText(LOADED_HINT)
        else:
            self.hint.setText(f"{DRAW_HINTS[self.preparation.mnist_style]} {self.preparation.reason}")
        names = list(model.class_names) if model is not None else []
        if x is None:
            self.verdict.setText("Draw a digit")
            self.input_view.set_image(None)
        elif self.saliency_box.isChecked() and self.saliency is not None:
            self.input_view.set_image(saliency_image(x, self.saliency))
        else:
            self.input_view.set_image(ink_image(x))
        showing_saliency = self.saliency_box.isChecked() and self.saliency is not None
        self.canvas.set_overlay(saliency_overlay(self.saliency) if showing_saliency else None, self.prepared)
        if model is None:
            self.verdict.setText("No model yet" if x is not None else "Draw a digit")
        elif self.probabilities is not None:
            winner = int(self.probabilities.argmax())
            untrained = "  — untrained network (random weights)" if model.epochs_trained == 0 else ""
            sure = float(self.probabilities[winner])
            if self.unsure:
                self.verdict.setText(f"Not sure — perhaps {names[winner]}  ({percent(sure)} sure){untrained}")
            else:
                self.verdict.setText(f"Prediction: {names[winner]}  ({percent(sure)} sure){untrained}")
        elif x is not None:  # an opened image of another size than the model reads
            x = None
            self.verdict.setText(f"The model reads {model.image_shape[0]}×{model.image_shape[1]} images, not this one")
        self.verdict.setStyleSheet(f"color: {ACCENT.name()}" if self.probabilities is not None and not self.unsure else "")
        self.saliency_legend.setVisible(self.saliency_box.isChecked())
        self.bars.placeholder = NO_MODEL if model is None else "The probability of each class appears as you draw."
        self.bars.set_probabilities(self.probabilities, names)
        self.activations.show_input(model, x)

    def _open_unit(self, layer: int, unit: int) -> None:
        """A cell of the hidden layers was clicked: open its unit."""
        self.session.open_unit(UnitRef(layer, unit))


def _keep_lines(label: QLabel, lines: int) -> None:
    """Wrap ``label`` and keep room for ``lines`` lines, so that a shorter or longer message (up to that many lines)
    moves nothing under the pointer: the first "This is a" click moved the buttons 14 px down."""
    label.setWordWrap(True)
    text = label.text()
    label.setText("\n".join("X" * lines))  # measured as the label lays out its text
    label.setMinimumHeight(label.heightForWidth(1000))
    label.setText(text)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)


def _typing() -> bool:
    """Whether the keyboard is in a text field, whose own Ctrl+Z and Esc come first."""
    return isinstance(QApplication.focusWidget(), TEXT_FIELDS)
