"""No code execution from data: loaders refuse crafted payloads without running them, and the sources
contain no way to run them (no pickle, no eval/exec, no pickle-enabled numpy or torch loading).

The one pickle in the project is the hand-written payload below, kept as bytes; the test only ever
unpickles it in a throw-away subprocess, to prove that it would really act if something loaded it.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scratchnet.data import FILE_NAMES, load_dataset
from scratchnet.errors import DataError, ModelFileError
from scratchnet.idx import read_idx
from scratchnet.model_file import load_model
from tests.conftest import REPO, write_dataset

WATCHED_EVENTS = {"pickle.find_class", "exec", "compile", "os.system", "os.exec", "os.posix_spawn", "subprocess.Popen", "ctypes.dlopen"}
_audit = {"active": False, "events": []}


def _hook(event, args):
    if _audit["active"] and event in WATCHED_EVENTS:
        _audit["events"].append(event)


sys.addaudithook(_hook)  # audit hooks cannot be removed; this one does nothing unless a test switches it on


def malicious_pickles(marker: Path) -> dict[str, bytes]:
    """Pickles that create ``marker`` when unpickled (``builtins.open(marker, "w")``), in protocols 0 and 2."""
    path = str(marker).encode()
    protocol0 = b"cbuiltins\nopen\n(V" + path + b"\nVw\ntR."
    protocol2 = b"\x80\x02cbuiltins\nopen\nq\x00X" + len(path).to_bytes(4, "little") + path + b"X\x01\x00\x00\x00w\x86R."
    # the same payload after a safetensors-looking length prefix, pointing at a "header" that is the pickle
    framed = len(protocol2).to_bytes(8, "little") + protocol2
    return {"protocol0": protocol0, "protocol2": protocol2, "framed": framed}


@pytest.fixture
def marker(tmp_path) -> Path:
    return tmp_path / "PWNED"


@pytest.mark.parametrize("kind", ["protocol0", "protocol2"])
def test_the_payload_is_live(marker, kind):
    """Control experiment: unpickled in a separate process, the payload really creates the marker file."""
    payload = marker.parent / "payload.bin"
    payload.write_bytes(malicious_pickles(marker)[kind])
    code = "import pickle, sys; pickle.loads(open(sys.argv[1], 'rb').read())"
    subprocess.run([sys.executable, "-c", code, str(payload)], check=True, timeout=60)
    assert marker.exists()


@pytest.mark.parametrize("kind", ["protocol0", "protocol2", "framed"])
def test_malicious_pickle_renamed_to_safetensors_is_refused_without_running(tmp_path, marker, kind):
    path = tmp_path / "model.safetensors"
    path.write_bytes(malicious_pickles(marker)[kind])
    _audit.update(active=True, events=[])
    try:
        with pytest.raises(ModelFileError, match="not a safetensors model file"):
            load_model(path)
    finally:
        _audit["active"] = False
    assert not marker.exists()
    assert _audit["events"] == []  # nothing was unpickled, evaluated, compiled or spawned


@pytest.mark.parametrize("kind", ["protocol0", "protocol2", "framed"])
def test_malicious_pickle_as_dataset_files_is_refused_without_running(tmp_path, marker, kind):
    folder = write_dataset(tmp_path / "data", n_train=20, n_test=10)
    (folder / f"{FILE_NAMES[0]}.gz").write_bytes(malicious_pickles(marker)[kind])
    _audit.update(active=True, events=[])
    try:
        with pytest.raises(DataError):
            read_idx(folder / f"{FILE_NAMES[0]}.gz")
        with pytest.raises(DataError):
            load_dataset(folder)
    finally:
        _audit["active"] = False
    assert not marker.exists() and _audit["events"] == []


# ---- the sources ------------------------------------------------------------------------------------

UNSAFE_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
UNSAFE_BUILTINS = {"eval", "exec", "compile", "__import__"}
UNSAFE_TEXT = re.compile(r"\bimport pickle\b|pickle\.load|allow_pickle\s*=\s*True|np\.load\(|(?<![\w.])(eval|exec)\(")


def unsafe_uses(source: str) -> list[str]:
    """What in ``source`` could run code from data: unsafe imports, eval/exec, pickle-enabled loaders."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a file being edited right now: fall back to plain text
        return [
            line
            for line in source.splitlines()
            if re.search(r"\bimport pickle\b|pickle\.load|allow_pickle\s*=\s*True|(?<![\w.])(eval|exec)\(", line)
        ]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.split(".")[0] in UNSAFE_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES:
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            keywords = {k.arg: ast.unparse(k.value) for k in node.keywords}
            if name in UNSAFE_BUILTINS or name.split(".")[0] in UNSAFE_MODULES:
                found.append(f"line {node.lineno}: {name}(...)")
            elif keywords.get("allow_pickle") == "True":
                found.append(f"line {node.lineno}: {name}(..., allow_pickle=True)")
            elif name in ("np.load", "numpy.load") and keywords.get("allow_pickle") != "False":
                found.append(f"line {node.lineno}: {name}(...) without allow_pickle=False")
            elif name in ("torch.load", "yaml.load", "yaml.unsafe_load"):
                found.append(f"line {node.lineno}: {name}(...)")
    return found


def project_sources() -> list[Path]:
    return sorted(path for package in ("scratchnet", "scratchnet_gui") for path in (REPO / package).rglob("*.py"))


def test_sources_never_unpickle_or_evaluate():
    sources = project_sources()
    assert any(path.parent.name == "scratchnet" for path in sources)
    problems = {str(path.relative_to(REPO)): uses for path in sources if (uses := unsafe_uses(path.read_text(encoding="utf-8")))}
    assert problems == {}


@pytest.mark.parametrize(
    "snippet",
    [
        "import pickle",
        "from pickle import loads",
        "import joblib",
        "data = pickle.load(f)",
        "x = np.load(path)",
        "x = np.load(path, allow_pickle=True)",
        "x = numpy.load(path, mmap_mode='r')",
        "value = eval(text)",
        "exec(code)",
        "state = torch.load(path)",
        "import pickle\nprint(\n",  # a file that does not parse (being edited): the plain-text scan still finds it
    ],
)
def test_the_scanner_catches_unsafe_code(snippet):
    assert unsafe_uses(snippet), snippet


@pytest.mark.parametrize("snippet", ["x = np.load(path, allow_pickle=False)", "app.exec()", "dialog.exec()", "json.loads(text)"])
def test_the_scanner_allows_safe_code(snippet):
    assert unsafe_uses(snippet) == []
