"""Damage on purpose and doubt: the transforms, the robustness sweep, calibration, scribbles, and the CLI."""

import json
import math

import numpy as np
import pytest

from scratchnet.calibration import answered_at, calibrate, fit_temperature, reliability, risk_coverage, scaled_nll
from scratchnet.cli import main
from scratchnet.damage import DAMAGES, blur, gaussian_noise, occlusion, parse_damages, rotate, shift, thickness
from scratchnet.errors import ConfigError
from scratchnet.model import save_model
from scratchnet.preprocess import MNIST_DEFAULT
from scratchnet.robustness import read_damaged, sweep
from scratchnet.scribbles import FAMILIES, scribble_inputs, unsure_share

from .quick_models import quick_model


def strokes(n=5, shape=(28, 28), seed=0):
    """Images (n, H, W) in [0, 1] with a bar of ink across the middle, thick and centred."""
    images = np.zeros((n, *shape), np.float32)
    height, width = shape
    images[:, height // 2 - 1 : height // 2 + 2, width // 4 : 3 * width // 4] = 1.0
    images += np.random.default_rng(seed).uniform(0, 0.05, images.shape).astype(np.float32)
    return np.clip(images, 0, 1)


@pytest.mark.parametrize("shape", [(28, 28), (12, 12), (20, 33), (64, 48)])
@pytest.mark.parametrize("kind", list(DAMAGES))
def test_every_damage_keeps_shape_and_range_and_severity_zero_is_identity(kind, shape):
    images = strokes(4, shape)
    damage = DAMAGES[kind]
    assert np.array_equal(damage.transform(images, 0.0, np.random.default_rng(0)), images)
    for severity in damage.levels(shape):
        out = damage.transform(images, severity, np.random.default_rng(1))
        assert out.shape == images.shape and out.dtype == images.dtype
        assert out.min() >= 0 and out.max() <= 1.0 + 1e-6
        again = damage.transform(images, severity, np.random.default_rng(1))
        assert np.array_equal(out, again)  # deterministic given a seed
    assert len(damage.levels(shape)) == 6 and 0 in damage.levels(shape)


def test_rotation_by_90_degrees_moves_the_bar_upright_and_by_360_changes_nothing():
    images = strokes(1, (29, 29), seed=0)
    upright = rotate(images, 90.0)
    assert np.allclose(upright[0], np.rot90(images[0]), atol=1e-4)  # anticlockwise, as np.rot90
    assert np.allclose(rotate(images, 360.0), images, atol=1e-4)
    assert abs(rotate(images, 10.0).sum() - images.sum()) / images.sum() < 0.05


def test_effects_grow_with_severity():
    images = strokes(8)
    rng = np.random.default_rng
    bolder = [thickness(images, s).sum() for s in (0, 0.5, 1, 2, 3)]
    thinner = [thickness(images, -s).sum() for s in (0, 0.5, 1)]
    assert bolder == sorted(bolder) and len(set(bolder)) == 5
    assert thinner == sorted(thinner, reverse=True) and len(set(thinner)) == 3
    noise = [np.abs(gaussian_noise(images, s, rng(0)) - images).mean() for s in (0, 0.1, 0.3, 0.6)]
    assert noise == sorted(noise) and noise[0] == 0
    blurred = [blur(images, s).max() for s in (0, 0.5, 1, 2)]
    assert blurred == sorted(blurred, reverse=True)
    covered = [occlusion(images, s, rng(0)).sum() for s in (0, 4, 8, 14)]
    assert covered == sorted(covered, reverse=True) and covered[-1] < covered[0]
    moved = shift(images, 3, rng(0))
    assert moved.sum() == pytest.approx(images.sum(), rel=0.1) and not np.array_equal(moved, images)


def test_blur_keeps_the_ink_of_the_middle():
    images = np.zeros((1, 21, 21), np.float32)
    images[0, 10, 10] = 1.0
    out = blur(images, 1.5)
    assert out.sum() == pytest.approx(1.0, abs=1e-4)
    assert out[0, 10, 10] == out.max() and np.allclose(out[0], out[0].T, atol=1e-6)


def test_damage_specs_parse_and_refuse_cleanly():
    assert parse_damages("rotation=20, noise=0.3") == [("rotation", 20.0), ("noise", 0.3)]
    assert parse_damages("shift=4", (56, 56)) == [("shift", 4.0)]
    for bad in ("rot=2", "noise", "noise=x", "noise=inf", "rotation=200", "noise=-0.1", "shift=29", ""):
        with pytest.raises(ConfigError):
            parse_damages(bad, (28, 28))
    assert DAMAGES["shift"].limits((56, 56)) == (0.0, 56.0)  # pixel kinds scale with the image


def test_sweep_on_a_quick_model(fake_dataset):
    model = quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=3)
    images, labels = fake_dataset.test_images, fake_dataset.test_labels
    table = sweep(model, images, labels)
    clean = float((model.predict_images(images).argmax(axis=1) == labels).mean())
    assert set(table.accuracy) == set(DAMAGES) and table.count == len(images)
    for kind, accuracies in table.accuracy.items():
        assert len(accuracies) == 6 == len(table.severities[kind])
        assert accuracies[table.severities[kind].index(0)] == pytest.approx(clean)
        assert all(0 <= a <= 1 for a in accuracies)
    assert table.accuracy["noise"][-1] < clean and table.accuracy["rotation"][-1] < clean
    # One cell the same alone, on two workers, or in the whole table.
    alone = read_damaged(model, images, labels, "rotation", table.severities["rotation"][3])[0]
    assert alone == table.accuracy["rotation"][3]
    assert sweep(model, images, labels, kinds=["noise", "rotation"], workers=2).accuracy["rotation"] == table.accuracy["rotation"]
    assert json.loads(json.dumps(table.to_json()))["kinds"]["blur"]["unit"] == "px"


def test_a_stopped_sweep_returns_the_kinds_done(fake_dataset):
    import threading

    model = quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=3)
    stop = threading.Event()
    done = []
    table = sweep(
        model, fake_dataset.test_images, fake_dataset.test_labels, stop=stop, on_kind=lambda t, kind: (done.append(kind), stop.set())
    )
    assert list(table.accuracy) == done == ["noise"]


def test_risk_coverage_and_answered_at():
    confidence = np.array([0.99, 0.9, 0.8, 0.6, 0.4])
    correct = np.array([True, True, False, True, False])
    coverage, accuracy, threshold = risk_coverage(confidence, correct)
    assert np.allclose(coverage, [0.2, 0.4, 0.6, 0.8, 1.0])
    assert np.allclose(accuracy, [1, 1, 2 / 3, 3 / 4, 3 / 5])
    assert np.allclose(threshold, confidence)
    chosen = answered_at(confidence, correct, 0.8)
    assert (chosen.answered, chosen.right, chosen.coverage, chosen.accuracy) == (3, 2, 0.6, 2 / 3)
    assert "answers 60.0 % of images" in chosen.sentence(0.8)
    assert answered_at(confidence, correct, 1.0).accuracy is None


def test_a_perfectly_calibrated_set_has_an_ece_near_zero_and_an_overconfident_one_does_not():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.1, 1.0, 200_000)
    correct = rng.random(confidence.shape) < confidence  # right exactly as often as it is sure
    assert reliability(confidence, correct).ece < 0.005
    overconfident = reliability(np.minimum(confidence + 0.2, 1.0), correct)
    assert overconfident.ece > 0.1
    bins = reliability(confidence, correct)
    assert bins.counts.sum() == len(confidence) and math.isnan(bins.accuracy[0])  # nothing below 10 %


@pytest.mark.parametrize("true_temperature", [0.5, 1.0, 2.5])
def test_the_temperature_fit_recovers_a_known_temperature(true_temperature):
    rng = np.random.default_rng(1)
    base = rng.normal(0, 3, (20_000, 10))  # the true logits: labels drawn from softmax(base)
    p = np.exp(base - base.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    labels = (p.cumsum(axis=1) > rng.random((len(p), 1))).argmax(axis=1)
    logits = base * true_temperature  # a model that is overconfident (T > 1) or underconfident (T < 1)
    fitted = fit_temperature(logits, labels)
    assert fitted == pytest.approx(true_temperature, rel=0.05)
    assert scaled_nll(logits, labels, fitted) <= scaled_nll(logits, labels, 1.0) + 1e-9


def test_calibrate_a_quick_model(fake_dataset):
    model = quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=3)
    calibration = calibrate(model, fake_dataset)  # validation_size 0: fitted on half the test set
    assert "first half of the test set" in calibration.fitted_on
    assert calibration.before.counts.sum() == len(fake_dataset.test_images) - len(fake_dataset.test_images) // 2
    assert 0.05 <= calibration.temperature <= 20 and "→" in calibration.sentence()


def test_scribbles_are_no_digits_and_mostly_doubted_by_a_model_of_digits(fake_dataset):
    inputs, families = scribble_inputs(40, (12, 12), MNIST_DEFAULT)
    assert inputs.shape == (40, 144) and inputs.max() <= 1 and (inputs.sum(axis=1) > 0).all()
    assert sorted(set(families)) == list(range(len(FAMILIES)))
    model = quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=3)
    shares = unsure_share(model, inputs, families, threshold=1.0)
    assert shares["all"] == 1.0 and set(shares) == {*FAMILIES, "all"}
    assert unsure_share(model, inputs, families, threshold=0.0)["all"] == 0.0


def test_cli_evaluate_with_damage_and_robustness(fake_dataset, fake_data_dir, tmp_path, capsys):
    path = tmp_path / "m.safetensors"
    save_model(quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=3), path)
    data = ["--data-dir", str(fake_data_dir)]
    assert main(["evaluate", str(path), *data, "--json"]) == 0
    clean = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert main(["evaluate", str(path), *data, "--damage", "occlusion=8,noise=0.5", "--json"]) == 0
    damaged = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert damaged["accuracy"] < clean["accuracy"] and damaged["damage"][0] == {"kind": "occlusion", "severity": 8.0}
    assert main(["evaluate", str(path), *data, "--damage", "rotation=20"]) == 0
    assert "damaged: rotation +20°" in capsys.readouterr().out
    assert main(["evaluate", str(path), *data, "--robustness"]) == 0
    out = capsys.readouterr().out
    assert all(f"\n{kind} " in out for kind in DAMAGES) and "severity 5" in out
    assert main(["evaluate", str(path), *data, "--robustness", "--json"]) == 0
    table = json.loads(capsys.readouterr().out.splitlines()[-1])["robustness"]
    assert table["kinds"]["noise"]["accuracy"][0] == pytest.approx(clean["accuracy"])


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--damage", "spin=3"], "expected KIND=SEVERITY"),
        (["--damage", "noise=lots"], "noise needs a number"),
        (["--damage", "rotation=1e400"], "finite"),
        (["--damage", "shift=13"], "shift must be between 0 px and 12 px"),  # 12-px images
        (["--damage", "noise=0.1", "--robustness"], "not allowed with"),
        (["--seed", "x", "--robustness"], "expected a whole number"),
    ],
)
def test_cli_hostile_damage_arguments_give_one_line_errors(arguments, message, fake_dataset, fake_data_dir, tmp_path, capsys):
    path = tmp_path / "m.safetensors"
    save_model(quick_model(fake_dataset, train_images=600, hidden=(16,), epochs=3), path)
    try:
        status = main(["evaluate", str(path), "--data-dir", str(fake_data_dir), *arguments])
    except SystemExit as exit:  # argparse's own errors
        status = exit.code
    err = capsys.readouterr().err
    assert status == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
