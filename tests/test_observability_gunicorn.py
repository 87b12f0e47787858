"""The service as deployed: gunicorn with two uvicorn workers (issue 10, items 1-3).

Every line gunicorn, uvicorn and the service print is JSON; /metrics adds up the samples of every
worker, those of workers that have exited included (prometheus-client's multiprocess mode)."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from clinic_api.auth.tokens import mint

SECRET = "test-secret-for-the-gunicorn-run-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def list_clinics(port: int, count: int, token: str, prefix: str) -> None:
    for i in range(count):  # a connection each, so the workers share them
        resp = httpx.get(f"http://127.0.0.1:{port}/v1/clinics?search=Secret+Patient+Name",
                         headers={"x-tidepool-session-token": token, "X-Request-ID": f"{prefix}-{i}"}, timeout=10)
        assert resp.status_code == 200 and resp.headers["x-request-id"] == f"{prefix}-{i}"


def served(port: int) -> float:
    resp = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert resp.status_code == 200
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            if sample.name == "clinic_http_requests_total" and sample.labels == {
                    "operation": "ListClinics", "status_class": "2xx"}:
                return sample.value
    return 0.0


def _is_database(pid: str) -> bool:
    """The local store's server, the master's other child."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"secantusd-py" in fh.read()
    except OSError:
        return False


def workers_of(master: int) -> set[int]:
    """The master's gunicorn workers."""
    children = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == master and fields[0] != "Z" and not _is_database(entry):
                children.add(int(entry))
    return children


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def log_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def started(path) -> int:
    return path.read_text().count("Application startup complete")


def test_two_workers_json_logs_and_metrics_across_workers(tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"a previous run's samples")
    log_path = tmp_path / "service.log"
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "2", "CLINIC_STORE": "local",
           "CLINIC_DATA_DIR": str(tmp_path / "data"),
           "CLINIC_TOKEN_SECRET": SECRET, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "LOG_LEVEL": "info"}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "python:clinic_api.gunicorn_conf",
                                 "clinic_api.asgi:app"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        wait_until(lambda: started(log_path) >= 2, 30, "two workers")
        assert not (metrics_dir / "counter_999999.db").exists()  # emptied at start
        token = mint(SECRET, "server", server=True)
        list_clinics(port, 6, token, "first")
        assert [served(port) for _ in range(4)] == [6.0] * 4  # whichever worker answers

        # Both workers stop (as after max_requests or a crash) and gunicorn starts two new ones:
        # what the old ones served is still counted, with what the new ones serve.
        old = workers_of(proc.pid)
        assert len(old) == 2
        for pid in old:
            os.kill(pid, signal.SIGTERM)
        wait_until(lambda: started(log_path) >= 4 and len(workers_of(proc.pid) - old) == 2, 30, "two new workers")
        list_clinics(port, 4, token, "second")
        assert [served(port) for _ in range(4)] == [10.0] * 4
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)

    lines = log_lines(log_path)  # every line is one JSON object
    assert all({"time", "level", "logger", "msg", "pid"} <= line.keys() for line in lines)
    loggers = {line["logger"] for line in lines}
    assert {"gunicorn.error", "uvicorn.error", "clinic_api.access"} <= loggers
    assert not loggers & {"gunicorn.access", "uvicorn.access"}
    assert any(line["msg"].startswith("Booting worker") for line in lines)
    access = [line for line in lines if line["logger"] == "clinic_api.access"]
    assert sorted(line["request_id"] for line in access) == sorted(
        [f"first-{i}" for i in range(6)] + [f"second-{i}" for i in range(4)])
    assert all(line["route"] == "/v1/clinics" and line["caller"] == "server" for line in access)
    text = log_path.read_text()
    assert "Secret" not in text and "search=" not in text and token not in text


def test_metrics_directory_is_temporary_when_unset(tmp_path):
    script = ("import os; from clinic_api import multiproc; path = multiproc.prepare(); "
              "assert os.path.isdir(path) and os.environ['PROMETHEUS_MULTIPROC_DIR'] == path; print(path)")
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert not os.path.exists(out.stdout.strip())  # removed when the master exits


def test_metrics_directory_prepared_once_per_master(tmp_path):
    script = ("import os, prometheus_client; from clinic_api import multiproc\n"
              "try:\n    multiproc.prepare()\nexcept RuntimeError as exc:\n    print('refused')\n")
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "refused"  # too late: prometheus_client already chose single-process values
    script = ("import os; from clinic_api import multiproc; first = multiproc.prepare(); import prometheus_client\n"
              "open(os.path.join(first, 'counter_1.db'), 'w').close()\n"
              "assert multiproc.prepare() == first and os.listdir(first) == ['counter_1.db']; print('kept')\n")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "kept"  # a configuration reload keeps this run's samples
