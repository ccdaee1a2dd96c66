"""Teaching the network your handwriting, as a learner does it: "This is a …" on the pad (buttons or keys),
the My handwriting gallery (counts, relabel, delete and undo, import and export), and Teach with its
before → after result, kept or discarded."""

import gc

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

from scratchnet.config import TrainConfig
from scratchnet.finetune import FinetuneSettings
from scratchnet.handwriting import HandwritingStore, as_example_image, read_examples
from scratchnet.runs import RunStore
from scratchnet.trainer import Trainer, TrainingData
from scratchnet_gui.draw_pad import DrawPad
from scratchnet_gui.handwriting_panel import HandwritingPanel
from scratchnet_gui.session import RunState, Session
from scratchnet_gui.worker import TrainingWorker

from .conftest import make_images
from .quick_models import quick_model
from .test_gui_panels import draw_stroke


@pytest.fixture
def session(qtbot, fake_data_dir, fake_dataset):
    session = Session()
    with qtbot.waitSignal(session.dataset_changed, timeout=10_000):
        session.load_data(fake_data_dir)
    session.set_model(quick_model(fake_dataset, train_images=600, hidden=(32,), epochs=1))
    yield session
    session.shutdown()


@pytest.fixture
def window(qtbot, session):
    """A text field, a button, the pad and the My handwriting panel, wired to the session as in the main window."""
    window = QWidget()
    qtbot.addWidget(window)
    layout = QHBoxLayout(window)
    window.field, window.button, window.pad, window.panel = QLineEdit(), QPushButton("Other"), DrawPad(), HandwritingPanel()
    for widget in (window.field, window.button, window.pad, window.panel):
        layout.addWidget(widget)
    window.pad.follow(session)
    window.pad.set_model(session.model)
    window.panel.follow(session)
    window.resize(1600, 700)
    window.show()
    qtbot.waitExposed(window)
    return window


def collect(session: Session, count: int, seed: int = 1) -> None:
    """Add ``count`` examples like the fake dataset's images (imported ones: no strokes)."""
    images, labels = make_images(count, len(session.model.class_names), session.model.image_shape, np.random.default_rng(seed))
    for image, label in zip(images, labels):
        session.handwriting.add(image, int(label))


def draw_a_digit(qtbot, pad: DrawPad) -> np.ndarray:
    """Draw a stroke; the network input the pad prepares from it."""
    with qtbot.waitSignal(pad.session.input_changed, timeout=3000, check_params_cb=lambda x: x is not None):
        draw_stroke(qtbot, pad, [(0.3, 0.2), (0.6, 0.3), (0.4, 0.8)])
    return pad.network_input.copy()


def test_this_is_a_keeps_the_prepared_input_and_the_strokes_and_the_gallery_counts_it(qtbot, window):
    pad, panel = window.pad, window.panel
    network_input = draw_a_digit(qtbot, pad)
    assert [button.text() for button in pad.label_buttons] == ["0", "1", "2", "3"]  # the fake dataset's classes

    qtbot.mouseClick(pad.label_buttons[3], Qt.MouseButton.LeftButton)

    stored = HandwritingStore().examples  # read back from disk
    assert stored.labels.tolist() == [3]
    np.testing.assert_array_equal(stored.images[0], as_example_image(network_input))
    assert len(stored.drawings[0].strokes) == 1
    assert "Saved as a 3 — 1 example" in pad.saved.text()
    assert pad.canvas.is_empty  # ready for the next one
    assert panel.examples_model.rowCount() == 1
    assert "3 × 1" in panel.counts.text()


def test_typing_a_digit_keeps_the_drawing_but_not_while_typing_in_a_text_field(qtbot, window, session):
    draw_a_digit(qtbot, window.pad)
    window.field.setFocus()
    qtbot.keyClick(window.field, Qt.Key.Key_2)
    assert window.field.text() == "2" and len(session.handwriting.examples) == 0

    window.button.setFocus()
    qtbot.keyClick(window.button, Qt.Key.Key_2)
    assert session.handwriting.examples.labels.tolist() == [2]


def select(panel: HandwritingPanel, rows: list[int]) -> None:
    selection = panel.gallery.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.select(panel.examples_model.index(row), QItemSelectionModel.SelectionFlag.Select)


def test_relabel_delete_and_undo_through_the_gallery(qtbot, window, session):
    panel, handwriting = window.panel, session.handwriting
    collect(session, 6)
    labels = handwriting.examples.labels.copy()
    first = panel.examples_model.position(0)  # the gallery is grouped by class
    assert labels[first] == labels.min()

    select(panel, [0])
    panel.relabel_combo.setCurrentIndex(3)
    qtbot.mouseClick(panel.relabel_button, Qt.MouseButton.LeftButton)
    assert HandwritingStore().examples.labels[first] == 3

    before = HandwritingStore().examples
    select(panel, [0, 1])
    qtbot.mouseClick(panel.delete_button, Qt.MouseButton.LeftButton)
    assert len(HandwritingStore().examples) == 4 and panel.examples_model.rowCount() == 4
    assert panel.undo_button.isEnabled()

    qtbot.mouseClick(panel.undo_button, Qt.MouseButton.LeftButton)
    after = HandwritingStore().examples
    np.testing.assert_array_equal(after.images, before.images)
    assert after.labels.tolist() == before.labels.tolist()
    assert not panel.undo_button.isEnabled()


def test_export_then_import_round_trips_and_a_bad_folder_changes_nothing(qtbot, window, session, tmp_path, monkeypatch):
    panel, handwriting = window.panel, session.handwriting
    collect(session, 5)
    exported = tmp_path / "my-digits"
    exported.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(exported))
    panel.export_folder()
    assert read_examples(exported).labels.tolist() == handwriting.examples.labels.tolist()

    panel.import_folder()
    assert len(handwriting.examples) == 10
    assert "10 examples" in panel.counts.text()

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(tmp_path))  # no IDX files there
    with qtbot.waitSignal(session.notice) as notice:
        panel.import_folder()
    assert "lacks images-idx3-ubyte" in notice.args[0] and notice.args[1] == "error"
    assert len(HandwritingStore().examples) == 10


def test_teach_is_disabled_with_the_reason_until_there_are_ten_examples(window, session):
    panel = window.panel
    collect(session, 9)
    assert not panel.teach_button.isEnabled()
    assert "9 examples are too few to learn from: collect at least 10" in panel.teach_reason.text()
    collect(session, 1, seed=2)
    assert panel.teach_button.isEnabled()


def teach(qtbot, window, session) -> None:
    collect(session, 30)
    with qtbot.waitSignal(session.taught, timeout=60_000):
        qtbot.mouseClick(window.panel.teach_button, Qt.MouseButton.LeftButton)


def test_teach_shows_before_and_after_and_keep_makes_the_taught_model_current_and_records_a_run(qtbot, window, session):
    panel, before = window.panel, session.model
    teach(qtbot, window, session)
    result = session.teaching.result
    assert panel.result_view.isVisible()
    assert "Your held-out handwriting</b> (" in panel.headline.text() and "MNIST test" in panel.headline.text()
    assert panel.class_table.rowCount() == sum(row.examples > 0 for row in result.classes)
    assert session.model is before  # nothing changes until Keep

    qtbot.mouseClick(panel.keep_button, Qt.MouseButton.LeftButton)
    assert session.model is result.model
    with RunStore() as store:
        (run,) = store.runs()
    assert run.test_accuracy == pytest.approx(result.test_after) and "handwriting" in run.message
    assert not panel.keep_button.isEnabled() and "Kept" in panel.verdict.text()


def test_discard_keeps_the_model_from_before_teaching_and_records_nothing(qtbot, window, session):
    before = session.model
    teach(qtbot, window, session)
    qtbot.mouseClick(window.panel.discard_button, Qt.MouseButton.LeftButton)
    assert session.model is before and session.teaching is None
    with RunStore() as store:
        assert store.runs() == []


def test_teaching_can_be_stepped_and_stopped_like_a_run_and_the_result_says_so(qtbot, window, session):
    collect(session, 20)
    assert session.teach(FinetuneSettings(epochs=50))
    session.step()  # to the end of this epoch, then pause
    qtbot.waitUntil(lambda: session.state == RunState.PAUSED, timeout=30_000)
    with qtbot.waitSignal(session.taught, timeout=30_000):
        session.stop()
    assert session.teaching.result.training.status == "stopped"
    assert "The fine-tune stopped" in window.panel.headline.text()


def test_a_finished_fine_tune_frees_its_trainer_without_waiting_for_the_garbage_collector(qtbot, session):
    """Its trainer holds the mixed training set; like a run's (test_gui_stress), it must go when teaching ends."""
    collect(session, 30)
    gc.collect()
    gc.disable()
    try:
        with qtbot.waitSignal(session.taught, timeout=60_000):
            assert session.teach()
        qtbot.wait(20)
        alive = [obj for obj in gc.get_objects() if isinstance(obj, (Trainer, TrainingData, TrainingWorker))]
    finally:
        gc.enable()
    assert alive == []


def test_without_a_trained_model_teach_says_why_and_starts_nothing(qtbot, window, session):
    collect(session, 12)
    session.reset_weights(TrainConfig(hidden=[32]))
    assert "Train a model first" in window.panel.teach_reason.text() and not window.panel.teach_button.isEnabled()
    with qtbot.waitSignal(session.notice) as notice:
        assert not session.teach()
    assert notice.args == ["Cannot teach: Train a model first (or open one): teaching fine-tunes the current model.", "error"]


def test_an_unreadable_collection_is_shown_left_as_it_is_and_every_change_is_refused(qtbot, data_home):
    folder = data_home / "handwriting"
    folder.mkdir(parents=True)
    (folder / "images-idx3-ubyte").write_bytes(b"not an IDX file")
    (folder / "labels-idx1-ubyte").write_bytes(b"nor this")
    session = Session()
    panel = HandwritingPanel()
    qtbot.addWidget(panel)
    panel.follow(session)
    panel.show()
    handwriting = session.handwriting
    assert "cannot be read" in handwriting.problem
    assert panel.problem.isVisible() and panel.problem.text() == handwriting.problem
    with qtbot.waitSignal(handwriting.failed) as failed:
        handwriting.add(np.zeros((28, 28), np.uint8), 1)
    assert "was not changed" in failed.args[0]
    assert (folder / "images-idx3-ubyte").read_bytes() == b"not an IDX file"
