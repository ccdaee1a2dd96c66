"""Downloads against a real HTTP server on 127.0.0.1: good, truncated, corrupt, missing and stalled files.

The server runs in this process (one thread per request); every handler is bounded by a socket timeout
and by an event set at teardown, and the fixture joins them all. A guard refuses any connection to an
address other than 127.0.0.1, so these tests can never reach the internet.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import scratchnet.data as data
from scratchnet.data import FILE_NAMES, download_mnist, load_dataset
from scratchnet.errors import DownloadCancelled, DownloadError
from tests.conftest import write_dataset
from tests.guards import deadline

GZ_NAMES = [f"{name}.gz" for name in FILE_NAMES]
STALL_LIMIT = 30.0  # a stalled handler gives up after this long even if teardown never comes


class MirrorServer(ThreadingHTTPServer):
    """Serves ``files`` under ``/<mirror>/<name>``, each mirror behaving as ``behaviours[(mirror, name)]``."""

    daemon_threads = False  # server_close() joins every handler thread, so none outlives a test

    def __init__(self, files: dict[str, bytes]):
        super().__init__(("127.0.0.1", 0), Handler)
        self.files = files
        self.behaviours: dict[tuple[str, str], str] = {}
        self.requests: list[str] = []
        self.release = threading.Event()  # set at teardown: stalled and trickling handlers stop at once

    def mirror(self, name: str, behaviour: str = "good", **per_file: str) -> str:
        """Configure mirror ``name`` (every file ``behaviour``, or per file by index ``f0=``..``f3=``); return its URL."""
        for index, file_name in enumerate(GZ_NAMES):
            self.behaviours[(name, file_name)] = per_file.get(f"f{index}", behaviour)
        return f"http://127.0.0.1:{self.server_address[1]}/{name}/"


class Handler(BaseHTTPRequestHandler):
    timeout = 5  # no socket operation of the server blocks longer than this
    server: MirrorServer

    def do_GET(self):
        self.server.requests.append(self.path)
        _, mirror, name = self.path.split("/", 2)
        behaviour = self.server.behaviours.get((mirror, name), "missing")
        body = self.server.files.get(name, b"")
        if behaviour == "missing":
            self.send_error(404, "File not found")
            return
        if behaviour == "corrupt":
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        announced = None if behaviour == "unannounced-truncated" else len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if announced is not None:
            self.send_header("Content-Length", str(announced))
        self.end_headers()
        try:
            if behaviour in ("good", "corrupt"):
                self.wfile.write(body)
            elif behaviour in ("truncated", "unannounced-truncated"):
                self.wfile.write(body[: len(body) // 2])  # then close: HTTP/1.0, the connection ends the body
            elif behaviour == "stall":
                self.wfile.write(body[:100])
                self.wfile.flush()
                self.server.release.wait(STALL_LIMIT)
            elif behaviour == "trickle":  # about 20 KB/s, in 1 KiB pieces: a slow but live connection
                for start in range(0, len(body), 1024):
                    if self.server.release.is_set():
                        break
                    self.wfile.write(body[start : start + 1024])
                    self.wfile.flush()
                    time.sleep(0.05)
        except OSError:  # the client went away (cancel, timeout): nothing more to serve
            pass

    def log_message(self, format, *args):
        pass


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Refuse every connection that is not to 127.0.0.1, and keep proxies from the environment out of the way."""
    for variable in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    connect = socket.socket.connect

    def guarded_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] != "127.0.0.1":
            raise AssertionError(f"test tried to connect to {address}")
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture
def fake_files(tmp_path, monkeypatch) -> dict[str, bytes]:
    """Four small gzip IDX files standing in for MNIST, with MNIST_SHA256 pointing at their hashes."""
    source = write_dataset(tmp_path / "source", n_train=60, n_test=20)
    files = {name: (source / name).read_bytes() for name in GZ_NAMES}
    monkeypatch.setattr(data, "MNIST_SHA256", {name: hashlib.sha256(body).hexdigest() for name, body in files.items()})
    return files


@pytest.fixture
def server(fake_files):
    threads_before = set(threading.enumerate())
    httpd = MirrorServer(fake_files)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="mirror-server")
    thread.start()
    yield httpd
    httpd.release.set()
    httpd.shutdown()
    httpd.server_close()  # joins the handler threads
    thread.join(5)
    # A cancelled download's transfer thread ends at its next read, which the server's release allows.
    for leftover in set(threading.enumerate()) - threads_before:
        leftover.join(5)
    leaked = [t for t in set(threading.enumerate()) - threads_before if t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


def cache_contents(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_download_from_a_good_mirror(server, cache, fake_files):
    calls = []
    with deadline(30):
        download_mnist(
            cache, progress=lambda done, total, name: calls.append((done, total, name)), mirrors=(server.mirror("a"),), timeout=5
        )
    assert cache_contents(cache) == sorted(GZ_NAMES)
    assert all((cache / name).read_bytes() == body for name, body in fake_files.items())
    assert {name for _, _, name in calls} == set(GZ_NAMES)
    assert all(0 <= done <= total for done, total, _ in calls)
    assert load_dataset(cache).train_images.shape == (60, 12, 12)


@pytest.mark.parametrize("bad", ["corrupt", "unannounced-truncated", "truncated", "missing"])
def test_bad_mirror_falls_back_to_the_next(server, cache, bad):
    with deadline(30):
        download_mnist(cache, mirrors=(server.mirror("bad", bad), server.mirror("good")), timeout=5)
    assert cache_contents(cache) == sorted(GZ_NAMES)  # only verified files, no temp litter
    assert [path.split("/")[1] for path in server.requests] == ["bad", "good"] * 4


def test_hash_mismatch_removes_the_file_and_tries_the_next_mirror(server, cache, fake_files):
    final_name_seen_early = []

    def progress(done, total, name):
        final_name_seen_early.append((cache / name).exists())

    mirrors = (server.mirror("corrupt", "good", f0="corrupt"), server.mirror("good"))
    with deadline(30):
        download_mnist(cache, progress=progress, mirrors=mirrors, timeout=5)
    assert server.requests[:2] == [f"/corrupt/{GZ_NAMES[0]}", f"/good/{GZ_NAMES[0]}"]
    assert (cache / GZ_NAMES[0]).read_bytes() == fake_files[GZ_NAMES[0]]
    assert cache_contents(cache) == sorted(GZ_NAMES)
    assert final_name_seen_early and not any(final_name_seen_early)  # unverified bytes never sit under the real name


def test_all_mirrors_fail_with_a_helpful_error(server, cache):
    mirrors = (server.mirror("m404", "missing"), server.mirror("bad", "corrupt"), server.mirror("cut", "truncated"))
    with deadline(30), pytest.raises(DownloadError) as caught:
        download_mnist(cache, mirrors=mirrors, timeout=5)
    message = str(caught.value)
    assert f"could not download {GZ_NAMES[0]} from any mirror" in message
    for mirror in mirrors:
        assert mirror + GZ_NAMES[0] in message  # every URL tried is listed ...
    assert "HTTP 404" in message and "hash mismatch" in message  # ... with what went wrong
    assert "Put the four standard files" in message and str(cache) in message and "--data-dir" in message
    assert not cache.exists()  # the folder it made for the files is gone again


def test_an_unreachable_host_is_named_in_plain_words(cache):
    with deadline(30), pytest.raises(DownloadError) as caught:
        download_mnist(cache, mirrors=("http://127.0.0.1:9/",), timeout=2)  # the discard port: nothing listens
    assert "127.0.0.1:9/train-images-idx3-ubyte.gz: cannot connect to the server\n" in str(caught.value)


def test_stalled_mirror_times_out_then_the_next_one_serves(server, cache):
    mirrors = (server.mirror("stall", "good", f0="stall"), server.mirror("good"))
    with deadline(20):  # less than STALL_LIMIT: only the client's own timeout can end the stall in time
        download_mnist(cache, mirrors=mirrors, timeout=1.0)
    assert server.requests[:2] == [f"/stall/{GZ_NAMES[0]}", f"/good/{GZ_NAMES[0]}"]
    assert cache_contents(cache) == sorted(GZ_NAMES)


def test_only_stalled_mirrors_fail_within_the_timeouts(server, cache):
    mirrors = (server.mirror("s1", "stall"), server.mirror("s2", "stall"))
    with deadline(20), pytest.raises(DownloadError) as caught:  # less than STALL_LIMIT: the client's timeouts end it
        download_mnist(cache, mirrors=mirrors, timeout=1.0)
    assert str(caught.value).count(": timed out (no answer within 1 s)\n") == 2  # each mirror's own timeout...
    assert server.requests == [f"/s1/{GZ_NAMES[0]}", f"/s2/{GZ_NAMES[0]}"]  # ...once, without retries
    assert cache_contents(cache) == []


@pytest.fixture
def big_files(fake_files, monkeypatch) -> dict[str, bytes]:
    """The first file made 400 KB (incompressible), so a trickling server takes seconds to send it."""
    files = dict(fake_files)
    files[GZ_NAMES[0]] = np.random.default_rng(0).bytes(400_000)
    monkeypatch.setattr(data, "MNIST_SHA256", {name: hashlib.sha256(body).hexdigest() for name, body in files.items()})
    return files


def test_cancel_from_the_progress_callback_stops_within_a_second(server, cache, big_files):
    server.files = big_files
    calls, cancelled = [], []

    def progress(done, total, name):
        calls.append(done)
        assert not (cache / name).exists()  # the real name appears only after the hash is checked
        if done >= 4096:  # a few KiB into the file the user presses cancel: this report raises
            cancelled.append(len(calls))
            raise DownloadCancelled("cancelled by the user")

    with deadline(20), pytest.raises(DownloadCancelled):
        download_mnist(cache, progress=progress, mirrors=(server.mirror("slow", "trickle"), server.mirror("good")), timeout=5)
    assert cancelled == [len(calls)]  # it stopped at once: no report after the one that raised
    assert 0 < calls[-1] < len(big_files[GZ_NAMES[0]])  # it really stopped mid-file
    assert cache_contents(cache) == []  # no partial or temporary file
    assert not any(path.startswith("/good/") for path in server.requests)  # a cancel does not try other mirrors


def cancel_during_a_stall(server, cache, timeout: float) -> list[int]:
    """Press cancel in a stalled download (a good mirror behind it) at its first heartbeat: a progress report with no
    byte since the last one. Return the bytes done at every report."""
    calls = []

    def progress(done, total, name):
        calls.append(done)
        if done == (calls[-2] if len(calls) > 1 else 0):
            raise DownloadCancelled("cancelled by the user")

    with deadline(timeout + 10), pytest.raises(DownloadCancelled):  # without heartbeats: the next mirror, no cancel
        download_mnist(cache, progress=progress, mirrors=(server.mirror("stall", "stall"), server.mirror("good")), timeout=timeout)
    assert cache_contents(cache) == []
    assert not any(path.startswith("/good/") for path in server.requests)
    return calls


def test_cancel_during_a_stall_within_a_second(server, cache):
    """While no byte arrives the progress callback still gets a heartbeat, so a cancel acts at once."""
    assert cancel_during_a_stall(server, cache, timeout=30.0)[-1] <= 100  # the stall sends 100 bytes, then nothing


# A download in another process, from the mirror ``sys.argv[2]`` into ``sys.argv[1]``; it says "started" at its
# first progress report, when pooch's temporary file holds the first bytes.
DOWNLOADER = (
    "import sys\n"
    "from pathlib import Path\n"
    "from scratchnet.data import download_mnist\n"
    "started = []\n"
    "def progress(done, total, name):\n"
    "    if done and not started:\n"
    "        print('started', flush=True)\n"
    "        started.append(done)\n"
    "download_mnist(Path(sys.argv[1]), progress=progress, mirrors=(sys.argv[2],))\n"
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_pooch_temp_file_of_a_download_killed_with_sigkill_is_removed_once_stale(server, cache, big_files, monkeypatch):
    server.files = big_files
    downloader = subprocess.Popen(
        [sys.executable, "-c", DOWNLOADER, str(cache), server.mirror("slow", "trickle")],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    with deadline(60):
        assert downloader.stdout.readline() == b"started\n"
    downloader.kill()
    downloader.wait(60)
    [leftover] = cache.iterdir()
    assert data.POOCH_TEMP_NAME.fullmatch(leftover.name)  # the pattern we clean is the one pooch really uses
    (cache / "tmp_notes.txt").write_text("mine")
    monkeypatch.setattr(data, "cache_dir", lambda: cache)

    data.remove_leftovers()
    assert leftover.exists()  # as fresh as another process's download still running: kept
    an_hour_ago = time.time() - data.DOWNLOAD_STALE_AFTER - 60
    for path in cache.iterdir():
        os.utime(path, (an_hour_ago, an_hour_ago))
    data.remove_leftovers()
    assert cache_contents(cache) == ["tmp_notes.txt"]
