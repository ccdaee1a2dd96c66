"""Figures of the "One example" tab on real MNIST (run by hand, not in CI), issue 20:

(a) the numbers of one example, forward and backward (``explain_example``): median and p95;
(b) one step on a copy (``take_step``);
(c) the view redrawing them (every table and picture, offscreen), as after a new input;
(d) every gradient the view shows against central finite differences in float64: the worst relative error
    (the issue's goal: < 1e-5; a test checks it on small networks, this on the real one).

    python benchmarks/bench_arithmetic.py [--data-dir DIR] [--model FILE.safetensors] [--repeats 200]

Without ``--model`` a 784-128-128-10 network is trained for one epoch first (a few seconds).
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtWidgets import QApplication
from timing import timings_ms  # benchmarks/timing.py, beside this script

from scratchnet.config import TrainConfig
from scratchnet.data import load_dataset, locate_or_download, to_inputs
from scratchnet.inspect.arithmetic import explain_example, take_step
from scratchnet.model_file import load_model
from scratchnet.nn.activations import get_activation
from scratchnet.nn.network import forward, log_softmax
from scratchnet.trainer import Trainer, TrainingData
from scratchnet_gui.arithmetic_view import ArithmeticView
from scratchnet_gui.session import NetworkInput

H = 1e-5  # the step of the central differences (as in tests/test_arithmetic.py)
FLOOR = 1e-5  # gradients smaller than this are held to an absolute error of FLOOR × 1e-5


def summary(times: np.ndarray) -> str:
    return f"median {np.median(times):7.3f} ms   p95 {np.percentile(times, 95):7.3f} ms"


def worst_relative_error(params, activation, x: np.ndarray, label: int) -> tuple[float, int]:
    """The worst relative error of the gradients shown (every δ, every weight gradient of the path's units) against
    central differences of the loss, all in float64; and how many gradients were checked."""
    params = [{name: array.astype(np.float64) for name, array in layer.items()} for layer in params]
    x = x.reshape(-1).astype(np.float64)
    example = explain_example(params, activation, x, label)

    def loss() -> float:
        logits, _ = forward(params, x[None], activation)
        return -float(log_softmax(logits)[0, label])

    def difference(array: np.ndarray, index) -> float:
        original = array[index]
        array[index] = original + H
        plus = loss()
        array[index] = original - H
        minus = loss()
        array[index] = original
        return (plus - minus) / (2 * H)

    worst, checked = 0.0, 0
    for shown in example.backward:
        pairs = [(shown.delta, params[shown.layer]["b"], shown.unit)]
        pairs += [(shown.weight_gradient[i], params[shown.layer]["W"], (i, shown.unit)) for i in range(len(shown.weight_gradient))]
        for value, array, index in pairs:
            numerical = difference(array, index)
            worst = max(worst, abs(value - numerical) / max(abs(value), abs(numerical), FLOOR))
            checked += 1
    return worst, checked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    app = QApplication([])
    dataset = load_dataset(locate_or_download(args.data_dir))
    if args.model:
        model = load_model(args.model)
    else:
        config = TrainConfig(hidden=[128, 128], epochs=1, optimizer="adam", lr=0.002, batch_size=128)
        trainer = Trainer(config, TrainingData.from_dataset(dataset, config.validation_size))
        trainer.run()
        model = trainer.model()
    activation = get_activation(model.activation)
    sizes = "-".join(str(size) for size in model.layer_sizes)
    print(f"model {sizes} {model.activation} ({model.dtype}), {os.cpu_count()} cores")
    index = 0
    image = dataset.test_images[index]
    pixels = to_inputs(image[None]).reshape(image.shape)
    label = int(dataset.test_labels[index])

    times = timings_ms(lambda: explain_example(model.params, activation, pixels, label), args.repeats)
    print(f"(a) the numbers of one example, forward and backward:  {summary(times)}")
    example = explain_example(model.params, activation, pixels, label)
    times = timings_ms(lambda: take_step(model.params, activation, example, 0.1), args.repeats)
    print(f"(b) one step on a copy of the weights:                  {summary(times)}")

    view = ArithmeticView()
    view.resize(700, 700)
    view.show()
    view.set_model(model)
    view.set_input(NetworkInput(pixels, f"test image #{index}", label, image))
    app.processEvents()
    times = timings_ms(view.refresh, max(args.repeats // 10, 10))
    print(f"(c) the view redrawing every number of the example:     {summary(times)}")

    worst, checked = worst_relative_error(model.params, activation, pixels, label)
    print(f"(d) {checked} gradients shown vs central differences (float64): worst relative error {worst:.2e} (goal < 1e-5)")


if __name__ == "__main__":
    main()
