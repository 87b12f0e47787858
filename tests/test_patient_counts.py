"""A clinic's patient count (GetPatientCount, RefreshPatientCount) and the tier's hard limit."""
import dataclasses
import datetime as dt

import pytest
from bson import ObjectId

from clinic_api.domain import patient_counts
from clinic_api.errors import NotFound, PaymentRequired
from patient_docs import FIXED, insert_patient, user_id
from support.access import expect_access

DEMO = "0000000d30"
NOW = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)


@pytest.fixture
def demo_services(services, monkeypatch):
    monkeypatch.setattr(services, "settings", dataclasses.replace(services.settings, demo_patient_user_id=DEMO))
    return services


def count_url(clinic):
    return f"/v1/clinics/{clinic['id']}/patient_count"


def stored(db, clinic):
    return db.clinics.find_one({"_id": ObjectId(clinic["id"])})


def set_clinic(db, clinic, **fields):
    db.clinics.update_one({"_id": ObjectId(clinic["id"])}, {"$set": fields})


# --- GetPatientCount -----------------------------------------------------------------------------

def test_new_clinic_counts_zero(admin, clinic):
    resp = admin.get(count_url(clinic))
    assert (resp.status_code, resp.json()) == (200, {"demo": 0, "plan": 0, "total": 0})
    assert resp.content == b'{"demo":0,"plan":0,"total":0}\n'


def test_stored_count_is_returned_as_stored(admin, clinic, db):
    insert_patient(db, clinic["id"], user_id(1))
    set_clinic(db, clinic, patientCount={"plan": 10}, updatedTime=FIXED)
    assert admin.get(count_url(clinic)).json() == {"demo": 0, "plan": 10, "total": 0}
    assert stored(db, clinic)["updatedTime"] == FIXED  # no refresh


@pytest.mark.parametrize("stored_count", [{"patientCount": 15}, None])
def test_legacy_or_missing_count_is_refreshed(admin, clinic, db, demo_services, stored_count):
    for n in range(8):
        insert_patient(db, clinic["id"], user_id(n))
    insert_patient(db, clinic["id"], DEMO)
    insert_patient(db, ObjectId(), DEMO)
    for n, state in ((10, "connected"), (11, "connected"), (12, "disconnected")):
        insert_patient(db, clinic["id"], user_id(n), dataSources=[{"providerName": "acme", "state": state}])
    insert_patient(db, clinic["id"], user_id(13), dataSources=[{"providerName": "twiist", "state": "connected"}])
    if stored_count is None:
        db.clinics.update_one({"_id": ObjectId(clinic["id"])}, {"$unset": {"patientCount": ""}})
    else:
        set_clinic(db, clinic, patientCount=stored_count)
    expected = {"demo": 1, "plan": 11, "providers": {"acme": {"states": {"connected": 2, "disconnected": 1},
                                                              "total": 3},
                                                    "twiist": {"states": {"connected": 1}, "total": 1}}, "total": 13}
    resp = admin.get(count_url(clinic))
    assert resp.json() == expected
    assert list(resp.json()) == ["demo", "plan", "providers", "total"]
    assert stored(db, clinic)["patientCount"] == {
        "total": 13, "demo": 1, "plan": 11,
        "providers": {"acme": {"states": {"connected": 2, "disconnected": 1}, "total": 3},
                      "twiist": {"states": {"connected": 1}, "total": 1}}}


def test_get_unknown_clinic(server):
    resp = server.get(f"/v1/clinics/{'a' * 24}/patient_count")
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})


def test_get_access(request, clinic):
    expect_access(request, lambda api: api.get(count_url(clinic)), {"server": 200, "admin": 200, "member": 200})


# --- RefreshPatientCount ---------------------------------------------------------------------------

def test_refresh_stores_the_counts(server, clinic, db):
    set_clinic(db, clinic, updatedTime=FIXED)
    for n in range(5):
        sources = [{"providerName": "twiist", "state": "disconnected"}] if n < 2 else []
        insert_patient(db, clinic["id"], user_id(n), dataSources=sources)
    resp = server.post(f"{count_url(clinic)}/refresh")
    assert (resp.status_code, resp.content) == (200, b"")
    doc = stored(db, clinic)
    assert doc["patientCount"] == {"total": 5, "demo": 0, "plan": 3,
                                   "providers": {"twiist": {"states": {"disconnected": 2}, "total": 2}}}
    assert doc["updatedTime"] > FIXED


def test_refresh_unknown_clinic(server):
    resp = server.post(f"/v1/clinics/{'a' * 24}/patient_count/refresh")
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})


def test_refresh_access(request, clinic):
    expect_access(request, lambda api: api.post(f"{count_url(clinic)}/refresh"), {"server": 200})


def test_counts_as_patients_arrive(server, admin, clinic, db, demo_services):
    """The reference's manager scenario: counts after each new patient."""
    def counts():
        server.post(f"{count_url(clinic)}/refresh")
        return admin.get(count_url(clinic)).json()

    assert counts() == {"demo": 0, "plan": 0, "total": 0}
    insert_patient(db, clinic["id"], user_id(1), dataSources=[])
    assert counts() == {"demo": 0, "plan": 1, "total": 1}
    insert_patient(db, clinic["id"], DEMO)
    assert counts() == {"demo": 1, "plan": 1, "total": 2}
    insert_patient(db, clinic["id"], user_id(2), dataSources=[{"providerName": "twiist", "state": "disconnected"}])
    twiist = {"twiist": {"states": {"disconnected": 1}, "total": 1}}
    assert counts() == {"demo": 1, "plan": 1, "providers": twiist, "total": 3}
    insert_patient(db, clinic["id"], user_id(3))
    assert counts() == {"demo": 1, "plan": 2, "providers": twiist, "total": 4}


def test_compute_for_unknown_or_invalid_clinic(db):
    assert patient_counts.compute(db, ObjectId(), "") == {"total": 0, "demo": 0, "plan": 0}
    assert patient_counts.compute(db, "not-an-id", "") == {"total": 0, "demo": 0, "plan": 0}


def test_demo_patient_is_not_counted_in_providers(db, demo_services):
    clinic_oid = ObjectId()
    insert_patient(db, clinic_oid, DEMO, dataSources=[{"providerName": "dexcom", "state": "connected"}])
    insert_patient(db, clinic_oid, user_id(1), dataSources=[{"providerName": "dexcom", "state": "connected"},
                                                             {"providerName": "dexcom", "state": "error"}])
    assert patient_counts.compute(db, clinic_oid, DEMO) == {
        "total": 2, "demo": 1, "plan": 1, "providers": {"dexcom": {"states": {"connected": 1, "error": 1}, "total": 2}}}


def test_refresh_in_a_session_for_other_families(services, clinic, db):
    from clinic_api.store import tx
    insert_patient(db, clinic["id"], user_id(1))
    counts = tx.run(services.store, lambda s: patient_counts.refresh(services, clinic["id"], session=s))
    assert counts == {"total": 1, "demo": 0, "plan": 1}
    with pytest.raises(NotFound):
        patient_counts.refresh(services, "a" * 24)


# --- the hard limit (called by custodial patient creation) -------------------------------------------

def clinic_doc(**fields):
    return {"_id": ObjectId(), "patientCount": {"total": 0, "demo": 0, "plan": 2},
            "patientCountSettings": {"hardLimit": {"plan": 2}}, **fields}


@pytest.mark.parametrize("fields", [
    {}, {"country": "US"}, {"country": ""}, {"tier": "tier0100"},
    {"patientCountSettings": {"hardLimit": {"plan": 0, "patientCount": 2}}},
    {"patientCountSettings": {"hardLimit": {"plan": 2, "startDate": NOW, "endDate": NOW}}},
    {"patientCount": {"total": 9, "demo": 0, "plan": 3}},
])
def test_limit_reached(services, fields):
    with pytest.raises(PaymentRequired) as err:
        patient_counts.enforce_limit(services, clinic_doc(**fields), now=NOW)
    assert (err.value.status, err.value.message) == (402, "payment required: patient count exceeds limit")


@pytest.mark.parametrize("fields", [
    {"country": "USA"}, {"country": "CA"}, {"tier": "tier0200"},
    {"patientCountSettings": {}}, {"patientCountSettings": {"softLimit": {"plan": 1}}},
    {"patientCountSettings": {"hardLimit": {"plan": 3}}},
    {"patientCountSettings": {"hardLimit": {"plan": 2, "startDate": NOW + dt.timedelta(seconds=1)}}},
    {"patientCountSettings": {"hardLimit": {"plan": 2, "endDate": NOW - dt.timedelta(seconds=1)}}},
    {"patientCount": {"total": 9, "demo": 5, "plan": 1}},
])
def test_limit_not_applied(services, fields):
    patient_counts.enforce_limit(services, clinic_doc(**fields), now=NOW)


def test_limit_uses_a_fresh_count_when_the_stored_one_is_legacy(services, db, clinic):
    for n in range(2):
        insert_patient(db, clinic["id"], user_id(n))
    set_clinic(db, clinic, country="US", patientCount={"patientCount": 0},
               patientCountSettings={"hardLimit": {"plan": 2}})
    with pytest.raises(PaymentRequired):
        patient_counts.enforce_limit(services, stored(db, clinic), now=NOW)
    assert stored(db, clinic)["patientCount"] == {"total": 2, "demo": 0, "plan": 2}


def test_resolved_settings_are_shared_with_the_settings_handlers(admin, server, clinic, db):
    from clinic_api.domain import clinic_settings
    assert clinic_settings.resolved_count_settings is patient_counts.resolved_count_settings
    set_clinic(db, clinic, country="US")
    assert admin.get(f"/v1/clinics/{clinic['id']}/settings/patient_count").json() == {"hardLimit": {"plan": 250}}
    set_clinic(db, clinic, patientCountSettings={"hardLimit": {"patientCount": 10}, "softLimit": {"plan": 5}})
    assert admin.get(f"/v1/clinics/{clinic['id']}/settings/patient_count").json() == {
        "hardLimit": {"plan": 10}, "softLimit": {"plan": 5}}
