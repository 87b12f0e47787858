"""Every index, declared here and only here: the reference's exactly as it creates them (names, key
order and options included, even where a key names a field the documents do not have), so that we
can share a database with the Go service; this service's own on the reference's collections, named
ClinicApi..., for the sorts of the list queries the reference's do not serve (LIST_INDEXES); and
those of the collections this service keeps for the services it stands in for (invites, outbox,
users, restricted tokens).

`ensure` runs at start and in `clinic-api create-indexes`: it creates what is missing one index at a
time (a refusal loses only that index), keeps an existing index with the same keys and options
whatever the order of its options, and reports (never fails on) one that differs. A server without
text indexes (SecantusDB, the memory store) loses only the clinician search index; the store then
serves clinician search by scanning tokens."""
from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING

from pymongo import IndexModel
from pymongo.errors import OperationFailure

if TYPE_CHECKING:
    from pymongo.database import Database

log = logging.getLogger("clinic_api.store")

_BG = {"background": True}
_EN1 = {"locale": "en", "strength": 1}


def _meeting_targets(period: str) -> IndexModel:
    tir = f"summary.cgmStats.periods.{period}.timeInTargetPercent"
    use = f"summary.cgmStats.periods.{period}.timeCGMUsePercent"
    return IndexModel(
        [("clinicId", 1), ("userId", 1), ("tags", 1), ("summary.cgmStats.dates.lastData", 1), (tir, 1)],
        name=f"MeetingTargetsIndex{period}",
        partialFilterExpression={tir: {"$gte": 0.7}, use: {"$gte": 0.7}},
    )


INDEXES: dict[str, list[IndexModel]] = {
    "clinics": [
        IndexModel([("shareCodes", 1)], name="UniqueShareCodes", unique=True),
        IndexModel([("canonicalShareCode", 1)], name="UniqueCanonicalShareCode", unique=True),
    ],
    "clinic_deletions": [
        IndexModel([("clinic._id", 1)], name="ClinicDeletion"),
        IndexModel([("deletedTime", 1), ("clinic._id", 1)], name="DeletedTime"),
    ],
    "patients": [
        IndexModel([("userId", 1)], name="UserId"),
        IndexModel([("clinicId", 1), ("userId", 1)], name="UniquePatient", unique=True),
        IndexModel([("clinicId", 1), ("fullName", 1)], name="PatientFullNameEn", collation=_EN1),
        IndexModel([("clinicId", 1), ("birthDate", 1)], name="PatientBirthDate"),
        IndexModel([("clinicId", 1), ("email", 1)], name="PatientEmail"),
        IndexModel([("clinicId", 1), ("mrn", 1)], name="PatientMRN"),
        IndexModel([("clinicId", 1), ("userId", 1), ("tags", 1)], name="PatientTagsV2"),
        IndexModel([("clinicId", 1), ("dataSources.providerName", 1)], name="DataSourcesProviderName"),
        IndexModel([("clinicId", 1), ("dataSources.state", 1)], name="DataSourcesState"),
        IndexModel(
            [("clinicId", 1), ("mrn", 1), ("_na", 1)],
            name="UniqueMrn",
            unique=True,
            partialFilterExpression={"mrn": {"$type": "string"}, "requireUniqueMrn": {"$eq": True}},
        ),
        IndexModel([("clinicId", 1), ("sites.id", 1)], name="Sites"),
        _meeting_targets("1d"),
        _meeting_targets("7d"),
        _meeting_targets("14d"),
        _meeting_targets("30d"),
    ],
    "patient_deletions": [
        IndexModel([("patient.clinicId,userId", 1)], name="PatientDeletion"),
        IndexModel([("deletedTime", 1), ("patient.clinicId,userId", 1)], name="DeletedTime"),
    ],
    "clinicians": [
        IndexModel([("clinicId", 1), ("userId", 1)], name="UniqueClinicianUserId", unique=True,
                   partialFilterExpression={"userId": {"$exists": True}}, **_BG),
        IndexModel([("clinicId", 1), ("inviteId", 1)], name="UniqueInviteId", unique=True,
                   partialFilterExpression={"inviteId": {"$exists": True}}, **_BG),
        IndexModel([("clinicId", 1), ("email", 1)], name="UniqueClinicMemberEmail", unique=True,
                   partialFilterExpression={"email": {"$exists": True}}, **_BG),
        IndexModel([("clinicId", 1), ("email", "text"), ("fullName", "text")], name="ClinicianSearch", **_BG),
        IndexModel([("clinicId", 1), ("role", 1)], name="ClinicianByRole", **_BG),
        IndexModel([("createdTime", 1)], name="CliniciansByCreatedTime", **_BG),
    ],
    "clinician_deletions": [
        IndexModel([("clinician.clinicId,userId", 1)], name="ClinicianDeletion"),
        IndexModel([("deletedTime", 1), ("clinician.clinicId,userId", 1)], name="DeletedTime"),
    ],
    "migrations": [
        IndexModel([("userId", 1)], name="UniqueClinicianMigration", unique=True, **_BG),
    ],
    "redox": [
        IndexModel([("meta.Logs.Id", 1)], name="MetadataLogsId"),
        IndexModel([("meta.Source.Id", 1), ("meta.FacilityCode", 1)], name="MetadataSource"),
    ],
    "scheduledSummaryAndReportsOrders": [
        IndexModel([("lastMatchedOrder._id", 1), ("createdTime", -1)], name="LastMatchedOrderByID"),
        IndexModel([("createdTime", 1)], name="CleanupExpiredRescheduledOrdersAfter90d", expireAfterSeconds=7776000),
    ],
    "xealth_preorder": [
        IndexModel([("dataTrackingId", 1)], name="dataTrackingId", unique=True),
    ],
    "xealth_report_view": [
        IndexModel([("userId", 1), ("deployment", 1), ("programId", 1), ("clinicId", 1), ("patientId", 1),
                    ("createdTime", -1)], name="LastReportView"),
    ],
}

# This service's own indexes on the reference's collections, for the list queries (see the README's
# "Indexes of the list queries"). Each is named ClinicApi... so that nobody mistakes it for one of
# the reference's; the reference ignores them, and they cost it nothing but the writes. On MongoDB,
# an index serves a sort without a blocking SORT when its keys are the query's equality fields
# followed by the sort's keys in the same order and directions (or all reversed), and, for a sort on
# strings, when it has the query's collation. Every sort of the lists ends with `_id` ascending (a
# stable order): a descending key needs an index of its own, since the reversed walk of the
# ascending one gives `_id` descending.
_PATIENT_HAS_LAST_DATA = "summary.cgmStats.dates.hasLastData"
_PATIENT_LAST_DATA = "summary.cgmStats.dates.lastData"
LIST_INDEXES: dict[str, list[IndexModel]] = {
    "patients": [
        # ListPatients with the default sort or `+fullName` ({fullName: 1, _id: 1} under en/1); also
        # with a search or a tag filter, which no index can narrow (a case-insensitive regex; an
        # $all ANDed with the sort), so the page is the first matching entries in name order. The
        # reference's PatientFullNameEn {clinicId, fullName} lacks `_id`: MongoDB sorts after it.
        IndexModel([("clinicId", 1), ("fullName", 1), ("_id", 1)], name="ClinicApiListByFullNameEn", collation=_EN1),
        # `-fullName` ({fullName: -1, _id: 1} under en/1).
        IndexModel([("clinicId", 1), ("fullName", -1), ("_id", 1)], name="ClinicApiListByFullNameDescEn",
                   collation=_EN1),
        # `+birthDate`, `-birthDate` (no collation: the reference sorts birth dates bytewise).
        IndexModel([("clinicId", 1), ("birthDate", 1), ("_id", 1)], name="ClinicApiListByBirthDate"),
        IndexModel([("clinicId", 1), ("birthDate", -1), ("_id", 1)], name="ClinicApiListByBirthDateDesc"),
        # `+lastData`, `-lastData` with sortType=cgm: patients with data first, then by the date.
        IndexModel([("clinicId", 1), (_PATIENT_HAS_LAST_DATA, -1), (_PATIENT_LAST_DATA, 1), ("_id", 1)],
                   name="ClinicApiListByCgmLastData"),
        IndexModel([("clinicId", 1), (_PATIENT_HAS_LAST_DATA, -1), (_PATIENT_LAST_DATA, -1), ("_id", 1)],
                   name="ClinicApiListByCgmLastDataDesc"),
        # TideReport: every category query and noData is clinicId = X, tags $all [...] (the first tag
        # is an equality on the multikey `tags`), and a range on the last-data date; the category
        # value and the sort differ per category and period (32 combinations), so the index stops
        # there and the server sorts the clinic's tagged, recent patients (a top-100 sort at most).
        IndexModel([("clinicId", 1), ("tags", 1), (_PATIENT_LAST_DATA, 1)], name="ClinicApiTideByTagsLastData"),
    ],
    "clinicians": [
        # ListClinicians: clinicId = X (+ email, + role) newest first. The reference's
        # CliniciansByCreatedTime serves ListAllClinicians only (no filter).
        IndexModel([("clinicId", 1), ("createdTime", -1)], name="ClinicApiCliniciansByClinicCreatedTime"),
        # A user's clinician records newest first (ListClinicsForClinician, FindPatients, the
        # membership changes): the reference's userId indexes all start with clinicId.
        IndexModel([("userId", 1), ("createdTime", -1)], name="ClinicApiCliniciansByUserCreatedTime"),
    ],
}

# Collections of this service only (the reference keeps these in other services).
EXTENSION_INDEXES: dict[str, list[IndexModel]] = {
    # hydrophone declares {type, status} but never creates it; we create the ones our queries use.
    "confirmations": [
        IndexModel([("clinicId", 1), ("type", 1), ("status", 1)], name="ByClinicTypeStatus"),
        IndexModel([("userId", 1), ("type", 1), ("status", 1)], name="ByUserTypeStatus"),
    ],
    "outbox": [
        IndexModel([("eventKey", 1)], name="UniqueEventKey", unique=True,
                   partialFilterExpression={"eventKey": {"$exists": True}}),
        IndexModel([("createdTime", 1)], name="OutboxByCreatedTime"),
    ],
    "users": [IndexModel([("emails", 1)], name="UserEmails")],
    "restricted_tokens": [
        IndexModel([("expirationTime", 1)], name="ExpiredRestrictedTokens", expireAfterSeconds=0),
    ],
}

TEXT_SEARCH_INDEX = ("clinicians", "ClinicianSearch")
# MongoDB codes for a refused text index, and for `$text` where the server has none.
_NO_TEXT_CODES = {67, 2, 17287, 27}
# Options compared between a declared and an existing index; anything else (v, ns, background,
# textIndexVersion, language_override, ...) is the server's bookkeeping.
_COMPARED = ("unique", "sparse", "partialFilterExpression", "expireAfterSeconds", "collation", "weights",
             "default_language")
_UNRECORDED = ("collation", "weights")
_COLLATION_DEFAULTS = {"caseLevel": False, "caseFirst": "off", "numericOrdering": False,
                       "alternate": "non-ignorable", "maxVariable": "punct", "normalization": False,
                       "backwards": False, "strength": 3}


def declared() -> dict[str, list[IndexModel]]:
    """Every index this service needs, by collection: the reference's first, then ours."""
    out: dict[str, list[IndexModel]] = {}
    for group in (INDEXES, LIST_INDEXES, EXTENSION_INDEXES):
        for collection, models in group.items():
            out.setdefault(collection, []).extend(models)
    return out


@dataclasses.dataclass
class Report:
    created: list[str] = dataclasses.field(default_factory=list)       # "collection.name"
    kept: list[str] = dataclasses.field(default_factory=list)
    differing: list[str] = dataclasses.field(default_factory=list)     # one line each, for people
    refused: list[str] = dataclasses.field(default_factory=list)       # refused by the server
    text_search: bool = False


def _key(spec: dict) -> tuple:
    """Key pattern in a comparable form; a text index as the server lists it (_fts/_ftsx + weights)."""
    key = spec["key"]
    items = list(key.items())
    if any(v == "text" for _, v in items):
        plain = tuple((k, v) for k, v in items if v != "text" and k not in ("_fts", "_ftsx"))
        return plain + (("_fts", "text"), ("_ftsx", 1))
    return tuple((k, int(v) if isinstance(v, (int, float)) else v) for k, v in items)


def _canonical(value):
    """Order-insensitive form of an option value (documents compared as sets of pairs)."""
    if isinstance(value, dict):
        return frozenset((k, _canonical(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_canonical(v) for v in value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return value


def _options(spec: dict) -> dict:
    out = {}
    for name in _COMPARED:
        if name not in spec:
            continue
        value = spec[name]
        if name == "collation":
            value = {k: v for k, v in value.items() if k != "version" and not (
                k in _COLLATION_DEFAULTS and _COLLATION_DEFAULTS[k] == v)}
        if name == "unique" and not value or name == "sparse" and not value:
            continue
        if name == "default_language" and value == "english":
            continue
        out[name] = _canonical(value)
    return out


def _declared_spec(model: IndexModel) -> dict:
    doc = dict(model.document)
    if any(v == "text" for v in doc["key"].values()):
        doc.setdefault("weights", {k: 1 for k, v in doc["key"].items() if v == "text"})
    return doc


def compare(model: IndexModel, existing: dict, *, memory: bool = False) -> str | None:
    """None when `existing` (a listIndexes entry) is the declared index; else what differs. The
    memory store does not record collations and text weights: they are not compared there."""
    want = _declared_spec(model)
    if _key(want) != _key(existing):
        return f"keys {dict(existing['key'])} instead of {dict(want['key'])}"
    a, b = _options(want), _options(existing)
    diffs = [name for name in _COMPARED if a.get(name) != b.get(name) and not (memory and name in _UNRECORDED)]
    if diffs:
        return "options differ: " + ", ".join(f"{n} is {existing.get(n)!r}, declared {want.get(n)!r}" for n in diffs)
    return None


def plan(db: Database, *, memory: bool = False) -> tuple[list[tuple[str, IndexModel]], Report]:
    """What exists and matches, what differs, and what is missing (to be created)."""
    report, missing = Report(), []
    for collection, models in declared().items():
        existing = {spec["name"]: dict(spec) for spec in db[collection].list_indexes()}
        by_key = {_key(spec): spec for spec in existing.values()}
        for model in models:
            name = model.document["name"]
            label = f"{collection}.{name}"
            spec = existing.get(name)
            if spec is None:
                other = by_key.get(_key(_declared_spec(model)))
                if other is not None and compare(model, other, memory=memory) is None:
                    report.differing.append(f"{label}: present under the name {other['name']!r}")
                else:
                    missing.append((collection, model))
                continue
            problem = compare(model, spec, memory=memory)
            (report.differing.append(f"{label}: {problem}") if problem else report.kept.append(label))
            if (collection, name) == TEXT_SEARCH_INDEX and problem is None:
                report.text_search = True
    return missing, report


def ensure(store) -> Report:
    """Create what is missing, keep what matches, report what differs; learn whether the server
    has text search. Never fails because one index was refused or differs."""
    db = store.db
    missing, report = plan(db, memory=store.embedded)
    for collection, model in missing:
        label = f"{collection}.{model.document['name']}"
        try:
            db[collection].create_indexes([model])
        except OperationFailure as exc:
            if (collection, model.document["name"]) == TEXT_SEARCH_INDEX and exc.code in _NO_TEXT_CODES:
                continue  # said once below, with what replaces it
            report.refused.append(f"{label}: refused by the server (code {exc.code})")
            continue
        report.created.append(label)
        if (collection, model.document["name"]) == TEXT_SEARCH_INDEX:
            report.text_search = True
    if report.text_search:
        report.text_search = _text_query_works(db)
    store.text_search = report.text_search
    if not report.text_search:
        log.info("store: the server has no text search (index %s.%s not in use); clinician search scans "
                 "email tokens instead", *TEXT_SEARCH_INDEX)
    for line in report.refused:
        log.warning("store: index not created: %s", line)
    if report.differing:
        log.warning("store: %d index(es) differ from the declared ones and were left alone: %s "
                    "(see `clinic-api create-indexes --check`)", len(report.differing), "; ".join(report.differing))
    return report


def _text_query_works(db: Database) -> bool:
    """An index may be accepted by a server that cannot run `$text` (the memory store)."""
    try:
        db[TEXT_SEARCH_INDEX[0]].find_one({"$text": {"$search": "probe"}}, {"_id": 1})
    except (OperationFailure, NotImplementedError):
        return False
    return True


def create_all(db: Database) -> list[str]:
    """Every declared index on a database handle (tests' fresh databases); see `ensure`."""
    from types import SimpleNamespace

    memory = type(db).__module__.startswith("mongomock")
    return ensure(SimpleNamespace(db=db, text_search=False, embedded=memory)).created
