"""A run taken out of ScratchNet as code to read and run anywhere: a Jupyter notebook, a NumPy script, a PyTorch script.

    recipe = recipe_of_run(store, 12)               # or recipe_of_model_file("model.safetensors")
    write_export(recipe, "notebook", "run.ipynb", data_dir="~/mnist")

The notebook is laid out as the original one was — load the data, initialise, forward, backward, update, the
training loop, evaluate — with a short text for each step, and each step's functions are ScratchNet's own, copied
from its source (``export_code.CoreCode``) for this run's choices: the code that trained the run, which repeats
its batch losses exactly (same data, seed and BLAS threads). The NumPy script is the same code as one file
(``python run.py --data-dir DIR``). The PyTorch script builds the same ``nn.Sequential``, loads the run's weights
(ScratchNet's model files are in its layout) and tests them; ``--train`` trains the recipe with torch.

The words and the glue between ScratchNet's functions are the templates of ``export_templates.py``.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from . import atomic, data, trainer
from . import export_templates as templates
from .batches import Batches
from .config import TrainConfig
from .errors import ConfigError, ModelFileError, RunStoreError, ScratchNetError
from .export_code import CoreCode
from .model import Model
from .model_file import load_model
from .nn import activations, initializers, metrics, network, optimizers, schedules
from .runs import RunStore
from .settings import SETTINGS

DATA_IMPORTS = ["import gzip", "import math", "import struct", "from pathlib import Path"]  # what READ_IDX and the steps use
KINDS = {"notebook": ".ipynb", "script": ".py", "torch": ".py"}  # what can be exported, and its usual suffix
DEFAULT_DATA_DIR = "mnist"  # written into an export when no folder holding the data is known
COMMENT_WIDTH = 110  # characters of a line of the script's comments
MAX_COMMENT = 80  # characters of a setting's help that fit as a comment after it
CHOICES = ("activation", "init", "optimizer", "schedule")  # settings that pick code; the others are numbers in it
TORCH_ACTIVATIONS = {
    "tanh": "nn.Tanh()",
    "relu": "nn.ReLU()",
    "leaky_relu": f"nn.LeakyReLU({activations.LEAKY_SLOPE})",
    "sigmoid": "nn.Sigmoid()",
    "gelu": 'nn.GELU(approximate="tanh")',
}
TORCH_INITIALIZERS = {
    "randn": "nn.init.normal_(layer.weight, 0.0, 1.0)",
    "xavier": "nn.init.xavier_uniform_(layer.weight)",
    "he": 'nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")',
    "lecun": "nn.init.normal_(layer.weight, 0.0, layer.in_features**-0.5)",
}
TORCH_OPTIMIZERS = {
    "sgd": "torch.optim.SGD(groups, lr=lr)",
    "momentum": "torch.optim.SGD(groups, lr=lr, momentum=momentum)",
    "nesterov": "torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=True)",
    "adam": "torch.optim.Adam(groups, lr=lr, betas=(beta1, beta2), eps=1e-8)",
    "adamw": "torch.optim.AdamW(groups, lr=lr, betas=(beta1, beta2), eps=1e-8)",
}
OPTIMIZER_WORDS = {
    "sgd": "Plain gradient descent: each weight moves against its gradient, `W -= lr · g`.",
    "momentum": "Gradient descent with momentum: a running velocity of past gradients, `v = momentum · v + g`, moves the "
    "weights, `W -= lr · v`.",
    "nesterov": "Nesterov momentum: a running velocity, `v = momentum · v + g`, and a step that looks ahead along it, "
    "`W -= lr · (g + momentum · v)`.",
    "adam": "Adam: each weight gets its own step size, from running averages of its gradient and of the gradient's square.",
    "adamw": "AdamW: Adam (a step size per weight, from running averages of g and g²), with its weight decay applied to "
    "the weights directly rather than through the gradient.",
}


class ExportError(ScratchNetError):
    """A run or model that cannot be exported, or a file that cannot be written."""


@dataclass
class Recipe:
    """What an export is made of: a run's settings, the data it learnt from, its weights and its figures."""

    title: str  # "Run 12", "model.safetensors"
    config: TrainConfig
    class_names: list[str]
    image_shape: tuple[int, int]
    dataset_name: str = "MNIST"
    train_size: int | None = None  # training images (after the validation split), when known
    weights: Path | None = None  # the model file of the run's final weights
    test_accuracy: float | None = None  # as ScratchNet measured it
    caveats: list[str] = field(default_factory=list)  # why the export may not repeat the run's numbers

    @property
    def sizes(self) -> str:
        """The data in a few words: "55000 training / 5000 validation images of 28×28, 10 classes"."""
        train = f"{self.train_size} training / " if self.train_size is not None else ""
        height, width = self.image_shape
        return f"{train}{self.config.validation_size} validation images of {height}×{width}, {len(self.class_names)} classes"


def recipe_of_run(store: RunStore, run_id: int) -> Recipe:
    """The recipe of a recorded run: its settings and dataset as the store holds them, and its saved weights."""
    try:
        run = store.run(run_id)
    except RunStoreError as error:
        raise ExportError(str(error)) from None
    config = _config(run.config, f"run {run_id}")
    if run.dataset is None:
        raise ExportError(f"run {run_id} does not record which data it learnt from")
    recipe = Recipe(
        f"Run {run_id}",
        config,
        list(run.dataset.class_names),
        tuple(run.dataset.image_shape),
        run.dataset.name or "an unnamed dataset",
        run.dataset.train_size,
        run.model_path,
        run.test_accuracy,
    )
    if run.status == "running":
        recipe.caveats.append("The run was still training when it was exported: its settings may yet change.")
    if run.model_path is not None:
        try:
            trained = load_model(run.model_path).epochs_trained
        except ModelFileError:
            recipe.weights = None
            recipe.caveats.append("Its weights file cannot be read.")
        else:
            if trained is not None and trained > len(run.history) + 1e-9:
                recipe.caveats.append(_continued(trained - len(run.history)))
    return recipe


def recipe_of_model_file(path: str | os.PathLike) -> Recipe:
    """The recipe of a model file: the settings it was trained with, and the file itself as its weights."""
    try:
        model = load_model(path)
    except ModelFileError as error:
        raise ExportError(str(error)) from None
    return recipe_of_model(model, Path(path).name, Path(path).resolve())


def recipe_of_model(model: Model, title: str, weights: Path | None = None) -> Recipe:
    """The recipe of a model in hand (``weights``: the file holding it, if any)."""
    config = _config(model.config, title)
    test_accuracy = model.metrics.get("test_accuracy")
    recipe = Recipe(
        title,
        config,
        list(model.class_names),
        tuple(model.image_shape),
        model.dataset or "an unnamed dataset",
        weights=weights,
        test_accuracy=test_accuracy if isinstance(test_accuracy, float) else None,
    )
    recipe.caveats.append("Its weights may have trained for more than one run: the notebook trains its recipe from fresh weights.")
    return recipe


def _config(settings: dict, what: str) -> TrainConfig:
    try:
        return TrainConfig.from_dict(settings)
    except (ConfigError, TypeError) as error:
        raise ExportError(f"{what} has no usable training settings ({error})") from None


def _continued(epochs: float) -> str:
    return (
        f"It continued from weights already trained for {epochs:g} epochs; the notebook trains from fresh weights, so "
        "its numbers are those of a new run with these settings."
    )


# ---- the notebook's steps ---------------------------------------------------------------------------------------


@dataclass
class Cell:
    """A cell of the notebook: markdown or code. ``notebook_only``: left out of the script."""

    kind: str
    text: str
    notebook_only: bool = False


def steps(recipe: Recipe, folder: str, for_script: bool) -> tuple[list[Cell], list[str]]:
    """The cells of the exported notebook (the script, ``for_script``), and the import lines their code needs."""
    config = recipe.config
    code = _core_code(config)
    data_dir = templates.DATA_DIR_SCRIPT if for_script else templates.DATA_DIR_NOTEBOOK
    data_dir_line = data_dir.substitute(folder=_py(folder), description=f"{recipe.title} of ScratchNet, in NumPy")
    cells = [
        Cell("markdown", templates.SETTINGS_TEXT.substitute({name: getattr(config, name) for name in CHOICES})),
        Cell("code", "\n".join([data_dir_line, f"class_names = {_py(recipe.class_names)}", *_settings_lines(config)])),
        Cell("markdown", templates.DATA_TEXT),
        Cell("code", _joined(code.take((data, "FILE_NAMES"), data.spellings, data.to_inputs), templates.READ_IDX, templates.LOAD_DATA)),
        Cell("markdown", templates.INIT_TEXT.substitute(init=config.init, init_doc=_first_line(initializers.INITIALIZERS[config.init]))),
        Cell("code", _joined(code.take(network.init_params), templates.INIT.substitute(init=_py(config.init)))),
        Cell("markdown", templates.FORWARD_TEXT.substitute(activation=config.activation)),
        Cell(
            "code",
            _joined(
                code.take(activations.get_activation, network.forward, network.softmax_cross_entropy),
                templates.FORWARD.substitute(activation=_py(config.activation)),
            ),
        ),
        Cell("markdown", templates.BACKWARD_TEXT),
        Cell("code", code.take(network.backward)),
        Cell("markdown", templates.UPDATE_TEXT.substitute(optimizer_doc=OPTIMIZER_WORDS[config.optimizer], schedule=config.schedule)),
        Cell(
            "code",
            _joined(
                code.take(type(_optimizer(config)), optimizers.clip_grad_norm, schedules.Schedule),
                templates.UPDATE.substitute(optimizer=_optimizer_call(config), schedule=_py(config.schedule)),
            ),
        ),
        Cell("markdown", templates.BATCHES_TEXT),
        Cell("code", _joined(code.take(Batches), templates.BATCHES)),
        Cell("markdown", templates.TRAIN_TEXT),
        Cell(
            "code",
            _joined(
                code.take(
                    (trainer, "DIVERGENCE_FACTOR"), network.copy_params, network.predict_proba, metrics.accuracy, metrics.mean_cross_entropy
                ),
                templates.TRAIN,
            ),
        ),
        Cell("markdown", templates.EVALUATE_TEXT),
        Cell("code", _joined(code.take(metrics.confusion_matrix), templates.EVALUATE.substitute(recorded=_py(recipe.test_accuracy)))),
        Cell("markdown", templates.PLOT_TEXT, notebook_only=True),
        Cell("code", templates.PLOT, notebook_only=True),
    ]
    imports = code.imports() + DATA_IMPORTS + (["import argparse"] if for_script else [])
    return cells, _grouped(imports)


def _grouped(imports: list[str]) -> list[str]:
    """Import lines as ruff orders them: the standard library's, a blank line, then the others' (NumPy)."""

    def key(line: str) -> tuple:
        return (line.split()[1].split(".")[0] not in sys.stdlib_module_names, line.startswith("from"), line)

    ordered = sorted(set(imports), key=key)
    third_party = [line for line in ordered if key(line)[0]]
    return ordered[: len(ordered) - len(third_party)] + ([""] if third_party else []) + third_party


def _core_code(config: TrainConfig) -> CoreCode:
    """A copier of ScratchNet's source whose tables of choices keep only this run's activation and initialisation."""
    return CoreCode(
        kept={
            ("scratchnet.nn.activations", "ACTIVATIONS"): config.activation,
            ("scratchnet.nn.initializers", "INITIALIZERS"): config.init,
        }
    )


def _optimizer(config: TrainConfig):
    """The optimiser the trainer makes for ``config``."""
    return optimizers.make_optimizer(config.optimizer, config.lr, config.momentum, config.beta1, config.beta2, config.weight_decay)


def _optimizer_call(config: TrainConfig) -> str:
    """The call that makes the trainer's optimiser, e.g. ``SGD(lr=lr, momentum=momentum, nesterov=True, ...)``: each
    argument read back from the optimiser ``make_optimizer`` made, by the name of the setting it comes from."""
    made = _optimizer(config)
    arguments = []
    for name in inspect.signature(type(made)).parameters:
        value = getattr(made, name)
        from_setting = name in SETTINGS and getattr(config, name) == value
        arguments.append(f"{name}={name}" if from_setting else f"{name}={_py(value)}")
    return f"{type(made).__name__}({', '.join(arguments)})"


def _settings_lines(config: TrainConfig) -> list[str]:
    """``name = value  # label`` for each setting the code reads (the choices are in the code itself)."""
    unused = {"momentum", "beta1", "beta2"} - set(optimizers.OPTIMIZER_SETTINGS[config.optimizer])
    lines = []
    for name, setting in SETTINGS.items():
        if name in CHOICES or name in unused:
            continue
        value = getattr(config, name)
        text = f"np.{value}" if name == "dtype" else _py(value)
        lines.append(f"{name} = {text}  # {_setting_words(setting)}")
    return lines


def _setting_words(setting) -> str:
    """A comment for a setting: the first sentence of its help when short, else its label; and its unit."""
    first = setting.help.split(". ")[0].split(": ")[0].rstrip(".")
    words = first[0].lower() + first[1:] if len(first) <= MAX_COMMENT else setting.label.lower()
    return words + (f" ({setting.unit})" if setting.unit and setting.unit not in words else "")


def _joined(*blocks: str) -> str:
    return "\n\n\n".join(block for block in blocks if block)


def _first_line(function) -> str:
    """The first sentence of a function's docstring, for the text of a step."""
    return (function.__doc__ or "").strip().split("\n")[0].rstrip(".")


def _py(value) -> str:
    """``value`` as Python source: texts and lists in double quotes, as ruff writes them, numbers as Python does."""
    if isinstance(value, (str, list)):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


# ---- the three forms ---------------------------------------------------------------------------------------------


def _summary(recipe: Recipe) -> str:
    """The notebook's first text: what the run was, and what may keep the export from repeating its numbers."""
    caveats = "".join(f"\n\n**Note.** {caveat}" for caveat in recipe.caveats)
    return templates.TITLE.substitute(
        title=recipe.title, label=recipe.config.describe(), dataset=recipe.dataset_name, sizes=recipe.sizes, caveats=caveats
    )


def notebook_text(recipe: Recipe, folder: str) -> str:
    """The exported notebook, as the JSON of an ``.ipynb`` file (nbformat 4)."""
    import nbformat

    cells, imports = steps(recipe, folder, for_script=False)
    setup = templates.SETUP.substitute(imports="\n".join(imports))
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.cells = [nbformat.v4.new_markdown_cell(_summary(recipe)), nbformat.v4.new_code_cell(setup)]
    for cell in cells:
        make = nbformat.v4.new_markdown_cell if cell.kind == "markdown" else nbformat.v4.new_code_cell
        notebook.cells.append(make(cell.text))
    for number, cell in enumerate(notebook.cells):  # ids that stay the same from one export to the next
        cell.id = f"step-{number}"
    nbformat.validate(notebook)
    return nbformat.writes(notebook) + "\n"


def numpy_script_text(recipe: Recipe, file_name: str, folder: str) -> str:
    """The exported NumPy script: the notebook's cells as one file, its texts as comments."""
    cells, imports = steps(recipe, folder, for_script=True)
    header = templates.SCRIPT_HEADER.substitute(title=recipe.title, file=file_name, summary=_plain_summary(recipe))
    parts = [header + "\n\n" + templates.SETUP.substitute(imports="\n".join(imports))]
    parts += [_as_comment(cell.text) if cell.kind == "markdown" else cell.text for cell in cells if not cell.notebook_only]
    return "\n\n\n".join(parts) + "\n"


def _plain_summary(recipe: Recipe) -> str:
    """The notebook's first text without its title and markdown, for a script's docstring."""
    return _summary(recipe).split("\n", 2)[2].replace("**", "").strip()


def torch_script_text(recipe: Recipe, file_name: str, folder: str) -> str:
    """The exported PyTorch script."""
    config = recipe.config
    for table, choice in ((TORCH_ACTIVATIONS, config.activation), (TORCH_INITIALIZERS, config.init), (TORCH_OPTIMIZERS, config.optimizer)):
        if choice not in table:
            raise ExportError(f"{choice} has no PyTorch equivalent in this ScratchNet")
    code = _core_code(config)
    core = code.take((data, "FILE_NAMES"), data.spellings, data.to_inputs, schedules.Schedule, Batches)
    imports = _grouped(code.imports() + DATA_IMPORTS)
    settings = [f"class_names = {_py(recipe.class_names)}", f"image_shape = {_py(tuple(recipe.image_shape))}", *_settings_lines(config)]
    recorded = "" if recipe.test_accuracy is None else f" (ScratchNet: {recipe.test_accuracy:.2%})"
    return templates.TORCH_SCRIPT.substitute(
        title=recipe.title,
        file=file_name,
        summary=_plain_summary(recipe),
        description=f"{recipe.title} of ScratchNet, in PyTorch",
        imports="\n".join(imports),
        settings="\n".join(settings),
        core=core,
        read_idx=templates.READ_IDX,
        torch_activation=TORCH_ACTIVATIONS[config.activation],
        torch_init=TORCH_INITIALIZERS[config.init],
        torch_optimizer=TORCH_OPTIMIZERS[config.optimizer],
        init=config.init,
        optimizer=config.optimizer,
        schedule=_py(config.schedule),
        folder=_py(folder),
        weights=_py(None if recipe.weights is None else str(recipe.weights)),
        recorded_text=_py(recorded),
    )


def _as_comment(markdown: str) -> str:
    """A step's text as a comment block: its heading, then its paragraphs (without markdown's ``**`` and ``#``)."""
    paragraphs = [" ".join(paragraph.split()).lstrip("# ") for paragraph in markdown.replace("**", "").split("\n\n")]
    lines = [line for paragraph in paragraphs for line in [*textwrap.wrap(paragraph, COMMENT_WIDTH), ""]][:-1]
    return "\n".join(f"# {line}".rstrip() for line in lines)


def export_text(recipe: Recipe, kind: str, path: str | os.PathLike, data_dir: str | os.PathLike | None = None) -> str:
    """The text of the export of ``kind`` (see ``KINDS``) to be written at ``path``; ``data_dir``: the folder of the
    data the code loads by default."""
    folder = str(Path(data_dir).expanduser()) if data_dir else default_data_dir()
    name = Path(path).name
    if kind == "notebook":
        return notebook_text(recipe, folder)
    if kind == "script":
        return numpy_script_text(recipe, name, folder)
    if kind == "torch":
        return torch_script_text(recipe, name, folder)
    raise ExportError(f"unknown export {kind!r}; choose one of {', '.join(KINDS)}")


def write_export(recipe: Recipe, kind: str, path: str | os.PathLike, data_dir: str | os.PathLike | None = None) -> None:
    """Write the export of ``kind`` to ``path``, atomically: into an existing folder, never through a symbolic link,
    never over anything but a regular file."""
    text = export_text(recipe, kind, path, data_dir)
    path = Path(path)
    if problem := atomic.unsafe_target(path):
        raise ExportError(f"cannot write {path}: {problem}")
    try:
        atomic.atomic_write(path, text.encode())
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None


def default_data_dir() -> str:
    """The data folder an export loads by default: ``$SCRATCHNET_DATA_DIR``, else the cache when it holds MNIST,
    else "mnist" (a folder beside the exported file)."""
    try:
        folder = data.resolve_data_dir(None)
    except ScratchNetError:
        folder = None
    return str(folder) if folder is not None else DEFAULT_DATA_DIR
