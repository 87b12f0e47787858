"""What the merge planner reads: every clinician record and every patient of a clinic."""
from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import patients as patients_store

if TYPE_CHECKING:
    from pymongo.database import Database

_EARLIEST = _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)


def _created(doc: dict):
    value = doc.get("createdTime")
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
    return _EARLIEST


def clinicians_of(db: Database, clinic_oid, session=None) -> list[dict]:
    """Members and pending invites of the clinic, newest first."""
    return sorted(clinicians_store.list_for_clinic(db, clinic_oid, session=session), key=_created, reverse=True)


def reduced_summary(summary) -> dict | None:
    """Only what the report shows of a summary: the CGM and BGM dates."""
    if not isinstance(summary, dict):
        return None
    out = {}
    for key in ("cgmStats", "bgmStats"):
        stats = summary.get(key)
        if isinstance(stats, dict) and stats.get("dates") is not None:
            out[key] = {"dates": stats["dates"]}
    return out


def patients_of(db: Database, clinic_oid, demo_user_id: str, session=None) -> list[dict]:
    """Every patient of the clinic but the demo patient, oldest record first, each with its
    summary reduced to the dates."""
    cursor = db[patients_store.COLLECTION].find({"clinicId": clinic_oid, "userId": {"$ne": demo_user_id}},
                                                session=session).sort("_id", 1)
    out = []
    for doc in cursor:
        if "summary" in doc:
            summary = reduced_summary(doc["summary"])
            if summary is None:
                del doc["summary"]
            else:
                doc["summary"] = summary
        out.append(doc)
    return out


def first_patients(db: Database, clinic_oid, limit: int, session=None) -> list[dict]:
    """Up to `limit` patients of the clinic (their user ids only)."""
    return patients_store.first_of_clinic(db, clinic_oid, limit=limit, session=session)
