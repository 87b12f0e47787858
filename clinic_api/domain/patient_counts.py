"""A clinic's patient counts and the tier's patient-count limits.

The clinic document holds the reference's `patientCount` (`{total, demo, plan, providers?:
{<provider>: {states?: {<state>: n}, total: n}}}`) and our `patientTallies` (patients per tag and
per site; store/patient_counts.py). Every patient write accounts for itself with record() in its
own transaction — what the patient counted for before and after, one `$inc` — so reading a clinic
or writing a patient costs the same at any clinic size, and the hard limit is a condition of that
same update. RefreshPatientCount (and `clinic-api rebuild-counts`) rebuild both from the patients.
"""
from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from collections import Counter

from bson import ObjectId

from clinic_api import wire
from clinic_api.errors import InternalError, NotFound, PaymentRequired
from clinic_api.store import clinics as clinics_store
from clinic_api.store import patient_counts as counts_store
from clinic_api.store import tx
from clinic_api.store.ids import object_id
from clinic_api.store.tags import TAG_NOT_FOUND

if TYPE_CHECKING:
    from pymongo.database import Database
    from clinic_api.services import Services

CLINIC_NOT_FOUND = "clinic not found"
LIMIT_EXCEEDED = "payment required: patient count exceeds limit"
PLAN_EXEMPT_PROVIDER = counts_store.PLAN_EXEMPT_PROVIDER
COUNT = counts_store.COUNT


# --- limits (clinic settings) --------------------------------------------------------------

def subject_to_limits(doc: dict) -> bool:
    """Only US (or unset country) clinics on the free tier have patient-count limits."""
    return doc.get("country") in (None, "", "US") and doc.get("tier") in (None, "", "tier0100")


def resolved_count_settings(doc: dict) -> dict:
    """The limits that apply to the clinic, as stored (legacy `patientCount` read as `plan`)."""
    if not subject_to_limits(doc):
        return {}
    stored = doc.get("patientCountSettings") or {}
    out = {}
    for key in ("hardLimit", "softLimit"):
        limit = stored.get(key)
        if limit is None:
            continue
        plan = int(limit.get("plan") or 0)
        if plan == 0 and limit.get("patientCount"):
            plan = int(limit["patientCount"])
        entry = {"plan": plan}
        for date_key in ("startDate", "endDate"):
            if limit.get(date_key) is not None:
                entry[date_key] = limit[date_key]
        out[key] = entry
    return out


# --- what a patient counts for ------------------------------------------------------------------

class Unmaintainable(Exception):
    """A provider name or state that cannot be a field path (empty, `$`-prefixed, dotted): the
    count is rebuilt from the patients instead of incremented."""


def _elements(value) -> list:
    """What `$unwind` makes of a field: an array's elements, nothing for null/missing, else itself."""
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _key(part) -> str:
    if not part or part.startswith("$") or "." in part:
        raise Unmaintainable(part)
    return part


def storable(name) -> bool:
    """Whether a provider name or state can be a key of the stored count: BSON keys cannot hold a
    NUL, so such a provider is left out of `providers` (the reference's recount fails on it and
    stores nothing)."""
    return isinstance(name, str) and "\0" not in name


def contribution(doc: dict | None, demo_id: str) -> Counter:
    """What one stored patient adds to its clinic's counts, as {field path: n}: the counts a
    recount (the reference's `$facet`, its tag and site `$lookup`s) gives, patient by patient."""
    out: Counter = Counter()
    if doc is None:
        return out
    out[f"{COUNT}.total"] += 1
    if demo_id and doc.get("userId") == demo_id:
        out[f"{COUNT}.demo"] += 1
    else:
        out[f"{COUNT}.plan"] += _plan_of(doc, demo_id)
        for source in _elements(doc.get("dataSources")):
            name = source.get("providerName") if isinstance(source, dict) else None
            if not storable(name):
                continue
            out[f"{COUNT}.providers.{_key(name)}.total"] += 1
            state = source.get("state")
            if storable(state):
                out[f"{COUNT}.providers.{name}.states.{_key(state)}"] += 1
    for tag in _elements(doc.get("tags")):
        if isinstance(tag, ObjectId):
            out[counts_store.tally_path("tags", tag)] += 1
    for site in _elements(doc.get("sites")):
        if isinstance(site, dict) and isinstance(site.get("id"), ObjectId):
            out[counts_store.tally_path("sites", site["id"])] += 1
    return out


def difference(before: dict | None, after: dict | None, demo_id: str) -> dict:
    """{path: n} that turns the counts with `before` into the counts with `after` (zeros left out)."""
    change = Counter(contribution(after, demo_id))
    change.subtract(contribution(before, demo_id))
    return {path: n for path, n in change.items() if n}


def _plan_of(doc: dict | None, demo_id: str) -> int:
    if doc is None or (demo_id and doc.get("userId") == demo_id):
        return 0
    return 0 if any(isinstance(s, dict) and s.get("providerName") == PLAN_EXEMPT_PROVIDER
                    for s in _elements(doc.get("dataSources"))) else 1


def is_maintained(clinic: dict) -> bool:
    stored = clinic.get(COUNT)
    return isinstance(clinic.get(counts_store.TALLIES), dict) and isinstance(stored, dict) \
        and "total" in stored and "patientCount" not in stored


# --- keeping them, in the write's transaction -------------------------------------------------------

def record(services: Services, clinic_id, before: dict | None, after: dict | None, *, session=None,
           touch: bool = True, tags=None, hold: bool = False, limit: int | None = None) -> None:
    """Account for one patient write (before -> after; None: absent) on the clinic's counts, with
    one conditional update of the clinic made after the write and in its transaction:
    - `tags`: the clinic must have each of them (404 `patient tag not found`), and the update
      conflicts with a concurrent deletion of one of them (it writes the same document);
    - `hold`: write the clinic even when no count changes (unique-MRN clinics: the writes of the
      clinic's patients conflict with each other, so the MRN check inside each sees the others);
    - `limit`: the hard limit, checked on the plan count before this write (402 at or above it);
    - `touch`: updatedTime set as the reference's count refresh sets it.
    A clinic whose counts are not maintained (never were, or written by someone who does not
    keep them) gets them rebuilt from its patients, this write included."""
    db = services.store.db
    demo_id = services.settings.demo_patient_user_id or ""
    clinic_oid = object_id(clinic_id)
    wanted = list(dict.fromkeys(tags or []))
    conditions: dict = {}
    if wanted:
        conditions["$and"] = [{"patientTags._id": t} for t in wanted]
    if limit is not None:
        conditions[f"{COUNT}.plan"] = {"$lt": limit}
    try:
        inc: dict | None = difference(before, after, demo_id)
    except Unmaintainable:
        inc = None
    if inc == {} and not (touch or hold or wanted):
        return
    if inc is not None:
        if counts_store.apply(db, clinic_oid, inc, conditions=conditions, touch=touch,
                              hold=hold or bool(wanted), session=session):
            return
    clinic = clinics_store.get(db, clinic_oid, session=session)
    known = {t.get("_id") for t in clinic.get("patientTags") or [] if isinstance(t, dict)}
    if any(t not in known for t in wanted):
        raise NotFound(TAG_NOT_FOUND)
    if inc is not None and is_maintained(clinic):
        raise PaymentRequired(LIMIT_EXCEEDED)  # the one condition left
    counts = rebuild(services, clinic_oid, session=session, touch=touch)
    plan_before = int(counts.get("plan") or 0) - _plan_of(after, demo_id) + _plan_of(before, demo_id)
    if limit is not None and plan_before >= limit:
        raise PaymentRequired(LIMIT_EXCEEDED)


def record_many(services: Services, pairs, *, session=None, touch: bool = True) -> None:
    """record() for several writes (before, after), one update per clinic."""
    by_clinic: dict = {}
    for before, after in pairs:
        ref = after if after is not None else before
        by_clinic.setdefault(ref["clinicId"], []).append((before, after))
    demo_id = services.settings.demo_patient_user_id or ""
    for clinic_oid, changes in by_clinic.items():
        total: Counter = Counter()
        try:
            for before, after in changes:
                total.update(difference(before, after, demo_id))
        except Unmaintainable:
            rebuild(services, clinic_oid, session=session, touch=touch)
            continue
        inc = {k: v for k, v in total.items() if v}
        if counts_store.apply(services.store.db, clinic_oid, inc, touch=touch, session=session):
            continue
        if clinics_store.find_by_ids(services.store.db, [clinic_oid], limit=1, session=session):
            rebuild(services, clinic_oid, session=session, touch=touch)


# --- rebuilding them from the patients ---------------------------------------------------------------

def _first_count(rows) -> int:
    return int(rows[0]["count"]) if rows else 0


def compute(db: Database, clinic_id, demo_id: str, session=None) -> dict:
    """The counts of the clinic's patients, in the stored shape (providers omitted when none)."""
    facets = counts_store.facets(db, clinic_id, demo_id, session=session)
    providers: dict = {}
    for row in sorted(facets.get("providers") or [], key=lambda r: (str(r["_id"].get("provider")),
                                                                    str(r["_id"].get("state")))):
        name, state = row["_id"].get("provider"), row["_id"].get("state")
        if not storable(name):
            continue
        entry = providers.setdefault(name, {"states": {}, "total": 0})
        if storable(state):
            entry["states"][state] = entry["states"].get(state, 0) + int(row["count"])
        entry["total"] += int(row["count"])
    counts: dict = {"total": _first_count(facets.get("total")), "demo": _first_count(facets.get("demo")),
                    "plan": _first_count(facets.get("plan"))}
    if providers:
        for entry in providers.values():
            if not entry["states"]:
                del entry["states"]
        counts["providers"] = providers
    return counts


def rebuild(services: Services, clinic_id, session=None, touch: bool = True) -> dict:
    """Recount the clinic's patients and store both the patient count and the tag and site
    tallies; the patient count. 404 clinic not found (after counting)."""
    db = services.store.db
    oid = object_id(clinic_id)
    counts = compute(db, oid, services.settings.demo_patient_user_id or "", session=session)
    tally = counts_store.tallies(db, [oid], session=session).get(oid) or counts_store.empty_tallies()
    doc = counts_store.store_all(db, oid, counts, tally, touch=touch, session=session)
    if doc is None:
        raise NotFound(CLINIC_NOT_FOUND)
    return doc[COUNT]


def refresh(services: Services, clinic_id, session=None) -> dict:
    """RefreshPatientCount: rebuild() (404 clinic not found)."""
    return rebuild(services, clinic_id, session=session)


def rebuild_all(services: Services) -> int:
    """Rebuild every clinic's counts, one clinic per transaction; how many clinics."""
    done, after = 0, None
    while True:
        ids = counts_store.clinic_ids(services.store.db, after=after)
        if not ids:
            return done
        for oid in ids:
            def work(session, oid=oid) -> dict:
                return rebuild(services, oid, session=session, touch=False)
            try:
                tx.run(services.store, work)
            except NotFound:
                continue  # deleted meanwhile
            done += 1
        after = ids[-1]


def is_current(stored) -> bool:
    return isinstance(stored, dict) and "patientCount" not in stored


def current(services: Services, clinic_doc: dict, session=None) -> dict:
    """The stored count, or a fresh one when it is missing or in the legacy shape."""
    stored = clinic_doc.get("patientCount")
    if isinstance(stored, dict) and is_current(stored):
        return stored
    return refresh(services, clinic_doc["_id"], session=session)


def of_clinic(services: Services, clinic_id: str) -> dict:
    """The clinic's count (404 clinic not found), refreshed when missing or legacy."""
    return current(services, clinics_store.get(services.store.db, clinic_id))


# --- the hard limit --------------------------------------------------------------------------

def _aware(value):
    if isinstance(value, _dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=_dt.timezone.utc)
    return value


def limit_applies(limit: dict, now: _dt.datetime) -> bool:
    start, end = _aware(limit.get("startDate")), _aware(limit.get("endDate"))
    if isinstance(start, _dt.datetime) and now < start:
        return False
    if isinstance(end, _dt.datetime) and now > end:
        return False
    return True


def hard_limit(clinic_doc: dict, now: _dt.datetime | None = None) -> int | None:
    """The plan count a custodial patient may not be added at (or above), when a limit applies now."""
    hard = resolved_count_settings(clinic_doc).get("hardLimit")
    if hard is None or not limit_applies(hard, now or wire.now()):
        return None
    return int(hard["plan"])


def enforce_limit(services: Services, clinic_doc: dict, now: _dt.datetime | None = None, session=None) -> None:
    """402 when the clinic's resolved hard limit applies and its plan count has reached it."""
    limit = hard_limit(clinic_doc, now)
    if limit is None:
        return
    counts = current(services, clinic_doc, session=session)
    if counts is None:
        raise InternalError("internal server error: patient count missing")
    if int(counts.get("plan") or 0) >= limit:
        raise PaymentRequired(LIMIT_EXCEEDED)
