"""JSON log lines, request ids and what the logs must never hold (issue 10, items 1 and 2).

A full request cycle in tidepool mode against a real local HTTP server playing shoreline and
seagull: every line is a JSON object carrying the id of its request, and none holds the PHI or
the tokens the requests carried."""
from __future__ import annotations

import io
import json
import logging
import secrets

import pytest
from starlette.testclient import TestClient

from clinic_api import logging_setup
from clinic_api.app import create_app
from clinic_api.settings import Settings
from conftest import token_for
from shoreline_support import serve_server_login, tidepool_settings
from support import stores

PATIENT = {"fullName": "Zebulon Quackenbush", "birthDate": "1971-03-14", "mrn": "MRN-7731-QX",
           "email": "zebulon.quackenbush@example.org"}


class Captured:
    def __init__(self, buffer: io.StringIO):
        self.buffer = buffer

    def clear(self) -> None:
        self.buffer.seek(0)
        self.buffer.truncate()

    @property
    def text(self) -> str:
        return self.buffer.getvalue()

    def lines(self) -> list[dict]:
        out = []
        for line in self.text.splitlines():
            out.append(json.loads(line))  # every line is one JSON object
        return out


@pytest.fixture
def captured():
    """Logging configured as in production (logging_setup.configure), into a buffer."""
    root = logging.getLogger()
    level = root.level
    stand_in = logging.getLogger("werkzeug")  # the request log of the stand-in shoreline, not ours
    stand_in_level = stand_in.level
    stand_in.setLevel(logging.WARNING)
    buffer = io.StringIO()
    handler = logging_setup.configure("info", stream=buffer)
    yield Captured(buffer)
    root.removeHandler(handler)
    root.setLevel(level)
    stand_in.setLevel(stand_in_level)


def request_with_id(client, method, url, rid, **kw):
    headers = {**kw.pop("headers", {}), "X-Request-ID": rid}
    resp = client.request(method, url, headers=headers, **kw)
    assert resp.headers["x-request-id"] == rid
    return resp


def test_full_cycle_logs_json_one_request_id_per_request_and_no_phi_or_token(httpserver, captured):
    upstream = serve_server_login(httpserver)
    admin_token = "tok-" + secrets.token_hex(20)
    server_token = "tok-" + secrets.token_hex(20)
    for tok, body in ((admin_token, {"userid": "1234567890", "isserver": False}),
                      (server_token, {"userid": "server", "isserver": True})):
        upstream.expect_request(f"/token/{tok}", method="GET").respond_with_json(body)
    upstream.expect_request("/user/1234567890").respond_with_json(
        {"userid": "1234567890", "username": "ada.lovelace@example.com", "emails": ["ada.lovelace@example.com"]})
    upstream.expect_request("/seagull/1234567890/profile").respond_with_json({"fullName": "Ada Lovelace"})
    app = create_app(tidepool_settings(upstream, seagull_path="/seagull", CLINIC_EFFECTS="inline"))
    admin = {"x-tidepool-session-token": admin_token}
    with TestClient(app) as client:
        captured.clear()
        per_request: list[tuple[str, list[dict]]] = []

        def step(method, url, rid, **kw):
            captured.clear()
            resp = request_with_id(client, method, url, rid, **kw)
            per_request.append((rid, captured.lines()))
            return resp

        clinic = step("POST", "/v1/clinics", "req-create-clinic", headers=admin,
                      json={"name": "Quackenbush Family Clinic", "preferredBgUnits": "mg/dL"}).json()
        upstream.expect_request(f"/v1/clinics/{clinic['id']}/users", method="POST").respond_with_json(
            {"userid": "0a1b2c3d4e"}, status=201)
        upstream.expect_request("/seagull/0a1b2c3d4e/profile", method="GET").respond_with_data("", 404)
        upstream.expect_request("/seagull/0a1b2c3d4e/profile", method="POST").respond_with_data("", 200)
        resp = step("POST", f"/v1/clinics/{clinic['id']}/patients", "req-create-patient", headers=admin, json=PATIENT)
        assert resp.status_code == 200, resp.text
        resp = step("GET", f"/v1/clinics/{clinic['id']}/patients?search=Quackenbush&birthDate=1971-03-14",
                    "req-list-patients", headers=admin)
        assert resp.status_code == 200 and len(resp.json()["data"]) == 1
        resp = step("GET", "/v1/clinics", "req-server", headers={"x-tidepool-session-token": server_token})
        assert resp.status_code == 200

    everything = "\n".join(json.dumps(line) for _, lines in per_request for line in lines)
    for secret in (admin_token, server_token, "our-server-token", "shoreline-server-secret",
                   PATIENT["fullName"], "Zebulon", "Quackenbush", PATIENT["birthDate"], PATIENT["mrn"],
                   PATIENT["email"], "ada.lovelace@example.com", "Ada Lovelace", "search="):
        assert secret.lower() not in everything.lower(), secret
    for rid, lines in per_request:
        assert lines, rid
        assert {line.get("request_id") for line in lines} == {rid}
        assert all({"time", "level", "logger", "msg"} <= line.keys() for line in lines)
        access = [line for line in lines if line["logger"] == "clinic_api.access"]
        assert len(access) == 1
    access = {rid: next(line for line in lines if line["logger"] == "clinic_api.access") for rid, lines in per_request}
    assert access["req-create-patient"] == {
        **access["req-create-patient"], "level": "info", "msg": "request", "method": "POST",
        "route": "/v1/clinics/{clinicId}/patients", "operation_id": "CreatePatientAccount", "status": 200,
        "caller": "1234567890"}
    assert access["req-list-patients"]["route"] == "/v1/clinics/{clinicId}/patients"
    assert access["req-list-patients"]["operation_id"] == "ListPatients"
    assert access["req-server"]["caller"] == "server"
    assert isinstance(access["req-server"]["duration_ms"], float)
    outbound = [line for _, lines in per_request for line in lines if line["logger"] == "clinic_api.outbound"]
    token_checks = [line for line in outbound if line["route"] == "/token/{token}"]
    assert len(token_checks) == 4
    assert token_checks[0]["method"] == "GET" and token_checks[0]["status"] == 200
    assert token_checks[0]["host"] == f"{upstream.host}:{upstream.port}" and token_checks[0]["service"] == "shoreline"
    assert {line["route"] for line in outbound} >= {"/serverlogin", "/v1/clinics/{}/users", "/seagull/{}/profile"}
    # the request id reached the other services
    forwarded = {req.headers.get("X-Request-ID") for req, _ in upstream.log if req.path.startswith("/token/")}
    assert forwarded == {"req-create-clinic", "req-create-patient", "req-list-patients", "req-server"}


def test_request_id_taken_when_well_formed_and_generated_otherwise(anonymous, server):
    resp = anonymous.get("/v1/clinics", headers={"X-Request-ID": "abc.DEF_123-x"})
    assert resp.status_code == 400 and resp.headers["x-request-id"] == "abc.DEF_123-x"
    for bad in ("", "has space", "x" * 129, "semi;colon", "\xfcn\xef".encode("latin-1")):
        resp = server.get("/v1/nothing-here", headers={"X-Request-ID": bad})
        assert resp.status_code == 404
        generated = resp.headers["x-request-id"]
        assert generated != bad and 1 <= len(generated) <= 128
    assert server.get("/v1/clinics").headers["x-request-id"] != server.get("/v1/clinics").headers["x-request-id"]
    assert anonymous.get("/ready").headers["x-request-id"]
    assert anonymous.get("/metrics").headers["x-request-id"]


def test_ready_and_metrics_are_not_logged(client, db, captured):
    client.get("/ready")
    client.get("/metrics")
    assert captured.text == ""


def test_unexpected_error_is_one_json_line_with_the_stack(captured):
    settings = Settings.from_env(stores.env(CLINIC_TOKEN_SECRET="s" * 40))
    app = create_app(settings)

    def broken_membership_lookup(db, clinic_id, user_id):
        raise RuntimeError("the membership lookup broke")

    app.services.memberships = broken_membership_lookup
    with TestClient(app, raise_server_exceptions=False) as client:
        captured.clear()
        resp = client.get("/v1/clinics/" + "a" * 24 + "/patients", headers={"X-Request-ID": "req-boom",
                                                              "x-tidepool-session-token": _token("s" * 40)})
    assert (resp.status_code, resp.json()) == (500, {"message": "Internal Server Error"})
    assert resp.headers["x-request-id"] == "req-boom"
    lines = captured.lines()
    errors = [line for line in lines if line["level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "req-boom"
    assert "RuntimeError: the membership lookup broke" in errors[0]["stack"]
    assert "Traceback" in errors[0]["stack"]
    assert [line["status"] for line in lines if line["logger"] == "clinic_api.access"] == [500]


def _token(secret: str) -> str:
    from clinic_api.auth.tokens import mint

    return mint(secret, "1234567890")


def test_log_level_names_of_the_reference(captured):
    assert logging_setup.level_from("warn") == logging.WARNING
    assert logging_setup.level_from("debug") == logging.DEBUG
    assert logging_setup.level_from("ERROR") == logging.ERROR
    assert logging_setup.level_from("fatal") == logging.CRITICAL
    logging_setup.configure("warn", stream=captured.buffer)
    logging.getLogger("clinic_api.x").info("hidden")
    logging.getLogger("clinic_api.x").warning("shown %s", 'with "quotes"')
    assert [(line["level"], line["msg"]) for line in captured.lines()] == [("warn", 'shown with "quotes"')]


def test_server_loggers_write_json_and_their_access_logs_are_off(captured):
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42, extra={"color_message": "\x1b[1m"})
    logging.getLogger("gunicorn.error").info("Booting worker")
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /v1/x?search=secret HTTP/1.1" 200')
    logging.getLogger("httpx").info("HTTP Request: GET http://shoreline/token/secret")
    lines = captured.lines()
    assert [(line["logger"], line["msg"]) for line in lines] == [
        ("uvicorn.error", "Started server process [42]"), ("gunicorn.error", "Booting worker")]
    assert "color_message" not in lines[0]


def test_caller_token_is_not_needed_for_the_user_id(as_user, captured, db):
    api = as_user("5678901234", email="pat@example.com", name="Pat Person")
    captured.clear()
    api.get("/v1/clinics")
    access = [line for line in captured.lines() if line["logger"] == "clinic_api.access"]
    assert access[0]["caller"] == "5678901234"
    assert "pat@example.com" not in captured.text and "Pat Person" not in captured.text
    assert token_for("5678901234", email="pat@example.com") not in captured.text
