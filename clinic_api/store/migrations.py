"""The `migrations` collection: one record per legacy clinician whose patients are (to be) moved
into a clinic.

Document (runtime-storage.md §6.4.1): {_id, clinicId: ObjectId, userId: str, status: str,
createdTime: date, updatedTime: date}. The unique index UniqueClinicianMigration is on `userId`
alone, across clinics: a legacy user can be migrated into one clinic only, ever."""
from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from clinic_api import wire
from clinic_api.errors import Duplicate, NotFound
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "migrations"
PENDING = "PENDING"
NOT_FOUND = "migration not found"
DUPLICATE = "migration duplicate"


# --- reads ---------------------------------------------------------------------------------

def get(db: Database, clinic_id, user_id: str, session=None) -> dict:
    doc = db[COLLECTION].find_one({"clinicId": object_id(clinic_id), "userId": user_id}, session=session)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


def list_for_clinic(db: Database, clinic_id) -> list[dict]:
    """Every migration of a clinic, in natural order (no sort, no paging, as the reference)."""
    return list(db[COLLECTION].find({"clinicId": object_id(clinic_id)}))


def exists_for_user(db: Database, user_id: str, session=None) -> bool:
    """Whether the user already has a migration, into any clinic."""
    return db[COLLECTION].find_one({"userId": user_id}, {"_id": 1}, session=session) is not None


# --- writes --------------------------------------------------------------------------------

def insert_pending(db: Database, clinic_oid, user_id: str, session=None) -> dict:
    """Record a PENDING migration of the user into the clinic: 409 `migration duplicate` when the
    user already has one anywhere (checked first, then enforced by the unique index for racing
    requests)."""
    if exists_for_user(db, user_id, session=session):
        raise Duplicate(DUPLICATE)
    now = wire.now()
    doc = {"_id": ObjectId(), "clinicId": clinic_oid, "userId": user_id, "status": PENDING,
           "createdTime": now, "updatedTime": now}
    try:
        db[COLLECTION].insert_one(doc, session=session)
    except DuplicateKeyError:
        raise Duplicate(DUPLICATE) from None
    return doc


def set_status(db: Database, clinic_id, user_id: str, status: str) -> dict:
    """$set status and updatedTime; the updated record, or 404 migration not found."""
    doc = db[COLLECTION].find_one_and_update(
        {"clinicId": object_id(clinic_id), "userId": user_id},
        {"$set": {"status": status, "updatedTime": wire.now()}},
        return_document=ReturnDocument.AFTER)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc
