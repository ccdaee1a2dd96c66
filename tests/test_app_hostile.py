"""The app's own stored surfaces made hostile: its settings file, presets, and what reaches the event loop."""

import os

import pytest

from scratchnet.errors import ConfigError
from scratchnet.presets import load_preset


@pytest.mark.parametrize("make", ["fifo", "device", "folder", "huge"])
def test_a_preset_that_is_not_a_small_regular_file_is_refused_unread(tmp_path, make):
    path = tmp_path / "preset.json"
    if make == "fifo":
        os.mkfifo(path)  # no writer: a plain read would wait for ever
    elif make == "device":
        path = "/dev/zero"  # a plain read would fill the memory
    elif make == "folder":
        path = tmp_path / "presets" / "x.json"
        path.mkdir(parents=True)
    else:
        path.write_bytes(b" " * (2 << 20))
    with pytest.raises(ConfigError, match="not a regular file|larger than"):
        load_preset(str(path))
