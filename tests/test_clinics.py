"""Clinics: CreateClinic, GetClinic, GetClinicByShareCode, ListClinics (success and error paths).
Update and delete are in test_clinic_updates.py, authorization in test_clinics_authz.py."""
import datetime as dt

import pytest
from bson import ObjectId
from clinic_helpers import (BAD_ID_MESSAGE, BARE_NOT_FOUND, CLINIC_KEYS, CLINIC_NOT_FOUND, SHARE_CODE, T0, UNKNOWN_ID,
                            UTC, assert_wire_time, body_schema_error, seed_clinic, seed_patient, stored)
from conftest import ADMIN_ID, CLINIC_BODY

from clinic_api.store import clinics as clinics_store


# --- CreateClinic ------------------------------------------------------------------------------

def test_create_answers_the_clinic_in_the_reference_key_order(admin, db):
    resp = admin.post("/v1/clinics", json=CLINIC_BODY)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json" and resp.content.endswith(b"}\n")
    body = resp.json()
    doc = stored(db, body["id"])
    assert list(body) == [k for k in CLINIC_KEYS if k in body]  # the values: below
    assert body == {
        "address": "1 Todd's Way", "canMigrate": False, "city": "San Francisco", "clinicSize": "0-249",
        "clinicType": "provider_practice", "country": "USA", "createdTime": body["createdTime"],
        "id": str(doc["_id"]), "name": "Todd's Clinic", "phoneNumbers": [{"number": "+15551115555"}],
        "postalCode": "90210", "preferredBgUnits": "mg/dL", "shareCode": doc["canonicalShareCode"],
        "state": "California", "tier": "tier0100", "tierDescription": "Free", "timezone": "US/Pacific",
        "updatedTime": body["updatedTime"], "website": "http://www.test.com"}
    assert_wire_time(body["createdTime"], doc["createdTime"])
    assert_wire_time(body["updatedTime"], doc["updatedTime"])
    assert SHARE_CODE.match(body["shareCode"])


def test_create_stores_the_reference_document(admin, db):
    body = admin.post("/v1/clinics", json=CLINIC_BODY).json()
    doc = stored(db, body["id"])
    assert list(doc) == ["_id", "address", "city", "clinicType", "clinicSize", "country", "name", "phoneNumbers",
                         "postalCode", "state", "canonicalShareCode", "website", "shareCodes", "admins",
                         "createdTime", "updatedTime", "isMigrated", "PreferredBgUnits", "timezone",
                         "patientCountSettings", "patientCount", "patientTallies"]
    assert isinstance(doc["_id"], ObjectId)
    assert doc["patientTallies"] == {"tags": {}, "sites": {}}  # ours, after the reference's fields
    assert doc["PreferredBgUnits"] == "mg/dL"
    assert doc["admins"] == [ADMIN_ID]
    assert doc["isMigrated"] is True
    assert doc["patientCountSettings"] == {"hardLimit": {"plan": 250}}
    assert doc["patientCount"] == {"total": 0, "demo": 0, "plan": 0}
    assert doc["shareCodes"] == [doc["canonicalShareCode"]] == [body["shareCode"]]
    assert doc["phoneNumbers"] == [{"number": "+15551115555"}]
    assert doc["timezone"] == "US/Pacific"
    assert isinstance(doc["createdTime"], dt.datetime) and doc["createdTime"] == doc["updatedTime"]
    assert doc["createdTime"].microsecond % 1000 == 0


def test_create_with_a_minimal_body_writes_null_phone_numbers_and_timezone(admin, db):
    body = admin.post("/v1/clinics", json={"name": "Tiny", "preferredBgUnits": "mmol/L"}).json()
    doc = stored(db, body["id"])
    assert "phoneNumbers" in doc and doc["phoneNumbers"] is None
    assert "timezone" in doc and doc["timezone"] is None
    assert doc["PreferredBgUnits"] == "mmol/L"
    assert not {"address", "city", "country", "website", "clinicType", "clinicSize", "tier"} & set(doc)
    assert list(body) == ["canMigrate", "createdTime", "id", "name", "preferredBgUnits", "shareCode", "tier",
                          "tierDescription", "updatedTime"]
    assert body["preferredBgUnits"] == "mmol/L"


def test_create_with_an_empty_body_makes_a_nameless_mg_dl_clinic(admin, db):
    resp = admin.post("/v1/clinics")
    assert resp.status_code == 200
    body = resp.json()
    assert (body["name"], body["preferredBgUnits"], body["tier"]) == ("", "mg/dL", "tier0100")
    doc = stored(db, body["id"])
    assert doc["name"] == "" and "PreferredBgUnits" not in doc
    assert doc["phoneNumbers"] is None and doc["timezone"] is None


def test_create_makes_the_creator_its_admin_clinician(admin, db):
    body = admin.post("/v1/clinics", json=CLINIC_BODY).json()
    records = list(db.clinicians.find({}))
    assert len(records) == 1
    rec = records[0]
    assert [k for k in rec if k != "_id"] == ["clinicId", "userId", "email", "name", "roles", "createdTime",
                                             "updatedTime"]
    assert rec["clinicId"] == ObjectId(body["id"])
    assert (rec["userId"], rec["email"], rec["name"], rec["roles"]) == (
        ADMIN_ID, "admin@example.com", "Ada Admin", ["CLINIC_ADMIN"])
    assert isinstance(rec["createdTime"], dt.datetime)


def test_a_creator_without_profile_name_or_email_gets_a_null_name_and_no_email(as_user, db):
    resp = as_user("5678901234").post("/v1/clinics", json={"name": "Anon", "preferredBgUnits": "mg/dL"})
    assert resp.status_code == 200
    rec = db.clinicians.find_one({"userId": "5678901234"})
    assert "name" in rec and rec["name"] is None
    assert "email" not in rec


def test_readonly_fields_in_the_body_are_ignored(admin, db):
    body = {**CLINIC_BODY, "id": UNKNOWN_ID, "shareCode": "ZZZZ-ZZZZ-ZZZZ", "tier": "tier0400",
            "tierDescription": "Enterprise", "canMigrate": True, "createdTime": "2020-01-01T00:00:00Z",
            "suppressedNotifications": {"patientClinicInvitation": True},
            "patientTags": [{"id": UNKNOWN_ID, "name": "tag"}]}
    got = admin.post("/v1/clinics", json=body).json()
    assert got["id"] != UNKNOWN_ID and got["shareCode"] != "ZZZZ-ZZZZ-ZZZZ"
    assert (got["tier"], got["canMigrate"]) == ("tier0100", False)
    assert "suppressedNotifications" not in got and "patientTags" not in got
    assert not {"tier", "suppressedNotifications", "patientTags"} & set(stored(db, got["id"]))


def test_share_code_generation_retries_a_clash(admin, db, monkeypatch):
    seed_clinic(db, canonicalShareCode="AAAA-BBBB-CCCC", shareCodes=["AAAA-BBBB-CCCC"])
    codes = iter(["AAAA-BBBB-CCCC", "DDDD-EEEE-FFFF"])
    monkeypatch.setattr(clinics_store, "new_share_code", lambda: next(codes))
    resp = admin.post("/v1/clinics", json=CLINIC_BODY)
    assert resp.status_code == 200 and resp.json()["shareCode"] == "DDDD-EEEE-FFFF"


def test_share_code_gives_up_after_100_clashes_with_409_and_writes_nothing(admin, db, monkeypatch):
    seed_clinic(db, canonicalShareCode="AAAA-BBBB-CCCC", shareCodes=["AAAA-BBBB-CCCC"])
    calls = []
    monkeypatch.setattr(clinics_store, "new_share_code", lambda: calls.append(1) or "AAAA-BBBB-CCCC")
    resp = admin.post("/v1/clinics", json=CLINIC_BODY)
    assert (resp.status_code, resp.json()) == (409, {"message": "duplicate share code"})
    assert len(calls) == 100
    assert db.clinics.count_documents({}) == 1 and db.clinicians.count_documents({}) == 0


def test_generated_share_codes_use_the_reference_alphabet():
    codes = {clinics_store.new_share_code() for _ in range(200)}
    assert all(SHARE_CODE.match(c) for c in codes) and len(codes) > 190
    assert not set("".join(codes)) & set("IO01")


@pytest.mark.parametrize("body,pointer,reason", [
    ({"name": 5, "preferredBgUnits": "mg/dL"}, "/name", "value must be a string"),
    ({"name": "x"}, "/preferredBgUnits", 'property "preferredBgUnits" is missing'),
    ({"name": "x", "preferredBgUnits": "mg/dl"}, "/preferredBgUnits",
     "value is not one of the allowed values [\"mg/dL\",\"mmol/L\"]"),
    ({**CLINIC_BODY, "clinicType": "hospital"}, "/clinicType", "value is not one of the allowed values "
     '["provider_practice","healthcare_system","veterinary_clinic","other","researcher"]'),
    ({**CLINIC_BODY, "clinicSize": 250}, "/clinicSize",  # kin-openapi checks the enum before the type
     "value is not one of the allowed values [\"0-249\",\"250-499\",\"500-999\",\"1000+\"]"),
    ({**CLINIC_BODY, "city": 7}, "/city", "value must be a string"),
    ({**CLINIC_BODY, "phoneNumbers": []}, "/phoneNumbers", "minimum number of items is 1"),
    ({**CLINIC_BODY, "phoneNumbers": [{"type": "work"}]}, "/phoneNumbers/0/number",
     'property "number" is missing'),
    ({**CLINIC_BODY, "address": ""}, "/address", "minimum string length is 1"),
    ({**CLINIC_BODY, "shareCode": "abc"}, "/shareCode", 'string doesn\'t match the regular expression '
     '"^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-'
     '[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$"'),
    ([CLINIC_BODY], "/", "value must be an object"),
])
def test_create_refuses_bad_bodies_and_writes_nothing(admin, db, body, pointer, reason):
    resp = admin.post("/v1/clinics", json=body)
    assert (resp.status_code, resp.json()) == (400, body_schema_error("clinic.v1", pointer, reason))
    assert db.clinics.count_documents({}) == 0 and db.clinicians.count_documents({}) == 0


def test_create_refuses_an_unknown_timezone(admin, db):
    resp = admin.post("/v1/clinics", json={**CLINIC_BODY, "timezone": "Mars/Olympus"})
    assert resp.status_code == 400
    assert resp.json()["message"].startswith(
        'request body has an error: doesn\'t match schema #/components/schemas/clinic.v1: Error at "/timezone": '
        "value is not one of the allowed values [")
    assert db.clinics.count_documents({}) == 0


def test_create_refuses_undecodable_json(admin, db):
    resp = admin.post("/v1/clinics", content=b'{"name": ', headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["message"].startswith("request body has an error: failed to decode request body: ")
    assert db.clinics.count_documents({}) == 0


def test_null_phone_numbers_are_accepted_as_absent(admin, db):
    resp = admin.post("/v1/clinics", json={**CLINIC_BODY, "phoneNumbers": None, "patientTags": None})
    assert resp.status_code == 200 and "phoneNumbers" not in resp.json()
    assert stored(db, resp.json()["id"])["phoneNumbers"] is None


def test_profile_completeness_needs_named_tags_with_ids():
    base = {"_id": ObjectId(), "address": "a", "city": "c", "clinicType": "other", "country": "US", "name": "n",
            "postalCode": "p", "state": "s", "PreferredBgUnits": "mg/dL", "admins": ["1"]}
    assert clinics_store.can_migrate(base)
    assert not clinics_store.can_migrate({**base, "patientTags": [{"_id": ObjectId(), "name": ""}]})
    assert not clinics_store.can_migrate({**base, "patientTags": [{"name": "no id"}]})
    assert not clinics_store.can_migrate({**base, "PreferredBgUnits": ""})


# --- GetClinic -----------------------------------------------------------------------------------

def test_get_clinic_answers_what_create_answered(admin, plain_user, clinic):
    assert admin.get(f"/v1/clinics/{clinic['id']}").json() == clinic
    resp = plain_user.get(f"/v1/clinics/{clinic['id']}")  # membership is not required
    assert (resp.status_code, resp.json()) == (200, clinic)


def test_get_clinic_unknown_and_malformed_ids(admin, db):
    resp = admin.get(f"/v1/clinics/{UNKNOWN_ID}")
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)
    resp = admin.get("/v1/clinics/not-an-id")
    assert (resp.status_code, resp.json()) == (400, {"message": BAD_ID_MESSAGE})


def test_get_clinic_renders_legacy_documents_as_the_reference(server, db):
    cid = seed_clinic(db, name=..., createdTime=..., PreferredBgUnits=..., patientTags=[], phoneNumbers=[],
                      suppressedNotifications={}, tier="tier0300", isMigrated=...)
    resp = server.get(f"/v1/clinics/{cid}")
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["canMigrate", "createdTime", "id", "name", "patientTags", "phoneNumbers",
                          "preferredBgUnits", "shareCode", "suppressedNotifications", "tier", "tierDescription",
                          "updatedTime"]
    assert body == {"canMigrate": False, "createdTime": "0001-01-01T00:00:00Z", "id": str(cid), "name": "",
                    "patientTags": None, "phoneNumbers": None, "preferredBgUnits": "mg/dL",
                    "shareCode": "ABCD-EFGH-JK23", "suppressedNotifications": {}, "tier": "tier0300",
                    "tierDescription": "Premium", "updatedTime": "2024-05-01T10:20:30.12Z"}


def test_get_clinic_counts_patients_per_tag_and_site(server, db):
    t1, t2, s1 = ObjectId(), ObjectId(), ObjectId()
    cid = seed_clinic(db, patientTags=[{"_id": t1, "name": "T1"}, {"_id": t2, "name": "T2"}],
                      sites=[{"id": s1, "name": "North"}], lastDeletedPatientTag=ObjectId())
    seed_patient(db, cid, "p1", tags=[t1], sites=[{"id": s1, "name": "North"}])
    seed_patient(db, cid, "p2", tags=[t1])
    seed_patient(db, seed_clinic(db, canonicalShareCode="XXXX-XXXX-XXXX", shareCodes=["XXXX-XXXX-XXXX"]),
                 "p3", tags=[t1, t2])
    body = server.get(f"/v1/clinics/{cid}").json()
    assert body["patientTags"] == [{"id": str(t1), "name": "T1", "numPatients": 2}, {"id": str(t2), "name": "T2"}]
    assert body["sites"] == [{"id": str(s1), "name": "North", "numPatients": 1}]
    assert "lastDeletedPatientTag" not in body
    assert "patients" not in stored(db, cid)["patientTags"][0]  # counted on read, never stored


@pytest.mark.parametrize("fields,can_migrate", [
    ({}, True),
    ({"clinicType": ...}, False),
    ({"PreferredBgUnits": ...}, False),
    ({"admins": []}, False),
    ({"isMigrated": True}, False),
    ({"patientTags": [{"_id": ObjectId(), "name": "ok"}]}, True),
])
def test_can_migrate_needs_an_unmigrated_complete_profile_with_admins(server, db, fields, can_migrate):
    profile = {"address": "1 Way", "city": "Town", "clinicType": "other", "country": "US", "postalCode": "1",
               "state": "CA", "isMigrated": ...}
    cid = seed_clinic(db, **{**profile, **fields})
    assert server.get(f"/v1/clinics/{cid}").json()["canMigrate"] is can_migrate


# --- GetClinicByShareCode ------------------------------------------------------------------------

def test_get_by_share_code(plain_user, server, clinic, db):
    for caller in (plain_user, server):
        resp = caller.get(f"/v1/clinics/share_code/{clinic['shareCode']}")
        assert (resp.status_code, resp.json()) == (200, clinic)


def test_a_superseded_share_code_finds_the_clinic_with_its_canonical_code(server, db):
    cid = seed_clinic(db, shareCodes=["ABCD-EFGH-JK23", "OLDC-ODE2-3456"])
    body = server.get("/v1/clinics/share_code/OLDC-ODE2-3456").json()
    assert (body["id"], body["shareCode"]) == (str(cid), "ABCD-EFGH-JK23")


def test_share_codes_match_exactly(server, clinic):
    resp = server.get(f"/v1/clinics/share_code/{clinic['shareCode'].lower()}")
    assert (resp.status_code, resp.json()) == (404, BARE_NOT_FOUND)
    resp = server.get("/v1/clinics/share_code/nothing")
    assert (resp.status_code, resp.json()) == (404, BARE_NOT_FOUND)


def test_a_share_code_held_by_two_clinics_is_409_not_500(server, db):
    db.clinics.drop_index("UniqueShareCodes")  # only data written around the index can do this
    seed_clinic(db, canonicalShareCode="AAAA-AAAA-AAAA", shareCodes=["AAAA-AAAA-AAAA", "SAME-SAME-2345"])
    seed_clinic(db, canonicalShareCode="BBBB-BBBB-BBBB", shareCodes=["BBBB-BBBB-BBBB", "SAME-SAME-2345"])
    resp = server.get("/v1/clinics/share_code/SAME-SAME-2345")
    assert (resp.status_code, resp.json()) == (409, {"message": "duplicate: multiple matching clinics found"})


# --- ListClinics ---------------------------------------------------------------------------------

@pytest.fixture
def three(db):
    """Three clinics created a day apart; the first with EHR enabled, the second disabled."""
    day = dt.timedelta(days=1)
    ids = [seed_clinic(db, _id=ObjectId(f"{i:024x}"), createdTime=T0 + i * day,
                       canonicalShareCode=f"ABCD-{str(i + 1) * 4}-WXYZ",
                       shareCodes=[f"ABCD-{str(i + 1) * 4}-WXYZ", f"PAST-{str(i + 1) * 4}-WXYZ"],
                       **({"ehrSettings": {"enabled": i == 1}} if i < 3 else {}))
           for i in (1, 2, 3)]
    return [str(i) for i in ids]


@pytest.mark.parametrize("query,expected", [
    ("", [0, 1, 2]),
    ("?limit=1", [0]),
    ("?limit=2&offset=1", [1, 2]),
    ("?offset=5", []),
    ("?createdTimeStart=2024-05-02T10:20:30.12Z", [0, 1, 2]),  # inclusive
    ("?createdTimeStart=2024-05-03T10:20:30.12Z", [1, 2]),
    ("?createdTimeEnd=2024-05-03T10:20:30.12Z", [0]),  # exclusive
    ("?createdTimeStart=2024-05-03T12:20:30%2B02:00&createdTimeEnd=2024-05-04T10:20:30.121Z", [1, 2]),
    ("?createdTimeStart=0001-01-01T00:00:00Z&createdTimeEnd=0001-01-01T00:00:00Z", [0, 1, 2]),  # zero = unset
    ("?createdTimeStart=0001-01-01T00:00:00%2B01:00", [0, 1, 2]),  # before year 1: no 500
    ("?createdTimeEnd=9999-12-31T23:59:59-01:00", [0, 1, 2]),  # after year 9999: no 500
    ("?shareCode=ABCD-3333-WXYZ", [1]),
    ("?shareCode=PAST-4444-WXYZ", [2]),  # any historical code
    ("?shareCode=abcd-3333-wxyz", []),  # case-sensitive
    ("?ehrEnabled=true", [0]),
    ("?ehrEnabled=false", [1]),  # a clinic without EHR settings is neither
    ("?email=someone@example.com", [0, 1, 2]),  # unknown parameters are ignored
])
def test_list_clinics_filters_and_pages(server, three, query, expected):
    resp = server.get("/v1/clinics" + query)
    assert resp.status_code == 200
    assert [c["id"] for c in resp.json()] == [three[i] for i in expected]


def test_list_clinics_items_are_clinic_bodies(server, admin, clinic):
    resp = server.get("/v1/clinics")
    assert (resp.status_code, resp.json()) == (200, [clinic])


def test_list_clinics_of_an_empty_database_is_an_empty_array(server, db):
    resp = server.get("/v1/clinics")
    assert (resp.status_code, resp.content) == (200, b"[]\n")


@pytest.mark.parametrize("query,message", [
    ("limit=0", 'parameter "limit" in query has an error: number must be at least 1'),
    ("offset=-1", 'parameter "offset" in query has an error: number must be at least 0'),
    ("limit=ten", 'parameter "limit" in query has an error: value ten: an invalid integer: invalid syntax'),
    ("shareCode=", 'parameter "shareCode" in query has an error: empty value is not allowed'),
    ("ehrEnabled=maybe", 'parameter "ehrEnabled" in query has an error: value maybe: an invalid boolean: '
                         'invalid syntax'),
    ("createdTimeStart=2024-01-01T00:00:00", "Invalid format for parameter createdTimeStart: error parsing "
     "'2024-01-01T00:00:00' as RFC3339 or 2006-01-02 time: parsing time \"2024-01-01T00:00:00\": "
     "extra text: \"T00:00:00\""),
])
def test_list_clinics_refuses_bad_parameters(server, db, query, message):
    resp = server.get("/v1/clinics?" + query)
    assert (resp.status_code, resp.json()) == (400, {"message": message})


def test_list_clinics_refuses_a_malformed_date_time(server, db):
    resp = server.get("/v1/clinics?createdTimeEnd=yesterday")
    assert resp.status_code == 400
    assert resp.json()["message"].startswith(
        'parameter "createdTimeEnd" in query has an error: string doesn\'t match the format "date-time"')


def test_times_are_rendered_in_the_reference_format(server, db):
    cid = seed_clinic(db, createdTime=dt.datetime(2024, 5, 1, 10, 20, 30, tzinfo=UTC),
                      updatedTime=dt.datetime(2024, 5, 1, 10, 20, 30, 100000, tzinfo=UTC))
    body = server.get(f"/v1/clinics/{cid}").json()
    assert (body["createdTime"], body["updatedTime"]) == ("2024-05-01T10:20:30Z", "2024-05-01T10:20:30.1Z")
