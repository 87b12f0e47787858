"""Shared set-up of the Redox and Xealth tests: EHR settings, patients, configured integrations,
a fixed clock, and our own (not the reference's) message fixtures."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt

REDOX_TOKEN = "redox-token"
XEALTH_TOKEN = "xealth-token"
APP_URL = "https://integration.test.app.url.com"
SOURCE_ID = "7ce6f387-c33c-417d-8682-81e83628cbd9"
LOG_ID = "d9f5d293-7110-461e-a875-3beb089e79f3"
# Far ahead: the embedded store applies TTL indexes (scheduled orders after 90 days, restricted
# tokens at expiry) against the wall clock, so documents stamped with this clock must not expire.
NOW = dt.datetime(2099, 2, 1, 12, 30, 0, tzinfo=dt.timezone.utc)


def configure(services, monkeypatch, **changes):
    """Swap the app's settings for this test (restored after it), and fix the clock."""
    monkeypatch.setattr(services, "settings", dataclasses.replace(services.settings, **changes))
    monkeypatch.setattr(services, "clock", lambda: NOW)


def redox_settings(**over) -> dict:
    body = {"enabled": True, "provider": "redox", "sourceId": SOURCE_ID, "mrnIdType": "MR",
            "procedureCodes": {"enableSummaryReports": "49086-2"},
            "destinationIds": {"flowsheet": "dest-1", "notes": "dest-1", "results": "dest-1"},
            "scheduledReports": {"cadence": "14d", "onUploadEnabled": True, "onUploadNoteEventType": "Replace"},
            "tags": {"codes": ["PATIENT_TAGS"], "separator": ","}, "flowsheets": {"icode": False}}
    body.update(over)
    return body


def xealth_settings(**over) -> dict:
    body = {"enabled": True, "provider": "xealth", "sourceId": "artificialhealthcare", "mrnIdType": "enterprise",
            "procedureCodes": {"createAccountAndEnableReports": "100"},
            "scheduledReports": {"cadence": "DISABLED", "onUploadEnabled": False}, "tags": {},
            "flowsheets": {"icode": True}}
    body.update(over)
    return body


def set_ehr(server, clinic_id: str, body: dict) -> None:
    resp = server.put(f"/v1/clinics/{clinic_id}/settings/ehr", json=body)
    assert resp.status_code == 200, resp.text


def add_patient(admin, clinic_id: str, **fields) -> dict:
    body = {"fullName": "Timothy Bixby", "birthDate": "2008-01-06", "mrn": "0000000001"}
    body.update(fields)
    resp = admin.post(f"/v1/clinics/{clinic_id}/patients", json=body)
    assert resp.status_code == 200, resp.text
    return resp.json()


SUMMARY_CONFIG = {"schemaVersion": 5, "highGlucoseThreshold": 10, "veryHighGlucoseThreshold": 13.9,
                  "lowGlucoseThreshold": 3.9, "veryLowGlucoseThreshold": 3}


def cgm_summary(last_data="2024-01-17T06:38:22.958Z", last_updated="2024-01-18T09:44:11.17Z",
                last_upload="2024-01-17T09:40:07.939Z") -> dict:
    dates = {"hasFirstData": True, "hasLastData": True, "hasLastUploadDate": True, "hasOutdatedSince": False,
             "firstData": "2024-01-01T00:00:00Z", "lastData": last_data, "lastUpdatedDate": last_updated,
             "lastUploadDate": last_upload}
    return {"cgmStats": {"id": "65a1b2c3d4e5f60718293a4c", "config": SUMMARY_CONFIG, "dates": dates}}


NEW_ORDER = {
    "Meta": {"DataModel": "Order", "EventType": "New", "EventDateTime": "2024-05-31T17:56:44.520Z", "Test": True,
             "Source": {"ID": SOURCE_ID, "Name": "Redox test tools"},
             "Destinations": [{"ID": "dest-1", "Name": "Test EMR"}],
             "Logs": [{"ID": LOG_ID, "AttemptID": "attempt-1"}], "FacilityCode": None},
    "Patient": {"Identifiers": [{"ID": "0000000001", "IDType": "MR"}, {"ID": "ehr-42", "IDType": "EHRID"}],
                "Demographics": {"FirstName": "Timothy", "MiddleName": "Paul", "LastName": "Bixby",
                                 "DOB": "2008-01-06", "Sex": "Male"}},
    "Visit": {"VisitNumber": "1234"},
    "Order": {"ID": "157968300", "Procedure": {"Code": "49086-2"}},
}


def new_order(**patient_changes) -> dict:
    order = copy.deepcopy(NEW_ORDER)
    order["Patient"].update(patient_changes)
    return order
