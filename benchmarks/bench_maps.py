"""Representation maps benchmark (run by hand, not in CI), on the MNIST files:

a run of the ``default`` preset recorded as the app and the CLI record it (``train_and_record``), with the maps'
work timed inside it: making each frame (forward pass on the 2 000 sample images, PCA, alignment, silhouettes)
and writing it to the store. It prints, per epoch, the training time, the maps' time and their ratio; the size of
a stored frame; the last hidden layer's separation (its mean silhouette) at each epoch, from its value at
initialisation; and how far the points move from one frame to the next (median displacement as a share of the
cloud's RMS radius), with the validation accuracy's change.

    python benchmarks/bench_maps.py [--epochs 8] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from scratchnet.data import load_dataset, locate_or_download
from scratchnet.inspect.maps import MapRecorder
from scratchnet.presets import load_preset
from scratchnet.runs import RunRecorder, RunStore, train_and_record


def timed(owner: type, name: str, spent: dict, key) -> None:
    """Wrap ``owner.name`` so that the seconds each call takes are added to ``spent[key()]``."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key()] += time.perf_counter() - start

    setattr(owner, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    dataset = load_dataset(locate_or_download(args.data_dir))
    config = load_preset("default")[0].replace(epochs=args.epochs)
    epoch_now = [0]  # the epoch the run is in (0: before training)
    spent: dict[int, float] = defaultdict(float)
    timed(MapRecorder, "frame", spent, lambda: epoch_now[0])
    timed(RunRecorder, "on_map_frame", spent, lambda: epoch_now[0])
    frames = []

    def on_epoch(event) -> None:
        epoch_now[0] = event.epoch + 1 if event.epoch < event.epochs else event.epoch

    with tempfile.TemporaryDirectory() as folder:
        store = RunStore(Path(folder) / "runs.sqlite3")
        epoch_now[0] = 0
        outcome = train_and_record(
            config,
            dataset,
            store,
            print,
            on_epoch=on_epoch,
            on_batch=lambda event: epoch_now.__setitem__(0, event.epoch),
            on_map_frame=lambda sample, frame: frames.append(frame),
        )
        (frame_bytes,) = (
            sqlite3.connect(store.path)
            .execute("SELECT avg(length(points) + length(scales) + length(scores) + length(predictions)) FROM map_frames")
            .fetchone()
        )
        store.close()
    history = outcome.history
    images = len(frames[0].predictions)
    print(f"default preset, {args.epochs} epochs; {len(frames)} frames of {images:,} images, {frame_bytes / 1024:.1f} KB each")
    print(f"before training: maps {spent[0]:.3f} s (the pixels' map and silhouette, made once)")
    print("epoch  train s  maps s  maps/train  last hidden silhouette  val acc  median move / RMS radius")
    by_epoch = {round(frame.epoch, 6): frame for frame in frames}
    previous = by_epoch[0.0]
    for event in history:
        frame = by_epoch.get(float(event.epoch))
        if frame is None:
            continue
        points, before = frame.points[-2], previous.points[-2]
        radius = np.sqrt((points**2).sum(axis=1).mean())
        motion = np.median(np.linalg.norm(points - before, axis=1)) / radius
        print(
            f"{event.epoch:5d}  {event.seconds:7.2f}  {spent[event.epoch]:6.3f}  {100 * spent[event.epoch] / event.seconds:9.1f} %"
            f"  {frames[0].scores[-2]:.3f} → {frame.scores[-2]:.3f}"
            f"            {100 * (event.val_accuracy or 0):6.2f}  {100 * motion:6.1f} %"
        )
        previous = frame
    total_train, total_maps = sum(event.seconds for event in history), sum(spent.values())
    print(f"whole run: training {total_train:.2f} s, maps {total_maps:.2f} s = {100 * total_maps / total_train:.1f} % of training")


if __name__ == "__main__":
    main()
