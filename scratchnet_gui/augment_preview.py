"""A preview of augmentation: a few training images as the augmentation settings would vary them.

A small window beside the settings panel, which opens it from its augmentation settings ("Preview…") and calls
``set_augmentation(augmentation)`` when they change, so the examples follow the spin boxes as they move;
``set_images`` gives it the dataset's training images. "New examples" draws other images and other variations.
The variations are made by ``scratchnet.augment.Augmentation.batch``, the same code that varies every batch of a
run.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from scratchnet.augment import Augmentation
from scratchnet.data import to_inputs

from .visuals import ImageView, grid_image, rgb_image

EXAMPLES, COLUMNS = 24, 6


class AugmentPreview(QDialog):
    """``EXAMPLES`` training images, each shown as one batch of a run would vary it."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Augmented training images")
        self._images: np.ndarray | None = None  # (n, H, W) uint8: the training images to pick from
        self._augmentation = Augmentation()
        self._draw = 0  # which examples and variations: "New examples" moves on
        self.view = ImageView("The training images appear with the data.", minimum=240)
        self.view.setToolTip("Training images as this run's augmentation varies them: each batch draws new variations.")
        self.new_button = QPushButton("New examples", toolTip="Other training images, varied afresh")
        self.new_button.clicked.connect(self.new_examples)
        self.caption = QLabel(objectName="hint")
        row = QHBoxLayout()
        row.addWidget(self.caption, 1)
        row.addWidget(self.new_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addLayout(row)
        self.resize(460, 380)
        self._redraw()

    def set_images(self, images: np.ndarray) -> None:
        """The training images (n, H, W) to pick examples from."""
        self._images = images
        self._redraw()

    def set_augmentation(self, augmentation: Augmentation) -> None:
        """Vary the examples as ``augmentation`` says."""
        if augmentation != self._augmentation:
            self._augmentation = augmentation
            self._redraw()

    def new_examples(self) -> None:
        self._draw += 1
        self._redraw()

    def examples(self) -> np.ndarray | None:
        """The examples as shown: (EXAMPLES, H, W) network inputs in [0, 1], or None without images."""
        if self._images is None or len(self._images) == 0:
            return None
        rng = np.random.default_rng(self._draw)
        rows = rng.choice(len(self._images), size=min(EXAMPLES, len(self._images)), replace=False)
        inputs = to_inputs(self._images[rows], np.float32).reshape(len(rows), *self._images.shape[1:])
        return self._augmentation.batch(inputs, np.arange(len(rows)), rng)

    def _redraw(self) -> None:
        examples = self.examples()
        self.new_button.setEnabled(examples is not None)
        if examples is None:
            self.view.set_image(None)
            self.caption.setText("")
            return
        ink = 255.0 - 255.0 * np.clip(examples, 0, 1)  # dark ink on white, as the pad draws
        self.view.set_image(rgb_image(grid_image(np.repeat(ink[..., None], 3, axis=3), COLUMNS, gap=2)))
        varied = "As the network sees them: each batch draws new variations."
        self.caption.setText(varied if self._augmentation else "Augmentation is off: the images as they are.")
