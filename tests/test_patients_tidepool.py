"""The tidepool custodial-account and profile client, against a real local HTTP server playing
shoreline and seagull; and the patient operations end to end in tidepool mode."""
from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from clinic_api.app import create_app
from clinic_api.errors import Duplicate, InternalError, ServiceUnavailable
from clinic_api.integrations.accounts import TidepoolAccounts
from clinic_api.integrations.tidepool import ServerSession
from clinic_api.settings import Settings
from shoreline_support import OUR_TOKEN as TOKEN, serve_server_login, tidepool_settings

CLINIC_ID = "60d5ec49f1a2c3b4d5e6f701"


@pytest.fixture
def upstream(httpserver):
    return serve_server_login(httpserver)


def settings_for(server, **extra) -> Settings:
    return tidepool_settings(server, seagull_path="/seagull", **extra)


def accounts(server) -> TidepoolAccounts:
    return TidepoolAccounts(ServerSession(settings_for(server)))


def sent(server, path):
    return [json.loads(req.get_data() or b"null") for req, _ in server.log if req.path == path]


def test_create_custodial_account(upstream):
    upstream.expect_request(f"/v1/clinics/{CLINIC_ID}/users", method="POST", headers=TOKEN,
                            json={"username": "foo@example.com", "emails": ["foo@example.com"]}
                            ).respond_with_json({"userid": "abcdef0123"}, status=201)
    assert accounts(upstream).create_custodial(CLINIC_ID, "foo@example.com") == "abcdef0123"


def test_create_custodial_account_without_email(upstream):
    upstream.expect_request(f"/v1/clinics/{CLINIC_ID}/users", method="POST", json={}
                            ).respond_with_json({"userid": "abcdef0124"}, status=201)
    assert accounts(upstream).create_custodial(CLINIC_ID, None) == "abcdef0124"


@pytest.mark.parametrize("status,body,error,message", [
    (409, {}, Duplicate, "duplicate: email address is already taken"),
    (500, {}, InternalError, None), (200, {"userid": "x"}, InternalError, None), (201, {}, InternalError, None)])
def test_create_custodial_account_failures(upstream, status, body, error, message):
    upstream.expect_request(f"/v1/clinics/{CLINIC_ID}/users", method="POST").respond_with_json(body, status=status)
    with pytest.raises(error) as err:
        accounts(upstream).create_custodial(CLINIC_ID, "a@x.org")
    if message:
        assert err.value.message == message


def test_unreachable_service_is_unavailable():
    settings = Settings.from_env({"CLINIC_INTEGRATIONS": "tidepool", "TIDEPOOL_SHORELINE_CLIENT_ADDRESS": "http://127.0.0.1:9"})
    with pytest.raises(ServiceUnavailable):
        TidepoolAccounts(ServerSession(settings)).create_custodial(CLINIC_ID, "a@x.org")


def test_update_custodial_account(upstream):
    upstream.expect_request("/user/abcdef0123", method="PUT", headers=TOKEN,
                            json={"updates": {"username": "n@x.org", "emails": ["n@x.org"]}}).respond_with_data("", 200)
    upstream.expect_request("/user/abcdef0123", method="PUT",
                            json={"updates": {"emails": []}}).respond_with_data("", 200)
    client = accounts(upstream)
    client.update_custodial("abcdef0123", "n@x.org")
    client.update_custodial("abcdef0123", None)
    assert sent(upstream, "/user/abcdef0123") == [{"updates": {"username": "n@x.org", "emails": ["n@x.org"]}},
                                                 {"updates": {"emails": []}}]


@pytest.mark.parametrize("status,error", [(409, Duplicate), (500, InternalError)])
def test_update_custodial_account_failures(upstream, status, error):
    upstream.expect_request("/user/abcdef0123", method="PUT").respond_with_data("", status)
    with pytest.raises(error) as err:
        accounts(upstream).update_custodial("abcdef0123", "n@x.org")
    if status == 409:
        assert err.value.message == "unable to update custodial user: duplicate: email address is already taken"


def test_profile_rewrite(upstream):
    upstream.expect_request("/seagull/abcdef0123/profile", method="GET", headers=TOKEN).respond_with_json(
        {"fullName": "Old", "patient": {"birthday": "1990-01-01", "mrn": "OLD", "about": "kept"}})
    upstream.expect_request("/seagull/abcdef0123/profile", method="POST", headers=TOKEN).respond_with_data("", 200)
    accounts(upstream).apply_profile("abcdef0123", {"fullName": "New", "email": "n@x.org", "targetDevices": ["g6"],
                                                    "mrn": None}, removed=("birthDate",))
    assert sent(upstream, "/seagull/abcdef0123/profile")[-1] == {
        "fullName": "New", "patient": {"mrn": "OLD", "about": "kept", "targetDevices": ["g6"], "emails": ["n@x.org"]},
        "email": "n@x.org"}


def test_profile_rewrite_without_profile(upstream):
    upstream.expect_request("/seagull/abcdef0123/profile", method="GET").respond_with_data("", 404)
    upstream.expect_request("/seagull/abcdef0123/profile", method="POST").respond_with_data("", 404)
    accounts(upstream).apply_profile("abcdef0123", {"birthDate": "2000-01-01"})
    assert sent(upstream, "/seagull/abcdef0123/profile")[-1] == {"patient": {"birthday": "2000-01-01"}}


# --- end to end in tidepool mode -----------------------------------------------------------------

def tidepool_app(upstream, effects="external"):
    for token, body in (("admin", {"userid": "1234567890", "isserver": False}),
                        ("srv", {"userid": "server", "isserver": True})):
        upstream.expect_request(f"/token/{token}", method="GET", headers=TOKEN).respond_with_json(body)
    upstream.expect_request("/user/1234567890").respond_with_json(
        {"userid": "1234567890", "username": "ada@example.com", "emails": ["ada@example.com"]})
    upstream.expect_request("/seagull/1234567890/profile").respond_with_json({"fullName": "Ada"})
    return create_app(settings_for(upstream, CLINIC_EFFECTS=effects))


def test_custodial_patient_lifecycle(upstream):
    app = tidepool_app(upstream)
    with TestClient(app) as client:
        admin = {"x-tidepool-session-token": "admin"}
        clinic = client.post("/v1/clinics", headers=admin, json={"name": "Shore", "preferredBgUnits": "mg/dL"}).json()
        users_path = f"/v1/clinics/{clinic['id']}/users"
        upstream.expect_request(users_path, method="POST").respond_with_json({"userid": "0a1b2c3d4e"}, status=201)
        upstream.expect_request("/user/0a1b2c3d4e", method="PUT").respond_with_data("", 200)
        resp = client.post(f"/v1/clinics/{clinic['id']}/patients", headers=admin,
                           json={"fullName": "Timothy Bixby", "birthDate": "2008-01-06", "email": "Foo@Example.COM"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["id"] == "0a1b2c3d4e" and resp.json()["email"] == "foo@example.com"
        assert sent(upstream, users_path) == [{"username": "foo@example.com", "emails": ["foo@example.com"]}]
        resp = client.put(f"/v1/clinics/{clinic['id']}/patients/0a1b2c3d4e", headers=admin,
                          json={"fullName": "Timothy Bixby", "birthDate": "2008-01-06"})
        assert resp.status_code == 200
        assert sent(upstream, "/user/0a1b2c3d4e") == [{"updates": {"emails": []}}]


def test_create_from_user_reads_shoreline_and_seagull(upstream):
    app = tidepool_app(upstream)
    upstream.expect_request("/user/5555555555").respond_with_json({"userid": "5555555555", "username": "Pat@X.org"})
    upstream.expect_request("/seagull/5555555555/profile").respond_with_json(
        {"fullName": "Pat Profile", "patient": {"birthday": "1977-07-07", "mrn": "PM-1"}})
    upstream.expect_request("/user/6666666666").respond_with_data("", 404)
    with TestClient(app) as client:
        clinic = client.post("/v1/clinics", headers={"x-tidepool-session-token": "admin"},
                             json={"name": "Shore", "preferredBgUnits": "mg/dL"}).json()
        srv = {"x-tidepool-session-token": "srv"}
        resp = client.post(f"/v1/clinics/{clinic['id']}/patients/5555555555", headers=srv,
                           json={"permissions": {"view": {}}})
        body = resp.json()
        assert (body["fullName"], body["birthDate"], body["mrn"], body["email"]) == (
            "Pat Profile", "1977-07-07", "PM-1", "pat@x.org")
        resp = client.post(f"/v1/clinics/{clinic['id']}/patients/6666666666", headers=srv, json={})
        assert (resp.status_code, resp.json()) == (404, {"message": "not found"})


def test_inline_effects_rewrite_the_custodial_profile(upstream):
    app = tidepool_app(upstream, effects="inline")
    with TestClient(app) as client:
        admin = {"x-tidepool-session-token": "admin"}
        clinic = client.post("/v1/clinics", headers=admin, json={"name": "Shore", "preferredBgUnits": "mg/dL"}).json()
        upstream.expect_request(f"/v1/clinics/{clinic['id']}/users", method="POST").respond_with_json(
            {"userid": "0a1b2c3d4e"}, status=201)
        upstream.expect_request("/seagull/0a1b2c3d4e/profile", method="GET").respond_with_data("", 404)
        upstream.expect_request("/seagull/0a1b2c3d4e/profile", method="POST").respond_with_data("", 200)
        resp = client.post(f"/v1/clinics/{clinic['id']}/patients", headers=admin,
                           json={"fullName": "Kid", "birthDate": "2010-10-10", "mrn": "K1", "email": "kid@x.org"})
        assert resp.status_code == 200
    assert sent(upstream, "/seagull/0a1b2c3d4e/profile")[-1] == {
        "fullName": "Kid", "patient": {"birthday": "2010-10-10", "mrn": "K1", "emails": ["kid@x.org"]},
        "email": "kid@x.org"}
    mail = app.services.store.db.outbox.find_one({"recipient": "kid@x.org"})
    assert mail["template"] == "signup_custodial_new_clinic_experience_confirmation"
