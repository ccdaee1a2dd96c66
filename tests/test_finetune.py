"""Fine-tuning on the learner's handwriting: the held-out split, a real run that learns a new hand, the
command line and its refusals."""

import json

import numpy as np
import pytest

from scratchnet.cli import main
from scratchnet.errors import DataError
from scratchnet.finetune import Finetune, FinetuneSettings, check_examples, split_examples
from scratchnet.handwriting import Examples, write_examples
from scratchnet.model import save_model
from scratchnet.model_file import load_model
from tests.conftest import make_images
from tests.quick_models import quick_model

FAST = FinetuneSettings(epochs=4, lr=3e-3, replay=600)


def other_hand(count: int, seed: int = 5) -> Examples:
    """The fake dataset's digits written the other way: each class lights a vertical band, not a horizontal one,
    so a network trained on the fake dataset reads them no better than chance."""
    images, labels = make_images(count, 4, (12, 12), np.random.default_rng(seed))
    return Examples(np.ascontiguousarray(images.transpose(0, 2, 1)), labels)


@pytest.fixture
def reader(fake_dataset):
    return quick_model(fake_dataset, hidden=(32,), epochs=3)


@pytest.fixture
def model_file(reader, tmp_path):
    path = tmp_path / "reader.safetensors"
    save_model(reader, path)
    return path


def test_the_split_holds_out_a_fifth_of_each_class_and_trains_on_classes_too_small_to_measure():
    labels = np.array([0] * 10 + [1] * 5 + [2] * 4 + [3] * 1 + [5] * 21)
    split = split_examples(labels, seed=3)
    assert np.bincount(labels[split.held_out], minlength=6).tolist() == [2, 1, 0, 0, 0, 4]
    assert split.train_only_classes == [2, 3]
    assert sorted([*split.train, *split.held_out]) == list(range(len(labels)))  # each example exactly once

    again, other = split_examples(labels, seed=3), split_examples(labels, seed=4)
    np.testing.assert_array_equal(again.held_out, split.held_out)
    assert not np.array_equal(other.held_out, split.held_out)


def test_fine_tuning_learns_the_other_hand_and_keeps_the_old_one(reader, fake_dataset):
    hand = other_hand(80)
    epochs_seen = []
    result = Finetune(reader, hand, fake_dataset, FAST).run(on_epoch=epochs_seen.append)

    assert len(result.held_out) == sum(int(count * 0.2) for count in hand.counts(4))
    assert result.examples_before <= 0.5 and result.examples_after >= 0.9
    assert result.test_before >= 0.95 and result.test_after >= result.test_before - 0.02
    assert [event.epoch for event in epochs_seen] == [1, 2, 3, 4]
    assert result.model.epochs_trained == reader.epochs_trained + 4  # the model's own epochs and the fine-tuning's
    assert epochs_seen[-1].val_accuracy == pytest.approx(result.examples_after)  # the live curve is the held-out hand

    truth = hand.labels[result.held_out]
    np.testing.assert_array_equal(result.fixed, result.held_out[(result.predicted_before != truth) & (result.predicted_after == truth)])
    assert len(result.fixed) >= len(result.held_out) // 2
    assert [row.held_out for row in result.classes] == np.bincount(truth, minlength=4).tolist()
    assert sum(row.examples for row in result.classes) == len(hand)
    np.testing.assert_array_equal(reader.params[0]["W"], quick_model(fake_dataset, hidden=(32,), epochs=3).params[0]["W"])


@pytest.mark.parametrize(
    "examples, message",
    [
        (Examples(np.zeros((20, 28, 28), np.uint8), np.zeros(20)), "the examples are 28×28 images but the model reads 12×12 images"),
        (Examples(np.zeros((20, 12, 12), np.uint8), [0, 1, 2, 3, 4, 7] * 3 + [1, 1]), "labels 4, 7 are outside the model's 4 classes"),
        (Examples(np.zeros((9, 12, 12), np.uint8), np.zeros(9)), "9 examples are too few to learn from: collect at least 10"),
    ],
)
def test_examples_a_model_cannot_learn_from_are_refused(reader, examples, message):
    with pytest.raises(DataError, match=message):
        check_examples(examples, reader)


def test_the_command_fine_tunes_saves_and_reports_as_json(model_file, fake_data_dir, tmp_path, capsys):
    write_examples(other_hand(80), tmp_path / "hand")
    out = tmp_path / "mine.safetensors"
    args = ["finetune", str(model_file), "--examples", str(tmp_path / "hand"), "--data-dir", str(fake_data_dir)]
    assert main([*args, "--epochs", "4", "--out", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["held_out"] == 15 and result["model_path"] == str(out)
    assert result["examples_before"] <= 0.5 and result["examples_after"] >= 0.9
    assert 0 <= result["test_after"] <= 1 and 0 <= result["test_before"] <= 1 and result["train_seconds"] > 0
    saved = load_model(out)
    assert saved.metrics["test_accuracy"] == pytest.approx(result["test_after"])
    assert np.mean(saved.predict_images(other_hand(200, seed=9).images).argmax(axis=1) == other_hand(200, seed=9).labels) >= 0.9


def test_the_report_names_the_classes_used_for_training_only(model_file, fake_data_dir, tmp_path, capsys):
    hand = other_hand(200)
    rare = np.flatnonzero(hand.labels == 3)[3:]  # leaves class 3 with three examples: none can be held out
    write_examples(hand.take(np.setdiff1d(np.arange(len(hand)), rare)), tmp_path / "hand")
    assert main(["finetune", str(model_file), "--examples", str(tmp_path / "hand"), "--data-dir", str(fake_data_dir)]) == 0
    text = capsys.readouterr().out
    assert "too few examples to hold any out (used for training only): 3" in text
    assert "your held-out examples" in text and "test set" in text


@pytest.mark.parametrize(
    "examples, message",
    [
        (Examples(np.zeros((20, 28, 28), np.uint8), np.zeros(20)), "the examples are 28×28 images"),
        (Examples(np.zeros((20, 12, 12), np.uint8), np.full(20, 9)), "labels 9 are outside the model's 4 classes"),
        (Examples(np.zeros((3, 12, 12), np.uint8), np.zeros(3)), "3 examples are too few"),
        (None, "is not a folder of examples"),
    ],
)
def test_the_command_refuses_bad_examples_with_one_line_and_status_2(model_file, fake_data_dir, tmp_path, capsys, examples, message):
    if examples is not None:
        write_examples(examples, tmp_path / "hand")
    args = ["finetune", str(model_file), "--examples", str(tmp_path / "hand"), "--data-dir", str(fake_data_dir)]
    assert main(args) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("scratchnet: error: ") and message in error and "\n" not in error


def test_the_command_refuses_a_bad_epoch_count_by_its_flag(model_file, fake_data_dir, tmp_path, capsys):
    write_examples(other_hand(40), tmp_path / "hand")
    args = ["finetune", str(model_file), "--examples", str(tmp_path / "hand"), "--data-dir", str(fake_data_dir), "--epochs", "0"]
    assert main(args) == 2
    assert "scratchnet: error: --epochs must be at least 1; got 0" in capsys.readouterr().err
