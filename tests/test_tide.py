"""The TIDE report: the reference's fixture, every threshold from both sides, limits, order,
parameters and the response shape."""
import datetime as dt
import urllib.parse

import pytest
from bson import ObjectId

from clinic_api.domain import tide
from patient_docs import insert_patient, user_id
from tide_fixture import A, B, CUTOFF, NAMES, ROWS, insert_fixture, period_values, t
from support.access import expect_access

NOW = dt.datetime(2025, 8, 20, tzinfo=dt.timezone.utc)
CUTOFF_DT = t(CUTOFF)
DEFAULT_EXPECTED = {
    "timeInVeryLowPercent": [2], "timeInAnyLowPercent": [10], "timeInVeryHighPercent": [13, 12],
    "timeInAnyHighPercent": [14], "dropInTimeInTargetPercent": [], "timeCGMUsePercent": [3],
    "meetingTargets": [1, 8, 9], "noData": [6, 8]}


def report_url(clinic_id, **params):
    query = {"period": "14d", "tags": str(A), "lastDataCutoff": CUTOFF, **params}
    return f"/v1/clinics/{clinic_id}/tide_report?" + "&".join(f"{k}={urllib.parse.quote(str(v), safe=',:')}"
                                                               for k, v in query.items() if v is not None)


def numbers(results) -> dict:
    """category -> fixture numbers, from an API response's results."""
    by_name = {name: n for n, name in NAMES.items()}
    return {cat: [by_name[p["patient"]["fullName"]] for p in patients] for cat, patients in results.items()}


def build(services, clinic_id, **kw):
    args = {"period": "14d", "tag_ids": [str(A)], "cutoff": CUTOFF_DT, "now": NOW, **kw}
    return tide.build(services, clinic_id, **args)


def doc_numbers(report) -> dict:
    return {cat: [int(d["userId"], 16) for d in docs] for cat, docs in report.results.items()}


@pytest.fixture
def fixture(db, clinic):
    return insert_fixture(db, clinic["id"])


# --- the reference's fixture (scenarios 37-44) -------------------------------------------------------

def test_default_report(server, clinic, fixture):
    resp = server.get(report_url(clinic["id"]))
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["config", "results"]
    assert numbers(body["results"]) == DEFAULT_EXPECTED
    assert list(body["results"]) == sorted(DEFAULT_EXPECTED)


def test_default_report_counts(services, db, clinic, fixture):
    report = build(services, clinic["id"])
    assert report.selected == 11
    assert doc_numbers(build(services, clinic["id"], categories=[])) == {"noData": [6, 8]}


def test_exclude_no_data(server, services, db, clinic, fixture):
    resp = server.get(report_url(clinic["id"], excludeNoData="true"))
    expected = {k: v for k, v in DEFAULT_EXPECTED.items() if k != "noData"}
    assert numbers(resp.json()["results"]) == expected
    report = build(services, clinic["id"], exclude_no_data=True)
    assert report.selected == 9


@pytest.mark.parametrize("categories,exclude,expected", [
    ("timeInVeryLowPercent,timeCGMUsePercent", True, {"timeInVeryLowPercent": [2], "timeCGMUsePercent": [3, 10]}),
    ("meetingTargets", True, {"meetingTargets": [1, 8, 9]}),
    ("meetingTargets", False, {"meetingTargets": [1, 8, 9], "noData": [6, 8]}),
    ("meetingTargets,timeInVeryLowPercent", True, {"meetingTargets": [1, 8, 9], "timeInVeryLowPercent": [2]}),
    ("timeInAnyHighPercent", True, {"timeInAnyHighPercent": [14, 12, 13]}),
    ("timeInExtremeHighPercent,timeInTargetPercent", True,
     {"timeInExtremeHighPercent": [13], "timeInTargetPercent": [2, 14]}),
    ("timeCGMUsePercent,timeInVeryLowPercent,timeCGMUsePercent", True,
     {"timeCGMUsePercent": [2, 3, 10], "timeInVeryLowPercent": []}),
])
def test_requested_categories(server, clinic, fixture, categories, exclude, expected):
    resp = server.get(report_url(clinic["id"], categories=categories, excludeNoData=str(exclude).lower()))
    assert resp.status_code == 200
    assert numbers(resp.json()["results"]) == expected


def test_config(server, clinic, fixture):
    tags = f"{A},{A},{B}"
    resp = server.get(report_url(clinic["id"], tags=tags, lastDataCutoff="2025-07-01T02:00:00.500+02:00"))
    assert resp.json()["config"] == {
        "clinicId": clinic["id"], "extremeHighGlucoseThreshold": 19.4,
        "filters": {"dropInTimeInTargetPercent": "<-0.15", "timeCGMUsePercent": "<0.7", "timeInAnyLowPercent": ">0.04",
                    "timeInTargetPercent": "<0.7", "timeInVeryLowPercent": ">0.01"},
        "highGlucoseThreshold": 10, "lastDataCutoff": "2025-07-01T02:00:00.5+02:00", "lowGlucoseThreshold": 3.9,
        "period": "14d", "schemaVersion": 2, "tags": [str(A), str(A), str(B)], "veryHighGlucoseThreshold": 13.9,
        "veryLowGlucoseThreshold": 3}
    raw = resp.content.decode()
    assert raw.startswith('{"config":{"clinicId":') and '"highGlucoseThreshold":10,' in raw
    assert '"veryLowGlucoseThreshold":3}' in raw and '"dropInTimeInTargetPercent":"\\u003c-0.15"' in raw
    # only patient 6 carries both A and B, and its data is older than the cutoff
    assert numbers(resp.json()["results"]) == {**{c: [] for c in tide.DEFAULT_CATEGORIES}, "noData": [6]}


def test_result_values_are_the_period_values(server, clinic, fixture):
    results = server.get(report_url(clinic["id"])).json()["results"]
    row = next(r for r in ROWS if r[0] == 13)
    entry = results["timeInVeryHighPercent"][0]
    values = period_values(row)
    assert list(entry) == ["averageGlucoseMmol", "glucoseManagementIndicator", "lastData", "patient",
                           "timeCGMUseMinutes", "timeCGMUsePercent", "timeInAnyHighPercent", "timeInAnyLowPercent",
                           "timeInExtremeHighPercent", "timeInHighPercent", "timeInLowPercent", "timeInTargetPercent",
                           "timeInTargetPercentDelta", "timeInVeryHighPercent", "timeInVeryLowPercent"]
    assert {k: entry[k] for k in values} == values
    assert entry["lastData"] == "2025-07-08T18:15:42.591Z"
    assert entry["patient"] == {"dataSources": [{"providerName": "dexcom", "state": "connected"}],
                                "email": f"{user_id(13)}@example.com", "fullName": "Extreme High",
                                "id": user_id(13), "reviews": [], "tags": [str(A)]}
    meeting = results["meetingTargets"][0]
    assert meeting["timeInVeryHighPercent"] == 0 and "glucoseManagementIndicator" not in meeting
    assert meeting["patient"]["dataSources"] is None


# --- scenarios 45-46: limits ----------------------------------------------------------------------

def test_no_data_is_limited_to_fifty(services, db, clinic):
    for n in range(151):
        insert_patient(db, clinic["id"], user_id(n), tags=[A])
    report = build(services, clinic["id"], period="7d", cutoff=NOW - dt.timedelta(days=7))
    assert report.selected == 50
    assert len(report.results["noData"]) == 50
    assert all(report.results[c] == [] for c in tide.DEFAULT_CATEGORIES)


def _summary(last_data, **values):
    return {"cgmStats": {"dates": {"lastData": last_data}, "periods": {"7d": values}}}


def test_categories_share_one_hundred_places(services, db, clinic):
    recent = NOW - dt.timedelta(hours=24)
    n = iter(range(1000))
    for _ in range(33):
        insert_patient(db, clinic["id"], user_id(next(n)), tags=[A],
                       summary=_summary(recent, timeInVeryLowPercent=0.015, timeInAnyLowPercent=0.015))
    for _ in range(33):
        insert_patient(db, clinic["id"], user_id(next(n)), tags=[A],
                       summary=_summary(recent, timeInLowPercent=0.045, timeInAnyLowPercent=0.045))
    for _ in range(35):
        insert_patient(db, clinic["id"], user_id(next(n)), tags=[A],
                       summary=_summary(recent, timeInTargetPercent=0.75, timeCGMUsePercent=0.80))
    for _ in range(51):
        insert_patient(db, clinic["id"], user_id(next(n)), tags=[A])
    report = build(services, clinic["id"], period="7d", cutoff=NOW - dt.timedelta(days=7))
    sizes = {cat: len(docs) for cat, docs in report.results.items()}
    assert sizes == {"timeInVeryLowPercent": 33, "timeInAnyLowPercent": 33, "timeInVeryHighPercent": 0,
                     "timeInAnyHighPercent": 0, "dropInTimeInTargetPercent": 0, "timeCGMUsePercent": 0,
                     "meetingTargets": 34, "noData": 50}
    assert report.selected == 150


def test_categories_after_the_budget_is_spent_get_no_key(services, db, clinic):
    recent = NOW - dt.timedelta(hours=24)
    for n in range(100):
        insert_patient(db, clinic["id"], user_id(n), tags=[A], summary=_summary(recent, timeInVeryLowPercent=0.5))
    insert_patient(db, clinic["id"], user_id(100), tags=[A], summary=_summary(recent, timeInAnyLowPercent=0.5))
    report = build(services, clinic["id"], period="7d", exclude_no_data=True)
    assert list(report.results) == ["timeInVeryLowPercent"] and len(report.results["timeInVeryLowPercent"]) == 100


def test_ties_are_broken_by_document_id(services, db, clinic):
    recent = NOW - dt.timedelta(hours=1)
    ids = [ObjectId(f"{i:024x}") for i in (5, 3, 9, 1)]
    for i, oid in enumerate(ids):
        insert_patient(db, clinic["id"], user_id(i), _id=oid, tags=[A], summary=_summary(recent, timeCGMUsePercent=0.5))
    insert_patient(db, clinic["id"], user_id(9), tags=[A], summary=_summary(recent, timeCGMUsePercent=0.4))
    for i, _oid in enumerate(ids):
        insert_patient(db, clinic["id"], user_id(20 + i), _id=ObjectId(f"{99 - i:024x}"), tags=[A])
    report = build(services, clinic["id"], period="7d", categories=["timeCGMUsePercent"])
    found = [d["_id"] for d in report.results["timeCGMUsePercent"]]
    assert found[1:] == sorted(ids) and report.results["timeCGMUsePercent"][0]["userId"] == user_id(9)
    no_data = [d["_id"] for d in report.results["noData"]]
    assert no_data == sorted(no_data)


# --- every threshold from both sides --------------------------------------------------------------

GOOD = {"timeInTargetPercent": 0.8, "timeCGMUsePercent": 0.9, "timeInAnyLowPercent": 0.0, "timeInVeryLowPercent": 0.0,
        "timeInAnyHighPercent": 0.0, "timeInVeryHighPercent": 0.0, "timeInExtremeHighPercent": 0.0}
THRESHOLDS = [
    # category, values that place the patient, values that do not
    ("timeInVeryLowPercent", {"timeInVeryLowPercent": 0.0101}, {"timeInVeryLowPercent": 0.01}),
    ("timeInAnyLowPercent", {"timeInAnyLowPercent": 0.0401}, {"timeInAnyLowPercent": 0.04}),
    ("timeInExtremeHighPercent", {"timeInExtremeHighPercent": 0.01}, {"timeInExtremeHighPercent": 0.0099}),
    ("timeInVeryHighPercent", {"timeInVeryHighPercent": 0.0501}, {"timeInVeryHighPercent": 0.05}),
    ("timeInAnyHighPercent", {"timeInAnyHighPercent": 0.2501}, {"timeInAnyHighPercent": 0.25}),
    ("dropInTimeInTargetPercent", {"timeInTargetPercentDelta": -0.1501}, {"timeInTargetPercentDelta": -0.15}),
    ("timeInTargetPercent", {"timeInTargetPercent": 0.6999}, {"timeInTargetPercent": 0.7}),
    ("timeCGMUsePercent", {"timeCGMUsePercent": 0.6999}, {"timeCGMUsePercent": 0.7}),
    ("meetingTargets", {**GOOD, "timeInTargetPercent": 0.7, "timeCGMUsePercent": 0.7},
     {**GOOD, "timeInTargetPercent": 0.6999}),
    ("meetingTargets", {"timeInTargetPercent": 0.7, "timeCGMUsePercent": 0.7}, {**GOOD, "timeCGMUsePercent": 0.6999}),
    ("meetingTargets", {**GOOD, "timeInAnyLowPercent": 0.04}, {**GOOD, "timeInAnyLowPercent": 0.0401}),
    ("meetingTargets", {**GOOD, "timeInVeryLowPercent": 0.01}, {**GOOD, "timeInVeryLowPercent": 0.0101}),
    ("meetingTargets", {**GOOD, "timeInAnyHighPercent": 0.25}, {**GOOD, "timeInAnyHighPercent": 0.2501}),
    ("meetingTargets", {**GOOD, "timeInVeryHighPercent": 0.05}, {**GOOD, "timeInVeryHighPercent": 0.0501}),
    ("meetingTargets", {**GOOD, "timeInExtremeHighPercent": 0.0099}, {**GOOD, "timeInExtremeHighPercent": 0.01}),
]


@pytest.mark.parametrize("category,inside,outside", THRESHOLDS)
def test_threshold(services, db, clinic, category, inside, outside):
    recent = NOW - dt.timedelta(hours=1)
    insert_patient(db, clinic["id"], user_id(1), tags=[A], summary=_summary(recent, **inside))
    insert_patient(db, clinic["id"], user_id(2), tags=[A], summary=_summary(recent, **outside))
    report = build(services, clinic["id"], period="7d", categories=[category], exclude_no_data=True)
    assert doc_numbers(report) == {category: [1]}


def test_last_data_cutoff_is_inclusive(services, db, clinic):
    insert_patient(db, clinic["id"], user_id(1), tags=[A], summary=_summary(CUTOFF_DT, timeCGMUsePercent=0.1))
    insert_patient(db, clinic["id"], user_id(2), tags=[A],
                   summary=_summary(CUTOFF_DT - dt.timedelta(milliseconds=1), timeCGMUsePercent=0.1))
    report = build(services, clinic["id"], period="7d", categories=["timeCGMUsePercent"], exclude_no_data=True)
    assert doc_numbers(report) == {"timeCGMUsePercent": [1]}


def test_patients_must_carry_every_requested_tag(services, db, clinic):
    recent = NOW - dt.timedelta(hours=1)
    insert_patient(db, clinic["id"], user_id(1), tags=[A, B], summary=_summary(recent, timeCGMUsePercent=0.1))
    insert_patient(db, clinic["id"], user_id(2), tags=[A], summary=_summary(recent, timeCGMUsePercent=0.1))
    insert_patient(db, ObjectId(), user_id(3), tags=[A, B], summary=_summary(recent, timeCGMUsePercent=0.1))
    report = build(services, clinic["id"], period="7d", tag_ids=[str(A), str(B)], categories=["timeCGMUsePercent"],
                   exclude_no_data=True)
    assert doc_numbers(report) == {"timeCGMUsePercent": [1]}


def test_only_the_requested_period_counts(services, db, clinic):
    recent = NOW - dt.timedelta(hours=1)
    insert_patient(db, clinic["id"], user_id(1), tags=[A], summary={"cgmStats": {
        "dates": {"lastData": recent}, "periods": {"14d": {"timeCGMUsePercent": 0.1}}}})
    report = build(services, clinic["id"], period="7d", categories=["timeCGMUsePercent"], exclude_no_data=True)
    assert doc_numbers(report) == {"timeCGMUsePercent": []}


@pytest.mark.parametrize("last_data,dexcom,in_no_data", [
    (None, None, True),  # no summary at all
    (NOW - dt.timedelta(hours=8), "disconnected", False),  # exactly 8 h old: still fresh
    (NOW - dt.timedelta(hours=8, milliseconds=1), "disconnected", True),
    (NOW - dt.timedelta(hours=8, milliseconds=1), "connected", False),
    (NOW - dt.timedelta(hours=8, milliseconds=1), None, False),
    (CUTOFF_DT - dt.timedelta(milliseconds=1), None, True),  # older than the cutoff
    (CUTOFF_DT, None, False),
])
def test_no_data(services, db, clinic, last_data, dexcom, in_no_data):
    fields = {"tags": [A]}
    if last_data is not None:
        fields["summary"] = _summary(last_data)
    if dexcom:
        fields["dataSources"] = [{"providerName": "twiist", "state": "error"}, {"providerName": "dexcom",
                                                                                "state": dexcom}]
    insert_patient(db, clinic["id"], user_id(1), **fields)
    report = build(services, clinic["id"], categories=[])
    assert doc_numbers(report) == {"noData": [1] if in_no_data else []}


def test_no_data_lists_missing_data_first(services, db, clinic):
    insert_patient(db, clinic["id"], user_id(1), tags=[A], summary=_summary(CUTOFF_DT - dt.timedelta(days=1)))
    insert_patient(db, clinic["id"], user_id(2), tags=[A], summary=_summary(CUTOFF_DT - dt.timedelta(days=2)))
    insert_patient(db, clinic["id"], user_id(3), tags=[A])
    assert doc_numbers(build(services, clinic["id"], categories=[])) == {"noData": [3, 2, 1]}


# --- response shape details ---------------------------------------------------------------------------

def test_patient_rendering(server, db, clinic):
    when = dt.datetime(2025, 7, 2, 3, 4, 5, 600000, tzinfo=dt.timezone.utc)
    source_id = ObjectId()
    insert_patient(db, clinic["id"], user_id(1), tags=[A, B], email=None, fullName="",
                   dataSources=[{"dataSourceId": source_id, "modifiedTime": when, "providerName": "dexcom",
                                 "state": "connected", "latestDataTime": when}],
                   reviews=[{"clinicianId": "1234567890", "time": when}],
                   summary={"cgmStats": {"dates": {"lastData": when}, "periods": {"7d": {"timeCGMUsePercent": 0.5}}}})
    resp = server.get(report_url(clinic["id"], period="14d", categories="timeCGMUsePercent", excludeNoData="1"))
    assert resp.json()["results"] == {"timeCGMUsePercent": []}
    resp = server.get(report_url(clinic["id"], period="7d", categories="timeCGMUsePercent", excludeNoData="t"))
    assert resp.json()["results"]["timeCGMUsePercent"] == [{
        "lastData": "2025-07-02T03:04:05.6Z",
        "patient": {"dataSources": [{"dataSourceId": str(source_id), "latestDataTime": "2025-07-02T03:04:05.6Z",
                                     "modifiedTime": "2025-07-02T03:04:05.6Z", "providerName": "dexcom",
                                     "state": "connected"}],
                    "fullName": "", "id": user_id(1), "reviews": [{"clinicianId": "1234567890",
                                                                   "time": "2025-07-02T03:04:05.6Z"}],
                    "tags": [str(A), str(B)]},
        "timeCGMUsePercent": 0.5}]


def test_unknown_clinic_has_empty_results(server):
    resp = server.get(report_url("b" * 24, categories="meetingTargets"))
    assert resp.status_code == 200 and resp.json()["results"] == {"meetingTargets": [], "noData": []}


# --- parameters (scenario 47) ----------------------------------------------------------------------------

DT_PATTERN = ("^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])T([0-1][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)"
              "(\\.[0-9]+)?(Z|(\\+|-)[0-9]{2}:[0-9]{2})?$")
ALLOWED = ('["timeInVeryLowPercent","timeInAnyLowPercent","timeInExtremeHighPercent","timeInVeryHighPercent",'
           '"timeInAnyHighPercent","dropInTimeInTargetPercent","timeInTargetPercent","timeCGMUsePercent","meetingTargets"]')
TAG = str(A)
OK = f"period=14d&tags={TAG}&lastDataCutoff=2024-01-01T00:00:00Z"


@pytest.mark.parametrize("query,message", [
    (f"tags={TAG}&lastDataCutoff=2024-01-01T00:00:00Z", 'parameter "period" in query has an error: value is required '
                                                        'but missing'),
    (f"period=2d&tags={TAG}&lastDataCutoff=2024-01-01T00:00:00Z",
     'parameter "period" in query has an error: string doesn\'t match the regular expression "^(1d|7d|14d|30d)$"'),
    ("period=7d&lastDataCutoff=2024-01-01T00:00:00Z", 'parameter "tags" in query has an error: value is required but '
                                                      'missing'),
    ("period=7d&tags=&lastDataCutoff=2024-01-01T00:00:00Z", 'parameter "tags" in query has an error: empty value is '
                                                            'not allowed'),
    ("period=7d&tags=abc&lastDataCutoff=2024-01-01T00:00:00Z",
     'parameter "tags" in query has an error: Error at "/0": minimum string length is 24'),
    (f"period=7d&tags={TAG},{'Z' * 24}&lastDataCutoff=2024-01-01T00:00:00Z",
     'parameter "tags" in query has an error: Error at "/1": string doesn\'t match the regular expression '
     '"^[a-f0-9]{24}$"'),
    (f"period=7d&tags={TAG}&tags={TAG}&lastDataCutoff=2024-01-01T00:00:00Z",
     "Invalid format for parameter tags: parameter 'tags' is not exploded, but is specified multiple times"),
    (f"period=7d&tags={TAG}", 'parameter "lastDataCutoff" in query has an error: value is required but missing'),
    (f"period=7d&tags={TAG}&lastDataCutoff=2024-01-01T00:00:00+05:00",
     f'parameter "lastDataCutoff" in query has an error: string doesn\'t match the format "date-time": string doesn\'t '
     f'match pattern "{DT_PATTERN}"'),
    (f"period=7d&tags={TAG}&lastDataCutoff=2024-01-01T00:00:00z",
     f'parameter "lastDataCutoff" in query has an error: string doesn\'t match the format "date-time": string doesn\'t '
     f'match pattern "{DT_PATTERN}"'),
    (f"period=7d&tags={TAG}&lastDataCutoff=2024-01-01",
     f'parameter "lastDataCutoff" in query has an error: string doesn\'t match the format "date-time": string doesn\'t '
     f'match pattern "{DT_PATTERN}"'),
    (f"period=7d&tags={TAG}&lastDataCutoff=2024-01-01T00:00:00",
     "Invalid format for parameter lastDataCutoff: error parsing '2024-01-01T00:00:00' as RFC3339 or 2006-01-02 time: "
     'parsing time "2024-01-01T00:00:00": extra text: "T00:00:00"'),
    (f"period=7d&tags={TAG}&lastDataCutoff=2024-02-30T00:00:00Z",
     "Invalid format for parameter lastDataCutoff: error parsing '2024-02-30T00:00:00Z' as RFC3339 or 2006-01-02 time: "
     'parsing time "2024-02-30T00:00:00Z": day out of range'),
    (f"period=7d&tags={TAG}&lastDataCutoff=0001-01-01T00:00:00Z", "bad request: no lastDataCutoff provided"),
    (f"period=7d&tags={TAG}&lastDataCutoff=0001-01-01T00:00:00.000%2B00:00", "bad request: no lastDataCutoff provided"),
    (OK + "&categories=noData", f'parameter "categories" in query has an error: Error at "/0": value is not one of the '
                                f'allowed values {ALLOWED}'),
    (OK + "&categories=", 'parameter "categories" in query has an error: empty value is not allowed'),
    (OK + "&categories=meetingTargets&categories=timeCGMUsePercent",
     "Invalid format for parameter categories: parameter 'categories' is not exploded, "
     "but is specified multiple times"),
    (OK + "&excludeNoData=yes", 'parameter "excludeNoData" in query has an error: value yes: an invalid boolean: '
                                'invalid syntax'),
    (OK + "&excludeNoData=tRUE", 'parameter "excludeNoData" in query has an error: value tRUE: an invalid boolean: '
                                 'invalid syntax'),
])
def test_parameter_errors(server, clinic, query, message):
    resp = server.get(f"/v1/clinics/{clinic['id']}/tide_report?{query}")
    assert (resp.status_code, resp.json()) == (400, {"message": message})


@pytest.mark.parametrize("value,exclude", [("1", True), ("t", True), ("T", True), ("TRUE", True), ("True", True),
                                           ("0", False), ("f", False), ("F", False), ("FALSE", False),
                                           ("false", False)])
def test_go_booleans_for_exclude_no_data(server, clinic, value, exclude):
    resp = server.get(f"/v1/clinics/{clinic['id']}/tide_report?{OK}&categories=meetingTargets&excludeNoData={value}")
    assert resp.status_code == 200
    assert ("noData" in resp.json()["results"]) is not exclude


@pytest.mark.parametrize("given,echo", [("2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00Z"),
                                        ("2024-01-01T00:00:00.123456789%2B05:30",
                                         "2024-01-01T00:00:00.123456789+05:30"),
                                        ("2024-01-01T00:00:00.120-00:00", "2024-01-01T00:00:00.12Z")])
def test_cutoff_echo(server, clinic, given, echo):
    resp = server.get(f"/v1/clinics/{clinic['id']}/tide_report?period=7d&tags={TAG}&lastDataCutoff={given}")
    assert resp.json()["config"]["lastDataCutoff"] == echo


def test_unknown_query_parameters_are_ignored(server, clinic):
    assert server.get(f"/v1/clinics/{clinic['id']}/tide_report?{OK}&lastData=1").status_code == 200


def test_access(request, clinic):
    expect_access(request, lambda api: api.get(f"/v1/clinics/{clinic['id']}/tide_report?{OK}"),
                  {"server": 200, "admin": 200, "member": 200})
