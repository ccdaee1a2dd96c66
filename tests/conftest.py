"""Shared fixtures: offscreen Qt, a small generated dataset, and the real MNIST files when present."""

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from scratchnet.data import FILE_NAMES, MNIST_SHA256, cache_dir, load_dataset
from scratchnet.home import HOME_ENV_VAR
from scratchnet.idx import write_idx

REPO = Path(__file__).resolve().parent.parent


def make_images(n: int, num_classes: int, shape: tuple[int, int], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Learnable fake digits: each class lights its own horizontal band, blurred by noise and jitter."""
    labels = rng.integers(0, num_classes, n)
    height, width = shape
    images = rng.integers(0, 40, (n, height, width)).astype(np.int64)
    band = max(height // num_classes, 1)
    for i, label in enumerate(labels):
        top = label * band + rng.integers(0, 2)
        images[i, top : top + band, 1 : width - 1] += 200
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.uint8)


def write_dataset(folder: Path, n_train=600, n_test=200, num_classes=4, shape=(12, 12), seed=0, gz=True) -> Path:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = [*make_images(n_train, num_classes, shape, rng), *make_images(n_test, num_classes, shape, rng)]
    for name, array in zip(FILE_NAMES, arrays):
        write_idx(folder / (name + (".gz" if gz else "")), array)
    return folder


@pytest.fixture(autouse=True)
def data_home(tmp_path, monkeypatch) -> Path:
    """Every test (and every process it starts) keeps the app's own files in a temporary data home."""
    home = tmp_path / "scratchnet-home"
    monkeypatch.setenv(HOME_ENV_VAR, str(home))
    return home


@pytest.fixture
def fake_data_dir(tmp_path) -> Path:
    """A folder laid out like MNIST: 600 train / 200 test images of 12×12, 4 classes."""
    return write_dataset(tmp_path / "fake")


@pytest.fixture
def fake_dataset(fake_data_dir):
    return load_dataset(fake_data_dir)


def real_mnist_dir() -> Path | None:
    """The real MNIST files: $SCRATCHNET_DATA_DIR, the project's ../shared, or the cache the app downloads into."""
    candidates = [os.environ.get("SCRATCHNET_DATA_DIR"), REPO.parent / "shared" / "data" / "mnist", cache_dir()]
    for candidate in candidates:
        if candidate and all((Path(candidate) / name).is_file() for name in MNIST_SHA256):
            return Path(candidate)
    return None


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    folder = real_mnist_dir()
    if folder is None:
        pytest.skip(
            "real MNIST files not found: set SCRATCHNET_DATA_DIR to a folder holding the four *-ubyte.gz files "
            "(or let the app download them into its cache)"
        )
    return folder


@pytest.fixture(scope="session")
def mnist(mnist_dir, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:  # its decoded copy goes to a temporary data home, as every test's files
        patch.setenv(HOME_ENV_VAR, str(tmp_path_factory.mktemp("mnist-home")))
        return load_dataset(mnist_dir)


@pytest.fixture
def curves(qtbot):
    """The Training tab's plots on screen, 900×600, with no run yet."""
    from scratchnet_gui.curves_panel import CurvesPanel

    panel = CurvesPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    return panel


@pytest.fixture
def pad(qtbot):
    """A drawing pad on screen, 900×560, following a session of its own (``pad.session``, without data), with no
    model yet."""
    from scratchnet_gui.draw_pad import DrawPad
    from scratchnet_gui.session import Session

    pad = DrawPad()
    qtbot.addWidget(pad)
    pad.follow(Session(parent=pad))
    pad.resize(900, 560)
    pad.show()
    qtbot.waitExposed(pad)
    return pad


@pytest.fixture
def session(qtbot, fake_data_dir):
    """The app's widget-free session with the small generated dataset loaded."""
    from scratchnet_gui.session import Session

    session = Session()
    with qtbot.waitSignal(session.dataset_changed, timeout=10_000):
        session.load_data(fake_data_dir)
    yield session
    session.shutdown()


@pytest.fixture
def trainer_pauses(monkeypatch):
    """Watches every run's trainer at its batch boundaries: see ``tests.pauses.TrainerPauses``."""
    from .pauses import TrainerPauses

    return TrainerPauses(monkeypatch)
