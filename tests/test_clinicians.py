"""Clinicians of a clinic: list, create, get, update, delete, a user's clinics, and the rule that a
clinic always keeps an admin (clinics-clinicians.md §0.7, §5, scenarios §10.5-§10.6)."""
import datetime as dt

import pytest
from bson import ObjectId

from conftest import ADMIN_ID, MEMBER_ID
from membership_support import (ALREADY_MEMBER, CLINIC_NOT_FOUND, CLINICIAN_NOT_FOUND, NEEDS_ADMIN, NOT_MIGRATED,
                                TIME, add_clinician, admins_of,
                                legacy_clinic, record, snapshot)
from support.access import assert_denied, assert_token_required
from support.paths import clinicians_url as url

NEW = {"id": "1111111111", "name": "Test Clinician", "email": "Test@Example.com", "roles": ["CLINIC_MEMBER"]}


# --- CreateClinician ------------------------------------------------------------------------

def test_server_creates_a_member_and_the_admin_can_read_it(server, admin, clinic):
    resp = server.post(url(clinic), json=NEW)
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["createdTime", "email", "id", "name", "roles", "updatedTime"]
    assert body["email"] == "test@example.com" and body["id"] == "1111111111"
    assert body["roles"] == ["CLINIC_MEMBER"] and TIME.match(body["createdTime"])
    got = admin.get(url(clinic, "/1111111111"))
    assert got.status_code == 200 and got.json() == body


def test_create_stores_the_reference_document(server, clinic, db):
    server.post(url(clinic), json=NEW)
    doc = record(db, clinic["id"], "1111111111")
    assert doc["clinicId"] == ObjectId(clinic["id"]) and doc["email"] == "test@example.com"
    assert doc["name"] == "Test Clinician" and "rolesUpdates" not in doc and "isServiceAccount" not in doc


def test_create_admin_joins_the_admins_array(server, clinic, db):
    resp = server.post(url(clinic), json={**NEW, "roles": ["CLINIC_ADMIN"]})
    assert resp.status_code == 200
    assert admins_of(db, clinic["id"]) == [ADMIN_ID, "1111111111"]


def test_create_invite_record_has_no_user_and_no_admin_change(server, clinic, db):
    resp = server.post(url(clinic), json={"inviteId": "invite-1", "email": "A@B.org", "roles": ["CLINIC_ADMIN"]})
    assert resp.status_code == 200
    assert resp.json()["inviteId"] == "invite-1" and "id" not in resp.json() and "name" not in resp.json()
    doc = db.clinicians.find_one({"inviteId": "invite-1"})
    assert "userId" not in doc and doc["name"] is None
    assert admins_of(db, clinic["id"]) == [ADMIN_ID]


@pytest.mark.parametrize("clash", [{"id": ADMIN_ID}, {"email": "ADMIN@example.com"}])
def test_create_duplicate_is_409(server, clinic, db, clash):
    before = snapshot(db, "clinicians", "clinics")
    resp = server.post(url(clinic), json={**NEW, **clash})
    assert resp.status_code == 409 and resp.json() == ALREADY_MEMBER
    assert snapshot(db, "clinicians", "clinics") == before


def test_create_duplicate_invite_id_is_409(server, clinic):
    server.post(url(clinic), json={"inviteId": "k", "email": "a@b.org", "roles": ["CLINIC_MEMBER"]})
    resp = server.post(url(clinic), json={"inviteId": "k", "email": "c@d.org", "roles": ["CLINIC_MEMBER"]})
    assert resp.status_code == 409 and resp.json() == ALREADY_MEMBER


def test_create_member_in_a_clinic_without_admins_is_422_and_writes_nothing(server, clinic, db):
    db.clinics.update_one({"_id": ObjectId(clinic["id"])}, {"$set": {"admins": []}})
    before = snapshot(db, "clinicians", "clinics")
    resp = server.post(url(clinic), json=NEW)
    assert resp.status_code == 422 and resp.json() == NEEDS_ADMIN
    assert snapshot(db, "clinicians", "clinics") == before


def test_create_guards_missing_and_legacy_clinics(server, db):
    resp = server.post("/v1/clinics/" + "a" * 24 + "/clinicians", json=NEW)
    assert resp.status_code == 404 and resp.json() == CLINIC_NOT_FOUND
    legacy = legacy_clinic(db)
    resp = server.post(f"/v1/clinics/{legacy}/clinicians", json=NEW)
    assert resp.status_code == 422 and resp.json() == NOT_MIGRATED


def test_create_bad_bodies_are_400(server, clinic):
    resp = server.post(url(clinic), json={"email": "a@b.org", "roles": ["OWNER"]})
    assert resp.status_code == 400 and resp.json()["message"].startswith("request body has an error")
    resp = server.post(url(clinic), json={"email": "a@b.org", "roles": ["CLINIC_MEMBER"], "id": "not-a-user"})
    assert resp.status_code == 400
    resp = server.post(url(clinic))
    assert resp.status_code == 400
    assert resp.json() == {"message": "request body has an error: value is required but missing"}


def test_create_authorization(admin, member, other_admin, plain_user, anonymous, clinic):
    for api in (admin, member, other_admin, plain_user):
        assert_denied(api, "POST", url(clinic), NEW)
    assert_token_required(anonymous, "POST", url(clinic), NEW)


# --- ListClinicians -------------------------------------------------------------------------

def test_list_includes_invites_newest_first_with_paging(admin, member, server, clinic, db):
    server.post(url(clinic), json={"inviteId": "k1", "email": "inv@x.org", "roles": ["CLINIC_MEMBER"]})
    for i, key in enumerate(({"userId": ADMIN_ID}, {"userId": MEMBER_ID}, {"inviteId": "k1"})):
        db.clinicians.update_one(key, {"$set": {"createdTime": dt.datetime(2024, 1, 1 + i, tzinfo=dt.timezone.utc)}})
    listed = admin.get(url(clinic)).json()
    assert [c.get("id", c.get("inviteId")) for c in listed] == ["k1", MEMBER_ID, ADMIN_ID]
    page = admin.get(url(clinic), params={"offset": 1, "limit": 1}).json()
    assert [c["id"] for c in page] == [MEMBER_ID]


def test_list_filters_by_email_and_role(admin, member, clinic):
    assert [c["id"] for c in admin.get(url(clinic), params={"email": "MEMBER@example.com"}).json()] == [MEMBER_ID]
    assert [c["id"] for c in admin.get(url(clinic), params={"role": "CLINIC_ADMIN"}).json()] == [ADMIN_ID]
    assert admin.get(url(clinic), params={"role": "clinic_admin"}).json() == []


def test_list_search_matches_email_tokens(admin, member, clinic):
    assert [c["id"] for c in admin.get(url(clinic), params={"search": "member"}).json()] == [MEMBER_ID]
    both = admin.get(url(clinic), params={"search": "example"}).json()
    assert {c["id"] for c in both} == {MEMBER_ID, ADMIN_ID}
    assert admin.get(url(clinic), params={"search": "Mel"}).json() == []  # names are not indexed
    assert [c["id"] for c in admin.get(url(clinic), params={"search": "example -member"}).json()] == [ADMIN_ID]


def test_list_role_filter_with_ten_of_each(server, clinic, db):
    # scenario 9: 10 members and 10 admins; each role filter returns only that role
    for i in range(10):
        add_clinician(db, clinic["id"], f"{i:010d}", ["CLINIC_MEMBER"], email=f"m{i}@x.org")
        add_clinician(db, clinic["id"], f"{i + 10:010d}", ["CLINIC_ADMIN"], email=f"a{i}@x.org")
    for role in ("CLINIC_MEMBER", "CLINIC_ADMIN"):
        got = server.get(url(clinic), params={"role": role, "limit": 100}).json()
        assert got and all(role in c["roles"] for c in got)


def test_list_empty_values_and_unknown_clinic(server, clinic):
    resp = server.get(url(clinic), params={"search": ""})
    assert resp.status_code == 400
    assert resp.json() == {"message": 'parameter "search" in query has an error: empty value is not allowed'}
    assert server.get("/v1/clinics/" + "b" * 24 + "/clinicians").json() == []


def test_list_authorization(server, admin, member, other_admin, plain_user, anonymous, clinic):
    for api in (server, admin, member):
        assert api.get(url(clinic)).status_code == 200
    for api in (other_admin, plain_user):
        assert_denied(api, "GET", url(clinic))
    assert_token_required(anonymous, "GET", url(clinic))


# --- GetClinician ---------------------------------------------------------------------------

def test_get_unknown_or_invite_is_404(admin, server, clinic):
    resp = admin.get(url(clinic, "/9999999999"))
    assert resp.status_code == 404 and resp.json() == CLINICIAN_NOT_FOUND
    resp = admin.get(url(clinic, "/not-an-id"))
    assert resp.status_code == 400


def test_get_authorization(server, admin, member, other_admin, plain_user, anonymous, clinic):
    target = url(clinic, "/" + ADMIN_ID)
    for api in (server, admin, member):
        assert api.get(target).status_code == 200
    for api in (other_admin, plain_user):
        assert_denied(api, "GET", target)
    assert_token_required(anonymous, "GET", target)
