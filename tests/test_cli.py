"""The ``scratchnet`` command, run as a user would run it."""

import contextlib
import fcntl
import json
import os
import pty
import signal
import struct
import subprocess
import sys
import termios

import pytest

from scratchnet import cli
from scratchnet.cli import build_parser, main
from scratchnet.model_file import load_model
from tests.guards import deadline

FAST = ["--hidden", "16", "--epochs", "3", "--batch-size", "32", "--validation-size", "100", "--lr", "0.01"]


def test_train_json_then_evaluate(fake_data_dir, tmp_path, capsys):
    out = tmp_path / "model.safetensors"
    assert main(["train", "--data-dir", str(fake_data_dir), *FAST, "--out", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out.strip().splitlines()[-1])
    assert result["test_accuracy"] >= 0.9 and result["epochs"] == 3
    assert result["train_seconds"] > 0 and result["samples_per_second"] > 0
    assert result["config"]["hidden"] == [16] and result["config"]["batch_size"] == 32
    assert result["config"]["optimizer"] == "nesterov"  # from the default preset
    assert captured.err.count("epoch ") >= 3  # one progress line per epoch on stderr
    assert "batch/s" not in captured.err  # no progress bar when stderr is not a terminal

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


@pytest.mark.parametrize(("flags", "lr"), [(["--optimizer", "adam"], 0.001), (["--optimizer", "adam", "--lr", "0.004"], 0.004)])
def test_another_kind_of_optimizer_without_lr_takes_its_usual_rate_and_says_so(fake_data_dir, capsys, flags, lr):
    """The default preset's rate (0.25, for Nesterov momentum) would make Adam's every step 0.25 per weight."""
    args = ["train", "--data-dir", str(fake_data_dir), "--epochs", "1", "--validation-size", "100", "--json", *flags]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out.strip().splitlines()[-1])["config"]["lr"] == lr
    assert ("its usual learning rate 0.001 (the preset's 0.25 is for nesterov)" in captured.err) == ("--lr" not in flags)


def test_the_notebook_preset_trains_on_every_image_as_the_notebook_did(fake_data_dir, capsys):
    assert main(["train", "--data-dir", str(fake_data_dir), "--preset", "notebook", "--epochs", "1"]) == 0
    assert "(600 train / 0 validation)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--preset", "nope"], "unknown preset 'nope'; choose one of notebook, default, best, or give a .json file"),
        (["train", "--lr", "-1"], "--lr must be above 0; got -1.0"),
        (["train", "--hidden", "0"], "--hidden widths must be between 1 and 4096; got 0"),
        (["train", "--warmup-epochs", "9", "--epochs", "3"], "--warmup-epochs must be at least 0 and shorter than the run (3 epochs)"),
        (["train", "--validation-size", "600"], "--validation-size 600 leaves no training images (the set has 600)"),
        (["evaluate", "missing.safetensors"], "cannot read"),
    ],
)
def test_user_errors_exit_2_with_one_line_naming_the_flag(fake_data_dir, capsys, args, message):
    assert main([*args, "--data-dir", str(fake_data_dir)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scratchnet: error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--hidden", "abc"], "argument --hidden: expected comma-separated widths such as 128,128; got 'abc'"),
        (["train", "--epochs", "2.5"], "argument --epochs: expected a whole number; got '2.5'"),
        (["train", "--lr", "fast"], "argument --lr: expected a number; got 'fast'"),
        (["train", "--activation", "swish"], "argument --activation: invalid choice: 'swish'"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        (["evaluate"], "the following arguments are required: model"),
    ],
)
def test_bad_flags_get_one_line_and_a_pointer_to_the_commands_help(capsys, args, message):
    with pytest.raises(SystemExit) as exited:
        main(args)
    err = capsys.readouterr().err
    assert exited.value.code == 2 and err.count("\n") == 1 and "usage" not in err
    assert err.startswith(f"scratchnet: error: {message}") and err.endswith(f"; see 'scratchnet {args[0]} --help'\n")


def test_every_train_flag_has_help_and_the_preset_flag_lists_the_presets(capsys):
    train = build_parser().parse_known_args(["train"])[0].parser
    undocumented = [action.option_strings for action in train._actions if not action.help]
    assert undocumented == []
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "notebook, default, best, or a preset .json file" in help_text


def test_a_preset_file_of_ones_own(fake_data_dir, tmp_path, capsys):
    preset = tmp_path / "mine.json"
    preset.write_text(json.dumps({"description": "tiny", "config": {"hidden": [8], "epochs": 2, "validation_size": 100}}))
    assert main(["train", "--data-dir", str(fake_data_dir), "--preset", str(preset), "--lr", "0.01", "--json"]) == 0
    config = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["config"]
    assert config["hidden"] == [8] and config["epochs"] == 2 and config["lr"] == 0.01


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"config": {"lr": 0.1,}}', "is not a preset file: it is not valid JSON (line 1, column 23"),
        (b"[" * 100_000, "is not a preset file: it is not valid JSON"),
        (b"\xff\xfe{}", "is not a preset file: it is not UTF-8 text"),
        (b'{"hidden": [8]}', 'is not a preset file: it needs a JSON object with a "config" object of settings'),
        (b'[{"config": {}}]', 'is not a preset file: it needs a JSON object with a "config" object of settings'),
        (b'{"config": {}, "description": 3}', '"description" must be a string'),
        (b'{"config": {"learning_rate": 0.1}}', "unknown setting(s) learning_rate"),
        (b'{"config": {"lr": -1}}', "lr must be above 0; got -1"),
    ],
)
def test_a_broken_preset_file_is_refused_in_one_line_naming_it(fake_data_dir, tmp_path, capsys, content, message):
    preset = tmp_path / "broken.json"
    preset.write_bytes(content)
    assert main(["train", "--data-dir", str(fake_data_dir), "--preset", str(preset)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"scratchnet: error: {preset}") and message in err and err.count("\n") == 1


def test_a_missing_preset_file_is_named(fake_data_dir, tmp_path, capsys):
    assert main(["train", "--data-dir", str(fake_data_dir), "--preset", str(tmp_path / "typo.json")]) == 2
    assert f"preset file {tmp_path / 'typo.json'} does not exist" in capsys.readouterr().err


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


def scratchnet_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "scratchnet", *args]


@contextlib.contextmanager
def sigint_handled_by(handler):
    """SIGINT goes to ``handler`` inside the block, whatever the test runner was started with (``pytest &`` in a
    script starts it with SIGINT ignored). Processes started inside start with SIGINT ignored for ``SIG_IGN``, as a
    shell without job control starts ``command &``, and at its default for any other handler, as from a terminal."""
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_ends_the_run_on_its_last_completed_epoch_and_saves_it(fake_data_dir, tmp_path):
    out = tmp_path / "model.safetensors"
    command = scratchnet_command("train", "--data-dir", str(fake_data_dir), *FAST, "--epochs", "100000", "--out", str(out), "--json")
    with sigint_handled_by(signal.default_int_handler):  # as from a terminal
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with deadline(120, "scratchnet train after Ctrl+C"):
        err = ""
        for line in process.stderr:  # wait for the first completed epoch
            err += line
            if line.startswith("epoch "):
                break
        process.send_signal(signal.SIGINT)
        err += process.stderr.read()  # not communicate(): it would skip the lines the loop above has read ahead
        stdout = process.stdout.read()
        process.wait()
    completed = sum(line.startswith("epoch ") for line in err.splitlines())
    assert process.returncode == 130, err
    assert "interrupted: finishing the current batch...; Ctrl+C again to abort at once" in err and "Traceback" not in err
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["status"] == "interrupted" and f"kept the weights of epoch {completed}" in result["message"]
    assert result["weights_epoch"] == result["epochs"] == completed >= 1 and result["model_path"] == str(out)
    assert load_model(out).epochs_trained == completed


def test_kill_int_ends_a_run_started_with_sigint_ignored(fake_data_dir, tmp_path):
    """``scratchnet train … &`` in a script (a shell without job control) starts with SIGINT ignored; ``kill -INT``
    must still end the run on its last completed epoch, as Ctrl+C does: the CLI installs its handler regardless."""
    out = tmp_path / "model.safetensors"
    command = scratchnet_command("train", "--data-dir", str(fake_data_dir), *FAST, "--epochs", "100000", "--out", str(out), "--json")
    with sigint_handled_by(signal.SIG_IGN):
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with deadline(120, "scratchnet train after kill -INT"):
            for line in process.stderr:  # wait for the first completed epoch
                if line.startswith("epoch "):
                    break
            process.send_signal(signal.SIGINT)
            stdout, err = process.communicate()
    finally:
        process.kill()  # when the signal was ignored after all
    assert process.returncode == 130, err
    assert json.loads(stdout.strip().splitlines()[-1])["status"] == "interrupted" and load_model(out).epochs_trained >= 1


def test_a_second_ctrl_c_aborts_at_once_and_saves_nothing(fake_data_dir, tmp_path, capfd, monkeypatch):
    show_batch = cli.EpochProgress.show_batch

    def press_ctrl_c_twice_in_epoch_2(progress, event):
        show_batch(progress, event)
        if event.epoch == 2 and event.batch == 3:
            signal.raise_signal(signal.SIGINT)  # handled before raise_signal returns
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(cli.EpochProgress, "show_batch", press_ctrl_c_twice_in_epoch_2)
    out = tmp_path / "model.safetensors"

    def before_the_run(signum, frame):
        raise AssertionError("SIGINT reached the handler from before the run")

    with sigint_handled_by(before_the_run):
        assert main(["train", "--data-dir", str(fake_data_dir), *FAST, "--out", str(out), "--json"]) == 130
        after_the_run = signal.getsignal(signal.SIGINT)
    captured = capfd.readouterr()
    assert captured.out == "" and not out.exists()
    assert "interrupted: finishing the current batch" in captured.err and captured.err.endswith("scratchnet: interrupted\n")
    assert after_the_run is before_the_run  # Ctrl+C is back to what it was before the run


def test_a_terminal_gets_a_live_progress_bar(fake_data_dir):
    terminal, child_side = pty.openpty()
    fcntl.ioctl(child_side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 24 rows of 100 columns, as a window has
    command = scratchnet_command("train", "--data-dir", str(fake_data_dir), *FAST, "--json")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=child_side)
    os.close(child_side)
    shown = b""
    with deadline(120, "scratchnet train on a terminal"):
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # EIO: the child closed its side of the terminal
                break
            if not chunk:
                break
            shown += chunk
        stdout = process.communicate()[0]
    os.close(terminal)
    assert process.returncode == 0
    assert b"epoch 1:   0%|" in shown and b"| 0/16 [" in shown and b"batch/s" in shown  # 500 images in batches of 32
    assert b"epoch   3/3  train loss" in shown
    assert json.loads(stdout.decode().strip().splitlines()[-1])["status"] == "completed"
