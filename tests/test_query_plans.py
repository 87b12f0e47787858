"""Each list query and the index it is meant to use (README: "Indexes of the list queries").

The shapes are built by the store's own builders (the filter, sort and collation each list query
sends). On every store: the intended index is declared and its keys serve the query (the pure check
below, MongoDB's rule). On the wire: the server has the index under that name and plans the query on
it when told to (`hint`), and its own plan is what we measured: on MongoDB the intended index with no
blocking SORT where the index serves the sort; on SecantusDB what its rule-based planner does (see
SECANTUS_PLANS). The memory store has no query planner: the wire tests skip there, explicitly."""
from __future__ import annotations

import dataclasses
import datetime as _dt

import pytest
from bson import ObjectId, SON

from clinic_api.domain import patient_list, tide
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store import indexes
from clinic_api.store import patient_queries as pq
from support import stores

CLINIC = ObjectId("650000000000000000000001")
OTHER_CLINIC = ObjectId("650000000000000000000002")
TAG = ObjectId("650000000000000000000003")
NOW = _dt.datetime(2024, 6, 1, tzinfo=_dt.timezone.utc)
CUTOFF = NOW - _dt.timedelta(days=14)
PERIOD = "14d"


@dataclasses.dataclass(frozen=True)
class Shape:
    name: str
    collection: str
    filter: dict
    sort: list
    collation: dict | None
    index: str  # the index the query is meant to use
    sort_served: bool  # whether that index gives the sort's order (no blocking SORT on MongoDB)


def _patients(name: str, index: str, *, sort: str | None = None, **fields) -> Shape:
    query = pq.PatientQuery(clinic_id=CLINIC, sort=patient_list.parse_sort(sort, "cgm", PERIOD), **fields)
    return Shape(name, "patients", pq.build_filter(query), list(query.sort_spec().items()),
                 pq.COLLATION if query.collation else None, index, True)


def _tide(name: str) -> Shape:
    selector = tide.category_selector(CLINIC, [TAG], PERIOD, CUTOFF, name, [ObjectId()])
    return Shape(f"TideReport {name}", "patients", selector, tide.category_sort(PERIOD, name), None,
                 "ClinicApiTideByTagsLastData", False)


SHAPES = [
    _patients("ListPatients", "ClinicApiListByFullNameEn"),
    _patients("ListPatients +fullName", "ClinicApiListByFullNameEn", sort="+fullName"),
    _patients("ListPatients -fullName", "ClinicApiListByFullNameDescEn", sort="-fullName"),
    _patients("ListPatients +birthDate", "ClinicApiListByBirthDate", sort="+birthDate"),
    _patients("ListPatients -birthDate", "ClinicApiListByBirthDateDesc", sort="-birthDate"),
    _patients("ListPatients +lastData (cgm)", "ClinicApiListByCgmLastData", sort="+lastData"),
    _patients("ListPatients -lastData (cgm)", "ClinicApiListByCgmLastDataDesc", sort="-lastData"),
    _patients("ListPatients search", "ClinicApiListByFullNameEn", search="ada"),
    _patients("ListPatients tags", "ClinicApiListByFullNameEn", tags=[str(TAG)]),
    *[_tide(name) for name in tide.CATEGORIES],
    Shape("TideReport noData", "patients", tide.no_data_selector(CLINIC, [TAG], CUTOFF, NOW), tide.NO_DATA_SORT,
          None, "ClinicApiTideByTagsLastData", False),
    Shape("ListClinicians", "clinicians", clinicians_store.list_filter(CLINIC), clinicians_store.NEWEST_FIRST,
          None, "ClinicApiCliniciansByClinicCreatedTime", True),
    Shape("ListClinicians role", "clinicians", clinicians_store.list_filter(CLINIC, role="CLINIC_ADMIN"),
          clinicians_store.NEWEST_FIRST, None, "ClinicApiCliniciansByClinicCreatedTime", True),
    Shape("clinician records of a user", "clinicians", {"userId": "1234567890"}, clinicians_store.NEWEST_FIRST,
          None, "ClinicApiCliniciansByUserCreatedTime", True),
    Shape("ListAllClinicians", "clinicians", {}, clinicians_store.NEWEST_FIRST, None, "CliniciansByCreatedTime",
          True),
    Shape("ListClinics", "clinics", clinics_store.list_filter(), clinics_store.LIST_SORT, None, "_id_", True),
]
IDS = [s.name for s in SHAPES]


# --- on every store: the declared index serves the query's shape -----------------------------

def _declared(collection: str, name: str) -> tuple[list[tuple[str, int]], dict | None]:
    if name == "_id_":
        return [("_id", 1)], None
    models = {m.document["name"]: m.document for m in indexes.declared()[collection]}
    assert name in models, f"{name} is not declared on {collection}"
    doc = models[name]
    return list(doc["key"].items()), doc.get("collation")


def _equalities(query: dict) -> set[str]:
    """Fields the filter pins to one index point: a plain value, or the first element of $all (the
    multikey bound MongoDB uses)."""
    return {path for path, cond in query.items() if not path.startswith("$")
            and (not isinstance(cond, dict) or set(cond) == {"$all"})}


def _filtered(query) -> set[str]:
    """Every field the filter constrains, inside $or/$and too."""
    if isinstance(query, list):
        return set().union(*(_filtered(q) for q in query))
    out = set()
    for path, cond in query.items():
        out |= _filtered(cond) if path in ("$or", "$and") else {path}
    return out


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_the_intended_index_is_declared_and_its_keys_serve_the_query(shape):
    keys, collation = _declared(shape.collection, shape.index)
    assert collation == shape.collation  # a collated sort needs the collation on the index and the query
    eq = _equalities(shape.filter)
    prefix = 0
    while prefix < len(keys) and keys[prefix][0] in eq:
        prefix += 1
    assert prefix == len(eq & {k for k, _ in keys}) and (prefix or not shape.filter), keys
    rest = keys[prefix:]
    reverse = [(k, -d) for k, d in shape.sort]
    if shape.sort_served:
        # MongoDB's rule: equality fields, then the sort's keys in order and direction (or all reversed)
        assert rest in (shape.sort, reverse), (rest, shape.sort)
    else:
        # the index narrows the scan by a range after the equalities; the sort is left to the server
        assert rest and rest[0][0] in _filtered(shape.filter) - eq, rest


def test_every_list_index_of_ours_is_meant_for_a_list_query():
    ours = {m.document["name"] for models in indexes.LIST_INDEXES.values() for m in models}
    assert ours == {s.index for s in SHAPES} - {"_id_", "CliniciansByCreatedTime"}
    assert all(name.startswith("ClinicApi") for name in ours)
    reference = {m.document["name"] for models in indexes.INDEXES.values() for m in models}
    assert not ours & reference


# --- on the wire: what the server plans ---------------------------------------------------------

# SecantusDB 0.7.0b3 plans by rules, not by trial as MongoDB does: with a filter, it takes the
# shortest index whose leading keys are the filter's equality fields (and whose collation is the
# query's) whatever the sort, and treats a sort as served only when it is one field that leads the
# index; a filter with a top-level $or/$and, or more than one operator field, is a COLLSCAN. So no
# clinic-scoped list avoids a blocking SORT there. What it plans (measured; a change means its planner
# changed: update the README's table).
_SORTED_BY_NAME = ["SORT", "FETCH", "IXSCAN(PatientFullNameEn)"]
_FIRST_CLINIC_INDEX = ["SORT", "FETCH", "IXSCAN(DataSourcesProviderName)"]
_SCAN = ["SORT", "COLLSCAN"]
SECANTUS_PLANS = {
    "ListPatients": _SORTED_BY_NAME,
    "ListPatients +fullName": _SORTED_BY_NAME,
    "ListPatients -fullName": _SORTED_BY_NAME,
    "ListPatients +birthDate": _FIRST_CLINIC_INDEX,
    "ListPatients -birthDate": _FIRST_CLINIC_INDEX,
    "ListPatients +lastData (cgm)": _FIRST_CLINIC_INDEX,
    "ListPatients -lastData (cgm)": _FIRST_CLINIC_INDEX,
    "ListPatients search": _SCAN,
    "ListPatients tags": _SCAN,
    **{f"TideReport {name}": _SCAN for name in tide.CATEGORIES},
    "TideReport noData": _SCAN,
    "ListClinicians": ["SORT", "FETCH", "IXSCAN(ClinicApiCliniciansByClinicCreatedTime)"],
    "ListClinicians role": _SCAN,
    "clinician records of a user": ["SORT", "FETCH", "IXSCAN(ClinicApiCliniciansByUserCreatedTime)"],
    "ListAllClinicians": ["LIMIT", "FETCH", "IXSCAN(CliniciansByCreatedTime)"],
    "ListClinics": _SCAN,
}


@pytest.fixture
def seeded(db):
    if not stores.on_wire():
        pytest.skip("the memory store (mongomock) has no query planner and no explain; the index check above "
                    "runs on it")
    patients = []
    for i in range(40):
        summary = {"cgmStats": {"dates": {"hasLastData": True, "lastData": NOW - _dt.timedelta(days=i)},
                                "periods": {PERIOD: {"timeInTargetPercent": i / 40, "timeCGMUsePercent": 0.9,
                                                     "timeInVeryLowPercent": 0.02}}}}
        patients.append({"clinicId": CLINIC if i % 4 else OTHER_CLINIC, "userId": f"{i:010d}",
                         "fullName": f"Patient {i}", "birthDate": f"19{i + 40}-01-01",
                         "tags": [TAG, ObjectId()] if i % 2 else [], "summary": summary})
    db.patients.insert_many(patients)
    db.clinicians.insert_many([{"clinicId": CLINIC, "userId": f"{i:010d}", "email": f"c{i}@example.com",
                                "roles": ["CLINIC_MEMBER"], "createdTime": NOW} for i in range(10)])
    db.clinics.insert_many([{"name": f"Clinic {i}", "shareCodes": [f"CODE{i}"], "canonicalShareCode": f"CODE{i}",
                             "createdTime": NOW} for i in range(10)])
    return db


def _stages(plan: dict) -> list[str]:
    out = []
    while plan:
        out.append(plan["stage"] + (f"({plan['indexName']})" if "indexName" in plan else ""))
        plan = plan.get("inputStage") or (plan.get("inputStages") or [None])[0]
    return out


def explain(db, shape: Shape, *, hint: str | None = None) -> list[str]:
    find = SON([("find", shape.collection), ("filter", shape.filter), ("sort", SON(shape.sort)), ("limit", 10)])
    if shape.collation:
        find["collation"] = shape.collation
    if hint:
        find["hint"] = hint
    return _stages(db.command("explain", find, verbosity="queryPlanner")["queryPlanner"]["winningPlan"])


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_the_server_has_the_intended_index_and_plans_the_query_on_it_when_hinted(seeded, shape):
    stages = explain(seeded, shape, hint=shape.index)
    assert f"IXSCAN({shape.index})" in stages
    assert "COLLSCAN" not in stages


@pytest.mark.parametrize("shape", SHAPES, ids=IDS)
def test_what_the_server_plans_by_itself(seeded, shape):
    stages = explain(seeded, shape)
    if stores.kind() == "secantus":
        assert stages == SECANTUS_PLANS[shape.name]
        return
    # MongoDB: the planner picks by trial; the intended index wins where it serves the sort.
    assert "COLLSCAN" not in stages
    if shape.sort_served:
        assert f"IXSCAN({shape.index})" in stages and "SORT" not in stages, stages
