"""The `users` collection: the standalone stand-in for Tidepool's user and profile services (users
seen in tokens, custodial accounts minted for clinic-created patients). Ours, not the reference's."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "users"


def find(db: Database, user_id: str, projection: dict | None = None) -> dict | None:
    return db[COLLECTION].find_one({"_id": user_id}, projection)


def find_by_email(db: Database, email: str) -> dict | None:
    return db[COLLECTION].find_one({"emails": email})


def email_taken(db: Database, email: str, except_id: str | None = None) -> bool:
    query: dict = {"emails": email}
    if except_id is not None:
        query["_id"] = {"$ne": except_id}
    return db[COLLECTION].find_one(query, {"_id": 1}) is not None


def exists(db: Database, user_id: str) -> bool:
    return db[COLLECTION].find_one({"_id": user_id}, {"_id": 1}) is not None


def insert(db: Database, doc: dict) -> None:
    db[COLLECTION].insert_one(doc)


def set_fields(db: Database, user_id: str, fields: dict) -> None:
    """$set the fields on the user, creating the record when there is none."""
    db[COLLECTION].update_one({"_id": user_id}, {"$set": fields}, upsert=True)


def delete_custodial(db: Database, user_id: str) -> None:
    db[COLLECTION].delete_one({"_id": user_id, "custodial": True})
