"""The `restricted_tokens` collection: standalone restricted tokens (report links)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "restricted_tokens"


def insert(db: Database, doc: dict) -> None:
    db[COLLECTION].insert_one(doc)


def get(db: Database, token_id: str) -> dict | None:
    return db[COLLECTION].find_one({"_id": token_id})
