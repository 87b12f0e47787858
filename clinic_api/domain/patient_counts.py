"""A clinic's patient count (`clinics.patientCount`) and the tier's patient-count limits.

The count is recomputed from the `patients` collection and stored on the clinic:
`{total, demo, plan, providers?: {<provider>: {states: {<state>: n}, total: n}}}`.
Patient writes call `refresh` afterwards; custodial creation calls `enforce_limit` first.
"""
from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from clinic_api import wire
from clinic_api.errors import InternalError, NotFound, PaymentRequired
from clinic_api.store import clinics as clinics_store
from clinic_api.store import patient_counts as counts_store

if TYPE_CHECKING:
    from pymongo.database import Database
    from clinic_api.services import Services

CLINIC_NOT_FOUND = "clinic not found"
LIMIT_EXCEEDED = "payment required: patient count exceeds limit"
PLAN_EXEMPT_PROVIDER = counts_store.PLAN_EXEMPT_PROVIDER


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


# --- computing and storing the count -------------------------------------------------------

def _first_count(rows) -> int:
    return int(rows[0]["count"]) if rows else 0


def compute(db: Database, clinic_id, demo_id: str, session=None) -> dict:
    """The counts of the clinic's patients, in the stored shape (providers omitted when none)."""
    facets = counts_store.facets(db, clinic_id, demo_id, session=session)
    providers: dict = {}
    for row in sorted(facets.get("providers") or [], key=lambda r: (str(r["_id"].get("provider")),
                                                                    str(r["_id"].get("state")))):
        name, state = row["_id"].get("provider"), row["_id"].get("state")
        if not isinstance(name, str):
            continue
        entry = providers.setdefault(name, {"states": {}, "total": 0})
        if isinstance(state, str):
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


def refresh(services: Services, clinic_id, session=None) -> dict:
    """Recompute and store the clinic's patient count; 404 clinic not found (after counting)."""
    db = services.store.db
    counts = compute(db, clinic_id, services.settings.demo_patient_user_id or "", session=session)
    doc = clinics_store.set_patient_count(db, clinic_id, counts, session=session)
    if doc is None:
        raise NotFound(CLINIC_NOT_FOUND)
    return doc["patientCount"]


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


def enforce_limit(services: Services, clinic_doc: dict, now: _dt.datetime | None = None, session=None) -> None:
    """402 when the clinic's resolved hard limit applies and its plan count has reached it."""
    hard = resolved_count_settings(clinic_doc).get("hardLimit")
    if hard is None or not limit_applies(hard, now or wire.now()):
        return
    counts = current(services, clinic_doc, session=session)
    if counts is None:
        raise InternalError("internal server error: patient count missing")
    if int(counts.get("plan") or 0) >= hard["plan"]:
        raise PaymentRequired(LIMIT_EXCEEDED)
