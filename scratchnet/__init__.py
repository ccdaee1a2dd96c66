"""ScratchNet: a multi-layer perceptron written from scratch in NumPy, learning MNIST.

The notebook's steps are plain functions in ``network`` (``init_params``, ``forward``,
``backward``) and ``optimizers`` (``step``); ``trainer.Trainer`` loops over them;
``data`` finds and reads the dataset; ``model`` saves and loads trained networks.
This package never imports Qt: the desktop app (``scratchnet_gui``) is built on top of it.
"""

__version__ = "0.1.0"
