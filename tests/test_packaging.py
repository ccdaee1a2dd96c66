"""The wheel: every resource folder is a package setuptools knows, so building prints no warning about it."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def test_every_resource_folder_is_a_listed_package_with_its_files():
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    folders = {path.parent for path in (REPO / "resources").rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    packages = {"scratchnet_resources" + ".".join(["", *folder.relative_to(REPO / "resources").parts]) for folder in folders}
    assert packages <= set(setuptools["packages"])
    for package in packages - {"scratchnet_resources"}:
        folder = REPO / "resources" / Path(*package.split(".")[1:])
        patterns = setuptools["package-data"][package]
        assert all(any(path.match(pattern) for pattern in patterns) for path in folder.iterdir() if path.is_file())


def has_distribution(name: str) -> bool:
    """Whether a package of that name is installed (a folder named "build" beside the sources, which ``pip install .``
    leaves, is no such package, though it imports as one)."""
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(not has_distribution("build"), reason="needs the 'build' package (pip install build)")
def test_building_the_wheel_prints_no_setuptools_warning(tmp_path):
    source = tmp_path / "source"
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    built = subprocess.run([sys.executable, "-m", "build", "--wheel", str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    assert "WARNING" not in built.stdout + built.stderr
