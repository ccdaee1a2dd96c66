"""ScratchNet: a multi-layer perceptron written from scratch in NumPy, learning MNIST.

The notebook's math is the ``nn`` package (``init_params``, ``forward``, ``softmax_cross_entropy``,
``backward``, the optimisers' ``step``); ``trainer.Trainer`` loops over it; ``data`` finds and reads the
dataset; ``model`` holds a trained network and writes it, ``model_file`` reads it back.
This package never imports Qt: the desktop app (``scratchnet_gui``) is built on top of it.
"""

__version__ = "0.1.0"  # the distribution's version too (pyproject.toml reads it from here)
DISTRIBUTION = "scratchnet-app"  # the name to pip/pipx install: "scratchnet" on PyPI is an unrelated project
