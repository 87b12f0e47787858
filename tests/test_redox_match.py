"""Redox: matching a stored new order to its clinic and patients (POST /v1/redox/match, server
only), the summary-and-reports subscription, and re-queuing the last matched orders
(POST /v1/clinics/{id}/ehr/sync, POST /v1/patients/{id}/ehr/sync); the reference's Redox
integration scenario, in order."""
from __future__ import annotations

import json

import pytest
from bson import ObjectId

from ehr_support import (LOG_ID, NOW, REDOX_TOKEN, SOURCE_ID, add_patient, cgm_summary, configure, new_order,
                         redox_settings, set_ehr)
from conftest import CLINIC_BODY

HEADERS = {"verification-token": REDOX_TOKEN, "content-type": "application/json"}


@pytest.fixture
def redox(services, monkeypatch, anonymous, server, clinic):
    configure(services, monkeypatch, redox_verification_token=REDOX_TOKEN)
    set_ehr(server, clinic["id"], redox_settings())
    return anonymous


def store_message(api, payload) -> str:
    assert api.post("/v1/redox", content=json.dumps(payload).encode(), headers=HEADERS).status_code == 200
    return str(api.client.app.services.store.db.redox.find().sort("_id", -1).limit(1)[0]["_id"])


def match_body(document_id, criteria=None, on_match=None, **ref):
    body = {"messageRef": {"dataModel": "Order", "eventType": "New", "documentId": document_id, **ref}}
    if criteria is not None:
        body["patients"] = {"criteria": criteria}
        if on_match:
            body["patients"]["onUniqueMatch"] = on_match
    return body


def subscription(db, clinic_id, user_id):
    doc = db.patients.find_one({"clinicId": ObjectId(clinic_id), "userId": user_id})
    return (doc.get("ehrSubscriptions") or {}).get("summaryAndReports")


# --- MatchClinicAndPatient ------------------------------------------------------------------------

def test_match_by_dob_and_full_name(redox, server, admin, clinic, db):
    patient = add_patient(admin, clinic["id"])
    doc_id = store_message(redox, new_order())
    resp = server.post("/v1/redox/match", json=match_body(doc_id, ["DOB_FULLNAME"]))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert list(body) == ["clinic", "patients", "settings"]
    assert body["clinic"]["id"] == clinic["id"] and body["settings"]["sourceId"] == SOURCE_ID
    assert [(p["id"], p["mrn"], p["fullName"], p["birthDate"]) for p in body["patients"]] == [
        (patient["id"], "0000000001", "Timothy Bixby", "2008-01-06")]
    assert subscription(db, clinic["id"], patient["id"]) is None


def test_unique_match_enables_then_disables_reports(redox, server, admin, clinic, db):
    patient = add_patient(admin, clinic["id"])
    doc_id = store_message(redox, new_order())
    assert server.post("/v1/redox/match", json=match_body(doc_id, ["MRN_DOB"], "ENABLE_REPORTS")).status_code == 200
    sub = subscription(db, clinic["id"], patient["id"])
    assert sub == {"active": True, "provider": "redox",
                   "matchedMessages": [{"id": ObjectId(doc_id), "dataModel": "Order", "eventType": "New"}],
                   "createdAt": NOW, "updatedAt": NOW}
    assert server.post("/v1/redox/match", json=match_body(doc_id, ["MRN"], "DISABLE_REPORTS")).status_code == 200
    sub = subscription(db, clinic["id"], patient["id"])
    assert sub["active"] is False and len(sub["matchedMessages"]) == 2


def test_several_matches_change_no_subscription(redox, server, admin, clinic, db):
    first = add_patient(admin, clinic["id"])
    second = add_patient(admin, clinic["id"], fullName="timothy bixby", mrn="other")
    doc_id = store_message(redox, new_order())
    resp = server.post("/v1/redox/match", json=match_body(doc_id, ["MRN", "DOB_FULLNAME", "MRN_DOB"], "ENABLE_REPORTS"))
    assert resp.status_code == 200
    assert [p["id"] for p in resp.json()["patients"]] == [first["id"], second["id"]]
    assert subscription(db, clinic["id"], first["id"]) is None and subscription(db, clinic["id"], second["id"]) is None


@pytest.mark.parametrize("criteria", [None, ["MRN"]])
def test_no_match_leaves_patients_out(redox, server, admin, clinic, criteria):
    add_patient(admin, clinic["id"], mrn="someone-else")
    doc_id = store_message(redox, new_order())
    resp = server.post("/v1/redox/match", json=match_body(doc_id, criteria))
    assert resp.status_code == 200 and list(resp.json()) == ["clinic", "settings"]


def test_mrn_type_is_case_insensitive_and_required_to_search(redox, server, admin, clinic):
    add_patient(admin, clinic["id"])
    doc_id = store_message(redox, new_order(Identifiers=[{"ID": "0000000001", "IDType": "mr"}]))
    assert len(server.post("/v1/redox/match", json=match_body(doc_id, ["MRN"])).json()["patients"]) == 1
    doc_id = store_message(redox, new_order(Identifiers=[{"ID": "0000000001", "IDType": "NIST"}]))
    resp = server.post("/v1/redox/match", json=match_body(doc_id, ["DOB_FULLNAME"]))
    assert resp.status_code == 200 and "patients" not in resp.json()


@pytest.mark.parametrize("demographics,message", [
    ({"FirstName": "Timothy", "LastName": "Bixby"}, "bad request: date of birth is missing"),
    ({"DOB": "2008-01-06"}, "bad request: full name is missing"),
])
def test_match_needs_dob_and_name_once_an_mrn_is_found(redox, server, demographics, message):
    doc_id = store_message(redox, new_order(Demographics=demographics))
    resp = server.post("/v1/redox/match", json=match_body(doc_id, ["MRN"]))
    assert resp.status_code == 400 and resp.json() == {"message": message}


def test_match_request_errors(redox, server):
    doc_id = store_message(redox, new_order())
    cases = [({}, 400, "bad request: messageRef is required"),
             (match_body("xyz"), 400, "bad request: invalid documentId"),
             (match_body(str(ObjectId())), 404, "not found: no new order message with this documentId")]
    for body, status, message in cases:
        resp = server.post("/v1/redox/match", json=body)
        assert (resp.status_code, resp.json()) == (status, {"message": message})
    resp = server.post("/v1/redox/match", json=match_body(doc_id, dataModel="Results"))
    assert resp.status_code == 400 and resp.json()["message"].startswith("request body has an error")


def test_match_only_finds_new_orders(redox, server):
    payload = new_order()
    payload["Meta"] = {**payload["Meta"], "DataModel": "Results"}
    doc_id = store_message(redox, payload)
    assert server.post("/v1/redox/match", json=match_body(doc_id)).status_code == 404


def test_match_clinic_errors(redox, server, admin, clinic, db):
    missing_source = new_order()
    missing_source["Meta"] = {**missing_source["Meta"], "Source": {"Name": "nobody"}}
    resp = server.post("/v1/redox/match", json=match_body(store_message(redox, missing_source)))
    assert (resp.status_code, resp.json()) == (400, {"message": "bad request: source id is required"})
    doc_id = store_message(redox, new_order())
    other = admin.post("/v1/clinics", json={**CLINIC_BODY, "name": "Twin"}).json()
    set_ehr(server, other["id"], redox_settings())
    resp = server.post("/v1/redox/match", json=match_body(doc_id))
    assert (resp.status_code, resp.json()) == (409, {"message": "duplicate: multiple matching clinics found"})
    for clinic_id in (clinic["id"], other["id"]):
        set_ehr(server, clinic_id, redox_settings(enabled=False))
    resp = server.post("/v1/redox/match", json=match_body(doc_id))
    assert (resp.status_code, resp.json()) == (404, {"message": "not found: couldn't find a matching clinic"})


def test_match_unreadable_order_is_422(redox, server, db):
    doc_id = store_message(redox, new_order(Identifiers="MR:0000000001"))
    resp = server.post("/v1/redox/match", json=match_body(doc_id, ["MRN"]))
    assert resp.status_code == 422
    assert resp.json() == {"message": "constraint violation: the stored message is not a readable new order"}


def test_match_is_for_servers_only(redox, admin, member, other_admin, plain_user, anonymous):
    body = match_body(str(ObjectId()))
    for api in (admin, member, other_admin, plain_user):
        resp = api.post("/v1/redox/match", json=body)
        assert resp.status_code == 403
    resp = anonymous.post("/v1/redox/match", json=body)
    assert (resp.status_code, resp.json()) == (400, {"message": "session token is missing"})


# --- SyncEHRData / SyncEHRDataForPatient -------------------------------------------------------------

def subscribe(redox, server, admin, clinic) -> tuple[dict, str]:
    patient = add_patient(admin, clinic["id"])
    doc_id = store_message(redox, new_order())
    assert server.post("/v1/redox/match", json=match_body(doc_id, ["MRN"], "ENABLE_REPORTS")).status_code == 200
    return patient, doc_id


def test_clinic_sync_schedules_subscribed_patients(redox, server, admin, clinic, db):
    patient, doc_id = subscribe(redox, server, admin, clinic)
    add_patient(admin, clinic["id"], mrn="unsubscribed", fullName="Other")
    resp = server.post(f"/v1/clinics/{clinic['id']}/ehr/sync")
    assert resp.status_code == 202 and resp.content == b""
    docs = list(db.scheduledSummaryAndReportsOrders.find())
    assert len(docs) == 1
    assert list(docs[0]) == ["_id", "userId", "clinicId", "createdTime", "lastMatchedOrder"]
    assert docs[0]["userId"] == patient["id"] and docs[0]["clinicId"] == ObjectId(clinic["id"])
    assert docs[0]["createdTime"] == NOW and docs[0]["lastMatchedOrder"]["_id"] == ObjectId(doc_id)


def test_clinic_sync_needs_an_enabled_redox_clinic(redox, server, admin, other_admin, clinic, db):
    other = admin.post("/v1/clinics", json={**CLINIC_BODY, "name": "Plain"}).json()
    for clinic_id in (other["id"], "0123456789abcdef01234567"):
        resp = server.post(f"/v1/clinics/{clinic_id}/ehr/sync")
        assert (resp.status_code, resp.json()) == (404, {"message": "not found: couldn't find a matching clinic"})
    set_ehr(server, clinic["id"], redox_settings(enabled=False))
    assert server.post(f"/v1/clinics/{clinic['id']}/ehr/sync").status_code == 404
    for api in (admin, other_admin):
        assert server.post(f"/v1/clinics/{clinic['id']}/ehr/sync").status_code == 404
        assert api.post(f"/v1/clinics/{clinic['id']}/ehr/sync").status_code == 403


def test_patient_sync_only_in_clinics_with_upload_reports(redox, server, admin, clinic, db, plain_user):
    patient, doc_id = subscribe(redox, server, admin, clinic)
    set_ehr(server, clinic["id"], redox_settings(scheduledReports={"cadence": "14d", "onUploadEnabled": False}))
    assert server.post(f"/v1/patients/{patient['id']}/ehr/sync").status_code == 202
    assert db.scheduledSummaryAndReportsOrders.count_documents({}) == 0
    set_ehr(server, clinic["id"], redox_settings())
    assert server.post(f"/v1/patients/{patient['id']}/ehr/sync").status_code == 202
    assert server.post("/v1/patients/0000000000/ehr/sync").status_code == 202
    assert db.scheduledSummaryAndReportsOrders.count_documents({}) == 1
    assert plain_user.post(f"/v1/patients/{patient['id']}/ehr/sync").status_code == 403


def test_sync_of_a_vanished_order_has_no_order(redox, server, admin, clinic, db):
    patient, doc_id = subscribe(redox, server, admin, clinic)
    db.redox.delete_many({})
    assert server.post(f"/v1/clinics/{clinic['id']}/ehr/sync").status_code == 202
    doc = db.scheduledSummaryAndReportsOrders.find_one()
    assert doc["userId"] == patient["id"] and "lastMatchedOrder" not in doc and "precedingDocument" not in doc


# --- the reference's Redox integration scenario, in order ---------------------------------------------

def test_redox_scenario(services, monkeypatch, anonymous, server, admin, db):
    configure(services, monkeypatch, redox_verification_token=REDOX_TOKEN)
    clinic = admin.post("/v1/clinics", json=CLINIC_BODY).json()                      # 1
    set_ehr(server, clinic["id"], redox_settings())                                  # 2
    patient = add_patient(admin, clinic["id"], email="redox@tidepool.org")           # 3
    found = admin.get(f"/v1/clinics/{clinic['id']}/patients?search=0000000001").json()  # 4
    assert found["meta"]["count"] == 1 and found["data"][0]["birthDate"] == "2008-01-06"
    assert anonymous.post("/v1/redox", content=json.dumps(new_order()).encode(), headers=HEADERS).status_code == 200
    doc_id = str(db.redox.find_one({"meta.Logs.ID": LOG_ID})["_id"])                 # 5
    resp = server.post("/v1/redox/match", json=match_body(doc_id, ["DOB_FULLNAME"]))  # 6
    assert [(p["mrn"], p["fullName"]) for p in resp.json()["patients"]] == [("0000000001", "Timothy Bixby")]
    assert subscription(db, clinic["id"], patient["id"]) is None
    resp = server.post("/v1/redox/match", json=match_body(doc_id, ["MRN_DOB"], "ENABLE_REPORTS"))  # 7
    assert len(resp.json()["patients"]) == 1
    subs = db.patients.find_one({"userId": patient["id"]})["ehrSubscriptions"]
    assert list(subs) == ["summaryAndReports"] and subs["summaryAndReports"]["active"] is True
    assert subs["summaryAndReports"]["provider"] == "redox"
    assert server.post(f"/v1/clinics/{clinic['id']}/ehr/sync").status_code == 202   # 8
    scheduled = db.scheduledSummaryAndReportsOrders
    assert scheduled.count_documents({"userId": patient["id"], "precedingDocument._id": {"$exists": False}}) == 1
    assert server.post(f"/v1/patients/{patient['id']}/ehr/sync").status_code == 202  # 9
    doc = scheduled.find_one({"userId": patient["id"], "precedingDocument._id": {"$exists": True}})
    assert doc["clinicId"] == ObjectId(clinic["id"]) and doc["createdTime"] == NOW
    assert doc["lastMatchedOrder"]["message"]["Order"]["ID"] == "157968300"
    first = scheduled.find_one({"precedingDocument": {"$exists": False}})
    assert doc["precedingDocument"] == {"_id": first["_id"], "createdTime": first["createdTime"]}
    resp = server.post(f"/v1/patients/{patient['id']}/summary", json=cgm_summary())  # 10
    assert resp.status_code == 200, resp.text
    assert admin.delete(f"/v1/clinics/{clinic['id']}/patients/{patient['id']}").status_code == 204  # 11


# --- the subscription's optimistic lock ----------------------------------------------------------------

class _StalePatients:
    """The patients collection as a concurrent writer makes it look: the first `stale` reads
    return an updatedTime that is no longer stored."""

    def __init__(self, collection, stale):
        self.collection, self.stale = collection, stale

    def find_one(self, *args, **kwargs):
        doc = self.collection.find_one(*args, **kwargs)
        if doc is not None and self.stale > 0:
            self.stale -= 1
            doc["updatedTime"] = NOW.replace(year=2000)
        return doc

    def update_one(self, *args, **kwargs):
        return self.collection.update_one(*args, **kwargs)


class _RacyDb(dict):
    def __init__(self, db, stale):
        super().__init__()
        self.db, self.patients = db, _StalePatients(db.patients, stale)

    def __getitem__(self, name):
        return self.patients if name == "patients" else self.db[name]


@pytest.mark.parametrize("stale,status", [(1, None), (5, 409)])
def test_subscription_update_retries_a_lost_race(admin, clinic, db, stale, status):
    from clinic_api.errors import Conflict
    from clinic_api.store import ehr

    patient = add_patient(admin, clinic["id"])
    matched = {"id": ObjectId(), "dataModel": "Order", "eventType": "New"}
    racy = _RacyDb(db, stale)
    if status is None:
        sub = ehr.update_subscription(racy, clinic["id"], patient["id"], "summaryAndReports", "redox", True, matched,
                                      now=NOW)
        assert sub["active"] is True and subscription(db, clinic["id"], patient["id"]) == sub
    else:
        with pytest.raises(Conflict):
            ehr.update_subscription(racy, clinic["id"], patient["id"], "summaryAndReports", "redox", True, matched)
        assert subscription(db, clinic["id"], patient["id"]) is None
