"""The code in docs/how-it-works.md runs as printed and does what the page says."""

import os
import re
import subprocess
import sys

import pytest

from .conftest import REPO


@pytest.mark.mnist
def test_the_four_steps_snippet_runs_and_its_loss_falls(mnist_dir, tmp_path):
    page = (REPO / "docs" / "how-it-works.md").read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", page, re.DOTALL).group(1)
    (tmp_path / "snippet.py").write_text(snippet, encoding="utf-8")
    env = {**os.environ, "SCRATCHNET_DATA_DIR": str(mnist_dir)}
    result = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    losses = [float(value) for value in re.findall(r"loss (\d+\.\d+)", result.stdout)]
    assert len(losses) == 5 and losses == sorted(losses, reverse=True) and losses[-1] < 0.6 * losses[0]
