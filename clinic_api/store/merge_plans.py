"""The `merge_plans` collection: one document per executed merge sub-plan, all of one merge
sharing `planId` (runtime-storage.md §6.4.1). No index besides `_id`.

{_id: ObjectId, plan: {...}, planId: ObjectId, type: "tag"|"patient"|"site"|"clinician"|"clinic"}
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "merge_plans"
TYPES = ("tag", "patient", "site", "clinician", "clinic")


def insert(db: Database, plan_id: ObjectId, kind: str, plan: dict, session=None) -> dict:
    doc = {"_id": ObjectId(), "plan": plan, "planId": plan_id, "type": kind}
    db[COLLECTION].insert_one(doc, session=session)
    return doc


def of_plan(db: Database, plan_id: ObjectId, kind: str | None = None) -> list[dict]:
    """The documents of one merge, in insertion order."""
    query: dict = {"planId": plan_id}
    if kind is not None:
        query["type"] = kind
    return list(db[COLLECTION].find(query).sort("_id", 1))
