"""Legacy-clinician migrations (migrations-merge.md §1, §3.1, §4.1): EnableNewClinicExperience,
TriggerInitialMigration, MigrateLegacyClinicianPatients, ListMigrations, GetMigration,
UpdateMigration. A legacy clinic account is a user whose roles contain `clinic`; standalone mode
reads it from the `users` collection, where these tests seed it."""
from __future__ import annotations

import pytest
from bson import ObjectId

from clinic_api import wire
from clinic_api.errors import NOT_AUTHORIZED
from conftest import ADMIN_ID, CLINIC_BODY, MEMBER_ID
from support.builders import insert_migration

LEGACY_ID = "5678901234"
FORBIDDEN = (403, {"message": NOT_AUTHORIZED})
MISSING_TOKEN = (400, {"message": "session token is missing"})
PROFILE = {k: v for k, v in CLINIC_BODY.items() if k not in ("phoneNumbers", "clinicSize")}


def seed_user(db, user_id, *, roles=("clinic",), emails=("legacy@example.com",), name="Lee Legacy"):
    doc = {"_id": user_id, "username": emails[0] if emails else "", "emails": list(emails), "roles": list(roles)}
    if name is not None:
        doc["profile"] = {"fullName": name}
    db.users.insert_one(doc)


def enable(server, user_id=LEGACY_ID) -> dict:
    resp = server.post(f"/v1/clinicians/{user_id}/migrate")
    assert resp.status_code == 200, resp.text
    return resp.json()


def result(resp):
    return resp.status_code, resp.json()


@pytest.fixture
def legacy(db, server, as_user):
    """A legacy account's empty clinic, profile completed: ready for TriggerInitialMigration."""
    seed_user(db, LEGACY_ID)
    clinic = enable(server)
    api = as_user(LEGACY_ID)
    resp = api.put(f"/v1/clinics/{clinic['id']}", json=PROFILE)
    assert resp.status_code == 200 and resp.json()["canMigrate"] is True, resp.text
    return {"id": clinic["id"], "api": api}


def add_migration(db, clinic_id, user_id, status="PENDING"):
    insert_migration(db, clinic_id, user_id, status, now=wire.now())


def assert_dto(body, user_id, status="PENDING"):
    assert list(body) == ["createdTime", "status", "updatedTime", "userId"]
    assert (body["userId"], body["status"]) == (user_id, status)
    wire.parse_time(body["createdTime"]), wire.parse_time(body["updatedTime"])


# --- EnableNewClinicExperience -------------------------------------------------------------

def test_enable_creates_an_empty_unmigrated_clinic_with_the_legacy_user_as_admin(db, server):
    seed_user(db, LEGACY_ID)
    body = enable(server)
    assert body["canMigrate"] is False and body["name"] == "" and body["preferredBgUnits"] == "mg/dL"
    assert len(body["shareCode"]) == 14 and body["shareCode"].count("-") == 2
    clinic = db.clinics.find_one({"_id": ObjectId(body["id"])})
    assert list(clinic) == ["_id", "canonicalShareCode", "shareCodes", "admins", "createdTime", "updatedTime",
                            "timezone", "patientCountSettings", "patientCount", "patientTallies"]
    assert clinic["patientTallies"] == {"tags": {}, "sites": {}}
    assert clinic["admins"] == [LEGACY_ID] and clinic["shareCodes"] == [body["shareCode"]]
    assert clinic["timezone"] is None and clinic["patientCountSettings"] == {"hardLimit": {"plan": 250}}
    assert clinic["patientCount"] == {"total": 0, "demo": 0, "plan": 0}
    admin = db.clinicians.find_one({"clinicId": clinic["_id"]})
    assert isinstance(admin.pop("_id"), ObjectId)
    assert admin == {"clinicId": clinic["_id"], "userId": LEGACY_ID, "email": "legacy@example.com",
                     "name": "Lee Legacy", "roles": ["CLINIC_ADMIN"], "createdTime": clinic["createdTime"],
                     "updatedTime": clinic["createdTime"]}
    assert db.patients.count_documents({}) == 0  # no demo patient


def test_enable_twice_creates_two_clinics_and_a_missing_profile_name_is_null(db, server):
    seed_user(db, LEGACY_ID, name=None)
    first, second = enable(server), enable(server)
    assert first["id"] != second["id"]
    assert [c["name"] for c in db.clinicians.find({"userId": LEGACY_ID})] == [None, None]


@pytest.mark.parametrize("roles", [["clinician"], ["CLINIC"], []])
def test_enable_requires_the_clinic_role(db, server, roles):
    seed_user(db, LEGACY_ID, roles=roles)
    resp = server.post(f"/v1/clinicians/{LEGACY_ID}/migrate")
    assert result(resp) == (422, {"message": f"constraint violation: user {LEGACY_ID} is not clinician"})
    assert db.clinics.count_documents({}) == 0 and db.clinicians.count_documents({}) == 0


def test_enable_unknown_user_has_no_role_and_a_user_without_email_is_refused(db, server):
    resp = server.post("/v1/clinicians/not-a-known-user/migrate")
    assert result(resp) == (422, {"message": "constraint violation: user not-a-known-user is not clinician"})
    seed_user(db, LEGACY_ID, emails=())
    resp = server.post(f"/v1/clinicians/{LEGACY_ID}/migrate")  # the reference crashes (500)
    assert result(resp) == (422, {"message": f"constraint violation: user {LEGACY_ID} has no email"})
    assert db.clinics.count_documents({}) == 0 and db.clinicians.count_documents({}) == 0


# --- TriggerInitialMigration ---------------------------------------------------------------

def test_trigger_records_a_pending_migration_and_marks_the_clinic_migrated(db, legacy):
    resp = legacy["api"].post(f"/v1/clinics/{legacy['id']}/migrate", json={"attestationSubmitted": True})
    assert resp.status_code == 200, resp.text
    assert_dto(resp.json(), LEGACY_ID)
    stored = db.migrations.find_one({})
    assert list(stored) == ["_id", "clinicId", "userId", "status", "createdTime", "updatedTime"]
    assert (stored["clinicId"], stored["status"]) == (ObjectId(legacy["id"]), "PENDING")
    assert stored["createdTime"] == stored["updatedTime"]
    assert wire.format_time(stored["createdTime"]) == resp.json()["createdTime"]
    clinic = db.clinics.find_one({"_id": ObjectId(legacy["id"])})
    assert clinic["isMigrated"] is True and "attestationSubmitted" not in clinic
    assert legacy["api"].get(f"/v1/clinics/{legacy['id']}").json()["canMigrate"] is False
    again = legacy["api"].post(f"/v1/clinics/{legacy['id']}/migrate")
    assert result(again) == (422, {"message": "constraint violation: clinic is already migrated"})


def test_trigger_validates_the_unused_body(db, legacy):
    resp = legacy["api"].post(f"/v1/clinics/{legacy['id']}/migrate", json={"attestationSubmitted": "yes"})
    assert result(resp) == (400, {"message": "request body has an error: doesn't match schema "
                                  "#/components/schemas/triggerMigration.v1: Error at \"/attestationSubmitted\": "
                                  "value must be a boolean"})
    assert db.migrations.count_documents({}) == 0


def test_trigger_incomplete_profile(db, server, as_user):
    seed_user(db, LEGACY_ID)
    clinic = enable(server)
    api = as_user(LEGACY_ID)
    resp = api.post(f"/v1/clinics/{clinic['id']}/migrate")
    assert result(resp) == (422, {"message": "constraint violation: incomplete clinic profile"})
    api.put(f"/v1/clinics/{clinic['id']}", json={**PROFILE, "clinicType": None})
    assert result(api.post(f"/v1/clinics/{clinic['id']}/migrate"))[0] == 422
    assert db.migrations.count_documents({}) == 0


def test_trigger_unknown_clinic(db, as_user):
    # An admin record whose clinic is gone: the policy passes, the clinic lookup does not.
    gone = ObjectId()
    db.clinicians.insert_one({"clinicId": gone, "userId": LEGACY_ID, "roles": ["CLINIC_ADMIN"]})
    resp = as_user(LEGACY_ID).post(f"/v1/clinics/{gone}/migrate")
    assert result(resp) == (404, {"message": "clinic not found"})


def test_trigger_needs_a_single_admin(db, legacy):
    db.clinics.update_one({"_id": ObjectId(legacy["id"])}, {"$push": {"admins": ADMIN_ID}})
    resp = legacy["api"].post(f"/v1/clinics/{legacy['id']}/migrate")  # the reference answers 500
    assert result(resp) == (422, {"message": "constraint violation: expected clinic with a single admin"})
    assert db.migrations.count_documents({}) == 0


def test_trigger_checks_the_admin_still_holds_the_legacy_role(db, legacy):
    db.users.update_one({"_id": LEGACY_ID}, {"$set": {"roles": ["clinician"]}})
    resp = legacy["api"].post(f"/v1/clinics/{legacy['id']}/migrate")
    assert result(resp) == (422, {"message": f"constraint violation: user {LEGACY_ID} is not clinician"})
    assert db.migrations.count_documents({}) == 0


def test_trigger_duplicate_migration_is_409_and_writes_nothing(db, legacy, server):
    second = enable(server)  # the same legacy user gets a second clinic
    assert legacy["api"].put(f"/v1/clinics/{second['id']}", json=PROFILE).status_code == 200
    assert legacy["api"].post(f"/v1/clinics/{legacy['id']}/migrate").status_code == 200
    resp = legacy["api"].post(f"/v1/clinics/{second['id']}/migrate")  # the reference panics (500)
    assert result(resp) == (409, {"message": "migration duplicate"})
    assert "isMigrated" not in db.clinics.find_one({"_id": ObjectId(second["id"])})
    assert db.migrations.count_documents({}) == 1


def test_trigger_authorization(db, legacy, server, as_user, member, other_admin, plain_user, anonymous):
    url = f"/v1/clinics/{legacy['id']}/migrate"
    db.clinicians.insert_one({"clinicId": ObjectId(legacy["id"]), "userId": MEMBER_ID, "roles": ["CLINIC_MEMBER"]})
    for caller in (server, member, other_admin, plain_user):  # A only: not even a server token
        assert result(caller.post(url)) == FORBIDDEN
    assert result(anonymous.post(url)) == MISSING_TOKEN
    assert result(legacy["api"].post("/v1/clinics/not-hex/migrate")) == FORBIDDEN
    assert db.migrations.count_documents({}) == 0
    # a server-flagged token whose subject is the clinic's admin passes (§4.1)
    assert as_user(LEGACY_ID, server=True).post(url).status_code == 200


def test_trigger_policy_passes_for_the_admin_of_a_migrated_clinic(clinic, admin):
    resp = admin.post(f"/v1/clinics/{clinic['id']}/migrate")
    assert result(resp) == (422, {"message": "constraint violation: clinic is already migrated"})


# --- MigrateLegacyClinicianPatients --------------------------------------------------------

def test_queue_migration_of_a_clinician_of_a_migrated_clinic(db, clinic, member, server):
    body = {"userId": MEMBER_ID, "status": "COMPLETED", "createdTime": "2020-01-01T00:00:00Z"}
    resp = server.post(f"/v1/clinics/{clinic['id']}/migrations", json=body)
    assert resp.status_code == 200, resp.text  # the reference answers 200, not the published 202
    assert_dto(resp.json(), MEMBER_ID)  # status and times from the body are ignored
    stored = db.migrations.find_one({"userId": MEMBER_ID})
    assert stored["clinicId"] == ObjectId(clinic["id"]) and stored["status"] == "PENDING"
    again = server.post(f"/v1/clinics/{clinic['id']}/migrations", json={"userId": MEMBER_ID})
    assert result(again) == (409, {"message": "migration duplicate"})


def test_queue_duplicate_across_clinics(db, clinic, member, server):
    add_migration(db, ObjectId(), MEMBER_ID)
    resp = server.post(f"/v1/clinics/{clinic['id']}/migrations", json={"userId": MEMBER_ID})
    assert result(resp) == (409, {"message": "migration duplicate"})


def test_queue_body_errors(db, clinic, server):
    url = f"/v1/clinics/{clinic['id']}/migrations"
    prefix = "request body has an error: doesn't match schema #/components/schemas/migration.v1: Error at "
    assert result(server.post(url, json={"status": "PENDING"})) == (
        400, {"message": prefix + '"/userId": property "userId" is missing'})
    assert result(server.post(url, json={"userId": ""})) == (
        400, {"message": prefix + '"/userId": minimum string length is 1'})
    # an empty body is allowed: no user id, so no clinician
    assert result(server.post(url)) == (404, {"message": "clinician not found"})
    assert db.migrations.count_documents({}) == 0


def test_queue_not_found_paths(db, clinic, server):
    url = f"/v1/clinics/{clinic['id']}/migrations"
    assert result(server.post(url, json={"userId": "9999999999"})) == (404, {"message": "clinician not found"})
    assert result(server.post("/v1/clinics/not-hex/migrations", json={"userId": ADMIN_ID})) == (
        404, {"message": "clinician not found"})
    gone = ObjectId()
    db.clinicians.insert_one({"clinicId": gone, "userId": LEGACY_ID, "roles": ["CLINIC_ADMIN"]})
    assert result(server.post(f"/v1/clinics/{gone}/migrations", json={"userId": LEGACY_ID})) == (
        404, {"message": "clinic not found"})
    assert db.migrations.count_documents({}) == 0


def test_queue_into_a_clinic_not_yet_migrated_keeps_the_reference_text(db, legacy, server):
    resp = server.post(f"/v1/clinics/{legacy['id']}/migrations", json={"userId": LEGACY_ID})
    assert result(resp) == (422, {"message": "constraint violation: clinic is already migrated"})
    assert db.migrations.count_documents({}) == 0


def test_queue_authorization(clinic, admin, member, other_admin, plain_user, anonymous):
    url = f"/v1/clinics/{clinic['id']}/migrations"
    for caller in (admin, member, other_admin, plain_user):
        assert result(caller.post(url, json={"userId": MEMBER_ID})) == FORBIDDEN
    assert result(anonymous.post(url, json={"userId": MEMBER_ID})) == MISSING_TOKEN


# --- ListMigrations / GetMigration / UpdateMigration ---------------------------------------

def test_list_is_null_when_empty_and_holds_only_the_clinics_migrations(db, clinic, server):
    url = f"/v1/clinics/{clinic['id']}/migrations"
    resp = server.get(url)
    assert (resp.status_code, resp.content) == (200, b"null\n")
    add_migration(db, clinic["id"], "1111111111", status="COMPLETED")
    add_migration(db, clinic["id"], "2222222222", status="running")  # upper-cased on output
    add_migration(db, ObjectId(), "3333333333")
    add_migration(db, clinic["id"], "4444444444", status="")  # no status shown
    body = server.get(url).json()
    assert [(m["userId"], m.get("status")) for m in body] == [
        ("1111111111", "COMPLETED"), ("2222222222", "RUNNING"), ("4444444444", None)]
    assert list(body[2]) == ["createdTime", "updatedTime", "userId"]
    assert server.get("/v1/clinics/not-hex/migrations").content == b"null\n"


def test_list_and_get_authorization(db, clinic, server, admin, member, other_admin, plain_user, anonymous):
    add_migration(db, clinic["id"], MEMBER_ID)
    for url in (f"/v1/clinics/{clinic['id']}/migrations", f"/v1/clinics/{clinic['id']}/migrations/{MEMBER_ID}"):
        for caller in (server, admin, member):
            assert caller.get(url).status_code == 200
        for caller in (other_admin, plain_user):
            assert result(caller.get(url)) == FORBIDDEN
        assert result(anonymous.get(url)) == MISSING_TOKEN


def test_get_migration(db, clinic, server):
    add_migration(db, clinic["id"], MEMBER_ID, status="RUNNING")
    resp = server.get(f"/v1/clinics/{clinic['id']}/migrations/{MEMBER_ID}")
    assert resp.status_code == 200
    assert_dto(resp.json(), MEMBER_ID, "RUNNING")
    assert result(server.get(f"/v1/clinics/{clinic['id']}/migrations/{ADMIN_ID}")) == (
        404, {"message": "migration not found"})
    assert result(server.get(f"/v1/clinics/{ObjectId()}/migrations/{MEMBER_ID}")) == (
        404, {"message": "migration not found"})


@pytest.mark.parametrize("method", ["get", "patch"])
def test_migration_path_validation(clinic, server, method):
    call = getattr(server, method)
    kw = {"json": {"status": "RUNNING"}} if method == "patch" else {}
    assert result(call(f"/v1/clinics/xyz/migrations/{MEMBER_ID}", **kw)) == (
        400, {"message": 'parameter "clinicId" in path has an error: minimum string length is 24'})
    resp = call(f"/v1/clinics/{clinic['id']}/migrations/NOT-A-USER", **kw)
    assert resp.status_code == 400
    assert resp.json()["message"].startswith(
        'parameter "userId" in path has an error: string doesn\'t match the regular expression')


def test_update_migration_status_in_any_order(db, clinic, server):
    add_migration(db, clinic["id"], MEMBER_ID)
    url = f"/v1/clinics/{clinic['id']}/migrations/{MEMBER_ID}"
    created = server.get(url).json()["createdTime"]
    for status in ("RUNNING", "COMPLETED", "PENDING", "PENDING"):
        resp = server.patch(url, json={"status": status})
        assert resp.status_code == 200, resp.text
        assert_dto(resp.json(), MEMBER_ID, status)
        assert resp.json()["createdTime"] == created
        assert db.migrations.find_one({"userId": MEMBER_ID})["status"] == status


def test_update_migration_errors(db, clinic, server):
    add_migration(db, clinic["id"], MEMBER_ID)
    url = f"/v1/clinics/{clinic['id']}/migrations/{MEMBER_ID}"
    assert result(server.patch(url, json={"status": "FAILED"})) == (
        400, {"message": "request body has an error: doesn't match schema #/components/schemas/migrationUpdate.v1: "
                         'Error at "/status": value is not one of the allowed values '
                         '["PENDING","RUNNING","COMPLETED"]'})
    assert result(server.patch(url, json={})) == (
        400, {"message": "request body has an error: doesn't match schema #/components/schemas/migrationUpdate.v1: "
                         'Error at "/status": property "status" is missing'})
    assert result(server.patch(f"/v1/clinics/{clinic['id']}/migrations/{ADMIN_ID}", json={"status": "RUNNING"})) == (
        404, {"message": "migration not found"})
    assert db.migrations.find_one({"userId": MEMBER_ID})["status"] == "PENDING"


def test_update_migration_with_an_empty_body_clears_the_status(db, clinic, server):
    add_migration(db, clinic["id"], MEMBER_ID)
    resp = server.patch(f"/v1/clinics/{clinic['id']}/migrations/{MEMBER_ID}")
    assert resp.status_code == 200 and "status" not in resp.json()
    assert db.migrations.find_one({"userId": MEMBER_ID})["status"] == ""


def test_update_and_enable_authorization(db, clinic, admin, member, other_admin, plain_user, anonymous):
    add_migration(db, clinic["id"], MEMBER_ID)
    calls = [("patch", f"/v1/clinics/{clinic['id']}/migrations/{MEMBER_ID}", {"status": "RUNNING"}),
             ("post", f"/v1/clinicians/{ADMIN_ID}/migrate", None)]
    for method, url, body in calls:
        for caller in (admin, member, other_admin, plain_user):
            assert result(getattr(caller, method)(url, json=body)) == FORBIDDEN
        assert result(getattr(anonymous, method)(url, json=body)) == MISSING_TOKEN
    assert db.migrations.find_one({})["status"] == "PENDING" and db.clinics.count_documents({}) == 2


def test_trigger_is_all_or_nothing_when_the_clinic_vanishes_midway(db, legacy, services):
    """A clinic deleted between the checks and the writes: the migration insert is rolled back."""
    import dataclasses

    from clinic_api.domain import migrations as domain
    from clinic_api.errors import NotFound

    class DeletingUsers:  # the user service answers while another request deletes the clinic
        def get_user(self, user_id):
            db.clinics.delete_one({"_id": ObjectId(legacy["id"])})
            return services.users.get_user(user_id)

    racing = dataclasses.replace(services, users=DeletingUsers())
    with pytest.raises(NotFound, match="clinic not found"):
        domain.trigger_initial_migration(racing, legacy["id"])
    assert db.migrations.count_documents({}) == 0
