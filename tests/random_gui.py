"""A randomised run of the real window: seeded random clicks, keys, typed values, strokes, wheel turns, tab
switches, resizes, runs started, paused and stopped, and file dialogs answered with good, hostile or no files.

    python -m tests.random_gui --seed 7 --seconds 60            # offscreen
    python -m tests.random_gui --seed 7 --seconds 60 --x11      # on a private Xvfb, real pointer events (xdotool)

The command prepares a scratch folder (a small generated dataset or three, models trained on them, hostile files:
FIFOs, a symlink loop, garbage bytes, a folder where a file is expected), then runs the app in a child process
with ``faulthandler`` on and every user folder (``HOME``, ``XDG_*``, ``SCRATCHNET_HOME``) inside the scratch
folder. The child counts every Python exception that reaches the event loop (``sys.excepthook``, the unraisable
hook), every Qt critical or fatal message, and notices a frozen event loop (a watchdog thread dumps every
thread's stack); the parent adds native crashes (the exit status and faulthandler's report). Each action is
logged with its number; the seed replays the same choices for as long as the app answers the same way (a run's
speed can make a long replay drift, so the log says what led to a failure). Resident memory is read after the
data loaded, when the app is idle again after the actions, and after the window closed.

Exit status: 0 when nothing was found, 1 otherwise. ``tests/test_gui_random.py`` runs a few seeds in CI.
"""

from __future__ import annotations

import argparse
import faulthandler
import gc
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HUGE_WINDOW = (3200, 2200)  # the largest size a "resize" action gives the window, in pixels
REPO = Path(__file__).resolve().parent.parent
HANG_SECONDS = 20  # the event loop silent this long: a hang (a run on the small dataset never blocks it a second)
HANG_EXIT = 3
TICK_MS = 25  # between two chances to act
WIDEST_MINIMUM = 1600  # px: a window that cannot be made narrower than this does not fit a laptop's screen
# What prepare() puts in files/ and folders/ for the dialogs to answer with, besides the good ones
HOSTILE_FILES = (  # for Open model: random bytes, nothing, half a model, a FIFO, a symlink loop, /dev/zero, a folder, a long name
    "garbage.safetensors",
    "empty.safetensors",
    "truncated.safetensors",
    "fifo.safetensors",
    "loop.safetensors",
    "zero.safetensors",
    "folder.safetensors",
    "a" * 240 + ".safetensors",
)
HOSTILE_FOLDERS = (  # for the data and examples folders: a FIFO, a loop, a file, a half-saved collection, FIFO images, ...
    "empty",
    "fifo",
    "loop",
    "a-file",
    "with-committed",
    "fifo-examples",
    "examples-28x28",
    "garbage-data",
    "b" * 240,
)
SUMMARY = "SUMMARY "
PROBLEM = "PROBLEM "
DETAIL = "  | "


# ---- the parent: the scratch folder, the child process, what it reported ----------------------------------


@dataclass
class Report:
    """What one seed's run found."""

    seed: int
    seconds: float
    x11: bool
    returncode: int
    summary: dict | None  # the child's own figures; None when it died before printing them
    problems: list[str]  # one block of text per problem: its kind, its message, its traceback or stack
    log_tail: list[str]  # the last actions before the end
    log_path: Path

    @property
    def crashed(self) -> bool:
        return self.summary is None or self.returncode not in (0, 1)

    def headline(self) -> str:
        """The counts and the memory in one line."""
        if self.summary is None:
            return f"no summary: exit status {self.returncode}"
        keys = ("actions", "exceptions", "qt_criticals", "too_wide", "driver_errors", "start_mb", "idle_mb", "idle_growth_mb")
        return ", ".join(f"{key} {self.summary.get(key)}" for key in keys)

    def describe(self) -> str:
        """The figures, each distinct problem once (with how often it came), the last actions, how to replay."""
        figures = json.dumps(self.summary) if self.summary else f"no summary (exit status {self.returncode})"
        distinct: dict[str, list[str]] = {}
        for problem in self.problems:
            distinct.setdefault(re.sub(r"\(?(after |during )?action #\d+\)?", "", problem.splitlines()[0]), []).append(problem)
        problems = [f"{len(same)}× {same[0]}" for same in distinct.values()]
        lines = [f"seed {self.seed}: {figures}", *problems, "last actions:", *self.log_tail, f"full log: {self.log_path}"]
        return "\n".join([*lines, f"replay: {self.replay}"])

    @property
    def replay(self) -> str:
        return f"python -m tests.random_gui --seed {self.seed} --seconds {self.seconds:g}{' --x11' if self.x11 else ''}"


def prepare(root: Path) -> dict[str, Path]:
    """The scratch folder's datasets, models, examples and hostile files; the dialog answers are drawn from them."""
    from scratchnet.data import load_dataset
    from scratchnet.handwriting import Examples, write_examples
    from scratchnet.model import save_model
    from tests.conftest import write_dataset
    from tests.quick_models import quick_model

    paths = {name: root / name for name in ("home", "user", "config", "cache", "data", "files", "folders", "out")}
    for folder in paths.values():
        folder.mkdir(parents=True, exist_ok=True)
    data, files, folders = paths["data"], paths["files"], paths["folders"]
    write_dataset(data / "good")
    write_dataset(data / "named", num_classes=10, seed=1)
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "a class with a long name, nine"]
    (data / "named" / "classes.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    write_dataset(data / "small", n_train=300, n_test=100, num_classes=3, shape=(8, 8), seed=2)
    for name in ("good", "named", "small"):
        save_model(quick_model(load_dataset(data / name), hidden=(16,), epochs=1), files / f"{name}.safetensors")

    rng = random.Random(0)
    (files / "garbage.safetensors").write_bytes(rng.randbytes(4096))
    (files / "empty.safetensors").write_bytes(b"")
    model_bytes = (files / "good.safetensors").read_bytes()
    (files / "truncated.safetensors").write_bytes(model_bytes[: len(model_bytes) // 2])
    os.mkfifo(files / "fifo.safetensors")
    (files / "loop.safetensors").symlink_to(files / "loop.safetensors")
    (files / "zero.safetensors").symlink_to("/dev/zero")
    (files / "folder.safetensors").mkdir()
    (files / ("a" * 240 + ".safetensors")).write_bytes(model_bytes)

    examples = folders / "examples"  # handwriting to import and teach: the good dataset's own images, 15 a class
    good = load_dataset(data / "good")
    chosen = np.concatenate([np.flatnonzero(good.test_labels == label)[:15] for label in range(4)])
    write_examples(Examples(good.test_images[chosen], good.test_labels[chosen]), examples)
    noise = np.frombuffer(rng.randbytes(30 * 28 * 28), np.uint8).reshape(30, 28, 28).copy()
    write_examples(Examples(noise, [i % 10 for i in range(30)]), folders / "examples-28x28")
    (folders / "empty").mkdir()
    os.mkfifo(folders / "fifo")
    (folders / "loop").symlink_to(folders / "loop")
    (folders / "a-file").write_bytes(b"not a folder")
    shutil.copytree(examples, folders / "with-committed")
    (folders / "with-committed" / ".committed").mkdir()
    (folders / "fifo-examples").mkdir()
    for name in ("images-idx3-ubyte", "labels-idx1-ubyte"):
        os.mkfifo(folders / "fifo-examples" / name)
    garbage_data = folders / "garbage-data"
    garbage_data.mkdir()
    for source in (data / "good").iterdir():
        (garbage_data / source.name).write_bytes(rng.randbytes(source.stat().st_size))
    (folders / ("b" * 240)).mkdir()
    return paths


def child_environment(root: Path, paths: dict[str, Path], display: str | None) -> dict[str, str]:
    """Every folder the app may write to inside ``root``; Qt offscreen, or X11 on ``display``."""
    from scratchnet.data import ENV_VAR
    from scratchnet.home import HOME_ENV_VAR

    environ = {
        **os.environ,
        HOME_ENV_VAR: str(paths["home"]),
        ENV_VAR: str(paths["data"] / "good"),  # where "Try again" and a data folder given by no one load from
        "HOME": str(paths["user"]),
        "XDG_CONFIG_HOME": str(paths["config"]),
        "XDG_CACHE_HOME": str(paths["cache"]),
        "XDG_DATA_HOME": str(paths["user"] / "share"),
        "RANDOM_GUI_ROOT": str(root),
        "PYTHONFAULTHANDLER": "1",
        "QT_QPA_PLATFORM": "offscreen" if display is None else "xcb",
    }
    if display is not None:
        environ["DISPLAY"] = display
    return environ


def run(seed: int, seconds: float, x11: bool = False, keep: Path | None = None) -> Report:
    """Run the app under random actions for ``seconds`` in a child process; what it found. The scratch folder is
    removed afterwards; the action log is copied into ``keep`` when given."""
    root = Path(tempfile.mkdtemp(prefix=f"random-gui-{seed}-"))
    server = None
    try:
        paths = prepare(root)
        if x11:
            from tests.x11 import XServer

            server = XServer(1600, 1000)
        log_path = root / "actions.log"
        command = [
            sys.executable,
            "-X",
            "faulthandler",
            "-m",
            "tests.random_gui",
            "--child",
            "--seed",
            str(seed),
            "--seconds",
            str(seconds),
        ]
        with open(log_path, "w", encoding="utf-8") as log:
            child = subprocess.run(
                command,
                cwd=REPO,
                env=child_environment(root, paths, server.display if server else None),
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=seconds + 180,
            )
        report = read_report(seed, seconds, x11, child.returncode, log_path)
    finally:
        if server is not None:
            server.close()
        if keep is not None and (root / "actions.log").exists():
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(root / "actions.log", keep / f"seed-{seed}.log")
        shutil.rmtree(root, ignore_errors=True)
    if keep is not None:
        report.log_path = keep / f"seed-{seed}.log"
    return report


def read_report(seed: int, seconds: float, x11: bool, returncode: int, log_path: Path) -> Report:
    """The child's summary and problems from its log; a native crash's report (faulthandler) as one more problem."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    summary, problems, actions = None, [], []
    for number, line in enumerate(lines):
        if line.startswith(SUMMARY):
            summary = json.loads(line[len(SUMMARY) :])
        elif PROBLEM in line:  # at the start of the line, unless a message on stderr ended without one
            details = []
            for following in lines[number + 1 :]:
                if not following.startswith(DETAIL):
                    break
                details.append(following)
            problems.append("\n".join([line[line.index(PROBLEM) :], *details]))
        elif line[:1] == "#":
            actions.append(line)
    if summary is None or returncode not in (0, 1):  # 1: the child found problems and said which
        fatal = [number for number, line in enumerate(lines) if line.startswith("Fatal Python error")]
        stack = lines[fatal[-1] : fatal[-1] + 40] if fatal else [line for line in lines if not line.startswith("#")][-20:]
        problems.append(f"{PROBLEM}native crash, abort or hang: exit status {returncode}\n" + "\n".join(DETAIL + line for line in stack))
    return Report(seed, seconds, x11, returncode, summary, problems, actions[-25:], log_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.random_gui", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=None, help="the random seed (default: a new one, printed)")
    parser.add_argument("--seconds", type=float, default=60, help="how long to act (default 60)")
    parser.add_argument("--x11", action="store_true", help="on a private Xvfb with real pointer and key events (xdotool)")
    parser.add_argument("--keep", type=Path, default=None, help="copy the action log into this folder")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seed = random.randrange(10**6) if args.seed is None else args.seed
    if args.child:
        return Monkey(seed, args.seconds, x11=os.environ.get("QT_QPA_PLATFORM") == "xcb").run()
    print(f"random GUI run: seed {seed}, {args.seconds:g} s, {'X11' if args.x11 else 'offscreen'}", flush=True)
    report = run(seed, args.seconds, args.x11, keep=args.keep or Path(tempfile.gettempdir()) / "random-gui-logs")
    print(report.describe())
    return 0 if not report.problems else 1


# ---- the child: the window and the random actions --------------------------------------------------------


def rss_megabytes() -> float:
    """This process's resident memory now (Linux: /proc/self/statm counts pages)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Findings:
    """Everything counted against the app, printed as it happens (PROBLEM lines) and summed up at the end."""

    exceptions: int = 0
    qt_criticals: int = 0
    driver_errors: int = 0
    too_wide: int = 0  # times the window's minimum width grew past WIDEST_MINIMUM
    warnings: dict[str, int] = field(default_factory=dict)  # Qt warnings, by text: reported, not counted as failures
    run_failures: list[str] = field(default_factory=list)  # "Training failed" messages: reported, not failures

    def problem(self, kind: str, message: str, details: str = "") -> None:
        lines = [DETAIL + line for line in details.rstrip().splitlines()]
        sys.stderr.flush()  # what Qt or PySide wrote there comes first, not in the middle of the line
        print("\n".join([f"{PROBLEM}{kind}: {message}", *lines]), flush=True)


class Monkey:
    """Acts on the real MainWindow at random from a timer; every action is a method ``act_*`` with a weight."""

    def __init__(self, seed: int, seconds: float, x11: bool):
        self.seed, self.seconds, self.x11 = seed, seconds, x11
        self.rng = random.Random(seed)
        self.findings = Findings()
        self.root = Path(os.environ["RANDOM_GUI_ROOT"])
        self.count = 0
        self.depth = 0  # > 0 while an action runs; > 1 inside a nested event loop (a context menu, a modal dialog)
        self.heartbeat = time.monotonic()
        self.started = time.monotonic()
        self.saved = 0
        self.widest_minimum = 0

    # ---- setting up and ending ------------------------------------------------------------------------

    def run(self) -> int:
        from PySide6.QtCore import QTimer, qInstallMessageHandler

        from scratchnet.data import remove_leftovers
        from scratchnet_gui.app import create_application
        from scratchnet_gui.main_window import MainWindow

        print(f"random GUI child: seed {self.seed}, {self.seconds:g} s, platform {os.environ.get('QT_QPA_PLATFORM')}", flush=True)
        faulthandler.enable()
        qInstallMessageHandler(self._qt_message)
        remove_leftovers()
        self.app = create_application([sys.argv[0]])
        self._answer_dialogs()
        self.window = MainWindow()
        self.window.show()
        self.window.activateWindow()  # as a window the user just opened: clicks move the keyboard focus
        if self.x11:  # the X server gives the keyboard to no window until one asks for it (there is no window manager)
            xdotool("windowfocus", "--sync", int(self.window.winId()))
        self.window.load_data(str(self.root / "data" / "good"))
        self._count_exceptions()
        self.window.session.notice.connect(lambda text, level: self.log(f"  notice {level}: {text[:160]!r}"))
        self.window.session.run_failed.connect(self._run_failed)
        self._wait(lambda: self.window.session.dataset is not None, 30)
        self._wait(lambda: False, 1.0)
        self.rss = {"start_mb": round(rss_megabytes(), 1)}
        threading.Thread(target=self._watchdog, daemon=True).start()
        self.acting = True
        QTimer.singleShot(TICK_MS, self._tick)
        self.deadline = time.monotonic() + self.seconds
        self.app.exec()
        if self.acting:
            self.findings.problem("the window closed before the end", f"after action #{self.count}")
        self._delete_window()
        return self._finish()

    def _delete_window(self) -> None:
        """Delete the closed window as the app's exit would, so that what goes wrong then is counted too."""
        from PySide6.QtCore import QCoreApplication, QEvent

        self.window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()
        del self.window

    def _finish(self) -> int:
        """Print the figures; after the actions the window was brought to idle, measured and closed."""
        gc.collect()
        self.rss["end_mb"] = round(rss_megabytes(), 1)
        if "idle_mb" in self.rss:
            self.rss["idle_growth_mb"] = round(self.rss["idle_mb"] - self.rss["start_mb"], 1)
        figures = {
            "seed": self.seed,
            "seconds": self.seconds,
            "actions": self.count,
            "exceptions": self.findings.exceptions,
            "qt_criticals": self.findings.qt_criticals,
            "driver_errors": self.findings.driver_errors,
            "too_wide": self.findings.too_wide,
            "qt_warnings": self.findings.warnings,
            "run_failures": self.findings.run_failures[:20],
            **self.rss,
        }
        print(SUMMARY + json.dumps(figures), flush=True)
        found = self.findings.exceptions or self.findings.qt_criticals or self.findings.driver_errors or self.findings.too_wide
        return 1 if found else 0

    def _wind_down(self) -> None:
        """The actions are over: answer what is open, stop the run, let the app go idle, read the memory, close."""
        from PySide6.QtCore import QCoreApplication, QEvent

        self.acting = False
        self.log("winding down: closing what is open, stopping the run")
        for _ in range(20):
            if not self._dismiss_open_windows():
                break
        session = self.window.session
        if session.state.active:
            self.window.stop_action.trigger()
        self._wait(lambda: not session.state.active, 30)
        self._wait(lambda: False, 2.0)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
        self.rss["idle_mb"] = round(rss_megabytes(), 1)
        self.log(f"idle: {self.rss['idle_mb']} MB resident (start {self.rss['start_mb']} MB)")
        self.window.close()
        self.app.quit()

    def _wait(self, condition, seconds: float) -> None:
        """Process events until ``condition()`` holds or ``seconds`` passed (the heartbeat goes on meanwhile)."""
        from PySide6.QtCore import QCoreApplication, QEventLoop

        end = time.monotonic() + seconds
        while not condition() and time.monotonic() < end:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            self.heartbeat = time.monotonic()
            time.sleep(0.01)

    def log(self, text: str) -> None:
        print(text, flush=True)

    # ---- what is counted -----------------------------------------------------------------------------

    def _count_exceptions(self) -> None:
        """Count every exception reaching the event loop, then hand it on to the hook there was (the app's own)."""
        previous_hook, previous_unraisable = sys.excepthook, sys.unraisablehook

        def hook(kind, value, trace):
            self._exception("exception reached the event loop", kind, value, trace)
            previous_hook(kind, value, trace)

        def unraisable(info):
            self._exception(f"unraisable exception ({info.err_msg})", info.exc_type, info.exc_value, info.exc_traceback)
            previous_unraisable(info)

        sys.excepthook, sys.unraisablehook = hook, unraisable
        threading.excepthook = lambda args: self._exception("exception in a thread", args.exc_type, args.exc_value, args.exc_traceback)

    def _exception(self, kind: str, exc_type, value, trace) -> None:
        self.findings.exceptions += 1
        text = "".join(traceback.format_exception(exc_type, value, trace))
        self.findings.problem(kind, f"{exc_type.__name__}: {value} (after action #{self.count})", text)

    def _qt_message(self, mode, context, message: str) -> None:
        from PySide6.QtCore import QtMsgType

        where = f" ({context.file}:{context.line})" if context.file else ""
        if mode in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            self.findings.qt_criticals += 1
            self.findings.problem(
                f"Qt {'fatal' if mode == QtMsgType.QtFatalMsg else 'critical'} message", f"{message}{where} (after action #{self.count})"
            )
        elif mode == QtMsgType.QtWarningMsg:
            key = message[:200]
            self.findings.warnings[key] = self.findings.warnings.get(key, 0) + 1
            if not message.startswith("This plugin does not support"):  # the offscreen platform's limits
                self.log(f"  Qt warning: {message}{where}")

    def _run_failed(self, message: str) -> None:
        self.findings.run_failures.append(message[:300])
        self.log(f"  run failed: {message[:300]!r}")

    def _watchdog(self) -> None:
        """A thread of its own: when the event loop has not come back for HANG_SECONDS, dump every stack and exit."""
        while True:
            time.sleep(1)
            if time.monotonic() - self.heartbeat > HANG_SECONDS:
                self.findings.problem("hang", f"the event loop did not return for {HANG_SECONDS} s (during action #{self.count})")
                sys.stdout.flush()
                faulthandler.dump_traceback(file=sys.stdout, all_threads=True)
                sys.stdout.flush()
                os._exit(HANG_EXIT)

    # ---- the actions -----------------------------------------------------------------------------------

    def _tick(self) -> None:
        """One random action (the timer also fires inside a nested event loop: then the open popup or dialog
        is answered first: each tick starts the next one's timer, as Qt never fires a timer inside its own slot)."""
        from PySide6.QtCore import QTimer

        if not self.acting:
            return
        QTimer.singleShot(TICK_MS, self._tick)
        self.heartbeat = time.monotonic()
        if self.depth and not self._nested_window():
            return  # an action is under way (processing events itself); only a popup or dialog needs an answer
        if not self.depth and time.monotonic() > self.deadline:
            self._wind_down()
            return
        if self.rng.random() < 0.3:  # let the app breathe (and a run train) now and then
            return
        self.depth += 1
        try:
            if self._nested_window():
                self._answer_open_window()
            else:
                action = self.rng.choices(self.ACTIONS, weights=[weight for _, weight in self.ACTIONS])[0][0]
                action(self)
        except Exception as error:  # an app error raised through the driver's call, or a bug of the driver
            self._action_error(error)
        finally:
            self.depth -= 1
            self.heartbeat = time.monotonic()
        self._check_minimum_width()

    def _check_minimum_width(self) -> None:
        """The window must stay narrow enough for a screen, whatever a notice or a name says (once per new width)."""
        width = self.window.minimumSizeHint().width()
        if width > max(WIDEST_MINIMUM, self.widest_minimum):
            self.widest_minimum = width
            self.findings.too_wide += 1
            self.findings.problem("window too wide", f"it cannot be made narrower than {width} px (after action #{self.count})")

    def _action_error(self, error: Exception) -> None:
        import scratchnet
        import scratchnet_gui

        packages = tuple(str(Path(package.__file__).parent) for package in (scratchnet, scratchnet_gui))
        in_app = any(frame.filename.startswith(packages) for frame in traceback.extract_tb(error.__traceback__))
        text = "".join(traceback.format_exception(error))
        if in_app:
            self.findings.exceptions += 1
            self.findings.problem("exception raised through an action", f"{type(error).__name__}: {error} (action #{self.count})", text)
        else:
            self.findings.driver_errors += 1
            self.findings.problem("error in the random driver itself", f"{type(error).__name__}: {error} (action #{self.count})", text)

    def action(self, text: str) -> None:
        self.count += 1
        self.log(f"#{self.count} {time.monotonic() - self.started:7.2f}s {text}")

    def act_click_button(self) -> None:
        from PySide6.QtWidgets import QAbstractButton

        buttons = self._visible(QAbstractButton)
        if buttons:
            button = self.rng.choice(buttons)
            self.action(f"click {describe(button)}")
            self._click(button, button.rect().center())

    def act_trigger_menu_action(self) -> None:
        actions = [action for action in self._menu_actions() if action.isEnabled()]
        if actions:
            chosen = self.rng.choice(actions)
            self.action(f"menu ▸ {chosen.text().replace('&', '')!r}")
            chosen.trigger()

    def act_open_menu(self) -> None:
        from PySide6.QtCore import QPoint

        bar = self.window.menuBar()
        menus = [action for action in bar.actions() if action.menu() is not None]
        if menus:
            chosen = self.rng.choice(menus)
            self.action(f"open the menu {chosen.text().replace('&', '')!r}")
            geometry = bar.actionGeometry(chosen)
            self._click(bar, QPoint(geometry.center()))

    def act_run_control(self) -> None:
        window = self.window
        choice = self.rng.choice(["start", "start short", "pause", "step", "stop", "key F5", "key space", "key shift+F5", "key F10"])
        self.action(f"run control: {choice}" + (f" to {describe(self._focused())}" if choice.startswith("key") else ""))
        if choice == "start short":
            epochs = window.settings_panel.field("epochs")
            if epochs.isEnabled():
                epochs.setValue(self.rng.randint(1, 4))
            window.start_action.trigger()
        elif choice.startswith("key "):
            self._key(self._focused(), choice[4:])
        else:
            getattr(window, f"{choice}_action").trigger()

    def act_type_into_field(self) -> None:
        from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit

        fields = [w for w in self._visible(QAbstractSpinBox) + self._visible(QLineEdit) if not isinstance(w.parent(), QAbstractSpinBox)]
        if not fields:
            return
        widget = self.rng.choice(fields)
        text = self._value_for(widget)
        ending = self.rng.choice(["Return", "Tab", "Escape", ""])
        self.action(f"type {text!r} into {describe(widget)} then {ending or 'nothing'}")
        edit = widget.lineEdit() if isinstance(widget, QAbstractSpinBox) else widget
        if edit is None:
            return
        self._click(edit, edit.rect().center())
        if not is_valid(edit):
            return
        edit.selectAll()
        self._type(edit, text)
        if ending and is_valid(edit):
            self._key(edit, ending)

    def act_step_field(self) -> None:
        from PySide6.QtWidgets import QAbstractSpinBox, QComboBox

        fields = self._visible(QAbstractSpinBox) + self._visible(QComboBox)
        if fields:
            widget = self.rng.choice(fields)
            key = self.rng.choice(["Up", "Down", "Prior", "Next", "Home", "End"])
            times = self.rng.choice([1, 1, 2, 5, 30])
            self.action(f"press {key} ×{times} in {describe(widget)}")
            widget.setFocus()
            for _ in range(times):
                if is_valid(widget):
                    self._key(widget, key)

    def act_wheel(self) -> None:
        """Turn the wheel over any widget, over the settings' form every other time (it must scroll, not edit)."""
        from PySide6.QtWidgets import QWidget

        widgets = self._visible(QWidget)
        form = [widget for widget in widgets if self.window.settings_panel.isAncestorOf(widget)]
        if widgets:
            widget = self.rng.choice(form if form and self.rng.random() < 0.5 else widgets)
            notches = self.rng.choice([-10, -3, -1, 1, 3, 10])
            self.action(f"wheel {notches:+d} notches over {describe(widget)}")
            self._wheel(widget, notches)

    def act_press_key(self) -> None:
        key = self.rng.choice(KEYS)
        target = self._focused()
        self.action(f"key {key} to {describe(target)}")
        self._key(target, key)

    def act_switch_tab(self) -> None:
        tabs = self.window.tabs
        how = self.rng.choice(["click", "ctrl+Tab", "ctrl+shift+Tab", "ctrl+Next", "ctrl+Prior"])
        if how == "click":
            index = self.rng.randrange(tabs.count())
            self.action(f"click the tab {tabs.tabText(index)!r}")
            self._click(tabs.tabBar(), tabs.tabBar().tabRect(index).center())
        else:
            target = self._focused()
            self.action(f"key {how} to switch tabs, to {describe(target)}")
            self._key(target, how)

    def act_click_item(self) -> None:
        from PySide6.QtCore import QAbstractListModel, QModelIndex
        from PySide6.QtWidgets import QAbstractItemView, QHeaderView

        views = [view for view in self._visible(QAbstractItemView) if view.model() is not None and view.model().rowCount() > 0]
        if not views:
            return
        view = self.rng.choice(views)
        if isinstance(view, QHeaderView):
            section = self.rng.randrange(view.count())
            self.action(f"click header section {section} of {describe(view)}")
            position = view.sectionViewportPosition(section) + view.sectionSize(section) // 2
            point = view.rect().center()
            point.setX(position) if view.orientation().name == "Horizontal" else point.setY(position)
            self._click(view.viewport(), point)
            return
        model = view.model()
        columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount(QModelIndex())
        index = model.index(self.rng.randrange(model.rowCount()), self.rng.randrange(max(columns, 1)))
        view.scrollTo(index)
        rect = view.visualRect(index)
        if not rect.isValid():
            return
        how = self.rng.choice(["click", "click", "ctrl-click", "shift-click", "double-click", "right-click", "key"])
        self.action(f"{how} row {index.row()} column {index.column()} of {describe(view)}")
        if how == "key":
            view.setFocus()
            self._key(view, self.rng.choice(["Up", "Down", "Delete", "space", "Return", "ctrl+a", "Home", "End", "BackSpace"]))
        else:
            self._click(view.viewport(), rect.center(), how)

    def act_stroke(self) -> None:
        """Draw on the pad, mostly; sometimes drag across a plot, the confusion matrix or the network view."""
        from PySide6.QtWidgets import QGraphicsView

        from scratchnet_gui.confusion_view import ConfusionView
        from scratchnet_gui.draw_pad import Canvas
        from scratchnet_gui.network_view import NetworkView

        others = self._visible(QGraphicsView) + self._visible(ConfusionView) + self._visible(NetworkView)
        pool = self._visible(Canvas) * 4 + [view.viewport() if isinstance(view, QGraphicsView) else view for view in others]
        if not pool:
            return
        widget = self.rng.choice(pool)
        width, height = widget.width(), widget.height()
        kind = self.rng.choice(["line", "scribble", "dot", "off the edge"])
        points = [(self.rng.uniform(0.1, 0.9) * width, self.rng.uniform(0.1, 0.9) * height)]
        steps = {"dot": 0, "line": 8, "scribble": 30, "off the edge": 12}[kind]
        for _ in range(steps):
            x, y = points[-1]
            spread = 0.25 if kind == "off the edge" else 0.08
            points.append((x + self.rng.gauss(0, spread * width), y + self.rng.gauss(0, spread * height)))
        button = "right" if self.rng.random() < 0.05 else "left"
        self.action(f"stroke ({kind}, {len(points)} points, {button} button) on {describe(widget)}")
        self._drag(widget, [(round(x), round(y)) for x, y in points], button)

    def act_click_anywhere(self) -> None:
        from PySide6.QtCore import QPoint
        from PySide6.QtWidgets import QWidget

        widgets = self._visible(QWidget)
        if widgets:
            widget = self.rng.choice(widgets)
            point = QPoint(self.rng.randrange(max(widget.width(), 1)), self.rng.randrange(max(widget.height(), 1)))
            how = self.rng.choice(["click", "click", "double-click", "right-click"])
            self.action(f"{how} at ({point.x()}, {point.y()}) in {describe(widget)}")
            self._click(widget, point, how)

    def act_resize(self) -> None:
        window = self.window
        how = self.rng.choice(["resize", "resize", "tiny", "huge", "maximize", "normal", "float the settings", "dock the settings"])
        self.action(f"window: {how}")
        if how in ("resize", "tiny", "huge"):
            size = {"resize": (self.rng.randint(600, 1900), self.rng.randint(400, 1200)), "tiny": (200, 150), "huge": HUGE_WINDOW}[how]
            window.showNormal()
            window.resize(*size)
        elif how == "maximize":
            window.showMaximized()
        elif how == "normal":
            window.showNormal()
        else:
            window.dock.setFloating(how == "float the settings")

    def act_wait(self) -> None:
        seconds = self.rng.choice([0.2, 0.5, 1.0, 2.0])
        self.action(f"wait {seconds} s")
        self._wait(lambda: self._nested_window() is not None, seconds)

    ACTIONS = [
        (act_click_button, 20),
        (act_trigger_menu_action, 6),
        (act_open_menu, 2),
        (act_run_control, 8),
        (act_type_into_field, 10),
        (act_step_field, 6),
        (act_wheel, 5),
        (act_press_key, 8),
        (act_switch_tab, 8),
        (act_click_item, 8),
        (act_stroke, 8),
        (act_click_anywhere, 6),
        (act_resize, 2),
        (act_wait, 3),
    ]

    # ---- popups and dialogs --------------------------------------------------------------------------

    def _nested_window(self):
        from PySide6.QtWidgets import QApplication

        return QApplication.activePopupWidget() or QApplication.activeModalWidget()

    def _answer_open_window(self) -> None:
        """A popup menu gets one of its actions chosen, a combo box's list one of its rows, a modal dialog one of its
        buttons; or Escape."""
        from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QMenu

        widget = self._nested_window()
        lists = [view for view in widget.findChildren(QAbstractItemView) if view.isVisible() and view.model() is not None]
        if lists and lists[0].model().rowCount() and self.rng.random() < 0.8:
            view = lists[0]
            index = view.model().index(self.rng.randrange(view.model().rowCount()), 0)
            self.action(f"popup {describe(widget)}: choose row {index.row()} {index.data()!r}")
            view.setCurrentIndex(index)
            self._key(view, "Return")
            return
        if isinstance(widget, QMenu) and self.rng.random() < 0.7:
            actions = [a for a in widget.actions() if a.isEnabled() and not a.isSeparator() and a is not self.window.quit_action]
            if actions:
                chosen = self.rng.choice(actions)
                self.action(f"popup {describe(widget)}: choose {chosen.text().replace('&', '')!r}")
                if chosen.menu() is not None:
                    widget.setActiveAction(chosen)
                    chosen.menu().popup(widget.mapToGlobal(widget.actionGeometry(chosen).topRight()))
                else:
                    widget.close()
                    chosen.trigger()
                return
        buttons = [b for b in widget.findChildren(QAbstractButton) if b.isVisible() and b.isEnabled()]
        if buttons and self.rng.random() < 0.8:
            button = self.rng.choice(buttons)
            self.action(f"dialog {describe(widget)}: click {describe(button)}")
            button.click()
        else:
            self.action(f"{describe(widget)}: Escape")
            self._key(widget, "Escape")
            if is_valid(widget) and widget.isVisible() and self.depth > 3:
                widget.close()

    def _dismiss_open_windows(self) -> bool:
        widget = self._nested_window()
        if widget is None:
            return False
        self.log(f"dismiss {describe(widget)}")
        widget.close()
        self._wait(lambda: False, 0.1)
        return True

    def _answer_dialogs(self) -> None:
        """Qt's static file dialogs and message boxes answer at once, from the seeded choices: a good file, a
        hostile one, or Cancel."""
        from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

        files, folders, out = self.root / "files", self.root / "folders", self.root / "out"
        good_models = [files / f"{name}.safetensors" for name in ("good", "named", "small")]
        hostile_files = [files / name for name in HOSTILE_FILES] + [Path("/dev/zero"), files / "missing" / "model.safetensors"]
        hostile_files.append(self.root / "data" / "good" / "train-images-idx3-ubyte.gz")
        data_folders = [self.root / "data" / name for name in ("good", "named", "small")]
        hostile_folders = [folders / name for name in HOSTILE_FOLDERS] + [Path(os.environ["SCRATCHNET_HOME"]), folders / "missing"]

        def answer(kind: str, caption: str, good: list, hostile: list) -> str:
            choice = self.rng.choices(["good", "hostile", "cancel"], weights=[5, 3, 2])[0]
            path = "" if choice == "cancel" else str(self.rng.choice(good if choice == "good" else hostile))
            self.log(f"  dialog {kind} {caption!r} answered ({choice}) {path!r}")
            return path

        def save_targets(suggested: str) -> list[Path]:
            self.saved += 1
            name = Path(suggested or "file").name
            return [out / f"{self.saved}-{name}", out / name]

        def open_file(parent=None, caption="", directory="", filter="", *args, **kwargs):
            return answer("open", caption, good_models, hostile_files), filter

        def save_file(parent=None, caption="", directory="", filter="", *args, **kwargs):
            hostile = [files / "fifo.safetensors", files / "loop.safetensors", files / "folder.safetensors", files / "missing" / "x"]
            hostile += [out / ("c" * 300 + Path(directory).suffix), out / ("d" * 240 + Path(directory).suffix), out / "new\nline.csv"]
            return answer("save", caption, save_targets(directory), hostile), filter

        def existing_directory(parent=None, caption="", directory="", *args, **kwargs):
            """A folder of examples when the caption asks for one (a new one to export to), else a dataset's."""
            if "export" in caption:
                self.saved += 1
                (out / f"folder-{self.saved}").mkdir()
                good = [out / f"folder-{self.saved}"]
            else:
                good = [folders / "examples"] if "example" in caption else data_folders
            return answer("folder", caption, good, hostile_folders + data_folders + [folders / "examples"])

        def message_box(kind: str):
            def ask(parent=None, title="", text="", buttons=None, default=None, *args, **kwargs):
                offered = [button for button in QMessageBox.StandardButton if buttons is not None and button.value and buttons & button]
                chosen = self.rng.choice(offered or [QMessageBox.StandardButton.Ok])
                self.log(f"  message box {kind} {title!r}: {str(text)[:120]!r} answered {chosen.name}")
                return chosen

            return staticmethod(ask)

        QFileDialog.getOpenFileName = staticmethod(open_file)
        QFileDialog.getSaveFileName = staticmethod(save_file)
        QFileDialog.getExistingDirectory = staticmethod(existing_directory)
        for kind in ("warning", "question", "critical", "information"):
            setattr(QMessageBox, kind, message_box(kind))
        QInputDialog.getText = staticmethod(lambda *args, **kwargs: (self.rng.choice(["", "x", "ü" * 300]), self.rng.random() < 0.7))

    # ---- sending events: Qt's test events offscreen, xdotool on X11 -------------------------------------

    def _visible(self, kind) -> list:
        """The widgets of ``kind`` a user could reach now: shown, enabled, in the window, its dialogs or another window
        (a plot's export dialog). Every other time only those of the current tab, when it has some: the settings
        beside it would crowd it out."""
        from PySide6.QtWidgets import QApplication

        others = [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.parent() is None and w is not self.window]
        windows = [self.window, *others]
        widgets = [w for window in windows for w in [window, *window.findChildren(kind)] if isinstance(w, kind)]
        widgets = [w for w in widgets if w.isVisible() and w.isEnabled()]
        tab = self.window.tabs.current()
        in_tab = [w for w in widgets if tab is not None and (w is tab or tab.isAncestorOf(w))]
        return in_tab if in_tab and self.rng.random() < 0.5 else widgets

    def _menu_actions(self) -> list:
        from PySide6.QtWidgets import QMenu

        found = []
        for menu in self.window.menuBar().findChildren(QMenu):
            found += [a for a in menu.actions() if not a.isSeparator() and a.menu() is None and a is not self.window.quit_action]
        return found

    def _focused(self):
        from PySide6.QtWidgets import QApplication

        return QApplication.focusWidget() or self.window

    def _click(self, widget, point, how: str = "click") -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        if self.x11:
            position = widget.mapToGlobal(point)
            modifiers = {"ctrl-click": ["keydown", "ctrl"], "shift-click": ["keydown", "shift"]}.get(how, [])
            button = "3" if how == "right-click" else "1"
            clicks = ["click", "--repeat", "2", "--delay", "80", button] if how == "double-click" else ["click", button]
            release = ["keyup", modifiers[1]] if modifiers else []
            xdotool("mousemove", position.x(), position.y(), *modifiers, *clicks, *release)
            return
        modifier = {"ctrl-click": Qt.KeyboardModifier.ControlModifier, "shift-click": Qt.KeyboardModifier.ShiftModifier}.get(
            how, Qt.KeyboardModifier.NoModifier
        )
        if how == "double-click":
            QTest.mouseDClick(widget, Qt.MouseButton.LeftButton, modifier, point)
        elif how == "right-click":
            QTest.mouseClick(widget, Qt.MouseButton.RightButton, modifier, point)
            if is_valid(widget):  # QTest sends no context-menu event of its own
                from PySide6.QtGui import QContextMenuEvent
                from PySide6.QtWidgets import QApplication

                QApplication.sendEvent(widget, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, widget.mapToGlobal(point)))
        else:
            QTest.mouseClick(widget, Qt.MouseButton.LeftButton, modifier, point)

    def _drag(self, widget, points: list[tuple[int, int]], button: str) -> None:
        from PySide6.QtCore import QPoint, Qt
        from PySide6.QtTest import QTest

        if self.x11:
            steps = []
            for x, y in points[1:]:
                position = widget.mapToGlobal(QPoint(x, y))
                steps += ["mousemove", position.x(), position.y()]
            first = widget.mapToGlobal(QPoint(*points[0]))
            number = "3" if button == "right" else "1"
            xdotool("mousemove", first.x(), first.y(), "mousedown", number, *steps, "mouseup", number)
            return
        qt_button = Qt.MouseButton.RightButton if button == "right" else Qt.MouseButton.LeftButton
        QTest.mousePress(widget, qt_button, Qt.KeyboardModifier.NoModifier, QPoint(*points[0]))
        for x, y in points[1:]:
            if not is_valid(widget):
                return
            QTest.mouseMove(widget, QPoint(x, y))
        if is_valid(widget):
            QTest.mouseRelease(widget, qt_button, Qt.KeyboardModifier.NoModifier, QPoint(*points[-1]))

    def _key(self, widget, key: str) -> None:
        """Press ``key`` (xdotool's names: "ctrl+Tab", "Prior", "space", "5") on ``widget``."""
        from PySide6.QtTest import QTest

        if self.x11:
            xdotool("key", "--clearmodifiers", key)
            return
        *modifier_names, name = key.split("+")
        qt_key, modifiers = qt_key_of(name), qt_modifiers_of(modifier_names)
        QTest.keyClick(widget, qt_key, modifiers)

    def _type(self, widget, text: str) -> None:
        from PySide6.QtCore import QEvent, Qt
        from PySide6.QtGui import QKeyEvent
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication

        if self.x11:
            xdotool("type", "--delay", "0", text) if text else None
            return
        for character in text:  # QTest types ASCII only; other characters go as key events carrying their text
            if not is_valid(widget):
                return
            if character.isascii():
                QTest.keyClicks(widget, character)
            else:
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, character))

    def _wheel(self, widget, notches: int) -> None:
        from PySide6.QtCore import QPoint, QPointF, Qt
        from PySide6.QtGui import QWheelEvent
        from PySide6.QtWidgets import QApplication

        centre = widget.rect().center()
        if self.x11:
            position = widget.mapToGlobal(centre)
            xdotool("mousemove", position.x(), position.y(), "click", "--repeat", abs(notches), "4" if notches > 0 else "5")
            return
        for _ in range(abs(notches)):
            if not is_valid(widget):
                return
            event = QWheelEvent(
                QPointF(centre),
                QPointF(widget.mapToGlobal(centre)),
                QPoint(0, 0),
                QPoint(0, 120 if notches > 0 else -120),
                Qt.MouseButton.NoButton,
                Qt.KeyboardModifier.NoModifier,
                Qt.ScrollPhase.NoScrollPhase,
                False,
            )
            QApplication.sendEvent(widget, event)

    def _value_for(self, widget) -> str:
        """Text a user might type: the field's limits and one past them, zero, signs, huge, tiny, junk."""
        from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

        limits = []
        if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
            low, high = widget.minimum(), widget.maximum()
            limits = [low, high, low - 1, high + 1, (low + high) / 2]
            limits = [str(int(v)) if isinstance(widget, QSpinBox) else f"{v:g}" for v in limits]
        junk = ["0", "-1", "1", "-0", "2", "16", "100", "1e308", "1e-300", "nan", "inf", "abc", "", " ", "1,5", "0.5", "9" * 25]
        junk += ["adam", "sgd", "tanh", "relu", "٣", "💥", "x" * 300, "\t", "32768", str(2**63), "-2147483648"]
        return self.rng.choice(limits * 2 + junk)


KEYS = [
    "space", "Prior", "Next", "Escape", "Return", "Tab", "shift+Tab", "ctrl+z", "ctrl+Tab", "ctrl+shift+Tab", "ctrl+Next",
    "ctrl+Prior", "Delete", "BackSpace", "Up", "Down", "Left", "Right", "Home", "End", "F5", "F10", "shift+F5", "ctrl+e",
    "ctrl+s", "ctrl+o", "ctrl+n", "ctrl+shift+r", "ctrl+a", "ctrl+c", "ctrl+v", "alt+f", "alt+t", "plus", "minus",
    *"0123456789", *"aeiky",
]  # fmt: skip


def qt_key_of(name: str):
    from PySide6.QtCore import Qt

    special = {"space": "Space", "Prior": "PageUp", "Next": "PageDown", "BackSpace": "Backspace", "plus": "Plus", "minus": "Minus"}
    name = special.get(name, name)
    return getattr(Qt.Key, f"Key_{name.upper() if len(name) == 1 else name}")


def qt_modifiers_of(names: list[str]):
    from PySide6.QtCore import Qt

    modifiers = Qt.KeyboardModifier.NoModifier
    for name in names:
        modifiers |= {
            "ctrl": Qt.KeyboardModifier.ControlModifier,
            "shift": Qt.KeyboardModifier.ShiftModifier,
            "alt": Qt.KeyboardModifier.AltModifier,
        }[name]
    return modifiers


def xdotool(*args) -> None:
    """Send pointer and key events through the X server, as a user's devices would (a failure is ignored)."""
    subprocess.run(["xdotool", *map(str, args)], check=False, timeout=10, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def is_valid(widget) -> bool:
    import shiboken6

    return shiboken6.isValid(widget)


def describe(widget) -> str:
    """A widget as the log names it: its class, its text or name, and its panel."""
    if not is_valid(widget):
        return "(a deleted widget)"
    text = ""
    for getter in ("text", "windowTitle", "objectName", "accessibleName"):
        if hasattr(widget, getter) and callable(getattr(widget, getter)):
            value = getattr(widget, getter)()
            if isinstance(value, str) and value:
                text = value.replace("&", "")[:60]
                break
    panel = widget.parent()
    while panel is not None and not type(panel).__module__.startswith("scratchnet_gui"):
        panel = panel.parent()
    where = f" in {type(panel).__name__}" if panel is not None and panel is not widget else ""
    return f"{type(widget).__name__}{f' {text!r}' if text else ''}{where}"


if __name__ == "__main__":
    sys.exit(main())
