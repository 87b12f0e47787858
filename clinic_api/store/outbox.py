"""The `outbox` collection: every message the standalone mail service writes (and, with SMTP,
sends); the unique `eventKey` makes an event's mail go out once."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinic_api import wire

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "outbox"


def insert(db: Database, doc: dict) -> None:
    """Raises DuplicateKeyError when the doc's eventKey already produced a message."""
    db[COLLECTION].insert_one(doc)


def mark_failed(db: Database, message_id) -> None:
    """Kept as a record of the failure; the event's key is released so it may try again."""
    db[COLLECTION].update_one({"_id": message_id}, {"$set": {"status": "failed"}, "$unset": {"eventKey": ""}})


def mark_sent(db: Database, message_id) -> None:
    db[COLLECTION].update_one({"_id": message_id}, {"$set": {"status": "sent", "sentTime": wire.now()}})


def backlog(db: Database, *, max_time_ms: int | None = None) -> dict[str, int]:
    """How many messages are not sent, by status."""
    limit: dict[str, Any] = {} if max_time_ms is None else {"maxTimeMS": max_time_ms}
    rows = db[COLLECTION].aggregate(
        [{"$match": {"status": {"$ne": "sent"}}}, {"$group": {"_id": "$status", "n": {"$sum": 1}}}], **limit)
    return {str(row["_id"]): int(row["n"]) for row in rows}
