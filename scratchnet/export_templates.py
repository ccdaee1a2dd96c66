"""The words and the glue code of an exported run (``export.py``): one template per step of the notebook, and the
PyTorch script. ``$name`` marks what ``export.py`` fills in (``string.Template``); the functions a step shows
are ScratchNet's own, copied from its source, and come after the step's text."""

from string import Template

TITLE = Template("""# $title: the run as a notebook

ScratchNet trained this network: **$label**, on $dataset ($sizes).
Every function below is ScratchNet's own code, copied from its source for this run's choices (nothing here
imports ScratchNet); each step says what it does. Run it from top to bottom. With the same data, the same
seed and one BLAS thread, the loss of every batch is the run's, to the last digit.$caveats""")

SETUP = Template("""from __future__ import annotations

import os

# One BLAS thread: a matrix product then adds its terms in the same order every time, which repeats the run's
# numbers exactly. (It must be set before NumPy starts; delete these lines to use every core.)
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

$imports""")

SETTINGS_TEXT = Template("""## The settings

The run's settings. The numbers are yours to change; the choices — activation **$activation**, initialisation
**$init**, optimiser **$optimizer**, schedule **$schedule** — are built into the code below (export another run
to see others).""")

DATA_DIR_NOTEBOOK = Template("data_dir = Path($folder)  # the folder holding the four IDX files")

DATA_DIR_SCRIPT = Template("""parser = argparse.ArgumentParser(description="$description")
parser.add_argument("--data-dir", default=$folder, help="the folder holding the four IDX files (default: %(default)s)")
data_dir = Path(parser.parse_args().data_dir)""")

DATA_TEXT = """## 1. Load the data

The four IDX files hold the training and test images and their labels. An IDX file is a small header — a zero,
the type of the numbers, how many dimensions, each size as a big-endian 32-bit number — then the pixels, one
byte each. `to_inputs` flattens each image into a row of numbers in [0, 1], and the last `validation_size`
training images are held out: each epoch ends by scoring them, images the network never trained on."""

READ_IDX = '''def read_idx(path: Path) -> np.ndarray:
    """An IDX file of bytes (gzip-compressed or not) as an array: (n, height, width) images or (n,) labels."""
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as file:
        data = file.read()
    zero, type_code, dimensions = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code != 0x08:
        raise ValueError(f"{path} is not an IDX file of bytes")
    shape = struct.unpack(f">{dimensions}I", data[4 : 4 + 4 * dimensions])
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dimensions).reshape(shape)


def find(folder: Path, name: str) -> Path:
    """The file of ``folder`` that holds the standard file ``name``, under any of its usual ``spellings``."""
    for spelling in spellings(name):
        if (folder / spelling).is_file():
            return folder / spelling
    raise FileNotFoundError(f"{folder} holds no {name}.gz (nor {name}): point data_dir to the folder of the four IDX files")'''

LOAD_DATA = """train_images, train_labels, test_images, test_labels = (read_idx(find(data_dir, name)) for name in FILE_NAMES)
train_labels, test_labels = train_labels.astype(np.int64), test_labels.astype(np.int64)
image_shape = train_images.shape[1:]
inputs = to_inputs(train_images, dtype)
split = len(inputs) - validation_size
train_x, train_y, val_x, val_y = inputs[:split], train_labels[:split], inputs[split:], train_labels[split:]
print(f"{len(train_x)} training, {len(val_x)} validation and {len(test_images)} test images of {image_shape[0]}×{image_shape[1]}")"""

INIT_TEXT = Template("""## 2. Initialise

`init_params` makes one weight matrix (fan_in, fan_out) and one bias vector per layer: the weights drawn with
**$init** — $init_doc — and the biases at zero. Every random number of the run comes from one generator
seeded with `seed`: first these weights, then each epoch's shuffle and the dropout masks (the augmentation has
a second generator, spawned from it).""")

INIT = Template("""rng = np.random.default_rng(seed)
layer_sizes = [train_x.shape[1], *hidden, len(class_names)]
params = init_params(layer_sizes, $init, rng, dtype)
print("layer sizes", layer_sizes, "-", sum(array.size for layer in params for array in layer.values()), "weights and biases")""")

FORWARD_TEXT = Template("""## 3. Forward

Each layer computes `x @ W + b`; the hidden layers then apply the activation, **$activation**. The last layer's
outputs (the logits) go to `softmax_cross_entropy`, which turns them into probabilities, the loss, and at once
the loss's gradient at the logits, (p − y) / n.""")

FORWARD = Template("""activation = get_activation($activation)
logits, _ = forward(params, train_x[:256], activation)
loss, _ = softmax_cross_entropy(logits, train_y[:256])
print(f"loss before training {loss:.4f}; a uniform guess would give log({len(class_names)}) = {math.log(len(class_names)):.4f}")""")

BACKWARD_TEXT = """## 4. Backward

Backpropagation carries the loss's gradient from the logits back to every weight and bias, one layer at a time,
by the chain rule: `dW = a.T @ delta`, `db = sum(delta)`, then `delta @ W.T` times the activation's derivative
for the layer before."""

UPDATE_TEXT = Template("""## 5. Update

$optimizer_doc The learning rate `lr` is scaled by the **$schedule** schedule, read at the middle of each step
(with `warmup_epochs` of linear warm-up first). Before each update, `clip_grad_norm` scales all the gradients
down together when their global norm is above `grad_clip` (0: never).""")

UPDATE = Template("""optimizer = $optimizer
schedule = Schedule($schedule, total_epochs=epochs, warmup_epochs=warmup_epochs, step_epochs=step_epochs, gamma=step_gamma)""")

BATCHES_TEXT = """## 6. Mini-batches

Each epoch takes the training images in a fresh random order, `batch_size` at a time. With augmentation on
(`Augmentation`), each image is varied afresh every epoch: moved by up to `augment_shift` pixels, its strokes
made up to `augment_thickness` pixels bolder or thinner, turned by up to `augment_rotate` degrees, and given
noise of strength `augment_noise` — a digit varied a little is still the same digit. (ScratchNet may make the
next batch on a second thread while one trains, `ahead`; here it stays off. The batches are the same either way.)"""

BATCHES = """batch_rows = min(batch_size or len(train_x), len(train_x))  # None: the whole training set at once
augment_rng = rng.spawn(1)[0]  # the augmentation's own generator
augmentation = Augmentation(augment_shift, augment_rotate, augment_thickness, augment_noise)
batches = Batches(train_x, train_y, image_shape, batch_rows, augmentation, augment_rng)
print(f"{len(batches)} batches of up to {batch_rows} images per epoch")"""

TRAIN_TEXT = """## 7. The training loop

For each epoch, a fresh shuffle; for each batch, a step: forward, loss, backward, update. Then the validation
images are scored. As in ScratchNet, a loss that explodes (not finite, or above `DIVERGENCE_FACTOR` times the
first batch's) ends the run on the weights of the start of that epoch; with `early_stopping`, the run ends after
that many epochs without a better validation loss, and keeps the weights of the best epoch."""

TRAIN = '''def train_step(x: np.ndarray, y: np.ndarray, step_lr: float) -> tuple[float, np.ndarray]:
    """One step of gradient descent on the batch (x, y), changing the weights in place: its loss and predictions."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow shows as a loss that is not finite
        logits, cache = forward(params, x, activation, dropout, rng)
        loss, dlogits = softmax_cross_entropy(logits, y)
        if math.isfinite(loss):
            grads, _ = backward(params, cache, dlogits, activation)
            if grad_clip:
                clip_grad_norm(grads, grad_clip)
            optimizer.lr = step_lr
            optimizer.step(params, grads)
    return loss, logits.argmax(axis=1)


def validate() -> tuple[float | None, float | None]:
    """The loss and accuracy on the validation images (None, None without any)."""
    if len(val_x) == 0:
        return None, None
    probabilities = predict_proba(params, val_x, activation)
    return mean_cross_entropy(probabilities, val_y), accuracy(probabilities, val_y)


batch_losses = []  # the loss of every batch, in order
loss_limit = None  # a batch loss above it means the run diverged (set by the first batch)
best_loss, best_epoch, best_params = math.inf, None, None  # the best validation loss so far, for early stopping
ending = f"completed {epochs} epochs"
for epoch in range(1, epochs + 1):
    order = rng.permutation(len(train_x)) if len(batches) > 1 else None
    start_of_epoch = copy_params(params)
    loss_sum = correct = seen = 0
    for batch, (x, y) in enumerate(batches.epoch(order), start=1):
        step_lr = lr * schedule.factor(epoch - 1 + (batch - 0.5) / len(batches))  # at the middle of this step
        loss, predicted = train_step(x, y, step_lr)
        batch_losses.append(loss)
        if loss_limit is None:
            loss_limit = DIVERGENCE_FACTOR * max(loss, math.log(len(class_names)))
        if not loss <= loss_limit:  # also true for NaN
            break
        loss_sum, correct, seen = loss_sum + loss * len(y), correct + int((predicted == y).sum()), seen + len(y)
    diverged = not loss <= loss_limit or not all(np.isfinite(array).all() for layer in params for array in layer.values())
    val_loss, val_accuracy = (None, None) if diverged else validate()
    if diverged or (val_loss is not None and not math.isfinite(val_loss)):
        params[:] = start_of_epoch
        ending = f"diverged in epoch {epoch}: back to the weights of its start (lower the learning rate, or clip the gradients)"
        break
    validation = "no validation" if val_loss is None else f"val loss {val_loss:.6f} acc {val_accuracy:.2%}"
    print(f"epoch {epoch:>3}/{epochs}  train loss {loss_sum / seen:.6f} acc {correct / seen:.2%}  {validation}  lr {step_lr:.2e}")
    if early_stopping and val_loss is not None:
        if val_loss < best_loss:
            best_loss, best_epoch, best_params = val_loss, epoch, copy_params(params)
        elif epoch - best_epoch >= early_stopping:
            params[:] = best_params
            ending = f"validation loss has not improved for {early_stopping} epochs: kept the weights of epoch {best_epoch}"
            break
else:
    if best_params is not None and best_epoch != epochs:
        params[:] = best_params
        ending = f"completed {epochs} epochs; kept the weights of the best one, epoch {best_epoch}"
print(ending)'''

EVALUATE_TEXT = """## 8. Evaluate

The test images, which played no part in training: the accuracy, and the confusion matrix — how many images of
each true class (rows) the network read as each class (columns)."""

EVALUATE = Template("""test_probabilities = predict_proba(params, to_inputs(test_images, dtype), activation)
test_accuracy = accuracy(test_probabilities, test_labels)
recorded_test_accuracy = $recorded  # what ScratchNet measured for this run (None: not recorded)
print(f"test accuracy {test_accuracy:.2%}" + ("" if recorded_test_accuracy is None else f" (ScratchNet: {recorded_test_accuracy:.2%})"))
confusion = confusion_matrix(test_labels, test_probabilities.argmax(axis=1), len(class_names))
width = max(5, *(len(name) for name in class_names))
print("\\n" + " " * width + "".join(f"{name:>{width + 1}}" for name in class_names))
for name, row in zip(class_names, confusion):
    print(f"{name:>{width}}" + "".join(f"{count:>{width + 1}}" for count in row))""")

PLOT_TEXT = """## The loss, batch by batch

(This cell needs matplotlib, which nothing else here does.)"""

PLOT = """try:
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed (pip install matplotlib): no plot")
else:
    plt.figure(figsize=(8, 3.5))
    plt.plot(np.arange(1, len(batch_losses) + 1) / len(batches), batch_losses, linewidth=0.6)
    plt.yscale("log")
    plt.xlabel("epochs")
    plt.ylabel("batch loss")
    plt.grid(alpha=0.3)
    plt.show()"""

SCRIPT_HEADER = Template('''"""$title as one NumPy script: ScratchNet's own code for this run, step by step.

    python $file --data-dir DIR

$summary
"""''')

TORCH_SCRIPT = Template('''"""$title in PyTorch: the network ScratchNet trained, as a torch.nn.Sequential, with its weights.

    python $file --data-dir DIR                 # the run's weights on the test set
    python $file --data-dir DIR --train         # the same recipe trained in PyTorch from fresh weights, then tested

$summary
ScratchNet's model files are safetensors laid out as torch's Sequential(Linear, activation, ..., Linear), so
load_state_dict takes them as they are. Trained here, the recipe is the same (settings, initialisation scheme,
optimiser, schedule, clipping, weight decay on the weights only, shifts, early stopping) but the random numbers
are torch's: expect about the same accuracy, not the same digits.
"""

from __future__ import annotations

import argparse
$imports

import torch
from safetensors.torch import load_file
from torch import nn

$settings

$core


$read_idx


def load_data(data_dir: Path) -> tuple[np.ndarray, ...]:
    """The training, validation and test inputs and labels of the four IDX files, split as ScratchNet splits them."""
    train_images, train_labels, test_images, test_labels = (read_idx(find(data_dir, name)) for name in FILE_NAMES)
    inputs = to_inputs(train_images, dtype)
    split = len(inputs) - validation_size
    train_labels, test_labels = train_labels.astype(np.int64), test_labels.astype(np.int64)
    return inputs[:split], train_labels[:split], inputs[split:], train_labels[split:], to_inputs(test_images, dtype), test_labels


def build_network(dropout: float = 0.0) -> nn.Sequential:
    """Linear layers with the activation between them, as ScratchNet's network. With ``dropout`` (to train), a
    Dropout follows each activation; the layers are then numbered otherwise than in the weights file."""
    sizes = [image_shape[0] * image_shape[1], *hidden, len(class_names)]
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        layers += [nn.Linear(fan_in, fan_out), $torch_activation] + ([nn.Dropout(dropout)] if dropout else [])
    layers.append(nn.Linear(sizes[-2], sizes[-1]))
    return nn.Sequential(*layers).to(getattr(torch, dtype.__name__))


def load_weights(path: str | Path) -> nn.Sequential:
    """The network with the weights of a ScratchNet model file."""
    network = build_network()
    network.load_state_dict(load_file(path))
    return network


def logits_of(network: nn.Sequential, x: np.ndarray) -> np.ndarray:
    """The network's outputs (n, classes) for inputs (n, features), without dropout."""
    network.eval()
    with torch.no_grad():
        return network(torch.from_numpy(x)).numpy()


def initialise(network: nn.Sequential) -> None:
    """Fresh weights drawn as the run drew them ($init), with torch's random numbers; biases at zero."""
    for layer in network:
        if isinstance(layer, nn.Linear):
            $torch_init
            nn.init.zeros_(layer.bias)


def make_optimizer(network: nn.Sequential) -> torch.optim.Optimizer:
    """The run's optimiser ($optimizer); weight decay shrinks the weights, never the biases (as in ScratchNet)."""
    weights = [parameter for name, parameter in network.named_parameters() if name.endswith("weight")]
    biases = [parameter for name, parameter in network.named_parameters() if name.endswith("bias")]
    groups = [{"params": weights, "weight_decay": weight_decay}, {"params": biases, "weight_decay": 0.0}]
    return $torch_optimizer


def train(network: nn.Sequential, train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray) -> None:
    """Train ``network`` with the run's recipe, printing each epoch; it ends with the weights the run would keep."""
    torch.manual_seed(seed)
    initialise(network)
    optimizer = make_optimizer(network)
    schedule = Schedule($schedule, total_epochs=epochs, warmup_epochs=warmup_epochs, step_epochs=step_epochs, gamma=step_gamma)
    rng = np.random.default_rng(seed)
    batch_rows = min(batch_size or len(train_x), len(train_x))
    augmentation = Augmentation(augment_shift, augment_rotate, augment_thickness, augment_noise)
    batches = Batches(train_x, train_y, image_shape, batch_rows, augmentation, rng.spawn(1)[0])
    best_loss, best_epoch, best_weights = math.inf, None, None
    for epoch in range(1, epochs + 1):
        network.train()
        order = rng.permutation(len(train_x)) if len(batches) > 1 else None
        loss_sum = seen = 0
        for batch, (x, y) in enumerate(batches.epoch(order), start=1):
            step_lr = lr * schedule.factor(epoch - 1 + (batch - 0.5) / len(batches))
            for group in optimizer.param_groups:
                group["lr"] = step_lr
            loss = nn.functional.cross_entropy(network(torch.from_numpy(x)), torch.from_numpy(y))
            optimizer.zero_grad()
            loss.backward()
            if grad_clip:
                nn.utils.clip_grad_norm_(network.parameters(), grad_clip)
            optimizer.step()
            loss_sum, seen = loss_sum + loss.item() * len(y), seen + len(y)
        validation = "no validation"
        if len(val_x):
            val_logits = torch.from_numpy(logits_of(network, val_x))
            val_loss = nn.functional.cross_entropy(val_logits, torch.from_numpy(val_y)).item()
            validation = f"val loss {val_loss:.4f} acc {np.mean(val_logits.argmax(1).numpy() == val_y):.2%}"
            if early_stopping and val_loss < best_loss:
                best_loss, best_epoch, best_weights = val_loss, epoch, {k: v.clone() for k, v in network.state_dict().items()}
        print(f"epoch {epoch:>3}/{epochs}  train loss {loss_sum / seen:.4f}  {validation}  lr {step_lr:.2e}")
        if best_epoch is not None and epoch - best_epoch >= early_stopping:
            break
    if best_weights is not None and best_epoch != epoch:
        network.load_state_dict(best_weights)
        print(f"kept the weights of the best epoch, {best_epoch}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="$description")
    parser.add_argument("--data-dir", default=$folder, help="the folder holding the four IDX files (default: %(default)s)")
    parser.add_argument("--weights", default=$weights, help="the ScratchNet model file to test (default: %(default)s)")
    parser.add_argument("--train", action="store_true", help="train the recipe in PyTorch from fresh weights instead")
    args = parser.parse_args(argv)
    train_x, train_y, val_x, val_y, test_x, test_y = load_data(Path(args.data_dir))
    if args.train:
        network = build_network(dropout)
        train(network, train_x, train_y, val_x, val_y)
    elif args.weights is None:
        parser.error("this export has no weights file: give --weights FILE, or --train")
    else:
        network = load_weights(args.weights)
    predicted = logits_of(network, test_x).argmax(axis=1)
    print(f"test accuracy {np.mean(predicted == test_y):.2%}" + $recorded_text)


if __name__ == "__main__":
    main()
''')
