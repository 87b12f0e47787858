"""Configuration is checked once, before any worker starts: every problem on one line naming its
variable, all at once, exit status 2, no traceback; safe defaults for the token secret; tokens."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import jwt
import pytest

from clinic_api.auth.tokens import mint
from clinic_api.settings import Settings, SettingsError
from clinic_api.store import local_server
from conftest import SECRET

pytestmark = pytest.mark.store_independent
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "python:clinic_api.gunicorn_conf", "clinic_api.asgi:app"]
CLI = [sys.executable, "-m", "clinic_api.cli"]
REAL_SECRET = "a-real-secret-of-at-least-32-characters!"


def run(cmd, env, timeout=30):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_", "MONGODB_", "TIDEPOOL_", "SMTP_"))}
    clean["PORT"] = str(local_server.free_port())
    clean.update(env)
    return subprocess.run(cmd, env=clean, capture_output=True, text=True, timeout=timeout)


def json_messages(output: str) -> list[str]:
    return [json.loads(line)["msg"] for line in output.splitlines() if line.strip()]


def test_every_parse_problem_at_once_on_one_line_each_exit_2_no_traceback():
    out = run(GUNICORN, {"SMTP_PORT": "abc", "CLINIC_STORE": "disk", "LOG_LEVEL": "loud", "PORT": "99999",
                         "SMTP_STARTTLS": "yes"})
    assert out.returncode == 2
    assert "Traceback" not in out.stdout + out.stderr
    assert json_messages(out.stderr) == [
        "CLINIC_STORE: 'disk' is not one of local, memory, mongodb",
        "LOG_LEVEL: 'loud' is not one of debug, info, warn, warning, error, dpanic, panic, fatal",
        "PORT: 99999 is out of range (accepted: 1..65535)",
        "SMTP_PORT: 'abc' is not an integer (accepted: 1..65535)",
        "SMTP_STARTTLS: invalid boolean 'yes' (accepted: 0, 1, F, FALSE, False, T, TRUE, True, f, false, t, true)",
    ]


def test_cross_checks_are_refused_before_any_worker():
    out = run(GUNICORN, {"CLINIC_STORE": "memory", "WEB_CONCURRENCY": "3", "CLINIC_INTEGRATIONS": "tidepool",
                         "HOST": "127.0.0.1"})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert json_messages(out.stderr) == [
        "TIDEPOOL_SERVER_TOKEN: required with CLINIC_INTEGRATIONS=tidepool (this service's server login at shoreline)",
        "CLINIC_STORE: memory cannot be used with CLINIC_INTEGRATIONS=tidepool (Tidepool's services share the clinic "
        "database: use mongodb)",
        "WEB_CONCURRENCY: 3 workers cannot share CLINIC_STORE=memory (each would have its own data): use 1, or the "
        "local or mongodb store",
    ]
    assert "Booting worker" not in out.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "::"])
def test_the_development_secret_is_refused_off_loopback(host):
    out = run([*CLI, "serve"], {"HOST": host, "CLINIC_STORE": "memory"})
    assert out.returncode == 2
    assert out.stderr.splitlines() == [
        f"clinic-api: CLINIC_TOKEN_SECRET: the development secret is public; it is accepted only when HOST is a "
        f"loopback address (HOST={host}): set a secret of at least 32 characters"]


def test_a_short_secret_is_refused_and_loopback_accepts_the_development_secret():
    assert Settings.from_env({"CLINIC_TOKEN_SECRET": "short", "CLINIC_STORE": "memory"}).start_problems() == [
        "CLINIC_TOKEN_SECRET: at least 32 characters (HS256 key)"]
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        assert Settings.from_env({"HOST": host, "CLINIC_STORE": "memory"}).start_problems() == []
    assert Settings.from_env({"HOST": "0.0.0.0", "CLINIC_STORE": "memory",
                              "CLINIC_TOKEN_SECRET": REAL_SECRET}).start_problems() == []


def test_an_unreachable_mongodb_is_reported_within_seconds_with_its_password_masked():
    port = local_server.free_port()  # nothing listens there
    start = time.monotonic()
    out = run(GUNICORN, {"MONGODB_URI": f"mongodb://clinic:s3cr3t-pw@127.0.0.1:{port}/",
                         "CLINIC_TOKEN_SECRET": REAL_SECRET}, timeout=60)
    elapsed = time.monotonic() - start
    assert out.returncode == 2 and elapsed < 15
    assert "s3cr3t-pw" not in out.stdout + out.stderr
    assert json_messages(out.stderr)[-1] == (
        f"MONGODB_URI: the database at mongodb://clinic:***@127.0.0.1:{port}/ does not answer within 5 s "
        "(ServerSelectionTimeoutError)")


def test_check_config_prints_the_effective_configuration_with_secrets_masked():
    out = run([*CLI, "check-config"], {"CLINIC_STORE": "memory", "CLINIC_TOKEN_SECRET": REAL_SECRET,
                                        "SMTP_PASSWORD": "mail-pw", "TIDEPOOL_REDOX_VERIFICATION_TOKEN": "rdx"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert "token_secret: ***" in lines and "smtp_password: ***" in lines and "redox_verification_token: ***" in lines
    assert "store: memory" in lines and "host: 127.0.0.1" in lines and "max_body_bytes: 16777216" in lines
    assert lines[-1] == "configuration ok"
    assert REAL_SECRET not in out.stdout and "mail-pw" not in out.stdout and "rdx" not in out.stdout
    bad = run([*CLI, "check-config"], {"CLINIC_STORE": "memory", "HOST": "0.0.0.0"})
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[-1].startswith("clinic-api: CLINIC_TOKEN_SECRET: the development secret")


def test_settings_report_every_problem_at_once():
    with pytest.raises(SettingsError) as wrong:
        Settings.from_env({"CLINIC_DB_TIMEOUT_MS": "0", "CLINIC_MAX_BODY_BYTES": "lots", "CLINIC_EFFECTS": "later"})
    assert wrong.value.problems == [
        "CLINIC_DB_TIMEOUT_MS: 0 is out of range (accepted: 100..600000)",
        "CLINIC_MAX_BODY_BYTES: 'lots' is not an integer (accepted: 1024..1073741824)",
        "CLINIC_EFFECTS: 'later' is not one of inline, external",
    ]


def test_user_tokens_expire_by_default_and_ttl_changes_it():
    out = run([*CLI, "token", "--user-id", "1234567890"], {"CLINIC_TOKEN_SECRET": REAL_SECRET})
    claims = jwt.decode(out.stdout.strip(), REAL_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 86400 and claims["srv"] is False
    out = run([*CLI, "token", "--user-id", "1234567890", "--ttl", "60"], {"CLINIC_TOKEN_SECRET": REAL_SECRET})
    claims = jwt.decode(out.stdout.strip(), REAL_SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 60


def test_only_json_true_makes_a_server_token(client, db):
    for srv in ("true", 1, "1"):
        forged = jwt.encode({"sub": "server", "srv": srv}, SECRET, algorithm="HS256")
        assert client.get("/v1/clinics", headers={"x-tidepool-session-token": forged}).status_code == 403
    assert client.get("/v1/clinics", headers={"x-tidepool-session-token": mint(SECRET, "server", server=True)}
                      ).status_code == 200
