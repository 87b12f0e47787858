"""Every request is bounded: body size (413), header size (431), JSON depth (400), database time
(503 with Retry-After), and /ready tells whether the database answers."""
from __future__ import annotations

import threading
import time

import pymongo
import pytest
from bson import ObjectId
from starlette.testclient import TestClient

from clinic_api import app as app_module
from clinic_api.app import create_app
from clinic_api.auth.tokens import mint
from clinic_api.store import local_server, memory
from conftest import SECRET, token_for
from support import stores

REDOX_VERIFY = "/v1/redox/verify"
UNAVAILABLE = {"message": "the database is unavailable; try again later"}


@pytest.fixture
def small_app():
    """An app with small limits, on the store under test."""
    app = create_app(stores.settings(fresh=True, CLINIC_TOKEN_SECRET=SECRET, CLINIC_MAX_BODY_BYTES="2048",
                                     CLINIC_MAX_HEADER_BYTES="4096", CLINIC_DB_TIMEOUT_MS="500"))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, client


def server_headers(**extra):
    return {"x-tidepool-session-token": token_for("server", server=True), **extra}


@pytest.mark.parametrize("with_token", [True, False])
@pytest.mark.parametrize("path", ["/v1/clinics", REDOX_VERIFY, "/v1/xealth/preorder"])
def test_a_body_over_the_cap_is_413_before_anything_else(small_app, path, with_token):
    _, client = small_app
    headers = {"content-type": "application/json", **(server_headers() if with_token else {})}
    resp = client.post(path, content=b'{"name":"' + b"x" * 4000 + b'"}', headers=headers)
    assert resp.status_code == 413
    assert resp.json() == {"message": "request body too large (limit 2048 bytes)"}


def test_a_streamed_body_over_the_cap_is_413(small_app):
    _, client = small_app

    def chunks():
        for _ in range(10):
            yield b"x" * 512

    resp = client.post(REDOX_VERIFY, content=chunks(), headers={"content-type": "application/json"})
    assert resp.status_code == 413
    assert resp.json() == {"message": "request body too large (limit 2048 bytes)"}


def test_a_body_at_the_cap_is_served(small_app, db):
    app, client = small_app
    name = "x" * (2048 - len(b'{"name":"","preferredBgUnits":"mg/dL"}'))
    resp = client.post("/v1/clinics", json={"name": name, "preferredBgUnits": "mg/dL"},
                       headers={"x-tidepool-session-token": token_for("1234567890")})
    assert resp.status_code == 200 and resp.json()["name"] == name


@pytest.mark.parametrize("with_token", [True, False])
def test_headers_over_the_cap_are_431(small_app, with_token):
    _, client = small_app
    headers = {"x-padding": "y" * 5000, **(server_headers() if with_token else {})}
    resp = client.get("/v1/clinics", headers=headers)
    assert resp.status_code == 431
    assert resp.json() == {"message": "request header fields too large"}
    resp = client.get("/v1/clinics?search=" + "z" * 5000, headers=server_headers())
    assert resp.status_code == 431


def nested(depth: int) -> bytes:
    return b'{"name":' + b"[" * depth + b"1" + b"]" * depth + b"}"


def test_json_nested_too_deep_is_a_400_on_the_validated_routes(client, db):
    headers = {"x-tidepool-session-token": token_for("1234567890"), "content-type": "application/json"}
    resp = client.post("/v1/clinics", content=nested(1000), headers=headers)
    assert resp.status_code == 400
    assert resp.json() == {"message": "request body has an error: failed to decode request body: exceeded max depth"}
    # 128 levels are decoded (and then refused by the schema, as any array for a name)
    resp = client.post("/v1/clinics", content=nested(127), headers=headers)
    assert resp.status_code == 400 and "exceeded max depth" not in resp.json()["message"]
    assert db.clinics.count_documents({}) == 0


def test_json_nested_too_deep_is_a_400_without_a_token_on_the_self_verifying_routes(client, db):
    resp = client.post(REDOX_VERIFY, content=nested(1000), headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert resp.json() == {"message": "Syntax error: offset=136, error=exceeded max depth"}
    strings = b'{"challenge":"' + b"[" * 1000 + b'"}'  # brackets inside a string do not nest
    resp = client.post(REDOX_VERIFY, content=strings, headers={"content-type": "application/json"})
    assert resp.status_code != 500 and "max depth" not in resp.text


def test_a_stuck_transaction_gives_503_within_the_limit_not_a_hang(small_app):
    app, client = small_app
    store = app.services.store
    admin = {"x-tidepool-session-token": token_for("1234567890")}
    clinic = client.post("/v1/clinics", json={"name": "Busy", "preferredBgUnits": "mg/dL"}, headers=admin).json()
    patient = "5678901234"
    created = client.post(f"/v1/clinics/{clinic['id']}/patients/{patient}", json={"fullName": "Pat"},
                          headers=server_headers())
    assert created.status_code == 200
    release, held = threading.Event(), threading.Event()

    def hold():
        if store.embedded:  # the memory store serialises writes and transactions with one lock
            with memory.LOCK:
                held.set()
                release.wait(10)
            return
        with store.client.start_session() as session:  # a transaction that holds the patient
            session.start_transaction()
            store.db.patients.update_one({"userId": patient}, {"$set": {"mrn": "held"}}, session=session)
            held.set()
            release.wait(10)
            session.abort_transaction()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(5)
        start = time.monotonic()
        resp = client.delete(f"/v1/clinics/{clinic['id']}/patients/{patient}", headers=admin)
        elapsed = time.monotonic() - start
    finally:
        release.set()
        holder.join()
    assert resp.status_code == 503
    assert resp.json() == UNAVAILABLE
    assert resp.headers["retry-after"] == "5"
    assert elapsed < 5  # the limit is 0.5 s; never the 60-120 s of a driver's retries
    # nothing was half-done, and the next try succeeds
    assert client.get(f"/v1/clinics/{clinic['id']}/patients/{patient}", headers=server_headers()).status_code == 200
    again = client.delete(f"/v1/clinics/{clinic['id']}/patients/{patient}", headers=admin)
    assert again.status_code == 204


def test_ready_is_200_while_the_database_answers(client):
    resp = client.get("/ready")
    assert resp.status_code == 200 and resp.content == b""


@pytest.mark.store_independent
def test_a_database_that_is_gone_gives_503_and_ready_says_so(tmp_path):
    server = local_server.LocalServer(tmp_path / "db")
    uri = server.start()
    try:
        app = create_app(stores.Settings.from_env({
            "MONGODB_URI": uri, "CLINIC_TOKEN_SECRET": SECRET, "CLINIC_DB_SERVER_SELECTION_TIMEOUT_MS": "500",
            "CLINIC_DB_TIMEOUT_MS": "1000"}))
        with TestClient(app, raise_server_exceptions=False) as client:
            token = {"x-tidepool-session-token": mint(SECRET, "server", server=True)}
            assert client.get("/ready").status_code == 200
            assert client.get("/v1/clinics", headers=token).status_code == 200
            server.stop()
            start = time.monotonic()
            resp = client.get(f"/v1/clinics/{ObjectId()}", headers=token)
            assert time.monotonic() - start < 5
            assert resp.status_code == 503 and resp.json() == UNAVAILABLE and resp.headers["retry-after"] == "5"
            ready = client.get("/ready")
            assert ready.status_code == 503 and ready.json() == UNAVAILABLE
    finally:
        server.stop()


def test_the_memory_lock_and_the_driver_share_one_limit():
    """The time limit comes from CLINIC_DB_TIMEOUT_MS on every store."""
    app = create_app(stores.settings(fresh=True, CLINIC_DB_TIMEOUT_MS="750"))
    assert app.services.store.timeout_s == 0.75
    if not app.services.store.embedded:
        assert app.services.store.client.options.pool_options.socket_timeout == 0.75
        assert isinstance(app.services.store.client, pymongo.MongoClient)


def test_shutdown_closes_the_database_client():
    app = create_app(stores.settings(fresh=True))
    with TestClient(app) as client:
        assert client.get("/ready").status_code == 200
    app_module.shutdown(app)  # what gunicorn's worker_exit hook calls
    if not app.services.store.embedded:
        assert app.services.store.client._closed is True
