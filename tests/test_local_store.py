"""The local default store as `make run` uses it: gunicorn (two workers) starts a SecantusDB server on
a data directory, data survive a restart, SIGTERM and Ctrl-C stop both, and the database never
outlives the service, also when the service is killed. And a server without transactions is
refused unless that is explicitly allowed. (These start their own servers, whatever the store under
test.)"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from clinic_api.app import create_app
from clinic_api.auth.tokens import mint
from clinic_api.settings import Settings
from clinic_api.store import client as store_client
from clinic_api.store import local_server

pytestmark = pytest.mark.store_independent

SECRET = "local-store-test-secret-0123456789abcdef"
ADMIN = "1234567890"


def db_processes(data_dir: Path) -> list[int]:
    """Pids of SecantusDB servers on `data_dir`, read from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(part.endswith(b"secantusd-py") for part in cmd) and str(data_dir).encode() in cmd:
            pids.append(int(entry.name))
    return pids


def wait_until(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Service:
    def __init__(self, data_dir: Path, cwd: Path):
        self.port = local_server.free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_", "MONGODB_", "TIDEPOOL_"))}
        env.update(CLINIC_DATA_DIR=str(data_dir), PORT=str(self.port), WEB_CONCURRENCY="2",
                   CLINIC_TOKEN_SECRET=SECRET, LOG_LEVEL="info")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:clinic_api.gunicorn_conf", "clinic_api.asgi:app"],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        try:
            return httpx.get(self.base + "/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self):
        wait_until(lambda: self.ready() or self.proc.poll() is not None, 60, "the service to answer /ready")
        assert self.proc.poll() is None, self.output()

    def output(self) -> str:
        return self.proc.stdout.read().decode(errors="replace") if self.proc.stdout else ""

    def kill_all(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)


def headers(user=ADMIN, server=False):
    return {"x-tidepool-session-token": mint(SECRET, user, server=server)}


@pytest.fixture
def data_dir(tmp_path):
    yield tmp_path / "data"
    for pid in db_processes(tmp_path / "data"):
        os.kill(pid, signal.SIGKILL)


def test_data_survive_a_restart_and_the_database_stops_with_the_service(tmp_path, data_dir):
    first = Service(data_dir, tmp_path)
    try:
        first.wait_ready()
        assert len(db_processes(data_dir)) == 1
        resp = httpx.post(first.base + "/v1/clinics", headers=headers(),
                          json={"name": "Persistent Clinic", "preferredBgUnits": "mg/dL"})
        assert resp.status_code == 200, resp.text
        clinic_id = resp.json()["id"]
        first.proc.send_signal(signal.SIGTERM)
        assert first.proc.wait(30) == 0
        log = first.output()
        assert db_processes(data_dir) == []
    finally:
        first.kill_all()
    first_line = log.splitlines()[0]
    assert "store: local (SecantusDB), data in " + str(data_dir) in first_line

    second = Service(data_dir, tmp_path)
    try:
        second.wait_ready()
        for _ in range(4):  # whichever worker answers
            resp = httpx.get(f"{second.base}/v1/clinics/{clinic_id}", headers=headers(server=True))
            assert resp.status_code == 200 and resp.json()["name"] == "Persistent Clinic"
        second.proc.send_signal(signal.SIGINT)  # Ctrl-C
        second.proc.wait(30)
        wait_until(lambda: db_processes(data_dir) == [], 10, "the database to stop after Ctrl-C")
    finally:
        second.kill_all()


def test_the_database_never_outlives_a_killed_service(tmp_path, data_dir):
    service = Service(data_dir, tmp_path)
    try:
        service.wait_ready()
        assert len(db_processes(data_dir)) == 1
        service.proc.send_signal(signal.SIGKILL)  # the master only: no hook runs
        service.proc.wait(10)
        wait_until(lambda: db_processes(data_dir) == [], 10, "the database to die with the service")
    finally:
        service.kill_all()


def test_a_server_without_transactions_is_refused_unless_allowed(tmp_path):
    server = local_server.LocalServer(tmp_path / "standalone", extra_args=("--standalone",))
    uri = server.start()
    try:
        env = {"MONGODB_URI": uri, "CLINIC_TOKEN_SECRET": SECRET}
        with pytest.raises(store_client.StoreError) as refused:
            create_app(Settings.from_env(env))
        assert str(refused.value) == (
            f"the database at {uri} has no transactions (a standalone mongod?): run it as a replica set (a single "
            "node is enough), or set CLINIC_ALLOW_NO_TRANSACTIONS=true to give up the all-or-nothing guarantee "
            "of multi-document changes")
        with pytest.raises(store_client.StoreError):
            store_client.preflight(Settings.from_env(env))
        app = create_app(Settings.from_env({**env, "CLINIC_ALLOW_NO_TRANSACTIONS": "true"}))
        assert app.services.store.supports_transactions is False
    finally:
        server.stop()


def test_a_missing_local_server_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(local_server, "executable", lambda: None)
    monkeypatch.delenv(local_server.URI_ENV, raising=False)
    with pytest.raises(store_client.StoreError) as missing:
        store_client.connect(Settings.from_env({"CLINIC_DATA_DIR": str(tmp_path / "d")}))
    assert str(missing.value) == (
        "CLINIC_STORE=local needs the SecantusDB server (`pip install 'clinic-api[local]'`, which `make run` "
        "does); or set CLINIC_STORE=memory, or MONGODB_URI for a MongoDB")
