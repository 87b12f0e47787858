"""The reference's own scenarios for clinics, ported: patient-count settings validity (§10.1) and
resolution (§10.2), clinic deletion (§10.4, demo patient included), the clinic-creation flow
(§10.6 item 1) and the ordered Deletions flow of the integration tests (auth note §4.4)."""
import dataclasses
import datetime as dt

import pytest
from bson import ObjectId
from clinic_helpers import (CLINIC_NOT_FOUND, T0, UNKNOWN_ID, seed_clinic, seed_clinician, seed_patient, stored)
from conftest import ADMIN_ID, CLINIC_BODY

MINUTE = dt.timedelta(minutes=1)


def wire(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@pytest.fixture
def demo(services, monkeypatch, as_user):
    """CLINIC_DEMO_PATIENT_USER_ID=demo for this test; the demo user is known with a profile."""
    monkeypatch.setattr(services, "settings", dataclasses.replace(services.settings, demo_patient_user_id="demo"))
    as_user("demo", email="demo@example.com", name="Demo Patient").get("/v1/clinics/share_code/none")
    return "demo"


# --- §10.1 patient-count settings validity -------------------------------------------------------

def limit(plan, start=T0 - MINUTE, end=T0 + MINUTE):
    return {"plan": plan, "startDate": wire(start), "endDate": wire(end)}


@pytest.mark.parametrize("body,status", [
    ({"hardLimit": limit(0), "softLimit": limit(0)}, 200),  # 1
    ({"hardLimit": limit(-1), "softLimit": limit(0)}, 400),  # 2
    ({"hardLimit": limit(0), "softLimit": limit(-1)}, 400),  # 3
    ({"hardLimit": limit(0)}, 200),  # 4
    ({"hardLimit": limit(-1)}, 400),
    ({"hardLimit": limit(0, start=T0 + 2 * MINUTE)}, 400),
])
def test_10_1_patient_count_settings_validity(server, db, body, status):
    cid = seed_clinic(db, country="US")
    resp = server.put(f"/v1/clinics/{cid}/settings/patient_count", json=body)
    assert resp.status_code == status, resp.text
    if status == 400:
        assert stored(db, cid)["patientCountSettings"] == {"hardLimit": {"plan": 250}}


def test_10_1_start_after_end_is_a_bare_bad_request(server, db):
    cid = seed_clinic(db, country="US")
    resp = server.put(f"/v1/clinics/{cid}/settings/patient_count",
                      json={"hardLimit": limit(0, start=T0 + 2 * MINUTE)})
    assert resp.json() == {"message": "bad request"}


# --- §10.2 patient-count settings resolution -----------------------------------------------------

TEN_FIVE = {"hardLimit": {"plan": 10}, "softLimit": {"plan": 5}}


@pytest.mark.parametrize("fields,expected", [
    ({"country": "US", "tier": "tier0100"}, {"hardLimit": {"plan": 250}}),  # 1
    ({"country": "CA", "tier": "tier0100"}, {}),  # 2
    ({"country": "US", "tier": "tier0200"}, {}),  # 3
    ({"country": "US", "tier": "tier0100", "patientCountSettings": TEN_FIVE}, TEN_FIVE),  # 4
    ({"country": "CA", "tier": "tier0100", "patientCountSettings": TEN_FIVE}, {}),  # 5
    ({"country": "US", "tier": "tier0200", "patientCountSettings": TEN_FIVE}, {}),  # 6
    ({"country": "US", "tier": "tier0100",  # 7: legacy limits
      "patientCountSettings": {"hardLimit": {"patientCount": 10}, "softLimit": {"patientCount": 5}}}, TEN_FIVE),
    ({"country": "USA"}, {}),  # "USA" is not "US"
    ({"country": "us"}, {}),  # case-sensitive
    ({}, {"hardLimit": {"plan": 250}}),  # no country, no tier: subject to limits
    ({"country": "", "tier": ""}, {"hardLimit": {"plan": 250}}),
    ({"patientCountSettings": ...}, {}),  # nothing stored
])
def test_10_2_resolution(server, member, db, fields, expected):
    cid = seed_clinic(db, **fields)
    resp = server.get(f"/v1/clinics/{cid}/settings/patient_count")
    assert (resp.status_code, resp.json()) == (200, expected)


def test_10_2_8_updating_an_unknown_clinic_is_404(server, db):
    resp = server.put(f"/v1/clinics/{UNKNOWN_ID}/settings/patient_count", json=TEN_FIVE)
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)


@pytest.mark.parametrize("fields,expected", [
    ({"country": "US", "tier": "tier0100"}, TEN_FIVE),  # 9
    ({"country": "CA", "tier": "tier0100"}, {}),  # 10
    ({"country": "US", "tier": "tier0200"}, {}),  # 10
])
def test_10_2_9_and_10_updates_are_stored_but_resolved(server, db, fields, expected):
    cid = seed_clinic(db, **fields)
    resp = server.put(f"/v1/clinics/{cid}/settings/patient_count", json=TEN_FIVE)
    assert (resp.status_code, resp.json()) == (200, expected)
    assert server.get(f"/v1/clinics/{cid}/settings/patient_count").json() == expected
    assert stored(db, cid)["patientCountSettings"] == TEN_FIVE


def test_a_tier_change_lifts_and_restores_the_limits(server, db):
    cid = seed_clinic(db, country="US")
    url = f"/v1/clinics/{cid}/settings/patient_count"
    server.post(f"/v1/clinics/{cid}/tier", json={"tier": "tier0300"})
    assert server.get(url).json() == {}
    server.post(f"/v1/clinics/{cid}/tier", json={"tier": "tier0100"})
    assert server.get(url).json() == {"hardLimit": {"plan": 250}}


# --- §10.4 clinic deletion -----------------------------------------------------------------------

def test_10_4_1_an_unmigrated_clinic_without_patients_is_deleted(server, db):
    cid = seed_clinic(db, isMigrated=..., patientTags=[{"_id": ObjectId(), "name": "a"}])
    assert server.delete(f"/v1/clinics/{cid}").status_code == 204
    assert stored(db, cid) is None


def test_10_4_2_a_clinic_with_only_the_demo_patient_is_deleted(server, db, demo):
    cid = seed_clinic(db)
    seed_patient(db, cid, demo)
    seed_clinician(db, cid, "1111111111", ["CLINIC_MEMBER"])
    assert server.delete(f"/v1/clinics/{cid}").status_code == 204
    assert stored(db, cid) is None
    assert db.patients.count_documents({"userId": demo, "clinicId": cid}) == 0
    assert db.clinicians.count_documents({}) == 0
    archived = db.patient_deletions.find_one({})
    assert archived["patient"]["userId"] == demo and "deletedByUserId" not in archived


def test_10_4_3_demo_plus_another_patient_blocks_deletion(server, db, demo):
    cid = seed_clinic(db)
    seed_patient(db, cid, demo)
    seed_patient(db, cid, "5555555555")
    seed_clinician(db, cid, "1111111111", ["CLINIC_MEMBER"])
    resp = server.delete(f"/v1/clinics/{cid}")
    assert (resp.status_code, resp.json()) == (400, {"message": "bad request: deletion of non-empty clinics is not "
                                                                "allowed"})
    assert stored(db, cid) is not None
    assert db.patients.count_documents({"clinicId": cid}) == 2 and db.clinicians.count_documents({}) == 1
    assert db.patient_deletions.count_documents({}) == 0


def test_without_a_demo_user_setting_any_patient_blocks_deletion(server, db):
    cid = seed_clinic(db)
    seed_patient(db, cid, "demo")
    resp = server.delete(f"/v1/clinics/{cid}")
    assert (resp.status_code, resp.json()) == (400, {"message": "bad request: deletion of non-empty clinics is not "
                                                                "allowed"})
    assert stored(db, cid) is not None and db.patients.count_documents({"clinicId": cid}) == 1


def test_creating_a_clinic_adds_the_demo_patient(admin, db, demo):
    body = admin.post("/v1/clinics", json={**CLINIC_BODY, "country": "US"}).json()
    cid = ObjectId(body["id"])
    patient = db.patients.find_one({"clinicId": cid})
    assert (patient["userId"], patient["permissions"], patient["fullName"]) == (demo, {"view": {}}, "Demo Patient")
    assert patient["isMigrated"] is True
    doc = stored(db, cid)
    assert doc["patientCount"] == {"total": 1, "demo": 1, "plan": 0}
    # The answer is the clinic as inserted, before the count refresh moved updatedTime.
    assert body["updatedTime"] == body["createdTime"]
    # ... and that clinic can still be deleted.
    assert admin.delete(f"/v1/clinics/{body['id']}").status_code == 204
    assert db.patients.count_documents({}) == 0


# --- §10.6 item 1 and the Deletions flow (auth note §4.4) ----------------------------------------

def test_10_6_1_a_user_creates_a_clinic_with_the_complete_fixture(admin, db):
    resp = admin.post("/v1/clinics", json=CLINIC_BODY)
    assert resp.status_code == 200
    assert ObjectId.is_valid(resp.json()["id"]) and stored(db, resp.json()["id"])["admins"] == [ADMIN_ID]


def test_deletions_flow(admin, db):
    # 1. the user creates a clinic and is its admin
    resp = admin.post("/v1/clinics", json=CLINIC_BODY)
    assert resp.status_code == 200
    cid = resp.json()["id"]
    # 2. a clinician 1111111111 joins (inserted directly), the admin can read it
    seed_clinician(db, cid, "1111111111", ["CLINIC_MEMBER"], email="test@example.com", name="Test Clinician")
    resp = admin.get(f"/v1/clinics/{cid}/clinicians/1111111111")
    assert (resp.status_code, resp.json()["id"]) == (200, "1111111111")
    # 4. the admin removes that clinician: 200, then 404, and it is archived with who removed it
    resp = admin.delete(f"/v1/clinics/{cid}/clinicians/1111111111")
    assert resp.status_code == 200
    assert admin.get(f"/v1/clinics/{cid}/clinicians/1111111111").status_code == 404
    archive = db.clinician_deletions.find_one({"clinician.userId": "1111111111"})
    assert archive["deletedByUserId"] == ADMIN_ID and isinstance(archive["deletedTime"], dt.datetime)
    assert archive["deletedTime"] > dt.datetime(1, 1, 2, tzinfo=dt.timezone.utc)
    # 5. the admin deletes the clinic: 204, then 404; the clinic and the admin's own record are archived
    resp = admin.delete(f"/v1/clinics/{cid}")
    assert (resp.status_code, resp.content) == (204, b"")
    assert admin.get(f"/v1/clinics/{cid}").json() == CLINIC_NOT_FOUND
    clinic_archive = db.clinic_deletions.find_one({"clinic._id": ObjectId(cid)})
    assert clinic_archive["deletedByUserId"] == ADMIN_ID
    own = db.clinician_deletions.find_one({"clinician.userId": ADMIN_ID})
    assert own["deletedByUserId"] == ADMIN_ID and own["clinician"]["clinicId"] == ObjectId(cid)
