"""The wheel: built without a warning, holding the app and its resources (no tests, no data), and installed with
pipx as the README says, outside the repository, where both commands start."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scratchnet import DISTRIBUTION, __version__
from tests.conftest import REPO

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
WHEEL = f"{DISTRIBUTION.replace('-', '_')}-{__version__}-py3-none-any.whl"
QUIT_WHEN_LOADED = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import scratchnet_gui
from scratchnet_gui import app
from scratchnet_gui.main_window import MainWindow

def quit_when_loaded():
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if windows and windows[0].session.dataset is not None:
        print("started from", scratchnet_gui.__file__, "with", len(windows[0].session.dataset.test_labels), "test images")
        windows[0].close()

app.create_application([sys.argv[0]])  # main() reuses it; a timer needs it first
timer = QTimer(interval=50)
timer.timeout.connect(quit_when_loaded)
timer.start()
sys.exit(app.main([]))
"""


def test_every_resource_folder_is_a_listed_package_with_its_files():
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    folders = {path.parent for path in (REPO / "resources").rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    packages = {"scratchnet_resources" + ".".join(["", *folder.relative_to(REPO / "resources").parts]) for folder in folders}
    assert packages <= set(setuptools["packages"])
    for package in packages - {"scratchnet_resources"}:
        folder = REPO / "resources" / Path(*package.split(".")[1:])
        patterns = setuptools["package-data"][package]
        assert all(any(path.match(pattern) for pattern in patterns) for path in folder.iterdir() if path.is_file())


def test_the_distribution_is_named_as_the_code_says_and_takes_its_version_from_it():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DISTRIBUTION != "scratchnet"  # "scratchnet" on PyPI is another project
    assert "version" in project["dynamic"]


def has_distribution(name: str) -> bool:
    """Whether a package of that name is installed (a folder named "build" beside the sources, which ``pip install .``
    leaves, is no such package, though it imports as one)."""
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def tracked_files() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.splitlines()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[str, Path]:
    """``python -m build`` (the sdist, then the wheel from it) on a copy of the tracked files: its output and folder."""
    if not has_distribution("build"):
        pytest.skip("needs the 'build' package (pip install build)")
    source, dist = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    for name in tracked_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(source)], capture_output=True, text=True, timeout=600, env=env
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout + done.stderr, dist


@pytest.mark.slow
def test_building_prints_no_warning(built):
    output, _ = built
    assert "warning" not in output.lower(), [line for line in output.splitlines() if "warning" in line.lower()]


@pytest.mark.slow
def test_the_wheel_holds_the_app_and_its_resources_and_no_tests_or_data(built):
    _, dist = built
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        names = set(wheel.namelist())
        info = f"{DISTRIBUTION.replace('-', '_')}-{__version__}.dist-info"
        assert {name.split("/")[0] for name in names} == {"scratchnet", "scratchnet_gui", "scratchnet_resources", info}
        resources = {name.removeprefix("resources/") for name in tracked_files() if name.startswith("resources/")}
        assert {f"scratchnet_resources/{name}" for name in resources} <= names
        sources = {name for name in tracked_files() if name.split("/")[0] in ("scratchnet", "scratchnet_gui")}
        assert sources <= names
        assert not [name for name in names if name.endswith((".gz", "ubyte", ".safetensors", ".sqlite3", ".png", ".pyc"))]
        assert wheel.read(f"{info}/licenses/LICENSE") == (REPO / "LICENSE").read_bytes()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
        assert "scratchnet = scratchnet.cli:main" in entry_points and "scratchnet-gui = scratchnet_gui.app:main" in entry_points
        assert f"Name: {DISTRIBUTION}\n" in wheel.read(f"{info}/METADATA").decode()


@pytest.mark.slow
@pytest.mark.skipif(not has_distribution("pipx"), reason="needs pipx (pip install pipx)")
@pytest.mark.skipif(sys.platform == "win32", reason="the paths of a POSIX virtual environment")
def test_pipx_installs_the_wheel_outside_the_repo_and_both_commands_start(built, tmp_path, fake_data_dir):
    _, dist = built
    pipx = {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin"), "PIPX_MAN_DIR": str(tmp_path / "man")}
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"} | pipx
    env |= {"QT_QPA_PLATFORM": "offscreen", "SCRATCHNET_DATA_DIR": str(fake_data_dir)}
    outside = tmp_path / "elsewhere"  # not the repository: nothing imports from the sources
    outside.mkdir()
    installed = subprocess.run(
        [sys.executable, "-m", "pipx", "install", str(dist / WHEEL)], cwd=outside, env=env, capture_output=True, text=True, timeout=600
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    bin_dir = tmp_path / "bin"
    for command in ("scratchnet", "scratchnet-gui"):
        version = subprocess.run([bin_dir / command, "--version"], cwd=outside, env=env, capture_output=True, text=True, timeout=120)
        assert version.stdout.strip() == f"{command} {__version__}", version.stderr
    python = tmp_path / "pipx" / "venvs" / DISTRIBUTION / "bin" / "python"
    started = subprocess.run([python, "-c", QUIT_WHEN_LOADED], cwd=outside, env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr[-2000:]
    assert f"started from {tmp_path / 'pipx'}" in started.stdout and "with 200 test images" in started.stdout
