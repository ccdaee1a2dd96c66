"""The ``scratchnet`` command, run as a user would run it."""

import json
import subprocess
import sys

import pytest

from scratchnet.cli import main
from scratchnet.model import load_model

FAST = ["--hidden", "16", "--epochs", "3", "--batch-size", "32", "--validation-size", "100", "--lr", "0.01"]


def test_train_json_then_evaluate(fake_data_dir, tmp_path, capsys):
    out = tmp_path / "model.safetensors"
    assert main(["train", "--data-dir", str(fake_data_dir), *FAST, "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert result["test_accuracy"] >= 0.9 and result["epochs"] == 3
    assert result["train_seconds"] > 0 and result["samples_per_second"] > 0
    assert result["config"]["hidden"] == [16] and result["config"]["batch_size"] == 32
    assert result["config"]["optimizer"] == "adam"  # from the default preset
    assert captured.err.count("epoch ") >= 3  # one progress line per epoch on stderr

    model = load_model(out)
    assert model.metrics["test_accuracy"] == pytest.approx(result["test_accuracy"])
    assert main(["evaluate", str(out), "--data-dir", str(fake_data_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["accuracy"] == pytest.approx(result["test_accuracy"])
    assert len(report["confusion_matrix"]) == 4 and sum(map(sum, report["confusion_matrix"])) == 200

    assert main(["evaluate", str(out), "--data-dir", str(fake_data_dir)]) == 0
    text = capsys.readouterr().out
    assert "per-class accuracy" in text and "accuracy" in text


def test_full_batch_and_preset_overrides(fake_data_dir, capsys):
    args = ["train", "--data-dir", str(fake_data_dir), "--preset", "notebook", "--epochs", "2", "--validation-size", "100", "--json"]
    assert main(args) == 0
    config = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["config"]
    assert config["batch_size"] is None and config["activation"] == "tanh" and config["dtype"] == "float64"
    assert config["epochs"] == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--preset", "nope"], "unknown preset"),
        (["train", "--lr", "-1"], "lr must be above 0"),
        (["train", "--hidden", "0"], "hidden layer widths"),
        (["evaluate", "missing.safetensors"], "cannot read"),
    ],
)
def test_user_errors_exit_2_with_one_line(fake_data_dir, capsys, args, message):
    assert main([*args, "--data-dir", str(fake_data_dir)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_data_folder_is_explained(tmp_path, capsys):
    assert main(["train", "--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "train-images-idx3-ubyte.gz" in err and str(tmp_path) in err


def test_a_partial_data_folder_names_the_files_it_lacks(fake_data_dir, capsys):
    (fake_data_dir / "train-labels-idx1-ubyte.gz").unlink()
    assert main(["train", "--data-dir", str(fake_data_dir)]) == 2
    assert "which lacks train-labels-idx1-ubyte.gz.\n" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "data"])
def test_a_mistyped_data_folder_is_refused_not_created(tmp_path, capsys, command):
    typo = tmp_path / "mnsit"
    assert main([command, "--data-dir", str(typo)]) == 2
    assert "does not exist" in capsys.readouterr().err and not typo.exists()


def test_output_cut_short_by_the_reader_ends_quietly(fake_data_dir, tmp_path):
    model = tmp_path / "model.safetensors"
    assert main(["train", "--data-dir", str(fake_data_dir), *FAST, "--out", str(model)]) == 0
    command = [sys.executable, "-m", "scratchnet", "evaluate", str(model), "--data-dir", str(fake_data_dir)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()  # like `| head` exiting before the report is written
    assert process.wait(timeout=60) == 1 and "Traceback" not in process.stderr.read()


def test_bad_flag_values_exit_2():
    result = subprocess.run([sys.executable, "-m", "scratchnet", "train", "--batch-size", "many"], capture_output=True, text=True)
    assert result.returncode == 2 and "expected a number or 'full'" in result.stderr


def test_diverging_run_is_reported(fake_data_dir, capsys):
    args = ["train", "--data-dir", str(fake_data_dir), *FAST, "--optimizer", "sgd", "--lr", "1e30", "--json"]
    assert main(args) == 1
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["status"] == "diverged" and "lower the learning rate" in result["message"]


def test_a_run_that_diverges_in_its_first_epoch_saves_nothing(fake_data_dir, tmp_path, capsys):
    out = tmp_path / "model.safetensors"
    args = ["train", "--data-dir", str(fake_data_dir), *FAST, "--optimizer", "sgd", "--lr", "1e30", "--out", str(out)]
    assert main(args) == 1
    assert "with the untrained weights" in capsys.readouterr().out and not out.exists()


def test_data_command_reports_folder(fake_data_dir, capsys):
    assert main(["data", "--data-dir", str(fake_data_dir), "--no-download"]) == 0
    out = capsys.readouterr().out
    assert str(fake_data_dir) in out and "4 classes" in out and "verified:    no" in out


@pytest.mark.slow
@pytest.mark.mnist
def test_default_preset_reaches_98_percent_on_real_mnist(mnist_dir, capsys):
    assert main(["train", "--data-dir", str(mnist_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["test_accuracy"] >= 0.98, result


@pytest.mark.parametrize("out", ["folder", "missing/model.safetensors"])
def test_unwritable_output_is_refused_before_training(fake_data_dir, tmp_path, capsys, out):
    (tmp_path / "folder").mkdir()
    assert main(["train", "--data-dir", str(fake_data_dir), *FAST, "--out", str(tmp_path / out)]) == 2
    captured = capsys.readouterr()
    assert "--out" in captured.err and "epoch" not in captured.err  # refused before the first epoch
    assert not (tmp_path / "missing").exists()
