"""A user across all clinics: UpdateClinicUserDetails and DeleteUserFromClinics (POST and DELETE
/v1/users/{userId}/clinics, clinics-clinicians.md §7, scenarios §10.5.4-8). Both answer 200."""
import pytest

from clinic_api import wire
from conftest import ADMIN_ID, CLINIC_BODY, MEMBER_ID
from support.builders import insert_patient
from membership_support import add_clinician, admins_of, record, snapshot
from support.access import assert_denied, assert_token_required

USER_URL = "/v1/users/{}/clinics"


def add_patient(db, clinic_id, user_id, permissions, email="p@x.org"):
    insert_patient(db, clinic_id, user_id, email=email, fullName="P", permissions=permissions, requireUniqueMrn=...,
                   now=wire.now())


# --- DeleteUserFromClinics ------------------------------------------------------------------

def test_the_only_admin_leaves_every_clinic(server, admin, clinic, db):
    # scenario 4: orphaning is allowed here
    resp = server.delete(USER_URL.format(ADMIN_ID))
    assert resp.status_code == 200 and resp.content == b""
    assert admins_of(db, clinic["id"]) == []
    assert record(db, clinic["id"], ADMIN_ID) is None
    archive = db.clinician_deletions.find_one()
    assert archive["clinician"]["userId"] == ADMIN_ID and "deletedByUserId" not in archive


def test_sole_admin_of_two_clinics(server, admin, clinic, db):
    # scenarios 6-8: both memberships go; the emptied clinic loses its non-custodial patients only
    second = admin.post("/v1/clinics", json={**CLINIC_BODY, "name": "Second"}).json()
    add_patient(db, second["id"], "aaaaaaaaaa", {"view": {}})
    add_patient(db, second["id"], "bbbbbbbbbb", {"custodian": {}, "view": {}, "upload": {}, "note": {}})
    assert server.delete(USER_URL.format(ADMIN_ID)).status_code == 200
    for c in (clinic, second):
        resp = server.get(f"/v1/clinics/{c['id']}/clinicians/{ADMIN_ID}")
        assert resp.status_code == 404 and resp.json() == {"message": "clinician not found"}
    assert db.patients.find_one({"userId": "aaaaaaaaaa"}) is None
    assert db.patients.find_one({"userId": "bbbbbbbbbb"}) is not None
    archived = db.patient_deletions.find_one({"patient.userId": "aaaaaaaaaa"})
    assert archived is not None and "deletedByUserId" not in archived


def test_a_clinic_with_a_pending_invite_keeps_its_patients(server, admin, clinic, db):
    add_clinician(db, clinic["id"], None, ["CLINIC_MEMBER"], email="inv@x.org", invite_id="k")
    add_patient(db, clinic["id"], "aaaaaaaaaa", {"view": {}})
    assert server.delete(USER_URL.format(ADMIN_ID)).status_code == 200
    assert db.patients.find_one({"userId": "aaaaaaaaaa"}) is not None


def test_the_users_patient_records_go_too(server, member, clinic, db):
    add_patient(db, clinic["id"], MEMBER_ID, {"view": {}})
    assert server.delete(USER_URL.format(MEMBER_ID)).status_code == 200
    assert db.patients.find_one({"userId": MEMBER_ID}) is None
    assert record(db, clinic["id"], MEMBER_ID) is None
    assert admins_of(db, clinic["id"]) == [ADMIN_ID]


def test_a_user_with_nothing_is_fine(server, db):
    assert server.delete(USER_URL.format("9999999999")).status_code == 200


def test_a_record_of_a_deleted_clinic_does_not_block(server, db):
    add_clinician(db, "d" * 24, "7777777777", ["CLINIC_ADMIN"], email="x@y.org")
    assert server.delete(USER_URL.format("7777777777")).status_code == 200
    assert db.clinicians.count_documents({"userId": "7777777777"}) == 0


def test_delete_user_authorization(admin, member, plain_user, anonymous, clinic):
    # case 49: not even the user themself
    for api in (admin, member, plain_user):
        assert_denied(api, "DELETE", USER_URL.format(ADMIN_ID))
    assert_denied(admin, "DELETE", USER_URL.format(ADMIN_ID))
    assert_token_required(anonymous, "DELETE", USER_URL.format(ADMIN_ID))


# --- UpdateClinicUserDetails ----------------------------------------------------------------

def test_new_email_everywhere(server, member, clinic, other_admin, db):
    other = other_admin.get("/v1/clinicians/3456789012/clinics").json()[0]["clinic"]
    add_clinician(db, other["id"], MEMBER_ID, ["CLINIC_MEMBER"], email="member@example.com")
    add_patient(db, clinic["id"], MEMBER_ID, {"view": {}}, email="old@x.org")
    resp = server.post(USER_URL.format(MEMBER_ID), json={"email": "Mel.New@Example.com"})
    assert resp.status_code == 200 and resp.content == b""
    assert {d["email"] for d in db.clinicians.find({"userId": MEMBER_ID})} == {"Mel.New@Example.com"}
    assert db.patients.find_one({"userId": MEMBER_ID})["email"] == "Mel.New@Example.com"
    assert record(db, clinic["id"], ADMIN_ID)["email"] == "admin@example.com"


def test_no_email_removes_the_patient_email_only(server, member, clinic, db):
    add_patient(db, clinic["id"], MEMBER_ID, {"view": {}}, email="old@x.org")
    for payload in ({}, None):
        assert server.post(USER_URL.format(MEMBER_ID), json=payload).status_code == 200
    assert "email" not in db.patients.find_one({"userId": MEMBER_ID})
    assert record(db, clinic["id"], MEMBER_ID)["email"] == "member@example.com"


def test_an_email_another_record_holds_is_422_and_nothing_changes(server, admin, member, clinic, db):
    add_patient(db, clinic["id"], MEMBER_ID, {"view": {}}, email="old@x.org")
    before = snapshot(db, "clinicians", "patients")
    resp = server.post(USER_URL.format(MEMBER_ID), json={"email": "admin@example.com"})
    assert resp.status_code == 422 and resp.json() == {"message": "constraint violation: duplicate email"}
    assert snapshot(db, "clinicians", "patients") == before


@pytest.mark.parametrize("bad", ["plain", "a@b", "a@b.c1", "a b@x.org", "a..b@x.org", "@x.org"])
def test_a_malformed_email_is_400(server, member, bad):
    resp = server.post(USER_URL.format(MEMBER_ID), json={"email": bad})
    assert resp.status_code == 400 and resp.json() == {"message": "email: failed to pass regex validation"}


@pytest.mark.parametrize("good", ["a@b.co", "first.last+tag@sub.example.org", "\"quoted\"@x.org", "ü@exämple.de"])
def test_well_formed_emails_pass(server, good):
    assert server.post(USER_URL.format("9999999999"), json={"email": good}).status_code == 200


def test_update_user_authorization(admin, member, plain_user, anonymous, clinic):
    for api in (admin, member, plain_user):
        assert_denied(api, "POST", USER_URL.format(MEMBER_ID), {"email": "a@b.org"})
    assert_token_required(anonymous, "POST", USER_URL.format(MEMBER_ID), {"email": "a@b.org"})
