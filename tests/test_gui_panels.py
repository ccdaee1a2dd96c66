"""The testing panels driven through their real widgets (pytest-qt, offscreen): drawing pad, test-set
browser, confusion matrix and the view inside the network."""

from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QSize, Qt
from PySide6.QtGui import QInputDevice, QMouseEvent, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication

from scratchnet.data import load_dataset
from scratchnet.nn.metrics import accuracy, confusion_matrix
from scratchnet.preprocess import centre_of_mass
from scratchnet_gui.confusion_view import ConfusionView
from scratchnet_gui.draw_pad import LOADED_HINT
from scratchnet_gui.image_browser import SELECT_IMAGE, ImageBrowser
from scratchnet_gui.network_view import TILES_PER_PAGE, NetworkView
from scratchnet_gui.session import Session
from scratchnet_gui.visuals import NO_MODEL, percent

from .conftest import write_dataset
from .quick_models import quick_model

CLASS_NAMES = ["circle", "square", "star", "wave"]


@pytest.fixture
def named_dataset(tmp_path):
    """The small fake dataset (12×12, 4 classes), with class names from its own classes.txt."""
    folder = write_dataset(tmp_path / "named")
    (folder / "classes.txt").write_text("\n".join(CLASS_NAMES), encoding="utf-8")
    return load_dataset(folder)


@pytest.fixture
def model(named_dataset):
    """A network after a single batch of 64 images: right on most test images, wrong on about a quarter."""
    return quick_model(named_dataset, train_images=64, hidden=(100, 16), epochs=1)


def new_browser(qtbot, dataset):
    """A browser on screen following a session of its own, which then loads ``dataset`` (as in the window, which
    shows before its data arrives); its test-set answers are watched."""
    browser = ImageBrowser()
    qtbot.addWidget(browser)
    browser.follow(Session(parent=browser))
    browser.show()
    browser.session.set_dataset(dataset)
    return browser


def shown_browser(qtbot, dataset, model):
    """A browser on screen over ``dataset``, with the predictions of ``model`` computed."""
    browser = new_browser(qtbot, dataset)
    browser.resize(1000, 640)
    browser.show()
    with qtbot.waitSignal(browser.session.test_predictions.changed, timeout=5000):
        browser.session.set_model(model)
    return browser


@pytest.fixture
def browser(qtbot, named_dataset, model):
    return shown_browser(qtbot, named_dataset, model)


@pytest.fixture
def confusion(qtbot, browser):
    """A confusion matrix on screen, following the browser's session as the main window wires it."""
    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(640, 560)
    view.show()
    view.follow(browser.session)
    view.set_predictions(browser.predictions, browser.weights)
    return view


def canvas_point(pad, u: float, v: float) -> QPoint:
    """The widget position of the point (u, v) of the drawing sheet, both in [0, 1]."""
    sheet = pad.canvas.sheet()
    return QPointF(sheet.left() + u * sheet.width(), sheet.top() + v * sheet.height()).toPoint()


def draw_stroke(qtbot, pad, points) -> None:
    """Press, move through ``points`` (sheet fractions) in small steps, release: as a hand would."""
    canvas = pad.canvas
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=canvas_point(pad, *points[0]))
    for (u0, v0), (u1, v1) in zip(points[:-1], points[1:]):
        for t in np.linspace(0, 1, 12)[1:]:
            qtbot.mouseMove(canvas, canvas_point(pad, u0 + t * (u1 - u0), v0 + t * (v1 - v0)))
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=canvas_point(pad, *points[-1]))


def test_a_stroke_drawn_with_the_mouse_gives_a_centred_input_and_a_prediction(qtbot, pad, model):
    pad.session.set_confidence_threshold(0.0)  # every answer given as one, however unsure ("not sure": test_robustness_view)
    pad.set_model(model)
    with qtbot.waitSignal(pad.session.input_changed, timeout=3000, check_params_cb=lambda x: x is not None):
        draw_stroke(qtbot, pad, [(0.6, 0.1), (0.9, 0.1), (0.7, 0.45)])  # a small "7" in the top-right corner
    x = pad.network_input
    assert x.shape == model.image_shape and x.max() > 0.5
    assert pad.session.input.pixels is x and pad.session.input.origin == "your drawing" and pad.session.input.label is None
    row, col = centre_of_mass(x)
    assert abs(row - x.shape[0] // 2) <= 1 and abs(col - x.shape[1] // 2) <= 1
    assert pad.probabilities.shape == (4,) and pad.probabilities.sum() == pytest.approx(1, abs=1e-5)
    assert pad.verdict.text().startswith("Prediction: ")
    assert any(name in pad.verdict.text() for name in CLASS_NAMES)


def test_predictions_are_throttled_while_drawing(qtbot, pad, model):
    pad.set_model(model)
    qtbot.waitUntil(lambda: not pad.prediction_pending, timeout=3000)  # the pad's own reading for the new model
    predictions = []
    pad.session.input_changed.connect(predictions.append)
    with qtbot.waitSignal(pad.session.input_changed, timeout=3000):
        draw_stroke(qtbot, pad, [(0.2, 0.2), (0.8, 0.3), (0.3, 0.8), (0.8, 0.8)])  # 34 mouse events in a few ms
    QApplication.processEvents()  # predictions deferred to the event loop, if any, come now
    assert 1 <= len(predictions) <= 8  # one per 40 ms at most, not one per mouse event


def test_a_pen_on_a_tablet_draws_strokes(qtbot, pad):
    pen = QPointingDevice("pen", 1, QInputDevice.DeviceType.Stylus, QPointingDevice.PointerType.Pen, QInputDevice.Capability.Pressure, 1, 3)

    def tablet(kind, u, v, pressure=0.7):
        position = QPointF(canvas_point(pad, u, v))
        global_position = QPointF(pad.canvas.mapToGlobal(position))
        buttons = Qt.MouseButton.LeftButton
        return QTabletEvent(kind, pen, position, global_position, pressure, 0, 0, 0, 0, 0, Qt.KeyboardModifier.NoModifier, buttons, buttons)

    QApplication.sendEvent(pad.canvas, tablet(QEvent.Type.TabletPress, 0.5, 0.2))
    for v in np.linspace(0.2, 0.8, 10):
        QApplication.sendEvent(pad.canvas, tablet(QEvent.Type.TabletMove, 0.5, v))
    with qtbot.waitSignal(pad.session.input_changed, timeout=3000):
        QApplication.sendEvent(pad.canvas, tablet(QEvent.Type.TabletRelease, 0.5, 0.8, pressure=0))
    assert len(pad.canvas.strokes) == 1 and pad.network_input.max() > 0.5


def test_saliency_has_the_input_shape_and_is_finite(qtbot, pad, model):
    pad.set_model(model)
    pad.saliency_box.setChecked(True)
    with qtbot.waitSignal(pad.session.input_changed, timeout=3000):
        draw_stroke(qtbot, pad, [(0.2, 0.5), (0.8, 0.5)])
    assert pad.saliency.shape == pad.network_input.shape
    assert np.isfinite(pad.saliency).all() and np.abs(pad.saliency).max() > 0
    saliency, probabilities = model.saliency(pad.network_input.reshape(1, -1))
    assert saliency.shape == (1, pad.network_input.size) and np.isfinite(saliency).all()
    np.testing.assert_allclose(probabilities[0], pad.probabilities, rtol=1e-5)


def test_undo_removes_one_stroke_and_escape_clears(qtbot, pad, model):
    pad.set_model(model)
    draw_stroke(qtbot, pad, [(0.3, 0.2), (0.3, 0.8)])
    draw_stroke(qtbot, pad, [(0.2, 0.5), (0.8, 0.5)])
    assert len(pad.canvas.strokes) == 2
    qtbot.waitUntil(lambda: pad.session.input is not None, timeout=3000)
    pad.canvas.setFocus()
    qtbot.keyClick(pad.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(pad.canvas.strokes) == 1
    with qtbot.waitSignal(pad.session.input_changed, timeout=3000, check_params_cb=lambda x: x is None):
        qtbot.keyClick(pad.canvas, Qt.Key.Key_Escape)
    assert pad.canvas.is_empty and pad.probabilities is None
    assert pad.verdict.text() == "Draw a digit"


def test_the_pad_draws_without_a_model_and_predicts_once_one_arrives(qtbot, pad, model):
    with qtbot.waitSignal(pad.session.input_changed, timeout=3000):
        draw_stroke(qtbot, pad, [(0.5, 0.2), (0.5, 0.8)])
    assert pad.network_input is not None and pad.probabilities is None
    with qtbot.waitSignal(pad.session.input_changed, timeout=3000):
        pad.set_model(model)
    assert pad.probabilities is not None
    assert [len(a) for a in pad.activations.activations] == [100, 16]


def test_misclassified_count_equals_test_size_minus_the_cores_correct_count(qtbot, browser, named_dataset, model):
    n = len(named_dataset.test_labels)
    correct = round(accuracy(model.predict_images(named_dataset.test_images), named_dataset.test_labels) * n)
    browser.mistakes_box.setChecked(True)
    assert len(browser.rows) == n - correct > 0
    assert browser.list_model.rowCount() == n - correct
    assert f"{n - correct} misclassified" in browser.count_label.text()
    assert browser.count_label.text().startswith(f"{n - correct} of {n} shown")


@pytest.mark.mnist
def test_on_mnist_misclassified_count_is_10000_minus_the_cores_correct_count(qtbot, mnist):
    model = quick_model(mnist)
    browser = new_browser(qtbot, mnist)
    with qtbot.waitSignal(browser.session.test_predictions.changed, timeout=10_000):
        browser.session.set_model(model)
    correct = round(accuracy(model.predict_images(mnist.test_images), mnist.test_labels) * 10_000)
    browser.mistakes_box.setChecked(True)
    assert len(browser.rows) == 10_000 - correct
    assert browser.count_label.text().startswith(f"{10_000 - correct:,} of 10,000 shown")


def test_filters_and_sorting(qtbot, browser, named_dataset):
    p = browser.predictions
    browser.true_combo.setCurrentIndex(browser.true_combo.findData(2))
    np.testing.assert_array_equal(browser.rows, np.flatnonzero(named_dataset.test_labels == 2))
    browser.show_filter(None, 1)
    np.testing.assert_array_equal(browser.rows, np.flatnonzero(p.predicted == 1))
    browser.show_filter(None, None)
    browser.sort_combo.setCurrentIndex(browser.sort_combo.findData("loss"))
    assert len(browser.rows) == len(named_dataset.test_labels)
    assert np.all(np.diff(p.loss[browser.rows]) <= 0)
    browser.sort_combo.setCurrentIndex(browser.sort_combo.findData("confidence_ascending"))
    assert np.all(np.diff(p.confidence[browser.rows]) >= 0)


def test_new_predictions_keep_the_scroll_position_and_the_selection(qtbot, browser):
    browser.list_view.setCurrentIndex(browser.list_model.index(150))
    bar = browser.list_view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    bar.setValue(bar.maximum() // 2)
    with qtbot.waitSignal(browser.session.test_predictions.changed, timeout=5000):
        browser.session.set_model(replace(browser.model, epochs_trained=2))  # the next epoch's weights
    assert bar.value() == bar.maximum() // 2
    assert browser.selected_image() == 150


def test_class_names_come_from_the_dataset(browser):
    names = [browser.true_combo.itemText(i) for i in range(1, browser.true_combo.count())]
    assert names == CLASS_NAMES
    browser.list_view.setCurrentIndex(browser.list_model.index(0))
    assert any(name in browser.detail_text.text() for name in CLASS_NAMES)


def test_a_confusion_cell_click_filters_the_browser_to_exactly_those_images(qtbot, browser, confusion, named_dataset):
    view = confusion
    labels, predicted = named_dataset.test_labels, browser.predictions.predicted
    matrix = confusion_matrix(labels, predicted, 4)
    np.testing.assert_array_equal(view.matrix, matrix)
    mistakes = matrix - np.diag(np.diag(matrix))
    true_class, predicted_class = np.unravel_index(mistakes.argmax(), matrix.shape) if mistakes.any() else (1, 1)
    cell = view.cell_rect(true_class, predicted_class).center().toPoint()
    with qtbot.waitSignal(view.filter_requested) as clicked:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=cell)
    assert clicked.args == [true_class, predicted_class]
    expected = np.flatnonzero((labels == true_class) & (predicted == predicted_class))
    np.testing.assert_array_equal(np.sort(browser.rows), expected)
    assert len(browser.rows) == matrix[true_class, predicted_class]
    row_label = view.cell_rect(2, 0).center() - QPointF(view.cell_rect(2, 0).width(), 0)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=row_label.toPoint())
    np.testing.assert_array_equal(browser.rows, np.flatnonzero(labels == 2))


def test_open_in_drawing_pad_copies_the_selected_image(qtbot, browser, pad, named_dataset, model):
    pad.follow(browser.session)  # the pad and the browser share one session, as in the window
    pad.set_model(model)
    browser.list_view.setCurrentIndex(browser.list_model.index(5))
    browser.detail_saliency.setChecked(True)
    assert browser.detail_image.image() is not None
    with qtbot.waitSignal(browser.session.input_changed) as opened:
        qtbot.mouseClick(browser.open_button, Qt.MouseButton.LeftButton)
    np.testing.assert_array_equal(opened.args[0].image, named_dataset.test_images[5])
    assert opened.args[0].label == named_dataset.test_labels[5] and opened.args[0].origin == "test image #5"
    qtbot.waitUntil(lambda: pad.probabilities is not None, timeout=3000)
    assert pad.network_input.shape == named_dataset.image_shape
    assert pad.hint.text() == LOADED_HINT
    current = browser.session.input  # the pad's reading of the opened image: it is still test image #5
    assert current.image is None and current.origin == "test image #5" and current.label == named_dataset.test_labels[5]
    np.testing.assert_array_equal(current.pixels, pad.network_input)
    pad.clear()
    qtbot.waitUntil(lambda: pad.hint.text().startswith("Write one digit"), timeout=3000)


def test_new_models_refresh_the_predictions_at_most_once_a_second(qtbot, browser, model):
    refreshes = []
    browser.session.test_predictions.changed.connect(lambda: refreshes.append(browser.session.test_predictions.predictions))
    for epochs in range(5):
        browser.session.set_model(replace(model, epochs_trained=epochs))
    qtbot.wait(600)
    assert len(refreshes) <= 1
    qtbot.waitUntil(lambda: len(refreshes) == 1, timeout=3000)


def test_browser_without_a_model_shows_every_image(qtbot, named_dataset):
    browser = new_browser(qtbot, named_dataset)
    assert len(browser.rows) == len(named_dataset.test_labels)
    assert "no model yet" in browser.count_label.text()
    assert not browser.mistakes_box.isEnabled()


def test_without_a_selection_the_probability_pane_asks_for_one_and_only_mentions_a_missing_model_when_there_is_none(
    qtbot, browser, named_dataset
):
    assert browser.selected_image() is None
    assert browser.detail_bars.placeholder == SELECT_IMAGE
    browser.list_view.setCurrentIndex(browser.list_model.index(3))
    browser.list_view.setCurrentIndex(browser.list_model.index(-1))  # deselect
    assert browser.detail_bars.placeholder == SELECT_IMAGE and browser.detail_text.text() == ""
    empty = new_browser(qtbot, named_dataset)
    assert empty.detail_bars.placeholder == NO_MODEL


def test_the_count_line_and_legend_wrap_instead_of_holding_the_browser_wide(qtbot, named_dataset, model):
    browser = new_browser(qtbot, named_dataset)
    browser.show()
    without_predictions = browser.minimumSizeHint().width()
    with qtbot.waitSignal(browser.session.test_predictions.changed, timeout=5000):
        browser.session.set_model(replace(model, epochs_trained=12))
    assert "misclassified" in browser.count_label.text() and "weights after 12 epochs" in browser.count_label.text()
    assert browser.minimumSizeHint().width() < 700
    assert browser.minimumSizeHint().width() <= without_predictions + 20
    browser.resize(browser.minimumSizeHint())
    qtbot.waitUntil(lambda: browser.width() < 700)
    assert browser.legend.height() >= 2 * browser.legend.fontMetrics().height()  # wrapped onto a second line
    assert browser.count_label.width() < 700 and browser.legend.width() < 700


def test_one_confidence_figure_per_image_never_rounded_up_to_certainty(browser, named_dataset):
    assert [percent(p) for p in (0.0, 0.1234, 0.995, 0.99996, 1.0)] == ["0.0 %", "12.3 %", "99.5 %", "99.9 %", "100.0 %"]
    assert percent(np.float32(0.57)) == "57.0 %"  # float32 0.57 is 0.5699999...: not floored to 56.9
    p = browser.predictions
    i = int(np.argmax(p.confidence))
    row = int(np.flatnonzero(browser.rows == i)[0])
    browser.list_view.setCurrentIndex(browser.list_model.index(row))
    sure = percent(p.confidence[i])
    assert browser.list_model.index(row).data().endswith(sure)
    assert f"predicted {named_dataset.class_names[p.predicted[i]]}, {sure} sure" in browser.detail_text.text()
    assert " a " not in browser.detail_text.text()


@pytest.mark.parametrize(
    ("epochs_trained", "caption"),
    [
        (0, " — untrained network (random weights)"),
        (3, " — weights after 3 epochs"),
        (0.81, " — weights after 0.81 epochs"),
        (None, ""),
    ],
)
def test_the_count_line_and_the_confusion_title_say_which_weights_the_figures_come_from(
    qtbot, named_dataset, model, epochs_trained, caption
):
    view = ConfusionView()
    qtbot.addWidget(view)
    browser = new_browser(qtbot, named_dataset)
    view.follow(browser.session)
    with qtbot.waitSignal(browser.session.test_predictions.changed, timeout=5000):
        browser.session.set_model(replace(model, epochs_trained=epochs_trained))
    count, title = browser.count_label.text(), view.title()
    assert count.endswith(("correct)" + caption, "%)" + caption)) and "correct)" in count and title.endswith("images" + caption)
    assert title.startswith(f"Test accuracy {100 * browser.predictions.accuracy:.2f} %")


def test_the_confusion_hover_outline_goes_when_the_pointer_leaves(qtbot, confusion):
    untouched = confusion.grab().toImage()
    at = confusion.cell_rect(1, 2).center()
    none = Qt.MouseButton.NoButton
    move = QMouseEvent(QEvent.Type.MouseMove, at, confusion.mapToGlobal(at), none, none, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(confusion, move)  # a hover (QTest's mouseMove does not reach an offscreen window)
    assert confusion.grab().toImage() != untouched  # the cell is outlined
    QApplication.sendEvent(confusion, QEvent(QEvent.Type.Leave))
    assert confusion.grab().toImage() == untouched


def test_the_confusion_matrix_is_centred_in_a_wide_view_and_clicks_still_hit_the_drawn_cells(qtbot, confusion):
    confusion.resize(1200, 500)
    qtbot.waitUntil(lambda: confusion.size() == QSize(1200, 500))
    image = confusion.grab().toImage()
    background = image.pixelColor(1, 1)
    grid = confusion.cell_rect(0, 0).united(confusion.cell_rect(3, 3))
    inked = [x for x in range(image.width()) for y in range(int(grid.top()), int(grid.bottom()), 7) if image.pixelColor(x, y) != background]
    left_margin, right_margin = min(inked), image.width() - 1 - max(inked)
    assert left_margin > 200 and abs(left_margin - right_margin) < 40
    for true_class, predicted_class in ((0, 0), (3, 1)):
        with qtbot.waitSignal(confusion.filter_requested) as clicked:
            qtbot.mouseClick(confusion, Qt.MouseButton.LeftButton, pos=confusion.cell_rect(true_class, predicted_class).center().toPoint())
        assert clicked.args == [true_class, predicted_class]
        assert image.pixelColor(confusion.cell_rect(true_class, predicted_class).center().toPoint()) != background


def test_network_view_pages_weights_and_shows_activations(qtbot, model, named_dataset):
    view = NetworkView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    view.set_model(model)
    qtbot.waitUntil(lambda: view.tiles.image() is not None, timeout=3000)
    assert view.pages == 2 and view.page_label.text() == f"units 1–{TILES_PER_PAGE} of 100"
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert view.page == 1 and view.page_label.text() == f"units {TILES_PER_PAGE + 1}–100 of 100"
    assert not view.next_button.isEnabled()
    assert view.histogram_hint.isHidden()
    view.show_input(named_dataset.test_images[0] / 255.0)
    assert [len(a) for a in view.activations.activations] == [100, 16]
    view.set_model(None)
    qtbot.waitUntil(lambda: view.tiles.image() is None, timeout=3000)


# ---- many classes with long names ---------------------------------------------------------------------

LONG_NAMES = [f"class {k:03d}: a deliberately long, descriptive category name" for k in range(100)]


@pytest.fixture
def hundred_classes(tmp_path):
    """1,000 training and 500 test images of 12×12 in 100 classes, each with a long name from classes.txt."""
    folder = write_dataset(tmp_path / "hundred", n_train=1000, n_test=500, num_classes=100)
    (folder / "classes.txt").write_text("\n".join(LONG_NAMES), encoding="utf-8")
    return load_dataset(folder)


def test_a_confusion_matrix_of_100_long_named_classes_fits_its_view_and_every_cell_still_answers(qtbot, hundred_classes):
    browser = shown_browser(qtbot, hundred_classes, quick_model(hundred_classes, train_images=1000, hidden=(32,), epochs=1))
    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    view.set_predictions(browser.predictions, browser.weights)
    assert view.rect().toRectF().contains(view.cell_rect(0, 0).united(view.cell_rect(99, 99)))
    for true_class, predicted_class in ((0, 0), (37, 62), (99, 99)):
        with qtbot.waitSignal(view.filter_requested) as clicked:
            qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=view.cell_rect(true_class, predicted_class).center().toPoint())
        assert clicked.args == [true_class, predicted_class]
    assert LONG_NAMES[37] in view.describe(37, 62) and LONG_NAMES[62] in view.describe(37, 62)


def test_long_class_names_do_not_hold_the_browser_wide_and_the_filters_name_them_in_full(qtbot, hundred_classes):
    browser = shown_browser(qtbot, hundred_classes, quick_model(hundred_classes, train_images=1000, hidden=(32,), epochs=1))
    for combo in (browser.true_combo, browser.predicted_combo):
        assert combo.minimumSizeHint().width() < combo.fontMetrics().horizontalAdvance(LONG_NAMES[37])
        index = combo.findData(37)
        assert combo.itemText(index) == LONG_NAMES[37] and combo.itemData(index, Qt.ItemDataRole.ToolTipRole) == LONG_NAMES[37]
    browser.show_filter(37, None)
    assert browser.true_combo.toolTip() == LONG_NAMES[37]
