"""ListPatients: search, paging, sorts, filters, errors and authorization."""
from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest
from bson import ObjectId

from clinic_api.paging import Page
from patients_support import MISSING_TOKEN, NOT_AUTHORIZED, T0, T1, T2, UNKNOWN_CLINIC, insert_patient, stats
from support.paths import patients_list_url as url

UTC = dt.timezone.utc


def ids(resp):
    assert resp.status_code == 200, resp.text
    return [p["id"] for p in resp.json()["data"]]


def uid(n):
    return f"{n:010x}"


def cgm(period="14d", dates=None, **values):
    return stats("cgm", period, dates, **values)


@pytest.fixture
def people(db, clinic):
    """Five patients with names that need the collation, e-mails, MRNs and birth dates."""
    rows = [("Zed Zulu", "zed@x.org", "MRN-5", "1990-12-01"), ("ábel Alpha", "abel@x.org", "mrn-2", "2008-01-06"),
            ("anne Beta", "anne@x.org", None, "2008-01-20"), ("Bob (Gamma)", "bob@y.org", "M.3", "1970-07-07"),
            ("Anne Alpha", None, "0000000001", "2001-02-03")]
    for n, (name, email, mrn, birth) in enumerate(rows, 1):
        insert_patient(db, clinic["id"], uid(n), fullName=name, email=email, mrn=mrn, birthDate=birth)
    insert_patient(db, ObjectId(), uid(99), fullName="Other Clinic")
    return {name: uid(n) for n, (name, *_rest) in enumerate(rows, 1)}


def test_default_sort_is_case_and_accent_insensitive(member, clinic, people, services):
    # The same order from MongoDB's collation {locale: en, strength: 1} and from the memory store's
    # folded-name stand-in (tested on its own in test_embedded_store.py).
    resp = member.get(url(clinic))
    names = [p["fullName"] for p in resp.json()["data"]]
    assert names == ["ábel Alpha", "Anne Alpha", "anne Beta", "Bob (Gamma)", "Zed Zulu"]
    assert resp.json()["meta"] == {"count": 5, "totalCount": 5}
    names = [p["fullName"] for p in member.get(url(clinic, "sort=-fullName&sortType=cgm")).json()["data"]]
    assert names == ["Zed Zulu", "Bob (Gamma)", "anne Beta", "Anne Alpha", "ábel Alpha"]


def test_equal_names_ordered_by_id(member, clinic, db):
    for n, name in enumerate(["anne", "Anne", "ANNE", "Änne"], 1):
        insert_patient(db, clinic["id"], uid(n), fullName=name)
    assert ids(member.get(url(clinic))) == [uid(1), uid(2), uid(3), uid(4)]
    assert ids(member.get(url(clinic, "sort=-fullName&sortType=bgm"))) == [uid(1), uid(2), uid(3), uid(4)]


def test_paging(member, clinic, people):
    all_ids = ids(member.get(url(clinic, "limit=10")))
    assert len(ids(member.get(url(clinic, "limit=2")))) == 2
    resp = member.get(url(clinic, "offset=1&limit=2"))
    assert ids(resp) == all_ids[1:3] and resp.json()["meta"] == {"count": 5, "totalCount": 5}
    resp = member.get(url(clinic, "offset=10"))
    assert resp.json() == {"data": [], "meta": {"count": 5, "totalCount": 5}}


def test_counts_of_a_last_page(member, clinic, people):
    # A page that holds the last match gives the match count without counting (offset + its length);
    # unfiltered, the match count is the clinic's count too.
    resp = member.get(url(clinic, "offset=3&limit=10"))
    assert len(ids(resp)) == 2 and resp.json()["meta"] == {"count": 5, "totalCount": 5}
    resp = member.get(url(clinic, "search=anne&offset=1"))
    assert len(ids(resp)) == 1 and resp.json()["meta"] == {"count": 2, "totalCount": 5}
    resp = member.get(url(clinic, "search=anne&offset=1&limit=1"))
    assert len(ids(resp)) == 1 and resp.json()["meta"] == {"count": 2, "totalCount": 5}


@pytest.mark.parametrize("search,expected", [
    ("0000000001", ["Anne Alpha"]), ("ANNE", ["Anne Alpha", "anne Beta"]), ("@y.org", ["Bob (Gamma)"]),
    ("2008-01", ["ábel Alpha", "anne Beta"]), ("m.3", ["Bob (Gamma)"]), ("(gamma)", ["Bob (Gamma)"]),
    ("M.", ["Bob (Gamma)"]), ("a.c", []), ("[", []), ("mrn-", ["ábel Alpha", "Zed Zulu"]), ("zz", []),
])
def test_search_is_literal_and_case_insensitive(member, clinic, people, search, expected):
    import urllib.parse
    resp = member.get(url(clinic, "search=" + urllib.parse.quote(search)))
    assert [p["fullName"] for p in resp.json()["data"]] == expected
    assert resp.json()["meta"] == {"count": len(expected), "totalCount": 5}


def test_search_then_filters_compose(member, clinic, db):
    tag = ObjectId()
    insert_patient(db, clinic["id"], uid(1), fullName="Bixby One", tags=[tag],
                   summary=cgm("7d", timeInTargetPercent=0.8))
    insert_patient(db, clinic["id"], uid(2), fullName="Bixby Two", tags=[tag],
                   summary=cgm("7d", timeInTargetPercent=0.5))
    insert_patient(db, clinic["id"], uid(3), fullName="Other", tags=[tag], summary=cgm("7d", timeInTargetPercent=0.9))
    query = f"search=bix&tags={tag}&cgm.timeInTargetPercent=%3E%3D0.7&period=7d"
    assert ids(member.get(url(clinic, query))) == [uid(1)]


def test_unknown_clinic_is_empty(server):
    resp = server.get(f"/v1/clinics/{UNKNOWN_CLINIC}/patients")
    assert resp.json() == {"data": [], "meta": {"count": 0, "totalCount": 0}}


# --- filters ---------------------------------------------------------------------------------

def test_tags_all_and_none(member, clinic, db):
    a, b = ObjectId(), ObjectId()
    insert_patient(db, clinic["id"], uid(1), tags=[a, b])
    insert_patient(db, clinic["id"], uid(2), tags=[b])
    insert_patient(db, clinic["id"], uid(3), tags=[])
    insert_patient(db, clinic["id"], uid(4))
    insert_patient(db, clinic["id"], uid(5), tags=None)  # legacy null matches neither
    assert ids(member.get(url(clinic, f"tags={a},{b}"))) == [uid(1)]
    assert ids(member.get(url(clinic, f"tags={b}"))) == [uid(1), uid(2)]
    assert ids(member.get(url(clinic, "tags=none"))) == [uid(3), uid(4)]


def test_sites_any_and_none(member, clinic, db):
    s1, s2 = ObjectId(), ObjectId()
    insert_patient(db, clinic["id"], uid(1), sites=[{"id": s1, "name": "One"}])
    insert_patient(db, clinic["id"], uid(2), sites=[{"id": s2, "name": "Two"}])
    insert_patient(db, clinic["id"], uid(3), sites=[])
    assert ids(member.get(url(clinic, f"sites={ObjectId()}"))) == []
    assert ids(member.get(url(clinic, f"sites={s1}"))) == [uid(1)]
    assert ids(member.get(url(clinic, f"sites={s1},{s2}"))) == [uid(1), uid(2)]
    assert ids(member.get(url(clinic, "sites=x"))) == [uid(3)]
    assert ids(member.get(url(clinic, "sites=x&tags=none&search=patient"))) == [uid(3)]


def test_omit_non_standard_ranges(member, clinic, db):
    insert_patient(db, clinic["id"], uid(1), glycemicRanges={"type": "preset", "preset": "adaStandard"})
    insert_patient(db, clinic["id"], uid(2), glycemicRanges={"type": "preset", "preset": "adaHighRisk"})
    insert_patient(db, clinic["id"], uid(3), glycemicRanges={"type": "custom", "custom": {"name": "c",
                                                                                          "thresholds": []}})
    insert_patient(db, clinic["id"], uid(4))
    assert ids(member.get(url(clinic, "omitNonStandardRanges=true"))) == [uid(1), uid(4)]
    assert len(ids(member.get(url(clinic, "omitNonStandardRanges=false")))) == 4


def test_last_reviewed_is_inclusive(member, clinic, db):
    insert_patient(db, clinic["id"], uid(1), reviews=[{"clinicianId": "x", "time": T1}])
    insert_patient(db, clinic["id"], uid(2), reviews=[{"clinicianId": "x", "time": T2}, {"clinicianId": "y",
                                                                                         "time": T0}])
    insert_patient(db, clinic["id"], uid(3))
    assert ids(member.get(url(clinic, "lastReviewed=2024-02-01T00:00:00Z"))) == [uid(1)]
    assert ids(member.get(url(clinic, "lastReviewed=2024-03-01T12:00:00Z"))) == [uid(1), uid(2)]
    resp = member.get(url(clinic, "lastReviewed=2024-03-01T12:00:00"))
    assert resp.status_code == 400 and resp.json()["message"].startswith("Invalid format for parameter lastReviewed")


def test_last_data_window(member, clinic, db):
    for n, when in enumerate([T0, T1, T2], 1):
        insert_patient(db, clinic["id"], uid(n), summary=cgm(dates={"lastData": when}))
    insert_patient(db, clinic["id"], uid(4), summary=stats("bgm", dates={"lastData": T1}))
    assert ids(member.get(url(clinic, "cgm.lastDataFrom=2024-02-01T00:00:00Z"))) == [uid(2), uid(3)]
    assert ids(member.get(url(clinic, "cgm.lastDataTo=2024-02-01T00:00:00Z"))) == [uid(1)]
    both = "cgm.lastDataFrom=2024-02-01T00:00:00Z&cgm.lastDataTo=2024-03-01T12:00:00Z"
    assert ids(member.get(url(clinic, both))) == [uid(2)]
    assert ids(member.get(url(clinic, "bgm.lastDataFrom=2024-01-01T00:00:00Z"))) == [uid(4)]
    assert len(ids(member.get(url(clinic, "cgm.lastDataFrom=0001-01-01T00:00:00Z")))) == 4  # zero time: absent


def test_float_filters_and_period(member, clinic, db):
    insert_patient(db, clinic["id"], uid(1), summary=cgm(timeInTargetPercent=0.7))
    insert_patient(db, clinic["id"], uid(2), summary=cgm(timeInTargetPercent=0.69))
    insert_patient(db, clinic["id"], uid(3), summary=cgm("7d", timeInTargetPercent=0.9))
    assert ids(member.get(url(clinic, "cgm.timeInTargetPercent=%3E%3D0.7"))) == [uid(1)]
    assert ids(member.get(url(clinic, "cgm.timeInTargetPercent=%3E0.7"))) == []
    assert ids(member.get(url(clinic, "cgm.timeInTargetPercent=%3C.7"))) == [uid(2)]
    assert ids(member.get(url(clinic, "cgm.timeInTargetPercent=%3C%3D%2B0.7"))) == [uid(1), uid(2)]
    assert ids(member.get(url(clinic, "cgm.timeInTargetPercent=%3E0.5&period=7d"))) == [uid(3)]


def test_filters_the_reference_could_not_parse(member, clinic, db):
    """cgm.totalRecords (an IntFilter) and >=10.5 were always 400 in the reference; here they apply."""
    insert_patient(db, clinic["id"], uid(1), summary=cgm(totalRecords=7, averageGlucoseMmol=10.5,
                                                         timeInVeryHighRecords=3))
    insert_patient(db, clinic["id"], uid(2), summary=cgm(totalRecords=6, averageGlucoseMmol=10.4,
                                                         timeInVeryHighRecords=3,
                                                         timeInExtremeHighRecords=0))
    assert ids(member.get(url(clinic, "cgm.totalRecords=%3E%3D7"))) == [uid(1)]
    assert ids(member.get(url(clinic, "cgm.averageGlucoseMmol=%3E%3D10.5"))) == [uid(1)]
    assert ids(member.get(url(clinic, "cgm.timeInVeryHighRecords=%3E%3D3"))) == [uid(1), uid(2)]
    assert ids(member.get(url(clinic, "cgm.totalRecordsDelta=%3E0"))) == []


def test_bgm_filters_on_their_own_fields(member, clinic, db):
    """bgm.timeInVeryHighPercent also required a non-existent field in the reference (always empty)."""
    insert_patient(db, clinic["id"], uid(1), summary=stats("bgm", timeInVeryHighPercent=0.1,
                                                           timeInExtremeHighPercent=0.3, maxDelta=2.0))
    resp = member.get(url(clinic, "bgm.timeInVeryHighPercent=%3C0.5"))
    assert ids(resp) == [uid(1)] and resp.json()["meta"]["count"] == 1
    assert ids(member.get(url(clinic, "bgm.timeInExtremeHighPercent=%3E0.5"))) == []
    assert ids(member.get(url(clinic, "bgm.maxDelta=%3E1"))) == [uid(1)]


def test_range_filter_errors(member, clinic):
    resp = member.get(url(clinic, "cgm.timeInTargetPercent=abc"))
    assert resp.status_code == 400 and resp.json()["message"].startswith(
        'parameter "cgm.timeInTargetPercent" in query has an error: string doesn\'t match the regular expression')
    resp = member.get(url(clinic, "cgm.totalRecords=%3E%3D1.5"))
    assert resp.status_code == 400 and 'parameter "cgm.totalRecords"' in resp.json()["message"]


# --- sorts ------------------------------------------------------------------------------------

def test_sort_errors(member, clinic):
    def message(query):
        resp = member.get(url(clinic, query))
        assert resp.status_code == 400
        return resp.json()["message"]
    assert message("sort=-fullName") == "bad request: invalid sort parameter, missing type"
    assert message("sort=-nope&sortType=cgm") == "bad request: invalid sort parameter, invalid sort attribute"
    assert message("sort=x-fullName&sortType=cgm") == "bad request: invalid sort parameter, missing sort order"
    assert message("sort=%2BtimeCGMUseRecords&sortType=cgm") == \
        "bad request: invalid sort parameter, invalid sort attribute"
    assert message("sort=%2BglucoseManagementIndicator&sortType=bgm") == \
        "bad request: invalid sort parameter, invalid sort attribute"
    assert message("sort=-FullName&sortType=cgm") == "bad request: invalid sort parameter, invalid sort attribute"
    assert message("sortType=xyz").startswith('parameter "sortType" in query has an error')
    assert message("period=2d").startswith('parameter "period" in query has an error')


def test_sort_by_period_attribute_with_missing_last(member, clinic, db):
    def row(n, value=None, has=True):
        values = {"hasTimeInTargetPercent": has}
        if value is not None:
            values["timeInTargetPercent"] = value
        insert_patient(db, clinic["id"], uid(n), summary=cgm(**values))
    row(1, 0.5)
    row(2, 0.9)
    row(3, has=False)
    insert_patient(db, clinic["id"], uid(4))
    row(5, 0.7)
    assert ids(member.get(url(clinic, "sort=%2BtimeInTargetPercent&sortType=cgm"))) == [uid(1), uid(5), uid(2), uid(3),
                                                                                        uid(4)]
    assert ids(member.get(url(clinic, "sort=-timeInTargetPercent&sortType=cgm"))) == [uid(2), uid(5), uid(1), uid(3),
                                                                                      uid(4)]


def test_sort_by_delta_attribute(member, clinic, db):
    """The reference emitted an empty sort key for this (500); it orders by the delta here."""
    for n, (delta, has) in enumerate([(0.2, True), (-0.1, True), (None, False)], 1):
        values = {"hasTimeInTargetPercent": has}
        if delta is not None:
            values["timeInTargetPercentDelta"] = delta
        insert_patient(db, clinic["id"], uid(n), summary=cgm(**values))
    assert ids(member.get(url(clinic, "sort=%2BtimeInTargetPercentDelta&sortType=cgm"))) == [uid(2), uid(1), uid(3)]
    assert ids(member.get(url(clinic, "sort=-maxDelta&sortType=cgm"))) == [uid(1), uid(2), uid(3)]


def test_sort_by_dates_and_top_level(member, clinic, db):
    insert_patient(db, clinic["id"], uid(1), birthDate="1990-01-01", reviews=[{"clinicianId": "x", "time": T2}],
                   summary=cgm(dates={"hasLastData": True, "lastData": T0}))
    insert_patient(db, clinic["id"], uid(2), birthDate="1980-01-01", reviews=[{"clinicianId": "x", "time": T1}],
                   summary=cgm(dates={"hasLastData": True, "lastData": T1}))
    insert_patient(db, clinic["id"], uid(3), birthDate="2000-01-01")
    assert ids(member.get(url(clinic, "sort=-lastData&sortType=cgm"))) == [uid(2), uid(1), uid(3)]
    assert ids(member.get(url(clinic, "sort=%2BlastData&sortType=cgm"))) == [uid(1), uid(2), uid(3)]
    assert ids(member.get(url(clinic, "sort=%2BbirthDate&sortType=bgm"))) == [uid(2), uid(1), uid(3)]
    assert ids(member.get(url(clinic, "sort=-lastReviewed&sortType=cgm"))) == [uid(1), uid(2), uid(3)]
    assert ids(member.get(url(clinic, "sort=%2BlastReviewed&sortType=cgm"))) == [uid(3), uid(2), uid(1)]


def test_sort_period_selects_the_field(member, clinic, db):
    for n, (week, month) in enumerate([(9.0, 5.0), (6.0, 7.0)], 1):
        summary = stats("cgm", "7d", hasAverageGlucoseMmol=True, averageGlucoseMmol=week)
        summary["cgmStats"]["periods"]["30d"] = stats("cgm", "30d", hasAverageGlucoseMmol=True,
                                                      averageGlucoseMmol=month)["cgmStats"]["periods"]["30d"]
        insert_patient(db, clinic["id"], uid(n), summary=summary)
    assert ids(member.get(url(clinic, "sort=%2BaverageGlucoseMmol&sortType=cgm&period=7d"))) == [uid(2), uid(1)]
    assert ids(member.get(url(clinic, "sort=%2BaverageGlucoseMmol&sortType=cgm&period=30d"))) == [uid(1), uid(2)]


# --- parameter validation and authorization -----------------------------------------------------

@pytest.mark.parametrize("query,name", [("search=", "search"), ("tags=", "tags"), ("period=", "period"),
                                        (f"tags={ObjectId()},", "tags"), ("sites=,x", "sites")])
def test_empty_values_rejected(member, clinic, query, name):
    resp = member.get(url(clinic, query))
    assert (resp.status_code, resp.json()) == (
        400, {"message": f'parameter "{name}" in query has an error: empty value is not allowed'})


def test_unknown_parameters_ignored(member, clinic, people):
    assert len(ids(member.get(url(clinic, "mrn=MRN-5&email=x&birthDate=1990-12-01")))) == 5


@pytest.mark.parametrize("name,status", [("server", 200), ("admin", 200), ("member", 200), ("other_admin", 403),
                                         ("plain_user", 403), ("anonymous", 400)])
def test_authorization(request, clinic, name, status):
    resp = request.getfixturevalue(name).get(url(clinic))
    assert resp.status_code == status
    if status == 403:
        assert resp.json() == NOT_AUTHORIZED
    if status == 400:
        assert resp.json() == MISSING_TOKEN


# --- every parameter of the contract ------------------------------------------------------------------

def _spec_filter_params():
    import pathlib

    import yaml
    spec = yaml.safe_load((pathlib.Path(__file__).resolve().parent.parent / "clinic.v1.yaml").read_text())
    params = spec["paths"]["/v1/clinics/{clinicId}/patients"]["get"]["parameters"]
    return {p["name"] for p in params if "name" in p and p["name"][:4] in ("cgm.", "bgm.")}


def test_every_range_filter_of_the_contract_is_parsed():
    from clinic_api.domain import patient_list
    windows = {f"{t}.lastData{e}" for t in ("cgm", "bgm") for e in ("From", "To")}
    assert set(patient_list.FILTER_PARAMS) == _spec_filter_params() - windows


def test_each_range_filter_applies_to_its_own_field(server, db):
    from clinic_api.domain import patient_list
    clinic = ObjectId()
    for n, (_name, (kind, field)) in enumerate(sorted(patient_list.FILTER_PARAMS.items())):
        insert_patient(db, clinic, uid(n + 1), summary=stats(kind, "30d", **{field: 3}))
    for n, name in enumerate(sorted(patient_list.FILTER_PARAMS)):
        resp = server.get(f"/v1/clinics/{clinic}/patients?{name}=%3E%3D3&period=30d")
        assert ids(resp) == [uid(n + 1)], name


# The sort attributes of the contract, written out (not taken from the code under test).
RANGE_NAMES = ("Low", "VeryLow", "AnyLow", "High", "VeryHigh", "ExtremeHigh", "AnyHigh", "Target")
CGM_SORTS = (["timeCGMUsePercent", "glucoseManagementIndicator", "averageGlucoseMmol", "totalRecords",
              "hoursWithData", "daysWithData", "standardDeviation", "coefficientOfVariation", "averageDailyRecords",
              "min", "max"] + [f"timeIn{r}{u}" for r in RANGE_NAMES for u in ("Percent", "Records", "Minutes")])
BGM_SORTS = (["averageGlucoseMmol", "totalRecords", "standardDeviation", "coefficientOfVariation",
              "averageDailyRecords", "min", "max"]
             + [f"timeIn{r}{u}" for r in RANGE_NAMES for u in ("Percent", "Records")])
COMMON_SORTS = ["lastUploadDate", "lastData", "firstData", "outdatedSince", "fullName", "birthDate", "lastReviewed"]


@pytest.mark.parametrize("kind,attrs", [("cgm", CGM_SORTS), ("bgm", BGM_SORTS)])
def test_every_sort_attribute_answers(member, clinic, db, kind, attrs):
    insert_patient(db, clinic["id"], uid(1), summary=stats("cgm", dates={"hasLastData": True, "lastData": T0}))
    insert_patient(db, clinic["id"], uid(2))
    every = [a + d for a in attrs for d in ("", "Delta")] + COMMON_SORTS
    assert len(every) == {"cgm": 77, "bgm": 53}[kind]
    for n, attr in enumerate(every):
        sign = "%2B" if n % 2 else "-"
        resp = member.get(url(clinic, f"sort={sign}{attr}&sortType={kind}&period=7d"))
        assert resp.status_code == 200 and resp.json()["meta"]["count"] == 2, (kind, attr, resp.text)


def test_every_parameter_of_the_contract_reaches_the_parameter_object(member, clinic, monkeypatch):
    """Each query parameter clinic.v1.yaml declares for ListPatients lands in ListParams: none is
    dropped between connexion and the domain (an unknown one is ignored, as by the reference)."""
    import pathlib

    import yaml
    from clinic_api.domain import patient_list

    spec = yaml.safe_load((pathlib.Path(__file__).resolve().parent.parent / "clinic.v1.yaml").read_text())
    declared = []
    for p in spec["paths"]["/v1/clinics/{clinicId}/patients"]["get"]["parameters"]:
        p = spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
        if p["in"] == "query":
            declared.append(p["name"])
    plain = {"search": "x", "offset": "1", "limit": "2", "sort": "+fullName", "sortType": "cgm", "period": "7d",
             "lastReviewed": "2024-01-02T00:00:00Z", "tags": "a", "sites": "b", "omitNonStandardRanges": "true"}
    dotted = [n for n in declared if n not in plain]
    assert sorted(plain) == sorted(n for n in declared if "." not in n) and len(dotted) == 116
    values = {n: ("2024-01-03T00:00:00Z" if ".lastData" in n else ">=1") for n in dotted}
    seen = []
    monkeypatch.setattr(patient_list, "list_page", lambda services, params: seen.append(params) or ([], 0, 0))
    query = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in {**plain, **values, "unknown.filter": "1"}.items())
    resp = member.get(f"/v1/clinics/{clinic['id']}/patients?{query}")
    assert resp.status_code == 200, resp.text
    [params] = seen
    when = dt.datetime(2024, 1, 3, tzinfo=dt.timezone.utc)
    assert params == patient_list.ListParams(
        clinic_id=clinic["id"], page=Page(offset=1, limit=2), search="x", sort="+fullName", sort_type="cgm",
        period="7d", last_reviewed=dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), tags=["a"], sites=["b"],
        omit_non_standard_ranges=True, filters={n: ">=1" for n in dotted if ".lastData" not in n},
        windows={"cgm": (when, when), "bgm": (when, when)})
