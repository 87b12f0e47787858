"""Clinic settings: EHR, MRN and patient-count limits (success and error paths). The reference's
patient-count scenarios are in test_clinic_scenarios.py."""
import datetime as dt

import pytest
from clinic_helpers import (BARE_NOT_FOUND, BAD_ID_MESSAGE, CLINIC_NOT_FOUND, EHR_BODY, UNKNOWN_ID, UTC,
                            body_schema_error, comparable, seed_clinic, stored)

XEALTH_BODY = {"enabled": True, "provider": "xealth", "sourceId": "artificialhealthcare", "mrnIdType": "enterprise",
               "procedureCodes": {"createAccountAndEnableReports": "100"},
               "scheduledReports": {"cadence": "DISABLED", "onUploadEnabled": False}, "tags": {},
               "flowsheets": {"icode": True}}


@pytest.fixture
def us_clinic(admin, db):
    resp = admin.post("/v1/clinics", json={"name": "US Clinic", "preferredBgUnits": "mg/dL", "country": "US"})
    assert resp.status_code == 200
    return resp.json()


# --- EHR -----------------------------------------------------------------------------------------

def test_ehr_settings_are_404_until_set(member, server, clinic):
    for caller in (member, server):
        resp = caller.get(f"/v1/clinics/{clinic['id']}/settings/ehr")
        assert (resp.status_code, resp.json()) == (404, BARE_NOT_FOUND)


def test_update_ehr_settings_redox(server, member, clinic, db):
    url = f"/v1/clinics/{clinic['id']}/settings/ehr"
    resp = server.put(url, json=EHR_BODY)
    assert resp.status_code == 200
    expected = {"destinationIds": {"flowsheet": "f-1", "notes": "n-1", "results": "r-1"}, "enabled": True,
                "flowsheets": {"icode": False}, "mrnIdType": "MR",
                "procedureCodes": {"enableSummaryReports": "49086-2"},
                "provider": "redox",
                "scheduledReports": {"cadence": "14d", "onUploadEnabled": True, "onUploadNoteEventType": "Replace"},
                "sourceId": EHR_BODY["sourceId"], "tags": {"codes": ["PATIENT_TAGS"], "separator": ","}}
    assert resp.json() == expected and list(resp.json()) == list(expected)
    assert stored(db, clinic["id"])["ehrSettings"] == {
        "enabled": True, "provider": "redox", "destinationIds": {"flowsheet": "f-1", "notes": "n-1", "results": "r-1"},
        "procedureCodes": {"enableSummaryReports": "49086-2"}, "sourceId": EHR_BODY["sourceId"], "mrnIdType": "MR",
        "scheduledReports": {"cadence": "14d", "onUploadEnabled": True, "onUploadNoteEventType": "Replace"},
        "tags": {"codes": ["PATIENT_TAGS"], "separator": ","}, "flowsheets": {}, "notes": {}}
    assert member.get(url).json() == expected


def test_update_ehr_settings_xealth(server, clinic, db):
    resp = server.put(f"/v1/clinics/{clinic['id']}/settings/ehr", json=XEALTH_BODY)
    assert resp.status_code == 200
    assert resp.json() == {"enabled": True, "flowsheets": {"icode": True}, "mrnIdType": "enterprise",
                           "procedureCodes": {"createAccountAndEnableReports": "100"}, "provider": "xealth",
                           "scheduledReports": {"cadence": "DISABLED", "onUploadEnabled": False},
                           "sourceId": "artificialhealthcare", "tags": {"codes": None}}
    ehr = stored(db, clinic["id"])["ehrSettings"]
    assert ehr["destinationIds"] is None and ehr["flowsheets"] == {"icode": True}
    assert ehr["scheduledReports"] == {"cadence": "DISABLED", "onUploadEnabled": False, "onUploadNoteEventType": None}
    assert ehr["tags"] == {"codes": None, "separator": None} and ehr["notes"] == {}


def test_ehr_upload_note_type_defaults_to_new_and_gmi_notes_show(server, clinic, db):
    body = {**EHR_BODY, "scheduledReports": {"cadence": "7d", "onUploadEnabled": True}, "notes": {"includeGMI": True}}
    got = server.put(f"/v1/clinics/{clinic['id']}/settings/ehr", json=body).json()
    assert got["scheduledReports"] == {"cadence": "7d", "onUploadEnabled": True, "onUploadNoteEventType": "New"}
    assert got["notes"] == {"includeGMI": True}
    assert list(got) == ["destinationIds", "enabled", "flowsheets", "mrnIdType", "notes", "procedureCodes",
                         "provider", "scheduledReports", "sourceId", "tags"]
    assert stored(db, clinic["id"])["ehrSettings"]["notes"] == {"includeGmi": True}


def test_stored_ehr_settings_get_the_reference_defaults(server, db):
    cid = seed_clinic(db, ehrSettings={"enabled": False, "provider": "redox", "mrnIdType": "", "sourceId": "s",
                                       "scheduledReports": {"cadence": "", "onUploadEnabled": False}})
    got = server.get(f"/v1/clinics/{cid}/settings/ehr").json()
    assert got == {"enabled": False, "flowsheets": {"icode": False}, "mrnIdType": "MRN", "procedureCodes": {},
                   "provider": "redox", "scheduledReports": {"cadence": "14d", "onUploadEnabled": False},
                   "sourceId": "s", "tags": {"codes": None}}


@pytest.mark.parametrize("change,pointer,reason", [
    ({"provider": ...}, "/provider", 'property "provider" is missing'),
    ({"provider": "epic"}, "/provider", "value is not one of the allowed values [\"xealth\",\"redox\"]"),
    ({"scheduledReports": {"cadence": "2d", "onUploadEnabled": False}}, "/scheduledReports/cadence",
     "value is not one of the allowed values [\"1d\",\"7d\",\"14d\",\"30d\",\"DISABLED\"]"),
    ({"scheduledReports": {"cadence": "1d", "onUploadEnabled": True, "onUploadNoteEventType": "Append"}},
     "/scheduledReports/onUploadNoteEventType", "value is not one of the allowed values [\"New\",\"Replace\"]"),
    ({"destinationIds": {"flowsheet": "f", "results": "r"}}, "/destinationIds/notes", 'property "notes" is missing'),
    ({"mrnIdType": ""}, "/mrnIdType", "minimum string length is 1"),
    ({"flowsheets": {}}, "/flowsheets/icode", 'property "icode" is missing'),
    ({"enabled": "true"}, "/enabled", "value must be a boolean"),
    ({"tags": {"codes": "A"}}, "/tags/codes", "value must be an array"),
])
def test_update_ehr_settings_refuses_bad_bodies(server, clinic, db, change, pointer, reason):
    body = {k: v for k, v in {**EHR_BODY, **change}.items() if v is not ...}
    before = comparable(stored(db, clinic["id"]))
    resp = server.put(f"/v1/clinics/{clinic['id']}/settings/ehr", json=body)
    assert (resp.status_code, resp.json()) == (400, body_schema_error("ehrSettings.v1", pointer, reason))
    assert comparable(stored(db, clinic["id"])) == before


def test_update_ehr_settings_refuses_an_empty_body(server, clinic, db):
    # The reference would store settings with no provider; we ask for a body (documented in the spec).
    resp = server.put(f"/v1/clinics/{clinic['id']}/settings/ehr")
    assert (resp.status_code, resp.json()) == (400, {"message": "request body has an error: value is required but "
                                                                "missing"})
    assert "ehrSettings" not in stored(db, clinic["id"])


def test_ehr_settings_of_unknown_clinic(server, db):
    url = f"/v1/clinics/{UNKNOWN_ID}/settings/ehr"
    assert (server.get(url).status_code, server.get(url).json()) == (404, CLINIC_NOT_FOUND)
    resp = server.put(url, json=EHR_BODY)
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)
    resp = server.put("/v1/clinics/abc/settings/ehr", json=EHR_BODY)
    assert (resp.status_code, resp.json()) == (400, {"message": BAD_ID_MESSAGE})


# --- MRN -----------------------------------------------------------------------------------------

def test_mrn_settings(server, member, clinic, db):
    url = f"/v1/clinics/{clinic['id']}/settings/mrn"
    assert (member.get(url).status_code, member.get(url).json()) == (404, BARE_NOT_FOUND)
    resp = server.put(url, json={"required": True, "unique": False})
    assert (resp.status_code, resp.content) == (200, b'{"required":true,"unique":false}\n')
    assert stored(db, clinic["id"])["mrnSettings"] == {"required": True, "unique": False}
    assert member.get(url).json() == {"required": True, "unique": False}


def test_mrn_settings_with_an_empty_body_are_both_false(server, clinic, db):
    resp = server.put(f"/v1/clinics/{clinic['id']}/settings/mrn")
    assert (resp.status_code, resp.json()) == (200, {"required": False, "unique": False})
    assert stored(db, clinic["id"])["mrnSettings"] == {"required": False, "unique": False}


@pytest.mark.parametrize("body,pointer,reason", [
    ({"required": True}, "/unique", 'property "unique" is missing'),
    ({"required": "yes", "unique": False}, "/required", "value must be a boolean"),
    ({"required": None, "unique": False}, "/required", "Value is not nullable"),
])
def test_update_mrn_settings_refuses_bad_bodies(server, clinic, db, body, pointer, reason):
    before = comparable(stored(db, clinic["id"]))
    resp = server.put(f"/v1/clinics/{clinic['id']}/settings/mrn", json=body)
    assert (resp.status_code, resp.json()) == (400, body_schema_error("mrnSettings.v1", pointer, reason))
    assert comparable(stored(db, clinic["id"])) == before


def test_mrn_settings_of_unknown_clinic(server, db):
    url = f"/v1/clinics/{UNKNOWN_ID}/settings/mrn"
    assert (server.get(url).status_code, server.get(url).json()) == (404, CLINIC_NOT_FOUND)
    resp = server.put(url, json={"required": True, "unique": True})
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)


# --- patient-count limits ------------------------------------------------------------------------

def test_a_new_us_clinic_has_the_default_hard_limit(member, server, db, us_clinic):
    # `member` belongs to the `clinic` fixture; the US clinic's admin reads its own.
    resp = server.get(f"/v1/clinics/{us_clinic['id']}/settings/patient_count")
    assert (resp.status_code, resp.content) == (200, b'{"hardLimit":{"plan":250}}\n')


def test_update_patient_count_settings(server, admin, us_clinic, db):
    url = f"/v1/clinics/{us_clinic['id']}/settings/patient_count"
    body = {"hardLimit": {"plan": 10, "startDate": "2024-01-01T02:00:00.123456+02:00",
                          "endDate": "2025-01-01T00:00:00Z"},
            "softLimit": {"plan": 5, "endDate": "2025-06-30T23:59:59.5Z"}}
    resp = server.put(url, json=body)
    expected = {"hardLimit": {"endDate": "2025-01-01T00:00:00Z", "plan": 10, "startDate": "2024-01-01T00:00:00.123Z"},
                "softLimit": {"endDate": "2025-06-30T23:59:59.5Z", "plan": 5}}
    assert (resp.status_code, resp.json()) == (200, expected)
    assert list(resp.json()["hardLimit"]) == ["endDate", "plan", "startDate"]
    settings = stored(db, us_clinic["id"])["patientCountSettings"]
    assert settings == {"hardLimit": {"plan": 10, "startDate": dt.datetime(2024, 1, 1, 0, 0, 0, 123000, tzinfo=UTC),
                                      "endDate": dt.datetime(2025, 1, 1, tzinfo=UTC)},
                        "softLimit": {"plan": 5, "endDate": dt.datetime(2025, 6, 30, 23, 59, 59, 500000, tzinfo=UTC)}}
    assert admin.get(url).json() == expected


def test_a_limit_may_start_when_it_ends(server, us_clinic):
    body = {"hardLimit": {"plan": 0, "startDate": "2024-01-01T00:00:00Z", "endDate": "2024-01-01T00:00:00Z"}}
    resp = server.put(f"/v1/clinics/{us_clinic['id']}/settings/patient_count", json=body)
    assert resp.status_code == 200 and resp.json()["hardLimit"]["plan"] == 0


def test_an_empty_body_removes_every_limit(server, us_clinic, db):
    resp = server.put(f"/v1/clinics/{us_clinic['id']}/settings/patient_count")
    assert (resp.status_code, resp.json()) == (200, {})
    assert stored(db, us_clinic["id"])["patientCountSettings"] == {}


@pytest.mark.parametrize("body,message", [
    ({"hardLimit": {"plan": 1, "startDate": "2024-02-01T00:00:00Z", "endDate": "2024-01-01T00:00:00Z"}},
     "bad request"),
    ({"softLimit": {"plan": 1, "startDate": "2024-02-01T00:00:00Z", "endDate": "2024-01-31T23:59:59.999Z"}},
     "bad request"),
    ({"hardLimit": {"plan": 1, "startDate": "2024-01-01T00:00:00"}},  # no offset: the reference stores year 1
     "bad request: startDate is not an RFC 3339 date-time with a time zone offset"),
    ({"softLimit": {"plan": 1, "endDate": "0001-01-01T00:00:00+01:00"}},  # before year 1
     "bad request: endDate is not an RFC 3339 date-time with a time zone offset"),
])
def test_update_patient_count_settings_refuses_bad_dates(server, us_clinic, db, body, message):
    before = comparable(stored(db, us_clinic["id"]))
    resp = server.put(f"/v1/clinics/{us_clinic['id']}/settings/patient_count", json=body)
    assert (resp.status_code, resp.json()) == (400, {"message": message})
    assert comparable(stored(db, us_clinic["id"])) == before


@pytest.mark.parametrize("body,pointer,reason", [
    ({"hardLimit": {"plan": -1}}, "/hardLimit/plan", "number must be at least 0"),
    ({"softLimit": {"plan": 1.5}}, "/softLimit/plan", "value must be an integer"),
    ({"hardLimit": {"startDate": "2024-01-01T00:00:00Z"}}, "/hardLimit/plan", 'property "plan" is missing'),
    ({"hardLimit": 250}, "/hardLimit", "value must be an object"),
])
def test_update_patient_count_settings_refuses_bad_bodies(server, us_clinic, db, body, pointer, reason):
    before = comparable(stored(db, us_clinic["id"]))
    resp = server.put(f"/v1/clinics/{us_clinic['id']}/settings/patient_count", json=body)
    assert (resp.status_code, resp.json()) == (400, body_schema_error("patientCountSettings.v1", pointer, reason))
    assert comparable(stored(db, us_clinic["id"])) == before


def test_a_malformed_date_is_refused(server, us_clinic, db):
    before = comparable(stored(db, us_clinic["id"]))
    resp = server.put(f"/v1/clinics/{us_clinic['id']}/settings/patient_count",
                      json={"hardLimit": {"plan": 1, "startDate": "next tuesday"}})
    assert resp.status_code == 400
    assert resp.json()["message"].startswith(("request body has an error: ", "bad request: startDate"))
    assert comparable(stored(db, us_clinic["id"])) == before


def test_patient_count_settings_of_unknown_clinic(server, db):
    url = f"/v1/clinics/{UNKNOWN_ID}/settings/patient_count"
    assert (server.get(url).status_code, server.get(url).json()) == (404, CLINIC_NOT_FOUND)
    resp = server.put(url, json={"hardLimit": {"plan": 10}})
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)
