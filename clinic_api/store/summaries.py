"""Glucose summaries copied onto patient documents: `patients.summary {cgmStats?, bgmStats?}`.

One summary per user, written on every patient document of that user (one per clinic). The parts
arrive bound (resources/summaries.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api import wire

if TYPE_CHECKING:
    from pymongo.database import Database

# `summary: null` (legacy) and nothing else (BSON type 10, spelled so the embedded store can run it).
EXPLICIT_NULL = {"$exists": True, "$eq": None, "$not": {"$type": "array"}}


# --- writes ----------------------------------------------------------------------------------------

def update_all_clinics(db: Database, user_id: str, parts: dict | None, session=None) -> int:
    """Write the summary parts on every patient document of the user (parts None: remove the
    whole summary). updatedTime is always set. Returns how many documents matched."""
    now = wire.now()
    if parts is None:
        update = {"$unset": {"summary": ""}, "$set": {"updatedTime": now}}
    else:
        if parts:
            # Legacy documents may hold `summary: null`, which a dotted $set cannot enter.
            db.patients.update_many({"userId": user_id, "summary": EXPLICIT_NULL}, {"$set": {"summary": {}}},
                                    session=session)
        update = {"$set": {**{f"summary.{k}": v for k, v in parts.items()}, "updatedTime": now}}
    return db.patients.update_many({"userId": user_id}, update, session=session).matched_count


def delete_by_summary_id(db: Database, summary_id: str, session=None) -> int:
    """Remove the CGM and the BGM parts whose id is summary_id (updatedTime untouched).
    Returns how many documents changed."""
    changed = 0
    for kind in ("cgmStats", "bgmStats"):
        res = db.patients.update_many({f"summary.{kind}.id": summary_id}, {"$unset": {f"summary.{kind}": ""}},
                                      session=session)
        changed += res.modified_count
    return changed
