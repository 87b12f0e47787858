"""The `redox` collection: every EHR message Redox delivered, `{_id, meta, message}`
(auth note §4.1.2). clinic-worker reads it from the change stream."""
from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "redox"


def insert_message(db: Database, meta: dict, message: dict) -> ObjectId:
    oid = ObjectId()
    db[COLLECTION].insert_one({"_id": oid, "meta": meta, "message": message})
    return oid


def find_message(db: Database, document_id: ObjectId, data_model: str, event_type: str) -> dict | None:
    return db[COLLECTION].find_one({"_id": document_id, "meta.DataModel": data_model, "meta.EventType": event_type})
