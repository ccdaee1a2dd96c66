"""The "One example" tab driven through its widgets: it follows the session's model and input, shows the numbers of
``scratchnet.inspect.arithmetic`` with their lines, lets the learner choose the label and the units, takes a step on a
copy, and works for any depth, image shape and class names."""

import re

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from scratchnet.data import load_dataset, to_inputs
from scratchnet.inspect.arithmetic import LINES
from scratchnet.inspect.edits import UnitRef
from scratchnet.model import Model
from scratchnet.nn.network import copy_params, init_params
from scratchnet_gui.arithmetic_view import NO_INPUT, ArithmeticView, NumbersTable, number
from scratchnet_gui.main_window import MainWindow
from scratchnet_gui.session import NetworkInput
from scratchnet_gui.visuals import NO_MODEL

from .conftest import write_dataset
from .quick_models import quick_model

LINE_LABEL = re.compile(r"network\.py:(\d+)$")


@pytest.fixture
def view(qtbot, session):
    """The view on screen, 700×700 (its width in the window at 1024×768), following a session with the fake data."""
    view = ArithmeticView()
    qtbot.addWidget(view)
    view.follow(session)
    view.resize(700, 700)
    view.show()
    qtbot.waitExposed(view)
    view.session = session
    return view


def tables(view) -> list[NumbersTable]:
    return [table for table in view.findChildren(NumbersTable) if table.isVisibleTo(view)]


def cells(table: NumbersTable) -> list[list[str]]:
    return [[table.text_at(r, c) for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_it_explains_an_opened_test_image_with_its_true_label(view, session):
    model = quick_model(session.dataset, train_images=600, hidden=(16, 8), epochs=1)
    session.set_model(model)
    assert view.message.text() == NO_INPUT
    session.open_test_image(5)
    example = view.example
    assert example is not None and example.label == int(session.dataset.test_labels[5])
    assert view.label_box.currentIndex() == example.label and "true class" in view.label_kind.text()
    first = cells(view._forward[0].table)
    assert first[-2][3] == number(example.forward[0].z) and first[-1][3] == number(example.forward[0].a)
    loss_row = cells(view.softmax_section.loss_table)[0]
    assert loss_row[2] == number(example.loss)
    assert "test image #5" in view.path_note.text().lower()


def test_every_number_shown_carries_the_line_that_computes_it(view, session):
    session.set_model(quick_model(session.dataset, train_images=600, hidden=(16, 8), epochs=1))
    session.open_test_image(0)
    codes = {line.number: line.code for line in LINES.values()}
    labelled = 0
    for table in tables(view):
        line_column = [c for c in range(table.columnCount()) if table.horizontalHeaderItem(c).text() == "line"]
        for r in range(table.rowCount()):
            texts = [table.text_at(r, c) for c in range(table.columnCount())]
            numbers = [t for t in texts[1:] if re.fullmatch(r"[−\d.e]+|n/a|−?∞", t)]
            if not numbers or texts[0] == "computed at":
                continue
            labels = [table.item(r, c) for c in line_column] or [table.item(table.rowCount() - 1, c) for c in range(1, table.columnCount())]
            for item in labels:
                match = LINE_LABEL.fullmatch(item.text())
                assert match, (texts, item.text())
                assert item.toolTip().endswith(codes[int(match.group(1))])
                labelled += 1
    assert labelled > 40


def test_a_drawing_is_explained_with_the_predicted_class_until_the_learner_chooses_another(view, session, qtbot):
    model = quick_model(session.dataset, train_images=600, hidden=(16,), epochs=1)
    session.set_model(model)
    pixels = to_inputs(session.dataset.test_images[7][None]).reshape(session.dataset.image_shape)
    session.set_input(NetworkInput(pixels, "your drawing"))
    predicted = int(model.predict_proba(pixels.reshape(1, -1)).argmax())
    assert view.example.label == predicted and "predicted" in view.label_kind.text()
    view.label_box.setFocus()
    other = (predicted + 1) % 4
    qtbot.keyClick(view.label_box, Qt.Key.Key_Down if other > predicted else Qt.Key.Key_Home)
    assert view.example.label == view.label_box.currentIndex() != predicted
    assert "your choice" in view.label_kind.text()
    assert view.example.softmax.dlogits[view.example.label] < 0  # p − 1 for the label chosen
    session.set_input(NetworkInput(pixels * 0.5, "your drawing"))  # a new drawing: back to the prediction
    assert "predicted" in view.label_kind.text()


def test_choosing_a_unit_puts_the_path_through_it_and_strongest_path_restores_it(view, session, qtbot):
    session.set_model(quick_model(session.dataset, train_images=600, hidden=(16, 8), epochs=1))
    session.open_test_image(1)
    strongest = view.example.path
    assert not view.strongest_button.isEnabled()
    box = view._forward[1].unit_box
    chosen = (strongest[1] + 3) % 8
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), str(chosen + 1))
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Return)
    assert view.example.path[1] == chosen and session.selected_unit == UnitRef(1, chosen)  # one selection, the session's
    assert view._forward[0].unit_box.value() == view.example.path[0] + 1  # the layer below follows the chosen unit
    logit_terms = [row[0] for row in cells(view._forward[2].table)]
    assert [name for name in logit_terms if "◂ path" in name] == [f"unit {chosen + 1} ◂ path"]  # the logit's terms show it
    assert view.strongest_button.isEnabled()
    view.strongest_button.click()
    assert view.example.path == strongest
    session.select_unit(UnitRef(0, 15))  # as a click on a unit anywhere else
    assert view.example.path[0] == 15 and view._forward[0].unit_box.value() == 16


def test_take_one_step_shows_the_loss_before_and_after_on_a_copy(view, session, qtbot):
    model = quick_model(session.dataset, train_images=600, hidden=(16, 8), epochs=1)
    trained = copy_params(model.params)
    session.set_model(model)
    session.open_test_image(2)
    step_section = view.step_section
    assert step_section.lr_box.value() == pytest.approx(model.config["lr"])  # the rate it trained with
    step_section.lr_box.setValue(0.05)
    step_section.button.setFocus()
    qtbot.keyClick(step_section.button, Qt.Key.Key_Space)
    step = view.step
    assert step is not None and step.lr == pytest.approx(0.05)
    rows = cells(step_section.table)
    assert rows[0][1:] == [number(step.loss_before), number(step.loss_after)]
    assert step.loss_after < step.loss_before
    assert number(step.predicted_change) in step_section.change.text() and number(step.actual_change) in step_section.change.text()
    assert all(np.array_equal(layer[name], before[name]) for layer, before in zip(model.params, trained) for name in layer)
    session.open_test_image(3)  # a new example: the old step's numbers go
    assert view.step is None and not step_section.table.isVisibleTo(view)


def test_it_waits_for_a_model_and_an_input(view, session):
    assert view.message.text() == NO_MODEL and view.example is None
    session.set_model(quick_model(session.dataset, train_images=600, hidden=(16,), epochs=1))
    assert view.message.text() == NO_INPUT
    session.open_test_image(0)
    assert view.example is not None and not view.message.isVisibleTo(view)
    session.set_model(None)
    assert view.example is None and view.message.text() == NO_MODEL


def test_a_hidden_view_computes_nothing_until_shown(qtbot, session):
    view = ArithmeticView()
    qtbot.addWidget(view)
    view.follow(session)
    session.set_model(quick_model(session.dataset, train_images=600, hidden=(16,), epochs=1))
    session.open_test_image(0)
    assert view.example is None
    view.show()
    qtbot.waitUntil(lambda: view.example is not None, timeout=2000)


@pytest.mark.parametrize("hidden", [(), (12,), (9, 8, 7, 6)], ids=["no hidden layer", "1 hidden", "4 hidden"])
def test_any_depth_image_shape_and_class_names(qtbot, tmp_path, hidden):
    folder = write_dataset(tmp_path / "wide", shape=(10, 14), num_classes=3)
    (folder / "classes.txt").write_text("cat\ndog\nbird", encoding="utf-8")
    dataset = load_dataset(folder)
    params = init_params([140, *hidden, 3], "he", np.random.default_rng(0))
    model = Model(params, "tanh", dataset.class_names, (10, 14))
    view = ArithmeticView()
    qtbot.addWidget(view)
    view.resize(700, 700)
    view.show()
    view.set_model(model)
    image = dataset.test_images[0]
    view.set_input(NetworkInput(to_inputs(image[None]).reshape(image.shape), "test image #0", int(dataset.test_labels[0]), image))
    assert len(view._forward) == len(view._backward) == len(hidden) + 1
    assert [view.label_box.itemText(i) for i in range(3)] == ["cat", "dog", "bird"]
    first = cells(view._forward[0].table)
    assert first[0][0].startswith("pixel (") and all(int(v) <= 14 for v in re.findall(r"\d+", first[0][0]))
    assert view._forward[0].input_image.image().size().toTuple() == (14, 10)
    assert any(row[0].startswith("−log p[") for row in cells(view.softmax_section.loss_table))
    view.take_step()
    assert view.step is not None


def test_weights_that_overflow_show_as_numbers_that_say_so(view, session):
    params = init_params([144, 8, 4], "he", np.random.default_rng(0))
    params[0]["W"][:] = 3e38
    session.set_model(Model(params, "relu", ["a", "b", "c", "d"], (12, 12)))
    session.open_test_image(0)
    texts = [text for table in tables(view) for row in cells(table) for text in row]
    assert any(text in ("n/a", "∞", "−∞") for text in texts)
    view.take_step()


def test_every_control_is_reachable_with_the_keyboard(view, session):
    session.set_model(quick_model(session.dataset, train_images=600, hidden=(16, 8), epochs=1))
    session.open_test_image(0)
    wanted = {view.label_box, view._forward[0].unit_box, view._forward[1].unit_box, view.step_section.lr_box, view.step_section.button}
    view.label_box.setFocus()
    reached = set()
    for _ in range(200):
        widget = QApplication.focusWidget()
        reached.add(widget)
        if widget is not None and widget.parent() in wanted:  # a spin box's line edit
            reached.add(widget.parent())
        view.focusNextChild()
    assert wanted <= reached


def test_it_fits_the_width_of_its_tab_at_1024_by_768(view, session):
    """700 px is the tab's width in a 1024×768 window with the settings dock: nothing needs a horizontal scroll."""
    session.set_model(quick_model(session.dataset, train_images=600, hidden=(16, 8), epochs=1))
    session.open_test_image(0)
    QApplication.processEvents()
    assert view.scroll.horizontalScrollBar().maximum() == 0
    assert view.scroll.widget().minimumSizeHint().width() <= view.scroll.viewport().width()


def test_in_the_window_at_1024_by_768_it_explains_the_test_image_opened(qtbot, tmp_path, fake_data_dir):
    window = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    with qtbot.waitSignal(window.session.dataset_changed, timeout=10_000):
        window.load_data(str(fake_data_dir))
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.width() == 1024, timeout=2000)
    window.session.open_model(quick_model(window.session.dataset, train_images=600, hidden=(16, 8), epochs=1))
    window.session.open_test_image(9)
    window.show_tab("One example")
    view = window.arithmetic
    qtbot.waitUntil(lambda: view.example is not None and view.isVisible(), timeout=2000)
    assert view.example.label == int(window.session.dataset.test_labels[9])
    QApplication.processEvents()
    assert view.scroll.horizontalScrollBar().maximum() == 0


# ---- the experiments of docs/app.md, "Experiments to try" ----------------------------------------------------


@pytest.fixture
def mnist_view(qtbot, mnist):
    """The view over a small network trained on real MNIST, with the test images it gets wrong."""
    model = quick_model(mnist)
    view = ArithmeticView()
    qtbot.addWidget(view)
    view.resize(700, 700)
    view.show()
    view.set_model(model)
    predicted = model.predict_images(mnist.test_images).argmax(axis=1)
    view.mistakes = np.flatnonzero(predicted != mnist.test_labels)[:20]
    view.dataset = mnist
    return view


def open_test_image(view, index: int) -> None:
    dataset = view.dataset
    image = dataset.test_images[index]
    view.set_input(
        NetworkInput(to_inputs(image[None]).reshape(image.shape), f"test image #{index}", int(dataset.test_labels[index]), image)
    )


def step_at(view, lr: float):
    view.step_section.lr_box.setValue(lr)
    view.step_section.button.click()
    return view.step


@pytest.mark.mnist
def test_experiment_one_step_at_0_1_fixes_a_mistake(mnist_view):
    """ "Open a test image the network gets wrong … take one step at learning rate 0.1: the loss falls to nearly 0
    and the network reads the image as its true class."""
    assert len(mnist_view.mistakes) == 20
    for index in mnist_view.mistakes:
        open_test_image(mnist_view, index)
        assert mnist_view.example.predicted != mnist_view.example.label  # a mistake, its true class the label
        step = step_at(mnist_view, 0.1)
        assert step.loss_after < 0.1 * step.loss_before and step.predicted_after == mnist_view.example.label


@pytest.mark.mnist
def test_experiment_the_first_order_prediction_holds_for_small_steps_only(mnist_view):
    """ "At learning rate 0.00001 the actual change of the loss and −lr·‖g‖² agree within 1 %; at 0.1 the prediction
    is a fall larger than the whole loss, which cannot be: a loss is never below 0."""
    for index in mnist_view.mistakes:
        open_test_image(mnist_view, index)
        small = step_at(mnist_view, 0.00001)
        assert small.actual_change == pytest.approx(small.predicted_change, rel=0.01)
        large = step_at(mnist_view, 0.1)
        assert -large.predicted_change > large.loss_before > 0 and large.loss_after >= 0


@pytest.mark.mnist
def test_experiment_a_silent_relu_unit_learns_nothing_from_the_example(mnist_view):
    """ "In hidden layer 1 choose a unit whose z is below 0 (so a = 0): f′(z) is 0, so its δ is 0, and so is the
    gradient of every one of its weights."""
    open_test_image(mnist_view, int(mnist_view.mistakes[0]))
    a = mnist_view.model.hidden_activations(mnist_view.example.x)[0][0]
    silent = int(np.flatnonzero(a == 0)[0])
    box = mnist_view._forward[0].unit_box
    box.setValue(silent + 1)
    assert mnist_view.example.forward[0].z < 0 and mnist_view.example.forward[0].a == 0
    delta_rows = cells(mnist_view._backward[0].delta_table)
    assert [row[3] for row in delta_rows[-3:]] == ["0", "0", "0"]  # × f′(z), = δ, dL/db
    assert {row[3] for row in cells(mnist_view._backward[0].gradient_table)} == {"0"}
    assert not np.any(mnist_view.example.backward[0].weight_gradient)
