"""Sharing and care: permissions, reviews, upload reminders, provider connections, data sources,
clinic-wide tag assignment."""
from __future__ import annotations

import datetime as dt

import pytest
from bson import ObjectId

from conftest import ADMIN_ID, MEMBER_ID
from patients_support import (MISSING_TOKEN, NOT_AUTHORIZED, PATIENT_NOT_FOUND, T0, T1, USER_A, USER_B, USER_C,
                              create_patient, insert_patient)

ALL = {"custodian": {}, "view": {}, "upload": {}, "note": {}}


def base(clinic, pid=USER_A):
    return f"/v1/clinics/{clinic['id']}/patients/{pid}"


# --- UpdatePatientPermissions -------------------------------------------------------------------

def test_update_permissions_replaces_and_drops_custodian(as_user, clinic, db):
    insert_patient(db, clinic["id"], USER_A, permissions=dict(ALL))
    me = as_user(USER_A)
    resp = me.put(base(clinic) + "/permissions", json={"view": {}, "custodian": {}, "note": {"x": 1}})
    assert (resp.status_code, resp.json()) == (200, {"note": {}, "view": {}})
    doc = db.patients.find_one({"userId": USER_A})
    assert doc["permissions"] == {"view": {}, "note": {}} and doc["updatedTime"] > T0


@pytest.mark.parametrize("body", [{"custodian": {}}, {}, None])
def test_update_permissions_to_nothing_removes_the_patient(as_user, clinic, db, body):
    insert_patient(db, clinic["id"], USER_A, permissions=dict(ALL))
    resp = as_user(USER_A).put(base(clinic) + "/permissions", json=body)
    assert (resp.status_code, resp.content) == (204, b"")
    assert db.patients.count_documents({}) == 0
    archive = db.patient_deletions.find_one()
    assert archive["deletedByUserId"] == USER_A and archive["patient"]["permissions"] == ALL


def test_update_permissions_unknown_patient(as_user, clinic):
    me = as_user(USER_A)
    assert me.put(base(clinic) + "/permissions", json={"view": {}}).json() == PATIENT_NOT_FOUND
    assert me.put(base(clinic) + "/permissions", json={}).json() == PATIENT_NOT_FOUND


@pytest.mark.parametrize("name,status", [("server", 403), ("admin", 403), ("member", 403), ("plain_user", 403),
                                         ("anonymous", 400)])
def test_update_permissions_authorization(request, clinic, db, name, status):
    insert_patient(db, clinic["id"], USER_A, permissions={"view": {}})
    resp = request.getfixturevalue(name).put(base(clinic) + "/permissions", json={"view": {}})
    assert (resp.status_code, resp.json()) == (status, NOT_AUTHORIZED if status == 403 else MISSING_TOKEN)


# --- DeletePatientPermission --------------------------------------------------------------------

def test_delete_permission_by_patient(as_user, clinic, db):
    insert_patient(db, clinic["id"], USER_A, permissions={"view": {}, "note": {}})
    me = as_user(USER_A)
    assert me.delete(base(clinic) + "/permissions/view").status_code == 204
    assert db.patients.find_one({"userId": USER_A})["permissions"] == {"note": {}}
    resp = me.delete(base(clinic) + "/permissions/view")
    assert (resp.status_code, resp.json()) == (404, {"message": "permission not found"})
    assert me.delete(base(clinic) + "/permissions/note").status_code == 204
    assert db.patients.count_documents({}) == 0
    assert db.patient_deletions.find_one()["deletedByUserId"] == USER_A


def test_server_revokes_custodian_on_claim(server, admin, clinic, db):
    patient = create_patient(admin, clinic["id"])
    resp = server.delete(base(clinic, patient["id"]) + "/permissions/custodian")
    assert (resp.status_code, resp.content) == (204, b"")
    body = admin.get(base(clinic, patient["id"])).json()
    assert body["permissions"] == {"note": {}, "upload": {}, "view": {}}
    resp = server.delete(base(clinic, patient["id"]) + "/permissions/view")
    assert (resp.status_code, resp.json()) == (403, NOT_AUTHORIZED)


def test_custodian_only_patient_removed_when_revoked(server, clinic, db):
    insert_patient(db, clinic["id"], USER_A, permissions={"custodian": {}})
    assert server.delete(base(clinic) + "/permissions/custodian").status_code == 204
    assert db.patients.count_documents({}) == 0 and db.patient_deletions.count_documents({}) == 1


def test_delete_permission_errors(as_user, admin, clinic, db):
    insert_patient(db, clinic["id"], USER_A, permissions={"view": {}})
    resp = as_user(USER_A).delete(base(clinic) + "/permissions/root")
    assert resp.status_code == 400 and 'parameter "permission" in path' in resp.json()["message"]
    resp = as_user(USER_B).delete(base(clinic, USER_B) + "/permissions/view")
    assert resp.json() == {"message": "permission not found"}
    assert admin.delete(base(clinic) + "/permissions/view").json() == NOT_AUTHORIZED


# --- reviews ----------------------------------------------------------------------------------

def test_reviews_newest_first_keep_two(member, admin, clinic, db):
    insert_patient(db, clinic["id"], USER_A)
    first = member.put(base(clinic) + "/reviews")
    assert first.status_code == 200 and [r["clinicianId"] for r in first.json()] == [MEMBER_ID]
    admin.put(base(clinic) + "/reviews")
    third = member.put(base(clinic) + "/reviews").json()
    assert [r["clinicianId"] for r in third] == [MEMBER_ID, ADMIN_ID]
    doc = db.patients.find_one({"userId": USER_A})
    assert len(doc["reviews"]) == 2 and doc["updatedTime"] == T0  # reviews leave updatedTime alone


def test_revert_review(member, admin, clinic, db):
    insert_patient(db, clinic["id"], USER_A, reviews=[{"clinicianId": MEMBER_ID, "time": T1},
                                                      {"clinicianId": MEMBER_ID, "time": T0}])
    resp = member.delete(base(clinic) + "/reviews")
    assert resp.json() == [{"clinicianId": MEMBER_ID, "time": "2024-01-17T06:38:22.958Z"}]
    resp = admin.delete(base(clinic) + "/reviews")
    assert (resp.status_code,
            resp.json()) == (409, {"message": "conflict: cannot revert review from another clinician"})
    assert member.delete(base(clinic) + "/reviews").json() == []
    resp = member.delete(base(clinic) + "/reviews")
    assert (resp.status_code, resp.json()) == (404, {"message": "no review to delete"})
    assert member.delete(base(clinic, USER_B) + "/reviews").json() == PATIENT_NOT_FOUND
    assert member.put(base(clinic, USER_B) + "/reviews").json() == PATIENT_NOT_FOUND


@pytest.mark.parametrize("method", ["put", "delete"])
@pytest.mark.parametrize("name,status", [("server", 403), ("other_admin", 403), ("plain_user", 403), ("anonymous",
                                                                                                      400)])
def test_reviews_authorization(request, clinic, db, method, name, status):
    insert_patient(db, clinic["id"], USER_A)
    resp = getattr(request.getfixturevalue(name), method)(base(clinic) + "/reviews")
    assert resp.status_code == status


# --- upload reminder --------------------------------------------------------------------------

def test_send_upload_reminder(member, admin, clinic, db):
    patient = create_patient(admin, clinic["id"], email="kid@x.org")
    resp = member.post(base(clinic, patient["id"]) + "/upload_reminder")
    assert resp.status_code == 200
    body = resp.json()
    assert body["id"] == patient["id"] and body["lastUploadReminderTime"] == body["updatedTime"]
    mails = list(db.outbox.find({"template": "patient_upload_reminder"}))
    assert [(m["recipient"], m["variables"]) for m in mails] == [("kid@x.org", {})]
    assert member.post(base(clinic) + "/upload_reminder").json() == PATIENT_NOT_FOUND


@pytest.mark.parametrize("name,status", [("server", 403), ("other_admin", 403), ("plain_user", 403), ("anonymous",
                                                                                                      400)])
def test_upload_reminder_authorization(request, clinic, db, name, status):
    insert_patient(db, clinic["id"], USER_A)
    assert request.getfixturevalue(name).post(base(clinic) + "/upload_reminder").status_code == status


# --- provider connections and data sources ----------------------------------------------------

def test_connect_flow(server, member, admin, clinic, db):
    patient = create_patient(admin, clinic["id"])
    pid = patient["id"]
    resp = server.put(f"/v1/patients/{pid}/data_sources", json=[
        {"state": "pending", "providerName": "dexcom", "dataSourceId": "507f1f77bcf86cd799439011"},
        {"state": "pending", "providerName": "twiist", "dataSourceId": "507f191e810c19729de860ea"}])
    assert (resp.status_code, resp.content) == (200, b"")
    resp = member.post(base(clinic, pid) + "/connect/dexcom")
    assert (resp.status_code, resp.content) == (204, b"")
    body = admin.get(base(clinic, pid)).json()
    assert [r["providerName"] for r in body["connectionRequests"]["dexcom"]] == ["dexcom"]
    assert server.post(base(clinic, pid) + "/connect/twiist").status_code == 204
    body = admin.get(base(clinic, pid)).json()
    assert len(body["connectionRequests"]["twiist"]) == 1 and body["connectionRequests"]["abbott"] == []
    doc = db.patients.find_one({"userId": pid})
    assert doc["dataSources"][0]["state"] == "pending"
    assert doc["dataSources"][0]["expirationTime"] - doc["providerConnectionRequests"]["dexcom"][0]["createdTime"] \
        == dt.timedelta(days=30)
    templates = [m["template"] for m in db.outbox.find({"template": {"$regex": "^request_"}})]
    assert templates == ["request_dexcom_connect_custodial", "request_twiist_connect_custodial"]


def test_connect_prepends_newest_first(member, clinic, db):
    insert_patient(db, clinic["id"], USER_A, dataSources=[{"providerName": "dexcom", "state": "pending"}],
                   providerConnectionRequests={"dexcom": [{"providerName": "dexcom", "createdTime": T0}]})
    assert member.post(base(clinic) + "/connect/dexcom").status_code == 204
    requests = member.get(base(clinic)).json()["connectionRequests"]["dexcom"]
    assert len(requests) == 2 and requests[1]["createdTime"] == "2024-01-17T06:38:22.958Z"
    assert requests[0]["createdTime"] > requests[1]["createdTime"]


def test_connect_again_after_a_connection_is_a_reconnect(member, clinic, db):
    insert_patient(db, clinic["id"], USER_A, email="p@x.org", permissions={"view": {}},
                   dataSources=[{"dataSourceId": ObjectId(), "modifiedTime": T0, "providerName": "dexcom",
                                 "state": "connected"}])
    assert member.post(base(clinic) + "/connect/dexcom").status_code == 204
    doc = db.patients.find_one({"userId": USER_A})
    assert doc["dataSources"][0]["state"] == "pendingReconnect" and doc["dataSources"][0]["modifiedTime"] > T0
    mail = db.outbox.find_one({"template": "request_dexcom_reconnect"})
    assert mail["recipient"] == "p@x.org" and mail["variables"]["ProviderName"] == "dexcom"
    assert mail["variables"]["ClinicName"] == "Todd's Clinic"


def test_connect_errors(member, clinic, db):
    resp = member.post(base(clinic) + "/connect/dexcom")
    assert (resp.status_code, resp.json()) == (404, {"message": "error finding patient: patient not found"})
    insert_patient(db, clinic["id"], USER_A, dataSources=[{"providerName": "twiist", "state": "pending"}])
    assert member.post(base(clinic) + "/connect/dexcom").json() == PATIENT_NOT_FOUND
    resp = member.post(base(clinic) + "/connect/fitbit")
    assert resp.status_code == 400 and 'parameter "providerId" in path' in resp.json()["message"]


@pytest.mark.parametrize("name,status", [("other_admin", 403), ("plain_user", 403), ("anonymous", 400)])
def test_connect_authorization(request, clinic, db, name, status):
    insert_patient(db, clinic["id"], USER_A, dataSources=[{"providerName": "dexcom", "state": "pending"}])
    assert request.getfixturevalue(name).post(base(clinic) + "/connect/dexcom").status_code == status


def test_data_sources_replace_on_every_clinic(server, clinic, db):
    other = ObjectId()
    insert_patient(db, clinic["id"], USER_A, dataSources=[{"providerName": "old", "state": "error"}])
    insert_patient(db, other, USER_A)
    body = [{"state": "connected", "providerName": "abbott", "dataSourceId": "507f1f77bcf86cd799439011",
             "modifiedTime": "2024-01-17T06:38:22.958Z",
             "latestDataTime": "2024-01-17T06:38:22"}]  # passes the validator, not RFC 3339
    assert server.put(f"/v1/patients/{USER_A}/data_sources", json=body).status_code == 200
    for doc in db.patients.find({"userId": USER_A}):
        assert doc["dataSources"] == [{"dataSourceId": ObjectId("507f1f77bcf86cd799439011"), "modifiedTime": T0,
                                       "providerName": "abbott", "state": "connected"}]
    assert server.put(f"/v1/patients/{USER_A}/data_sources").status_code == 200
    assert db.patients.find_one({"userId": USER_A})["dataSources"] == []
    assert server.put(f"/v1/patients/{USER_B}/data_sources", json=body).status_code == 200  # unknown user: fine


def test_data_sources_validation_and_authorization(server, admin, clinic):
    resp = server.put(f"/v1/patients/{USER_A}/data_sources", json=[{"state": "weird", "providerName": "x"}])
    assert resp.status_code == 400 and resp.json()["message"].startswith("request body has an error")
    assert admin.put(f"/v1/patients/{USER_A}/data_sources", json=[]).json() == NOT_AUTHORIZED


# --- clinic-wide tag assignment ------------------------------------------------------------------

@pytest.fixture
def tagged(db, clinic):
    tag = ObjectId()
    db.clinics.update_one({"_id": ObjectId(clinic["id"])}, {"$push": {"patientTags": {"_id": tag, "name": "tagged"}}})
    insert_patient(db, clinic["id"], USER_A)
    insert_patient(db, clinic["id"], USER_B, tags=None)
    insert_patient(db, clinic["id"], USER_C, tags=[tag])
    insert_patient(db, ObjectId(), "d3d3d3d3d3")
    return str(tag)


def holders(db, tag):
    return sorted(d["userId"] for d in db.patients.find({"tags": ObjectId(tag)}))


def test_assign_tag_to_some_then_all(server, admin, clinic, db, tagged):
    path = f"/v1/clinics/{clinic['id']}/patients/assign_tag/{tagged}"
    resp = server.post(path, json=[USER_A, "e4e4e4e4e4"])
    assert (resp.status_code, resp.content) == (200, b"")
    assert holders(db, tagged) == [USER_A, USER_C]
    assert admin.post(path).status_code == 200
    assert holders(db, tagged) == [USER_A, USER_B, USER_C]
    assert db.patients.find_one({"userId": USER_C})["updatedTime"] == T0  # already tagged: untouched
    assert server.post(path, json=None).status_code == 200


def test_delete_tag_from_some_then_all(server, admin, clinic, db, tagged):
    server.post(f"/v1/clinics/{clinic['id']}/patients/assign_tag/{tagged}")
    path = f"/v1/clinics/{clinic['id']}/patients/delete_tag/{tagged}"
    assert server.post(path, json=[USER_A]).status_code == 200
    assert holders(db, tagged) == [USER_B, USER_C]
    assert admin.post(path).status_code == 200
    assert holders(db, tagged) == []


@pytest.mark.parametrize("action", ["assign_tag", "delete_tag"])
def test_tag_bodies_and_authorization(request, clinic, db, tagged, action):
    path = f"/v1/clinics/{clinic['id']}/patients/{action}/{tagged}"
    resp = request.getfixturevalue("server").post(path, json=[])
    assert (resp.status_code, resp.json()["message"].endswith("minimum number of items is 1")) == (400, True)
    for name, status in [("member", 403), ("other_admin", 403), ("plain_user", 403), ("anonymous", 400)]:
        assert request.getfixturevalue(name).post(path).status_code == status


@pytest.mark.parametrize("name,status", [("admin", 403), ("member", 403), ("other_admin", 403), ("plain_user", 403),
                                         ("anonymous", 400)])
def test_delete_permission_authorization(request, clinic, db, name, status):
    insert_patient(db, clinic["id"], USER_A, permissions={"view": {}, "note": {}})
    resp = request.getfixturevalue(name).delete(base(clinic) + "/permissions/note")
    assert (resp.status_code, resp.json()) == (status, NOT_AUTHORIZED if status == 403 else MISSING_TOKEN)
    assert db.patients.find_one({"userId": USER_A})["permissions"] == {"view": {}, "note": {}}


@pytest.mark.parametrize("name,status", [("member", 403), ("other_admin", 403), ("plain_user", 403), ("anonymous",
                                                                                                      400)])
def test_data_sources_authorization(request, clinic, name, status):
    resp = request.getfixturevalue(name).put(f"/v1/patients/{USER_A}/data_sources", json=[])
    assert (resp.status_code, resp.json()) == (status, NOT_AUTHORIZED if status == 403 else MISSING_TOKEN)
