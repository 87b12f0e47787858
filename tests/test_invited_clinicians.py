"""The clinic side of invites (GetInvitedClinician, AssociateClinicianToUser, DeleteInvitedClinician)
and service accounts (AddServiceAccount against a local token endpoint)."""
import base64
import dataclasses

import jwt
import pytest
from werkzeug import Response

from conftest import ADMIN_ID, MEMBER_ID
from membership_support import (ALREADY_MEMBER, CLINIC_NOT_FOUND, CLINICIAN_NOT_FOUND, NEEDS_ADMIN, NOT_MIGRATED,
                                add_clinician, admins_of, legacy_clinic,
                                record, snapshot)
from support.access import assert_denied, assert_token_required

INVITEE = "8888888888"


def invite_url(clinic, invite_id="gw94dmVOaB4CH"):
    return f"/v1/clinics/{clinic['id']}/invites/clinicians/{invite_id}/clinician"


@pytest.fixture
def invite(db, clinic):
    return add_clinician(db, clinic["id"], None, ["CLINIC_ADMIN"], email="invitee@x.org", invite_id="gw94dmVOaB4CH")


# --- GetInvitedClinician --------------------------------------------------------------------

def test_get_invited_clinician(server, clinic, invite):
    resp = server.get(invite_url(clinic))
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["createdTime", "email", "inviteId", "roles", "updatedTime"]
    assert body["inviteId"] == "gw94dmVOaB4CH" and body["email"] == "invitee@x.org"
    resp = server.get(invite_url(clinic, "other"))
    assert resp.status_code == 404 and resp.json() == CLINICIAN_NOT_FOUND


def test_invite_records_are_s_only(admin, member, other_admin, plain_user, anonymous, clinic, invite):
    for method in ("GET", "PATCH", "DELETE"):
        for api in (admin, member, other_admin, plain_user):
            assert_denied(api, method, invite_url(clinic), {"userId": INVITEE})
        assert_token_required(anonymous, method, invite_url(clinic), {"userId": INVITEE})


# --- AssociateClinicianToUser ---------------------------------------------------------------

def test_associate_admin_invite_with_profile_name(server, clinic, invite, db, as_user):
    # scenario 15 / T17: the invitee's profile name is taken, the clinic gains an admin
    as_user(INVITEE, email="invitee@x.org", name="Ivy Invitee").get("/v1/clinics/" + clinic["id"])
    resp = server.patch(invite_url(clinic), json={"userId": INVITEE})
    assert resp.status_code == 200
    body = resp.json()
    assert body["id"] == INVITEE and body["name"] == "Ivy Invitee" and "inviteId" not in body
    assert body["email"] == "invitee@x.org"
    assert admins_of(db, clinic["id"]) == [ADMIN_ID, INVITEE]
    assert "inviteId" not in record(db, clinic["id"], INVITEE)
    assert server.get(invite_url(clinic)).status_code == 404  # the invite id is gone


def test_associate_member_invite_without_profile(server, clinic, db):
    add_clinician(db, clinic["id"], None, ["CLINIC_MEMBER"], email="m@x.org", invite_id="k2")
    resp = server.patch(invite_url(clinic, "k2"), json={"userId": INVITEE})
    assert resp.status_code == 200 and "name" not in resp.json()
    assert admins_of(db, clinic["id"]) == [ADMIN_ID]


def test_associate_into_a_clinic_already_joined_is_409_and_nothing_changes(server, member, clinic, invite, db):
    before = snapshot(db, "clinicians", "clinics")
    resp = server.patch(invite_url(clinic), json={"userId": MEMBER_ID})
    assert resp.status_code == 409 and resp.json() == ALREADY_MEMBER
    assert snapshot(db, "clinicians", "clinics") == before


def test_associate_member_invite_into_admin_less_clinic_is_422(server, clinic, db):
    add_clinician(db, clinic["id"], None, ["CLINIC_MEMBER"], email="m@x.org", invite_id="k3")
    db.clinics.update_one({}, {"$set": {"admins": []}})
    before = snapshot(db, "clinicians", "clinics")
    resp = server.patch(invite_url(clinic, "k3"), json={"userId": INVITEE})
    assert resp.status_code == 422 and resp.json() == NEEDS_ADMIN
    assert snapshot(db, "clinicians", "clinics") == before


def test_associate_errors(server, clinic, invite, db):
    resp = server.patch(invite_url(clinic, "missing"), json={"userId": INVITEE})
    assert resp.status_code == 404 and resp.json() == CLINICIAN_NOT_FOUND
    resp = server.patch(invite_url(clinic), json={"userId": ""})
    assert resp.status_code == 400 and resp.json() == {"message": "bad request: user id is required"}
    resp = server.patch(invite_url(clinic), json={})
    assert resp.status_code == 400
    legacy = legacy_clinic(db)
    resp = server.patch(f"/v1/clinics/{legacy}/invites/clinicians/k/clinician", json={"userId": INVITEE})
    assert resp.status_code == 422 and resp.json() == NOT_MIGRATED
    resp = server.patch("/v1/clinics/" + "e" * 24 + "/invites/clinicians/k/clinician", json={"userId": INVITEE})
    assert resp.status_code == 404 and resp.json() == CLINIC_NOT_FOUND


# --- DeleteInvitedClinician -----------------------------------------------------------------

def test_delete_invited_clinician(server, clinic, invite, db):
    resp = server.delete(invite_url(clinic))
    assert resp.status_code == 200 and resp.content == b""
    assert db.clinicians.find_one({"inviteId": "gw94dmVOaB4CH"}) is None
    assert db.clinician_deletions.count_documents({}) == 0  # no archive for invites
    resp = server.delete(invite_url(clinic))
    assert resp.status_code == 404 and resp.json() == CLINICIAN_NOT_FOUND
    legacy = legacy_clinic(db)
    resp = server.delete(f"/v1/clinics/{legacy}/invites/clinicians/k/clinician")
    assert resp.status_code == 422 and resp.json() == NOT_MIGRATED


# --- AddServiceAccount ------------------------------------------------------------------------

SA_BODY = {"client_id": "clinic-sa", "client_secret": "s3cret/+", "name": "Export Robot"}


def id_token(sub="9999999999"):
    return jwt.encode({"sub": sub, "aud": "clinic-sa"}, "the-idp-key-we-never-check-0123456789", algorithm="HS256")


@pytest.fixture
def token_endpoint(httpserver, services, monkeypatch):
    monkeypatch.setattr(services, "settings", dataclasses.replace(
        services.settings, service_token_endpoint=httpserver.url_for("/realms/tidepool/token")))
    return httpserver


def basic(client_id, secret):
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_service_account_registration_and_use(server, clinic, token_endpoint, db, as_user):
    # scenario 10.6.4: the account's token can then list the clinic's clinicians
    token_endpoint.expect_request(
        "/realms/tidepool/token", method="POST",
        headers={"Authorization": basic("clinic-sa", "s3cret%2F%2B")},
        data="grant_type=client_credentials&scope=openid",
    ).respond_with_json({"access_token": "a", "token_type": "bearer", "id_token": id_token()})
    resp = server.post(f"/v1/clinics/{clinic['id']}/service_accounts", json=SA_BODY)
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == "9999999999" and resp.json()["email"] == ""
    assert resp.json()["roles"] == ["CLINIC_MEMBER"] and resp.json()["name"] == "Export Robot"
    doc = record(db, clinic["id"], "9999999999")
    assert doc["isServiceAccount"] is True and "email" not in doc and "client_secret" not in str(doc)
    listed = as_user("9999999999").get(f"/v1/clinics/{clinic['id']}/clinicians").json()
    assert "9999999999" in [c.get("id") for c in listed]
    again = server.post(f"/v1/clinics/{clinic['id']}/service_accounts", json=SA_BODY)
    assert again.status_code == 409 and again.json() == ALREADY_MEMBER


def test_service_account_credentials_in_the_form_when_basic_is_refused(server, clinic, token_endpoint):
    def handler(request):
        if request.headers.get("Authorization"):
            return Response('{"error":"invalid_client"}', status=401, content_type="application/json")
        assert request.form["client_id"] == "clinic-sa" and request.form["client_secret"] == "s3cret/+"
        return Response(f"id_token={id_token('a1b2c3d4e5')}&token_type=bearer", status=200,
                        content_type="application/x-www-form-urlencoded")
    token_endpoint.expect_request("/realms/tidepool/token", method="POST").respond_with_handler(handler)
    resp = server.post(f"/v1/clinics/{clinic['id']}/service_accounts", json=SA_BODY)
    assert resp.status_code == 200 and resp.json()["id"] == "a1b2c3d4e5"


def test_service_account_rejected_credentials_are_400(server, clinic, token_endpoint, db):
    token_endpoint.expect_request("/realms/tidepool/token").respond_with_json({"error": "invalid_client"}, status=401)
    before = snapshot(db, "clinicians")
    resp = server.post(f"/v1/clinics/{clinic['id']}/service_accounts", json=SA_BODY)
    assert resp.status_code == 400
    assert resp.json() == {"message": "bad request: the token endpoint rejected the client credentials"}
    assert snapshot(db, "clinicians") == before


@pytest.mark.parametrize("answer", [{"access_token": "no id token"}, {"id_token": "not-a-jwt"},
                                    {"id_token": jwt.encode({"aud": "x"}, "k" * 32, algorithm="HS256")}])
def test_service_account_unusable_token_answers_500(server, clinic, token_endpoint, answer):
    token_endpoint.expect_request("/realms/tidepool/token").respond_with_json(answer)
    resp = server.post(f"/v1/clinics/{clinic['id']}/service_accounts", json=SA_BODY)
    assert resp.status_code == 500 and resp.json() == {"message": "Internal Server Error"}


def test_service_account_without_endpoint_is_422(server, clinic, db):
    before = snapshot(db, "clinicians")
    resp = server.post(f"/v1/clinics/{clinic['id']}/service_accounts", json=SA_BODY)
    assert resp.status_code == 422
    assert resp.json() == {"message": "constraint violation: service accounts are not available: "
                                      "TIDEPOOL_AUTH_SERVICE_TOKEN_ENDPOINT is not set"}
    assert snapshot(db, "clinicians") == before


def test_service_account_guards_and_body(server, clinic, db, token_endpoint):
    legacy = legacy_clinic(db)
    resp = server.post(f"/v1/clinics/{legacy}/service_accounts", json=SA_BODY)
    assert resp.status_code == 422 and resp.json() == NOT_MIGRATED
    resp = server.post("/v1/clinics/" + "f" * 24 + "/service_accounts", json=SA_BODY)
    assert resp.status_code == 404 and resp.json() == CLINIC_NOT_FOUND
    resp = server.post(f"/v1/clinics/{clinic['id']}/service_accounts", json={"client_id": "x", "name": "n"})
    assert resp.status_code == 400 and 'property "client_secret" is missing' in resp.json()["message"]
    assert not token_endpoint.log  # nothing was asked of the endpoint


def test_service_account_authorization(admin, member, other_admin, plain_user, anonymous, clinic):
    target = f"/v1/clinics/{clinic['id']}/service_accounts"
    for api in (admin, member, other_admin, plain_user):
        assert_denied(api, "POST", target, SA_BODY)
    assert_token_required(anonymous, "POST", target, SA_BODY)
