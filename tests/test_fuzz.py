"""Fuzzed readers: whatever bytes the IDX reader, the dataset loader or the model loader get, they either
return something valid or raise the project's own error (DataError / ModelFileError) — never another
exception, never a hang, never an allocation the file cannot back.

Each property runs twice: a fast subset in the normal suite and the full count under ``-m slow``.
Examples are derandomized (the same inputs on every run) and no example database is kept, so CI is
reproducible. Every input is counted; the counts are printed at the end of the module.
"""

from __future__ import annotations

import gzip
import json
import math
import struct
import tracemalloc
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchnet.data import FILE_NAMES, load_dataset
from scratchnet.errors import DataError, ModelFileError, ScratchNetError
from scratchnet.idx import IDX_TYPES, MAX_BYTES, read_idx, write_idx
from scratchnet.model import Model, save_model
from scratchnet.model_file import load_model, parse_model
from scratchnet.nn.activations import ACTIVATIONS
from scratchnet.nn.network import init_params
from tests.guards import deadline

FAST, FULL = 40, 1000  # hypothesis examples per property: normal suite / slow suite
PER_EXAMPLE_SECONDS = 10  # any single input taking longer than this is a hang
MEMORY_BOUND = 8 << 20  # bytes a reader may trace for a file of at most a few KiB, whatever its header claims

CASES: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_case_counts(request):
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None and CASES:
        with capture.global_and_fixture_disabled():
            counts = ", ".join(f"{name} {count}" for name, count in sorted(CASES.items()))
            reporter.write_line(f"\nfuzz inputs run: {sum(CASES.values())} ({counts})")


def sizes():
    """Parametrize a property over the fast example count (normal suite) and the full one (slow suite)."""
    return pytest.mark.parametrize("examples", [pytest.param(FAST, id="fast"), pytest.param(FULL, id="full", marks=pytest.mark.slow)])


def run_property(examples: int, strategy, check, name: str) -> None:
    """Run ``check(value)`` on ``examples`` generated values, each under a hard deadline, and count them."""

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,  # the hard per-example deadline below replaces hypothesis's timing check
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(strategy)
    def prop(value):
        CASES[name] += 1
        with deadline(PER_EXAMPLE_SECONDS, f"{name} on one input"):
            check(value)

    prop()


# ---- IDX files ------------------------------------------------------------------------------------


def idx_bytes(array: np.ndarray) -> bytes:
    code = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}[array.dtype.newbyteorder("=")]
    header = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    return header + array.astype(IDX_TYPES[code]).tobytes()


def read_bytes_as_idx(folder: Path, data: bytes, name: str = "f-idx") -> np.ndarray:
    path = folder / name
    path.write_bytes(data)
    return read_idx(path)


def claimed_bytes(data: bytes) -> int | None:
    """The data size a well-formed IDX header at the start of ``data`` announces, or None."""
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_TYPES or not 1 <= data[3] <= 4 or len(data) < 4 + 4 * data[3]:
        return None
    shape = struct.unpack(f">{data[3]}I", data[4 : 4 + 4 * data[3]])
    return math.prod(shape) * IDX_TYPES[data[2]].itemsize if within_limit(shape, data[2]) else None


def within_limit(shape, code: int) -> bool:
    """The reader's size rule: the shape, with zero sizes counted as one, fits in MAX_BYTES."""
    return math.prod(max(size, 1) for size in shape) * IDX_TYPES[code].itemsize <= MAX_BYTES


def test_idx_truncated_at_every_length(tmp_path):
    """Every proper prefix of valid files (several dtypes and ranks, raw and gzip) is refused with DataError."""
    arrays = [
        np.arange(60, dtype=np.uint8).reshape(3, 4, 5),
        np.arange(-6, 6, dtype=np.int16).reshape(2, 6),
        np.linspace(-1, 1, 10).astype(np.float32),
        np.linspace(-1, 1, 6).reshape(1, 2, 3, 1),
    ]
    for array in arrays:
        raw = idx_bytes(array)
        assert np.array_equal(read_bytes_as_idx(tmp_path, raw), array)
        packed = gzip.compress(raw, mtime=0)
        for cut in range(len(raw)):
            for data in (raw[:cut], gzip.compress(raw[:cut], mtime=0)):
                CASES["idx truncations"] += 1
                with pytest.raises(DataError):
                    read_bytes_as_idx(tmp_path, data)
        for cut in range(2, len(packed)):  # a cut gzip stream (the first two bytes alone read as a raw file)
            CASES["idx truncations"] += 1
            with pytest.raises(DataError):
                read_bytes_as_idx(tmp_path, packed[:cut])


@sizes()
def test_idx_random_bytes(tmp_path, examples):
    def check(data: bytes):
        claim = claimed_bytes(data)
        honest = claim is not None and len(data) == 4 + 4 * data[3] + claim
        for variant, expect_ok in ((data, honest), (gzip.compress(data, mtime=0), honest)):
            try:
                array = read_bytes_as_idx(tmp_path, variant)
            except DataError:
                assert not expect_ok
            else:
                assert expect_ok and array.nbytes == claim
        with pytest.raises(DataError):  # gzip magic followed by junk
            read_bytes_as_idx(tmp_path, b"\x1f\x8b" + data[:64])

    # mostly headers that look like IDX, so the checks past the magic number get exercised too
    idx_like = st.tuples(st.sampled_from(sorted(IDX_TYPES)), st.integers(0, 6), st.binary(max_size=200)).map(
        lambda t: bytes([0, 0, t[0], t[1]]) + t[2]
    )
    run_property(examples, st.one_of(st.binary(max_size=300), idx_like), check, "idx random bytes")


@sizes()
def test_idx_wrong_magic(tmp_path, examples):
    """A valid file whose first four bytes are replaced: DataError unless the new magic is also a valid header."""
    raw = idx_bytes(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))

    def check(magic: bytes):
        zero, code, ndim = struct.unpack(">HBB", magic)
        data = magic + raw[4:]
        try:
            read_bytes_as_idx(tmp_path, data)
        except DataError as error:
            if zero != 0 or code not in IDX_TYPES:
                assert "not an IDX file" in str(error)
        else:
            assert zero == 0 and code in IDX_TYPES and 1 <= ndim <= 4

    run_property(examples, st.binary(min_size=4, max_size=4).filter(lambda m: m != raw[:4]), check, "idx wrong magic")


@sizes()
def test_idx_enormous_dimensions_refused_before_allocating(tmp_path, examples):
    """Headers claiming up to 2^128 bytes over a few bytes of data: refused, and the reader never traces more than
    MEMORY_BOUND bytes (so it did not allocate what the header claims before looking at the file)."""

    def check(case):
        code, dims, payload, compressed = case
        claim = math.prod(dims) * IDX_TYPES[code].itemsize
        data = struct.pack(f">HBB{len(dims)}I", 0, code, len(dims), *dims) + payload
        data = gzip.compress(data, mtime=0) if compressed else data
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]  # what the test run already holds (hypothesis keeps a lot)
        try:
            array = read_bytes_as_idx(tmp_path, data)
        except DataError as error:
            assert claim != len(payload) or not within_limit(dims, code)
            if not within_limit(dims, code):
                assert "allowed" in str(error)
        else:
            assert claim == len(payload) and within_limit(dims, code) and array.nbytes == claim
        assert tracemalloc.get_traced_memory()[1] - baseline < MEMORY_BOUND

    big = st.one_of(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 2**16, 2**31, 2**32 - 1]))
    strategy = st.tuples(st.sampled_from(sorted(IDX_TYPES)), st.lists(big, min_size=1, max_size=4), st.binary(max_size=64), st.booleans())
    tracemalloc.start()
    try:
        run_property(examples, strategy, check, "idx enormous headers")
        # int64 wrap-around, the 1 GiB edge, an empty array NumPy cannot shape
        for dims in [(2**16,) * 4, (2**30,), (2**30 + 1,), (2**15, 2**15), (2**32 - 1,) * 4, (0, 2, 2**31, 2**31)]:
            for compressed in (False, True):
                CASES["idx enormous headers"] += 1
                check((0x08, list(dims), b"\0" * 10, compressed))
    finally:
        tracemalloc.stop()


# ---- dataset folders --------------------------------------------------------------------------------


def dataset_arrays(draw_counts, shape=(3, 3)) -> list[np.ndarray]:
    n_train_images, n_train_labels, n_test_images, n_test_labels = draw_counts
    rng = np.random.default_rng(0)
    return [
        rng.integers(0, 256, (n_train_images, *shape), dtype=np.uint8),
        rng.integers(0, 3, n_train_labels, dtype=np.uint8),
        rng.integers(0, 256, (n_test_images, *shape), dtype=np.uint8),
        rng.integers(0, 3, n_test_labels, dtype=np.uint8),
    ]


@sizes()
def test_dataset_folder_inconsistencies(tmp_path, examples):
    """Four IDX files that may disagree (counts, ranks, dtypes, image sizes, junk, classes.txt): load_dataset
    returns a consistent Dataset or raises DataError."""
    folder = tmp_path / "set"
    folder.mkdir()

    def check(case):
        counts, shapes, replaced, junk, dtype_index, classes_txt, gz = case
        arrays = dataset_arrays(counts)
        arrays[2] = arrays[2].reshape(len(arrays[2]), *shapes) if math.prod(shapes) == 9 else np.zeros((counts[2], *shapes), np.uint8)
        if replaced is not None:
            arrays[replaced] = arrays[replaced].astype([np.uint8, np.int16, np.float32, np.int32][dtype_index])
            if dtype_index == 0:
                arrays[replaced] = arrays[replaced].reshape(-1) if arrays[replaced].ndim > 1 else arrays[replaced][:, None]
        for path in folder.iterdir():
            path.unlink()
        for name, array in zip(FILE_NAMES, arrays):
            write_idx(folder / (name + (".gz" if gz else "")), array)
        if junk is not None:
            index, data = junk
            (folder / (FILE_NAMES[index] + (".gz" if gz else ""))).write_bytes(data)
        if classes_txt is not None:
            (folder / "classes.txt").write_bytes(classes_txt)
        try:
            dataset = load_dataset(folder)
        except DataError as error:
            assert str(error)
        else:
            assert junk is None
            assert len(dataset.train_images) == len(dataset.train_labels) > 0 and len(dataset.test_images) == len(dataset.test_labels) > 0
            assert dataset.train_images.shape[1:] == dataset.test_images.shape[1:] and 0 not in dataset.image_shape
            assert dataset.train_images.dtype == np.uint8 and dataset.train_images.ndim == 3
            assert dataset.num_classes > max(dataset.train_labels.max(), dataset.test_labels.max())

    count = st.integers(0, 6)
    strategy = st.tuples(
        st.tuples(count, count, count, count),
        st.sampled_from([(3, 3), (9, 1), (1, 9), (2, 2), (3, 0), (0, 3)]),
        st.one_of(st.none(), st.integers(0, 3)),
        st.one_of(st.none(), st.tuples(st.integers(0, 3), st.binary(max_size=40))),
        st.integers(0, 3),
        st.one_of(st.none(), st.binary(max_size=20), st.just(b"a\nb\n"), st.just(b"\xff\xfe\n")),
        st.booleans(),
    )
    run_property(examples, strategy, check, "dataset folders")


def test_dataset_mismatched_counts_message(tmp_path):
    arrays = dataset_arrays((5, 4, 3, 3))
    for name, array in zip(FILE_NAMES, arrays):
        write_idx(tmp_path / f"{name}.gz", array)
    with pytest.raises(DataError, match="train set has 5 images but 4 labels"):
        load_dataset(tmp_path)


# ---- model files ------------------------------------------------------------------------------------


def small_model(dtype=np.float32, sizes=(6, 5, 3), shape=(2, 3), classes=("a", "b", "c")) -> Model:
    params = init_params(list(sizes), "xavier", np.random.default_rng(0), dtype)
    return Model(params, "relu", list(classes), shape, "fuzz", {"lr": 0.1}, {"accuracy": 0.5})


def model_file_bytes(tmp_path: Path, model: Model) -> bytes:
    save_model(model, tmp_path / "valid.safetensors")
    return (tmp_path / "valid.safetensors").read_bytes()


def split_file(data: bytes) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def join_file(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + body


def check_model_outcome(data: bytes) -> Model | None:
    """Parse ``data``: either ModelFileError with a short message naming the file, or a fully consistent Model."""
    try:
        model = parse_model(data, "fuzzed.safetensors")
    except ModelFileError as error:
        assert str(error).startswith("fuzzed.safetensors: ") and len(str(error)) < 600
        return None
    sizes = model.layer_sizes
    assert len(model.class_names) == sizes[-1] and math.prod(model.image_shape) == sizes[0]
    assert model.activation in ACTIVATIONS and all(isinstance(name, str) for name in model.class_names)
    assert all(np.isfinite(p).all() and p.dtype.isnative for layer in model.params for p in layer.values())
    probabilities = model.checked_proba(digits(model.image_shape), "digits")  # no layer overflows on them
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    return model


def digits(image_shape: tuple[int, int], count: int = 16) -> np.ndarray:
    """Inputs (count, H·W) that look like real digits: a third of the pixels fully inked, the rest faint. Not
    zeros, which exercise only the biases and hide weights that overflow."""
    rng = np.random.default_rng(7)
    images = 0.1 * rng.random((count, *image_shape))
    images[rng.random(images.shape) < 0.3] = 1.0
    return images.reshape(count, -1)


@pytest.fixture
def valid_model_bytes(tmp_path) -> bytes:
    return model_file_bytes(tmp_path, small_model())


def test_model_truncated_at_every_length(tmp_path):
    for dtype in (np.float32, np.float64):
        data = model_file_bytes(tmp_path, small_model(dtype))
        assert check_model_outcome(data) is not None
        for cut in range(len(data)):
            CASES["model truncations"] += 1
            with pytest.raises(ModelFileError):
                parse_model(data[:cut], "cut.safetensors")


@sizes()
def test_model_random_bytes(examples):
    def check(data: bytes):
        with pytest.raises(ModelFileError):
            parse_model(data, "random.safetensors")

    # raw noise, and noise behind a plausible header length so the JSON and structure checks run
    framed = st.binary(max_size=300).map(lambda b: struct.pack("<Q", len(b)) + b)
    json_ish = st.text(alphabet='{}[]":,0123456789aefilnrstu_. \\', max_size=200).map(lambda t: struct.pack("<Q", len(t)) + t.encode())
    run_property(examples, st.one_of(st.binary(max_size=300), framed, json_ish), check, "model random bytes")


@sizes()
def test_model_byte_flips(valid_model_bytes, examples):
    """Random bytes overwritten anywhere in a valid file: a consistent Model (a harmless change) or ModelFileError."""

    def check(edits):
        data = bytearray(valid_model_bytes)
        for position, value in edits:
            data[position % len(data)] = value
        check_model_outcome(bytes(data))

    run_property(
        examples, st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=4), check, "model byte flips"
    )


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=12,
)


@sizes()
def test_model_header_and_metadata_lies(valid_model_bytes, examples):
    """Any field of the metadata or of a tensor entry deleted or replaced by arbitrary JSON, tensors removed or
    added: a consistent Model or ModelFileError."""
    header, body = split_file(valid_model_bytes)
    meta = json.loads(header["__metadata__"]["scratchnet"])
    tensors = sorted(k for k in header if k != "__metadata__")

    @st.composite
    def mutated(draw):
        h, m = json.loads(json.dumps(header)), json.loads(json.dumps(meta))
        for _ in range(draw(st.integers(1, 3))):
            where = draw(st.sampled_from(["meta", "tensor", "drop tensor", "add tensor", "header"]))
            if where == "meta":
                key = draw(st.sampled_from([*sorted(m), "input.image_shape"]))
                if key == "input.image_shape" and isinstance(m.get("input"), dict):
                    m["input"]["image_shape"] = draw(JSON_VALUES | st.lists(st.integers(-1, 8), max_size=3))
                elif draw(st.booleans()):
                    m.pop(key, None)
                else:
                    m[key] = draw(JSON_VALUES)
            elif where == "tensor":
                key, field = draw(st.sampled_from(tensors)), draw(st.sampled_from(["dtype", "shape", "data_offsets"]))
                if isinstance(h.get(key), dict):
                    h[key][field] = draw(JSON_VALUES | st.lists(st.integers(-4, 200), max_size=3) | st.sampled_from(["F16", "I64", "BF16"]))
            elif where == "drop tensor":
                h.pop(draw(st.sampled_from(tensors)), None)
            elif where == "add tensor":
                h[draw(st.sampled_from(["4.weight", "1.bias", "extra"]))] = {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}
            else:
                h["__metadata__"] = draw(JSON_VALUES) if draw(st.booleans()) else {"scratchnet": draw(st.text(max_size=30))}
        if isinstance(h.get("__metadata__"), dict) and "scratchnet" in h["__metadata__"] and where != "header":
            h["__metadata__"]["scratchnet"] = json.dumps(m)
        return join_file(h, body)

    run_property(examples, mutated(), check_model_outcome, "model header lies")


@sizes()
def test_model_shape_lies(tmp_path, examples):
    """layer_sizes, image_shape and class names that disagree with the tensors: ModelFileError unless they
    happen to tell the truth."""
    data = model_file_bytes(tmp_path, small_model())
    header, body = split_file(data)
    meta = json.loads(header["__metadata__"]["scratchnet"])

    def check(case):
        sizes, shape, n_classes = case
        m = {**meta, "layer_sizes": sizes, "input": {**meta["input"], "image_shape": shape}, "class_names": list("abcdefgh"[:n_classes])}
        h = {**header, "__metadata__": {"scratchnet": json.dumps(m)}}
        truthful = sizes == [6, 5, 3] and math.prod(shape) == 6 and n_classes == 3
        assert (check_model_outcome(join_file(h, body)) is not None) == truthful

    strategy = st.tuples(
        st.lists(st.integers(1, 8), min_size=2, max_size=4), st.lists(st.integers(1, 6), min_size=2, max_size=2), st.integers(0, 8)
    )
    run_property(examples, strategy, check, "model shape lies")


@sizes()
def test_model_non_finite_weights(valid_model_bytes, examples):
    header, body = split_file(valid_model_bytes)
    offset = len(valid_model_bytes) - len(body)

    def check(case):
        key, index, value = case
        start, end = header[key]["data_offsets"]
        count = (end - start) // 4
        data = bytearray(valid_model_bytes)
        struct.pack_into("<f", data, offset + start + 4 * (index % count), value)
        with pytest.raises(ModelFileError, match="NaN or infinite"):
            parse_model(bytes(data), "nonfinite.safetensors")

    tensors = sorted(k for k in header if k != "__metadata__")
    strategy = st.tuples(st.sampled_from(tensors), st.integers(0, 1000), st.sampled_from([math.nan, math.inf, -math.inf]))
    run_property(examples, strategy, check, "model non-finite weights")


@sizes()
def test_model_weights_scaled_up(tmp_path, examples):
    """One layer's weights multiplied by up to 1e308 (finite, or infinite once stored): ModelFileError (the
    weights overflow, or are not finite) or a model whose every layer stays finite on digits."""
    model = small_model()

    def check(case):
        dtype, exponent, layer = case
        params = [{name: array.astype(dtype) for name, array in p.items()} for p in model.params]
        with np.errstate(over="ignore"):  # a factor beyond float32's range becomes infinity, as a bad file would hold
            params[layer]["W"] *= dtype(10.0**exponent)
        check_model_outcome(model_file_bytes(tmp_path, Model(params, "relu", model.class_names, model.image_shape)))

    strategy = st.tuples(st.sampled_from([np.float32, np.float64]), st.integers(0, 308), st.integers(0, len(model.params) - 1))
    run_property(examples, strategy, check, "model scaled weights")


@sizes()
def test_model_for_another_input_size_or_class_count(examples):
    model = small_model()

    def check(case):
        shape, n_classes = case
        if tuple(shape) == (2, 3) and n_classes == 3:
            model.check_compatible(tuple(shape), [str(i) for i in range(n_classes)])
        else:
            with pytest.raises(ModelFileError, match="the model reads 2×3 images into 3 classes"):
                model.check_compatible(tuple(shape), [str(i) for i in range(n_classes)])

    run_property(
        examples, st.tuples(st.lists(st.integers(1, 40), min_size=2, max_size=2), st.integers(1, 12)), check, "model compatibility"
    )


# ---- model files opened in the real window ---------------------------------------------------------------

WINDOW_FAST, WINDOW_FULL = 8, 150  # each input opens a file and paints every tab: about 0.4 s


@pytest.fixture
def window_and_model(qtbot, tmp_path, fake_data_dir):
    """The app's window with the fake dataset loaded, a drawing on the pad, and the bytes of a model trained on
    that dataset."""
    from tests.quick_models import quick_model
    from tests.test_gui_app import make_window

    window = make_window(qtbot, tmp_path / "settings.ini", fake_data_dir)
    dataset = window.session.dataset
    window.pad.load_image(dataset.test_images[0])
    return window, model_file_bytes(tmp_path, quick_model(dataset, train_images=600, hidden=(16,), epochs=1))


def show_every_tab(window) -> None:
    """Bring each tab to the front and paint it now, refreshing the views that otherwise wait for a timer."""
    window.browser.list_view.setCurrentIndex(window.browser.list_model.index(0))
    window.browser.detail_saliency.setChecked(True)
    for title in window.tab_titles():
        window.show_tab(title)
        window.session.test_predictions.refresh()
        window.network.redraw()
        window.pad.predict()
        window.tabs.current().grab()  # paints the tab, its delegates and painters included
    labels = window.browser.list_model
    assert all(isinstance(labels.data(labels.index(row)), str) for row in range(labels.rowCount()))


@pytest.mark.parametrize("examples", [pytest.param(WINDOW_FAST, id="fast"), pytest.param(WINDOW_FULL, id="full", marks=pytest.mark.slow)])
def test_mutated_model_files_opened_in_the_window(tmp_path, window_and_model, examples):
    """Byte flips in the header or the tensors, weights scaled by up to 1e308: File ▸ Open either opens the model
    or shows an error notice and keeps the current one; then every tab is shown and painted, without a crash."""
    window, valid = window_and_model
    header, body = split_file(valid)
    data_start = len(valid) - len(body)
    weights = [key for key in header if key.endswith(".weight")]
    path = tmp_path / "mutated.safetensors"

    def check(case):
        kind, edits, exponent = case
        data = bytearray(valid)
        if kind == "scale":  # every weight times 10^exponent, as in the issue (1e38: finite weights whose sums overflow)
            for key in weights:
                start, end = (data_start + offset for offset in header[key]["data_offsets"])
                with np.errstate(over="ignore"):
                    data[start:end] = (np.frombuffer(data[start:end], "<f4") * np.float32(10.0**exponent)).tobytes()
        for position, value in edits:
            where = position % len(data) if kind == "anywhere" else data_start + position % len(body)
            data[where] = value
        path.write_bytes(bytes(data))
        before = window.session.model
        window.notice.clear()
        window.files.open_model_from(path)
        error_shown = not window.notice.isHidden() and window.notice.level == "error"
        if window.session.model is before:
            assert error_shown and window.notice.text.text().startswith("Could not open the model. mutated.safetensors: ")
        else:
            assert not error_shown
        show_every_tab(window)

    strategy = st.tuples(
        st.sampled_from(["anywhere", "tensors", "scale"]),
        st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 255)), max_size=3),
        st.integers(0, 40),
    )
    run_property(examples, strategy, check, "model files in the window")


@pytest.mark.parametrize(
    "header",
    [
        b"[" * 100_000,  # nesting deeper than Python's recursion limit
        b"1" * 5000,  # an integer longer than int() accepts
        b'{"__metadata__": {"scratchnet": "' + b"[" * 100_000 + b'"}}',
        b'{"__metadata__": {"scratchnet": "' + b"9" * 5000 + b'"}}',
        b'{"__metadata__": {"scratchnet": "{\\"format\\": \\"scratchnet-mlp\\", \\"format_version\\": 1, '
        b'\\"layer_sizes\\": [4, 2], \\"activation\\": [\\"unhashable\\"]}"}}',
        b"\xff\xfe{}",
        b'"just a string"',
    ],
)
def test_model_hostile_json(header):
    """Regression cases found by fuzzing: each used to escape as RecursionError, ValueError or TypeError."""
    CASES["model hostile json"] += 1
    with deadline(PER_EXAMPLE_SECONDS):
        with pytest.raises(ModelFileError):
            parse_model(struct.pack("<Q", len(header)) + header, "hostile.safetensors")


def test_model_unhashable_dtype(valid_model_bytes):
    header, body = split_file(valid_model_bytes)
    header["0.weight"]["dtype"] = ["F32"]
    with pytest.raises(ModelFileError, match="only F32 and F64"):
        parse_model(join_file(header, body), "m")


def test_load_model_file_errors(tmp_path, valid_model_bytes):
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(tmp_path / "missing.safetensors")
    with pytest.raises(ModelFileError, match="this is a folder, not a model file"):
        load_model(tmp_path)
    (tmp_path / "m.safetensors").write_bytes(valid_model_bytes[:-1])
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        load_model(tmp_path / "m.safetensors")


def test_errors_are_scratchnet_errors():
    assert issubclass(DataError, ScratchNetError) and issubclass(ModelFileError, ScratchNetError)
