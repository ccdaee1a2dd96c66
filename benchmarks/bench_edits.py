"""Speed of an edit of the network on real MNIST (run by hand, not in CI), against the goal of issue 20: an edit →
test accuracy, per-class table and the pad's prediction updated, all 10 000 test images, ≤ 50 ms median.

    SCRATCHNET_DATA_DIR=/work/shared/data/mnist python benchmarks/bench_edits.py [--model FILE] [--repeats 40]

Without ``--model`` a 784-128-128-10 ReLU network is trained for one epoch first. For each kind of edit it times:

- core: ``EditEvaluator.effect`` alone (the test set scored from the first edited layer up);
- app: ``session.edit_network(edit)`` with the Edits tab on screen (offscreen Qt), the drawing pad and the
  confusion matrix following the session, and a test image as the current input: the edit applied to a copy,
  the test set scored, the Edits tab's accuracy, table of classes, changed images and the input's answer
  before → after shown and repainted, the answers handed to the confusion matrix; then the pad's own
  re-prediction of its input (``DrawPad.predict``), as when it is next shown.

Every edit starts from the trained weights (the edits are reset, untimed, before each). Quiet, then with one
other core busy (``busy.one_core_busy``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from busy import one_core_busy  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from scratchnet.config import TrainConfig  # noqa: E402
from scratchnet.data import load_dataset, locate_or_download, to_inputs  # noqa: E402
from scratchnet.inspect.edit_effects import EditEvaluator  # noqa: E402
from scratchnet.inspect.edits import Prune, ScaleIncoming, ShiftBias, SwitchOff, Temperature, UnitRef, WeightNoise, apply_edits  # noqa: E402
from scratchnet.model_file import load_model  # noqa: E402
from scratchnet.nn.activations import get_activation  # noqa: E402
from scratchnet.trainer import Trainer, TrainingData  # noqa: E402
from scratchnet_gui.confusion_view import ConfusionView  # noqa: E402
from scratchnet_gui.draw_pad import DrawPad  # noqa: E402
from scratchnet_gui.edit_panel import EditPanel  # noqa: E402
from scratchnet_gui.session import Session  # noqa: E402

GOAL_MS = 50.0


def edits_of_each_kind(width: int, repeat: int) -> dict[str, list]:
    """``repeat`` edits of each kind, each a little different (another unit, another share)."""
    units = [k % width for k in range(repeat)]
    return {
        "switch off a unit of layer 1": [SwitchOff(UnitRef(0, k)) for k in units],
        "scale a unit's incoming, layer 1": [ScaleIncoming(UnitRef(0, k), 0.5) for k in units],
        "shift a unit's bias, layer 2": [ShiftBias(UnitRef(1, k), 1.0) for k in units],
        "prune x % of the weights": [Prune(0.5 + 0.45 * k / repeat) for k in range(repeat)],
        "weight noise": [WeightNoise(0.1 + k / repeat, seed=k) for k in range(repeat)],
        "softmax temperature": [Temperature(1.5 + k / repeat) for k in range(repeat)],
    }


def median_ms(times: list[float]) -> str:
    values = 1000 * np.array(times)
    return f"median {np.median(values):6.1f} ms  p90 {np.percentile(values, 90):6.1f} ms"


def bench(session: Session, editing: EditPanel, pad: DrawPad, evaluator: EditEvaluator, repeat: int) -> None:
    app = QApplication.instance()
    trained = session.model
    for kind, edits in edits_of_each_kind(trained.layer_sizes[1], repeat).items():
        core, whole, pad_times = [], [], []
        for edit in edits:
            edited = apply_edits(trained.params, [edit])
            start = time.perf_counter()
            evaluator.effect(edited)
            core.append(time.perf_counter() - start)
            session.reset_edits()
            app.processEvents()
            start = time.perf_counter()
            session.edit_network(edit)
            editing.repaint()
            whole.append(time.perf_counter() - start)
            start = time.perf_counter()
            pad.predict()
            pad_times.append(time.perf_counter() - start)
        total = np.median(whole) + np.median(pad_times)
        verdict = "meets" if 1000 * total <= GOAL_MS else "MISSES"
        print(f"  {kind:34s} core {median_ms(core)} | app {median_ms(whole)} + pad {1000 * np.median(pad_times):4.1f} ms "
              f"= {1000 * total:5.1f} ms: {verdict} the {GOAL_MS:g} ms goal")  # fmt: skip
    session.reset_edits()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--model", default=None, help="a saved model; default: train one epoch first")
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    dataset = load_dataset(locate_or_download(args.data_dir))
    if args.model:
        model = load_model(args.model)
    else:
        config = TrainConfig(hidden=[128, 128], epochs=1, optimizer="adam", lr=0.002)
        trainer = Trainer(config, TrainingData.from_dataset(dataset, config.validation_size))
        trainer.run()
        model = trainer.model()
    session = Session()
    session.set_dataset(dataset)
    editing, pad, confusion = EditPanel(), DrawPad(), ConfusionView()
    for panel in (editing, pad, confusion):
        panel.follow(session)
    session.open_model(model)
    session.open_test_image(int(np.flatnonzero(dataset.test_labels == 7)[0]))
    editing.resize(700, 560)
    editing.show()
    app.processEvents()
    start = time.perf_counter()
    session.edit_network(Temperature(2.0))  # the first edit also keeps the trained layers over the test set
    first = 1000 * (time.perf_counter() - start)
    print(f"model {model.layer_sizes} {model.activation}; first edit (keeps every layer's values): {first:.0f} ms")
    inputs = to_inputs(dataset.test_images)
    evaluator = EditEvaluator(model.params, get_activation(model.activation), inputs, dataset.test_labels, dataset.class_names)
    for busy in (False, True):
        print(f"\n{'one other core busy' if busy else 'quiet'} ({os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}):")
        with one_core_busy(busy):
            bench(session, editing, pad, evaluator, args.repeats)
    session.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
