"""The package as an operator gets it: a wheel built from a copy of the source tree, installed into
a fresh venv with nothing but the runtime lock (no test tools, no repository on the path), then
`clinic-api serve` started from an empty directory answers 200 on /ready.

The runtime dependencies come from PyPI through pip's cache (hash-checked against
requirements-runtime.lock); the rest needs no network."""
from __future__ import annotations

import email.parser
import http.client
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import zipfile

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.store_independent

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
# What the wheel is built from: the project's metadata, its package and the contract.
SOURCES = ("pyproject.toml", "README.md", "clinic.v1.yaml", "clinic_api")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", re.M)


def _pins(lock: pathlib.Path) -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in PIN.findall(lock.read_text())}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _extras() -> set[str]:
    """The test and local tools: names required only by an extra."""
    return {canonicalize_name(Requirement(r).name) for extra in _project()["optional-dependencies"].values()
            for r in extra}


def _run(*args, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def _pip(*args, **kwargs) -> subprocess.CompletedProcess:
    # The project venv's pip, also for the temporary venv (--python): that venv needs no pip of its own.
    return _run(sys.executable, "-m", "pip", "--disable-pip-version-check", *args, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(**extra) -> dict:
    """An operator's environment: no venv, no PYTHONPATH, no test or database settings of ours."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> pathlib.Path:
    """Built from a copy of the tree (symlinks kept), so concurrent runs never share a build/ dir."""
    src = tmp_path_factory.mktemp("src")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(src))
    (built,) = out.glob("clinic_api-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> pathlib.Path:
    home = tmp_path_factory.mktemp("venv") / "v"
    _run(sys.executable, "-m", "venv", "--without-pip", str(home))
    python = str(home / "bin" / "python")
    _pip("--python", python, "install", "--quiet", "--require-hashes", "-r", str(RUNTIME_LOCK))
    _pip("--python", python, "install", "--quiet", "--no-deps", "--no-index", str(wheel))
    return home


def test_the_wheel_carries_the_contract_and_only_runtime_requirements(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        assert zf.read("clinic_api/clinic.v1.yaml") == (ROOT / "clinic.v1.yaml").read_bytes()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(zf.read(metadata).decode())
    assert "clinic_api/gunicorn_conf.py" in names
    assert not [n for n in names if n.startswith(("tests/", "bench/"))]
    requires = [Requirement(r) for r in meta.get_all("Requires-Dist")]
    base = {canonicalize_name(r.name) for r in requires if not r.marker or "extra" not in str(r.marker)}
    assert base == {canonicalize_name(Requirement(r).name) for r in _project()["dependencies"]}
    assert not base & _extras()


def test_the_installed_wheel_serves_from_any_directory(venv, tmp_path):
    bindir = venv / "bin"
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    _pip("--python", str(bindir / "python"), "check")  # the wheel's requirements are all in the runtime lock
    where = _run(str(bindir / "python"), "-c", "import clinic_api; print(clinic_api.__file__)",
                 cwd=cwd, env=_clean_env()).stdout.strip()
    assert pathlib.Path(where).is_relative_to(venv), where

    port = _free_port()
    env = _clean_env(CLINIC_STORE="memory", HOST="127.0.0.1", PORT=str(port),
                     CLINIC_TOKEN_SECRET="packaging-test-secret-0123456789abcdef", WEB_CONCURRENCY="1")
    server = subprocess.Popen([str(bindir / "clinic-api"), "serve"], cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        status, deadline = None, time.monotonic() + 60
        while status != 200 and time.monotonic() < deadline:
            assert server.poll() is None, f"clinic-api serve exited {server.returncode}:\n{server.stdout.read()}"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/ready")
                status = conn.getresponse().status
                conn.close()
            except OSError:
                time.sleep(0.2)
        assert status == 200
        # The container's HEALTHCHECK command agrees, run from the installed package.
        check = subprocess.run([str(bindir / "python"), "-m", "clinic_api.healthcheck"], cwd=cwd, env=env,
                               capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stderr
    finally:
        _stop(server)
    assert server.returncode == 0


def _stop(server: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group (gunicorn and its workers), SIGKILL if it lingers."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, None)):
        if server.poll() is not None:
            break
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            break
        try:
            server.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    server.wait()


def test_the_healthcheck_fails_when_nothing_answers(venv, tmp_path):
    env = _clean_env(PORT=str(_free_port()), HEALTHCHECK_TIMEOUT="2")
    check = subprocess.run([str(venv / "bin" / "python"), "-m", "clinic_api.healthcheck"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 1
    assert check.stderr.startswith("not ready:")


def test_the_lock_pins_every_requirement_of_pyproject():
    pins = _pins(LOCK)
    project = _project()
    wanted = list(project["dependencies"]) + [r for extra in project["optional-dependencies"].values() for r in extra]
    for spec in wanted:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in {LOCK.name}: run make lock"
        assert req.specifier.contains(pins[name], prereleases=True), \
            f"{req.name}=={pins[name]} violates {spec}: run make lock"
    # hashes on every pin, so pip installs in hash-checking mode
    assert LOCK.read_text().count("==") == len(pins) <= LOCK.read_text().count("--hash=sha256:")


def test_the_runtime_lock_is_the_base_install_with_the_same_pins():
    full, runtime = _pins(LOCK), _pins(RUNTIME_LOCK)
    assert {n: full.get(n) for n in runtime} == runtime
    for spec in _project()["dependencies"]:
        assert canonicalize_name(Requirement(spec).name) in runtime
    assert not _extras() & set(runtime), "test or local tools in the runtime lock"
