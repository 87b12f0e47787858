"""CreatePatientAccount, CreatePatientFromUser, GetPatient, UpdatePatient, DeletePatient."""
from __future__ import annotations

import pytest
from bson import ObjectId

from conftest import ADMIN_ID
from patients_support import (ALREADY_MEMBER, BIXBY, CLINIC_NOT_FOUND, EMPTY_REQUESTS, MISSING_TOKEN,
                              NOT_AUTHORIZED, PATIENT_NOT_FOUND, T0, UNKNOWN_CLINIC, USER_A, USER_B, WIRE_TIME,
                              add_clinic_site, assert_key_order, create_patient, insert_patient, set_clinic)
from support.paths import patients_url as url


# --- CreatePatientAccount --------------------------------------------------------------------

def test_create_account_as_admin(admin, clinic, db):
    body = create_patient(admin, clinic["id"], email="Foo@Example.COM")
    assert_key_order(body)
    assert body["email"] == "foo@example.com" and len(body["id"]) == 10
    assert body["permissions"] == {"custodian": {}, "note": {}, "upload": {}, "view": {}}
    assert body["tags"] is None and body["reviews"] == [] and body["sites"] == [] and body["dataSources"] is None
    assert body["connectionRequests"] == EMPTY_REQUESTS and WIRE_TIME.match(body["createdTime"])
    doc = db.patients.find_one({"userId": body["id"]})
    assert list(doc)[:8] == ["_id", "clinicId", "userId", "birthDate", "email", "fullName", "mrn", "targetDevices"]
    assert doc["invitedBy"] == ADMIN_ID and doc["requireUniqueMrn"] is False and doc["targetDevices"] is None
    assert doc["createdTime"] == doc["updatedTime"]
    account = db.users.find_one({"_id": body["id"]})
    assert account["emails"] == ["foo@example.com"] and account["custodial"] is True


def test_create_account_as_server_member(server, member, clinic, db):
    by_server = create_patient(server, clinic["id"], email="s@example.com")
    assert "invitedBy" not in db.patients.find_one({"userId": by_server["id"]})
    by_member = create_patient(member, clinic["id"], email="m@example.com")
    assert db.patients.find_one({"userId": by_member["id"]})["invitedBy"] == "2345678901"


def test_create_account_without_email_sends_no_username(admin, clinic, db):
    resp = admin.post(url(clinic), json={"fullName": "No Mail", "birthDate": "2001-02-03"})
    assert resp.status_code == 200
    body = resp.json()
    assert "email" not in body and "mrn" not in body
    assert db.users.find_one({"_id": body["id"]})["emails"] == []


@pytest.mark.parametrize("name,status", [("other_admin", 403), ("plain_user", 403), ("anonymous", 400)])
def test_create_account_authorization(request, clinic, name, status):
    resp = request.getfixturevalue(name).post(url(clinic), json=BIXBY)
    assert resp.status_code == status
    assert resp.json() == (MISSING_TOKEN if status == 400 else NOT_AUTHORIZED)


def test_create_account_bad_bodies(admin, clinic, db):
    resp = admin.post(url(clinic))
    assert (resp.status_code, resp.json()) == (400, {"message": "request body has an error: value is required but "
                                                                "missing"})
    resp = admin.post(url(clinic), json={"birthDate": "2008-01-06"})
    assert resp.status_code == 400 and resp.json()["message"].endswith('property "fullName" is missing')
    for key in ("fullName", "mrn"):
        resp = admin.post(url(clinic), json={**BIXBY, key: ""})
        assert resp.json() == {"message": "request body has an error: doesn't match schema "
                                          f'#/components/schemas/patient.v1: Error at "/{key}": minimum string length '
                                          f'is 1'}
    resp = admin.post(url(clinic), json={**BIXBY, "birthDate": "2021-02-31"})
    assert resp.json() == {"message": 'parsing time "2021-02-31": day out of range'}
    resp = admin.post(url(clinic), json={**BIXBY, "birthDate": "2021-13-01"})
    assert resp.status_code == 400 and 'string doesn\'t match the format "date"' in resp.json()["message"]
    assert db.patients.count_documents({}) == 0 and db.users.count_documents({"custodial": True}) == 0


def test_create_account_unknown_clinic(admin, server):
    resp = server.post(f"/v1/clinics/{UNKNOWN_CLINIC}/patients", json=BIXBY)
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)


def test_create_account_mrn_required(admin, clinic, db):
    set_clinic(db, clinic["id"], mrnSettings={"required": True, "unique": False})
    resp = admin.post(url(clinic), json={"fullName": "A", "birthDate": "2000-01-01"})
    assert (resp.status_code, resp.json()) == (400, {"message": "bad request: mrn is required"})
    assert create_patient(admin, clinic["id"], email="a@x.org")["mrn"] == "0000000001"


def test_create_account_mrn_unique_case_and_accent_insensitive(admin, clinic, db):
    set_clinic(db, clinic["id"], mrnSettings={"required": False, "unique": True})
    first = create_patient(admin, clinic["id"], mrn="Abé-1", email="a@x.org")
    assert db.patients.find_one({"userId": first["id"]})["requireUniqueMrn"] is True
    for mrn in ("Abé-1", "abe-1", "ABÉ-1"):
        resp = admin.post(url(clinic), json={**BIXBY, "mrn": mrn, "email": "b@x.org"})
        assert (resp.status_code, resp.json()) == (400, {"message": "bad request: mrn must be unique"})
    assert create_patient(admin, clinic["id"], mrn="Abe-2", email="c@x.org")["mrn"] == "Abe-2"


def test_create_account_without_mrn_under_unique_setting(admin, clinic, db):
    set_clinic(db, clinic["id"], mrnSettings={"required": False, "unique": True})
    for email in ("a@x.org", "b@x.org"):
        resp = admin.post(url(clinic), json={"fullName": "N", "birthDate": "2000-01-01", "email": email})
        assert resp.status_code == 200
    assert db.patients.count_documents({"requireUniqueMrn": True, "mrn": None}) == 2


def test_create_account_hard_limit(admin, clinic, db):
    set_clinic(db, clinic["id"], country="US", tier="tier0100",
               patientCountSettings={"hardLimit": {"plan": 1}}, patientCount={"total": 0, "demo": 0, "plan": 0})
    create_patient(admin, clinic["id"], email="a@x.org")
    assert db.clinics.find_one({"_id": ObjectId(clinic["id"])})["patientCount"]["plan"] == 1
    resp = admin.post(url(clinic), json={**BIXBY, "email": "b@x.org"})
    assert (resp.status_code, resp.json()) == (402, {"message": "payment required: patient count exceeds limit"})
    assert db.users.count_documents({"emails": "b@x.org"}) == 0


def test_create_account_email_taken(admin, clinic, db):
    create_patient(admin, clinic["id"], email="a@x.org")
    resp = admin.post(url(clinic), json={**BIXBY, "email": "A@X.org"})
    assert (resp.status_code, resp.json()) == (409, {"message": "duplicate: email address is already taken"})
    assert db.patients.count_documents({}) == 1


def test_create_account_sites(admin, clinic, db):
    site = add_clinic_site(db, clinic["id"], "Oakland")
    body = create_patient(admin, clinic["id"], email="a@x.org", sites=[{"id": site, "name": "Old-Name"},
                                                                       {"id": site, "name": "Oakland"}])
    assert body["sites"] == [{"id": site, "name": "Oakland"}]
    second = create_patient(admin, clinic["id"], email="b@x.org", sites=[{"id": site, "name": "Oakland"}])
    stored = db.patients.find_one({"userId": second["id"]})["sites"]
    assert stored == [{"id": ObjectId(site), "name": "Oakland", "patients": 1}]  # the count before the write
    resp = admin.post(url(clinic), json={**BIXBY, "email": "c@x.org", "sites": [{"id": str(ObjectId()), "name": "X"}]})
    assert (resp.status_code, resp.json()) == (422, {"message": "constraint violation: the clinic has no site with "
                                                                "that name"})
    assert db.users.count_documents({"emails": "c@x.org"}) == 0  # no orphan account


def clinic_tag(admin, clinic) -> str:
    """A tag of the clinic's (patient bodies take only those: tests/test_integrity_races.py)."""
    return admin.post(f"/v1/clinics/{clinic['id']}/patient_tags", json={"name": "t"}).json()["id"]


def test_create_account_stores_body_fields(admin, clinic, db):
    tag = clinic_tag(admin, clinic)
    body = create_patient(admin, clinic["id"], tags=[tag], targetDevices=["dexcomG6"], diagnosisType="type1",
                          glycemicRanges={"type": "custom", "custom": {"name": "Mine", "thresholds": [
                              {"name": "low", "upperBound": {"value": 3.9, "units": "mmol/L"}},
                              {"name": "high", "upperBound": {"value": 180, "units": "mg/dL"}, "inclusive": True}]}})
    assert body["tags"] == [tag] and body["targetDevices"] == ["dexcomG6"] and body["diagnosisType"] == "type1"
    assert body["glycemicRanges"] == {"custom": {"name": "Mine", "thresholds": [
        {"name": "low", "upperBound": {"units": "mmol/L", "value": 3.9}},
        {"inclusive": True, "name": "high", "upperBound": {"units": "mg/dL", "value": 180}}]}, "type": "custom"}
    stored = db.patients.find_one({"userId": body["id"]})
    assert stored["glycemicRanges"]["custom"]["thresholds"][0]["upperBound"]["value"] == 3.9000000953674316
    assert stored["tags"] == [ObjectId(tag)]


def test_create_account_glycemic_defaults(admin, clinic, db):
    body = create_patient(admin, clinic["id"], glycemicRanges={})
    assert body["glycemicRanges"] == {"preset": "adaStandard", "type": "preset"}
    assert db.patients.find_one({"userId": body["id"]})["glycemicRanges"] == {"type": "preset", "preset": "adaStandard"}


# --- CreatePatientFromUser --------------------------------------------------------------------

def test_create_from_user(server, admin, clinic, db):
    tag = clinic_tag(admin, clinic)
    resp = server.post(url(clinic, USER_A), json={"permissions": {"view": {}, "upload": {"x": 1}}, "fullName": "Ann",
                                                  "birthDate": "1999-09-09", "mrn": "M-1", "tags": [tag]})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["permissions"] == {"upload": {}, "view": {}} and body["id"] == USER_A and body["tags"] == [tag]
    doc = db.patients.find_one({"userId": USER_A})
    assert doc["permissions"] == {"view": {}, "upload": {}} and "invitedBy" not in doc and "isMigrated" not in doc


def test_create_from_user_fills_from_user_and_profile(server, clinic, db):
    db.users.insert_one({"_id": USER_A, "username": "Ann@Example.org", "emails": ["Ann@Example.org"],
                         "profile": {"fullName": "Profile Name", "patient": {"birthday": "1980-05-05", "mrn": "P-9",
                                                                             "targetDevices": ["omnipod"]}}})
    resp = server.post(url(clinic, USER_A), json={})
    body = resp.json()
    assert (body["fullName"], body["birthDate"], body["mrn"], body["email"], body["targetDevices"]) == (
        "Profile Name", "1980-05-05", "P-9", "ann@example.org", ["omnipod"])
    assert "permissions" not in body and "permissions" not in db.patients.find_one({"userId": USER_A})
    resp = server.post(url(clinic, USER_B), json={})
    doc = db.patients.find_one({"userId": USER_B})
    assert doc["birthDate"] == "" and doc["email"] is None and resp.json()["birthDate"] == "0001-01-01"


def test_create_from_user_body_beats_profile(server, clinic, db):
    db.users.insert_one({"_id": USER_A, "profile": {"fullName": "P", "patient": {"birthday": "1980-05-05",
                                                                                 "mrn": "P"}}})
    body = server.post(url(clinic, USER_A), json={"fullName": "Body", "birthDate": "2001-01-01", "mrn": "B"}).json()
    assert (body["fullName"], body["birthDate"], body["mrn"]) == ("Body", "2001-01-01", "B")


def test_create_from_user_duplicate_and_legacy(server, clinic, db):
    server.post(url(clinic, USER_A), json={"fullName": "Ann", "permissions": {"view": {}}})
    resp = server.post(url(clinic, USER_A), json={"fullName": "Ann"})
    assert (resp.status_code, resp.json()) == (409, ALREADY_MEMBER)
    resp = server.post(url(clinic, USER_A), json={"fullName": "Changed", "legacyClinicianId": "1111111111",
                                                  "isMigrated": True})
    assert resp.status_code == 200 and resp.json()["fullName"] == "Ann"
    assert db.patients.find_one({"userId": USER_A})["legacyClinicianIds"] == ["1111111111"]


def test_create_from_user_migrated_and_sites(server, clinic, db):
    site = add_clinic_site(db, clinic["id"], "Main")
    resp = server.post(url(clinic, USER_A), json={"fullName": "M", "isMigrated": True,
                                                  "legacyClinicianId": "1111111111",
                                                  "sites": [{"id": site, "name": "x"},
                                                            {"id": str(ObjectId()), "name": "Gone"}]})
    assert resp.json()["sites"] == [{"id": site, "name": "Main"}]
    doc = db.patients.find_one({"userId": USER_A})
    assert doc["isMigrated"] is True and doc["legacyClinicianIds"] == ["1111111111"]


def test_create_from_user_errors(server, clinic, db):
    resp = server.post(f"/v1/clinics/{UNKNOWN_CLINIC}/patients/{USER_A}", json={})
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)
    set_clinic(db, clinic["id"], mrnSettings={"required": True, "unique": True})
    resp = server.post(url(clinic, USER_A), json={"fullName": "A"})
    assert resp.json() == {"message": "bad request: mrn is required"}
    server.post(url(clinic, USER_A), json={"fullName": "A", "mrn": "X1"})
    resp = server.post(url(clinic, USER_B), json={"fullName": "B", "mrn": "x1"})
    assert (resp.status_code, resp.json()) == (400, {"message": "bad request: mrn must be unique"})
    resp = server.post(url(clinic, USER_A), json={"fullName": "A", "mrn": "X1"})  # same user: not an MRN clash
    assert (resp.status_code, resp.json()) == (409, ALREADY_MEMBER)
    resp = server.post(url(clinic, USER_B), json={"fullName": "B", "birthDate": "2021-02-30", "mrn": "Q"})
    assert resp.json() == {"message": 'parsing time "2021-02-30": day out of range'}


def test_create_from_user_custodian_hits_limit(server, clinic, db):
    set_clinic(db, clinic["id"], country="US", patientCountSettings={"hardLimit": {"plan": 0}},
               patientCount={"total": 0, "demo": 0, "plan": 0})
    assert server.post(url(clinic, USER_A), json={"permissions": {"view": {}}}).status_code == 200
    resp = server.post(url(clinic, USER_B), json={"permissions": {"custodian": {}}})
    assert (resp.status_code, resp.json()) == (402, {"message": "payment required: patient count exceeds limit"})


@pytest.mark.parametrize("name,status", [("admin", 403), ("member", 403), ("other_admin", 403),
                                         ("plain_user", 403), ("anonymous", 400)])
def test_create_from_user_authorization(request, clinic, name, status):
    resp = request.getfixturevalue(name).post(url(clinic, USER_A), json={})
    assert resp.status_code == status


# --- GetPatient -------------------------------------------------------------------------------

def test_get_patient_defaults(server, member, clinic, db):
    insert_patient(db, clinic["id"], USER_A, email="a@x.org")
    for api in (server, member):
        resp = api.get(url(clinic, USER_A))
        assert resp.status_code == 200
        assert resp.json() == {"birthDate": "2000-01-01", "connectionRequests": EMPTY_REQUESTS,
                               "createdTime": "2024-01-17T06:38:22.958Z", "dataSources": None, "email": "a@x.org",
                               "fullName": "Patient a0a0a0a0a0", "id": USER_A, "reviews": [], "sites": [],
                               "tags": None, "updatedTime": "2024-01-17T06:38:22.958Z"}


def test_get_patient_quirks(member, clinic, db):
    insert_patient(db, clinic["id"], USER_A, birthDate="2021-02-31", diagnosisType="", mrn="", tags=[],
                   lastRequestedDexcomConnectTime=T0, glycemicRanges={"type": "preset", "preset": "nope"},
                   dataSources=[{"providerName": "dexcom", "state": "pending",
                                 "dataSourceId": ObjectId("507f1f77bcf86cd799439011"),
                                 "modifiedTime": T0}], lastUploadReminderTime=T0)
    body = member.get(url(clinic, USER_A)).json()
    assert body["birthDate"] == "0001-01-01" and body["mrn"] == "" and body["tags"] is None
    assert "diagnosisType" not in body and "glycemicRanges" not in body
    assert body["connectionRequests"]["dexcom"] == [{"createdTime": "2024-01-17T06:38:22.958Z",
                                                     "providerName": "dexcom"}]
    assert body["dataSources"] == [{"dataSourceId": "507f1f77bcf86cd799439011",
                                    "modifiedTime": "2024-01-17T06:38:22.958Z",
                                    "providerName": "dexcom", "state": "pending"}]
    assert body["lastUploadReminderTime"] == "2024-01-17T06:38:22.958Z"
    assert_key_order(body)


def test_get_patient_not_found(member, clinic, server):
    assert member.get(url(clinic, USER_A)).json() == PATIENT_NOT_FOUND
    resp = server.get(f"/v1/clinics/{UNKNOWN_CLINIC}/patients/{USER_A}")
    assert (resp.status_code, resp.json()) == (404, PATIENT_NOT_FOUND)
    resp = server.get(f"/v1/clinics/{clinic['id']}/patients/NOTANID")
    assert resp.status_code == 400 and 'parameter "patientId" in path' in resp.json()["message"]


@pytest.mark.parametrize("name,status", [("admin", 200), ("other_admin", 403), ("plain_user", 403), ("anonymous", 400)])
def test_get_patient_authorization(request, clinic, db, name, status):
    insert_patient(db, clinic["id"], USER_A)
    assert request.getfixturevalue(name).get(url(clinic, USER_A)).status_code == status


# --- UpdatePatient ----------------------------------------------------------------------------

def test_update_replaces_scalars_and_keeps_lists(member, clinic, db):
    site = add_clinic_site(db, clinic["id"], "North")
    tag = ObjectId()
    insert_patient(db, clinic["id"], USER_A, email="a@x.org", mrn="M1", targetDevices=["x"], tags=[tag],
                   sites=[{"id": ObjectId(site), "name": "North"}], permissions={"view": {}},
                   dataSources=[{"providerName": "dexcom", "state": "connected"}], diagnosisType="type2")
    resp = member.put(url(clinic, USER_A), json={"fullName": "New Name", "birthDate": "1990-01-01"})
    assert resp.status_code == 200
    body = resp.json()
    assert "email" not in body and "mrn" not in body and "targetDevices" not in body
    assert body["tags"] == [str(tag)] and body["sites"] == [{"id": site, "name": "North"}]
    assert body["diagnosisType"] == "type2" and body["dataSources"] == [{"providerName": "dexcom",
                                                                         "state": "connected"}]
    doc = db.patients.find_one({"userId": USER_A})
    assert doc["email"] is None and doc["mrn"] is None and doc["targetDevices"] is None
    assert doc["updatedTime"] > T0 and doc["createdTime"] == T0


def test_update_null_empty_and_present_lists(member, clinic, db):
    insert_patient(db, clinic["id"], USER_A, tags=[ObjectId()], sites=[], dataSources=[{"providerName": "a",
                                                                                        "state": "error"}])
    base = {"fullName": "A", "birthDate": "2000-01-01"}
    body = member.put(url(clinic, USER_A), json={**base, "tags": None, "dataSources": None}).json()
    assert body["tags"] is not None and body["dataSources"] is not None
    body = member.put(url(clinic, USER_A), json={**base, "tags": [], "dataSources": [], "sites": []}).json()
    assert body["tags"] is None and body["dataSources"] == [] and body["sites"] == []
    assert db.patients.find_one({"userId": USER_A})["tags"] == []


def test_update_email_lowercased_reviews_ranges_diagnosis(member, clinic, db):
    insert_patient(db, clinic["id"], USER_A, reviews=[{"clinicianId": "x", "time": T0}])
    base = {"fullName": "A", "birthDate": "2000-01-01"}
    ranges = {"type": "preset", "preset": "adaHighRisk"}
    body = member.put(url(clinic, USER_A), json={**base, "email": "MiXeD@Case.ORG", "reviews": [],
                                                 "diagnosisType": "", "glycemicRanges": ranges}).json()
    assert body["email"] == "mixed@case.org" and body["reviews"][0]["clinicianId"] == "x"
    assert "diagnosisType" not in body and body["glycemicRanges"] == {"preset": "adaHighRisk", "type": "preset"}
    assert db.patients.find_one({"userId": USER_A})["diagnosisType"] == ""
    reviews = [{"clinicianId": c, "time": "2024-01-0%dT00:00:00Z" % i} for i, c in enumerate("abc", 1)]
    body = member.put(url(clinic, USER_A), json={**base, "reviews": reviews}).json()
    assert [r["clinicianId"] for r in body["reviews"]] == ["a", "b", "c"]  # no cap of 2 here


def test_update_mrn_change_deactivates_subscriptions(member, clinic, db):
    subs = {"summaryAndReports": {"active": True, "provider": "redox"}, "other": {"active": True}}
    insert_patient(db, clinic["id"], USER_A, mrn="A1", ehrSubscriptions=subs)
    base = {"fullName": "A", "birthDate": "2000-01-01"}
    member.put(url(clinic, USER_A), json={**base, "mrn": "A1"})
    assert db.patients.find_one({"userId": USER_A})["ehrSubscriptions"] == subs
    member.put(url(clinic, USER_A), json={**base, "mrn": "a1"})
    stored = db.patients.find_one({"userId": USER_A})["ehrSubscriptions"]
    assert stored == {"summaryAndReports": {"active": False, "provider": "redox"}, "other": {"active": False}}


def test_update_custodial_follows_account(admin, clinic, db):
    first = create_patient(admin, clinic["id"], email="one@x.org")
    create_patient(admin, clinic["id"], email="two@x.org")
    resp = admin.put(url(clinic, first["id"]), json={**BIXBY, "email": "TWO@x.org"})
    assert (resp.status_code, resp.json()) == (
        409, {"message": "unable to update custodial user: duplicate: email address is already taken"})
    resp = admin.put(url(clinic, first["id"]), json={**BIXBY, "email": "Three@x.org"})
    assert resp.json()["email"] == "three@x.org"
    assert db.users.find_one({"_id": first["id"]})["emails"] == ["three@x.org"]
    admin.put(url(clinic, first["id"]), json={"fullName": "X", "birthDate": "2000-01-01"})
    assert db.users.find_one({"_id": first["id"]})["emails"] == []


def test_update_errors(member, clinic, db):
    base = {"fullName": "A", "birthDate": "2000-01-01"}
    assert member.put(url(clinic, USER_A), json=base).json() == PATIENT_NOT_FOUND
    insert_patient(db, clinic["id"], USER_A, mrn="Z")
    insert_patient(db, clinic["id"], USER_B, mrn="Y")
    resp = member.put(url(clinic, USER_A))
    assert (resp.status_code, resp.json()) == (400, {"message": "request body has an error: value is required but "
                                                                "missing"})
    resp = member.put(url(clinic, USER_A), json={**base, "sites": [{"id": str(ObjectId()), "name": "Nope"}]})
    assert (resp.status_code, resp.json()) == (422, {"message": "constraint violation: the clinic has no site with "
                                                                "that name"})
    set_clinic(db, clinic["id"], mrnSettings={"required": True, "unique": True})
    assert member.put(url(clinic, USER_A), json=base).json() == {"message": "bad request: mrn is required"}
    assert member.put(url(clinic, USER_A), json={**base, "mrn": "y"}).json() == {"message": "bad request: mrn must be "
                                                                                            "unique"}
    body = member.put(url(clinic, USER_A), json={**base, "mrn": "z"}).json()  # its own MRN (any case) is fine
    assert body["mrn"] == "z" and db.patients.find_one({"userId": USER_A})["requireUniqueMrn"] is True


@pytest.mark.parametrize("name,status", [("server", 200), ("admin", 200), ("other_admin", 403), ("plain_user", 403),
                                         ("anonymous", 400)])
def test_update_authorization(request, clinic, db, name, status):
    insert_patient(db, clinic["id"], USER_A)
    resp = request.getfixturevalue(name).put(url(clinic, USER_A), json={"fullName": "A", "birthDate": "2000-01-01"})
    assert resp.status_code == status


# --- DeletePatient ----------------------------------------------------------------------------

def test_delete_patient_archives_full_document(admin, clinic, db):
    body = create_patient(admin, clinic["id"])
    resp = admin.get(f"{url(clinic)}?search=0000000001")
    assert resp.json()["meta"]["count"] == 1 and resp.json()["data"][0]["birthDate"] == "2008-01-06"
    before = db.patients.find_one({"userId": body["id"]})
    resp = admin.delete(url(clinic, body["id"]))
    assert (resp.status_code, resp.content) == (204, b"")
    assert admin.get(url(clinic, body["id"])).status_code == 404
    archive = db.patient_deletions.find_one({"patient.userId": body["id"]})
    assert archive["patient"] == before and archive["deletedByUserId"] == ADMIN_ID
    assert archive["deletedTime"].year > 2000
    assert list(archive) == ["_id", "deletedTime", "patient", "deletedByUserId"]
    assert admin.delete(url(clinic, body["id"])).json() == PATIENT_NOT_FOUND


def test_delete_patient_by_self(as_user, clinic, db):
    insert_patient(db, clinic["id"], USER_A)
    resp = as_user(USER_A).delete(url(clinic, USER_A))
    assert resp.status_code == 204
    assert db.patient_deletions.find_one()["deletedByUserId"] == USER_A


@pytest.mark.parametrize("name", ["server", "member", "other_admin", "plain_user"])
def test_delete_patient_authorization(request, clinic, db, name):
    insert_patient(db, clinic["id"], USER_A)
    resp = request.getfixturevalue(name).delete(url(clinic, USER_A))
    assert (resp.status_code, resp.json()) == (403, NOT_AUTHORIZED)
    assert db.patients.count_documents({}) == 1


def test_delete_patient_no_token(anonymous, clinic):
    assert anonymous.delete(url(clinic, USER_A)).json() == MISSING_TOKEN


def test_create_from_user_ignores_unknown_keys(server, clinic):
    resp = server.post(url(clinic, USER_A), json={"fullName": "Ann", "session": 1, "services": "x", "foo": [1]})
    assert resp.status_code == 200 and resp.json()["fullName"] == "Ann"


@pytest.mark.parametrize("value,kind", [(1.5, "number"), ("preset", "string"), ([], "array"), (True, "bool")])
def test_glycemic_ranges_that_are_not_an_object_are_a_400(server, clinic, db, value, kind):
    """The schema of glycemicRanges has no `type: object`, so the validator lets these through;
    the reference's binder then refuses them (Go type error text, without its byte offset)."""
    resp = server.post(f"/v1/clinics/{clinic['id']}/patients",
                       json={"fullName": "Pat Patient", "birthDate": "2001-02-03", "glycemicRanges": value})
    assert resp.status_code == 400
    assert resp.json() == {"message": f"Unmarshal type error: expected=api.GlycemicRangesV1, got={kind}, "
                                      "field=glycemicRanges"}
    assert db.patients.count_documents({}) == 0
