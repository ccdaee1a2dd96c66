"""The Edits tab and the session's edits: an edit reaches the accuracy, the table of classes, the pad's answer and the
confusion matrix at once; Save as new model writes a file that loads back with its edits and is recorded as an
edit of its run; the trained weights never change; edits wait for the end of a run."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from scratchnet.config import TrainConfig
from scratchnet.inspect.edits import Prune, ScaleIncoming, ShiftBias, SwitchOff, Temperature, UnitRef, WeightNoise, apply_edits
from scratchnet.model_file import load_model
from scratchnet.nn import forward, get_activation, softmax
from scratchnet.runs import RunStore
from scratchnet_gui.confusion_view import ConfusionView
from scratchnet_gui.draw_pad import DrawPad
from scratchnet_gui.edit_panel import EditPanel, temperature_of
from scratchnet_gui.runs_panel import RunsPanel
from scratchnet_gui.session import EDIT_DURING_RUN

from .quick_models import quick_model
from .test_gui_app import window  # noqa: F401  (the fixture)
from .test_session import run_to_the_end, start_long_run, stop

SMALL = TrainConfig(hidden=[16, 12], epochs=2, batch_size=32, optimizer="adam", lr=0.01, validation_size=100)


def plain_answers(model, dataset, edits) -> np.ndarray:
    """The edited network's probabilities on the test set, by one plain pass of ``scratchnet.nn``."""
    params = apply_edits(model.params, list(edits))
    x = dataset.test_images.reshape(len(dataset.test_images), -1).astype(model.dtype) / 255
    logits, _ = forward(params, x, get_activation(model.activation))
    return softmax(logits)


@pytest.fixture
def trained(qtbot, session):
    """The session with a small trained model of the fake dataset as its current model."""
    model = quick_model(session.dataset, train_images=600, hidden=(16, 12), epochs=3)
    assert session.open_model(model) is not None
    return model


@pytest.fixture
def panels(qtbot, session):
    """The Edits tab, the drawing pad and the confusion matrix, each on screen, following the session."""
    shown = []
    for panel in (EditPanel(), DrawPad(), ConfusionView()):
        qtbot.addWidget(panel)
        panel.follow(session)
        panel.resize(900, 650)
        panel.show()
        shown.append(panel)
    qtbot.waitExposed(shown[0])
    return shown


def test_an_edit_updates_the_accuracy_the_classes_the_pad_and_the_confusion_matrix(qtbot, session, panels, trained):
    editing, pad, confusion = panels
    session.open_test_image(3)
    qtbot.waitUntil(lambda: not pad.prediction_pending and pad.probabilities is not None)
    with qtbot.waitSignal(session.edit_effect_changed) as changed:
        editing.prune.setValue(80)  # as the learner drags the slider: one edit once the throttle allows
    effect = changed.args[0]
    assert session.edits == (Prune(0.8),)
    expected = plain_answers(trained, session.dataset, session.edits)
    accuracy = float((expected.argmax(1) == session.dataset.test_labels).mean())
    assert effect.accuracy_after == pytest.approx(accuracy)
    assert f"{100 * accuracy:.2f} %" in editing.accuracy.text()
    labels = session.dataset.test_labels
    for row in range(len(session.dataset.class_names)):
        right = expected.argmax(1)[labels == row] == row
        assert editing.classes.item(row, 2).text() == f"{100 * right.mean():.2f} %"
    # the confusion matrix shows the edited copy's answers at once, without a second pass over the test set
    assert confusion.predictions is effect.after and session.test_predictions.model is session.model
    qtbot.waitUntil(lambda: not session.test_predictions.busy)  # a pass for the trained weights, under way, never lands
    assert confusion.predictions is effect.after
    np.testing.assert_array_equal(confusion.matrix, np.bincount(labels * 4 + expected.argmax(1), minlength=16).reshape(4, 4))
    qtbot.waitUntil(lambda: not pad.prediction_pending)
    np.testing.assert_allclose(pad.probabilities, plain_answers(trained, session.dataset, session.edits)[3], rtol=1e-4, atol=1e-6)
    before, after = session.input_answers()
    np.testing.assert_allclose(after[0], expected[3], rtol=1e-4, atol=1e-6)
    assert trained.class_names[after[0].argmax()] in editing.input_answer.text()
    assert editing.broken.count() == min(len(effect.broken), 48) and editing.mended.count() == min(len(effect.mended), 48)


def test_every_edit_kind_is_scored_as_a_plain_evaluation_and_reset_returns_to_the_trained_weights(qtbot, session, panels, trained):
    editing = panels[0]
    edits = [
        SwitchOff(UnitRef(0, 2)),
        ScaleIncoming(UnitRef(1, 3), -1.0),
        ShiftBias(UnitRef(0, 5), -2.0),
        WeightNoise(0.5),
        Temperature(3.0),
    ]
    for edit in edits:
        assert session.edit_network(edit)
        expected = plain_answers(trained, session.dataset, session.edits)
        np.testing.assert_allclose(session.edit_effect.after.probabilities, expected, rtol=1e-4, atol=1e-6)
    assert editing.edit_list.count() == len(edits) and editing.temperature.value() == 48  # t = 3 on a log scale
    editing.reset_button.click()
    assert session.model is trained and session.edits == () and session.edit_effect is None
    assert session.test_predictions.predictions.accuracy == pytest.approx(
        float((plain_answers(trained, session.dataset, ()).argmax(1) == session.dataset.test_labels).mean())
    )
    assert editing.temperature.value() == 0 and editing.edit_list.count() == 1  # "None yet"


def test_a_global_edit_sets_its_setting_and_undo_takes_back_the_last(qtbot, session, panels, trained):
    editing = panels[0]
    session.edit_network(Prune(0.5))
    session.edit_network(SwitchOff(UnitRef(0, 1)))
    session.edit_network(Prune(0.9))
    assert session.edits == (SwitchOff(UnitRef(0, 1)), Prune(0.9)) and editing.prune.value() == 90
    session.edit_network(Prune(0.0))  # the slider back at 0: no pruning
    assert session.edits == (SwitchOff(UnitRef(0, 1)),) and editing.prune.value() == 0
    editing.activateWindow()
    qtbot.waitUntil(editing.isActiveWindow)
    editing.edit_list.setFocus()
    QTest.keyClick(editing.edit_list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert session.edits == () and session.model is trained


def test_the_trained_model_is_never_changed_in_place(qtbot, session, trained, tmp_path):
    kept = [{name: array.copy() for name, array in layer.items()} for layer in trained.params]
    for edit in (
        SwitchOff(UnitRef(0, 0)),
        ScaleIncoming(UnitRef(0, 1), 5.0),
        ShiftBias(UnitRef(1, 0), 3.0),
        Prune(0.99),
        WeightNoise(2.0),
        Temperature(0.1),
    ):
        session.edit_network(edit)
    session.save_edited_model(tmp_path / "edited.safetensors")
    for layer, before in zip(trained.params, kept):
        for name in layer:
            np.testing.assert_array_equal(layer[name], before[name])


def test_save_as_new_model_writes_its_edits_and_records_an_edit_of_its_run(qtbot, session, tmp_path):
    outcome = run_to_the_end(qtbot, session, SMALL)
    base_run = session.model_run_id
    assert base_run == outcome.run_id is not None
    edits = (SwitchOff(UnitRef(1, 4)), Prune(0.5))
    for edit in edits:
        session.edit_network(edit)
    accuracy = session.edit_effect.accuracy_after
    editing = EditPanel()
    qtbot.addWidget(editing)
    editing.follow(session)
    with qtbot.waitSignal(session.model_changed):
        editing.save_to(str(tmp_path / "edited.safetensors"))
    saved = load_model(tmp_path / "edited.safetensors")
    assert saved.edits == edits and saved.metrics["test_accuracy"] == pytest.approx(accuracy)
    # the saved copy is the current model now: no edits left, and it can be trained further like any other
    assert session.edits == () and session.model.edits == edits and session.model_run_id not in (None, base_run)
    assert session.model_to_continue(SMALL) is session.model
    record = RunStore().run(session.model_run_id)
    assert record.edit_of == base_run and record.edits == edits and record.test_accuracy == pytest.approx(accuracy)
    assert record.message.startswith(f"edit of run {base_run}: switched off unit 5 of hidden layer 2; pruned")
    runs = RunsPanel()
    qtbot.addWidget(runs)
    runs.follow(session)
    qtbot.waitUntil(lambda: runs.table_model.row_of(record.id) is not None)
    row = runs.table_model.row_of(record.id)
    assert runs.table_model.data(runs.table_model.index(row, 3)).startswith(f"edit of run {base_run}: switched off")
    # edited again and saved again: the store lists the new edits, the file every edit since training
    session.edit_network(Temperature(2.0))
    session.save_edited_model(tmp_path / "again.safetensors")
    assert load_model(tmp_path / "again.safetensors").edits == (*edits, Temperature(2.0))
    assert RunStore().run(session.model_run_id).edits == (Temperature(2.0),)
    assert RunStore().run(session.model_run_id).edit_of == record.id
    run_to_the_end(qtbot, session, SMALL)  # trained further


def test_edits_wait_for_the_end_of_a_run(qtbot, session, panels):
    editing = panels[0]
    start_long_run(qtbot, session)
    assert not editing.prune.isEnabled() and "Stop the run" in editing.state_note.text()
    with qtbot.waitSignal(session.notice) as notice:
        assert not session.edit_network(Prune(0.5))
    assert notice.args[0] == EDIT_DURING_RUN and session.edits == ()
    stop(qtbot, session)
    assert editing.prune.isEnabled()


def test_the_temperature_slider_covers_a_tenth_to_ten():
    assert temperature_of(-100) == 0.1 and temperature_of(0) == 1 and temperature_of(100) == 10


def test_the_edits_tab_fits_1024_by_768_and_reads_in_both_themes(qtbot, session, panels, trained):
    from scratchnet_gui.theme import DARK, LIGHT, palette

    editing = panels[0]
    session.edit_network(Prune(0.9))
    editing.resize(700, 560)  # the centre of a 1024×768 window beside the settings dock
    for scheme in (LIGHT, DARK):
        editing.setPalette(palette(scheme))
        base = editing.palette().color(editing.palette().ColorRole.Base)
        worse = [row for row in range(editing.classes.rowCount()) if editing.classes.item(row, 3).text().startswith("−")]
        for row in worse:
            tint = editing.classes.item(row, 3).background().color()
            assert tint != base and abs(tint.lightness() - base.lightness()) < 140  # a tint of the base: its text stays legible
    from PySide6.QtWidgets import QScrollArea

    content = editing.findChild(QScrollArea).widget()
    assert content.minimumSizeHint().width() <= 690 and content.minimumSizeHint().height() <= 560  # no scrolling needed


# ---- docs/app.md, "Experiments to try" on the Edits tab: each does what the text says -----------------------


@pytest.fixture
def mnist_editing(qtbot, mnist):
    """The Edits tab over a session with real MNIST and a small network trained on it."""
    from scratchnet_gui.session import Session

    session = Session()
    session.set_dataset(mnist)
    editing = EditPanel()
    qtbot.addWidget(editing)
    editing.follow(session)
    editing.show()
    session.open_model(quick_model(mnist, hidden=(128, 128)))
    yield session, editing
    session.shutdown()


def slide(qtbot, session, slider, value: int):
    """Move a slider of the Edits tab as the learner would; the edit's effect once it is scored."""
    with qtbot.waitSignal(session.edit_effect_changed) as changed:
        slider.setValue(value)
    return changed.args[0]


@pytest.mark.mnist
def test_prune_half_then_90_then_99_percent(qtbot, mnist_editing):
    session, editing = mnist_editing
    half = slide(qtbot, session, editing.prune, 50)
    assert abs(half.accuracy_after - half.accuracy_before) < 0.01  # "moves by less than a point"
    ninety = slide(qtbot, session, editing.prune, 90)
    assert ninety.accuracy_after < ninety.accuracy_before - 0.03 and ninety.accuracy_after > 0.5  # "several points"
    assert ninety.confidence_after < ninety.confidence_before - 0.1  # "much less sure"
    assert slide(qtbot, session, editing.prune, 99).accuracy_after < 0.35  # "little better than guessing"


@pytest.mark.mnist
def test_raise_the_temperature_then_lower_it(qtbot, mnist_editing):
    session, editing = mnist_editing
    hot = slide(qtbot, session, editing.temperature, 70)
    assert session.edits == (Temperature(5.0),)
    assert hot.accuracy_after == hot.accuracy_before and len(hot.broken) == len(hot.mended) == 0  # "not one answer changes"
    assert all(editing.classes.item(row, 3).text() == "0.00" for row in range(10))
    assert hot.confidence_after < 0.6 * hot.confidence_before and hot.loss_after > hot.loss_before  # "falls by half", "rises"
    cold = slide(qtbot, session, editing.temperature, -70)
    assert session.edits == (Temperature(0.2),) and cold.accuracy_after == cold.accuracy_before
    assert cold.confidence_after > max(0.98, cold.confidence_before) and cold.loss_after > cold.loss_before


def test_in_the_window_the_keyboard_prunes_and_the_confusion_matrix_follows(qtbot, window):  # noqa: F811
    from .test_gui_app import configure

    configure(window, epochs=2, batch_size=50)
    with qtbot.waitSignal(window.session.run_finished, timeout=20_000):
        window.start_action.trigger()
    window.show_tab("Edits")
    editing = window.editing
    editing.prune.setFocus()
    with qtbot.waitSignal(window.session.edit_effect_changed) as changed:
        for _ in range(9):
            QTest.keyClick(editing.prune, Qt.Key.Key_PageUp)  # 10 % a step
    effect = changed.args[0]
    assert window.session.edits == (Prune(0.9),) and editing.prune_label.text() == "90 %"
    window.show_tab("Confusion matrix")
    assert window.confusion.predictions is effect.after and f"{100 * effect.accuracy_after:.2f} %" in window.confusion.title()
    window.show_tab("Edits")
    editing.reset_button.setFocus()
    QTest.keyClick(editing.reset_button, Qt.Key.Key_Space)
    assert window.session.edits == () and window.session.trained_model is None and window.session.edit_effect is None


def test_edits_are_scored_again_on_a_new_test_set(qtbot, session, trained, tmp_path):
    from scratchnet.data import load_dataset

    from .conftest import write_dataset

    session.edit_network(Prune(0.5))
    other = load_dataset(write_dataset(tmp_path / "other", seed=7))
    with qtbot.waitSignal(session.edit_effect_changed) as changed:
        session.set_dataset(other)
    assert session.edits == (Prune(0.5),)
    np.testing.assert_array_equal(changed.args[0].after.labels, other.test_labels)
    np.testing.assert_allclose(changed.args[0].after.probabilities, plain_answers(trained, other, session.edits), rtol=1e-4, atol=1e-6)
    assert session.test_predictions.predictions is changed.args[0].after
