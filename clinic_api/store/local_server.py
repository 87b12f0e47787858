"""The local default store: a SecantusDB server (MongoDB wire protocol over WiredTiger) that the
service runs as a child process on a data directory.

SecantusDB is GPL-2.0-only, so it is only ever executed (`secantusd-py`, from the optional `local`
dependency group), never imported: the service speaks to it over the wire as to mongod. The child
is bound to loopback on a free port, dies with its parent (PR_SET_PDEATHSIG on Linux, so it never
outlives the service, also when the service is killed), and is stopped with SIGTERM on a clean exit.
"""
from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

log = logging.getLogger("clinic_api.store")

EXECUTABLE = "secantusd-py"
URI_ENV = "CLINIC_LOCAL_MONGODB_URI"  # set by the process that started the server, read by its workers
LOG_NAME = "secantusd.log"
_PR_SET_PDEATHSIG = 1


class LocalServerError(RuntimeError):
    """The local server could not be started."""


def executable() -> str | None:
    """`secantusd-py` beside this interpreter (a venv's bin/) or on PATH."""
    beside = Path(sys.executable).parent / EXECUTABLE
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(EXECUTABLE)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class LocalServer:
    """One SecantusDB server on `data_dir` (created if missing), reachable at `uri` once started."""

    def __init__(self, data_dir: str | os.PathLike, *, host: str = "127.0.0.1", port: int | None = None,
                 extra_args: tuple[str, ...] = ()):
        self.data_dir = Path(data_dir).resolve()
        self.host = host
        self.port = port
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{self.host}:{self.port}/?directConnection=true"

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_NAME

    def start(self, timeout: float = 30.0) -> str:
        exe = executable()
        if exe is None:
            raise LocalServerError(
                "CLINIC_STORE=local needs the SecantusDB server (`pip install 'clinic-api[local]'`, which "
                "`make run` does); or set CLINIC_STORE=memory, or MONGODB_URI for a MongoDB")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port(self.host)
        logfile = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        try:
            self.process = subprocess.Popen(
                [exe, "--host", self.host, "--port", str(self.port), "--storage-path", str(self.data_dir),
                 "--log-level", "WARNING", *self.extra_args],
                stdin=subprocess.DEVNULL, stdout=logfile, stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the service, which then stops us in order
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        finally:
            logfile.close()
        self._wait_ready(timeout)
        return self.uri

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise LocalServerError(f"the local database server stopped at start: {self._log_tail()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise LocalServerError(f"the local database server did not answer within {timeout:.0f} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no log)"
        return (lines[-1] if lines else "(empty log)") + f" (log: {self.log_path})"

    def stop(self, timeout: float = 15.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Supervisor:
    """The local server of a multi-process service (gunicorn's master): started once before the
    workers fork (they find it through URI_ENV), restarted on the same port and data if it stops on
    its own (a few times; then `give_up` is called, e.g. to stop the service), stopped at exit."""

    RESTARTS = 3

    def __init__(self, data_dir: str | os.PathLike, give_up=None, poll_seconds: float = 1.0):
        self.server = LocalServer(data_dir)
        self.give_up = give_up
        self.poll_seconds = poll_seconds
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        uri = self.server.start()
        os.environ[URI_ENV] = uri
        thread = threading.Thread(target=self._watch, name="local-db-watch", daemon=True)
        thread.start()
        self._thread = thread
        return uri

    def _watch(self) -> None:
        restarts = 0
        while not self._stopping:
            time.sleep(self.poll_seconds)
            proc = self.server.process
            if self._stopping or proc is None or proc.poll() is None:
                continue
            log.error("store: the local database server exited (status %s); restarting it", proc.returncode)
            if restarts >= self.RESTARTS:
                log.error("store: the local database server keeps stopping; giving up (log: %s)", self.server.log_path)
                if self.give_up:
                    self.give_up()
                return
            restarts += 1
            try:
                self.server.start()
            except LocalServerError as exc:
                log.error("store: %s", exc)

    def stop(self) -> None:
        self._stopping = True
        self.server.stop()
