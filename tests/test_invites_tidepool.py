"""Invites in tidepool mode: users, emails and profiles come from shoreline and seagull, played by
a real local HTTP server (invites.md §1.4-§1.5)."""
import pytest
from starlette.testclient import TestClient

from clinic_api.app import create_app
from clinic_api.integrations.tidepool import ServerSession
from clinic_api.integrations.users import TidepoolUsers
from clinic_api.settings import Settings
from support import stores
from conftest import ADMIN_ID, CLINIC_BODY, Api
from shoreline_support import OUR_TOKEN as OURS, SERVER_SECRET, serve_server_login, tidepool_settings

INVITEE = "5678901234"


@pytest.fixture
def tidepool(httpserver):
    return serve_server_login(httpserver)


settings_for = tidepool_settings


def user(server, user_id, email, full_name=None):
    server.expect_request(f"/user/{user_id}", headers=OURS).respond_with_json(
        {"userid": user_id, "username": email, "emails": [email]})
    server.expect_request(f"/user/{email}", headers=OURS).respond_with_json(
        {"userid": user_id, "username": email, "emails": [email]})
    if full_name:
        server.expect_request(f"/{user_id}/profile", headers=OURS).respond_with_json({"fullName": full_name})
    else:
        server.expect_request(f"/{user_id}/profile").respond_with_data("", status=404)


def token(server, name, user_id, idp=""):
    server.expect_request(f"/token/{name}", headers=OURS).respond_with_json(
        {"userid": user_id, "isserver": False, "identityProvider": idp})


def test_invite_accept_flow_against_shoreline_and_seagull(tidepool):
    user(tidepool, ADMIN_ID, "admin@example.com", "Ada Admin")
    user(tidepool, INVITEE, "nina@example.org", "Nina New")
    tidepool.expect_request("/user/stranger@x.org").respond_with_data("", status=404)
    token(tidepool, "admin-token", ADMIN_ID)
    token(tidepool, "nina-token", INVITEE)
    app = create_app(settings_for(tidepool))
    db = app.services.store.db
    with TestClient(app) as client:
        admin, nina = Api(client, "admin-token"), Api(client, "nina-token")
        clinic = admin.post("/v1/clinics", json=CLINIC_BODY).json()
        invites = f"/v1/clinics/{clinic['id']}/invites/clinicians"
        key = admin.post(invites, json={"email": "nina@example.org", "roles": ["CLINIC_ADMIN"]}).json()["inviteId"]
        stranger = admin.post(invites, json={"email": "stranger@x.org", "roles": ["CLINIC_MEMBER"]}).json()["inviteId"]
        assert db.confirmations.find_one({"_id": key})["userId"] == INVITEE  # known to shoreline
        assert db.confirmations.find_one({"_id": stranger})["userId"] == ""
        [item] = nina.get(f"/v1/clinicians/{INVITEE}/invites").json()
        assert item["creator"]["profile"]["fullName"] == "Ada Admin"
        accepted = nina.put(f"/v1/clinicians/{INVITEE}/invites/{key}")
        assert accepted.status_code == 200 and accepted.json()["name"] == "Nina New"
        assert db.clinics.find_one()["admins"] == [ADMIN_ID, INVITEE]
    mails = {m["recipient"]: m for m in db.outbox.find({"template": "clinician_invitation"})}
    assert mails["nina@example.org"]["variables"]["WebPath"] == "login"
    assert mails["stranger@x.org"]["variables"]["WebPath"] == "signup/clinician"
    assert db.outbox.find_one({"template": "clinic_created"})["recipient"] == "admin@example.com"


@pytest.fixture
def users(tidepool):
    return TidepoolUsers(ServerSession(settings_for(tidepool)))


def test_lookup_by_email(tidepool, users):
    tidepool.expect_request("/user/a+b@x.org").respond_with_json({"userid": "1111111111", "username": "a+b@x.org",
                                                                  "emails": ["a+b@x.org"]})
    tidepool.expect_request("/user/empty@x.org").respond_with_data("", status=204)
    tidepool.expect_request("/user/broken@x.org").respond_with_data("oops", status=500)
    tidepool.expect_request("/user/nouser@x.org").respond_with_json({"username": "nouser@x.org"})
    assert users.find_by_email("a+b@x.org")["userid"] == "1111111111"
    for email in ("empty@x.org", "broken@x.org", "nouser@x.org", "missing@x.org"):
        assert users.find_by_email(email) is None


def test_user_and_profile_lookups(tidepool, users):
    tidepool.expect_request("/user/2222222222").respond_with_data("", status=204)
    tidepool.expect_request("/2222222222/profile").respond_with_json({"fullName": "Two", "patient": {}})
    assert users.get_user("2222222222")["userid"] == ""
    assert users.get_profile("2222222222")["fullName"] == "Two"


def test_unreachable_user_service_is_no_user(users):
    session = ServerSession(settings_for_address("http://127.0.0.1:9"))
    assert TidepoolUsers(session).find_by_email("a@b.org") is None


def settings_for_address(address) -> Settings:
    return Settings.from_env(stores.with_store({"CLINIC_INTEGRATIONS": "tidepool",
                                                "TIDEPOOL_SHORELINE_CLIENT_ADDRESS": address,
                              "TIDEPOOL_SEAGULL_CLIENT_ADDRESS": address, "TIDEPOOL_SERVER_TOKEN": SERVER_SECRET}))
