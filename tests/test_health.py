"""Health signals and hints: what each signal counts, that training measures them from its own step, that the
store keeps them, and that each hint fires on the real MNIST run it is about (short versions; the long
confirmations, the default preset over five seeds among them, are benchmarks/bench_hints.py's)."""

import dataclasses
import json
import math

import numpy as np
import pytest

from scratchnet.cli import main
from scratchnet.compare_steps import CHANGES, gains_table, steps_plan
from scratchnet.config import TrainConfig
from scratchnet.health import HealthHistory, HealthProbe, every_how_many
from scratchnet.hints import apply_fix
from scratchnet.nn.activations import get_activation
from scratchnet.nn.network import Cache, backward, forward, init_params, softmax_cross_entropy
from scratchnet.presets import load_preset
from scratchnet.runs import RunStore, train_and_record
from scratchnet.trainer import Trainer, TrainingData

# ---- what each signal counts ---------------------------------------------------------------------------


def probe_of(activation: str, z: np.ndarray) -> HealthProbe:
    """A probe of one hidden layer whose pre-activations are ``z`` (n, units)."""
    a = get_activation(activation).value(z)
    cache = Cache(inputs=[], pre_activations=[z], activations=[a], dropout_masks=[None])
    params = [{"W": np.ones((2, 2)), "b": np.zeros(2)}]
    return HealthProbe(activation, 2.3, cache, [{"W": np.zeros((2, 2)), "b": np.zeros(2)}], params)


def test_a_dead_unit_is_one_never_active_on_the_batch():
    z = np.array([[-1.0, 2.0, -0.5, -4.0], [-2.0, -1.0, 0.0, -3.5]])  # units 0, 2 and 3 never positive
    assert probe_of("relu", z).dead == [0.75] and probe_of("leaky_relu", z).dead == [0.75]
    assert probe_of("gelu", z).dead == [0.25]  # GELU: only z < -3 everywhere (unit 3)
    assert probe_of("tanh", z).dead == [None] and probe_of("relu", z).saturated == [None]


def test_saturated_outputs_are_those_on_the_flat_tails():
    z = np.array([[3.0, 0.1], [-2.5, 2.0]])  # tanh: 0.995, 0.1, -0.987, 0.964
    assert probe_of("tanh", z).saturated == [0.5]
    sigmoid_z = np.array([[5.0, 0.1], [-4.5, 3.0]])  # sigmoid: 0.9933, 0.525, 0.011, 0.953
    assert probe_of("sigmoid", sigmoid_z).saturated == [0.5]


def test_the_update_ratio_is_the_steps_size_against_the_weights():
    rng = np.random.default_rng(0)
    params = init_params([6, 4, 3], "he", rng, np.float64)
    x, y = rng.random((8, 6)), rng.integers(0, 3, 8)
    relu = get_activation("relu")
    logits, cache = forward(params, x, relu)
    loss, dlogits = softmax_cross_entropy(logits, y)
    grads, _ = backward(params, cache, dlogits, relu)
    probe = HealthProbe("relu", loss, cache, grads, params)
    for layer, grad in zip(params, grads):
        layer["W"] -= 0.1 * grad["W"]
        layer["b"] -= 0.1 * grad["b"]
    sample = probe.after_step(params)
    for (w, b), grad, ratio, norm in zip(probe.before, grads, sample.update_ratio, sample.grad_norm):
        assert norm == pytest.approx(math.sqrt((grad["W"] ** 2).sum() + (grad["b"] ** 2).sum()))
        assert ratio == pytest.approx(math.log10(0.1 * norm / math.sqrt((w**2).sum() + (b**2).sum())))
    assert sample.loss == loss and sample.mean == [pytest.approx(cache.activations[0].mean())]


def test_training_measures_its_own_steps_every_few_batches(fake_dataset):
    events = []
    config = TrainConfig(hidden=[8], epochs=2, batch_size=16, grad_clip=1e-6, validation_size=100)
    data = TrainingData.from_dataset(fake_dataset, 100)
    Trainer(config, data, on_batch=events.append).run()
    measured = [event for event in events if event.health is not None]
    every = every_how_many(events[0].batches)
    assert every == 1 and len(measured) == len(events)  # 32 batches an epoch: every batch (20 a epoch at most)
    first = measured[0].health
    assert first.loss == events[0].loss and len(first.mean) == 1 and len(first.grad_norm) == 2
    assert sum(first.grad_norm) > 1e-3  # the gradient before clipping to 1e-6
    assert every_how_many(215) == 10 and every_how_many(1) == 1


# ---- the run store keeps them --------------------------------------------------------------------------


def test_the_store_keeps_every_sample_of_a_run(fake_dataset):
    store = RunStore()
    config = TrainConfig(hidden=[8, 8], activation="tanh", epochs=2, batch_size=16, validation_size=100)
    outcome = train_and_record(config, fake_dataset, store, print)
    back = store.health(outcome.run_id)
    assert back.classes == fake_dataset.num_classes and back.at == outcome.health.at
    assert back.samples == outcome.health.samples and len(back.samples[0].saturated) == 2
    store.delete([outcome.run_id])
    store.purge([outcome.run_id])
    assert store._read("SELECT count(*) FROM health") == [(0,)]


def test_a_run_recorded_before_health_was_kept_has_none(fake_dataset):
    from .test_runs import recorded_run

    store = RunStore()
    assert store.health(recorded_run(store)).samples == []


# ---- each hint on the real MNIST run it is about ----------------------------------------------------------


def subset(mnist, train_images: int, validation: int = 2000):
    """MNIST with only ``train_images`` training images and ``validation`` validation ones after them."""
    keep = train_images + validation
    return dataclasses.replace(mnist, train_images=mnist.train_images[-keep:], train_labels=mnist.train_labels[-keep:])


def keys(outcome) -> set[str]:
    return {hint.key for hint in outcome.hints}


def test_the_notebook_recipe_is_told_of_saturated_units_and_its_fix_cures_them(mnist):
    notebook, _ = load_preset("notebook")
    config = notebook.replace(epochs=3, validation_size=2000)
    data = subset(mnist, 3000)
    before = train_and_record(config, data, None, print)
    assert {"saturated", "initial_loss"} <= keys(before)
    assert before.health.recent("saturated", 0) >= 0.75 and before.health.initial_loss > 4 * math.log(10)
    saturated = next(hint for hint in before.hints if hint.key == "saturated")
    assert "hidden layer 1's" in saturated.seen and saturated.fix == {"init": "xavier"}
    after = train_and_record(apply_fix(config, saturated), data, None, print)
    assert after.health.recent("saturated", 0) < 0.10 and after.test_accuracy > before.test_accuracy
    assert not {"saturated", "initial_loss"} & keys(after)


def test_lr_5_without_clipping_is_told_of_dead_units_and_its_fix_learns(mnist):
    default, _ = load_preset("default")
    config = default.replace(lr=5.0, grad_clip=0.0, epochs=1, validation_size=2000)
    data = subset(mnist, 20000)  # (fewer images: a shorter warm-up, and the loss explodes instead)
    before = train_and_record(config, data, None, print)
    assert {"dead", "not_learning"} <= keys(before) and before.test_accuracy < 0.2
    after = train_and_record(apply_fix(config, before.hints[0]), data, None, print)
    assert after.test_accuracy > 0.9 and not keys(after)


def test_a_thousand_images_for_50_epochs_is_told_of_overfitting_and_its_fix_narrows_the_gap(mnist):
    config = TrainConfig(epochs=50, validation_size=2000)
    data = subset(mnist, 1000)
    before = train_and_record(config, data, None, print)
    assert keys(before) == {"overfitting"}
    after = train_and_record(apply_fix(config, before.hints[0]), data, None, print)

    def gap(outcome):
        return outcome.history[-1].train_accuracy - outcome.history[-1].val_accuracy

    assert gap(after) < gap(before)


def test_a_short_default_run_gets_no_hint(mnist):
    outcome = train_and_record(TrainConfig(epochs=2, validation_size=2000), subset(mnist, 20000), None, print)
    assert outcome.hints == [] and outcome.test_accuracy > 0.95


# ---- the command line --------------------------------------------------------------------------------------


def test_train_prints_the_hints_and_json_lists_them(fake_data_dir, capsys):
    wild = ["--lr", "5", "--grad-clip", "0", "--epochs", "2", "--hidden", "16", "--validation-size", "100", "--no-record"]
    main(["train", "--data-dir", str(fake_data_dir), "--activation", "tanh", "--init", "randn", *wild, "--json"])
    hints = json.loads(capsys.readouterr().out.splitlines()[-1])["hints"]
    assert "saturated" in {hint["key"] for hint in hints}
    assert all(set(hint) >= {"seen", "cause", "fix", "fix_label"} for hint in hints)
    main(["train", "--data-dir", str(fake_data_dir), "--activation", "tanh", "--init", "randn", *wild])
    out = capsys.readouterr().out
    assert "hint: " in out and "--init xavier" in out


def test_the_steps_go_from_the_notebook_recipe_to_the_default_preset_one_change_at_a_time():
    steps = steps_plan(epochs=4)
    assert len(steps) == len(CHANGES) + 1 and steps[-1].config == TrainConfig(epochs=4)
    notebook, _ = load_preset("notebook")
    assert (steps[0].config.init, steps[0].config.activation, steps[0].config.batch_size) == (notebook.init, notebook.activation, None)
    for before, after in zip(steps, steps[1:]):
        changed = {name for name, value in after.config.to_dict().items() if before.config.to_dict()[name] != value}
        assert changed and changed <= {
            "init",
            "activation",
            "batch_size",
            "optimizer",
            "lr",
            "grad_clip",
            "schedule",
            "warmup_epochs",
            "augment_shift",
        }


def test_compare_steps_trains_each_step_and_tables_the_gains(fake_data_dir, capsys):
    assert main(["compare-steps", "--data-dir", str(fake_data_dir), "--epochs", "1", "--validation-size", "100", "--json"]) == 0
    steps = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert [step["step"] for step in steps] == [step.name for step in steps_plan(1)]
    assert all(step["run_id"] is not None and 0 <= step["test_accuracy"] <= 1 for step in steps)
    assert RunStore().runs()[0].id == steps[-1]["run_id"]


def test_the_gains_are_each_steps_test_accuracy_against_the_step_before():
    from scratchnet.compare_steps import StepResult

    plan = steps_plan(1)
    rows = gains_table([StepResult(plan[0], 0.1, 0.2, 1.0), StepResult(plan[1], None, None, 1.0), StepResult(plan[2], 0.5, 0.5, 2.0)])
    assert [row[3] for row in rows] == ["", "", "+30.0 pt"] and rows[1][2] == "–"


def test_a_history_series_leaves_out_the_samples_without_the_signal():
    history = HealthHistory(10)
    probe = probe_of("relu", np.array([[1.0, -1.0]]))
    history.add(0.0, probe.after_step([{"W": np.ones((2, 2)), "b": np.zeros(2)}]))
    assert history.series("saturated", 0)[0].size == 0 and history.series("dead", 0)[1].tolist() == [0.5]
    assert history.recent("dead", 0) == 0.5 and history.recent("saturated", 0) is None
