"""Glucose summaries on patient documents: UpdatePatientSummary and DeletePatientSummary."""
import datetime as dt

import pytest
from bson import ObjectId

from patient_docs import FIXED, insert_patient, user_id
from support.access import expect_access

USER = user_id(1)
REF = "#/components/schemas/patientSummary.v1"
CONFIG = {"schemaVersion": 5, "highGlucoseThreshold": 10, "veryHighGlucoseThreshold": 13.9,
          "lowGlucoseThreshold": 3.9, "veryLowGlucoseThreshold": 3}
RANGES = ("AnyHigh", "AnyLow", "ExtremeHigh", "High", "Low", "Target", "VeryHigh", "VeryLow")
# The contract's period fields, written out (not taken from the code under test).
CGM_HAS = ({"hasAverageDailyRecords", "hasAverageGlucoseMmol", "hasGlucoseManagementIndicator", "hasTimeCGMUseMinutes",
            "hasTimeCGMUsePercent", "hasTimeCGMUseRecords", "hasTotalRecords"}
           | {f"hasTimeIn{r}{kind}" for r in RANGES for kind in ("Minutes", "Percent", "Records")})
BGM_HAS = ({"hasAverageDailyRecords", "hasAverageGlucoseMmol", "hasTotalRecords"}
           | {f"hasTimeIn{r}{kind}" for r in RANGES for kind in ("Percent", "Records")})
CGM = "cgm"
BGM = "bgm"
# Written even when not sent: the floats and ints the reference's struct holds by value.
CGM_ALWAYS = CGM_HAS | {"coefficientOfVariation", "coefficientOfVariationDelta", "daysWithData", "daysWithDataDelta",
                        "hoursWithData", "hoursWithDataDelta", "max", "maxDelta", "min", "minDelta",
                        "standardDeviation", "standardDeviationDelta"}
BGM_ALWAYS = BGM_HAS | {"coefficientOfVariation", "coefficientOfVariationDelta", "daysWithData", "daysWithDataDelta",
                        "max", "maxDelta", "min", "minDelta", "standardDeviation", "standardDeviationDelta"}
DATES = {"hasFirstData": True, "hasLastData": True, "hasLastUploadDate": True, "hasOutdatedSince": False,
         "firstData": "2024-01-01T00:00:00Z", "lastData": "2024-01-17T06:38:22.958+01:00",
         "lastUploadDate": "2024-01-17T07:00:00Z", "lastUpdatedReason": ["UPLOAD"]}


def required_period(shape):
    """Every field the contract requires of a period, with simple values."""
    out = {key: True for key in (CGM_HAS if shape == CGM else BGM_HAS)}
    for key in ("min", "minDelta", "max", "maxDelta", "daysWithData", "daysWithDataDelta"):
        out[key] = 1
    if shape == CGM:
        for key in ("standardDeviation", "standardDeviationDelta", "coefficientOfVariation",
                    "coefficientOfVariationDelta", "hoursWithData", "hoursWithDataDelta"):
            out[key] = 2
    return out


def summary_url(user=USER):
    return f"/v1/patients/{user}/summary"


def cgm(**extra):
    return {"id": "abc123", "config": CONFIG, "dates": DATES,
            "periods": {"14d": {**required_period(CGM), "timeInTargetPercent": 0.75, "timeCGMUseMinutes": 100,
                                "averageGlucoseMmol": 7}}, **extra}


def bgm(**extra):
    return {"id": "def456", "config": CONFIG, "dates": DATES,
            "periods": {"7d": {**required_period(BGM), "totalRecords": 3, "timeInLowPercent": 0,
                               "timeCGMUsePercent": 0.5}}, **extra}


@pytest.fixture
def two_clinics(db, clinic):
    """The user is a patient of two clinics; another user is a patient too."""
    other = ObjectId()
    insert_patient(db, clinic["id"], USER)
    insert_patient(db, other, USER)
    insert_patient(db, clinic["id"], user_id(2))
    return clinic["id"], str(other)


def docs(db, user=USER):
    return list(db.patients.find({"userId": user}).sort("_id", 1))


# --- update ---------------------------------------------------------------------------------------

def test_cgm_summary_is_written_on_every_patient_document_of_the_user(server, db, two_clinics):
    resp = server.post(summary_url(), json={"cgmStats": cgm()})
    assert (resp.status_code, resp.content) == (200, b"")
    assert "content-type" not in resp.headers
    first, second = docs(db)
    assert first["summary"] == second["summary"]
    stats = first["summary"]["cgmStats"]
    assert list(stats) == ["id", "config", "dates", "periods"] and stats["id"] == "abc123"
    assert stats["config"] == {"highGlucoseThreshold": 10.0, "lowGlucoseThreshold": 3.9, "schemaVersion": 5,
                               "veryHighGlucoseThreshold": 13.9, "veryLowGlucoseThreshold": 3.0}
    assert isinstance(stats["config"]["highGlucoseThreshold"], float)
    assert isinstance(stats["config"]["schemaVersion"], int)
    assert stats["dates"] == {
        "firstData": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "hasFirstData": True, "hasLastData": True,
        "hasLastUploadDate": True, "hasOutdatedSince": False,
        "lastData": dt.datetime(2024, 1, 17, 5, 38, 22, 958000, tzinfo=dt.timezone.utc),
        "lastUpdatedReason": ["UPLOAD"], "lastUploadDate": dt.datetime(2024, 1, 17, 7, tzinfo=dt.timezone.utc)}
    period = stats["periods"]["14d"]
    assert list(period) == sorted(period)
    assert period["timeInTargetPercent"] == 0.75 and period["averageGlucoseMmol"] == 7.0
    assert isinstance(period["averageGlucoseMmol"], float) and isinstance(period["min"], float)
    assert period["timeCGMUseMinutes"] == 100 and isinstance(period["daysWithData"], int)
    # optional fields that were not sent are absent; always-written ones are present
    assert "glucoseManagementIndicator" not in period and "timeInLowPercent" not in period
    assert CGM_ALWAYS <= set(period)
    assert first["updatedTime"] > FIXED
    assert "summary" not in docs(db, user_id(2))[0]


def test_bgm_summary_shape(server, db, two_clinics):
    server.post(summary_url(), json={"bgmStats": bgm()})
    period = docs(db)[0]["summary"]["bgmStats"]["periods"]["7d"]
    assert period["standardDeviation"] is None and period["coefficientOfVariationDelta"] is None
    assert period["totalRecords"] == 3 and period["timeInLowPercent"] == 0.0
    assert "timeCGMUsePercent" not in period  # not a BGM field: dropped
    assert "hoursWithData" not in period and "timeInLowMinutes" not in period
    assert set(period) == BGM_ALWAYS | {"totalRecords", "timeInLowPercent"}


def test_one_part_leaves_the_other_untouched(server, db, two_clinics):
    server.post(summary_url(), json={"cgmStats": cgm(), "bgmStats": bgm()})
    assert server.post(summary_url(), json={"bgmStats": bgm(id="bbb")}).status_code == 200
    summary = docs(db)[0]["summary"]
    assert summary["cgmStats"]["id"] == "abc123" and summary["bgmStats"]["id"] == "bbb"


def test_a_part_without_id_is_ignored(server, db, two_clinics):
    server.post(summary_url(), json={"cgmStats": cgm()})
    no_id = {k: v for k, v in bgm().items() if k != "id"}
    resp = server.post(summary_url(), json={"bgmStats": no_id, "cgmStats": {"config": CONFIG}})
    assert resp.status_code == 200
    assert list(docs(db)[0]["summary"]) == ["cgmStats"] and docs(db)[0]["summary"]["cgmStats"]["id"] == "abc123"


def test_an_empty_id_part_is_stored_with_zeros(server, db, two_clinics):
    server.post(summary_url(), json={"cgmStats": {"id": ""}})
    assert docs(db)[0]["summary"]["cgmStats"] == {
        "id": "", "config": {"highGlucoseThreshold": 0.0, "lowGlucoseThreshold": 0.0, "schemaVersion": 0,
                             "veryHighGlucoseThreshold": 0.0, "veryLowGlucoseThreshold": 0.0},
        "dates": {"hasFirstData": False, "hasLastData": False, "hasLastUploadDate": False, "hasOutdatedSince": False}}


def test_empty_object_only_touches_updated_time(server, db, two_clinics):
    server.post(summary_url(), json={"cgmStats": cgm()})
    db.patients.update_many({}, {"$set": {"updatedTime": FIXED}})
    resp = server.post(summary_url(), json={})
    assert resp.status_code == 200
    first = docs(db)[0]
    assert first["summary"]["cgmStats"]["id"] == "abc123" and first["updatedTime"] > FIXED


def test_no_body_removes_the_summary(server, db, two_clinics):
    server.post(summary_url(), json={"cgmStats": cgm()})
    resp = server.post(summary_url())
    assert (resp.status_code, resp.content) == (200, b"")
    assert all("summary" not in d and d["updatedTime"] > FIXED for d in docs(db))


def test_unknown_user_is_a_204(server, db, two_clinics):
    resp = server.post(summary_url(user_id(9)), json={"cgmStats": cgm()})
    assert (resp.status_code, resp.content) == (204, b"")
    assert server.post(summary_url(user_id(9))).status_code == 204


def test_legacy_null_summary_is_replaced_not_a_500(server, db, clinic):
    insert_patient(db, clinic["id"], USER, summary=None)
    assert server.post(summary_url(), json={"cgmStats": cgm()}).status_code == 200
    assert docs(db)[0]["summary"]["cgmStats"]["id"] == "abc123"


@pytest.mark.parametrize("body,message", [
    ({"cgmStats": cgm(config={**CONFIG, "schemaVersion": 1.5})},
     "Unmarshal type error: expected=int, got=number 1.5, field=cgmStats.config.schemaVersion, offset=56"),
    ({"cgmStats": cgm(config={**CONFIG, "schemaVersion": 1.0})},
     "Unmarshal type error: expected=int, got=number 1.0, field=cgmStats.config.schemaVersion, offset=56"),
    ({"cgmStats": cgm(periods={"7d": {**required_period(CGM), "daysWithData": 2.5}})},
     "Unmarshal type error: expected=int, got=number 2.5, field=cgmStats.periods.7d.daysWithData, offset=1428"),
    ({"cgmStats": cgm(dates={**DATES, "lastData": "2024-01-17T06:38:22"})},
     'parsing time "2024-01-17T06:38:22" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00"'),
    ({"bgmStats": bgm(dates={**DATES, "firstData": "2024-01-17"})},
     f'request body has an error: doesn\'t match schema {REF}: Error at "/bgmStats/dates/firstData": string '
     'doesn\'t match the format "date-time": string doesn\'t match pattern "^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|'
     '[12][0-9]|3[01])T([0-1][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)[0-9]{2}:[0-9]{2})?$"'),
])
def test_binding_errors(server, db, two_clinics, body, message):
    resp = server.post(summary_url(), json=body)
    assert (resp.status_code, resp.json()) == (400, {"message": message})
    assert all("summary" not in d and d["updatedTime"] == FIXED for d in docs(db))


def test_missing_required_period_field(server, two_clinics):
    period = required_period(BGM)
    del period["minDelta"]
    resp = server.post(summary_url(), json={"bgmStats": {"id": "abc", "periods": {"7d": period}}})
    assert (resp.status_code, resp.json()) == (400, {
        "message": f'request body has an error: doesn\'t match schema {REF}: Error at "/bgmStats/periods/7d/minDelta": '
                   'property "minDelta" is missing'})


def test_bad_patient_id(server):
    resp = server.post("/v1/patients/ABC/summary", json={})
    assert resp.status_code == 400
    assert resp.json()["message"].startswith('parameter "patientId" in path has an error: ')


def test_update_access(request, db, clinic):
    insert_patient(db, clinic["id"], USER)
    expect_access(request, lambda api: api.post(summary_url(), json={"cgmStats": cgm()}), {"server": 200})


# --- delete ---------------------------------------------------------------------------------------

def test_delete_removes_only_the_parts_with_that_id(server, db, two_clinics):
    server.post(summary_url(), json={"cgmStats": cgm(id="abc"), "bgmStats": bgm(id="abd")})
    db.patients.update_many({}, {"$set": {"updatedTime": FIXED}})
    resp = server.delete("/v1/summaries/abc/clinics")
    assert (resp.status_code, resp.content) == (200, b"")
    for doc in docs(db):
        assert list(doc["summary"]) == ["bgmStats"] and doc["updatedTime"] == FIXED
    server.delete("/v1/summaries/abd/clinics")
    assert all(d["summary"] == {} for d in docs(db))


def test_delete_both_parts_sharing_an_id(server, db, two_clinics):
    server.post(summary_url(), json={"cgmStats": cgm(id="abc"), "bgmStats": bgm(id="abc")})
    assert server.delete("/v1/summaries/abc/clinics").status_code == 200
    assert all(d["summary"] == {} for d in docs(db))


def test_delete_nothing_is_a_204(server, db, two_clinics):
    server.post(summary_url(), json={"cgmStats": cgm(id="abc")})
    for summary_id in ("ab", "abcd"):
        resp = server.delete(f"/v1/summaries/{summary_id}/clinics")
        assert (resp.status_code, resp.content) == (204, b"")


def test_delete_bad_summary_id(server):
    resp = server.delete("/v1/summaries/ABC/clinics")
    assert (resp.status_code, resp.json()) == (400, {
        "message": 'parameter "summaryId" in path has an error: string doesn\'t match the regular expression '
                   '"^[a-f0-9]{0,24}$"'})


def test_delete_access(request, db, clinic):
    insert_patient(db, clinic["id"], USER, summary={"cgmStats": {"id": "abc"}})
    expect_access(request, lambda api: api.delete("/v1/summaries/abc/clinics"), {"server": 200})
