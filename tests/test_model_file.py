"""Model files: round trip, interop with PyTorch and safetensors, and refusal of anything malformed."""

import dataclasses
import json
import os
import pickle
import re
import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchnet.cli import main
from scratchnet.config import TrainConfig
from scratchnet.data import load_dataset
from scratchnet.errors import ModelFileError
from scratchnet.model import Model, save_model
from scratchnet.model_file import FINGERPRINT, load_model, parse_model, probe_images
from scratchnet.nn.network import init_params
from scratchnet.trainer import Trainer, TrainingData

from .conftest import write_dataset
from .guards import deadline


def make_model(sizes=(784, 32, 16, 10), activation="tanh", dtype=np.float32) -> Model:
    params = init_params(list(sizes), "xavier", np.random.default_rng(0), dtype)
    for layer in params:
        layer["b"] += 0.1
    names = [str(i) for i in range(sizes[-1])]
    return Model(params, activation, names, (28, 28), "MNIST", {"lr": 0.1}, {"test_accuracy": 0.5})


def test_round_trip(tmp_path):
    model = make_model()
    path = tmp_path / "m.safetensors"
    save_model(model, path)
    loaded = load_model(path)
    assert loaded.layer_sizes == model.layer_sizes and loaded.activation == "tanh"
    assert loaded.class_names == model.class_names and loaded.config == {"lr": 0.1}
    x = np.random.default_rng(1).random((20, 784), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


@pytest.mark.parametrize("epochs_trained", [0, 2.5, None])
def test_the_epochs_behind_the_weights_are_saved_as_metrics_epochs(tmp_path, epochs_trained):
    model = dataclasses.replace(make_model(), epochs_trained=epochs_trained)
    data = model_bytes(tmp_path, model)
    recorded = []
    rewrite_metadata(data, lambda header, meta: recorded.append(meta["metrics"]))
    assert recorded[0].get("epochs", "absent") == ("absent" if epochs_trained is None else epochs_trained)  # as older files
    loaded = parse_model(data)
    assert loaded.epochs_trained == epochs_trained and loaded.metrics == {"test_accuracy": 0.5}


def test_float64_round_trip(tmp_path):
    model = make_model(dtype=np.float64)
    save_model(model, tmp_path / "m.safetensors")
    assert load_model(tmp_path / "m.safetensors").dtype == np.float64


def test_file_is_plain_safetensors_with_torch_names(tmp_path):
    from safetensors.numpy import load_file

    save_model(make_model(), tmp_path / "m.safetensors")
    tensors = load_file(tmp_path / "m.safetensors")
    assert sorted(tensors) == ["0.bias", "0.weight", "2.bias", "2.weight", "4.bias", "4.weight"]
    assert tensors["0.weight"].shape == (32, 784)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "gelu", "leaky_relu"])
def test_loads_into_torch_sequential_with_same_predictions(tmp_path, activation):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install '.[bench]')")
    from safetensors.torch import load_file

    model = make_model(activation=activation)
    save_model(model, tmp_path / "m.safetensors")
    act = {
        "tanh": torch.nn.Tanh,
        "relu": torch.nn.ReLU,
        "sigmoid": torch.nn.Sigmoid,
        "gelu": lambda: torch.nn.GELU(approximate="tanh"),
        "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
    }[activation]
    net = torch.nn.Sequential(torch.nn.Linear(784, 32), act(), torch.nn.Linear(32, 16), act(), torch.nn.Linear(16, 10))
    net.load_state_dict(load_file(tmp_path / "m.safetensors"))
    x = np.random.default_rng(2).random((50, 784), dtype=np.float32)
    with torch.no_grad():
        torch_probs = torch.softmax(net(torch.from_numpy(x)), dim=1).numpy()
    np.testing.assert_allclose(torch_probs, model.predict_proba(x), atol=1e-5)


def test_save_is_atomic_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    save_model(make_model(), path)
    before = path.read_bytes()
    import scratchnet.atomic as atomic

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(OSError):
        save_model(make_model(activation="relu"), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_malicious_pickle_renamed_is_refused(tmp_path):
    class Exploit:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(ModelFileError, match="not a safetensors model file"):
        load_model(path)


def model_bytes(tmp_path, model=None) -> bytes:
    save_model(model or make_model(), tmp_path / "m.safetensors")
    return (tmp_path / "m.safetensors").read_bytes()


def rewrite_metadata(data: bytes, change) -> bytes:
    """Re-pack a model file after ``change(header_dict, metadata_dict)`` edited its header."""
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    meta = json.loads(header["__metadata__"]["scratchnet"])
    change(header, meta)
    header["__metadata__"]["scratchnet"] = json.dumps(meta)
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data[8 + size :]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda h, m: m.update(layer_sizes=[784, 99, 16, 10]), "shape"),
        (lambda h, m: m.update(layer_sizes=[784, 10]), "tensors do not match"),
        (lambda h, m: m.update(activation="swish"), "unknown activation"),
        (lambda h, m: m.update(class_names=["a"]), "class_names must be 10"),
        (lambda h, m: m.update(format_version=99), "format version 99"),
        (lambda h, m: m.update(format="other"), "does not describe"),
        (lambda h, m: m["input"].update(image_shape=[20, 20]), "does not match the 784 inputs"),
        (lambda h, m: h.pop("2.bias"), "missing"),
        (lambda h, m: h["0.weight"].update(dtype="I64"), "only F32 and F64"),
        (lambda h, m: h["0.weight"].update(data_offsets=[0, 10**12]), "spans 1000000000000 bytes, but 25088 F32 values take 100352"),
        (lambda h, m: h["4.bias"].update(shape=[11]), "shape"),
    ],
)
def test_metadata_that_lies_is_refused(tmp_path, change, message):
    with pytest.raises(ModelFileError, match=message):
        parse_model(rewrite_metadata(model_bytes(tmp_path), change))


def test_non_finite_weights_are_refused(tmp_path):
    model = make_model()
    model.params[1]["W"][0, 0] = np.nan
    with pytest.raises(ModelFileError, match="NaN or infinite"):
        parse_model(model_bytes(tmp_path, model))


@pytest.mark.parametrize("cut", [0, 4, 8, 20, 200, -1])
def test_truncated_files_are_refused(tmp_path, cut):
    data = model_bytes(tmp_path)
    with pytest.raises(ModelFileError):
        parse_model(data[:cut])


def test_foreign_safetensors_file_is_refused(tmp_path):
    from safetensors.numpy import save_file

    save_file({"x": np.zeros(3, np.float32)}, tmp_path / "other.safetensors")
    with pytest.raises(ModelFileError, match="not a ScratchNet model"):
        load_model(tmp_path / "other.safetensors")


def test_unreadable_path(tmp_path):
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(tmp_path / "missing.safetensors")


# ---- hostile files: weights that overflow, odd metadata, special files, layouts safetensors forbids ----------


def scaled(model: Model, factor: float) -> Model:
    """The same model with every weight multiplied by ``factor`` (finite, but the sums may overflow)."""
    return dataclasses.replace(model, params=[{"W": layer["W"] * layer["W"].dtype.type(factor), "b": layer["b"]} for layer in model.params])


@pytest.mark.parametrize(
    "dtype, factor",
    [
        (np.float32, 1e38),  # the case: every weight finite, the sums not
        (np.float32, 1e20),  # a blank image, which exercises only the (zero) biases, would hide this one
        (np.float64, 1e160),
    ],
)
def test_weights_that_overflow_are_refused_without_warnings(tmp_path, dtype, factor):
    model = scaled(make_model(activation="relu", dtype=dtype), factor)
    for params in model.params:
        params["b"][:] = 0
    assert np.isfinite(model.predict_proba(np.zeros((1, 784), dtype))).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may leak out of the check
        with pytest.raises(ModelFileError, match="^m: the weights overflow: layer 2 of 3 computes infinite or NaN values for ordinary"):
            parse_model(model_bytes(tmp_path, model), "m")


@pytest.mark.parametrize("layer", [0, 2])
def test_the_layer_that_overflows_is_named(layer):
    model = make_model(activation="relu")
    model.params[layer]["W"][:] = np.float32(3e38)
    with pytest.raises(ModelFileError, match=f"layer {layer + 1} of 3"):
        model.checked_proba(np.ones((2, 784), np.float32), "these inputs")


def test_probe_images_are_ordinary_drawings():
    probes = probe_images((28, 28))
    assert probes.shape[1:] == (28, 28) and probes.min() == 0 and probes.max() == 1
    inked = probes.reshape(len(probes), -1).mean(axis=1)
    assert (inked == 0).sum() == 1 and ((inked > 0.05) & (inked < 0.6)).sum() >= 6  # one blank, mostly partly inked
    assert probe_images((2, 3)).shape[1:] == (2, 3)


def test_predict_test_set_refuses_weights_that_overflow_on_the_data(fake_dataset):
    model = make_model(sizes=(144, 8, 4), activation="relu")
    model.image_shape, model.class_names = (12, 12), list(fake_dataset.class_names)
    assert model.predict_test_set(fake_dataset).shape == (200, 4)
    with pytest.raises(
        ModelFileError, match="^the weights overflow: layer 2 of 2 computes infinite or NaN values for the test images of fake"
    ):
        scaled(model, 1e38).predict_test_set(fake_dataset)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m["metrics"].update(epochs="ten"), "metrics.epochs must be a number from 0 up or null; got 'ten'"),
        (lambda m: m["metrics"].update(epochs=-1), "metrics.epochs must be a number from 0 up"),
        (lambda m: m["metrics"].update(test_accuracy=1.5), "metrics.test_accuracy must be a number from 0 to 1 or null"),
        (lambda m: m["metrics"].update(test_accuracy=True), "metrics.test_accuracy must be a number"),
        (lambda m: m["metrics"].update(train_seconds=10**400), "metrics.train_seconds must be a number"),
        (lambda m: m["metrics"].update(anything=[1]), "metrics.anything must be a finite number or null"),
        (lambda m: m.update(metrics=[1, 2]), "metrics must be a JSON object or null"),
        (lambda m: m.update(config="fast"), "config must be a JSON object or null"),
        (lambda m: m.update(dataset=7), "dataset must be a string or null; got 7"),
        (lambda m: m.update(saved_at=["today"]), "saved_at must be a string"),
        (lambda m: m.update(dataset_fingerprint="md5:00"), 'dataset_fingerprint must be "sha256:" and 64 hex digits'),
        (lambda m: m["input"].update(scale=1.0), "input scale 1.0 is not supported"),
        (lambda m: m["input"].update(offset="0"), "input offset '0' is not supported"),
    ],
)
def test_metadata_of_the_wrong_type_is_refused_in_one_line(tmp_path, change, message):
    with pytest.raises(ModelFileError, match=re.escape(message)) as error:
        parse_model(rewrite_metadata(model_bytes(tmp_path), lambda h, m: change(m)), "m")
    assert "\n" not in str(error.value)


def test_null_and_missing_optional_metadata_are_accepted(tmp_path):
    def clear(header, meta):
        meta.update(dataset=None, dataset_fingerprint=None, config=None, metrics={"val_accuracy": None, "epochs": 3})
        del meta["saved_at"]

    model = parse_model(rewrite_metadata(model_bytes(tmp_path), clear))
    assert (model.dataset, model.dataset_fingerprint, model.config, model.metrics) == ("", None, {}, {"val_accuracy": None})
    assert model.epochs_trained == 3  # read from metrics.epochs


def test_special_files_are_refused_without_reading_them(tmp_path):
    fifo = tmp_path / "x.safetensors"
    os.mkfifo(fifo)
    with deadline(10, "opening a FIFO"):  # no writer ever comes: a blocking open would wait forever
        with pytest.raises(ModelFileError, match="x.safetensors: this is a pipe \\(FIFO\\), not a model file"):
            load_model(fifo)
        with pytest.raises(ModelFileError, match="/dev/zero: this is a device, not a model file"):
            load_model("/dev/zero")
        with pytest.raises(ModelFileError, match="this is a folder, not a model file"):
            load_model(tmp_path)


def test_huge_sparse_files_are_refused_without_reading_them(tmp_path):
    zeros, padded = tmp_path / "zeros.safetensors", tmp_path / "padded.safetensors"
    with open(zeros, "wb") as f:
        f.truncate(30 << 30)  # 30 GB of zeros, stored as nothing
    padded.write_bytes(model_bytes(tmp_path))
    with open(padded, "r+b") as f:
        f.truncate(30 << 30)  # a valid model followed by 30 GB of zeros
    with deadline(10, "refusing a 30 GB file"):
        with pytest.raises(ModelFileError, match="header is not JSON"):
            load_model(zeros)
        with pytest.raises(ModelFileError, match="bytes after the last tensor; the safetensors format forbids trailing data"):
            load_model(padded)


def test_weights_larger_than_the_memory_available_are_refused_before_reading(tmp_path, monkeypatch):
    import scratchnet.model_file

    monkeypatch.setattr(scratchnet.model_file, "available_bytes", lambda: 1000)
    with pytest.raises(ModelFileError, match="the weights take 99.4 KB, more than the 1000 B of memory available"):
        parse_model(model_bytes(tmp_path, make_model(sizes=(784, 32, 10))), "m")


def shift_offsets(header: dict, key: str, by: int) -> None:
    start, end = header[key]["data_offsets"]
    header[key]["data_offsets"] = [start + by, end + by]


def test_layouts_the_safetensors_format_forbids_are_refused(tmp_path):
    data = model_bytes(tmp_path)
    order = sorted((k for k in split_header(data)[0] if k != "__metadata__"), key=lambda k: split_header(data)[0][k]["data_offsets"])
    second = order[1]
    overlap = rewrite_metadata(data, lambda h, m: shift_offsets(h, second, -4))
    gap = rewrite_metadata(data, lambda h, m: [shift_offsets(h, key, 4) for key in order[1:]]) + b"\0" * 4
    cases = [
        (overlap, f"tensor {second} overlaps the tensor before it; the safetensors format forbids overlaps"),
        (gap, f"4 unused bytes before tensor {second}; the safetensors format forbids gaps"),
        (data + b"\0", "1 bytes after the last tensor; the safetensors format forbids trailing data"),
    ]
    for bad, message in cases:
        with pytest.raises(ModelFileError, match=re.escape(message)):
            parse_model(bad, "m")


def split_header(data: bytes) -> tuple[dict, bytes]:
    (size,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + size]), data[8 + size :]


# ---- the dataset a model learnt from ---------------------------------------------------------------------


def test_a_trained_model_records_its_dataset_and_warns_on_another(tmp_path, fake_dataset):
    trainer = Trainer(TrainConfig(hidden=[8], epochs=1, validation_size=100), TrainingData.from_dataset(fake_dataset, 100))
    trainer.run()
    save_model(trainer.model(), tmp_path / "m.safetensors")
    model = load_model(tmp_path / "m.safetensors")
    assert model.dataset == "fake" and model.dataset_fingerprint == fake_dataset.test_fingerprint
    assert model.dataset_mismatch(fake_dataset) is None

    other = load_dataset(write_dataset(tmp_path / "other", seed=1))  # same shape and classes, other images
    assert model.dataset_mismatch(other) == "the model learnt from another dataset (fake) than this one (other): their test sets differ"
    renamed = load_dataset(write_dataset(tmp_path / "renamed", seed=0, gz=False))  # the same data elsewhere, uncompressed
    assert model.dataset_mismatch(renamed) is None

    model.dataset_fingerprint = None  # a file saved before fingerprints: no grounds for a warning
    assert model.dataset_mismatch(other) is None
    model.class_names = ["a", "b", "c", "d"]
    assert model.dataset_mismatch(other) == "the model's classes are a, b, c, d but those of other are 0, 1, 2, 3"


def test_the_fingerprint_depends_on_the_test_images_and_labels_only(fake_dataset):
    fingerprint = fake_dataset.test_fingerprint
    assert FINGERPRINT.fullmatch(fingerprint)
    fake_dataset.train_images = fake_dataset.train_images[:10]
    assert fake_dataset.test_fingerprint == fingerprint
    fake_dataset.test_labels = fake_dataset.test_labels.copy()
    fake_dataset.test_labels[0] ^= 1
    assert fake_dataset.test_fingerprint != fingerprint


def test_model_for_another_dataset_is_refused():
    model = make_model()
    model.check_compatible((28, 28), [str(i) for i in range(10)])
    with pytest.raises(ModelFileError, match="10 classes.*dataset has 12×12 images and 4 classes"):
        model.check_compatible((12, 12), ["a", "b", "c", "d"])


def test_hidden_activations_are_each_layers_output():
    model = make_model(sizes=(784, 32, 16, 10), activation="tanh")
    x = np.random.default_rng(2).random((3, 784), dtype=np.float32)
    first, second = model.hidden_activations(x)
    (w1, b1), (w2, b2) = ((layer["W"], layer["b"]) for layer in model.params[:2])
    np.testing.assert_allclose(first, np.tanh(x @ w1 + b1), rtol=1e-5)
    np.testing.assert_allclose(second, np.tanh(first @ w2 + b2), rtol=1e-5)
    assert make_model(sizes=(784, 10)).hidden_activations(x) == []


# ---- the command line --------------------------------------------------------------------------------------


def trained_file(tmp_path, dataset, factor: float = 1.0) -> str:
    """A model trained for an epoch on ``dataset``, its weights times ``factor``, saved; returns the path."""
    trainer = Trainer(TrainConfig(hidden=[16], epochs=1, validation_size=100), TrainingData.from_dataset(dataset, 100))
    trainer.run()
    path = tmp_path / "model.safetensors"
    save_model(scaled(trainer.model(), factor), path)
    return str(path)


def test_evaluate_refuses_weights_that_overflow_in_one_line(tmp_path, fake_data_dir, capsys):
    path = trained_file(tmp_path, load_dataset(fake_data_dir), 1e38)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["evaluate", path, "--data-dir", str(fake_data_dir)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert re.fullmatch(
        r"scratchnet: error: model.safetensors: the weights overflow: layer \d of 2 computes infinite or NaN values [^\n]*\n", captured.err
    )


def test_evaluate_refuses_pipes_and_devices_in_one_line(tmp_path, fake_data_dir, capsys):
    os.mkfifo(tmp_path / "x.safetensors")
    with deadline(10, "evaluating a FIFO"):
        for path, kind in ((tmp_path / "x.safetensors", "a pipe (FIFO)"), ("/dev/zero", "a device")):
            assert main(["evaluate", str(path), "--data-dir", str(fake_data_dir)]) == 2
            assert capsys.readouterr().err == f"scratchnet: error: {path}: this is {kind}, not a model file\n"


def test_evaluate_warns_about_another_dataset_and_still_evaluates(tmp_path, fake_data_dir, capsys):
    path = trained_file(tmp_path, load_dataset(fake_data_dir))
    other = write_dataset(tmp_path / "other", seed=1)
    assert main(["evaluate", path, "--data-dir", str(other), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "scratchnet: warning: the model learnt from another dataset (fake) than this one (other): "
        "their test sets differ; evaluating anyway\n"
    )
    assert json.loads(captured.out.splitlines()[-1])["count"] == 200
    assert main(["evaluate", path, "--data-dir", str(fake_data_dir), "--json"]) == 0
    assert capsys.readouterr().err == ""  # the dataset it learnt from: no warning


def test_class_names_are_cut_as_a_datasets_and_too_many_classes_refused(tmp_path):
    from scratchnet.data import MAX_CLASS_NAME_LENGTH, MAX_CLASSES

    rng = np.random.default_rng(0)
    long_name = "\x1b[31m" + "a very long class name " * 1000
    model = Model(init_params([4, 3], "he", rng), "relu", [long_name, "b", "c"], image_shape=(2, 2))
    save_model(model, tmp_path / "long.safetensors")
    names = load_model(tmp_path / "long.safetensors").class_names
    assert len(names[0]) == MAX_CLASS_NAME_LENGTH and names[0].endswith("…") and "\x1b" not in names[0] and names[1:] == ["b", "c"]
    many = Model(init_params([4, MAX_CLASSES + 1], "he", rng), "relu", [str(k) for k in range(MAX_CLASSES + 1)], image_shape=(2, 2))
    save_model(many, tmp_path / "many.safetensors")
    with pytest.raises(ModelFileError, match=f"predicts 1,001 classes; ScratchNet takes at most {MAX_CLASSES:,}"):
        load_model(tmp_path / "many.safetensors")


# ---- edited copies: the edits listed in the file ---------------------------------------------------------------


def test_an_edited_copy_keeps_its_edits(tmp_path):
    from scratchnet.inspect.edits import Prune, ScaleIncoming, ShiftBias, SwitchOff, Temperature, UnitRef, WeightNoise

    edits = (
        SwitchOff(UnitRef(0, 31)),
        ScaleIncoming(UnitRef(1, 2), -0.5),
        ShiftBias(UnitRef(1, 15), 2.0),
        Prune(0.9),
        WeightNoise(0.2, 7),
        Temperature(3.0),
    )
    model = dataclasses.replace(make_model(), edits=edits)
    save_model(model, tmp_path / "edited.safetensors")
    assert load_model(tmp_path / "edited.safetensors").edits == edits
    assert "edits" not in split_header(model_bytes(tmp_path))[0]["__metadata__"]["scratchnet"]  # trained weights list none
    assert parse_model(model_bytes(tmp_path)).edits == ()


HOSTILE_EDITS = [
    (
        {"kind": "switch_off", "unit": {"layer": 2, "unit": 0}},
        "edit 1 is of unit 1 of hidden layer 3, which a 784-32-16-10 network does not have",
    ),
    ({"kind": "switch_off", "unit": {"layer": 1, "unit": 16}}, "does not have"),
    ({"kind": "shift_bias", "unit": {"layer": -1, "unit": 0}, "shift": 1.0}, "does not have"),
    ({"kind": "scale_incoming", "unit": {"layer": 0, "unit": 0}, "factor": 1e308}, "the factor must be"),
    ({"kind": "scale_incoming", "unit": {"layer": 0, "unit": 0}, "factor": 10**400}, "factor must be a finite number"),
    ({"kind": "prune", "fraction": "all"}, "fraction must be a finite number"),
    ({"kind": "weight_noise", "scale": 1.0, "seed": -1}, "the noise seed must be"),
    ({"kind": ["prune"]}, "not an edit"),
    ({"kind": "temperature"}, "t must be a finite number"),
    ("prune", "not an edit"),
    (None, "not an edit"),
]


@pytest.mark.parametrize("edit, message", HOSTILE_EDITS)
def test_hostile_edits_are_refused_in_one_line(tmp_path, edit, message):
    with pytest.raises(ModelFileError, match=re.escape(message)) as error:
        parse_model(rewrite_metadata(model_bytes(tmp_path), lambda h, m: m.update(edits=[edit])), "m")
    assert "\n" not in str(error.value) and str(error.value).startswith("m: ")


@pytest.mark.parametrize("edits", [{"kind": "prune"}, "prune", 7, [[[[]]]], [{"kind": "prune", "fraction": 0.1}] * 10_001])
def test_edits_that_are_no_list_of_edits_are_refused(tmp_path, edits):
    with pytest.raises(ModelFileError):
        parse_model(rewrite_metadata(model_bytes(tmp_path), lambda h, m: m.update(edits=edits)), "m")


def test_null_edits_are_none(tmp_path):
    assert parse_model(rewrite_metadata(model_bytes(tmp_path), lambda h, m: m.update(edits=None))).edits == ()


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["prune", "switch_off", "temperature", "shift_bias"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["kind", "unit", "layer", "fraction", "t", "shift", "seed", "scale", "factor"]), children, max_size=5
        )
    ),
    max_leaves=16,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(_json, max_size=5) | _json)
def test_any_json_as_edits_loads_or_is_refused_in_one_line(tmp_path, edits):
    data = model_bytes(tmp_path)
    try:
        model = parse_model(rewrite_metadata(data, lambda h, m: m.update(edits=edits)), "m")
    except ModelFileError as error:
        assert str(error).startswith("m: ") and "\n" not in str(error) and len(str(error)) < 600
    else:
        assert all(not hasattr(edit, "unit") or edit.unit.exists_in(model.params) for edit in model.edits)
