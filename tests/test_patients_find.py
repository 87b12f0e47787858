"""FindPatients, ListClinicsForPatient and the patient side of the user-wide operations."""
from __future__ import annotations

import pytest
from bson import ObjectId

from conftest import MEMBER_ID, PLAIN_USER_ID
from patients_support import MISSING_TOKEN, NOT_AUTHORIZED, T0, USER_A, USER_B, USER_C, insert_patient
from clinic_api import wire
from clinic_api.domain import patients as domain


def add_member(db, clinic_id, user_id, created=T0):
    db.clinicians.insert_one({"clinicId": ObjectId(clinic_id), "userId": user_id, "roles": ["CLINIC_MEMBER"],
                              "createdTime": created, "updatedTime": created})


# --- FindPatients -------------------------------------------------------------------------------

@pytest.fixture
def two_clinics(db, clinic, other_admin, member):
    other = db.clinics.find_one({"name": "Other Clinic"})
    db.clinics.update_one({"_id": other["_id"]}, {"$set": {"ehrSettings": {"sourceId": "src-1", "enabled": False}}})
    add_member(db, other["_id"], MEMBER_ID)
    insert_patient(db, clinic["id"], USER_A, fullName="Bea", mrn="ABC-1", birthDate="2001-01-01")
    insert_patient(db, clinic["id"], USER_B, fullName="al", mrn="x", birthDate="2002-02-02")
    insert_patient(db, other["_id"], USER_A, fullName="Bea Other", mrn="abc-1", birthDate="2001-01-01")
    insert_patient(db, ObjectId(), USER_C, fullName="Elsewhere", mrn="ABC-1")
    return str(other["_id"])


def found(resp):
    assert resp.status_code == 200, resp.text
    return [(item["clinic"]["name"], item["patient"]["fullName"]) for item in resp.json()]


def test_find_across_the_callers_clinics(member, two_clinics):
    assert found(member.get("/v1/patients")) == [("Todd's Clinic", "al"), ("Todd's Clinic", "Bea"),
                                                 ("Other Clinic", "Bea Other")]
    assert found(member.get("/v1/patients?mrn=abc-1")) == [("Todd's Clinic", "Bea"), ("Other Clinic", "Bea Other")]
    assert found(member.get("/v1/patients?mrn=ABC-1&birthDate=2001-01-01&offset=1&limit=1")) == [
        ("Other Clinic", "Bea Other")]
    item = member.get("/v1/patients?birthDate=2002-02-02").json()[0]
    assert item["clinic"]["tierDescription"] == "Free" and item["patient"]["id"] == USER_B


def test_find_by_workspace(member, clinic, two_clinics):
    assert found(member.get(f"/v1/patients?workspaceId={two_clinics}&workspaceIdType=clinicId")) == [
        ("Other Clinic", "Bea Other")]
    assert found(member.get("/v1/patients?workspaceId=src-1&workspaceIdType=ehrSourceId")) == [
        ("Other Clinic", "Bea Other")]
    assert member.get("/v1/patients?workspaceId=nothing&workspaceIdType=ehrSourceId").json() == []
    assert len(found(member.get("/v1/patients?workspaceIdType=clinicId"))) == 3  # type without id: ignored
    resp = member.get(f"/v1/patients?workspaceId={clinic['id']}")
    assert (resp.status_code, resp.json()) == (400, {"message": "bad request: workspace id type is required"})
    resp = member.get(f"/v1/patients?workspaceId={clinic['id']}&workspaceIdType=other")
    assert resp.status_code == 400 and 'parameter "workspaceIdType"' in resp.json()["message"]


def test_find_callers(server, plain_user, anonymous, as_user, db, two_clinics):
    assert plain_user.get("/v1/patients").json() == []
    resp = server.get("/v1/patients")  # the policy denies server tokens before the handler's 401
    assert (resp.status_code, resp.json()) == (403, NOT_AUTHORIZED)
    assert anonymous.get("/v1/patients").json() == MISSING_TOKEN
    add_member(db, ObjectId(), PLAIN_USER_ID)  # a record of a clinic that does not exist
    assert plain_user.get("/v1/patients").json() == []


# --- ListClinicsForPatient ------------------------------------------------------------------------

def test_clinics_for_patient(server, as_user, clinic, db, two_clinics):
    resp = as_user(USER_A).get(f"/v1/patients/{USER_A}/clinics")
    assert found(resp) == [("Todd's Clinic", "Bea"), ("Other Clinic", "Bea Other")]
    assert list(resp.json()[0]) == ["clinic", "patient"]
    assert found(server.get(f"/v1/patients/{USER_A}/clinics?offset=1&limit=5")) == [("Other Clinic", "Bea Other")]
    assert found(server.get(f"/v1/patients/{USER_C}/clinics")) == []  # its only clinic does not exist
    assert server.get("/v1/patients/dddddddddd/clinics").json() == []


@pytest.mark.parametrize("name,status", [("admin", 403), ("member", 403), ("plain_user", 403), ("anonymous", 400)])
def test_clinics_for_patient_authorization(request, clinic, name, status):
    resp = request.getfixturevalue(name).get(f"/v1/patients/{USER_A}/clinics")
    assert (resp.status_code, resp.json()) == (status, NOT_AUTHORIZED if status == 403 else MISSING_TOKEN)


# --- the user-wide operations ------------------------------------------------------------------------

def test_update_clinic_user_details_email(server, clinic, db):
    other = ObjectId()
    insert_patient(db, clinic["id"], USER_A, email="old@x.org")
    insert_patient(db, other, USER_A, email="old@x.org")
    insert_patient(db, other, USER_B, email="keep@x.org")
    assert server.post(f"/v1/users/{USER_A}/clinics", json={}).status_code == 200
    assert [("email" in d) for d in db.patients.find({"userId": USER_A})] == [False, False]
    assert server.post(f"/v1/users/{USER_A}/clinics", json={"email": "New@X.org"}).status_code == 200
    assert [d["email"] for d in db.patients.find({"userId": USER_A})] == ["New@X.org", "New@X.org"]
    assert db.patients.find_one({"userId": USER_B})["email"] == "keep@x.org"


def test_delete_user_from_clinics_removes_patient_records(server, clinic, db):
    other = ObjectId()
    insert_patient(db, clinic["id"], USER_A)
    insert_patient(db, other, USER_A)
    insert_patient(db, other, USER_B)
    assert server.delete(f"/v1/users/{USER_A}/clinics").status_code == 200
    assert db.patients.count_documents({"userId": USER_A}) == 0 and db.patients.count_documents({}) == 1
    archives = list(db.patient_deletions.find({"patient.userId": USER_A}))
    assert len(archives) == 2 and all("deletedByUserId" not in a for a in archives)
    assert server.delete(f"/v1/users/{USER_C}/clinics").status_code == 200


def test_delete_patients_of_user_returns_clinics_and_refreshes(services, clinic, db):
    other = db.clinics.insert_one({"name": "Second", "patientCount": {"total": 5, "demo": 0, "plan": 5}}).inserted_id
    insert_patient(db, clinic["id"], USER_A)
    insert_patient(db, other, USER_A)
    insert_patient(db, other, USER_B)
    assert domain.delete_patients_of_user(services, USER_A) == [ObjectId(clinic["id"]), other]
    assert db.clinics.find_one({"_id": other})["patientCount"]["total"] == 1
    assert domain.delete_patients_of_user(services, "ffffffffff") == []


def test_delete_non_custodial_patients_of_clinic(services, clinic, db):
    for n in range(10):
        perms = {"custodian": {}, "view": {}} if n < 5 else {"view": {}}
        insert_patient(db, clinic["id"], f"{n:010x}", permissions=perms)
    insert_patient(db, clinic["id"], "abcabcabca")  # no permissions at all: not custodial
    assert domain.delete_non_custodial_patients_of_clinic(services, ObjectId()) == 0
    assert domain.delete_non_custodial_patients_of_clinic(services, ObjectId(clinic["id"])) == 6
    assert db.patients.count_documents({}) == 5
    assert db.patient_deletions.count_documents({"patient.clinicId": ObjectId(clinic["id"])}) == 6


def test_update_patients_email_verbatim_or_removed(services, clinic, db):
    insert_patient(db, clinic["id"], USER_A, email="a@x.org")
    assert domain.update_patients_email(services, USER_A, "Mixed@Case.org") == 1
    doc = db.patients.find_one({"userId": USER_A})
    assert doc["email"] == "Mixed@Case.org" and doc["updatedTime"] <= wire.now()
    domain.update_patients_email(services, USER_A, None)
    assert "email" not in db.patients.find_one({"userId": USER_A})
