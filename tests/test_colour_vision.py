"""The confusion matrix reads for every eye: right answers and mistakes stay far apart in colour under the
common colour-vision deficiencies, simulated on the rendered widget (Machado, Oliveira and Fernandes 2009)."""

import numpy as np
import pytest

from scratchnet.predictions import Predictions
from scratchnet_gui.confusion_view import ConfusionView

# Machado et al. 2009, severity 1.0: linear-RGB matrices that show what a dichromat sees.
DEFICIENCIES = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}
MIN_DELTA_E = 40  # CIE76; red and green cells fell to 15-25 here, about the difference of two shades of one hue


def linear(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(linear_rgb: np.ndarray) -> np.ndarray:
    """CIELAB (D65) of linear sRGB."""
    to_xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = to_xyz @ np.clip(linear_rgb, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def seen_difference(a: np.ndarray, b: np.ndarray, deficiency: str | None) -> float:
    """CIE76 colour difference of two sRGB colours as seen with ``deficiency`` (None: typical vision)."""
    simulate = np.eye(3) if deficiency is None else np.array(DEFICIENCIES[deficiency])
    return float(np.linalg.norm(lab(simulate @ linear(a)) - lab(simulate @ linear(b))))


@pytest.fixture
def rendered(qtbot):
    """A 3-class matrix: class 0 all right, class 1 mostly read as 2 (the heaviest mistake), class 2 all right."""
    labels = np.array([0] * 50 + [1] * 50 + [2] * 50)
    predicted = np.array([0] * 50 + [2] * 45 + [1] * 5 + [2] * 50)
    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(640, 560)
    view.set_predictions(Predictions(np.eye(3)[predicted], labels, ["0", "1", "2"]))
    image = view.grab().toImage()

    def color(true_class: int, predicted_class: int) -> np.ndarray:
        corner = view.cell_rect(true_class, predicted_class).topLeft().toPoint()
        pixel = image.pixelColor(corner.x() + 3, corner.y() + 3)  # inside the cell, away from its count
        return np.array([pixel.red(), pixel.green(), pixel.blue()], float)

    return color


@pytest.mark.parametrize("deficiency", [None, *DEFICIENCIES])
def test_right_answers_and_the_heaviest_mistakes_stay_apart_for_every_eye(rendered, deficiency):
    right, heaviest_mistake = rendered(0, 0), rendered(1, 2)
    assert seen_difference(right, heaviest_mistake, deficiency) >= MIN_DELTA_E


def test_the_simulation_reproduces_the_red_green_problem():
    """The check can fail: the old green diagonal and red mistakes merge for a deuteranope, as reported."""
    green, red = np.array([26, 128, 70.0]), np.array([196, 40, 40.0])
    assert seen_difference(green, red, None) > 80
    assert seen_difference(green, red, "deuteranopia") < MIN_DELTA_E
    assert seen_difference(green, red, "protanopia") < MIN_DELTA_E
