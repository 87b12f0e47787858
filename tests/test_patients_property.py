"""Property: for random patients and random search / filter / sort / page parameters, the list
engine returns exactly the page a plain-Python reading of the contract computes.

Each example builds one set of patients and runs a batch of queries against it (most through the
store function with the handler's parameter parsing, a few through HTTP)."""
from __future__ import annotations

import datetime as dt
import unicodedata

from bson import ObjectId
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import Api, token_for
from patients_support import filled
from clinic_api.domain import patient_list
from clinic_api.paging import Page
from clinic_api.store import patient_docs, patient_queries

UTC = dt.timezone.utc
CLINIC = ObjectId("65a1b2c3d4e5f60718293a4b")
TAGS = [ObjectId("65a1b2c3d4e5f60718293a01"), ObjectId("65a1b2c3d4e5f60718293a02"),
        ObjectId("65a1b2c3d4e5f60718293a03")]
SITES = [ObjectId("65a1b2c3d4e5f60718293b01"), ObjectId("65a1b2c3d4e5f60718293b02")]
DAYS = [dt.datetime(2024, 1, d, 12, tzinfo=UTC) for d in range(1, 8)]
NAME_CHARS = "aAbBeEéÉzZ ö0"
SEARCH_CHARS = "aAbeéz 0.-(*[@"

# --- patients ----------------------------------------------------------------------------------

maybe = st.none() | st.just("absent")


@st.composite
def period_stats(draw, kind):
    values = {}
    for field in ("timeInTargetPercent", "averageGlucoseMmol"):
        value = draw(st.none() | st.sampled_from([0.0, 0.25, 0.5, 0.7, 0.9, 1.0]))
        flag = draw(st.sampled_from([True, False, "absent"]))
        if flag != "absent":
            values["has" + field[0].upper() + field[1:]] = flag
        if value is not None:
            values[field] = value
    for field in ("timeInTargetPercentDelta", "min", "totalRecords"):
        value = draw(st.none() | st.sampled_from([-0.2, 0.0, 0.1, 3, 7]))
        if value is not None:
            values[field] = value
    return values


@st.composite
def summaries(draw):
    out = {}
    for kind in ("cgm", "bgm"):
        if draw(st.booleans()):
            continue
        # Stored summaries carry every field the contract requires (zero-filled here).
        last = draw(st.none() | st.sampled_from(DAYS))
        stats = {"dates": filled("summaryDates.v1", {} if last is None else {"lastData": last, "hasLastData": True}),
                 "periods": {}}
        for period in draw(st.sets(st.sampled_from(["7d", "14d"]))):
            stats["periods"][period] = filled(f"{kind}Period.v1", draw(period_stats(kind)))
        out[f"{kind}Stats"] = stats
    return out or None


@st.composite
def patients(draw):
    count = draw(st.integers(0, 14))
    docs = []
    for n in range(count):
        fields = {"fullName": draw(st.text(NAME_CHARS, max_size=6)),
                  "birthDate": draw(st.sampled_from(["2000-01-01", "2008-01-06", "1999-12-31", ""])),
                  "email": draw(st.none() | st.sampled_from(["ab@x.org", "Zed@Y.org", "e.e@a.b"])),
                  "mrn": draw(st.none() | st.sampled_from(["", "A-1", "a-1", "(x)", "0001"]))}
        doc = patient_docs.new_document(CLINIC if n % 5 else draw(st.sampled_from([CLINIC, ObjectId()])),
                                        f"{n:010x}", fields, now=DAYS[0])
        doc["_id"] = ObjectId(f"{n + 1:024x}")
        tags = draw(st.sampled_from(["absent", None, "list"]))
        if tags == "list":
            doc["tags"] = draw(st.lists(st.sampled_from(TAGS), unique=True, max_size=3))
        elif tags is None:
            doc["tags"] = None
        sites = draw(st.sampled_from(["absent", "list"]))
        if sites == "list":
            doc["sites"] = [{"id": s, "name": "S"} for s in draw(st.lists(st.sampled_from(SITES), unique=True,
                                                                          max_size=2))]
        ranges = draw(st.sampled_from(["absent", "adaStandard", "adaHighRisk", "custom"]))
        if ranges == "custom":
            doc["glycemicRanges"] = {"type": "custom", "custom": {"name": "c", "thresholds": []}}
        elif ranges != "absent":
            doc["glycemicRanges"] = {"type": "preset", "preset": ranges}
        reviews = draw(st.lists(st.sampled_from(DAYS), max_size=2))
        if reviews:
            doc["reviews"] = [{"clinicianId": "c", "time": t} for t in sorted(reviews, reverse=True)]
        summary = draw(summaries())
        if summary:
            doc["summary"] = summary
        docs.append(doc)
    return docs


# --- queries -------------------------------------------------------------------------------------

SORTS = ["fullName", "birthDate", "lastReviewed", "lastData", "timeInTargetPercent", "averageGlucoseMmol",
         "timeInTargetPercentDelta", "min", "totalRecords"]
FILTERS = ["timeInTargetPercent", "averageGlucoseMmol", "timeInTargetPercentDelta", "min", "totalRecords"]


@st.composite
def queries(draw):
    q = {"offset": draw(st.integers(0, 6)), "limit": draw(st.integers(1, 8)),
         "period": draw(st.sampled_from(["7d", "14d"]))}
    if draw(st.booleans()):
        q["search"] = draw(st.text(SEARCH_CHARS, min_size=1, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        q["tags"] = draw(st.lists(st.sampled_from([str(t) for t in TAGS] + ["none"]), min_size=1, max_size=2))
    if draw(st.integers(0, 3)) == 0:
        q["sites"] = draw(st.lists(st.sampled_from([str(s) for s in SITES] + ["x"]), min_size=1, max_size=2))
    if draw(st.integers(0, 3)) == 0:
        q["omit"] = True
    if draw(st.integers(0, 3)) == 0:
        q["lastReviewed"] = draw(st.sampled_from(DAYS))
    if draw(st.integers(0, 2)) == 0:
        kind = draw(st.sampled_from(["cgm", "bgm"]))
        field = draw(st.sampled_from(FILTERS))
        op = draw(st.sampled_from([">=", ">", "<=", "<"]))
        value = draw(st.sampled_from(["0", "0.5", "0.7", "5", ".25", "-0.1"]) if field != "totalRecords"
                     else st.sampled_from(["3", "5", "7"]))
        q["filter"] = (f"{kind}.{field}", op + value)
    if draw(st.integers(0, 3)) == 0:
        q["window"] = (draw(st.sampled_from(["cgm", "bgm"])), draw(st.none() | st.sampled_from(DAYS)),
                       draw(st.none() | st.sampled_from(DAYS)))
    if draw(st.integers(0, 2)) > 0:
        q["sort"] = (draw(st.sampled_from("+-")) + draw(st.sampled_from(SORTS)), draw(st.sampled_from(["cgm", "bgm"])))
    return q


def to_query(q) -> patient_queries.PatientQuery:
    params = dict([q["filter"]]) if "filter" in q else {}
    windows = {q["window"][0]: q["window"][1:]} if "window" in q else {}
    sort, sort_type = q.get("sort", (None, None))
    return patient_list.list_query(patient_list.ListParams(
        str(CLINIC), page=Page(offset=q["offset"], limit=q["limit"]), filters=params, search=q.get("search"),
        sort=sort, sort_type=sort_type, period=q["period"], last_reviewed=q.get("lastReviewed"), windows=windows,
        tags=q.get("tags"), sites=q.get("sites"), omit_non_standard_ranges=q.get("omit")))


# --- the plain-Python reading ------------------------------------------------------------------------

MISSING = object()


def get(doc, path):
    cur = doc
    for part in path.split("."):
        if isinstance(cur, list) and part.isdigit():
            cur = cur[int(part)] if int(part) < len(cur) else MISSING
        elif isinstance(cur, dict):
            cur = cur.get(part, MISSING)
        else:
            return MISSING
        if cur is MISSING:
            return MISSING
    return cur


def folded(text):
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c)).lower()


def order_key(value, collated=False):
    """MongoDB's comparison order across the types used here: null/missing, numbers, strings, booleans, dates."""
    if value is MISSING or value is None:
        return (0,)
    if isinstance(value, bool):
        return (8, value)
    if isinstance(value, (int, float)):
        return (2, value)
    if isinstance(value, str):
        return (3, folded(value) if collated else value)
    return (9, value)


def compare(op, left, right):
    return {">=": left >= right, ">": left > right, "<=": left <= right, "<": left < right}[op]


def matches(doc, q):
    if doc["clinicId"] != CLINIC:
        return False
    if "search" in q:
        needle = q["search"].lower()
        if not any(isinstance(doc.get(f), str) and needle in doc[f].lower()
                   for f in ("fullName", "email", "mrn", "birthDate")):
            return False
    if "tags" in q:
        wanted = [ObjectId(t) for t in q["tags"] if t != "none"]
        tags = doc.get("tags", MISSING)
        if wanted and not (isinstance(tags, list) and all(t in tags for t in wanted)):
            return False
        if not wanted and not (tags is MISSING or tags == []):
            return False
    if "sites" in q:
        wanted = [ObjectId(s) for s in q["sites"] if s != "x"]
        sites = doc.get("sites", MISSING)
        if wanted and not (isinstance(sites, list) and any(s["id"] in wanted for s in sites)):
            return False
        if not wanted and not (sites is MISSING or sites == []):
            return False
    if q.get("omit") and "glycemicRanges" in doc and doc["glycemicRanges"].get("preset") != "adaStandard":
        return False
    if "lastReviewed" in q:
        last = get(doc, "reviews.0.time")
        if last is MISSING or last > q["lastReviewed"]:
            return False
    if "filter" in q:
        name, text = q["filter"]
        kind, field = name.split(".")
        op = text[:2] if text[1] == "=" else text[:1]
        value = get(doc, f"summary.{kind}Stats.periods.{q['period']}.{field}")
        if not isinstance(value, (int, float)) or not compare(op, value, float(text[len(op):])):
            return False
    if "window" in q:
        kind, start, end = q["window"]
        last = get(doc, f"summary.{kind}Stats.dates.lastData")
        if (start or end) and not isinstance(last, dt.datetime):
            return False
        if (start and last < start) or (end and last >= end):
            return False
    return True


def sort_keys(q):
    """[(path, direction, collated)] by the contract's sort description."""
    if "sort" not in q:
        return [("fullName", 1, True)]
    text, kind = q["sort"]
    direction, attr = (1 if text[0] == "+" else -1), text[1:]
    if attr in ("fullName", "birthDate"):
        return [(attr, direction, attr == "fullName")]
    if attr == "lastReviewed":
        return [("reviews.0.time", direction, False)]
    if attr == "lastData":
        base = f"summary.{kind}Stats.dates"
        return [(f"{base}.hasLastData", -1, False), (f"{base}.lastData", direction, False)]
    base = f"summary.{kind}Stats.periods.{q['period']}"
    plain = attr[:-5] if attr.endswith("Delta") else attr
    has = [] if plain in ("min", "max") else [(f"{base}.has{plain[0].upper()}{plain[1:]}", -1, False)]
    return has + [(f"{base}.{attr}", direction, False)]


def expected(docs, q):
    found = sorted((d for d in docs if matches(d, q)), key=lambda d: d["_id"])
    for path, direction, collated in reversed(sort_keys(q)):
        found.sort(key=lambda d: order_key(get(d, path), collated), reverse=direction < 0)
    return [d["userId"] for d in found[q["offset"]:q["offset"] + q["limit"]]], len(found)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow, HealthCheck.data_too_large],
          derandomize=True)
@given(docs=patients(), batch=st.lists(queries(), min_size=20, max_size=30))
def test_list_engine_matches_plain_python(services, client, docs, batch):
    db = services.store.db
    db.patients.delete_many({})
    if docs:
        db.patients.insert_many([dict(d) for d in docs])
    for q in batch:
        got_docs, got_count = patient_queries.run(services.store, to_query(q))
        assert ([d["userId"] for d in got_docs], got_count) == expected(docs, q), q
    q = batch[0]
    query = {"offset": q["offset"], "limit": q["limit"], "period": q["period"]}
    for key in ("search", "omit"):
        if key in q:
            query["search" if key == "search" else "omitNonStandardRanges"] = q[key] if key == "search" else "true"
    if "sort" in q:
        query["sort"], query["sortType"] = q["sort"]
    if "filter" in q:
        query[q["filter"][0]] = q["filter"][1]
    resp = Api(client, token_for("server", server=True)).get(f"/v1/clinics/{CLINIC}/patients", params=query)
    assert resp.status_code == 200, resp.text
    ids, count = expected(docs, {k: v for k, v in q.items() if k not in ("tags", "sites", "lastReviewed", "window")})
    assert [p["id"] for p in resp.json()["data"]] == ids
    assert resp.json()["meta"] == {"count": count, "totalCount": sum(d["clinicId"] == CLINIC for d in docs)}
