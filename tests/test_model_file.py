"""Model files: round trip, interop with PyTorch and safetensors, and refusal of anything malformed."""

import json
import pickle
import struct

import numpy as np
import pytest

from scratchnet.errors import ModelFileError
from scratchnet.model import Model, load_model, parse_model, save_model
from scratchnet.network import init_params


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
        (lambda h, m: h["0.weight"].update(data_offsets=[0, 10**12]), "outside the file"),
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
