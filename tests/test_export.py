"""Runs exported as code: the notebook, executed, repeats ScratchNet's run batch by batch; the script gives the
notebook's numbers; the PyTorch script reads the run's weights as ScratchNet does. And the command, and the app's
File ▸ Export run as code… and Runs tab button that make them."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog

from scratchnet.cli import main
from scratchnet.config import TrainConfig
from scratchnet.data import FILE_NAMES, load_dataset, to_inputs
from scratchnet.export import ExportError, recipe_of_model_file, recipe_of_run, write_export
from scratchnet.export_code import CoreCode
from scratchnet.idx import write_idx
from scratchnet.model_file import load_model
from scratchnet.nn import ACTIVATIONS, INITIALIZERS, forward, get_activation
from scratchnet.runs import RunStore, train_and_record
from scratchnet_gui.run_export import FILTERS

ONE_THREAD = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
RECIPES = {  # small runs that between them use every kind of code an export copies
    "nesterov relu cosine, every augmentation, dropout, clipping, weight decay": TrainConfig(
        hidden=[16, 8],
        epochs=3,
        batch_size=64,
        validation_size=60,
        dropout=0.1,
        weight_decay=1e-3,
        augment_rotate=10.0,
        augment_thickness=1,
        augment_noise=0.1,
        seed=3,
    ),
    "adamw gelu step, float64, full batch with shifts, early stopping": TrainConfig(
        hidden=[12],
        activation="gelu",
        init="xavier",
        optimizer="adamw",
        lr=0.01,
        batch_size=None,
        epochs=6,
        schedule="step",
        step_epochs=2,
        warmup_epochs=0,
        weight_decay=0.01,
        grad_clip=0,
        early_stopping=2,
        validation_size=60,
        dtype="float64",
        seed=5,
    ),
    "sgd sigmoid constant, no validation, no shifts": TrainConfig(
        hidden=[10],
        activation="sigmoid",
        init="lecun",
        optimizer="sgd",
        lr=2.0,
        batch_size=32,
        epochs=3,
        schedule="constant",
        warmup_epochs=0,
        augment_shift=0,
        validation_size=0,
        seed=1,
    ),
}


@pytest.fixture(scope="module")
def hard_data_dir(tmp_path_factory) -> Path:
    """A dataset no small network gets all right: 5 classes of 10×9 images, a fifth of them noise."""
    rng = np.random.default_rng(7)
    folder = tmp_path_factory.mktemp("hard")
    arrays = []
    for count in (420, 150):
        labels = rng.integers(0, 5, count)
        images = rng.integers(0, 90, (count, 10, 9))
        for image, label in zip(images, labels):
            image[2 * label : 2 * label + 2, 1:8] += 120
        noise = rng.random(count) < 0.2
        images[noise] = rng.integers(0, 255, (noise.sum(), 10, 9))
        arrays += [np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.uint8)]
    for name, array in zip(FILE_NAMES, arrays):
        write_idx(folder / f"{name}.gz", array)
    return folder


def recorded_run(config: TrainConfig, data_dir: Path, store: RunStore) -> tuple[int, list[float], float]:
    """Train and record ``config`` with one BLAS thread: the run's id, every batch loss, its test accuracy."""
    losses = []
    outcome = train_and_record(
        config, load_dataset(data_dir), store, print, on_batch=lambda event: losses.append(event.loss), blas_threads=1
    )
    return outcome.run_id, losses, outcome.test["accuracy"]


def execute(notebook_path: Path) -> tuple[dict, str]:
    """Run the notebook in a fresh kernel (one BLAS thread): its ``batch_losses`` and ``test_accuracy``, and what
    its cells printed."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("print(__import__('json').dumps([batch_losses, test_accuracy]))"))
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(notebook_path.parent)}}).execute(
        env=ONE_THREAD
    )
    printed = [output["text"] for cell in notebook.cells[:-1] for output in cell.get("outputs", []) if output["output_type"] == "stream"]
    losses, accuracy = json.loads(notebook.cells[-1].outputs[0]["text"])
    return {"losses": losses, "accuracy": accuracy}, "".join(printed)


@pytest.mark.parametrize("config", RECIPES.values(), ids=RECIPES.keys())
def test_the_notebook_repeats_the_run_and_the_script_the_notebook(config, hard_data_dir, tmp_path, data_home):
    with RunStore() as store:
        run_id, losses, test_accuracy = recorded_run(config, hard_data_dir, store)
        recipe = recipe_of_run(store, run_id)
    write_export(recipe, "notebook", tmp_path / "run.ipynb", hard_data_dir)
    write_export(recipe, "script", tmp_path / "run.py", "/nowhere")

    ran, printed = execute(tmp_path / "run.ipynb")
    assert len(ran["losses"]) == len(losses)
    assert np.max(np.abs(np.array(ran["losses"]) - losses)) < 1e-6
    assert ran["accuracy"] == test_accuracy
    assert 0.3 < test_accuracy < 1  # a run with something to get wrong

    script = subprocess.run(
        [sys.executable, "run.py", "--data-dir", str(hard_data_dir)],
        cwd=tmp_path,
        env=ONE_THREAD,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert script.returncode == 0, script.stderr
    assert script.stdout == printed.replace("matplotlib is not installed (pip install matplotlib): no plot\n", "")
    assert f"test accuracy {test_accuracy:.2%}" in script.stdout


def test_the_torch_script_reads_the_weights_as_scratchnet_does(hard_data_dir, tmp_path, data_home):
    pytest.importorskip("torch")
    with RunStore() as store:
        run_id, _, test_accuracy = recorded_run(
            RECIPES["nesterov relu cosine, every augmentation, dropout, clipping, weight decay"], hard_data_dir, store
        )
        recipe = recipe_of_run(store, run_id)
    write_export(recipe, "torch", tmp_path / "run_torch.py", hard_data_dir)
    script = runpy.run_path(str(tmp_path / "run_torch.py"))  # not as __main__: its functions, not its command
    *_, test_x, test_y = script["load_data"](hard_data_dir)
    theirs = script["logits_of"](script["load_weights"](recipe.weights), test_x)

    model = load_model(recipe.weights)
    ours, _ = forward(model.params, to_inputs(load_dataset(hard_data_dir).test_images, np.float32), get_activation(model.activation))
    assert np.max(np.abs(theirs - ours)) < 1e-4
    assert (theirs.argmax(axis=1) == ours.argmax(axis=1)).all()

    trained = subprocess.run([sys.executable, "run_torch.py", "--train"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert trained.returncode == 0, trained.stderr
    assert trained.stdout.count("epoch ") == 3 and "test accuracy" in trained.stdout


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_an_activation_copied_from_the_source_is_the_one_that_trains(name):
    code = CoreCode(kept={("scratchnet.nn.activations", "ACTIVATIONS"): name})
    source = code.take(get_activation)
    copied = {}
    exec("\n".join(["from __future__ import annotations", *code.imports(), source]), copied)
    assert list(copied["ACTIVATIONS"]) == [name]  # only this run's
    z = np.random.default_rng(0).normal(size=(4, 5))
    a = ACTIVATIONS[name].value(z)
    assert np.array_equal(copied["get_activation"](name).value(z), a)
    assert np.array_equal(copied["get_activation"](name).derivative(z, a), ACTIVATIONS[name].derivative(z, a))


@pytest.mark.parametrize("name", INITIALIZERS)
def test_an_initialiser_copied_from_the_source_draws_the_same_weights(name):
    code = CoreCode(kept={("scratchnet.nn.initializers", "INITIALIZERS"): name})
    source, copied = code.take(INITIALIZERS[name]), {}
    exec("\n".join(["from __future__ import annotations", *code.imports(), source]), copied)
    drawn = copied[name](6, 3, np.random.default_rng(1))
    assert np.array_equal(drawn, INITIALIZERS[name](6, 3, np.random.default_rng(1)))


def test_an_unknown_choice_is_refused_by_name():
    with pytest.raises(LookupError, match="no entry 'swish'"):
        CoreCode(kept={("scratchnet.nn.activations", "ACTIVATIONS"): "swish"}).take(get_activation)


# ---- the command -------------------------------------------------------------------------------------------------


@pytest.fixture
def run_id(hard_data_dir, data_home) -> int:
    with RunStore() as store:
        return recorded_run(RECIPES["sgd sigmoid constant, no validation, no shifts"], hard_data_dir, store)[0]


def test_the_command_writes_each_form_it_is_asked_for(run_id, hard_data_dir, tmp_path, capsys):
    notebook, script = tmp_path / "a.ipynb", tmp_path / "a.py"
    assert main(["export", str(run_id), "--notebook", str(notebook), "--script", str(script), "--data-dir", str(hard_data_dir)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {notebook}: run {run_id} as a notebook",
        f"wrote {script}: run {run_id} as a NumPy script",
    ]
    assert json.loads(notebook.read_text())["nbformat"] == 4
    assert f'default="{hard_data_dir}"' in script.read_text()
    assert not (tmp_path / "a_torch.py").exists()


def test_a_model_file_exports_its_recipe(run_id, tmp_path, capsys):
    with RunStore() as store:
        weights = store.run(run_id).model_path
    assert main(["export", str(weights), "--torch", str(tmp_path / "t.py")]) == 0
    assert str(weights.resolve()) in (tmp_path / "t.py").read_text()
    assert "fresh weights" in capsys.readouterr().err  # its caveat: a model may have trained over several runs


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["1"], "name at least one file to write"),
        (["99", "--notebook", "{tmp}/x.ipynb"], "no recorded run with id 99"),
        (["9" * 30, "--notebook", "{tmp}/x.ipynb"], "is neither a model file nor a recorded run"),
        (["no-such-model", "--script", "{tmp}/x.py"], "is neither a model file nor a recorded run"),
        (["{tmp}/garbage.safetensors", "--script", "{tmp}/x.py"], "not a safetensors model file"),
        (["1", "--notebook", "{tmp}/missing/x.ipynb"], "the folder {tmp}/missing does not exist"),
        (["1", "--notebook", "{tmp}"], "it is not a regular file"),
        (["1", "--notebook", "{tmp}/link.ipynb"], "it is a symbolic link"),
        (["1", "--notebook", "{tmp}/a.py", "--script", "{tmp}/a.py"], "each export needs a file of its own"),
        (["1", "--script", "{tmp}/fine.py", "--torch", "{tmp}/missing/t.py"], "does not exist"),
        (["1", "--notebook", "{tmp}/" + "c" * 300 + ".ipynb"], "the system refuses that name"),  # found by the random GUI test
    ],
)
def test_hostile_arguments_are_one_line_errors_that_write_nothing(arguments, message, run_id, tmp_path, capsys):
    (tmp_path / "garbage.safetensors").write_bytes(os.urandom(64))
    (tmp_path / "link.ipynb").symlink_to(tmp_path / "elsewhere.ipynb")
    before = sorted(tmp_path.rglob("*"))
    arguments = [argument.replace("{tmp}", str(tmp_path)).replace("1", str(run_id), argument == "1") for argument in arguments]
    try:
        status = main(["export", *arguments])
    except SystemExit as exit:  # an error of the arguments themselves, with a pointer to --help
        status = exit.code
    assert status == 2
    error = capsys.readouterr().err
    assert message.replace("{tmp}", str(tmp_path)) in error and "Traceback" not in error and len(error.strip().splitlines()) == 1
    assert sorted(tmp_path.rglob("*")) == before


def test_an_unreadable_recipe_is_an_export_error(tmp_path):
    with pytest.raises(ExportError, match="cannot read"):
        recipe_of_model_file(tmp_path / "none.safetensors")


# ---- the app -----------------------------------------------------------------------------------------------------


def choose_file(monkeypatch, path: Path, kind: str) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(path), FILTERS[kind]))


def test_the_file_menu_exports_the_current_models_run(qtbot, fake_data_dir, tmp_path, monkeypatch):
    from .test_gui_app import make_window
    from .test_runs_panel import train

    window = make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)
    (action,) = [action for action in window.menuBar().actions()[0].menu().actions() if action.text() == "Export run as c&ode…"]
    outcome = train(qtbot, window.session)
    assert action.isEnabled() and window.session.model_run_id == outcome.run_id
    choose_file(monkeypatch, tmp_path / "mine", "script")
    action.trigger()
    written = (tmp_path / "mine.py").read_text()
    assert f"Run {outcome.run_id} as one NumPy script" in written
    assert f'default="{fake_data_dir}"' in written  # the app's data folder is the script's default
    choose_file(monkeypatch, tmp_path / ("c" * 300), "script")  # a name too long for the file system
    with qtbot.waitSignal(window.session.notice) as notice:
        action.trigger()
    assert "the system refuses that name" in notice.args[0] and notice.args[1] == "error"


def test_the_runs_tab_exports_the_selected_run(qtbot, session, tmp_path, monkeypatch):
    from scratchnet_gui.runs_panel import RunsPanel

    from .test_runs_panel import train

    first, second = train(qtbot, session), train(qtbot, session)
    panel = RunsPanel()
    qtbot.addWidget(panel)
    panel.follow(session)
    panel.select_runs([first.run_id, second.run_id])
    assert not panel.code_button.isEnabled()  # one run at a time
    panel.select_runs([first.run_id])
    assert panel.code_button.isEnabled()
    choose_file(monkeypatch, tmp_path / "first.ipynb", "notebook")
    panel.code_button.click()
    assert "".join(json.loads((tmp_path / "first.ipynb").read_text())["cells"][0]["source"]).startswith(f"# Run {first.run_id}:")
    assert panel.message.text() == f"Exported run {first.run_id} as code."

    (tmp_path / "taken.py").write_text("mine")
    choose_file(monkeypatch, tmp_path / "taken", "script")  # "taken" + .py is a file the user did not name
    panel.code_button.click()
    assert (tmp_path / "taken.py").read_text() == "mine"
