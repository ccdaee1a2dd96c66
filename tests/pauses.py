"""Where a training run's trainer is, seen from a test: at which batch boundary, and whether it waits in a pause.

A trainer calls ``RunControls.wait_while_paused`` before every batch. ``TrainerPauses`` wraps that method for
every run of a test, so that a test can wait for the event "the trainer has finished the batch in flight and
waits in its pause" instead of sleeping for long enough, and can count the batches started.
"""

from __future__ import annotations

import threading

from scratchnet.controls import RunControls


class TrainerPauses:
    """``waiting`` is set while a trainer waits in a pause (from just before it starts waiting until it goes on);
    ``boundaries`` counts the batch boundaries the trainers passed (one before every batch, and the one where a
    run ends on a stop); ``held`` says, for every wait in a pause, whether it lasted until the run was resumed or
    stopped (False: the trainer went on while still paused)."""

    def __init__(self, monkeypatch):
        self.waiting = threading.Event()
        self.boundaries = 0
        self.held: list[bool] = []
        wait_while_paused = RunControls.wait_while_paused

        def watched(controls: RunControls) -> float:
            self.boundaries += 1
            if not controls.paused:
                return wait_while_paused(controls)
            self.waiting.set()
            try:
                return wait_while_paused(controls)
            finally:
                self.held.append(not controls.paused)
                self.waiting.clear()

        monkeypatch.setattr(RunControls, "wait_while_paused", watched)
