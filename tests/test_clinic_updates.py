"""Clinics: UpdateClinic and DeleteClinic (success and error paths; the reference's deletion
scenarios are in test_clinic_scenarios.py)."""
import pytest
from bson import ObjectId
from clinic_helpers import (BAD_ID_MESSAGE, CLINIC_KEYS, CLINIC_NOT_FOUND, T0, UNKNOWN_ID, assert_wire_time,
                            body_schema_error, comparable, seed_clinic, seed_clinician, seed_patient, stored)
from conftest import ADMIN_ID, CLINIC_BODY, MEMBER_ID

NEW_PROFILE = {"name": "Renamed Clinic", "address": "2 New Road", "city": "Oakland", "postalCode": "94601",
               "state": "CA", "country": "US", "website": "https://example.org", "clinicType": "healthcare_system",
               "clinicSize": "1000+", "phoneNumbers": [{"type": "fax", "number": "+15550000000"}],
               "preferredBgUnits": "mmol/L", "timezone": "Europe/Paris"}


# --- UpdateClinic --------------------------------------------------------------------------------

def test_update_replaces_the_profile_and_answers_the_clinic(admin, clinic, db):
    before = stored(db, clinic["id"])
    resp = admin.put(f"/v1/clinics/{clinic['id']}", json=NEW_PROFILE)
    assert resp.status_code == 200
    body = resp.json()
    after = stored(db, clinic["id"])
    assert list(body) == [k for k in CLINIC_KEYS if k in body]  # the values: below
    assert body == {
        "address": "2 New Road", "canMigrate": False, "city": "Oakland", "clinicSize": "1000+",
        "clinicType": "healthcare_system", "country": "US", "createdTime": clinic["createdTime"], "id": clinic["id"],
        "name": "Renamed Clinic", "phoneNumbers": [{"number": "+15550000000", "type": "fax"}],
        "postalCode": "94601", "preferredBgUnits": "mmol/L", "shareCode": clinic["shareCode"], "state": "CA",
        "tier": "tier0100", "tierDescription": "Free", "timezone": "Europe/Paris",
        "updatedTime": body["updatedTime"], "website": "https://example.org"}
    assert_wire_time(body["updatedTime"], after["updatedTime"])
    assert after["updatedTime"] >= before["updatedTime"]
    assert after["PreferredBgUnits"] == "mmol/L" and after["phoneNumbers"] == [{"type": "fax",
                                                                                "number": "+15550000000"}]
    for untouched in ("createdTime", "admins", "isMigrated", "shareCodes", "canonicalShareCode",
                      "patientCountSettings", "patientCount"):
        assert after[untouched] == before[untouched], untouched


def test_update_merges_absent_profile_fields_but_clears_phones_and_timezone(admin, clinic, db):
    resp = admin.put(f"/v1/clinics/{clinic['id']}", json={"name": "Short", "preferredBgUnits": "mg/dL"})
    body = resp.json()
    assert resp.status_code == 200
    assert (body["address"], body["city"], body["clinicType"], body["website"]) == (
        "1 Todd's Way", "San Francisco", "provider_practice", "http://www.test.com")
    assert "phoneNumbers" not in body and "timezone" not in body
    doc = stored(db, clinic["id"])
    assert doc["phoneNumbers"] is None and doc["timezone"] is None and doc["name"] == "Short"


def test_an_empty_website_is_stored(admin, clinic, db):
    resp = admin.put(f"/v1/clinics/{clinic['id']}", json={**CLINIC_BODY, "website": ""})
    assert resp.status_code == 200 and resp.json()["website"] == ""
    assert stored(db, clinic["id"])["website"] == ""


def test_update_with_an_empty_body_clears_name_phones_and_timezone_only(admin, clinic, db):
    before = stored(db, clinic["id"])
    resp = admin.put(f"/v1/clinics/{clinic['id']}")
    assert resp.status_code == 200
    body = resp.json()
    assert body["name"] == "" and "phoneNumbers" not in body and "timezone" not in body
    assert (body["address"], body["preferredBgUnits"]) == ("1 Todd's Way", "mg/dL")
    after = stored(db, clinic["id"])
    assert (after["name"], after["phoneNumbers"], after["timezone"]) == ("", None, None)
    assert after["PreferredBgUnits"] == before["PreferredBgUnits"] and after["address"] == before["address"]


def test_update_ignores_readonly_fields(server, clinic, db):
    before = stored(db, clinic["id"])
    body = {**CLINIC_BODY, "id": UNKNOWN_ID, "shareCode": "ZZZZ-ZZZZ-ZZZZ", "tier": "tier0400",
            "canMigrate": True, "createdTime": "2020-01-01T00:00:00Z", "suppressedNotifications": {},
            "patientTags": [{"id": UNKNOWN_ID, "name": "tag"}]}
    resp = server.put(f"/v1/clinics/{clinic['id']}", json=body)
    assert resp.status_code == 200
    after = stored(db, clinic["id"])
    assert (resp.json()["id"], resp.json()["shareCode"], resp.json()["tier"]) == (
        clinic["id"], clinic["shareCode"], "tier0100")
    assert after["shareCodes"] == before["shareCodes"] and after["createdTime"] == before["createdTime"]
    assert not {"tier", "suppressedNotifications", "patientTags"} & set(after)


def test_update_of_an_unknown_clinic_is_404_and_creates_nothing(server, db):
    resp = server.put(f"/v1/clinics/{UNKNOWN_ID}", json=CLINIC_BODY)
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)  # the reference: 500
    assert db.clinics.count_documents({}) == 0


def test_update_with_a_malformed_id_is_400(server, db):
    resp = server.put("/v1/clinics/123", json=CLINIC_BODY)
    assert (resp.status_code, resp.json()) == (400, {"message": BAD_ID_MESSAGE})


@pytest.mark.parametrize("body,pointer,reason", [
    ({**CLINIC_BODY, "name": ["x"]}, "/name", "value must be a string"),
    ({"name": "x"}, "/preferredBgUnits", 'property "preferredBgUnits" is missing'),
    ({**CLINIC_BODY, "clinicSize": "tiny"}, "/clinicSize",
     "value is not one of the allowed values [\"0-249\",\"250-499\",\"500-999\",\"1000+\"]"),
    ({**CLINIC_BODY, "state": ""}, "/state", "minimum string length is 1"),
    ({**CLINIC_BODY, "phoneNumbers": [{"number": "1"}, {"number": "1"}]}, "/phoneNumbers", "duplicate items found"),
    ({**CLINIC_BODY, "phoneNumbers": {"number": "1"}}, "/phoneNumbers", "value must be an array"),
    ("just a string", "/", "value must be an object"),
])
def test_update_refuses_bad_bodies_and_changes_nothing(admin, clinic, db, body, pointer, reason):
    before = comparable(stored(db, clinic["id"]))
    resp = admin.put(f"/v1/clinics/{clinic['id']}", json=body)
    assert (resp.status_code, resp.json()) == (400, body_schema_error("clinic.v1", pointer, reason))
    assert comparable(stored(db, clinic["id"])) == before


@pytest.mark.parametrize("content,ctype,message", [
    (b"<clinic/>", "application/xml",
     'request body has an error: failed to decode request body: unsupported content type "application/xml"'),
    (b'{"name": "x"}', "text/plain",
     'request body has an error: header Content-Type has unexpected value "text/plain"'),
])
def test_update_refuses_other_media_types(admin, clinic, db, content, ctype, message):
    before = comparable(stored(db, clinic["id"]))
    resp = admin.put(f"/v1/clinics/{clinic['id']}", content=content, headers={"content-type": ctype})
    assert (resp.status_code, resp.json()) == (400, {"message": message})
    assert comparable(stored(db, clinic["id"])) == before


def test_update_refuses_undecodable_json(admin, clinic, db):
    resp = admin.put(f"/v1/clinics/{clinic['id']}", content=b"{'name': 1}",
                     headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["message"].startswith("request body has an error: failed to decode request body: ")


def test_update_recomputes_can_migrate(server, db):
    """The reference's legacy flow: an unmigrated clinic with an admin becomes migratable once its
    profile is complete."""
    cid = seed_clinic(db, isMigrated=..., PreferredBgUnits=...)
    partial = {"name": "Legacy", "address": "1 Way", "city": "Town", "postalCode": "1", "state": "CA",
               "country": "US", "preferredBgUnits": "mg/dL"}
    resp = server.put(f"/v1/clinics/{cid}", json=partial)
    assert (resp.status_code, resp.json()["canMigrate"]) == (200, False)
    resp = server.put(f"/v1/clinics/{cid}", json={**partial, "clinicType": "provider_practice"})
    assert (resp.status_code, resp.json()["canMigrate"]) == (200, True)


# --- DeleteClinic --------------------------------------------------------------------------------

def test_delete_removes_the_clinic_and_its_clinicians_with_archives(admin, member, clinic, db):
    db.clinicians.insert_one({"clinicId": ObjectId(clinic["id"]), "inviteId": "invite-1", "email": "x@example.com",
                              "name": None, "roles": ["CLINIC_MEMBER"], "createdTime": T0, "updatedTime": T0})
    before = stored(db, clinic["id"])
    resp = admin.delete(f"/v1/clinics/{clinic['id']}")
    assert (resp.status_code, resp.content) == (204, b"")
    assert "content-type" not in resp.headers
    assert admin.get(f"/v1/clinics/{clinic['id']}").json() == CLINIC_NOT_FOUND
    assert db.clinicians.count_documents({}) == 0
    (archive,) = list(db.clinic_deletions.find({}))
    assert set(archive) == {"_id", "deletedTime", "clinic", "deletedByUserId"}
    assert archive["deletedByUserId"] == ADMIN_ID
    # The reference's fields only: our count bookkeeping (patientTallies) is not archived.
    assert archive["clinic"] == {k: v for k, v in before.items() if k != "patientTallies"}
    archived_members = {(a["clinician"].get("userId"), a["clinician"].get("inviteId"), a["deletedByUserId"])
                        for a in db.clinician_deletions.find({})}
    assert archived_members == {(ADMIN_ID, None, ADMIN_ID), (MEMBER_ID, None, ADMIN_ID), (None, "invite-1", ADMIN_ID)}


def test_a_server_deletion_records_no_deleting_user(server, clinic, db):
    assert server.delete(f"/v1/clinics/{clinic['id']}").status_code == 204
    archive = db.clinic_deletions.find_one({})
    assert "deletedByUserId" not in archive
    assert "deletedByUserId" not in db.clinician_deletions.find_one({})


def test_the_clinic_archive_holds_the_reference_fields_only(server, db):
    tag = ObjectId()
    cid = seed_clinic(db, patientTags=[{"_id": tag, "name": "T"}], unknownField="x", tier="",
                      isMigrated=False, sites=[], timezone=..., lastDeletedPatientTag=ObjectId())
    assert server.delete(f"/v1/clinics/{cid}").status_code == 204
    archived = db.clinic_deletions.find_one({})["clinic"]
    assert list(archived) == ["_id", "name", "patientTags", "canonicalShareCode", "shareCodes", "admins",
                              "createdTime", "updatedTime", "PreferredBgUnits", "timezone", "patientCountSettings",
                              "patientCount"]
    assert archived["timezone"] is None
    # null phoneNumbers, false isMigrated, empty tier and sites, unknown fields: left out as the
    # reference's encoder does
    assert archived["patientTags"] == [{"_id": tag, "name": "T"}]


def test_delete_of_a_clinic_with_patients_is_400_and_changes_nothing(admin, member, clinic, db):
    seed_patient(db, clinic["id"], "patient-1")
    before = comparable(stored(db, clinic["id"]))
    resp = admin.delete(f"/v1/clinics/{clinic['id']}")
    assert (resp.status_code, resp.json()) == (
        400, {"message": "bad request: deletion of non-empty clinics is not allowed"})
    assert comparable(stored(db, clinic["id"])) == before
    assert db.clinicians.count_documents({}) == 2 and db.patients.count_documents({}) == 1
    for archive in ("clinic_deletions", "clinician_deletions", "patient_deletions"):
        assert db[archive].count_documents({}) == 0


def test_delete_of_an_unknown_clinic_is_404(server, db):
    resp = server.delete(f"/v1/clinics/{UNKNOWN_ID}")
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)
    assert db.clinic_deletions.count_documents({}) == 0


def test_delete_with_a_malformed_id_is_400(server, db):
    resp = server.delete("/v1/clinics/ZZZ")
    assert (resp.status_code, resp.json()) == (400, {"message": BAD_ID_MESSAGE})


def test_delete_leaves_other_clinics_alone(admin, other_admin, clinic, db):
    seed_clinician(db, clinic["id"], "9999999999", ["CLINIC_MEMBER"])
    assert admin.delete(f"/v1/clinics/{clinic['id']}").status_code == 204
    assert db.clinics.count_documents({}) == 1
    assert db.clinicians.count_documents({}) == 1  # the other clinic's admin
