"""Read-back contract, clinic side: clinics, settings, counts, clinicians, invites, migrations and
the merge plan, with stored shapes the reference legitimately produces (written through the API, or
inserted in the reference's BSON shape where only another service or the worker writes them), read
back through every read operation with response validation on. The patient side is in
test_readback_patients.py."""
from __future__ import annotations

import datetime as dt

import pytest
from bson import ObjectId

from clinic_api.store import invites as invite_store
from clinic_helpers import EHR_BODY, T0, T1, seed_clinic
from conftest import ADMIN_ID
from merge_support import add_sites, add_tags, pair, report_url, seed_clinician as merge_clinician
from merge_support import seed_patient as merge_patient
from patients_support import insert_patient

UTC = dt.timezone.utc
T2 = dt.datetime(2025, 1, 1, tzinfo=UTC)
INVITEE = "9876543210"


def ok(resp):
    assert resp.status_code == 200, (resp.request.url, resp.status_code, resp.text)
    return resp.json()


# --- clinics ---------------------------------------------------------------------------------

@pytest.fixture
def clinics(db, admin, clinic):
    """The API-created `clinic` with tags, sites and patients counted on them, and seeded clinics
    holding each legitimate stored variant."""
    cid = clinic["id"]
    for name in ("Alpha", "Beta"):
        ok(admin.post(f"/v1/clinics/{cid}/patient_tags", json={"name": name}))
    ok(admin.post(f"/v1/clinics/{cid}/sites", json={"name": "North"}))
    stored = db.clinics.find_one({"_id": ObjectId(cid)})
    alpha, beta = (t["_id"] for t in stored["patientTags"])
    site = stored["sites"][0]
    insert_patient(db, cid, "a1a1a1a1a1", tags=[alpha, beta], sites=[site])
    insert_patient(db, cid, "b2b2b2b2b2", tags=[alpha], sites=[])
    insert_patient(db, cid, "c3c3c3c3c3", tags=None)
    variants = {
        "empty": seed_clinic(db, patientTags=[], phoneNumbers=[], suppressedNotifications={}, sites=[],
                             canonicalShareCode="EMPT-YYYY-2222", shareCodes=["EMPT-YYYY-2222"]),
        "bare": seed_clinic(db, name=..., phoneNumbers=..., timezone=..., PreferredBgUnits=...,
                            canonicalShareCode="BARE-CCCC-3333", shareCodes=["BARE-CCCC-3333"]),
        "full": seed_clinic(db, patientTags=[{"_id": ObjectId(), "name": "stale", "patients": 7}],
                            phoneNumbers=[{"number": "+1555", "type": "fax"}, {"number": "+1666"}],
                            suppressedNotifications={"patientClinicInvitation": False}, tier="tier0300",
                            sites=[{"id": ObjectId(), "name": "Empty site"}], canonicalShareCode="FULL-DDDD-4444",
                            shareCodes=["FULL-DDDD-4444", "OLDD-EEEE-5555"], address="1 Way", city="X",
                            clinicSize="0-249", clinicType="provider_practice", country="US", postalCode="1",
                            state="CA", website="http://x.org", mrnSettings={"required": True, "unique": False},
                            membershipRestrictions=[{"emailDomain": "x.org", "requiredIdp": "sso"}]),
        "nullsuppressed": seed_clinic(db, suppressedNotifications=None, patientTags=None, sites=None,
                                      canonicalShareCode="NULL-FFFF-6666", shareCodes=["NULL-FFFF-6666"]),
    }
    return {"id": cid, "tags": [str(alpha), str(beta)], "site": str(site["id"]),
            "variants": {k: str(v) for k, v in variants.items()}}


def check_clinic(body, clinics):
    if body["id"] == clinics["id"]:
        assert [(t["name"], t.get("numPatients")) for t in body["patientTags"]] == [("Alpha", 2), ("Beta", 1)]
        assert body["sites"] == [{"id": clinics["site"], "name": "North", "numPatients": 1}]
        return
    kind = {v: k for k, v in clinics["variants"].items()}[body["id"]]
    if kind == "empty":
        assert body["patientTags"] is None and body["phoneNumbers"] is None
        assert body["suppressedNotifications"] == {} and "sites" not in body
    elif kind == "bare":
        assert body["name"] == "" and "phoneNumbers" not in body and "timezone" not in body
        assert body["preferredBgUnits"] == "mg/dL" and "patientTags" not in body and body["tierDescription"] == "Free"
    elif kind == "full":
        assert body["patientTags"][0]["numPatients"] == 7 and "numPatients" not in body["sites"][0]
        assert body["phoneNumbers"] == [{"number": "+1555", "type": "fax"}, {"number": "+1666"}]
        assert body["suppressedNotifications"] == {"patientClinicInvitation": False}
        assert (body["tier"], body["tierDescription"]) == ("tier0300", "Premium")
    else:
        assert not {"suppressedNotifications", "patientTags", "sites"} & set(body)


def test_clinic_reads(clinics, server, admin, plain_user):
    listed = ok(server.get("/v1/clinics?limit=100"))
    assert {c["id"] for c in listed} == {clinics["id"], *clinics["variants"].values()}
    for body in listed:
        check_clinic(body, clinics)
        check_clinic(ok(plain_user.get(f"/v1/clinics/{body['id']}")), clinics)
        if "shareCode" in body:
            check_clinic(ok(plain_user.get(f"/v1/clinics/share_code/{body['shareCode']}")), clinics)
    assert ok(server.get("/v1/clinics/share_code/OLDD-EEEE-5555"))["shareCode"] == "FULL-DDDD-4444"
    assert ok(server.get("/v1/clinics?shareCode=EMPT-YYYY-2222"))[0]["patientTags"] is None
    full = clinics["variants"]["full"]
    assert ok(server.get(f"/v1/clinics/{full}/membership_restrictions")) == {
        "restrictions": [{"emailDomain": "x.org", "requiredIdp": "sso"}]}
    assert ok(server.get(f"/v1/clinics/{full}/settings/mrn")) == {"required": True, "unique": False}


# --- settings and counts ------------------------------------------------------------------------

@pytest.mark.parametrize("stored, expected", [
    ({"tags": {"codes": None, "separator": None}, "notes": {}, "destinationIds": None, "flowsheets": {},
      "mrnIdType": "", "scheduledReports": {"cadence": "", "onUploadEnabled": False, "onUploadNoteEventType": None},
      "procedureCodes": {}},
     {"tags": {"codes": None}, "mrnIdType": "MRN", "flowsheets": {"icode": False},
      "scheduledReports": {"cadence": "14d", "onUploadEnabled": False}, "procedureCodes": {}}),
    ({"notes": {"includeGmi": True}, "tags": {"codes": [], "separator": ";"}},
     {"notes": {"includeGMI": True}, "tags": {"codes": [], "separator": ";"}}),
])
def test_ehr_settings_read_back(db, server, member, clinic, stored, expected):
    url = f"/v1/clinics/{clinic['id']}/settings/ehr"
    written = ok(server.put(url, json=EHR_BODY))
    assert "notes" not in written and written["tags"] == {"codes": ["PATIENT_TAGS"], "separator": ","}
    db.clinics.update_one({"_id": ObjectId(clinic["id"])}, {"$set": {f"ehrSettings.{k}": v for k, v in stored.items()}})
    body = ok(member.get(url))
    for key, value in expected.items():
        assert body[key] == value, key
    if "notes" not in expected:
        assert "notes" not in body and "destinationIds" not in body


def test_patient_count_settings_and_counts_read_back(db, server):
    limited = seed_clinic(db, canonicalShareCode="LIMI-TTTT-7777", shareCodes=["LIMI-TTTT-7777"], patientCountSettings={
        "hardLimit": {"plan": 0, "patientCount": 30, "startDate": T0, "endDate": T2},
        "softLimit": {"plan": 5, "startDate": dt.datetime(1, 1, 1, tzinfo=UTC)}},
        patientCount={"total": 9, "demo": 1, "plan": 7, "providers": {
            "dexcom": {"states": {"connected": 2, "pendingReconnect": 1}, "total": 3}, "twiist": {"total": 1}}})
    assert ok(server.get(f"/v1/clinics/{limited}/settings/patient_count")) == {
        "hardLimit": {"endDate": "2025-01-01T00:00:00Z", "plan": 30, "startDate": "2024-05-01T10:20:30.12Z"},
        "softLimit": {"plan": 5, "startDate": "0001-01-01T00:00:00Z"}}
    count = ok(server.get(f"/v1/clinics/{limited}/patient_count"))
    assert count["providers"]["dexcom"]["states"] == {"connected": 2, "pendingReconnect": 1}
    assert count["providers"]["twiist"]["total"] == 1 and count["total"] == 9
    legacy = seed_clinic(db, canonicalShareCode="LEGA-CCCC-8888", shareCodes=["LEGA-CCCC-8888"], country="USA",
                         patientCount={"patientCount": 3})
    for user, sources in (("a1a1a1a1a1", [{"providerName": "dexcom", "state": "connected"}]),
                          ("b2b2b2b2b2", [{"providerName": "twiist", "state": "pending"}]), ("c3c3c3c3c3", None)):
        insert_patient(db, legacy, user, dataSources=sources)
    assert ok(server.get(f"/v1/clinics/{legacy}/settings/patient_count")) == {}
    count = ok(server.get(f"/v1/clinics/{legacy}/patient_count"))
    assert (count["total"], count["plan"], count["demo"]) == (3, 2, 0)
    assert count["providers"] == {"dexcom": {"states": {"connected": 1}, "total": 1},
                                  "twiist": {"states": {"pending": 1}, "total": 1}}
    empty = seed_clinic(db, canonicalShareCode="EMPT-YYYY-9999", shareCodes=["EMPT-YYYY-9999"],
                        patientCountSettings={}, patientCount={"total": 0, "demo": 0, "plan": 0})
    assert ok(server.get(f"/v1/clinics/{empty}/settings/patient_count")) == {}
    assert ok(server.get(f"/v1/clinics/{empty}/patient_count")) == {"demo": 0, "plan": 0, "total": 0}


# --- clinicians, invites --------------------------------------------------------------------------

def test_clinician_reads(db, server, admin, member, clinic):
    cid = ObjectId(clinic["id"])
    db.clinicians.insert_many([
        {"clinicId": cid, "inviteId": "invite-key-1", "email": "new@x.org", "roles": ["CLINIC_MEMBER"],
         "createdTime": T0, "updatedTime": T0},
        {"clinicId": cid, "userId": "5555555555", "name": "Bot", "roles": ["CLINIC_MEMBER"], "isServiceAccount": True,
         "createdTime": T0, "updatedTime": T1},
        {"clinicId": cid, "userId": "6666666666", "email": "nameless@x.org", "name": None, "roles": ["PRESCRIBER"],
         "rolesUpdates": [{"roles": ["CLINIC_ADMIN"], "updatedBy": ADMIN_ID},
                          {"roles": ["PRESCRIBER"], "updatedBy": ADMIN_ID}], "createdTime": T0, "updatedTime": T1}])
    listed = ok(member.get(f"/v1/clinics/{clinic['id']}/clinicians?limit=100"))
    by_email = {c["email"]: c for c in listed}
    invite = by_email["new@x.org"]
    assert invite["inviteId"] == "invite-key-1" and "id" not in invite and "name" not in invite
    assert by_email[""]["id"] == "5555555555" and by_email[""]["name"] == "Bot"
    assert "name" not in by_email["nameless@x.org"] and "rolesUpdates" not in by_email["nameless@x.org"]
    for c in listed:
        if "id" in c:
            assert ok(member.get(f"/v1/clinics/{clinic['id']}/clinicians/{c['id']}")) == c
    got = ok(server.get(f"/v1/clinics/{clinic['id']}/invites/clinicians/invite-key-1/clinician"))
    assert got == invite
    for api, user in ((admin, ADMIN_ID), (server, "5555555555"), (server, "6666666666")):
        rels = ok(api.get(f"/v1/clinicians/{user}/clinics"))
        assert [r["clinic"]["id"] for r in rels] == [clinic["id"]]
        assert rels[0]["clinician"]["id"] == user


def test_invite_reads(db, admin, as_user, clinic):
    cid = clinic["id"]
    invite_body = {"email": "Invitee@X.org", "roles": ["CLINIC_MEMBER", "PRESCRIBER"]}
    key = ok(admin.post(f"/v1/clinics/{cid}/invites/clinicians", json=invite_body))["inviteId"]
    invite = ok(admin.get(f"/v1/clinics/{cid}/invites/clinicians/{key}"))
    assert invite["key"] == key and invite["restrictions"] is None and invite["creator"]["profile"] is None
    db.users.update_one({"_id": ADMIN_ID}, {"$set": {"profile": {"fullName": "Ada Admin", "clinic": {"role": "x"}}}},
                        upsert=True)
    db.users.insert_many([
        {"_id": INVITEE, "username": "invitee@x.org", "emails": ["invitee@x.org"], "profile": {"fullName": "Ivy"}},
        {"_id": "0" * 10, "username": "p0@x.org", "emails": ["p0@x.org"],
         "profile": {"fullName": "Parent", "patient": {"birthday": "2010-02-03", "isOtherPerson": True,
                                                       "fullName": "Kid"}}}])
    mine = ok(as_user(INVITEE, email="invitee@x.org").get(f"/v1/clinicians/{INVITEE}/invites"))
    assert [(c["key"], c["type"], c["creator"]["clinicName"]) for c in mine] == [
        (key, "clinician_invitation", clinic["name"])]
    assert "expiresAt" not in mine[0] and mine[0]["restrictions"]["canAccept"] is True
    assert mine[0]["creator"]["profile"]["fullName"] == "Ada Admin" and mine[0]["context"] is None
    db.clinics.update_one({"_id": ObjectId(cid)}, {"$set": {"membershipRestrictions": [
        {"emailDomain": "x.org", "requiredIdp": "sso"}]}})
    restricted = ok(as_user(INVITEE, email="invitee@x.org").get(f"/v1/clinicians/{INVITEE}/invites"))
    assert restricted[0]["restrictions"] == {"canAccept": False, "requiredIdp": "sso"}
    db.clinics.update_one({"_id": ObjectId(cid)}, {"$set": {"membershipRestrictions": None}})
    accepted = as_user(INVITEE, email="invitee@x.org").put(f"/v1/clinicians/{INVITEE}/invites/{key}")
    assert accepted.status_code == 200, accepted.text
    clinician = ok(admin.get(f"/v1/clinics/{cid}/clinicians/{INVITEE}"))
    assert (clinician["name"], clinician["email"], clinician["roles"]) == ("Ivy", "invitee@x.org",
                                                                          ["CLINIC_MEMBER", "PRESCRIBER"])
    assert "inviteId" not in clinician
    rels = ok(as_user(INVITEE).get(f"/v1/clinicians/{INVITEE}/clinics"))
    assert rels[0]["clinician"] == clinician and rels[0]["clinic"]["id"] == cid
    for n, perms in enumerate(({"view": {}, "note": {}, "upload": {}}, {"custodian": {}, "view": {}})):
        invite_store.save(db, invite_store.new_patient_invite(f"{n}" * 32, clinic_id=cid, patient_id=f"{n}" * 10,
                                                              permissions=perms, created=T0))
    pending = ok(admin.get(f"/v1/clinics/{cid}/invites/patients"))
    assert sorted(p["key"] for p in pending) == ["0" * 32, "1" * 32]
    by_key = {p["key"]: p for p in pending}
    assert by_key["0" * 32]["expiresAt"] == "2024-05-08T10:20:30.12Z" and by_key["0" * 32]["email"] == ""
    assert by_key["0" * 32]["creator"]["profile"]["patient"] == {
        "birthday": "2010-02-03", "diagnosisDate": "", "isOtherPerson": True, "fullName": "Kid"}
    assert by_key["1" * 32]["creator"]["profile"] is None and by_key["1" * 32]["restrictions"] is None


# --- migrations, merge plan ------------------------------------------------------------------------

def test_migration_reads(db, server, member, clinic):
    url = f"/v1/clinics/{clinic['id']}/migrations"
    assert ok(member.get(url)) is None
    cid = ObjectId(clinic["id"])
    db.migrations.insert_many([
        {"clinicId": cid, "userId": "7777777777", "status": "PENDING", "createdTime": T0, "updatedTime": T0},
        {"clinicId": cid, "userId": "8888888888", "status": "", "createdTime": T0, "updatedTime": T1},
        {"clinicId": cid, "userId": "9999999999", "status": "running", "createdTime": T0, "updatedTime": T1}])
    listed = ok(member.get(url))
    assert [(m["userId"], m.get("status")) for m in listed] == [
        ("7777777777", "PENDING"), ("8888888888", None), ("9999999999", "RUNNING")]
    for m in listed:
        assert ok(server.get(f"{url}/{m['userId']}")) == m


def test_merge_plan_json_over_rich_clinics(db, server):
    source, target = pair(db, patientTags=[])
    add_tags(db, source, "shared", "only-source")
    add_tags(db, target, "shared")
    add_sites(db, source, "North")
    add_sites(db, target, "North", "South")
    merge_clinician(db, source, None, ["CLINIC_MEMBER"], invite_id="invite-key-2", email="pending@x.org")
    merge_clinician(db, source, "5555555555", ["CLINIC_MEMBER"], email="", name=None)
    summary = {"cgmStats": {"id": "c1", "config": {}, "dates": {"hasLastData": True, "lastData": T1,
                                                                "lastUploadDate": T1, "hasLastUploadDate": True}},
               "bgmStats": {"id": "b1", "periods": {"7d": {"standardDeviation": None}}}}
    merge_patient(db, source, "0000000001", summary=summary, tags=None, mrn="M1",
                  dataSources=[{"providerName": "dexcom", "state": "connected", "modifiedTime": T0}])
    merge_patient(db, target, "0000000001", tags=[target["patientTags"][0]["_id"]], summary={})
    merge_patient(db, source, "0000000002", birthDate=None, email=None, fullName=None, tags=[])
    merge_patient(db, target, "0000000003", mrn="M1", sites=[{"id": target["sites"][1]["id"], "name": "South"}])
    resp = server.post(report_url(target), json={"sourceId": str(source["_id"])},
                       headers={"Accept": "application/json"})
    plan = ok(resp)
    assert {p["PatientAction"] for p in plan["PatientPlans"]} >= {"MERGE", "MERGE_INTO"}
    assert {t["Name"] for t in plan["TagsPlans"]} == {"only-source", "shared"}
    assert {c["ClinicianAction"] for c in plan["ClinicianPlans"]} >= {"MOVE", "RETAIN"}


def test_cleared_website_reads_back(admin, server, clinic):
    body = {k: v for k, v in ok(admin.get(f"/v1/clinics/{clinic['id']}")).items()
            if k in ("name", "address", "city", "postalCode", "state", "country", "clinicType", "timezone",
                     "preferredBgUnits")}
    updated = ok(admin.put(f"/v1/clinics/{clinic['id']}", json={**body, "website": ""}))
    assert updated["website"] == "" and "phoneNumbers" not in updated  # omitted from the body: cleared
    assert ok(server.get("/v1/clinics"))[0]["website"] == ""
    emptied = ok(server.put(f"/v1/clinics/{clinic['id']}"))  # no body: name "", timezone and phones cleared
    assert emptied["name"] == "" and not {"timezone", "phoneNumbers"} & set(emptied)
    assert ok(server.get(f"/v1/clinics/{clinic['id']}"))["address"] == "1 Todd's Way"


def test_settings_cleared_through_the_api_read_back(admin, server, clinic):
    url = f"/v1/clinics/{clinic['id']}"
    assert admin.post(f"{url}/suppressed_notifications", json={"suppressedNotifications": {}}).status_code == 200
    assert server.post(f"{url}/tier").status_code == 200  # no body: tier "" stored
    body = ok(server.get(url))
    assert body["suppressedNotifications"] == {} and (body["tier"], body["tierDescription"]) == ("tier0100", "Free")
    restricted = ok(server.put(f"{url}/membership_restrictions", json={"restrictions": [{"emailDomain": "x.org"}]}))
    assert restricted == {"restrictions": [{"emailDomain": "x.org"}]}
    assert ok(server.put(f"{url}/membership_restrictions", json={"restrictions": []})) == {}
    assert ok(admin.get(f"{url}/membership_restrictions")) == {}
    assert ok(server.put(f"{url}/settings/patient_count", json={})) == {}
    assert ok(server.get(f"{url}/settings/patient_count")) == {}
