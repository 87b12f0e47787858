"""Read-back contract, patient side: rich patient documents (written through the API where the
reference's producers use it, inserted in the reference's BSON shape where only the worker or
another service writes them) are read back through every patient read operation with response
validation on. A stored shape the reference legitimately produces must never make a GET answer 500."""
from __future__ import annotations

import datetime as dt

import pytest
from bson import ObjectId

from clinic_api.resources.summaries import BGM, CGM
from conftest import ADMIN_ID
from patients_support import T0, T1, T2, insert_patient
from support import builders

UTC = dt.timezone.utc
ZERO = dt.datetime(1, 1, 1, tzinfo=UTC)
RICH, SHARED, LEGACY, BARE = "a1a1a1a1a1", "b2b2b2b2b2", "c3c3c3c3c3", "d4d4d4d4d4"
CONFIG = {"schemaVersion": 5, "highGlucoseThreshold": 10, "veryHighGlucoseThreshold": 13.9,
          "lowGlucoseThreshold": 3.9, "veryLowGlucoseThreshold": 3}
FULL_DATES = {"hasFirstData": True, "hasLastData": True, "hasLastUploadDate": True, "hasOutdatedSince": True,
              "firstData": "2024-01-01T00:00:00Z", "lastData": "2024-01-17T06:38:22.958Z",
              "lastUpdatedDate": "2024-01-17T07:00:00Z", "lastUpdatedReason": ["UPLOAD", "SCHEDULED"],
              "lastUploadDate": "2024-01-17T07:00:00Z", "outdatedReason": ["UPLOAD"],
              "outdatedSince": "2024-01-17T08:00:00Z", "outdatedSinceLimit": "2024-01-18T08:00:00Z"}
MIN_DATES = {"hasFirstData": False, "hasLastData": False, "hasLastUploadDate": False, "hasOutdatedSince": False}
RANGES = ("AnyHigh", "AnyLow", "ExtremeHigh", "High", "Low", "Target", "VeryHigh", "VeryLow")


def minimal_period(shape) -> dict:
    out = {key: False for key in shape.has}
    out.update({k: 0 for k in ("min", "minDelta", "max", "maxDelta", "daysWithData", "daysWithDataDelta")})
    if shape is CGM:
        out.update({k: 0 for k in ("standardDeviation", "standardDeviationDelta", "coefficientOfVariation",
                                   "coefficientOfVariationDelta", "hoursWithData", "hoursWithDataDelta")})
    return out


def full_period(shape) -> dict:
    out = {key: True for key in shape.has}
    out.update({"min": 2.1, "minDelta": -0.5, "max": 22.2, "maxDelta": 1.5, "daysWithData": 14,
                "daysWithDataDelta": -1, "averageDailyRecords": 12.5, "averageDailyRecordsDelta": 0.5,
                "averageGlucoseMmol": 7.2, "averageGlucoseMmolDelta": -0.1, "totalRecords": 4032,
                "totalRecordsDelta": 12})
    for r in RANGES:
        out.update({f"timeIn{r}Percent": 0.1, f"timeIn{r}PercentDelta": -0.01, f"timeIn{r}Records": 10,
                    f"timeIn{r}RecordsDelta": 1})
    if shape is CGM:
        out.update({"standardDeviation": 2.5, "standardDeviationDelta": 0.1, "coefficientOfVariation": 0.3,
                    "coefficientOfVariationDelta": 0, "hoursWithData": 300, "hoursWithDataDelta": 2,
                    "glucoseManagementIndicator": 6.9, "glucoseManagementIndicatorDelta": 0.2,
                    "timeCGMUsePercent": 0.95, "timeCGMUsePercentDelta": 0.01, "timeCGMUseMinutes": 19000,
                    "timeCGMUseMinutesDelta": 10, "timeCGMUseRecords": 3800, "timeCGMUseRecordsDelta": 3})
        for r in RANGES:
            out.update({f"timeIn{r}Minutes": 100, f"timeIn{r}MinutesDelta": -5})
    else:  # the reference leaves SD/CV null on BGM periods it was not given
        out.update({"standardDeviation": None, "coefficientOfVariation": None})
    return out


def summary(stats_id, periods, dates=FULL_DATES):
    return {"id": stats_id, "config": CONFIG, "dates": dates, "periods": periods}


@pytest.fixture
def rich(db, server, admin, as_user, clinic):
    """Four patients of `clinic`: a rich custodial one, a shared (non-custodial) one, a legacy
    document and a bare one; returns the clinic id and the tag and site ids."""
    cid = clinic["id"]
    for name in ("T1", "T2"):
        assert admin.post(f"/v1/clinics/{cid}/patient_tags", json={"name": name}).status_code == 200
    stored = db.clinics.find_one({"_id": ObjectId(cid)})
    tag_ids = [t["_id"] for t in stored["patientTags"]]
    site = admin.post(f"/v1/clinics/{cid}/sites", json={"name": "North"})
    assert site.status_code == 200, site.text
    site_id = db.clinics.find_one({"_id": ObjectId(cid)})["sites"][0]["id"]
    insert_patient(db, cid, RICH, email="rich@example.com", mrn="MRN-1", targetDevices=["dexcomG6"],
                   permissions={"custodian": {}, "view": {}, "upload": {}, "note": {}}, tags=tag_ids,
                   sites=[{"id": site_id, "name": "North", "patients": 3}], diagnosisType="type1",
                   glycemicRanges={"type": "custom", "custom": {"name": "Mine", "thresholds": [
                       {"name": "low", "upperBound": {"value": 3.9000000953674316, "units": "mmol/L"},
                        "inclusive": True},
                       {"name": "high", "upperBound": {"value": 180.0, "units": "mg/dL"}, "inclusive": False}]}},
                   ehrSubscriptions={"summaryAndReports": {
                       "active": True, "provider": "redox", "createdAt": T1, "updatedAt": T2,
                       "matchedMessages": [{"id": ObjectId(), "dataModel": "Order", "eventType": "New"}]}},
                   lastUploadReminderTime=T2, invitedBy=ADMIN_ID, legacyClinicianIds=["f0f0f0f0f0"])
    insert_patient(db, cid, SHARED, email="shared@example.com", permissions={"view": {}, "note": {}},
                   tags=[], sites=[], glycemicRanges={"type": "preset", "preset": "adaStandard"},
                   diagnosisType="", isMigrated=True)
    legacy = {"clinicId": ObjectId(cid), "userId": LEGACY, "fullName": None, "birthDate": None, "email": None,
              "mrn": None, "targetDevices": None, "tags": None, "createdTime": ZERO, "updatedTime": T0,
              "lastRequestedDexcomConnectTime": T1, "lastUploadReminderTime": ZERO, "summary": {},
              "glycemicRanges": {"type": "custom", "custom": {"name": "x", "thresholds": [
                  {"name": "a", "upperBound": {"value": 1.0, "units": "furlongs"}}]}},
              "diagnosisType": "unknown-kind"}
    db.patients.insert_one(legacy)
    db.patients.insert_one({"clinicId": ObjectId(cid), "userId": BARE, "fullName": "Bare", "birthDate": "", "mrn": ""})
    builders.written_around_the_service(db, [ObjectId(cid)])
    # the summary worker's writes: full periods, minimal periods, null SD/CV
    resp = server.post(f"/v1/patients/{RICH}/summary", json={
        "cgmStats": summary("c0ffee", {p: full_period(CGM) for p in ("1d", "7d", "14d", "30d", "90d")}),
        "bgmStats": summary("bead00", {"7d": full_period(BGM), "14d": minimal_period(BGM)})})
    assert resp.status_code == 200, resp.text
    resp = server.post(f"/v1/patients/{SHARED}/summary", json={
        "cgmStats": summary("", {"14d": minimal_period(CGM)}, MIN_DATES),
        "bgmStats": {"id": "ab"}})  # config and dates are written as zeros
    assert resp.status_code == 200, resp.text
    # the data-source service's writes, then connection requests for each provider
    sources = [{"providerName": "dexcom", "state": "connected", "dataSourceId": "0123456789abcdef01234567",
                "modifiedTime": "2024-01-02T03:04:05.6Z", "expirationTime": "2024-02-02T03:04:05Z",
                "latestDataTime": "2024-01-17T06:38:22.958Z"},
               {"providerName": "twiist", "state": "pending"}, {"providerName": "abbott", "state": "error"}]
    assert server.put(f"/v1/patients/{RICH}/data_sources", json=sources).status_code == 200
    assert server.put(f"/v1/patients/{SHARED}/data_sources", json=[]).status_code == 200
    for provider in ("dexcom", "twiist", "abbott", "dexcom"):
        resp = admin.post(f"/v1/clinics/{cid}/patients/{RICH}/connect/{provider}")
        assert resp.status_code == 204, resp.text
    db.clinicians.insert_one({"clinicId": ObjectId(cid), "userId": "e5e5e5e5e5", "roles": ["CLINIC_MEMBER"],
                              "email": "e@x.org", "name": None, "createdTime": T0, "updatedTime": T0})
    for caller in (as_user("e5e5e5e5e5"), admin):
        assert caller.put(f"/v1/clinics/{cid}/patients/{RICH}/reviews").status_code == 200
    return {"clinic": cid, "tags": [str(t) for t in tag_ids], "site": str(site_id)}


def by_id(items):
    return {p["id"]: p for p in items}


def check_rich(p, ctx):
    assert p["email"] == "rich@example.com" and p["mrn"] == "MRN-1" and p["targetDevices"] == ["dexcomG6"]
    assert list(p["permissions"]) == ["custodian", "note", "upload", "view"]
    assert p["tags"] == ctx["tags"] and p["sites"] == [{"id": ctx["site"], "name": "North"}]
    assert [len(p["connectionRequests"][k]) for k in ("abbott", "dexcom", "twiist")] == [1, 2, 1]
    ds = p["dataSources"][0]
    assert ds["dataSourceId"] == "0123456789abcdef01234567" and ds["state"] == "pendingReconnect"
    assert ds["latestDataTime"] == "2024-01-17T06:38:22.958Z" and set(ds) >= {"modifiedTime", "expirationTime"}
    assert [d["providerName"] for d in p["dataSources"]] == ["dexcom", "twiist", "abbott"]
    assert [r["clinicianId"] for r in p["reviews"]] == [ADMIN_ID, "e5e5e5e5e5"]
    assert p["glycemicRanges"]["custom"]["thresholds"][0] == {
        "inclusive": True, "name": "low", "upperBound": {"units": "mmol/L", "value": 3.9}}
    assert "inclusive" not in p["glycemicRanges"]["custom"]["thresholds"][1]
    assert p["diagnosisType"] == "type1" and p["lastUploadReminderTime"] == "2024-03-01T12:00:00Z"
    cgm, bgm = p["summary"]["cgmStats"], p["summary"]["bgmStats"]
    assert sorted(cgm["periods"]) == ["14d", "1d", "30d", "7d", "90d"]
    assert cgm["periods"]["14d"]["glucoseManagementIndicator"] == 6.9
    assert cgm["dates"]["outdatedSinceLimit"] == "2024-01-18T08:00:00Z"
    # Stored null, the reference's *float64 omitempty fields are left out (not sent as null).
    assert "standardDeviation" not in bgm["periods"]["7d"] and "coefficientOfVariation" not in bgm["periods"]["7d"]
    assert "standardDeviationDelta" not in bgm["periods"]["14d"] and "totalRecords" not in bgm["periods"]["14d"]
    assert "ehrSubscriptions" not in p and "invitedBy" not in p


def check_others(by, ctx):
    shared, legacy, bare = by[SHARED], by[LEGACY], by[BARE]
    assert shared["tags"] is None and shared["sites"] == [] and shared["dataSources"] == []
    assert shared["glycemicRanges"] == {"preset": "adaStandard", "type": "preset"} and "diagnosisType" not in shared
    assert shared["summary"]["cgmStats"]["id"] == "" and "periods" not in shared["summary"]["bgmStats"]
    assert list(shared["permissions"]) == ["note", "view"]
    assert legacy["tags"] is None and legacy["fullName"] == "" and legacy["birthDate"] == "0001-01-01"
    assert legacy["createdTime"] == "0001-01-01T00:00:00Z" and "lastUploadReminderTime" not in legacy
    assert legacy["connectionRequests"] == {"abbott": [], "dexcom": [{"createdTime": "2024-02-01T00:00:00Z",
                                                                      "providerName": "dexcom"}], "twiist": []}
    assert legacy["dataSources"] is None and legacy["reviews"] == [] and legacy["sites"] == []
    assert "glycemicRanges" not in legacy and "diagnosisType" not in legacy and "email" not in legacy
    assert "permissions" not in legacy and legacy["summary"] == {}
    assert bare["mrn"] == "" and bare["birthDate"] == "0001-01-01" and "summary" not in bare
    assert bare["createdTime"] == bare["updatedTime"] == "0001-01-01T00:00:00Z"
    assert shared["summary"]["bgmStats"]["config"]["schemaVersion"] == 0
    assert shared["summary"]["bgmStats"]["dates"]["hasLastData"] is False


def test_get_patient_reads_back_every_stored_shape(rich, admin):
    base = f"/v1/clinics/{rich['clinic']}/patients"
    got = {}
    for uid in (RICH, SHARED, LEGACY, BARE):
        resp = admin.get(f"{base}/{uid}")
        assert resp.status_code == 200, (uid, resp.text)
        got[uid] = resp.json()
    check_rich(got[RICH], rich)
    check_others(got, rich)


@pytest.mark.parametrize("query", ["", "?sort=-lastData&sortType=cgm&period=14d",
                                   "?sort=%2BaverageGlucoseMmol&sortType=bgm&period=7d",
                                   "?sort=-timeInTargetPercent&sortType=cgm&period=14d&cgm.timeCGMUsePercent=>=0.5",
                                   "?sort=-lastReviewed&sortType=cgm&period=14d",
                                   "?sort=-birthDate&sortType=bgm&limit=2&offset=1",
                                   "?lastReviewed=2099-01-01T00:00:00Z"])
def test_list_patients_reads_back_every_stored_shape(rich, admin, query):
    resp = admin.get(f"/v1/clinics/{rich['clinic']}/patients{query}")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["meta"]["count"] == (1 if "cgm.time" in query or "lastReviewed=" in query else 4)
    if not query:
        by = by_id(body["data"])
        check_rich(by[RICH], rich)
        check_others(by, rich)


def test_find_and_clinics_for_patient_read_back(rich, as_user, admin, server, db):
    found = admin.get("/v1/patients")
    assert found.status_code == 200, found.text
    pairs = {item["patient"]["id"]: item for item in found.json()}
    assert set(pairs) == {RICH, SHARED, LEGACY, BARE}
    check_rich(pairs[RICH]["patient"], rich)
    clinic = pairs[RICH]["clinic"]
    assert [(t["name"], t.get("numPatients")) for t in clinic["patientTags"]] == [("T1", 1), ("T2", 1)]
    assert clinic["sites"] == [{"id": rich["site"], "name": "North", "numPatients": 1}]
    for uid in (RICH, LEGACY):
        resp = server.get(f"/v1/patients/{uid}/clinics")
        assert resp.status_code == 200, resp.text
        assert [item["patient"]["id"] for item in resp.json()] == [uid]
    mine = as_user(SHARED).get(f"/v1/patients/{SHARED}/clinics")
    assert mine.status_code == 200 and mine.json()[0]["patient"]["summary"]["cgmStats"]["id"] == ""


def test_tide_report_over_rich_patients(rich, admin, db):
    cid = rich["clinic"]
    db.patients.update_one({"userId": SHARED}, {"$set": {"summary.cgmStats.dates.lastData": T2,
                                                          "tags": [ObjectId(rich["tags"][0])]}})
    period = {"timeCGMUsePercent": 0.5, "timeInTargetPercent": 0.5, "timeInVeryLowPercent": 0.0}
    db.patients.update_one({"userId": LEGACY}, {"$set": {"tags": [ObjectId(rich["tags"][0])], "summary": {"cgmStats": {
        "id": "", "dates": {"hasLastData": True, "lastData": T2}, "periods": {"14d": period}}}}})
    url = (f"/v1/clinics/{cid}/tide_report?period=14d&lastDataCutoff=2024-01-01T00:00:00.000Z"
           f"&tags={rich['tags'][0]}")
    resp = admin.get(url)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["config"]["lastDataCutoff"] == "2024-01-01T00:00:00Z"
    rows = [row for cat in body["results"].values() for row in cat]
    by = {row["patient"]["id"]: row for row in rows}
    assert {RICH, LEGACY} <= set(by) <= {RICH, SHARED, LEGACY}
    assert by[LEGACY]["patient"]["dataSources"] is None and by[LEGACY]["patient"]["reviews"] == []
    assert not {"email", "fullName"} & set(by[LEGACY]["patient"]) and by[LEGACY]["timeCGMUsePercent"] == 0.5
    assert by[RICH]["patient"]["dataSources"][0]["latestDataTime"] == "2024-01-17T06:38:22.958Z"
    assert by[RICH]["glucoseManagementIndicator"] == 6.9 and len(by[RICH]["patient"]["reviews"]) == 2


def test_patients_written_through_the_api_read_back(db, admin, server, clinic):
    cid = clinic["id"]
    created = admin.post(f"/v1/clinics/{cid}/patients", json={
        "fullName": "Api Made", "birthDate": "2001-02-03", "targetDevices": [], "tags": [],
        "glycemicRanges": {"type": "preset", "preset": "adaHighRisk"}, "diagnosisType": "lada"})
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["tags"] is None and body["sites"] == [] and body["dataSources"] is None
    shared = server.post(f"/v1/clinics/{cid}/patients/{SHARED}", json={"permissions": {"view": {}}})
    assert shared.status_code == 200, shared.text
    assert shared.json()["permissions"] == {"view": {}} and "email" not in shared.json()
    pid = body["id"]
    updated = admin.put(f"/v1/clinics/{cid}/patients/{pid}", json={"fullName": "Api Made", "birthDate": "2001-02-03",
                                                                     "tags": [], "sites": [], "dataSources": [],
                                                                     "diagnosisType": ""})
    assert updated.status_code == 200, updated.text
    for resp in (admin.get(f"/v1/clinics/{cid}/patients/{pid}"), admin.get(f"/v1/clinics/{cid}/patients")):
        assert resp.status_code == 200, resp.text
    got = admin.get(f"/v1/clinics/{cid}/patients/{pid}").json()
    assert got["tags"] is None and got["sites"] == [] and not {"mrn", "targetDevices", "diagnosisType"} & set(got)
    assert got["glycemicRanges"] == {"preset": "adaHighRisk", "type": "preset"} and got["dataSources"] == []
    custom = {"type": "custom", "custom": {"name": "c", "thresholds": [
        {"name": "low", "upperBound": {"value": 70, "units": "mg/dL"}}]}}
    for ranges, expected in (({}, {"preset": "adaStandard", "type": "preset"}), (custom, custom)):
        resp = admin.put(f"/v1/clinics/{cid}/patients/{pid}", json={"fullName": "Api Made", "birthDate": "2001-02-03",
                                                                  "glycemicRanges": ranges})
        assert resp.status_code == 200, resp.text
        assert admin.get(f"/v1/clinics/{cid}/patients/{pid}").json()["glycemicRanges"] == expected
    db.users.insert_one({"_id": LEGACY, "username": "Legacy@X.org", "emails": ["legacy@x.org"], "profile": {
        "fullName": "Parent", "patient": {"birthday": "2012-03-04", "targetDevices": ["omnipod"], "fullName": "Kid"}}})
    resp = server.post(f"/v1/clinics/{cid}/patients/{LEGACY}", json={"permissions": {"custodian": {}, "upload": {}}})
    assert resp.status_code == 200, resp.text
    got = admin.get(f"/v1/clinics/{cid}/patients/{LEGACY}").json()
    assert (got["fullName"], got["birthDate"], got["email"], got["targetDevices"]) == (
        "Kid", "2012-03-04", "legacy@x.org", ["omnipod"])
    resp = admin.post(f"/v1/clinics/{cid}/patients/{pid}/upload_reminder")
    assert resp.status_code == 200 and resp.json()["id"] == pid
