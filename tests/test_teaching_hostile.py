"""Teaching in a learner's first hour: too few examples to hold any out, far too many for the memory, a fine-tune
that fails: each is said (in the window, or in one line of the command), never a traceback."""

import numpy as np
import pytest

import scratchnet.finetune
from scratchnet.cli import main
from scratchnet.config import TrainConfig
from scratchnet.errors import ConfigError
from scratchnet.finetune import NOTHING_HELD_OUT, Finetune, FinetuneSettings
from scratchnet.handwriting import Examples, write_examples
from scratchnet.model import save_model
from scratchnet.runs import RunStore
from scratchnet_gui.handwriting_panel import HandwritingPanel
from scratchnet_gui.session import RunState, Session
from tests.quick_models import quick_model

FAST = FinetuneSettings(epochs=1, replay=100)


def three_of_each(dataset) -> Examples:
    """3 examples of every class: enough to teach (10 or more), too few for any class to give one up."""
    positions = np.concatenate([np.flatnonzero(dataset.train_labels == label)[:3] for label in range(len(dataset.class_names))])
    return Examples(dataset.train_images[positions], dataset.train_labels[positions])


@pytest.fixture
def reader(fake_dataset):
    return quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=1)


@pytest.fixture
def model_file(reader, tmp_path):
    path = tmp_path / "reader.safetensors"
    save_model(reader, path)
    return path


@pytest.fixture
def session(qtbot, fake_data_dir, reader):
    session = Session()
    with qtbot.waitSignal(session.dataset_changed, timeout=10_000):
        session.load_data(fake_data_dir)
    session.set_model(reader)
    yield session
    session.shutdown()


@pytest.fixture
def panel(qtbot, session):
    panel = HandwritingPanel()
    qtbot.addWidget(panel)
    panel.follow(session)
    panel.show()
    return panel


def collect(session: Session, examples: Examples) -> None:
    for image, label in zip(examples.images, examples.labels):
        session.handwriting.add(image, int(label))


# ---- item 14: too few examples to hold any out ---------------------------------------------------------------


def test_too_few_to_hold_any_out_teaches_on_all_of_them_and_measures_on_mnist_only(reader, fake_dataset):
    result = Finetune(reader, three_of_each(fake_dataset), fake_dataset, FAST).run()
    assert len(result.held_out) == 0 and result.examples_before is None and result.examples_after is None
    assert result.test_after is not None and result.training.status == "completed"


def test_the_command_says_up_front_that_nothing_measures_the_examples(model_file, fake_dataset, fake_data_dir, tmp_path, capsys):
    write_examples(three_of_each(fake_dataset), tmp_path / "examples")
    argv = ["finetune", str(model_file), "--examples", str(tmp_path / "examples"), "--data-dir", str(fake_data_dir), "--epochs", "1"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert NOTHING_HELD_OUT in captured.err and "Traceback" not in captured.err
    assert "your held-out examples: none (too few examples of every class to hold one out)" in captured.out


def test_the_panel_says_up_front_that_nothing_measures_the_examples_and_teach_shows_its_result(qtbot, session, panel, fake_dataset):
    collect(session, three_of_each(fake_dataset))
    assert panel.teach_button.isEnabled() and panel.teach_reason.text() == NOTHING_HELD_OUT
    with qtbot.waitSignal(session.taught, timeout=60_000):
        assert session.teach(FAST)
    assert panel.result_view.isVisible() and NOTHING_HELD_OUT in panel.headline.text()


# ---- item 13: more examples than the memory holds ---------------------------------------------------------------


def a_million_examples(dataset) -> Examples:
    """10⁶ examples without the memory they take: one image seen a million times (a read-only view)."""
    images = np.broadcast_to(dataset.train_images[0], (1_000_000, *dataset.image_shape))
    return Examples(images, np.arange(1_000_000) % len(dataset.class_names))


def test_a_million_examples_are_refused_by_the_memory_rule_before_any_is_gathered(reader, fake_dataset, monkeypatch):
    monkeypatch.setattr(scratchnet.finetune, "available_bytes", lambda: 2 << 30)
    with pytest.raises(ConfigError, match="fine-tuning on 1,000,000 examples needs about .* GB of memory.*teach with fewer examples"):
        Finetune(reader, a_million_examples(fake_dataset), fake_dataset)


def test_the_command_refuses_too_many_examples_in_one_line(model_file, fake_dataset, fake_data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(scratchnet.finetune, "available_bytes", lambda: 1 << 20)  # 1 MB: even 2 000 examples are too many
    images, labels = np.resize(fake_dataset.train_images, (2000, 12, 12)), np.resize(fake_dataset.train_labels, 2000)
    write_examples(Examples(images, labels), tmp_path / "examples")
    assert main(["finetune", str(model_file), "--examples", str(tmp_path / "examples"), "--data-dir", str(fake_data_dir)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("scratchnet: error: fine-tuning on") and "memory" in error and error.count("\n") == 1


def test_teach_with_too_many_examples_for_the_memory_says_so_and_starts_nothing(qtbot, session, fake_dataset, monkeypatch):
    collect(session, three_of_each(fake_dataset))
    monkeypatch.setattr(scratchnet.finetune, "available_bytes", lambda: 1 << 16)
    with qtbot.waitSignal(session.notice) as notice:
        assert not session.teach()
    assert notice.args[0].startswith("Cannot teach: Fine-tuning on 12 examples needs about") and notice.args[1] == "error"
    assert session.state == RunState.IDLE


# ---- item 8 (teaching): every failure of Teach shows in the window -------------------------------------------------


def test_a_fine_tune_that_fails_as_it_runs_says_so(qtbot, session, fake_dataset, monkeypatch):
    collect(session, three_of_each(fake_dataset))

    def fail(*_):
        raise RuntimeError("the disk vanished")

    monkeypatch.setattr(Finetune, "run", fail)
    with qtbot.waitSignal(session.run_failed, timeout=30_000) as failed:
        assert session.teach(FAST)
    assert "the disk vanished" in failed.args[0] and session.state == RunState.FAILED


# ---- item 22 (teaching): a kept fine-tune is recorded as what it is ---------------------------------------------------


def test_a_kept_fine_tune_is_recorded_as_a_fine_tune_of_its_run_without_a_validation_figure(qtbot, session, fake_dataset):
    with qtbot.waitSignal(session.run_finished, timeout=60_000) as finished:
        assert session.start(TrainConfig(hidden=[16], epochs=1, batch_size=50, validation_size=100))
    base_run = finished.args[0].run_id
    examples = Examples(fake_dataset.train_images[:40], fake_dataset.train_labels[:40])  # 8 held out
    collect(session, examples)
    with qtbot.waitSignal(session.taught, timeout=60_000):
        assert session.teach(FAST)
    result = session.teaching.result
    session.keep_taught()

    with RunStore() as store:
        fine_tune = store.runs()[0]
        stored = store.run(fine_tune.id)
    assert fine_tune.id != base_run and session.model_run_id == fine_tune.id
    assert fine_tune.message.startswith(f"fine-tune of run {base_run} on 40 examples of your handwriting")
    assert f"your {len(result.held_out)} held-out examples {result.examples_before:.1%} → {result.examples_after:.1%}" in fine_tune.message
    assert fine_tune.val_accuracy is None and all(event.val_accuracy is None for event in stored.history)
    assert fine_tune.test_accuracy == pytest.approx(result.test_after)


def test_a_fine_tune_of_weights_no_run_recorded_says_so(qtbot, session, fake_dataset):
    collect(session, three_of_each(fake_dataset))
    with qtbot.waitSignal(session.taught, timeout=60_000):
        assert session.teach(FAST)
    session.keep_taught()
    with RunStore() as store:
        (fine_tune,) = store.runs()
    assert fine_tune.message == (
        "fine-tune of weights that are no recorded run on 12 examples of your handwriting + MNIST replay; "
        "none of your examples held out to measure it"
    )


def test_a_fine_tune_that_cannot_even_be_prepared_says_why(qtbot, session, fake_dataset, monkeypatch):
    collect(session, three_of_each(fake_dataset))

    def fail(*_):
        raise ValueError("cannot reshape array of size 0")

    monkeypatch.setattr(Finetune, "__init__", fail)
    with qtbot.waitSignal(session.notice) as notice:
        assert not session.teach(FAST)
    assert notice.args == ["Cannot teach: ValueError: cannot reshape array of size 0", "error"] and session.state == RunState.IDLE
