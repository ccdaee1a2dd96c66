"""The ``scratchnet`` command: train, evaluate and fetch data without a window.

    scratchnet train --preset default --out model.safetensors
    scratchnet evaluate model.safetensors
    scratchnet data
    scratchnet runs list
    scratchnet finetune model.safetensors --examples my-digits --out mine.safetensors
    scratchnet export 3 --notebook run.ipynb --script run.py --torch run_torch.py

Progress goes to stderr (on a terminal, with a live bar for the epoch in progress); results to stdout (with
``--json``, the last stdout line is one JSON object). User errors exit with status 2 and one line of explanation.
Ctrl+C during training ends the run after the current batch on the last completed epoch's weights, which are
scored, printed and saved as for a finished run, then exits with status 130; a second Ctrl+C aborts at once.
Every training run is recorded in the run store (``scratchnet runs``) unless ``--no-record`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from . import __version__, stored_values
from .atomic import unsafe_target
from .compare_steps import BUDGET_EPOCHS, CHANGES, GAINS_TITLES, StepResult, gains_table, steps_plan
from .config import TrainConfig
from .damage import DAMAGES, apply, parse_damages
from .data import (
    ProgressCallback,
    cache_dir,
    find_files,
    load_dataset,
    locate_or_download,
    remove_leftovers,
    to_inputs,
    verify_mnist,
)
from .errors import ConfigError, RunStoreError, ScratchNetError
from .export import KINDS, recipe_of_model_file, recipe_of_run, write_export
from .finetune import Finetune, FinetuneResult, FinetuneSettings, unmeasured_reason
from .handwriting import read_examples
from .hints import Hint
from .memory import check_fits, estimate_training_bytes
from .model import Model, save_model
from .model_file import load_model
from .nn.metrics import evaluate
from .nn.optimizers import lr_after_switch
from .presets import load_preset, preset_names
from .robustness import RobustnessTable, sweep
from .runs import DatasetIdentity, Environment, RunStore, RunSummary, train_and_record, unreadable_notice
from .settings import SETTINGS, Kind, Setting
from .threads import usable_cores
from .trainer import BatchEvent, EpochEvent, Trainer, TrainResult

USER_ERROR = 2
INTERRUPTED = 130  # the shell's code for a process ended by Ctrl+C (128 + SIGINT)


def save_to(model: Model, path: str) -> str:
    """Save ``model`` at ``path`` (returned), or say in one line why it could not be."""
    try:
        save_model(model, path)
    except OSError as error:
        raise ConfigError(f"could not save the model to {path}: {error.strerror or error}") from None
    return path


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the command's own parser, so that the hint points at its --help
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    remove_leftovers()  # what a killed save or download left behind
    try:
        return args.command(args)
    except ScratchNetError as error:
        print(f"scratchnet: error: {in_command_line_words(error)}", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print("scratchnet: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # whoever read our output stopped early (``| head``): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that exiting does not complain again
        return 1


class OneLineErrorParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and a pointer to the command's help, not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(USER_ERROR, f"scratchnet: error: {message}; see '{self.prog} --help'\n")


def in_command_line_words(error: ScratchNetError) -> str:
    """The error's message with the setting at fault named by its flag (``--batch-size``, not ``batch_size``)."""
    if isinstance(error, ConfigError) and error.setting in SETTINGS and error.rule:
        return f"{SETTINGS[error.setting].flag} {error.rule}"
    return str(error)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(prog="scratchnet", description="A neural network from scratch in NumPy, learning MNIST.")
    parser.add_argument("--version", action="version", version=f"scratchnet {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    # Settings flags default to "absent" so that only the ones given override the preset.
    train = commands.add_parser(
        "train",
        help="train a network (flags override the preset)",
        description="Train a network on MNIST. Every setting starts from the preset; the flags given override it.",
        argument_default=argparse.SUPPRESS,
    )
    train.set_defaults(command=cmd_train, parser=train)
    train.add_argument(
        "--preset",
        default="default",
        help=f"starting configuration: {', '.join(preset_names())}, or a preset .json file of your own (default: default)",
    )
    for setting in SETTINGS.values():
        train.add_argument(setting.flag, help=flag_help(setting), **value_parsing(setting))
    train.add_argument(
        "--threads",
        type=thread_count,
        default=None,
        help="BLAS threads for the matrix products (default: the faster of 1 and all, measured each epoch)",
    )
    train.add_argument("--data-dir", default=None, help="folder holding the four MNIST IDX files")
    train.add_argument("--out", default=None, help="save the trained model to this .safetensors file")
    train.add_argument("--json", action="store_true", default=False, help="print the result as one JSON object (the last stdout line)")
    train.add_argument("--no-record", action="store_true", default=False, help="do not record this run in the run store")

    evaluate_cmd = commands.add_parser("evaluate", help="accuracy, per-class accuracy and confusion matrix of a model on the test set")
    evaluate_cmd.set_defaults(command=cmd_evaluate, parser=evaluate_cmd)
    evaluate_cmd.add_argument("model", help="a .safetensors model file, or the id of a recorded run")
    evaluate_cmd.add_argument("--data-dir", help="folder holding the four MNIST IDX files")
    evaluate_cmd.add_argument("--json", action="store_true", help="print the result as one JSON object")
    damaged = evaluate_cmd.add_mutually_exclusive_group()
    damaged.add_argument(
        "--damage",
        type=damage_list,
        metavar="KIND=SEVERITY,…",
        help=f"evaluate on test images damaged on purpose, in the order given: {damage_help()}",
    )
    damaged.add_argument(
        "--robustness",
        action="store_true",
        help="also print the accuracy under every kind of damage at six severities each (the robustness table)",
    )
    evaluate_cmd.add_argument("--seed", type=whole_number, default=0, help="seed of the damage's random numbers (default 0)")

    data = commands.add_parser("data", help="show where the data is and whether it verifies; download it if missing")
    data.set_defaults(command=cmd_data, parser=data)
    data.add_argument("--data-dir", help="folder to check (never downloaded into)")
    data.add_argument("--no-download", action="store_true", help="only report, never download")
    add_runs_commands(commands)
    add_finetune_command(commands)
    add_export_command(commands)
    add_compare_steps_command(commands)
    return parser


def add_compare_steps_command(commands: argparse._SubParsersAction) -> None:
    """``scratchnet compare-steps``: from the notebook's recipe to the default preset's, one change at a time."""
    compare = commands.add_parser(
        "compare-steps",
        help="train from the notebook's recipe to the default preset's, one change at a time, and show what each gained",
        description="Train the notebook's recipe, then change one thing at a time (initialisation, activation, batch size, "
        "optimiser, schedule, shifts) until it is the default preset, every step for the same epochs; print what each change gained.",
    )
    compare.set_defaults(command=cmd_compare_steps, parser=compare)
    compare.add_argument("--epochs", type=whole_number, default=BUDGET_EPOCHS, help=f"epochs of every step (default: {BUDGET_EPOCHS})")
    compare.add_argument(
        "--validation-size",
        type=whole_number,
        default=TrainConfig().validation_size,
        help="training images held out to score every step (default: %(default)s)",
    )
    compare.add_argument("--data-dir", default=None, help="folder holding the four MNIST IDX files")
    compare.add_argument("--json", action="store_true", help="print the steps as one JSON array (the last stdout line)")
    compare.add_argument("--no-record", action="store_true", help="do not record the steps in the run store")


def value_parsing(setting: Setting) -> dict:
    """How ``scratchnet train`` reads the value of a setting's flag: argparse's ``type`` or ``choices``."""
    if setting.kind is Kind.CHOICE:
        return {"choices": list(setting.choices)}
    if setting.kind is Kind.LAYERS:
        return {"type": parse_hidden}
    if setting.kind is Kind.WHOLE:
        return {"type": parse_batch_size if setting.none_means else whole_number}
    return {"type": real_number}


def flag_help(setting: Setting) -> str:
    """A setting's help text (the settings panel's tooltip too) and its value in the default preset."""
    value = getattr(TrainConfig(), setting.name)
    if setting.kind is Kind.LAYERS:
        value = ",".join(map(str, value)) or "none"
    elif value is None:
        value = setting.none_means
    elif isinstance(value, float):
        value = f"{value:g}"
    return f"{setting.help} (default preset: {value})".replace("%", "%%")  # argparse reads % as a format


def add_finetune_command(commands: argparse._SubParsersAction) -> None:
    defaults = FinetuneSettings()
    finetune = commands.add_parser(
        "finetune",
        help="teach a model your handwriting: fine-tune it on an examples folder, mixed with MNIST replay",
        description=(
            "Fine-tune MODEL on the labelled examples of an IDX folder (images-idx3-ubyte, labels-idx1-ubyte), mixed "
            "with training images of MNIST so that it does not forget them. 20 %% of each class's examples are held "
            "out (seeded) to measure the result: accuracy on them and on the MNIST test set, before and after."
        ),
    )
    finetune.set_defaults(command=cmd_finetune, parser=finetune)
    finetune.add_argument("model", help="the .safetensors model to start from")
    finetune.add_argument("--examples", required=True, help="folder holding images-idx3-ubyte and labels-idx1-ubyte")
    finetune.add_argument("--data-dir", help="folder holding the four MNIST IDX files (for replay and the test set)")
    finetune.add_argument(
        "--epochs", type=whole_number, default=defaults.epochs, help=f"passes over the mixed set (default {defaults.epochs})"
    )
    finetune.add_argument(
        "--seed", type=whole_number, default=defaults.seed, help="seed of the held-out split, the replay sample and the shuffles"
    )
    finetune.add_argument("--out", help="save the fine-tuned model to this .safetensors file")
    finetune.add_argument("--json", action="store_true", help="print the result as one JSON object (the last stdout line)")


def damage_help() -> str:
    kinds = "; ".join(f"{damage.name} ({damage.unit}): {damage.help}" for damage in DAMAGES.values())
    return f"{kinds}; e.g. rotation=20,noise=0.3".replace("%", "%%")


def damage_list(text: str) -> list[tuple[str, float]]:
    try:
        return parse_damages(text)
    except ConfigError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None


def real_number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None


def thread_count(text: str) -> int:
    count = whole_number(text)
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {count}")
    return count


def parse_hidden(text: str) -> list[int]:
    if text.strip().lower() in ("", "none"):
        return []
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated widths such as 128,128; got {text!r}") from None


def parse_batch_size(text: str) -> int | None:
    if text.strip().lower() == "full":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'full'; got {text!r}") from None


def stderr_progress() -> ProgressCallback:
    def report(done: int, total: int, file_name: str) -> None:
        percent = f"{100 * done / total:5.1f} %" if total else f"{done / 1e6:.1f} MB"
        print(f"\rdownloading {file_name}: {percent}", end="", file=sys.stderr, flush=True)

    return report


def cmd_train(args: argparse.Namespace) -> int:
    preset, _ = load_preset(args.preset)
    config = preset.replace(**{name: value for name, value in vars(args).items() if name in preset.to_dict()})
    if "optimizer" in vars(args) and "lr" not in vars(args):  # the preset's learning rate is for the preset's optimiser
        lr = lr_after_switch(preset.lr, preset.optimizer, config.optimizer)
        if lr != config.lr:
            config = config.replace(lr=lr)
            warn(
                f"--optimizer {config.optimizer} without --lr: using its usual learning rate {lr:g} "
                f"(the preset's {preset.lr:g} is for {preset.optimizer})"
            )

    if args.out:
        check_writable(Path(args.out))
    dataset = load_dataset(locate_or_download(args.data_dir, progress=stderr_progress()))
    check_fits(estimate_training_bytes(config, len(dataset.train_images), dataset.num_features, dataset.num_classes))
    store = None if args.no_record else open_run_store_or_warn()
    progress = EpochProgress(live_bar=sys.stderr.isatty())

    def train(trainer: Trainer) -> TrainResult:
        data = trainer.data
        print(f"training {config.describe()} on {dataset.name} ({len(data.train_x)} train / {len(data.val_x)} validation)", file=sys.stderr)
        with progress, interrupt_ends_the_run(trainer):
            result = trainer.run()
        print(result.message, file=sys.stderr)
        return result

    outcome = train_and_record(
        config, dataset, store, warn, on_batch=progress.show_batch, on_epoch=progress.show_epoch, blas_threads=args.threads, train=train
    )
    model, test = outcome.model, outcome.test
    summary = {
        "status": outcome.status,
        "message": outcome.message,
        **model.metrics,
        "epochs": model.epochs_trained,
        "weights_epoch": outcome.weights_epoch,
        "samples_per_second": outcome.samples_per_second,
        "blas_threads": outcome.blas_threads,
        "batches_ahead": outcome.batches_ahead,
        "config": model.config,
        "run_id": outcome.run_id,
        "hints": [hint.to_json() for hint in outcome.hints],
    }
    if saved := save_if_trained(model, args.out, outcome.weights_epoch):
        summary["model_path"] = saved
    if args.json:
        print(json.dumps(summary))
    else:
        weights = f"the weights of epoch {outcome.weights_epoch:g}" if outcome.weights_epoch else "the untrained weights"
        print(
            f"test accuracy {test['accuracy']:.2%} with {weights} ({outcome.train_seconds:.1f} s of training, "
            f"{outcome.samples_per_second:,.0f} samples/s)"
        )
        print_saved(args.out, saved)
        if outcome.run_id is not None:
            print(f"recorded as run {outcome.run_id} (scratchnet runs show {outcome.run_id})")
        print_hints(outcome.hints)
    return exit_status(outcome.status)


def print_hints(hints: list[Hint]) -> None:
    """What the run's health signals say is wrong, each with its cause and the flags of its fix."""
    for hint in hints:
        flags = " ".join(
            f"{SETTINGS[name].flag} {value:g}" if isinstance(value, float) else f"{SETTINGS[name].flag} {value}"
            for name, value in hint.fix.items()
        )
        print(f"hint: {hint.seen}.\n  likely cause: {hint.cause}\n  try: {flags}  ({hint.fix_label})")


def save_if_trained(model: Model, out: str | None, weights_epoch: float) -> str | None:
    """Save ``model`` at ``out`` (returned), when given, unless the run ended on untrained weights (not worth a file)."""
    return save_to(model, out) if out and weights_epoch > 0 else None


def print_saved(out: str | None, saved: str | None) -> None:
    if saved:
        print(f"saved to {saved}")
    elif out:
        print(f"not saved to {out}: no epoch was completed")


def exit_status(status: str) -> int:
    """The exit status of a training command whose run ended with ``status``."""
    return {"diverged": 1, "interrupted": INTERRUPTED}.get(status, 0)


def warn(message: str) -> None:
    print(f"scratchnet: warning: {message}", file=sys.stderr)


def open_run_store_or_warn() -> RunStore | None:
    """The run store; None, with a warning, when it cannot be opened: a run is never refused for that."""
    try:
        store = RunStore()
    except RunStoreError as error:
        warn(f"{error}; this run will not be recorded")
        return None
    if store.notice:
        warn(store.notice)
    return store


def check_writable(path: Path) -> None:
    """Refuse, before any training, an output path that cannot be written."""
    if path.is_dir():
        raise ConfigError(f"--out {path} is a folder; give a file name such as {path / 'model.safetensors'}")
    if not path.parent.is_dir():
        raise ConfigError(f"--out {path}: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise ConfigError(f"--out {path}: the folder {path.parent} is not writable")


@contextlib.contextmanager
def interrupt_ends_the_run(trainer: Trainer) -> Iterator[None]:
    """While ``trainer`` runs, a first Ctrl+C ends the run after the current batch on the weights of the last
    completed epoch (``RunControls.interrupt``); a second one raises ``KeyboardInterrupt`` at once, as usual."""

    below_the_bar = "\n" if sys.stderr.isatty() else ""  # the terminal's cursor sits after "^C" on the progress bar's line
    notice = f"{below_the_bar}interrupted: finishing the current batch...; Ctrl+C again to abort at once\n".encode()

    def on_first_interrupt(signum, frame) -> None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        trainer.controls.interrupt()
        with contextlib.suppress(OSError):  # to the descriptor, not print(): this may run in the middle of a write to sys.stderr
            os.write(2, notice)

    previous = signal.signal(signal.SIGINT, on_first_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class EpochProgress:
    """Training progress on stderr: one line per epoch and, with ``live_bar`` (on a terminal), a bar for the
    epoch in progress. Its methods are the trainer's callbacks; as a context manager it clears a bar left behind."""

    def __init__(self, live_bar: bool):
        self.live_bar = live_bar
        self.bar: tqdm | None = None

    def __enter__(self) -> EpochProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close_bar()

    def show_batch(self, event: BatchEvent) -> None:
        if not self.live_bar:
            return
        if self.bar is None:
            # tqdm redraws at most every mininterval seconds, so a batch costs it a counter update, not a redraw.
            self.bar = tqdm(total=event.batches, desc=f"epoch {event.epoch}", unit="batch", leave=False, file=sys.stderr, mininterval=0.2)
        self.bar.set_postfix_str(f"loss {event.loss:.4f}", refresh=False)
        self.bar.update()

    def show_epoch(self, event: EpochEvent) -> None:
        self.close_bar()
        val = f"val loss {event.val_loss:.4f} acc {event.val_accuracy:.2%}" if event.val_loss is not None else "no validation"
        print(
            f"epoch {event.epoch:>3}/{event.epochs}  train loss {event.train_loss:.4f} acc {event.train_accuracy:.2%}  "
            f"{val}  lr {event.lr:.2e}  {event.seconds:.2f} s",
            file=sys.stderr,
            flush=True,
        )

    def close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def model_file_of(name: str) -> tuple[str, str]:
    """The model file that ``evaluate NAME`` means, and how to call it: the file ``NAME``, or else, when ``NAME`` is a
    whole number, the weights of that recorded run (as ``train`` said: "recorded as run 2")."""
    if Path(name).exists() or not re.fullmatch("[0-9]{1,18}", name):  # a run id fits SQLite's 64-bit integers
        return name, name
    with open_run_store() as store:
        try:
            run = store.run(int(name))
        except RunStoreError:
            raise ConfigError(f"{name} is neither a model file nor a recorded run (see 'scratchnet runs list')") from None
    if run.model_path is None:
        raise ConfigError(f"run {name} has no saved weights: it did not complete an epoch")
    return str(run.model_path), f"run {name}"


def cmd_compare_steps(args: argparse.Namespace) -> int:
    plan = steps_plan(args.epochs, args.validation_size)  # (impossible settings are refused before the data is read)
    dataset = load_dataset(locate_or_download(args.data_dir, progress=stderr_progress()))
    store = None if args.no_record else open_run_store_or_warn()
    results = []
    for index, step in enumerate(plan):
        print(f"step {index} of {len(CHANGES)}, {step.name}: {step.change} ({step.config.describe()})", file=sys.stderr, flush=True)
        results.append(StepResult.of(step, train_and_record(step.config, dataset, store, warn)))
    if args.json:
        print(json.dumps([result.to_json() for result in results]))
    else:
        print_table(GAINS_TITLES, gains_table(results), right_aligned={"test accuracy", "gain", "training"})
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    path, model_name = model_file_of(args.model)
    model = load_model(path)
    dataset = load_dataset(locate_or_download(args.data_dir, progress=stderr_progress()))
    damages = [(kind, DAMAGES[kind].check(severity, dataset.image_shape)) for kind, severity in args.damage or []]
    start = time.perf_counter()
    probabilities = model.predict_test_set(dataset)  # refuses a model for other images or classes, or that overflows on them
    if damages:
        clean = to_inputs(dataset.test_images, model.dtype.type).reshape(dataset.test_images.shape)
        inputs = apply(clean, damages, np.random.default_rng(args.seed))
        probabilities = model.checked_proba(inputs.reshape(len(inputs), -1), f"the damaged test images of {dataset.name}")
    mismatch = model.dataset_mismatch(dataset)
    if mismatch:
        print(f"scratchnet: warning: {mismatch}; evaluating anyway", file=sys.stderr)
    report = evaluate(probabilities, dataset.test_labels)
    report["inference_seconds"] = time.perf_counter() - start
    if damages:
        report["damage"] = [{"kind": kind, "severity": severity} for kind, severity in damages]
        report["seed"] = args.seed
    table = None
    if args.robustness:  # each core reads severities on one BLAS thread: OpenBLAS's own threads spin on a busy machine
        with threadpool_limits(1, user_api="blas"):
            table = sweep(model, dataset.test_images, dataset.test_labels, seed=args.seed, workers=usable_cores())
    if args.json:
        print(json.dumps({"model": model_name, "dataset": dataset.name, **report, **({"robustness": table.to_json()} if table else {})}))
        return 0
    names = dataset.class_names
    steps = ", then ".join(DAMAGES[kind].describe(severity) for kind, severity in damages)
    damaged = f", damaged: {steps} (seed {args.seed})" if damages else ""
    print(f"{model_name}: {model.layer_sizes} {model.activation} on {dataset.name} test set ({report['count']} images{damaged})")
    print(f"accuracy {report['accuracy']:.2%}   top-2 {report['top2_accuracy']:.2%}   loss {report['loss']:.4f}")
    width = max(5, *(len(n) for n in names))
    print("\nper-class accuracy and confusion matrix (rows: true class, columns: predicted)")
    print(" " * (width + 9) + "".join(f"{n:>{width + 1}}" for n in names))
    for name, row, acc in zip(names, report["confusion_matrix"], report["per_class_accuracy"]):
        acc_text = "   n/a" if acc is None else f"{acc:6.1%}"
        print(f"{name:>{width}}  {acc_text}" + "".join(f"{count:>{width + 1}}" for count in row))
    if table:
        print_robustness(table)
    return 0


def print_robustness(table: RobustnessTable) -> None:
    """The robustness table: one row per kind of damage, its six severities each with the accuracy there."""
    print(f"\naccuracy on damaged test images, by kind and severity ({table.count:,} images each, {table.seconds:.1f} s)")
    rows = []
    for kind, severities in table.severities.items():
        text = DAMAGES[kind].severity_text
        rows.append([kind, *(f"{text(severity)}: {percent(accuracy, 1)}" for severity, accuracy in zip(severities, table.accuracy[kind]))])
    if rows:
        print_table(["damage", *(f"severity {level}" for level in range(len(rows[0]) - 1))], rows, right_aligned=set())


def cmd_data(args: argparse.Namespace) -> int:
    # A named folder is only ever read, as everywhere else: one lacking the files is an error, not a download target.
    folder = locate_or_download(args.data_dir, download=not args.no_download, progress=stderr_progress())
    dataset = load_dataset(folder)
    verified = verify_mnist(folder)
    print(f"data folder: {folder}")
    print(
        f"dataset:     {dataset.name}, {len(dataset.train_images)} train and {len(dataset.test_images)} test images "
        f"of {dataset.image_shape[0]}×{dataset.image_shape[1]}, {dataset.num_classes} classes"
    )
    print(f"verified:    {'yes, sha256 matches the original MNIST files' if verified else 'no (not the original MNIST .gz files)'}")
    print(f"cache:       {cache_dir()}")
    return 0


def add_runs_commands(commands: argparse._SubParsersAction) -> None:
    """``scratchnet runs list|show|export|delete``: the run store from the command line."""
    runs = commands.add_parser(
        "runs",
        help="list, show, export and delete the recorded training runs",
        description=(
            "The runs that 'scratchnet train' and the app recorded, kept in runs.sqlite3 in ScratchNet's data home "
            "($SCRATCHNET_HOME, else the user data folder) with their weights in models/ beside it."
        ),
    )
    runs.set_defaults(parser=runs)
    actions = runs.add_subparsers(required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="one line per run, newest first")
    listing.set_defaults(command=cmd_runs_list, parser=listing)
    listing.add_argument("--json", action="store_true", help="print a JSON array with one object per run")

    show = actions.add_parser("show", help="everything recorded about one run")
    show.set_defaults(command=cmd_runs_show, parser=show)
    show.add_argument("id", type=whole_number, help="the run's id, as 'scratchnet runs list' shows it")
    show.add_argument("--json", action="store_true", help="print the whole record as one JSON object")

    export = actions.add_parser("export", help="write the epochs of runs to a CSV file, one row per run and epoch")
    export.set_defaults(command=cmd_runs_export, parser=export)
    export.add_argument("ids", nargs="+", type=whole_number, metavar="ID", help="ids of the runs to export")
    export.add_argument("--csv", required=True, metavar="FILE", help="the CSV file to write (columns: run_id, epoch, metrics)")

    delete = actions.add_parser("delete", help="delete runs and their saved weights")
    delete.set_defaults(command=cmd_runs_delete, parser=delete)
    delete.add_argument("ids", nargs="+", type=whole_number, metavar="ID", help="ids of the runs to delete")


def open_run_store() -> RunStore:
    store = RunStore()
    if store.notice:
        warn(store.notice)
    return store


def warn_if_unreadable(runs: list[RunSummary]) -> None:
    if notice := unreadable_notice(runs):
        warn(notice)


def cmd_runs_list(args: argparse.Namespace) -> int:
    with open_run_store() as store:
        runs = store.runs()
    warn_if_unreadable(runs)
    if args.json:
        print(json.dumps([run.to_json() for run in runs]))
    elif not runs:
        print(f"no runs recorded yet (in {store.path})")
    else:
        titles = ["id", "started", "status", "settings", "epochs", "test acc", "val acc", "seconds"]
        print_table(titles, [run_row(run) for run in runs], right_aligned={"id", "epochs", "test acc", "val acc", "seconds"})
    return 0


def run_row(run: RunSummary) -> list[str]:
    started = "-" if run.started is None else run.started.astimezone().strftime("%Y-%m-%d %H:%M")
    accuracies = [percent(run.test_accuracy), percent(run.val_accuracy)]
    return [str(run.id), started, run.status, run.settings, number(run.epochs, "d"), *accuracies, number(run.train_seconds, ".1f")]


def print_table(titles: list[str], rows: list[list[str]], right_aligned: set[str]) -> None:
    """Rows of text in columns as wide as their widest cell, separated by two spaces."""
    widths = [max(len(title), *(len(row[i]) for row in rows)) for i, title in enumerate(titles)]
    for row in [titles, *rows]:
        cells = [cell.rjust(width) if title in right_aligned else cell.ljust(width) for title, cell, width in zip(titles, row, widths)]
        print("  ".join(cells).rstrip())


def percent(fraction: float | None, decimals: int = 2) -> str:
    """A fraction as a percentage, "97.66%"; "-" when there is none."""
    return "-" if fraction is None else f"{fraction:.{decimals}%}"


def local_time(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def cmd_runs_show(args: argparse.Namespace) -> int:
    with open_run_store() as store:
        run = store.run(args.id)
    warn_if_unreadable([run])
    if args.json:
        print(json.dumps(run.to_json()))
        return 0
    lines = [
        f"run {run.id}: {run.status}" + (f" ({run.message})" if run.message else ""),
        f"started      {local_time(run.started)}, ended {local_time(run.ended)}",
        f"training     {number(run.train_seconds, '.1f')} s, {number(run.samples_per_second, ',.0f')} samples/s",
        f"settings     {run.settings}",
        f"             {' '.join(f'{name}={value}' for name, value in run.config.items())}",
        *dataset_lines(run.dataset),
        f"environment  {environment_text(run.environment)}; host {run.host or '?'}, process {number(run.pid, 'd')}",
        f"test         accuracy {percent(run.test_accuracy)}" + loss_text(stored_test_loss(run.test)),
        f"validation   accuracy {percent(run.val_accuracy)}",
        f"weights      {run.model_path or 'not saved (no epoch completed)'}",
        f"loss curve   {len(run.loss_curve)} points of the smoothed batch loss",
    ]
    print("\n".join(lines))
    if run.history:
        print()
        titles = ["epoch", "train loss", "train acc", "val loss", "val acc", "lr", "seconds"]
        rows = [
            [str(e.epoch), number(e.train_loss, ".4f"), percent(e.train_accuracy), number(e.val_loss, ".4f"), percent(e.val_accuracy)]
            + [number(e.lr, ".2e"), number(e.seconds, ".2f")]
            for e in run.history
        ]
        print_table(titles, rows, right_aligned=set(titles))
    return 0


def dataset_lines(dataset: DatasetIdentity | None) -> list[str]:
    """``runs show``'s lines about the dataset a run learnt from."""
    if dataset is None:
        return ["dataset      unknown (not readable in the run store)"]
    height, width = dataset.image_shape
    return [
        f"dataset      {dataset.name or 'unnamed'}: {dataset.train_size} train / {dataset.validation_size} validation images "
        f"of {height}×{width}, {len(dataset.class_names)} classes",
        f"             test set {dataset.fingerprint or 'without fingerprint'}",
    ]


def environment_text(environment: Environment | None) -> str:
    if environment is None:
        return "unknown (not readable in the run store)"
    threads = environment.threads
    return (
        f"NumPy {environment.numpy}, {environment.blas} with {threads or '?'} thread{'' if threads == 1 else 's'}, "
        f"Python {environment.python}, {environment.machine}"
    )


def stored_test_loss(test: dict | None) -> float | None:
    """The loss in a run's stored test-set report, when it holds a number there."""
    try:
        return stored_values.real((test or {}).get("loss"))
    except stored_values.Unreadable:
        return None


def loss_text(loss: float | None) -> str:
    return "" if loss is None else f", loss {loss:.4f}"


def number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def cmd_runs_export(args: argparse.Namespace) -> int:
    with open_run_store() as store:
        store.export_csv(args.ids, args.csv)
    print(f"exported the epochs of {len(args.ids)} run{'s' * (len(args.ids) != 1)} to {args.csv}")
    return 0


def cmd_runs_delete(args: argparse.Namespace) -> int:
    with open_run_store() as store:
        store.delete(args.ids)
        store.purge(args.ids)
    print(f"deleted run{'s' * (len(args.ids) != 1)} {', '.join(map(str, args.ids))}")
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    if args.out:
        check_writable(Path(args.out))
    model = load_model(args.model)
    examples = read_examples(args.examples)
    dataset = load_dataset(locate_or_download(args.data_dir, progress=stderr_progress()))
    mismatch = model.dataset_mismatch(dataset)
    if mismatch:
        print(f"scratchnet: warning: {mismatch}; replaying it anyway", file=sys.stderr)
    settings = FinetuneSettings(epochs=args.epochs, seed=args.seed)
    progress = EpochProgress(live_bar=sys.stderr.isatty())
    run = Finetune(model, examples, dataset, settings)
    print(
        f"fine-tuning on {len(run.split.train)} of {len(examples)} examples ({len(run.split.held_out)} held out) "
        f"with {run.replayed} {dataset.name} training images replayed per epoch",
        file=sys.stderr,
    )
    if unmeasured := unmeasured_reason(examples.labels):
        warn(unmeasured)
    with progress, interrupt_ends_the_run(run.trainer):
        result = run.run(progress.show_batch, progress.show_epoch)
    summary = result.summary()
    if saved := save_if_trained(result.model, args.out, result.training.weights_epoch):
        summary["model_path"] = saved
    if args.json:
        print(json.dumps(summary))
    else:
        print_finetune_report(result)
        print_saved(args.out, saved)
    return exit_status(result.training.status)


def print_finetune_report(result: FinetuneResult) -> None:
    """Before → after on the held-out examples and the test set, per class, and the examples that flipped."""

    def column(value: float | None) -> str:
        return percent(value, 1).rjust(6)

    if len(result.held_out):
        held_out = f"{percent(result.examples_before)} → {percent(result.examples_after)}"
        print(f"your held-out examples: {held_out}  ({len(result.held_out)} examples)")
    else:
        print("your held-out examples: none (too few examples of every class to hold one out)")
    print(f"test set:               {percent(result.test_before)} → {percent(result.test_after)}")
    print(f"({result.training.train_seconds:.1f} s of training; {result.training.message})")
    print("\nclass  examples  held out   held-out before → after    test before → after")
    for row in result.classes:
        print(
            f"{row.name:>5}  {row.examples:>8}  {row.held_out:>8}   {column(row.examples_before)} → {column(row.examples_after)}"
            f"          {column(row.test_before)} → {column(row.test_after)}"
        )
    if result.train_only_classes:
        names = ", ".join(result.model.class_names[label] for label in result.train_only_classes)
        print(f"\ntoo few examples to hold any out (used for training only): {names}")
    for what, positions in (("misread before, read right after", result.fixed), ("read right before, misread after", result.broken)):
        if len(positions):
            print(f"\n{what}: examples (positions from 0) {', '.join(map(str, positions))}")


EXPORT_HELP = {
    "notebook": "a Jupyter notebook, a cell per step with ScratchNet's own functions for this run",
    "script": "the same code as one NumPy script (python FILE --data-dir DIR)",
    "torch": "a PyTorch script: the same nn.Sequential with the run's weights, tested (--train: trained in PyTorch)",
}


def add_export_command(commands: argparse._SubParsersAction) -> None:
    export = commands.add_parser(
        "export",
        help="a recorded run or a model as code: a notebook, a NumPy script, a PyTorch script",
        description=(
            "Write a recorded run (or the recipe of a model file) as code to read and run anywhere: ScratchNet's own "
            "functions for the run's choices, step by step. With the same data, seed and one BLAS thread, the notebook "
            "and the script repeat the run's batch losses exactly."
        ),
    )
    export.set_defaults(command=cmd_export, parser=export)
    export.add_argument("run", metavar="RUN_ID|MODEL", help="the id of a recorded run (scratchnet runs list), or a .safetensors model file")
    for kind, help_text in EXPORT_HELP.items():
        export.add_argument(f"--{kind}", metavar="FILE", help=f"write {help_text}")
    export.add_argument("--data-dir", help="the data folder the code loads by default (default: $SCRATCHNET_DATA_DIR or the cache)")


def cmd_export(args: argparse.Namespace) -> int:
    targets = {kind: getattr(args, kind) for kind in KINDS if getattr(args, kind)}
    if not targets:
        args.parser.error("name at least one file to write: --notebook FILE, --script FILE or --torch FILE")
    if len({Path(path).resolve() for path in targets.values()}) < len(targets):
        args.parser.error("each export needs a file of its own")
    if args.data_dir and find_files(Path(args.data_dir).expanduser()) is None:
        warn(f"--data-dir {args.data_dir} holds no IDX dataset; the exported code will look there all the same")
    for path in targets.values():  # all checked before any is written
        if problem := unsafe_target(Path(path)):
            raise ConfigError(f"cannot write {path}: {problem}")
    if Path(args.run).exists():
        recipe = recipe_of_model_file(args.run)
    elif not re.fullmatch("[0-9]{1,18}", args.run):
        raise ConfigError(f"{args.run} is neither a model file nor a recorded run (see 'scratchnet runs list')")
    else:
        with open_run_store() as store:
            recipe = recipe_of_run(store, int(args.run))
    for caveat in recipe.caveats:
        warn(caveat)
    for kind, path in targets.items():
        write_export(recipe, kind, path, args.data_dir)
        print(f"wrote {path}: {recipe.title.lower() if recipe.title.startswith('Run') else recipe.title} as {EXPORT_WORDS[kind]}")
    return 0


EXPORT_WORDS = {"notebook": "a notebook", "script": "a NumPy script", "torch": "a PyTorch script"}
