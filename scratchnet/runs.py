"""The run store: every training run, recorded in one SQLite file, to be listed, compared, exported and reopened.

    store = RunStore()                                    # <data home>/runs.sqlite3, made when missing
    outcome = train_and_record(config, dataset, store, warn=print)  # trained, scored on the test set, recorded
    store.runs()                                          # summaries, newest first
    store.run(outcome.run_id)                             # everything recorded about one run: a StoredRun

``train_and_record`` is the one way a run goes, in the CLI and in the app: it records with a ``RunRecorder``
as the trainer runs, so that an error (or Ctrl+C) still leaves the run in the store, marked "failed"
("interrupted"). ``RunOutcome`` is how a run ended: what it returns and what ``RunStore.finish`` records.

Tables: ``runs`` (one row per run: when, how it ended, its settings, dataset and machine as JSON, the headline
figures), ``epochs`` (one row per completed epoch, written as the epoch ends, so that a killed process leaves
its epochs behind), ``curves`` (the smoothed batch loss, at most 2 000 (epochs, loss) pairs of little-endian
float32), ``maps`` and ``map_frames`` (the run's representation maps, ``scratchnet.inspect.maps``: its sample of
test images, then one frame at the start, after each epoch and, in short runs, within them; about 36 KB a frame for
the default network; read back by ``RunStore.maps``), ``health`` (the health signals measured while it trained,
``scratchnet.health``: one row per sample and dense layer, written as each epoch ends) and ``edits`` (for a run
that is an edited copy of another run's weights, the app's Save as new model: which run, and the edits made,
``inspect.edits``). The weights of every run that completed an epoch (and of every edited copy) go to
``models/<id>.safetensors`` beside the store; deleting a run deletes that file and no other, whatever its row says.

Several processes may record at once: the journal is a write-ahead log, so readers never wait for a writer, and
a writer waits up to ``BUSY_TIMEOUT`` seconds for another to finish, then fails ("another process holds it
locked"): a run goes on unrecorded rather than freeze. Each thread has its own connection, so that a thread
waiting to write keeps no other waiting. Opening a store
- moves a file that is not a readable ScratchNet store aside to ``runs.sqlite3.corrupt-<UTC time>`` (nothing is
  deleted), starts a fresh one and says so in ``notice``;
- creates or upgrades the schema, whose version is ``PRAGMA user_version``, one migration per version;
- marks "interrupted" the runs left "running" by a process of this machine that is gone;
- purges the runs deleted more than a day ago (``delete`` only hides a run, so that it can be restored).
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import errno
import functools
import io
import json
import math
import os
import platform
import socket
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import psutil

from . import stored_values
from .atomic import atomic_write, remove_files, unsafe_target
from .config import TrainConfig
from .controls import RunControls
from .data import Dataset
from .errors import ConfigError, RunStoreError
from .health import HEALTH_COLUMNS, MAX_STORED_ROWS, HealthHistory, HealthSample, health_rows, read_health_rows
from .hints import Hint, hints_for
from .home import data_home
from .inspect import maps as representation
from .inspect.edits import Edit, describe_edits, edit_to_dict, edits_from_list
from .model import Model, save_model
from .nn.activations import get_activation
from .nn.metrics import LossSmoother
from .nn.network import Params
from .trainer import BatchEvent, EpochEvent, Trainer, TrainingData, TrainResult, score_on_test_set

STORE_NAME = "runs.sqlite3"
MODELS_FOLDER = "models"
APPLICATION_ID = 0x53434E54  # "SCNT" in PRAGMA application_id: tells our store from any other SQLite file
BUSY_TIMEOUT = 2.0  # seconds a writer waits for another process's write to end (a reader, for an exclusive lock)
PURGE_DELETED_AFTER = 24 * 3600  # seconds a deleted run can still be restored, at least
MAX_CURVE_POINTS = 2000
RUNNING = "running"
ENDINGS = ("completed", "early_stopped", "stopped", "interrupted", "diverged", "failed")  # TrainResult.status, or "failed"
EPOCH_COLUMNS = tuple(field.name for field in dataclasses.fields(EpochEvent))  # the epochs table's, in the same order

# The representation maps of a run (scratchnet.inspect.maps): its sample of test images, then one row per frame.
MAPS_TABLES = [
    """CREATE TABLE maps (
        run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        indices BLOB NOT NULL,                  -- the sample's indices in the test set, little-endian uint32
        labels BLOB NOT NULL,                   -- their classes, little-endian uint16
        layers TEXT NOT NULL,                   -- JSON list of the layers' names: "pixels", "hidden 1", ..., "output"
        classes TEXT NOT NULL,                  -- JSON list of the class names
        fingerprint TEXT                        -- Dataset.test_fingerprint of the test set the indices are of
    )""",
    """CREATE TABLE map_frames (
        run_id INTEGER NOT NULL REFERENCES maps (run_id) ON DELETE CASCADE,
        frame INTEGER NOT NULL,                 -- 0, 1, ...: in the order they were made
        epoch REAL NOT NULL,                    -- epochs of training behind the weights
        points BLOB NOT NULL,                   -- (layers, n, 2) little-endian float16, each layer divided by its scale
        scales BLOB NOT NULL,                   -- (layers,) float32
        scores BLOB NOT NULL,                   -- (layers, 1 + classes) float32: the layer's silhouette, then each class's
        predictions BLOB NOT NULL,              -- (n,) uint16: the class the network gave each image
        PRIMARY KEY (run_id, frame)
    )""",
]
MAX_MAP_FRAMES = 10_000  # frames of a run read back (a run records a few hundred at most)
# Version 3: the health signals of each run (scratchnet.health), one row per sample and dense layer.
HEALTH_MIGRATION = [
    """CREATE TABLE health (
        run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        at REAL NOT NULL,                       -- epochs of training when the sample was taken
        layer INTEGER NOT NULL,                 -- dense layer, 0 first; the last is the output layer
        loss REAL,                              -- the batch loss (the same in each layer's row)
        mean REAL, spread REAL, dead REAL, saturated REAL,  -- activations; NULL for the output layer
        grad_norm REAL, update_ratio REAL,      -- NULL: not finite, or not measured
        PRIMARY KEY (run_id, at, layer)
    ) WITHOUT ROWID""",
]
# Version 4: the edited copies of runs' weights (the app's Save as new model): each is a run of its own, and this row says
# which run's weights it edits and how.
EDITS_TABLE = [
    """CREATE TABLE edits (
        run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        edit_of INTEGER,                        -- the run whose weights were edited (NULL: weights no run recorded);
                                                -- no foreign key: the edit keeps its history when that run goes
        edits TEXT NOT NULL                     -- JSON list of inspect.edits.edit_to_dict, in the order made
    )""",
]

# MIGRATIONS[v] turns a store of version v - 1 (0: an empty file) into version v. Never edit a released one:
# add the next version instead.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started REAL NOT NULL,                  -- Unix time
            ended REAL,
            status TEXT NOT NULL,                   -- "running" or one of ENDINGS
            message TEXT NOT NULL DEFAULT '',
            config TEXT NOT NULL,                   -- JSON of TrainConfig.to_dict()
            dataset TEXT NOT NULL,                  -- JSON of DatasetIdentity
            environment TEXT NOT NULL,              -- JSON of Environment
            host TEXT NOT NULL,                     -- the recording process: host name,
            pid INTEGER NOT NULL,                   -- process id
            process_started REAL NOT NULL,          -- and start time (process ids are reused)
            epochs INTEGER NOT NULL DEFAULT 0,      -- completed epochs
            val_accuracy REAL,
            test_accuracy REAL,
            test TEXT,                              -- JSON of metrics.evaluate on the test set
            train_seconds REAL NOT NULL DEFAULT 0,
            samples_per_second REAL NOT NULL DEFAULT 0,
            model_file TEXT,                        -- relative to the store's folder
            deleted REAL                            -- Unix time of a delete not yet purged
        )""",
        "CREATE INDEX runs_by_start ON runs (started)",
        "CREATE INDEX runs_running ON runs (host) WHERE status = 'running'",
        "CREATE INDEX runs_deleted ON runs (deleted) WHERE deleted IS NOT NULL",
        """CREATE TABLE epochs (
            run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            epoch INTEGER NOT NULL, epochs INTEGER NOT NULL, train_loss REAL, train_accuracy REAL,
            val_loss REAL, val_accuracy REAL, seconds REAL, lr REAL,
            PRIMARY KEY (run_id, epoch)
        ) WITHOUT ROWID""",
        """CREATE TABLE curves (
            run_id INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
            points BLOB NOT NULL                    -- (epochs, smoothed loss) pairs, little-endian float32
        )""",
    ],
    2: MAPS_TABLES,
    3: HEALTH_MIGRATION,
    4: EDITS_TABLE,
}


@dataclass(frozen=True)
class DatasetIdentity:
    """Which data a run learnt from: enough to tell two datasets apart and to compare runs fairly."""

    name: str
    fingerprint: str | None  # Dataset.test_fingerprint
    class_names: list[str]
    image_shape: tuple[int, int]
    train_size: int
    validation_size: int

    @classmethod
    def of(cls, data: TrainingData) -> DatasetIdentity:
        shape = tuple(data.image_shape)
        return cls(data.dataset_name, data.dataset_fingerprint, list(data.class_names), shape, len(data.train_x), len(data.val_x))


@dataclass(frozen=True)
class Environment:
    """The software a run's speed depends on: NumPy, its BLAS library and that library's threads."""

    numpy: str
    blas: str  # "openblas 0.3.27", or "unknown"
    threads: int | None  # BLAS's count as the run starts; the count the run trained with once it ends (scratchnet.threads)
    python: str
    machine: str

    @classmethod
    def current(cls) -> Environment:
        from threadpoolctl import threadpool_info

        blas = next((pool for pool in threadpool_info() if pool.get("user_api") == "blas"), {})
        name = f"{blas['internal_api']} {blas.get('version') or ''}".strip() if blas else "unknown"
        return cls(np.__version__, name, blas.get("num_threads"), platform.python_version(), platform.platform(terse=True))


@dataclass
class RunSummary:
    """One line of the run list: what ``RunStore.runs`` returns for each run.

    Every value is checked as it is read (``scratchnet.stored_values``): one that this store would not have
    written (text where a number belongs, a time of 1e300 s, ...) reads as unknown (None; "unknown" for the
    status), and its field is named in ``unreadable``."""

    id: int
    started: datetime | None  # UTC
    ended: datetime | None
    status: str  # "running", one of ENDINGS, or "unknown"
    message: str
    config_json: str = dataclasses.field(repr=False)  # read as ``config`` when asked for: listing many runs stays fast
    dataset_name: str | None
    epochs: int | None  # completed epochs
    val_accuracy: float | None  # of the weights kept (of the last epoch while running)
    test_accuracy: float | None
    train_seconds: float | None
    samples_per_second: float | None
    blas_threads: int | None  # its environment's threads: the BLAS thread count it trained with
    model_path: Path | None  # the weights, when the run completed an epoch
    unreadable: tuple[str, ...] = ()  # the fields whose stored values could not be read
    edit_of: int | None = None  # for an edited copy of a run's weights: that run (None: weights no run recorded)
    edits: tuple[Edit, ...] | None = None  # for an edited copy: the edits made, in order; None for any other run

    @functools.cached_property
    def config(self) -> dict:
        """The run's settings as it ended (``TrainConfig.to_dict()``): only the settings whose values are numbers,
        text or lists of them; {} when none can be read."""
        try:
            settings = stored_values.json_object(self.config_json)
        except stored_values.Unreadable:
            return {}
        return {stored_values.printable(name): _setting_value(value) for name, value in settings.items() if _is_setting_value(value)}

    @property
    def edit_text(self) -> str | None:
        """For an edited copy of a run's weights, what it is: "edit of run 3: pruned the 90 % smallest weights";
        None for any other run."""
        if self.edits is None:
            return None
        base = f"run {self.edit_of}" if self.edit_of is not None else "weights no run recorded"
        return f"edit of {base}: {describe_edits(self.edits) or 'no edits'}"

    @property
    def settings(self) -> str:
        """The short label of the run's settings (``TrainConfig.describe``), e.g. ``128-128 relu adam lr=0.002 …``."""
        if not self.config:
            return "(settings unreadable)"
        try:
            return TrainConfig.from_dict(self.config).describe()
        except ConfigError:  # recorded by a ScratchNet with other settings
            return "(settings unknown to this version)"

    def to_json(self) -> dict:
        """Every field as JSON-ready values: times in ISO 8601, paths as strings, NaN and infinities as null."""
        fields = {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.name not in ("config_json", "edits")}
        edits = None if self.edits is None else [edit_to_dict(edit) for edit in self.edits]
        return _json_ready({**fields, "config": self.config, "edits": edits})


@dataclass
class StoredRun(RunSummary):
    """Everything recorded about one run: what ``RunStore.run`` returns (its values checked as ``RunSummary``'s;
    an epoch whose number cannot be read is left out, and so is a loss curve that is not (epochs, loss) pairs)."""

    dataset: DatasetIdentity | None = None
    environment: Environment | None = None
    history: list[EpochEvent] = dataclasses.field(default_factory=list)
    loss_curve: np.ndarray = dataclasses.field(default_factory=lambda: np.empty((0, 2), np.float32))  # (n, 2): epochs, loss
    test: dict | None = None  # metrics.evaluate on the test set
    host: str = ""
    pid: int | None = None


def unreadable_notice(runs: list[RunSummary]) -> str | None:
    """What to tell the user about runs holding values that could not be read (None when there are none)."""
    damaged = [run for run in runs if run.unreadable]
    if not damaged:
        return None
    fields = ", ".join(dict.fromkeys(field for run in damaged for field in run.unreadable))
    ids = ", ".join(str(run.id) for run in damaged[:5]) + (f" and {len(damaged) - 5} more" if len(damaged) > 5 else "")
    runs_text = f"runs {ids} of the run store hold" if len(damaged) > 1 else f"run {ids} of the run store holds"
    return f"{runs_text} values this ScratchNet cannot read ({fields}); they are shown as unknown"


@dataclass
class RunOutcome:
    """How a run ended: its status, its final network and its scores. ``train_and_record`` returns it, the app's
    worker sends it, and ``RunStore.finish`` records it."""

    status: str  # one of ENDINGS
    message: str = ""
    train_seconds: float | None = None  # None: the sum of the recorded epochs' seconds
    samples_per_second: float = 0.0
    test: dict | None = None  # metrics.evaluate on the test set (None: not scored)
    loss_curve: np.ndarray | None = None  # (n, 2): epochs, smoothed batch loss; thinned to MAX_CURVE_POINTS
    model: Model | None = None  # the final weights, saved when the run completed at least one epoch
    blas_threads: int | None = None  # the BLAS thread count the run trained with (None: keep the count at its start)
    history: list[EpochEvent] = dataclasses.field(default_factory=list)  # its completed epochs
    weights_epoch: float = 0  # epochs of this run behind the final weights (see TrainResult.weights_epoch)
    batches_ahead: bool = False  # whether the way chosen last made batches ahead (see TrainResult.batches_ahead)
    run_id: int | None = None  # its id in the run store (None: not recorded)
    health: HealthHistory | None = None  # the health signals measured while it trained
    hints: list[Hint] = dataclasses.field(default_factory=list)  # what they say is wrong (scratchnet.hints)

    @property
    def test_accuracy(self) -> float | None:
        """The test accuracy worth showing: None when the model was not scored, or when a diverged run rolled
        back to the very weights it started from (its score is theirs, not the run's)."""
        if self.test is None or (self.status == "diverged" and self.weights_epoch == 0):
            return None
        return self.test["accuracy"]


class RunStore:
    """The runs recorded in the SQLite file ``path`` (default: ``runs.sqlite3`` in the data home).

    Safe to share between threads (each has a connection of its own) and between processes (SQLite's locking).
    Every failure of the file or the database is raised as ``RunStoreError``."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else data_home() / STORE_NAME
        self.notice: str | None = None  # set when an unusable store was moved aside; for the user to read
        self._thread_connection = threading.local()  # (a thread's is closed as the thread ends)
        self._closed = False
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._open()
        except (OSError, sqlite3.Error) as error:
            raise RunStoreError(f"cannot open the run store {self.path}: {_reason(error)}") from None
        with contextlib.suppress(RunStoreError):  # housekeeping: when another process holds the store, the next open does it
            self._mark_abandoned_runs_interrupted()
            self.purge(deleted_before=time.time() - PURGE_DELETED_AFTER)

    def close(self) -> None:
        """Close the store: this thread's connection now, any other thread's at its next use."""
        self._closed = True
        with contextlib.suppress(sqlite3.Error):
            self._connection()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ---- recording ---------------------------------------------------------------------------------

    def begin(self, config: TrainConfig, dataset: DatasetIdentity, environment: Environment | None = None) -> int:
        """Record the start of a run by this process; return its id."""
        environment = environment or Environment.current()
        process = psutil.Process()
        with self._transaction() as db:
            return db.execute(
                "INSERT INTO runs (started, status, config, dataset, environment, host, pid, process_started) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    RUNNING,
                    json.dumps(config.to_dict()),
                    json.dumps(dataclasses.asdict(dataset)),
                    json.dumps(dataclasses.asdict(environment)),
                    socket.gethostname(),
                    process.pid,
                    process.create_time(),
                ),
            ).lastrowid

    def add_epoch(self, run_id: int, event: EpochEvent) -> None:
        """Record a completed epoch (at once, so that it survives a killed process)."""
        with self._transaction() as db:
            names = ", ".join(EPOCH_COLUMNS)
            values = ", ".join(f":{name}" for name in EPOCH_COLUMNS)
            db.execute(f"INSERT OR REPLACE INTO epochs (run_id, {names}) VALUES (:run_id, {values})", {"run_id": run_id, **vars(event)})
            db.execute(
                "UPDATE runs SET epochs = ?, val_accuracy = ?, train_seconds = train_seconds + ? WHERE id = ?",
                (event.epoch, event.val_accuracy, event.seconds, run_id),
            )

    def add_health(self, run_id: int, samples: list[tuple[float, HealthSample]]) -> None:
        """Record health samples, each at its point of training (in epochs)."""
        rows = [(run_id, *row) for at, sample in samples for row in health_rows(at, sample)]
        if rows:
            with self._transaction() as db:
                columns = ", ".join(HEALTH_COLUMNS)
                db.executemany(f"INSERT OR REPLACE INTO health (run_id, {columns}) VALUES (?{', ?' * len(HEALTH_COLUMNS)})", rows)

    def finish(self, run_id: int, outcome: RunOutcome) -> None:
        """Record how the run ended, with its loss curve; then save its weights if it completed an epoch."""
        if outcome.status not in ENDINGS:
            raise ValueError(f"unknown run ending {outcome.status!r}; expected one of {', '.join(ENDINGS)}")
        model = outcome.model
        with self._transaction() as db:
            ended = db.execute(
                "UPDATE runs SET ended = ?, status = ?, message = ?, train_seconds = COALESCE(?, train_seconds), "
                "samples_per_second = ?, test = ?, test_accuracy = ?, val_accuracy = COALESCE(?, val_accuracy), "
                "config = COALESCE(?, config), environment = json_set(environment, '$.threads', COALESCE(?, "
                "json_extract(environment, '$.threads'))) WHERE id = ?",
                (
                    time.time(),
                    outcome.status,
                    outcome.message,
                    outcome.train_seconds,
                    outcome.samples_per_second,
                    json.dumps(_json_ready(outcome.test)) if outcome.test else None,
                    (outcome.test or {}).get("accuracy"),
                    model.metrics.get("val_accuracy") if model else None,
                    json.dumps(model.config) if model else None,
                    outcome.blas_threads,
                    run_id,
                ),
            )
            if ended.rowcount == 0:
                raise _no_such_runs([run_id])
            if outcome.loss_curve is not None and len(outcome.loss_curve):
                points = thinned(np.asarray(outcome.loss_curve), MAX_CURVE_POINTS).astype("<f4").tobytes()
                db.execute("INSERT OR REPLACE INTO curves (run_id, points) VALUES (?, ?)", (run_id, points))
            completed = db.execute("SELECT epochs FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
        if model is not None and completed >= 1:
            self._save_weights(run_id, model)

    def record(self, config: TrainConfig, dataset: DatasetIdentity, outcome: RunOutcome) -> int:
        """Record at once a run that was not recorded as it trained (a fine-tune the learner chose to keep): its
        start, its epochs (``outcome.history``) and its end; return its id."""
        run_id = self.begin(config, dataset)
        for event in outcome.history:
            self.add_epoch(run_id, event)
        self.finish(run_id, outcome)
        return run_id

    def record_edit(self, config: dict, dataset: DatasetIdentity, outcome: RunOutcome, edit_of: int | None, edits: Iterable[Edit]) -> int:
        """Record an edited copy of a run's weights (``outcome.model``) as a run of its own: no epochs of its own,
        its test-set report, its weights, and in the edits table the run whose weights it edits (``edit_of``; None:
        weights no run recorded) and the ``edits`` made to them. ``config``: the settings those weights were
        trained with (recorded as they are). Returns its id."""
        environment = Environment.current()
        process = psutil.Process()
        with self._transaction() as db:
            run_id = db.execute(
                "INSERT INTO runs (started, status, config, dataset, environment, host, pid, process_started) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    RUNNING,
                    json.dumps(_json_ready(config)),
                    json.dumps(dataclasses.asdict(dataset)),
                    json.dumps(dataclasses.asdict(environment)),
                    socket.gethostname(),
                    process.pid,
                    process.create_time(),
                ),
            ).lastrowid
            listed = json.dumps([edit_to_dict(edit) for edit in edits])
            db.execute("INSERT INTO edits (run_id, edit_of, edits) VALUES (?, ?, ?)", (run_id, edit_of, listed))
        self.finish(run_id, dataclasses.replace(outcome, history=[]))
        self._save_weights(run_id, outcome.model)  # (``finish`` saves those of runs that trained an epoch)
        return run_id

    def _save_weights(self, run_id: int, model: Model) -> None:
        """Save the weights to ``models/<id>.safetensors``, then point the run at them. The file is written
        outside any transaction, so that other processes need not wait for it."""
        model_file = _weights_name(run_id)
        try:
            save_model(model, self.path.parent / model_file)
        except OSError as error:
            raise RunStoreError(f"cannot save the weights of run {run_id}: {_reason(error)}") from None
        with self._transaction() as db:
            db.execute("UPDATE runs SET model_file = ? WHERE id = ?", (model_file, run_id))

    def add_map_frame(self, run_id: int, number: int, sample: representation.MapSample, frame: representation.MapFrame) -> None:
        """Record frame ``number`` (0, 1, …) of the run's representation maps; the first also records their sample."""
        with self._transaction() as db:
            if number == 0:  # (any maps of an earlier run of this id, deleted by another program, go)
                db.execute("DELETE FROM map_frames WHERE run_id = ?", (run_id,))
                db.execute("DELETE FROM maps WHERE run_id = ?", (run_id,))
                db.execute(
                    "INSERT INTO maps (run_id, indices, labels, layers, classes, fingerprint) VALUES (?, ?, ?, ?, ?, ?)",
                    (run_id, *representation.sample_row(sample)),
                )
            db.execute(
                "INSERT OR REPLACE INTO map_frames (run_id, frame, epoch, points, scales, scores, predictions) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, number, *representation.frame_row(frame)),
            )

    # ---- reading -----------------------------------------------------------------------------------

    def runs(self) -> list[RunSummary]:
        """Every run not deleted, newest first (one indexed query: fast for tens of thousands of runs)."""
        rows = self._read(f"SELECT {_SUMMARY_COLUMNS} FROM runs WHERE deleted IS NULL ORDER BY started DESC, id DESC")
        return [RunSummary(**self._summary_fields(row)) for row in rows]

    def run(self, run_id: int) -> StoredRun:
        """Everything recorded about one run; ``RunStoreError`` when there is no such run."""
        if not 0 < run_id <= stored_values.LARGEST_ID:
            raise _no_such_runs([run_id])
        with self._transaction(write=False) as db:  # one snapshot: the run, its epochs and curve as of one moment
            row = db.execute(
                f"SELECT {_SUMMARY_COLUMNS}, dataset, environment, test, host, pid FROM runs WHERE id = ? AND deleted IS NULL",
                (run_id,),
            ).fetchone()
            if row is None:
                raise _no_such_runs([run_id])
            history = db.execute(f"SELECT {', '.join(EPOCH_COLUMNS)} FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,)).fetchall()
            curve = db.execute("SELECT points FROM curves WHERE run_id = ?", (run_id,)).fetchone()
        summary = self._summary_fields(row)
        details, unreadable = _read_fields(_DETAIL_READERS, dict(zip(_DETAIL_READERS, row[len(_SUMMARY_FIELDS) :])))
        epochs = [_epoch_event(values) for values in history]
        loss_curve = _loss_curve(curve[0] if curve else None)
        unreadable += ["epochs"] * (None in epochs) + ["loss curve"] * (loss_curve is None)
        return StoredRun(
            **{**summary, "unreadable": summary["unreadable"] + tuple(unreadable)},
            **{name: value for name, value in details.items() if value is not None},
            history=[event for event in epochs if event is not None],
            loss_curve=np.empty((0, 2), np.float32) if loss_curve is None else loss_curve,
        )

    def maps(self, run_id: int) -> representation.RunMaps | None:
        """The run's representation maps (``scratchnet.inspect.maps``), read back as a stranger's input: None when it
        has none (recorded before ScratchNet kept them, or a fine-tune); ``RunStoreError`` when there is no such run,
        or its maps' sample cannot be read. A frame that cannot be read is left out (and counted in ``unreadable``);
        a blob longer than the sample needs is not even loaded."""
        if not 0 < run_id <= stored_values.LARGEST_ID:
            raise _no_such_runs([run_id])
        with self._transaction(write=False) as db:
            if db.execute("SELECT 1 FROM runs WHERE id = ? AND deleted IS NULL", (run_id,)).fetchone() is None:
                raise _no_such_runs([run_id])
            limits = (
                4 * representation.MAX_SAMPLE,
                2 * representation.MAX_SAMPLE,
                stored_values.MAX_JSON,
                stored_values.MAX_JSON,
                stored_values.MAX_TEXT,
            )
            header = db.execute(
                "SELECT CASE WHEN length(indices) <= ? THEN indices END, CASE WHEN length(labels) <= ? THEN labels END, "
                "CASE WHEN length(layers) <= ? THEN layers END, CASE WHEN length(classes) <= ? THEN classes END, "
                "CASE WHEN length(fingerprint) <= ? THEN fingerprint END FROM maps WHERE run_id = ?",
                (*limits, run_id),
            ).fetchone()
            if header is None:
                return None
            try:
                sample = representation.sample_from_row(*header)
            except stored_values.Unreadable:
                raise RunStoreError(f"the maps of run {run_id} cannot be read: their sample of test images is damaged") from None
            stored = db.execute("SELECT count(*) FROM map_frames WHERE run_id = ?", (run_id,)).fetchone()[0]
            rows = db.execute(
                "SELECT epoch, points, scales, scores, predictions FROM map_frames WHERE run_id = ? AND length(points) = ? "
                "AND length(scales) = ? AND length(scores) = ? AND length(predictions) = ? ORDER BY frame LIMIT ?",
                (run_id, *representation.frame_sizes(sample), MAX_MAP_FRAMES),
            ).fetchall()
        frames = []
        for row in rows:
            with contextlib.suppress(stored_values.Unreadable):
                frames.append(representation.frame_from_row(sample, *row))
        return representation.RunMaps(sample, frames, run_id, unreadable=min(stored, MAX_MAP_FRAMES) - len(frames))

    def health(self, run_id: int) -> HealthHistory:
        """The health samples recorded with a run, read as a stranger's input (``health.read_health_rows``); none
        for a run recorded before the store kept them. ``RunStoreError`` when there is no such run."""
        self._check_exist([run_id])
        with self._transaction(write=False) as db:
            classes = db.execute(
                "SELECT CASE WHEN json_valid(dataset) THEN json_array_length(dataset, '$.class_names') END FROM runs WHERE id = ?",
                (run_id,),
            ).fetchone()[0]
            rows = db.execute(
                f"SELECT {', '.join(HEALTH_COLUMNS)} FROM health WHERE run_id = ? ORDER BY at, layer LIMIT ?", (run_id, MAX_STORED_ROWS)
            ).fetchall()
        return read_health_rows(rows, classes if isinstance(classes, int) and classes >= 2 else 10)

    def export_csv(self, run_ids: Iterable[int], path: str | os.PathLike) -> None:
        """Write the epochs of the runs to a CSV file in long format: one row per run and epoch, with
        ``run_id``, the epoch and each metric as columns (numbers only: a figure that cannot be read is an empty
        cell). Written atomically, into an existing folder, never through a symbolic link; unknown ids write nothing."""
        run_ids = list(run_ids)
        self._check_exist(run_ids)
        _check_export_target(Path(path))
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["run_id", *EPOCH_COLUMNS])
        for run_id in run_ids:
            rows = self._read(f"SELECT {', '.join(EPOCH_COLUMNS)} FROM epochs WHERE run_id = ? ORDER BY epoch", run_id)
            events = [event for event in map(_epoch_event, rows) if event is not None]
            writer.writerows([run_id, *("" if value is None else value for value in dataclasses.astuple(event))] for event in events)
        try:
            atomic_write(path, text.getvalue().encode())
        except OSError as error:
            raise RunStoreError(f"cannot write {path}: {_reason(error)}") from None

    # ---- deleting ----------------------------------------------------------------------------------

    def delete(self, run_ids: Iterable[int]) -> None:
        """Hide the runs; ``restore`` brings them back until ``purge`` removes them (a day later, at the latest
        when a store is next opened then). Unknown ids delete nothing."""
        run_ids = list(run_ids)
        self._check_exist(run_ids)
        self._set_deleted(run_ids, time.time())

    def restore(self, run_ids: Iterable[int]) -> None:
        """Undo ``delete`` for runs not purged yet."""
        self._set_deleted(list(run_ids), None)

    def purge(self, run_ids: Iterable[int] | None = None, deleted_before: float | None = None) -> None:
        """Remove for good the deleted runs (only ``run_ids``, or only those deleted before that Unix time, when
        given), their epochs, curves and weights."""
        condition, values = "deleted IS NOT NULL", []
        if run_ids is not None:
            run_ids = list(run_ids)
            condition += f" AND id IN ({', '.join('?' * len(run_ids))})"
            values += run_ids
        if deleted_before is not None:
            condition += " AND deleted < ?"
            values.append(deleted_before)
        purged = f"SELECT id, model_file FROM runs WHERE {condition}"
        if not self._read(purged, *values):  # nothing to purge: no need to wait for the write lock
            return
        with self._transaction() as db:
            rows = db.execute(purged, values).fetchall()
            db.execute(f"DELETE FROM runs WHERE {condition}", values)
        weights = [self._own_weights(run_id, model_file) for run_id, model_file in rows]
        remove_files([path for path in weights if path is not None])  # after the rows: a row never points at a missing file

    def _weights_path(self, run_id: int, model_file: object) -> Path | None:
        """Where run ``run_id``'s weights are, when its row names the file the store wrote for it
        (``models/<id>.safetensors``); None for any other name: a row cannot point the store at another file."""
        return self.path.parent / model_file if model_file == _weights_name(run_id) else None

    def _own_weights(self, run_id: int, model_file: object) -> Path | None:
        """The file that deleting run ``run_id`` may delete: the weights the store wrote for it (``_weights_path``),
        when they are a regular file reached through no symbolic link; None otherwise."""
        path = self._weights_path(run_id, model_file)
        try:
            if path is None or path.parent.is_symlink() or not stat.S_ISREG(path.lstat().st_mode):
                return None
        except OSError:  # gone, or not ours to look at
            return None
        return path

    # ---- the database ------------------------------------------------------------------------------

    def _open(self) -> None:
        """Move an unusable store aside (looked at read-only, so that nothing in it, or in its WAL, is changed);
        then connect and bring the schema up to date."""
        _refuse_special_files(self.path)
        problem = _why_unusable(self.path) if self.path.exists() else None
        if problem:
            aside = self._move_aside()
            self.notice = f"the run store {self.path} {problem}; it was moved to {aside.name} and a new store was started"
        db = self._connection()
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # (asked first: setting it takes a lock)
            db.execute("PRAGMA journal_mode = WAL")
        _migrate(db)

    def wait_for_others(self, seconds: float) -> None:
        """Make this thread's calls wait at most ``seconds`` (instead of ``BUSY_TIMEOUT``) for another process's
        lock: the app's UI thread waits only a moment, so that it never freezes."""
        self._thread_connection.waits = seconds
        db = getattr(self._thread_connection, "db", None)
        if db is not None:
            db.execute(f"PRAGMA busy_timeout = {round(seconds * 1000)}")

    def _waits(self) -> float:
        return getattr(self._thread_connection, "waits", BUSY_TIMEOUT)

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection to the store, made at its first use (closed, once the store is)."""
        db = getattr(self._thread_connection, "db", None)
        if self._closed:
            if db is not None:
                db.close()
            raise sqlite3.ProgrammingError("the run store is closed")
        if db is None:
            db = sqlite3.connect(self.path, timeout=self._waits(), isolation_level=None)
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA synchronous = NORMAL")  # with WAL: a power cut may lose the last writes, never the store
            self._thread_connection.db = db
        return db

    def _move_aside(self) -> Path:
        """Rename the store (and its WAL and shared-memory files) to ``<name>.corrupt-<UTC time>``; return the new path."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        copy = 1
        while aside.exists():  # two in the same second: never replace an earlier one
            copy += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{copy}")
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{self.path}{suffix}", f"{aside}{suffix}")
        return aside

    def _mark_abandoned_runs_interrupted(self) -> None:
        """A run still "running" whose process (on this machine) is gone was killed: mark it interrupted."""
        running = self._read("SELECT id, pid, process_started FROM runs WHERE status = ? AND host = ?", RUNNING, socket.gethostname())
        gone = [run_id for run_id, pid, started in running if not _process_alive(pid, started)]
        if gone:
            with self._transaction() as db:
                db.execute(
                    f"UPDATE runs SET status = 'interrupted', message = ? WHERE status = ? AND id IN ({', '.join('?' * len(gone))})",
                    ("the process recording the run ended before the run did", RUNNING, *gone),
                )

    def _summary_fields(self, row: tuple) -> dict:
        """The ``RunSummary`` fields of a row of ``_SUMMARY_COLUMNS``, each read by its ``_SUMMARY_READERS``
        reader; a value that is not what the store writes is dropped and named in ``unreadable``."""
        stored = dict(zip(_SUMMARY_FIELDS, row))
        values, unreadable = _read_fields(_SUMMARY_READERS, stored)
        values["model_path"] = self._weights_path(values["id"], stored["model_path"])
        if values["model_path"] is None and stored["model_path"] is not None:
            unreadable.append("model_file")
        return {**values, "unreadable": tuple(unreadable)}

    def _check_exist(self, run_ids: list[int]) -> None:
        found = {run_id for (run_id,) in self._read("SELECT id FROM runs WHERE deleted IS NULL")}
        missing = [run_id for run_id in run_ids if run_id not in found]
        if missing:
            raise _no_such_runs(missing)

    def _set_deleted(self, run_ids: list[int], deleted: float | None) -> None:
        with self._transaction() as db:
            db.executemany("UPDATE runs SET deleted = ? WHERE id = ?", [(deleted, run_id) for run_id in run_ids])

    def _read(self, query: str, *values) -> list[tuple]:
        with self._transaction(write=False) as db:
            return db.execute(query, values).fetchall()

    @contextlib.contextmanager
    def _transaction(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction (a writing one takes the write lock at once, so it never has to be retried), with
        SQLite's errors raised as ``RunStoreError``."""
        try:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.Error as error:
            raise RunStoreError(f"the run store {self.path}: {_reason(error, self._waits())}") from None


_SUMMARY_FIELDS = tuple(field.name for field in dataclasses.fields(RunSummary) if field.name != "unreadable")
_SUMMARY_COLUMN_OF = {  # JSON looked into only when it is JSON: a malformed text must not fail the whole query
    "config_json": "config",
    "dataset_name": "CASE WHEN json_valid(dataset) THEN json_extract(dataset, '$.name') END",
    "blas_threads": "CASE WHEN json_valid(environment) THEN json_extract(environment, '$.threads') END",
    "model_path": "model_file",
    "edit_of": "(SELECT edit_of FROM edits WHERE edits.run_id = runs.id)",
    "edits": "(SELECT edits FROM edits WHERE edits.run_id = runs.id)",
}
_SUMMARY_COLUMNS = ", ".join(_SUMMARY_COLUMN_OF.get(name, name) for name in _SUMMARY_FIELDS)
RUN_STATUSES = (RUNNING, *ENDINGS)


def _status(value: object) -> str:
    if value not in RUN_STATUSES:
        raise stored_values.Unreadable(value)
    return value


def _json_text(value: object) -> str:
    if not isinstance(value, str) or len(value) > stored_values.MAX_JSON:
        raise stored_values.Unreadable(value)
    return value


# How each stored value is read back; model_path is the store's own (see RunStore._weights_path).
_SUMMARY_READERS: dict[str, Callable[[object], object]] = {
    "id": stored_values.whole,
    "started": stored_values.stored_time,
    "ended": stored_values.optional(stored_values.stored_time),
    "status": _status,
    "message": stored_values.text,
    "config_json": _json_text,
    "dataset_name": stored_values.optional(stored_values.text),
    "epochs": stored_values.whole,
    "val_accuracy": stored_values.optional(stored_values.fraction),
    "test_accuracy": stored_values.optional(stored_values.fraction),
    "train_seconds": stored_values.amount,
    "samples_per_second": stored_values.amount,
    "blas_threads": stored_values.optional(lambda value: stored_values.whole(value, low=1)),
    "edit_of": stored_values.optional(lambda value: stored_values.whole(value, low=1)),
    "edits": stored_values.optional(lambda value: _stored_edits(value)),
}
_UNKNOWN = {"status": "unknown", "message": "", "config_json": ""}  # what an unreadable value reads as (else None)
_DETAIL_READERS: dict[str, Callable[[object], object]] = {  # the columns of a StoredRun beyond its summary's
    "dataset": lambda value: stored_values.read_dataclass(DatasetIdentity, stored_values.json_object(value)),
    "environment": lambda value: stored_values.read_dataclass(Environment, stored_values.json_object(value)),
    "test": stored_values.optional(stored_values.json_object),
    "host": stored_values.text,
    "pid": stored_values.whole,
}
_EPOCH_READERS = {field.name: stored_values.optional(stored_values.READER_OF_TYPE[field.type]) for field in dataclasses.fields(EpochEvent)}


def _read_fields(readers: dict[str, Callable[[object], object]], stored: dict) -> tuple[dict, list[str]]:
    """``stored`` values read by their ``readers``, and the names of those that could not be (read as ``_UNKNOWN``)."""
    values, unreadable = {}, []
    for name, read in readers.items():
        try:
            values[name] = read(stored[name])
        except stored_values.Unreadable:
            values[name] = _UNKNOWN.get(name)
            unreadable.append(name)
    return values, unreadable


def _epoch_event(row: tuple) -> EpochEvent | None:
    """A row of the epochs table as an ``EpochEvent``, its unreadable figures None; None when its number is unreadable."""
    values, _ = _read_fields(_EPOCH_READERS, dict(zip(EPOCH_COLUMNS, row)))
    return EpochEvent(**values) if isinstance(values["epoch"], int) and values["epoch"] >= 1 else None


def _stored_edits(value: object) -> tuple[Edit, ...]:
    """The edits column of an edited copy: a JSON list of edits (``inspect.edits.edits_from_list``)."""
    try:
        return edits_from_list(stored_values.json_value(value))
    except ValueError:  # (Unreadable is one)
        raise stored_values.Unreadable(value) from None


def _loss_curve(points: object) -> np.ndarray | None:
    """The stored curve, (n, 2) float32 (epochs, smoothed loss), its rows of NaN or infinities left out; an
    empty one when none was stored; None when what is stored is not such pairs."""
    if points is None:
        return np.empty((0, 2), np.float32)
    if not isinstance(points, bytes) or len(points) % 8 or len(points) > 8 * MAX_CURVE_POINTS:
        return None
    curve = np.frombuffer(points, "<f4").reshape(-1, 2)
    return curve[np.isfinite(curve).all(axis=1)]


def _setting_value(value: object) -> object:
    """A stored setting's value, its texts fit to show (``stored_values.printable``)."""
    if isinstance(value, list):
        return [_setting_value(item) for item in value]
    return stored_values.printable(value) if isinstance(value, str) else value


def _is_setting_value(value: object) -> bool:
    """Whether a stored setting is a number, a text, a truth value, None, or a flat list of those (``hidden``)."""
    scalar = (type(None), bool, int, float, str)
    return isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(item, scalar) for item in value))


def _refuse_special_files(path: Path) -> None:
    """Refuse a store whose file, write-ahead log or shared memory is there but is not a regular file: SQLite
    would wait for ever opening a FIFO, and read a device without end."""
    kinds = {
        stat.S_ISFIFO: "a FIFO",
        stat.S_ISCHR: "a device",
        stat.S_ISBLK: "a device",
        stat.S_ISDIR: "a folder",
        stat.S_ISSOCK: "a socket",
    }
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm"):
        try:
            mode = os.stat(path.with_name(name)).st_mode
        except FileNotFoundError:
            continue
        kind = next((kind for is_kind, kind in kinds.items() if is_kind(mode)), None)
        if kind is not None:
            raise OSError(errno.EINVAL, f"{name} is {kind}, not a file")


def _why_unusable(path: Path) -> str | None:
    """Why the file cannot be used as a run store (not a database, damaged, another program's, or from a newer
    ScratchNet), or None when it can (an empty file can: it becomes a new store)."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT)
    try:
        check = db.execute("PRAGMA quick_check(1)").fetchone()[0]
        application_id = db.execute("PRAGMA application_id").fetchone()[0]
        version = db.execute("PRAGMA user_version").fetchone()[0]
        has_tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    except sqlite3.OperationalError:  # locked, unreadable, ...: a problem of access, not of the file
        raise
    except sqlite3.DatabaseError as error:  # "file is not a database", "database disk image is malformed"
        return f"is damaged ({error})"
    finally:
        db.close()
    if check != "ok":
        return f"is damaged ({check})"
    if has_tables and application_id != APPLICATION_ID:
        return "is not a ScratchNet run store"
    if version > max(MIGRATIONS):
        return f"was written by a newer ScratchNet (store version {version}; this one reads up to {max(MIGRATIONS)})"
    return None


def _migrate(db: sqlite3.Connection) -> None:
    """Apply the migrations from the store's version up to the latest, each in its own transaction (so that two
    processes opening a new store at once create it once). A store of the latest version is only read: opening
    it never waits for another process's write."""
    if db.execute("PRAGMA user_version").fetchone()[0] >= max(MIGRATIONS):
        return
    for version in range(1, max(MIGRATIONS) + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] < version:
                for statement in MIGRATIONS[version]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version}")
                db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def _process_alive(pid: object, started: object) -> bool:
    """Is the process that recorded a run still running? (The same id with another start time is another process;
    a stored id or start time that cannot be read is of no process.)"""
    try:
        return abs(psutil.Process(stored_values.whole(pid, low=1)).create_time() - stored_values.real(started)) < 1.0
    except (psutil.NoSuchProcess, stored_values.Unreadable, OverflowError):
        return False
    except psutil.Error:  # not allowed to look: assume it lives
        return True


def _check_export_target(path: Path) -> None:
    """Refuse a file to export to that ``atomic.unsafe_target`` finds unsafe to write."""
    if problem := unsafe_target(path):
        raise RunStoreError(f"cannot write {path}: {problem}")


def _weights_name(run_id: int) -> str:
    """The ``model_file`` of a run's weights, relative to the store's folder: the one name the store writes."""
    return f"{MODELS_FOLDER}/{run_id}.safetensors"


def _no_such_runs(run_ids: list[int]) -> RunStoreError:
    ids = ", ".join(str(run_id) for run_id in run_ids)
    return RunStoreError(f"no recorded run with id {ids}" if len(run_ids) == 1 else f"no recorded runs with ids {ids}")


def _reason(error: Exception, waited: float = BUSY_TIMEOUT) -> str:
    if isinstance(error, sqlite3.OperationalError) and "locked" in str(error):  # "database is locked": the wait timed out
        return f"another process holds it locked (waited {waited:g} s)"
    return getattr(error, "strerror", None) or str(error)


def _json_ready(value):
    """``value`` with datetimes as ISO 8601, paths as strings, dataclasses as dicts, tuples and arrays as lists,
    and NaN or infinities as None."""
    if dataclasses.is_dataclass(value):
        value = vars(value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return value


def thinned(points: np.ndarray, limit: int) -> np.ndarray:
    """At most ``limit`` rows of ``points``, evenly spread from the first to the last."""
    if len(points) <= limit:
        return points
    return points[np.unique(np.linspace(0, len(points) - 1, limit).round().astype(int))]


class SmoothedLoss:
    """The batch loss smoothed as the app's loss plot draws it (``LossSmoother``), kept for the store. Memory
    stays bounded: every ``stride``-th point is kept, and whenever
    ``2 * MAX_CURVE_POINTS`` have been kept, every other one is dropped and the stride doubles."""

    def __init__(self):
        self._smoother: LossSmoother | None = None  # made at the first batch, which tells the epoch's length
        self._count = 0
        self._stride = 1
        self._kept: list[tuple[float, float]] = []
        self._last: tuple[float, float] | None = None

    def add(self, event: BatchEvent) -> None:
        if self._smoother is None:
            self._smoother = LossSmoother(event.batches)
        self._count += 1
        self._last = (event.progress, self._smoother.add(event.loss))
        if (self._count - 1) % self._stride == 0:
            self._kept.append(self._last)
            if len(self._kept) >= 2 * MAX_CURVE_POINTS:
                self._kept = self._kept[::2]
                self._stride *= 2

    def points(self) -> np.ndarray:
        """(n, 2): epochs of training and smoothed loss, ending with the latest batch."""
        ending = [self._last] if self._kept and self._kept[-1] is not self._last else []
        return np.array(self._kept + ending, dtype=np.float32).reshape(-1, 2)


class RunRecorder:
    """Records one training run in a store as it happens; ``on_batch`` and ``on_epoch`` are trainer callbacks.

    Recording never stops training: when the store fails, ``warn`` is told once and recording stops. With no
    store (``None``), nothing is recorded."""

    def __init__(self, store: RunStore | None, config: TrainConfig, data: TrainingData, warn: Callable[[str], None]):
        self.store, self.warn, self.config = store, warn, config
        self.curve = SmoothedLoss()
        self.health = HealthHistory(data.num_classes)
        self._unsaved_health: list[tuple[float, HealthSample]] = []
        self.run_id = self._safely(lambda store: store.begin(config, DatasetIdentity.of(data)))
        self.map_frames = 0  # frames of the run's maps recorded

    def on_batch(self, event: BatchEvent) -> None:
        self.curve.add(event)
        if event.health is not None:
            self.health.add(event.progress_before, event.health)
            self._unsaved_health.append((event.progress_before, event.health))

    def on_epoch(self, event: EpochEvent) -> None:
        self._safely(lambda store: store.add_epoch(self.run_id, event))
        self._save_health()

    def _save_health(self) -> None:
        samples, self._unsaved_health = self._unsaved_health, []
        self._safely(lambda store: store.add_health(self.run_id, samples))

    def on_map_frame(self, sample: representation.MapSample, frame: representation.MapFrame) -> None:
        """A frame of the run's representation maps (``MapRecorder``'s ``on_frame``)."""
        self._safely(lambda store: store.add_map_frame(self.run_id, self.map_frames, sample, frame))
        self.map_frames += 1

    def finish(self, result: TrainResult, model: Model | None, test: dict | None) -> RunOutcome:
        """Record how the run ended, with its test-set report and the weights the run kept; return it."""
        outcome = RunOutcome(
            result.status,
            result.message,
            result.train_seconds,
            result.samples_per_second,
            test,
            self.curve.points(),
            model,
            result.blas_threads,
            result.history,
            result.weights_epoch,
            result.batches_ahead,
            self.run_id,
            self.health,
            hints_for(self.config, self.health, result.history),
        )
        self._save_health()  # those of an epoch cut short
        self._end(outcome)
        return outcome

    @contextlib.contextmanager
    def recording_aborts(self) -> Iterator[None]:
        """Record a run that the block ends by an exception: "interrupted" for ``KeyboardInterrupt``, else "failed"."""
        try:
            yield
        except BaseException as error:
            status = "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"
            self._end(RunOutcome(status, str(error) or type(error).__name__, loss_curve=self.curve.points()))
            raise

    def _end(self, outcome: RunOutcome) -> None:
        self._safely(lambda store: store.finish(self.run_id, outcome))
        self.store = None  # a run ends once

    def _safely(self, write: Callable[[RunStore], int | None]) -> int | None:
        if self.store is None:
            return None
        try:
            return write(self.store)
        except RunStoreError as error:
            self.warn(f"{error}; the run goes on without being recorded")
            self.store = None
            return None


def train_and_record(
    config: TrainConfig,
    dataset: Dataset,
    store: RunStore | None,
    warn: Callable[[str], None],
    *,
    params: Params | None = None,
    from_epoch: float = 0,
    controls: RunControls | None = None,
    on_batch: Callable[[BatchEvent], None] | None = None,
    on_epoch: Callable[[EpochEvent], None] | None = None,
    on_map_frame: Callable[[representation.MapSample, representation.MapFrame], None] | None = None,
    blas_threads: int | None = None,
    blas_thread_limit: int | None = None,
    train: Callable[[Trainer], TrainResult] = Trainer.run,
    skip_test: Callable[[], bool] = lambda: False,
) -> RunOutcome:
    """One training run, as the CLI and the app make it: hold out ``config.validation_size`` training images of
    ``dataset``, train ``config`` on the rest (from ``params`` trained for ``from_epoch`` epochs, with ``controls``
    and the BLAS threads as ``Trainer`` takes them), score the final weights on the test set and return how the
    run ended, recorded in ``store`` all along (None: not recorded; a failing store is told to ``warn`` once and
    the run goes on).

    The run's representation maps (``scratchnet.inspect.maps``) are made as it trains, recorded in ``store`` and
    handed to ``on_map_frame`` as each frame is made (none are made with neither).

    ``train(trainer)`` runs the trainer: the caller's place for what surrounds training (a progress bar, a Ctrl+C
    handler, reports). ``skip_test()``, asked when training ends, may skip the test set (the caller gave up on the
    run: its outcome's ``test`` is None). An exception is recorded as ending the run ("failed"; "interrupted" for
    ``KeyboardInterrupt``) and raised."""
    data = TrainingData.from_dataset(dataset, config.validation_size, config.dtype)
    recorder = RunRecorder(store, config, data, warn)
    with recorder.recording_aborts():
        maps = None
        if recorder.store is not None or on_map_frame is not None:
            on_frame = _each(recorder.on_map_frame, on_map_frame)
            activation = get_activation(config.activation)
            maps = representation.MapRecorder.of_run(
                dataset, len(config.hidden), activation, config.epochs, config.dtype, on_frame, from_epoch
            )
        # Recorded first: what the caller is told is in the store.
        on_batch = _each(recorder.on_batch, maps.on_batch if maps else None, on_batch)
        on_epoch = _each(recorder.on_epoch, maps.on_epoch if maps else None, on_epoch)
        trainer = Trainer(
            config, data, params, on_batch, on_epoch, controls, from_epoch, blas_threads=blas_threads, blas_thread_limit=blas_thread_limit
        )
        try:
            if maps is not None:
                maps.start(trainer.snapshot)  # the first frame: the weights before training
            result = train(trainer)
        finally:
            if maps is not None:
                maps.stop()  # the trainer, and its float copy of the training set, go as soon as the run ends
        model = trainer.model()
        test = None if skip_test() else score_on_test_set(model, dataset, result)
        return recorder.finish(result, model, test)


def _each(*callbacks: Callable | None) -> Callable:
    """One callback that calls each of ``callbacks`` in turn (those that are not None) with what it is given."""
    chosen = [callback for callback in callbacks if callback is not None]
    if len(chosen) == 1:
        return chosen[0]

    def each(*event) -> None:
        for callback in chosen:
            callback(*event)

    return each
