"""MergeClinic: the merge itself, its merge_plans records and emails, every refusal (nothing is
written), and who may call it (migrations-merge.md §2.8; the reference's scenarios §4.3 13–17,
§4.4, §4.5 35, §4.6 38, §4.7 42–44)."""
import dataclasses

import pytest
from bson import ObjectId

from clinic_api.domain.merge import execution, planning
from clinic_api.errors import InternalError
from merge_support import (SOURCE_ADMIN, TARGET_ADMIN, T1, add_sites, add_tags, body, insert_population, merge_url,
                           pair, seed_clinic, seed_clinician, seed_patient, seed_user, snapshot)
from support.access import expect_access

NOT_EXECUTABLE = {"message": "bad request: the merge plan does not allow execution"}
CLINIC_NOT_FOUND = {"message": "clinic not found"}
SUMMARY = {"cgmStats": {"dates": {"lastUploadDate": T1}, "periods": {"14d": {"timeInTargetPercent": 0.5}}}}


def merge(server, source, target):
    return server.post(merge_url(target), json=body(source))


def target_patients(db, target):
    return {p["userId"]: p for p in db.patients.find({"clinicId": target["_id"]})}


def renamed(sites):
    """A source patient's sites once the source `Shared` site is renamed in the target."""
    return [{**s, "name": "Shared (2)"} if s["name"] == "Shared" else s for s in sites]


def tag_names(clinic_doc, ids):
    names = {t["_id"]: t.get("name") for t in clinic_doc.get("patientTags") or []}
    return sorted(names[i] for i in ids or [])


# --- the reference's full merge (§4.4) -----------------------------------------------------------------

@pytest.fixture
def merged(db, server, services):
    source, target = pair(db)
    data = insert_population(db, source, target)
    moved = data["source"][-1]  # not a twin: it moves
    db.patients.update_one({"_id": moved["_id"]}, {"$set": {"summary": SUMMARY}})
    db.patients.update_one({"_id": data["target"][0]["_id"]}, {"$set": {"summary": SUMMARY}})
    before = target_patients(db, target)
    plan = planning.plan_merge(services, str(target["_id"]), str(source["_id"]))
    assert next(p for p in plan.patients if p.source_patient["userId"] == moved["userId"]).source_patient["summary"]
    resp = merge(server, source, target)
    assert (resp.status_code, resp.content) == (200, b"")
    assert "content-type" not in resp.headers
    twins = {p["userId"] for p in data["target"]} & {p["userId"] for p in data["source"]}
    return {"source": source, "target": target, "data": data, "twins": twins, "before": before,
            "after": db.clinics.find_one({"_id": target["_id"]})}


def test_merge_moves_the_source_into_the_target(merged, db, server):
    source, target, data, twins = merged["source"], merged["target"], merged["data"], merged["twins"]
    after = merged["after"]
    assert server.get(f"/v1/clinics/{source['_id']}").json() == CLINIC_NOT_FOUND
    assert db.patients.count_documents({"clinicId": source["_id"]}) == 0
    expected = {p["userId"] for p in data["target"]} | {p["userId"] for p in data["source"]}
    assert set(target_patients(db, target)) == expected and len(expected) == 124
    assert {c["userId"] for c in db.clinicians.find({"clinicId": target["_id"]})} == {SOURCE_ADMIN, TARGET_ADMIN}
    assert set(after["shareCodes"]) == {source["canonicalShareCode"], target["canonicalShareCode"]}
    assert after["canonicalShareCode"] == target["canonicalShareCode"]
    assert set(after["admins"]) == {SOURCE_ADMIN, TARGET_ADMIN}
    assert sorted(t["name"] for t in after["patientTags"]) == sorted(
        t["name"] for t in source["patientTags"] + target["patientTags"])
    assert after["patientCount"] == {"total": 124, "demo": 0, "plan": 124}
    assert len(twins) == 10


def test_merge_sites(merged, db):
    source, target, after = merged["source"], merged["target"], merged["after"]
    names = [s["name"] for s in after["sites"]]
    assert len(names) == 6 and len({n.lower() for n in names}) == 6
    shared = source["sites"][2]
    # moved as planned: original id, the source's patient count (as the reference pushes it)
    by_id = {s["id"]: s for s in after["sites"]}
    assert by_id[shared["id"]]["name"] == "Shared (2)" and by_id[shared["id"]]["patients"] > 0
    assert by_id[source["sites"][0]["id"]]["name"] == "s1"
    carrying = list(db.patients.find({"clinicId": target["_id"], "sites.id": shared["id"]}))
    assert carrying and all({"id": shared["id"], "name": "Shared (2)"} in p["sites"] for p in carrying)


def test_merge_patients(merged, db):
    source, target, data, twins, after = (merged[k] for k in ("source", "target", "data", "twins", "after"))
    now = target_patients(db, target)
    source_tags = {t["_id"]: t["name"] for t in source["patientTags"]}
    target_tags = {t["_id"]: t["name"] for t in target["patientTags"]}
    for p in data["source"]:
        result = now[p["userId"]]
        if p["userId"] in twins:
            twin = next(t for t in data["target"] if t["userId"] == p["userId"])
            assert result["_id"] == twin["_id"]
            assert tag_names(after, result["tags"]) == sorted(
                {source_tags[i] for i in p["tags"]} | {target_tags[i] for i in twin["tags"]})
            assert result.get("sites", []) == twin.get("sites", []) + renamed(p.get("sites", []))
        else:
            assert result["_id"] == p["_id"] and result["requireUniqueMrn"] is False
            assert tag_names(after, result["tags"]) == sorted(source_tags[i] for i in p["tags"])
            assert result["sites"] == renamed(p["sites"])
            assert result.get("summary") == (SUMMARY if p is data["source"][-1] else None)  # kept whole
            assert result["updatedTime"] > p["updatedTime"]
    for user_id, p in merged["before"].items():
        if user_id not in twins:
            assert now[user_id] == p  # RETAIN: untouched


def test_merge_records_every_plan(merged, db):
    source, target, data = merged["source"], merged["target"], merged["data"]
    docs = list(db.merge_plans.find())
    plan_ids = {d["planId"] for d in docs}
    assert len(plan_ids) == 1 and all(list(d) == ["_id", "plan", "planId", "type"] for d in docs)
    assert [d["type"] for d in docs] == ["tag"] * 6 + ["patient"] * 134 + ["site"] * 6 + ["clinician"] * 2 + ["clinic"]
    tags = [d["plan"] for d in docs if d["type"] == "tag"]
    assert [(t["name"], t["tagAction"]) for t in tags] == [(t["name"], "CREATE") for t in source["patientTags"]] + [
        (t["name"], "RETAIN") for t in target["patientTags"]]
    patients = [d["plan"] for d in docs if d["type"] == "patient" and d["plan"]["sourcePatient"]]
    assert sorted(p["sourcePatient"]["userId"] for p in patients) == sorted(p["userId"] for p in data["source"])
    assert all("summary" not in p["sourcePatient"] and "summary" not in (p["targetPatient"] or {}) for p in patients)
    first = patients[0]
    assert list(first) == ["sourceClinicId", "targetClinicId", "sourceClinicName", "targetClinicName", "sourcePatient",
                           "targetPatient", "conflicts", "patientAction", "sourceTagNames", "targetTagNames",
                           "sourceSiteNames", "mergedSiteNames", "targetSiteNames", "postMigrationTagNames",
                           "postMigrationSiteNames", "postMigrationMRNUniqueness", "canExecuteAction", "error"]
    assert (first["sourceClinicId"], first["targetClinicName"], first["patientAction"], first["error"]) == (
        source["_id"], "Target Clinic", "MERGE", None)
    assert first["conflicts"]["Duplicate Accounts"][0]["category"] == "Duplicate Accounts"
    clinicians = [d["plan"] for d in docs if d["type"] == "clinician"]
    assert [(c["clinician"]["userId"], c["clinicianAction"], c["workspaces"]) for c in clinicians] == [
        (SOURCE_ADMIN, "MOVE", ["Source Clinic"]), (TARGET_ADMIN, "RETAIN", ["Target Clinic"])]
    site = next(d["plan"] for d in docs if d["type"] == "site" and d["plan"]["siteAction"] == "RENAME")
    carrying = sum(1 for p in data["source"] if source["sites"][2] in p.get("sites", []))
    assert site == {"site": {"id": source["sites"][2]["id"], "name": "Shared", "patients": carrying},
                    "siteAction": "RENAME",
                    "workspace": "Source Clinic", "expectedRename": "Shared (2)", "sourceClinicId": source["_id"],
                    "targetClinicId": target["_id"]}
    [clinic] = [d["plan"] for d in docs if d["type"] == "clinic"]
    assert (clinic["source"]["_id"], clinic["target"]["_id"]) == (source["_id"], target["_id"])
    [archive] = list(db.clinic_deletions.find())
    assert archive["clinic"]["_id"] == source["_id"] and "deletedByUserId" not in archive


def test_a_failing_step_rolls_everything_back(db, services):
    source, target = pair(db)
    data = insert_population(db, source, target, unique=5, twins=2, likely=1, name_only=1, mrn_only=1)
    before = snapshot(db)
    plan = planning.plan_merge(services, str(target["_id"]), str(source["_id"]))
    plan.clinicians[0].action = "INVALID"
    with pytest.raises(InternalError):
        execution.execute(services, plan)
    assert snapshot(db) == before
    plan.clinicians[0].action = "MOVE"
    execution.execute(services, plan)
    assert db.patients.count_documents({"clinicId": source["_id"]}) == 0
    assert db.patients.count_documents({"clinicId": target["_id"]}) == len(data["target"]) + 3


# --- clinicians, tags, sites (§4.5 35, §4.6 38, §4.7 42–44) ---------------------------------------------

def test_clinicians_moved_merged_retained(db, server):
    source, target = pair(db)
    mover = seed_clinician(db, source, "c1", ["CLINIC_MEMBER"])
    moving_admin = seed_clinician(db, source, "c2", ["CLINIC_ADMIN"])
    merging = seed_clinician(db, source, "c3", ["CLINIC_ADMIN"])
    kept = seed_clinician(db, target, "c3", ["CLINIC_MEMBER"])
    assert merge(server, source, target).status_code == 200
    assert db.clinicians.count_documents({"clinicId": source["_id"]}) == 0
    assert db.clinicians.find_one({"_id": mover["_id"]})["clinicId"] == target["_id"]
    assert db.clinicians.find_one({"_id": moving_admin["_id"]})["clinicId"] == target["_id"]
    assert db.clinicians.find_one({"_id": merging["_id"]}) is None
    assert db.clinicians.find_one({"_id": kept["_id"]}) == kept  # the target's roles stay
    assert db.clinician_deletions.count_documents({}) == 0
    # only admins join the clinic's admins (the reference added every moved member)
    assert sorted(db.clinics.find_one({"_id": target["_id"]})["admins"]) == ["a0000000a1", "b0000000b1", "c2"]


def test_tags_created_once_per_source_only_name(db, server):
    source, target = pair(db)
    add_tags(db, source, "one", "two", "shared")
    add_tags(db, target, "shared", "three")
    assert merge(server, source, target).status_code == 200
    tags = db.clinics.find_one({"_id": target["_id"]})["patientTags"]
    assert [t["name"] for t in tags] == ["shared", "three", "one", "two"]
    assert tags[:2] == target["patientTags"]


def test_sites_moved_with_their_ids_and_renamed_everywhere(db, server):
    source, target = pair(db)
    src1, dup1 = add_sites(db, source, "src1", "dup1")
    add_sites(db, target, "tgt1", "dup1", "dup1 (2)", "dup1 (3)")
    p = seed_patient(db, source, "0000000001", sites=[src1, dup1])
    assert merge(server, source, target).status_code == 200
    sites = db.clinics.find_one({"_id": target["_id"]})["sites"]
    assert sites[-2:] == [{**src1, "patients": 1}, {"id": dup1["id"], "name": "dup1 (4)", "patients": 1}]
    assert db.patients.find_one({"_id": p["_id"]})["sites"] == [src1, {"id": dup1["id"], "name": "dup1 (4)"}]


def test_demo_patient_of_the_source_is_archived(db, server, services, monkeypatch):
    monkeypatch.setattr(services, "settings", dataclasses.replace(services.settings, demo_patient_user_id="demo"))
    source, target = pair(db)
    seed_patient(db, source, "demo")
    seed_patient(db, target, "demo")
    assert merge(server, source, target).status_code == 200
    [archive] = list(db.patient_deletions.find())
    assert archive["patient"]["clinicId"] == source["_id"] and "deletedByUserId" not in archive
    assert db.patients.count_documents({"userId": "demo", "clinicId": target["_id"]}) == 1
    assert db.merge_plans.count_documents({"type": "patient"}) == 0


# --- emails (runtime-storage §5.7.1) -------------------------------------------------------------------

def test_merge_emails(db, server):
    source, target = pair(db)
    for user_id in ("0000000001", "0000000002", SOURCE_ADMIN, TARGET_ADMIN, "c1", "c2"):
        seed_user(db, user_id, f"{user_id}@mail.example.com")
    seed_patient(db, source, "0000000001")
    seed_patient(db, source, "0000000002")
    seed_patient(db, target, "0000000002")
    seed_patient(db, target, "0000000003")
    seed_clinician(db, source, "c1", ["CLINIC_MEMBER"], created=T1)  # newest first
    seed_clinician(db, target, "c2", ["CLINIC_MEMBER"])
    assert merge(server, source, target).status_code == 200
    mails = [(m["template"], m["recipient"], m["variables"]) for m in db.outbox.find().sort("_id", 1)]
    names = {"SourceClinicName": "Source Clinic", "TargetClinicName": "Target Clinic"}
    assert mails == [
        ("clinic_merged_patient_notification", "0000000001@mail.example.com", names),
        ("clinic_merged_patient_notification", "0000000002@mail.example.com", names),
        ("clinic_merged_source_clinician_notification", "c1@mail.example.com", names),
        ("clinic_merged_source_clinician_notification", f"{SOURCE_ADMIN}@mail.example.com", names),
        ("clinic_merged_target_admin_notification", f"{TARGET_ADMIN}@mail.example.com", names),
    ]
    assert all(m["eventKey"] and m["subject"] for m in db.outbox.find())


def test_no_merge_email_when_the_worker_sends_them(db, server, services, monkeypatch):
    monkeypatch.setattr(services, "settings", dataclasses.replace(services.settings, effects="external"))
    source, target = pair(db)
    seed_user(db, SOURCE_ADMIN, "src@mail.example.com")
    assert merge(server, source, target).status_code == 200
    assert db.outbox.count_documents({}) == 0


# --- refusals: nothing is written ----------------------------------------------------------------------

def refused(db, server, source, target, status, message, request_body=None):
    before = snapshot(db)
    resp = server.post(merge_url(target), json=request_body if request_body is not None else body(source))
    assert (resp.status_code, resp.json()) == (status, {"message": message})
    assert snapshot(db) == before


def test_a_blocked_plan_is_refused(db, server):
    source, target = pair(db)
    seed_clinician(db, source, None, ["CLINIC_MEMBER"], invite_id="pending")
    refused(db, server, source, target, 400, NOT_EXECUTABLE["message"])
    db.clinicians.delete_many({"inviteId": "pending"})
    db.clinics.update_one({"_id": target["_id"]}, {"$set": {"timezone": "UTC"}})
    refused(db, server, source, target, 400, NOT_EXECUTABLE["message"])


def test_a_tag_equal_in_another_case_is_refused(db, server):
    source, target = pair(db)
    add_tags(db, source, "new", "Foo")
    add_tags(db, target, "f oo")
    refused(db, server, source, target, 409, "duplicate patient tag")


def test_more_than_fifty_tags_are_refused(db, server):
    source, target = pair(db)
    add_tags(db, source, "one more")
    add_tags(db, target, *[f"tag{i}" for i in range(50)])
    refused(db, server, source, target, 422,
            "constraint violation: the clinic already has the maximum number of 50 patient tags")


def test_a_site_equal_in_another_case_is_refused(db, server):
    source, target = pair(db)
    add_sites(db, source, "other", "north")
    add_sites(db, target, "North")
    refused(db, server, source, target, 409, "duplicate site name")


def test_fifty_sites_are_no_limit(db, server):
    source, target = pair(db)
    add_sites(db, source, "one more")
    add_sites(db, target, *[f"site{i}" for i in range(50)])
    assert merge(server, source, target).status_code == 200
    assert len(db.clinics.find_one({"_id": target["_id"]})["sites"]) == 51


def test_a_source_clinician_with_an_email_of_the_target_is_refused(db, server):
    source, target = pair(db)
    seed_clinician(db, source, "c1", ["CLINIC_MEMBER"], email="same@example.com")
    seed_clinician(db, target, "c2", ["CLINIC_MEMBER"], email="same@example.com")
    refused(db, server, source, target, 409,
            "duplicate: a clinician of the target clinic has the email of a source clinician")


@pytest.mark.parametrize("request_body,message", [
    (None, "request body has an error: value is required but missing"),
    ({}, "request body has an error: value is required but missing"),
    ({"other": 1}, "request body has an error: value is required but missing"),
    ({"sourceId": "abc"}, 'request body has an error: doesn\'t match schema #/components/schemas/mergeClinic.v1: '
                          'Error at "/sourceId": minimum string length is 24'),
    ({"sourceId": "0123456789ABCDEF01234567"}, 'request body has an error: doesn\'t match schema '
     '#/components/schemas/mergeClinic.v1: Error at "/sourceId": string doesn\'t match the regular expression '
     '"^[a-f0-9]{24}$"'),
])
def test_bad_bodies(db, server, request_body, message):
    source, target = pair(db)
    before = snapshot(db)
    resp = server.request("POST", merge_url(target), json=request_body)
    assert (resp.status_code, resp.json()) == (400, {"message": message})
    assert snapshot(db) == before


def test_merging_a_clinic_into_itself_is_refused(db, server):
    source, target = pair(db)
    refused(db, server, target, target, 400, "bad request: a clinic cannot be merged into itself")


def test_unknown_clinics(db, server):
    source, target = pair(db)
    unknown = {"_id": ObjectId()}
    refused(db, server, unknown, target, 404, "clinic not found")
    refused(db, server, source, unknown, 404, "clinic not found")
    resp = server.post("/v1/clinics/nothex/merge", json=body(source))
    assert resp.status_code == 400


def test_a_patient_added_after_planning_is_refused_and_rolled_back(db, services):
    source, target = pair(db)
    seed_patient(db, source, "0000000001")
    plan = planning.plan_merge(services, str(target["_id"]), str(source["_id"]))
    seed_patient(db, source, "0000000009")
    before = snapshot(db)
    with pytest.raises(Exception) as err:
        execution.execute(services, plan)
    assert (err.value.status, err.value.message) == (400, "bad request: deletion of non-empty clinics is not allowed")
    assert snapshot(db) == before


def test_a_patient_removed_after_planning_is_a_conflict(db, services):
    source, target = pair(db)
    gone = seed_patient(db, source, "0000000001")
    plan = planning.plan_merge(services, str(target["_id"]), str(source["_id"]))
    db.patients.delete_one({"_id": gone["_id"]})
    before = snapshot(db)
    with pytest.raises(Exception) as err:
        execution.execute(services, plan)
    assert (err.value.status, err.value.message) == (409, "conflict: the clinics changed while they were being merged")
    assert snapshot(db) == before


# --- who may merge -------------------------------------------------------------------------------------

def test_only_servers_may_merge(request, db, clinic, member, other_admin):
    source = seed_clinic(db, "Source", timezone="US/Pacific")
    seed_clinician(db, source, SOURCE_ADMIN, ["CLINIC_ADMIN"])
    expect_access(request, lambda api: api.post(f"/v1/clinics/{clinic['id']}/merge", json=body(source)),
                  {"server": 200})
    assert db.clinics.find_one({"_id": source["_id"]}) is None


def test_callers_without_the_right_are_denied_before_the_body_is_read(db, admin, clinic):
    resp = admin.post(f"/v1/clinics/{clinic['id']}/merge", json={"sourceId": "bad"})
    assert resp.status_code == 403


def test_a_source_clinician_without_email_clashes_with_a_target_one_without_email(db, server):
    source, target = pair(db)
    db.clinicians.insert_one({"clinicId": source["_id"], "userId": "c1", "email": None, "roles": ["CLINIC_MEMBER"]})
    db.clinicians.insert_one({"clinicId": target["_id"], "userId": "c2", "email": None, "roles": ["CLINIC_MEMBER"]})
    refused(db, server, source, target, 409,
            "duplicate: a clinician of the target clinic has the email of a source clinician")
