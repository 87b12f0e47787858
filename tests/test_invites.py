"""Clinician invites, the clinic's side: InviteClinician, ResendInvite, DeleteInvite,
GetClinicianInvite (invites.md §2.1-§2.4, scenarios D1-D11) and the confirmation model (T1-T13)."""
import datetime as dt

import pytest

from clinic_api.resources import invites as invite_view
from clinic_api.store import invites as store
from conftest import ADMIN_ID, MEMBER_ID
from membership_support import (ALREADY_MEMBER, CLINIC_NOT_FOUND, CLINICIAN_NOT_FOUND, NOT_MIGRATED, TIME,
                                add_clinician, legacy_clinic, snapshot)
from support.access import assert_denied, assert_token_required

OLD = dt.datetime(2024, 5, 1, 10, 20, 30, 123000, tzinfo=dt.timezone.utc)
INVITE = {"email": "New@X.org", "roles": ["CLINIC_MEMBER"]}
NO_MATCH = {"message": "No matching invite was found"}
LEGACY_KEY = "L" * 32


def invites_url(clinic, key=""):
    return f"/v1/clinics/{clinic['id']}/invites/clinicians" + (f"/{key}" if key else "")


def send(api, clinic, body=INVITE):
    resp = api.post(invites_url(clinic), json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()["inviteId"]


def mails(db, template="clinician_invitation"):
    return list(db.outbox.find({"template": template}).sort("_id", 1))


# --- InviteClinician ------------------------------------------------------------------------

def test_invite_to_an_email_without_account(admin, clinic, db):
    # D1
    resp = admin.post(invites_url(clinic), json=INVITE)
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["createdTime", "email", "inviteId", "roles", "updatedTime"]
    key = body["inviteId"]
    assert body["email"] == "new@x.org" and body["roles"] == ["CLINIC_MEMBER"]
    assert len(key) == 32 and set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    record = db.clinicians.find_one({"inviteId": key})
    assert "userId" not in record and record["name"] is None and record["email"] == "new@x.org"
    conf = db.confirmations.find_one({"_id": key})
    # The fields, whatever their order (MongoDB writes an upsert's $set fields sorted by name).
    assert sorted(conf) == ["_id", "clinicId", "created", "creator", "creatorId", "email", "modified", "status",
                            "templateName", "type", "userId"]
    assert conf["type"] == "clinician_invitation" and conf["status"] == "pending" and conf["email"] == "New@X.org"
    assert conf["clinicId"] == clinic["id"] and conf["creatorId"] == ADMIN_ID and conf["userId"] == ""
    assert conf["creator"] == {"clinicId": clinic["id"], "clinicName": "Todd's Clinic"}
    assert conf["templateName"] == "clinician_invitation" and conf["modified"].year > 1 and "expiresAt" not in conf
    [mail] = mails(db)
    assert mail["recipient"] == "New@X.org" and mail["subject"] == "Invitation to join Todd's Clinic"
    assert mail["variables"] == {"ClinicName": "Todd's Clinic", "CreatorName": "Ada Admin", "Email": "New@X.org",
                                 "WebPath": "signup/clinician", "WebURL": "http://localhost:3000"}


def test_invite_to_a_known_account_links_it(admin, clinic, db, as_user):
    # D2
    as_user("5678901234", email="new@x.org").get("/v1/clinicians/5678901234/clinics")
    key = send(admin, clinic)
    assert db.confirmations.find_one({"_id": key})["userId"] == "5678901234"
    assert mails(db)[0]["variables"]["WebPath"] == "login"


def test_server_may_invite(server, clinic, db):
    key = send(server, clinic)
    conf = db.confirmations.find_one({"_id": key})
    assert conf["creatorId"] == "server"
    assert mails(db)[0]["variables"]["CreatorName"] == ""


def test_invite_authorization_writes_nothing(member, other_admin, plain_user, anonymous, clinic, db):
    # D3 (the invite service says 401; our pipeline's denial is 403)
    before = snapshot(db, "clinicians", "confirmations", "outbox")
    for api in (member, other_admin, plain_user):
        assert_denied(api, "POST", invites_url(clinic), INVITE)
    assert_token_required(anonymous, "POST", invites_url(clinic), INVITE)
    assert snapshot(db, "clinicians", "confirmations", "outbox") == before


@pytest.mark.parametrize("existing", ["member", "invite"])
def test_invite_duplicate_email_is_409(admin, clinic, db, existing):
    # D4
    if existing == "member":
        add_clinician(db, clinic["id"], "6666666666", ["CLINIC_MEMBER"], email="new@x.org")
    else:
        send(admin, clinic)
    before = snapshot(db, "clinicians", "confirmations", "outbox")
    resp = admin.post(invites_url(clinic), json={"email": "NEW@x.org", "roles": ["CLINIC_ADMIN"]})
    assert resp.status_code == 409 and resp.json() == ALREADY_MEMBER
    assert snapshot(db, "clinicians", "confirmations", "outbox") == before


def test_invite_guards(server, db):
    # D5 and an unknown clinic (the invite service answers 500 there)
    legacy = legacy_clinic(db)
    resp = server.post(f"/v1/clinics/{legacy}/invites/clinicians", json=INVITE)
    assert resp.status_code == 422 and resp.json() == NOT_MIGRATED
    resp = server.post("/v1/clinics/" + "a" * 24 + "/invites/clinicians", json=INVITE)
    assert resp.status_code == 404 and resp.json() == CLINIC_NOT_FOUND
    assert db.confirmations.count_documents({}) == 0


def test_invite_bad_bodies(admin, clinic, db):
    # D6: an undecodable or invalid body is a 400 in our format
    resp = admin.post(invites_url(clinic), content=b"{bad json", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and resp.json()["message"].startswith("request body has an error")
    for bad in ({"email": "a@b.org"}, {"email": "a@b.org", "roles": []}, {"email": "a@b.org", "roles": ["BOSS"]}):
        assert admin.post(invites_url(clinic), json=bad).status_code == 400
    resp = admin.post(invites_url(clinic))
    assert resp.status_code == 400
    assert resp.json() == {"message": "request body has an error: value is required but missing"}
    assert db.confirmations.count_documents({}) == 0


# --- GetClinicianInvite ---------------------------------------------------------------------

def test_get_invite(admin, clinic):
    # D8
    key = send(admin, clinic)
    resp = admin.get(invites_url(clinic, key))
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["key", "type", "email", "clinicId", "creatorId", "creator", "context", "created",
                          "modified", "status", "restrictions"]
    assert body["creator"] == {"profile": None, "userid": "", "clinicId": clinic["id"], "clinicName": "Todd's Clinic"}
    assert body["restrictions"] is None and body["context"] is None and body["status"] == "pending"
    assert TIME.match(body["created"]) and body["email"] == "New@X.org"


def test_get_invite_not_found(admin, clinic, db):
    # D9
    resp = admin.get(invites_url(clinic, "k" * 32))
    assert resp.status_code == 404 and resp.json() == CLINICIAN_NOT_FOUND
    key = send(admin, clinic)
    db.confirmations.update_one({"_id": key}, {"$set": {"status": "declined"}})
    resp = admin.get(invites_url(clinic, key))
    assert resp.status_code == 404 and resp.json() == NO_MATCH


def test_invite_of_another_clinic_is_not_found(admin, other_admin, clinic):
    key = send(admin, clinic)
    other = other_admin.get("/v1/clinicians/3456789012/clinics").json()[0]["clinic"]
    resp = other_admin.get(invites_url(other, key))
    assert resp.status_code == 404 and resp.json() == CLINICIAN_NOT_FOUND


# --- ResendInvite -------------------------------------------------------------------------

def test_resend(admin, server, clinic, db):
    # D10: email from the record (lower-cased), created kept, modified renewed, original inviter kept
    key = send(admin, clinic)
    db.confirmations.update_one({"_id": key}, {"$set": {"created": OLD, "modified": OLD}})
    resp = server.patch(invites_url(clinic, key))
    assert resp.status_code == 200
    body = resp.json()
    assert body["email"] == "new@x.org" and body["created"] == "2024-05-01T10:20:30.123Z"
    assert body["modified"] != "2024-05-01T10:20:30.123Z" and body["creatorId"] == ADMIN_ID
    assert body["creator"]["userid"] == ADMIN_ID and body["creator"]["profile"]["fullName"] == "Ada Admin"
    assert body["restrictions"] is None and body["context"] is None
    assert [m["recipient"] for m in mails(db)] == ["New@X.org", "new@x.org"]


def test_resend_links_an_account_created_since(admin, clinic, db, as_user):
    key = send(admin, clinic)
    as_user("5678901234", email="new@x.org").get("/v1/clinicians/5678901234/clinics")
    admin.patch(invites_url(clinic, key))
    assert db.confirmations.find_one({"_id": key})["userId"] == "5678901234"
    assert mails(db)[-1]["variables"]["WebPath"] == "login"


def test_resend_without_confirmation_starts_a_fresh_one(admin, clinic, db):
    # The invite service crashes here; we do what it means to: a new pending confirmation.
    add_clinician(db, clinic["id"], None, ["CLINIC_MEMBER"], email="old@x.org", invite_id=LEGACY_KEY)
    resp = admin.patch(invites_url(clinic, LEGACY_KEY))
    assert resp.status_code == 200
    assert resp.json()["status"] == "pending" and resp.json()["creatorId"] == ADMIN_ID
    assert db.confirmations.find_one({"_id": LEGACY_KEY})["email"] == "old@x.org"


def test_resend_errors(admin, clinic, db):
    resp = admin.patch(invites_url(clinic, "nope"))
    assert resp.status_code == 404 and resp.json() == CLINICIAN_NOT_FOUND


# --- DeleteInvite ---------------------------------------------------------------------------

def test_delete_invite_is_idempotent(admin, clinic, db):
    # D11
    key = send(admin, clinic)
    resp = admin.delete(invites_url(clinic, key))
    assert resp.status_code == 200 and resp.text == "OK" and resp.headers["content-type"].startswith("text/plain")
    assert db.clinicians.find_one({"inviteId": key}) is None
    conf = db.confirmations.find_one({"_id": key})
    assert conf["status"] == "canceled" and conf["modified"].year > 1
    before = snapshot(db, "clinicians", "confirmations")
    assert admin.delete(invites_url(clinic, key)).text == "OK"
    assert admin.delete(invites_url(clinic, "never-sent")).text == "OK"
    assert snapshot(db, "clinicians", "confirmations") == before


def test_delete_invite_of_a_legacy_clinic_is_422(server, db):
    legacy = legacy_clinic(db)
    resp = server.delete(f"/v1/clinics/{legacy}/invites/clinicians/k")
    assert resp.status_code == 422 and resp.json() == NOT_MIGRATED


def test_clinic_side_authorization(admin, member, other_admin, plain_user, anonymous, server, clinic):
    key = send(admin, clinic)
    for method in ("GET", "PATCH", "DELETE"):
        for api in (member, other_admin, plain_user):
            assert_denied(api, method, invites_url(clinic, key))
        assert_token_required(anonymous, method, invites_url(clinic, key))
    assert server.get(invites_url(clinic, key)).status_code == 200


# --- the confirmation model and store (T1-T13) ----------------------------------------------

def test_new_clinician_confirmation(db):
    # T1/T4/T7: pending, 32-char key, zero modified, empty userId, no expiry
    key = store.new_key()
    doc = store.new_clinician_invite(key, email="a@b.org", clinic_id="c" * 24, clinic_name="", creator_id="1234-555",
                                     created=OLD)
    assert len(key) == 32 and doc["status"] == "pending" and doc["userId"] == "" and doc["creatorId"] == "1234-555"
    assert doc["modified"] == store.ZERO_TIME and "expiresAt" not in doc and doc["creator"] == {"clinicId": "c" * 24}
    api = invite_view.to_api(doc)
    assert api["modified"] == "0001-01-01T00:00:00Z" and api["creator"]["profile"] is None


def test_store_find_transition_and_claim(db):
    # T2, T8-T11: status change sets modified; case-insensitive email claims; removed -> not found
    doc = store.new_clinician_invite("k" * 32, email="Test@Test.com", clinic_id="c" * 24, clinic_name="C",
                                     creator_id=ADMIN_ID, created=OLD)
    store.save(db, doc)
    assert store.find_one(db, "k" * 32, type_="clinician_invitation")["email"] == "Test@Test.com"
    assert store.find_one(db, "z" * 32) is None
    assert store.claim_userless(db, "TEST@TEST.COM", "5678901234") == 1
    changed = store.transition(db, "k" * 32, store.COMPLETED)
    assert changed["status"] == "completed" and changed["modified"] > OLD and changed["userId"] == "5678901234"
    assert store.transition(db, "k" * 32, store.COMPLETED) is None  # no longer pending
    db.confirmations.delete_one({"_id": "k" * 32})
    assert store.find_one(db, "k" * 32) is None


def test_patient_confirmation_model(db):
    # T3/T5/T6: the context round-trips as JSON, a patient invite expires after 7 days
    doc = store.new_patient_invite("p" * 32, clinic_id="c" * 24, patient_id=MEMBER_ID,
                                   permissions={"view": {}, "note": {}}, created=OLD)
    assert doc["expiresAt"] - doc["created"] == dt.timedelta(days=7)
    store.save(db, doc)
    api = invite_view.to_api(db.confirmations.find_one({"_id": "p" * 32}))
    assert api["context"] == {"view": {}, "note": {}} and api["expiresAt"] == "2024-05-08T10:20:30.123Z"
    assert store.find_pending(db, type_="careteam_invitation", clinic_id="c" * 24)[0]["_id"] == "p" * 32
