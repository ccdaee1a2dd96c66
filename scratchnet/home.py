"""The app's own data home: where ScratchNet keeps what it makes for the user (runs, saved run models,
handwriting examples). Downloads are a cache and live elsewhere (``data.cache_dir``)."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV_VAR = "SCRATCHNET_HOME"


def data_home() -> Path:
    """``$SCRATCHNET_HOME`` when set (tests and portable installs), else the platform's user data folder
    (``~/.local/share/scratchnet`` on Linux). Not created here: writers create what they need."""
    folder = os.environ.get(HOME_ENV_VAR)
    if folder:
        return Path(folder).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("scratchnet", appauthor=False))
