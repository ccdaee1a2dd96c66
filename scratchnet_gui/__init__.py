"""ScratchNet's desktop app: a PySide6 window that trains the NumPy network in a thread and plots it learning.

Start it with ``scratchnet-gui`` or ``python -m scratchnet_gui``. ``app.main`` parses the command line,
``session.Session`` holds the app's state without widgets (data, model, runs), ``main_window.MainWindow``
builds the window and wires its panels to the session, ``worker.TrainingWorker`` runs the core trainer on
a ``QThread``; each panel lives in its own module.
"""
