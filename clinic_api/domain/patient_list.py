"""ListPatients' query parameters -> a PatientQuery (patients.md §1): the sort keys, the summary
range filters and last-data windows.

Fixed against the reference (documented in clinic.v1.yaml): a range filter value is read with the
contract's own FloatFilter / IntFilter grammar (the reference re-parsed it with a one-digit regex,
so every IntFilter and most FloatFilter values were a 400); each filter applies to its own field
(no extra clause on a field that does not exist, none ignored); a `...Delta` sort orders by its
own field with the base attribute's `has...` flag first (the reference emitted an empty sort key: 500).
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from typing import TYPE_CHECKING, Mapping

from clinic_api.errors import bad_request
from clinic_api.paging import FIRST_PAGE, Page
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store import patient_queries
from clinic_api.store import patients as patients_store
from clinic_api.store.patient_queries import PatientQuery

if TYPE_CHECKING:
    from pymongo.database import Database
    from clinic_api.services import Services

RANGES = ("Low", "VeryLow", "AnyLow", "High", "VeryHigh", "ExtremeHigh", "AnyHigh", "Target")
DATE_ATTRS = ("lastUploadDate", "lastData", "firstData", "outdatedSince")
TOP_LEVEL = {"fullName": "fullName", "birthDate": "birthDate", "lastReviewed": "reviews.0.time"}
_CGM_PERIOD = ["timeCGMUsePercent", "glucoseManagementIndicator", "averageGlucoseMmol", "totalRecords",
               "hoursWithData", "daysWithData", "standardDeviation", "coefficientOfVariation",
               "averageDailyRecords", "min", "max"] + [f"timeIn{r}{u}" for r in RANGES
                                                       for u in ("Percent", "Records", "Minutes")]
_BGM_PERIOD = ["averageGlucoseMmol", "totalRecords", "standardDeviation", "coefficientOfVariation",
               "averageDailyRecords", "min", "max"] + [f"timeIn{r}{u}" for r in RANGES for u in ("Percent", "Records")]
PERIOD_ATTRS = {"cgm": frozenset(_CGM_PERIOD + [a + "Delta" for a in _CGM_PERIOD]),
                "bgm": frozenset(_BGM_PERIOD + [a + "Delta" for a in _BGM_PERIOD])}
NO_HAS_FLAG = {"min", "max"}
PERIODS = ("1d", "7d", "14d", "30d")
_OPS = {">=": "$gte", ">": "$gt", "<=": "$lte", "<": "$lt"}
_FILTER = re.compile(r"^(>=|>|<=|<)([+-]?(?:\d+(?:\.\d*)?|\.\d+))$")
# Every numeric filter parameter of ListPatients, by summary type (the field has the same name).
FILTER_FIELDS = {
    "cgm": (["max", "min", "averageGlucoseMmol", "glucoseManagementIndicator", "timeCGMUsePercent",
             "averageDailyRecords", "totalRecords", "hoursWithData", "daysWithData", "standardDeviation",
             "coefficientOfVariation", "timeCGMUseMinutes", "timeCGMUseRecords"]
            + [f"timeIn{r}{u}" for r in RANGES for u in ("Percent", "Minutes")]
            + [f"timeIn{r}Records" for r in RANGES if r != "ExtremeHigh"]),
    "bgm": (["max", "min", "averageGlucoseMmol", "averageDailyRecords", "totalRecords"]
            + [f"timeIn{r}Percent" for r in RANGES] + [f"timeIn{r}Records" for r in RANGES if r != "ExtremeHigh"]),
}
FILTER_PARAMS = {f"{t}.{name}{suffix}": (t, name + suffix)
                 for t, names in FILTER_FIELDS.items() for name in names for suffix in ("", "Delta")}
# The last-data windows: parameter -> (summary type, edge).
WINDOW_PARAMS = {f"{t}.lastData{e}": (t, e) for t in ("cgm", "bgm") for e in ("From", "To")}

Window = tuple[_dt.datetime | None, _dt.datetime | None]


@dataclasses.dataclass(frozen=True)
class ListParams:
    """ListPatients' parameters, typed. `filters` holds the range filters by their names in the
    contract (FILTER_PARAMS), `windows` the last-data windows by summary type."""
    clinic_id: str
    page: Page = Page()
    search: str | None = None
    sort: str | None = None
    sort_type: str | None = None
    period: str | None = None
    last_reviewed: _dt.datetime | None = None
    tags: list[str] | None = None
    sites: list[str] | None = None
    omit_non_standard_ranges: bool | None = None
    filters: Mapping[str, str] = dataclasses.field(default_factory=dict)
    windows: Mapping[str, Window] = dataclasses.field(default_factory=dict)


def _sort_error(detail: str):
    return bad_request(f"invalid sort parameter, {detail}")


def parse_sort(sort: str | None, sort_type: str | None, period: str) -> tuple | None:
    """((path, direction), ...) for the sort parameter; None for the default sort."""
    if sort is None:
        return None
    if not sort_type:
        raise _sort_error("missing type")
    if sort_type not in PERIOD_ATTRS:
        raise _sort_error("invalid type")
    if period not in PERIODS:
        raise _sort_error("invalid period")
    if sort[:1] == "+":
        direction = 1
    elif sort[:1] == "-":
        direction = -1
    else:
        raise _sort_error("missing sort order")
    attr = sort[1:]
    if not attr:
        raise _sort_error("missing sort attribute")
    if attr in TOP_LEVEL:
        return ((TOP_LEVEL[attr], direction),)
    stats = f"summary.{sort_type}Stats"
    if attr in DATE_ATTRS:
        base = f"{stats}.dates"
        return ((f"{base}.has{attr[0].upper()}{attr[1:]}", -1), (f"{base}.{attr}", direction))
    if attr not in PERIOD_ATTRS[sort_type]:
        raise _sort_error("invalid sort attribute")
    base = f"{stats}.periods.{period}"
    plain = attr[:-len("Delta")] if attr.endswith("Delta") else attr
    if plain in NO_HAS_FLAG:
        return ((f"{base}.{attr}", direction),)
    # Patients that have the value first (the flag descending), whatever the direction.
    return ((f"{base}.has{plain[0].upper()}{plain[1:]}", -1), (f"{base}.{attr}", direction))


def parse_range(value: str) -> tuple[str, float]:
    m = _FILTER.match(value)
    if not m:
        raise bad_request("couldn't parse range filter")
    return _OPS[m.group(1)], float(m.group(2))


def range_filters(params: dict, period: str) -> list:
    """[(path, op, number)] for every numeric filter given, CGM first then BGM."""
    out = []
    for kind in ("cgm", "bgm"):
        for name, (t, field) in FILTER_PARAMS.items():
            if t != kind or params.get(name) in (None, ""):
                continue
            op, number = parse_range(params[name])
            out.append((f"summary.{t}Stats.periods.{period}.{field}", op, number))
    return out


def last_data_windows(windows: dict) -> list:
    """{"cgm": (from, to), "bgm": (from, to)} -> [(path, from, to)] for the given ones."""
    return [(f"summary.{t}Stats.dates.lastData", start, end)
            for t, (start, end) in windows.items() if start is not None or end is not None]


def list_query(params: ListParams) -> PatientQuery:
    """The handler's order: range filters (CGM, then BGM), date windows, then the sort."""
    period = params.period or "14d"
    ranges = range_filters(dict(params.filters), period)
    return PatientQuery(clinic_id=params.clinic_id, search=params.search, tags=params.tags, sites=params.sites,
                        omit_non_standard_ranges=bool(params.omit_non_standard_ranges),
                        last_reviewed=params.last_reviewed, ranges=ranges,
                        last_data=last_data_windows(dict(params.windows)),
                        sort=parse_sort(params.sort, params.sort_type, period), offset=params.page.offset,
                        limit=params.page.limit)


def list_page(services: Services, params: ListParams) -> tuple[list[dict], int, int]:
    """ListPatients: the page of the clinic's patients, how many match, how many the clinic has.
    Unfiltered, the two counts are one (and none at all when the page holds the last patient)."""
    query = list_query(params)
    docs, count = patient_queries.run(services.store, query)
    if patient_queries.whole_clinic(query):
        return docs, count, count
    return docs, count, patients_store.count_in_clinic(services.store.db, params.clinic_id)


# --- lists across clinics --------------------------------------------------------------------

MEMBERSHIP_LIMIT = 1000


def _clinics_by_id(db: Database, clinic_ids) -> dict:
    found = clinics_store.find_by_ids(db, clinic_ids, limit=MEMBERSHIP_LIMIT)
    return {d["_id"]: d for d in clinics_store.annotate(db, found)}


def _pairs(docs: list[dict], clinics: dict) -> list[tuple[dict, dict]]:
    # A record whose clinic is gone is left out (the reference answers 500).
    return [(clinics[d["clinicId"]], d) for d in docs if d["clinicId"] in clinics]


def find_for_member(services: Services, user_id: str, *, mrn=None, birth_date=None, workspace_id=None,
                    workspace_type=None, page: Page = FIRST_PAGE) -> list[tuple[dict, dict]]:
    """FindPatients: (clinic, patient) pairs over the clinics where the user has a clinician
    record (any role), optionally narrowed to one workspace."""
    db = services.store.db
    records = clinicians_store.list_for_user(db, user_id, limit=MEMBERSHIP_LIMIT)
    clinics = _clinics_by_id(db, [r["clinicId"] for r in records])
    if workspace_id:
        if not workspace_type:
            raise bad_request("workspace id type is required")
        if workspace_type == "clinicId":
            clinics = {k: v for k, v in clinics.items() if str(k) == workspace_id}
        elif workspace_type == "ehrSourceId":
            clinics = {k: v for k, v in clinics.items() if (v.get("ehrSettings") or {}).get("sourceId") == workspace_id}
        else:
            raise bad_request("unknown workspace identifier type")
    if not clinics:
        return []
    query = PatientQuery(clinic_ids=list(clinics), mrn=mrn, birth_date=birth_date, offset=page.offset,
                         limit=page.limit)
    docs, _ = patient_queries.run(services.store, query)
    return _pairs(docs, clinics)


def clinics_of_patient(services: Services, user_id: str, page: Page = FIRST_PAGE) -> list[tuple[dict, dict]]:
    """ListClinicsForPatient: the user's patient records (name order) with their clinics."""
    query = PatientQuery(user_id=user_id, offset=page.offset, limit=page.limit)
    docs, _ = patient_queries.run(services.store, query)
    return _pairs(docs, _clinics_by_id(services.store.db, {d["clinicId"] for d in docs}))
