"""Deletion archives: `clinic_deletions`, `clinician_deletions`, `patient_deletions`.
Each holds {_id, deletedTime, <kind>: <the deleted document>, deletedByUserId?}."""
from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId

from clinic_api import wire

if TYPE_CHECKING:
    from pymongo.database import Database


def _archive(kind: str, doc: dict, deleted_by: str | None, when) -> dict:
    out = {"_id": ObjectId(), "deletedTime": when, kind: doc}
    if deleted_by:
        out["deletedByUserId"] = deleted_by
    return out


def archive(db: Database, kind: str, docs: list[dict], deleted_by: str | None = None, session=None) -> None:
    """Insert one archive per deleted document (kind: clinic | clinician | patient)."""
    if not docs:
        return
    when = wire.now()
    db[f"{kind}_deletions"].insert_many([_archive(kind, d, deleted_by, when) for d in docs], session=session)
