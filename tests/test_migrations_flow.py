"""The reference's legacy-migration scenario (migrations-merge.md §4.1, ordered), ported twice:
standalone (legacy account seeded into the `users` collection) and tidepool mode (a real local
HTTP server plays shoreline and seagull, as the reference's own test stubs do)."""
from __future__ import annotations

import pytest
from bson import ObjectId
from starlette.testclient import TestClient

from clinic_api.app import create_app
from shoreline_support import serve_server_login, tidepool_settings
from conftest import Api
from test_migrations import assert_dto, result, seed_user

# --- the scenario -------------------------------------------------------------------------

CLINIC_USER = "2345678901"
STEP3 = {"address": "1 Todd's Way", "city": "San Francisco", "country": "USA", "name": "Todd's Clinic",
         "postalCode": "90210", "preferredBgUnits": "mg/dL", "state": "California", "timezone": "US/Pacific",
         "website": "http://www.test.com"}


def run_legacy_flow(server, clinic_token):
    """Steps 1–6 of the reference's migration test plus the derived checks; returns the clinic id."""
    resp = server.post(f"/v1/clinicians/{CLINIC_USER}/migrate")
    assert resp.status_code == 200 and resp.json()["canMigrate"] is False, resp.text
    clinic_id = resp.json()["id"]
    assert clinic_token.post(f"/v1/clinics/{clinic_id}/migrate").status_code == 422
    resp = clinic_token.put(f"/v1/clinics/{clinic_id}", json=STEP3)
    assert resp.status_code == 200 and resp.json()["canMigrate"] is False
    assert clinic_token.post(f"/v1/clinics/{clinic_id}/migrate").status_code == 422
    resp = clinic_token.put(f"/v1/clinics/{clinic_id}", json={**STEP3, "clinicType": "provider_practice"})
    assert resp.status_code == 200 and resp.json()["canMigrate"] is True
    resp = clinic_token.post(f"/v1/clinics/{clinic_id}/migrate")
    assert resp.status_code == 200, resp.text
    assert_dto(resp.json(), CLINIC_USER)
    # derived checks
    assert result(clinic_token.post(f"/v1/clinics/{clinic_id}/migrate")) == (
        422, {"message": "constraint violation: clinic is already migrated"})
    assert result(server.post("/v1/clinicians/1234567890/migrate")) == (
        422, {"message": "constraint violation: user 1234567890 is not clinician"})
    listed = server.get(f"/v1/clinics/{clinic_id}/migrations").json()
    assert [(m["userId"], m["status"]) for m in listed] == [(CLINIC_USER, "PENDING")]
    resp = server.patch(f"/v1/clinics/{clinic_id}/migrations/{CLINIC_USER}", json={"status": "RUNNING"})
    assert resp.status_code == 200 and resp.json()["status"] == "RUNNING"
    assert server.get(f"/v1/clinics/{ObjectId()}/migrations").content == b"null\n"
    assert result(server.post(f"/v1/clinics/{clinic_id}/migrations", json={"userId": CLINIC_USER})) == (
        409, {"message": "migration duplicate"})
    return clinic_id


def test_legacy_migration_end_to_end_standalone(db, server, as_user):
    seed_user(db, CLINIC_USER, emails=("clinic@tidepool.org",), name="Clinic 1")
    seed_user(db, "1234567890", roles=("clinician",), emails=("doc@example.com",))
    clinic_id = run_legacy_flow(server, as_user(CLINIC_USER, server=True))
    admin = db.clinicians.find_one({"clinicId": ObjectId(clinic_id)})
    assert (admin["email"], admin["name"]) == ("clinic@tidepool.org", "Clinic 1")
    # standalone mode records the migration only: no worker moves patients or changes roles
    assert db.patients.count_documents({}) == 0
    assert db.users.find_one({"_id": CLINIC_USER})["roles"] == ["clinic"]


@pytest.fixture
def tidepool(httpserver):
    """shoreline + seagull: token `server` is a backend, token `clinic` is user 2345678901 flagged
    server; 2345678901 holds the legacy role `clinic`, 1234567890 only `clinician`."""
    serve_server_login(httpserver)
    httpserver.expect_request("/token/server").respond_with_json({"userid": "server", "isserver": True})
    httpserver.expect_request("/token/clinic").respond_with_json({"userid": CLINIC_USER, "isserver": True})
    httpserver.expect_request(f"/user/{CLINIC_USER}").respond_with_json(
        {"userid": CLINIC_USER, "username": "clinic@tidepool.org", "emails": ["clinic@tidepool.org"],
         "roles": ["clinic"]})
    httpserver.expect_request("/user/1234567890").respond_with_json(
        {"userid": "1234567890", "username": "doc@example.com", "emails": ["doc@example.com"],
         "roles": ["clinician"]})
    httpserver.expect_request("/user/6789012345").respond_with_data("", status=404)
    httpserver.expect_request("/user/7890123456").respond_with_data("", status=204)  # shoreline's empty user
    httpserver.expect_request(f"/{CLINIC_USER}/profile").respond_with_json({"fullName": "Clinic 1"})
    app = create_app(tidepool_settings(httpserver))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, client


def test_legacy_migration_end_to_end_tidepool(tidepool):
    app, client = tidepool
    server = Api(client, "server")
    clinic_id = run_legacy_flow(server, Api(client, "clinic"))
    db = app.services.store.db
    admin = db.clinicians.find_one({"clinicId": ObjectId(clinic_id)})
    assert (admin["email"], admin["name"], admin["roles"]) == ("clinic@tidepool.org", "Clinic 1", ["CLINIC_ADMIN"])
    assert db.migrations.count_documents({}) == 1
    # a user the user service does not know: 404 not found, nothing written
    assert result(server.post("/v1/clinicians/6789012345/migrate")) == (404, {"message": "not found"})
    assert result(server.post("/v1/clinicians/7890123456/migrate")) == (
        422, {"message": "constraint violation: user 7890123456 is not clinician"})
    assert db.clinics.count_documents({}) == 1
