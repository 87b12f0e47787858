"""The `patients` collection: one document per (clinic, user), in the reference's BSON shape.

Reads and writes named by intent. Ids arrive as hex strings (clinic) or user id strings and are
converted here; every function takes an optional `session` for transactions. Duplicate-key errors
of the unique indexes become 409s (the reference answers 500 for such races).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from clinic_api import wire
from clinic_api.errors import ApiError, BadRequest, Conflict, Duplicate, NotFound
from clinic_api.store import deletions
from clinic_api.store import patient_counts as counts
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "patients"
PATIENT_NOT_FOUND = "patient not found"
ALREADY_MEMBER = "duplicate: patient is already a member of the clinic"
# A unique-MRN index violation (two writes that both passed the pre-check) answers as the pre-check
# does (domain/patient_rules.py), so a duplicate MRN gets one answer whatever the timing.
MRN_TAKEN = "bad request: mrn must be unique"
PERMISSIONS = ("custodian", "view", "upload", "note")


def _col(db: Database):
    return db[COLLECTION]


def _key(clinic_id, user_id) -> dict:
    return {"clinicId": object_id(clinic_id), "userId": user_id}


def is_custodial(doc: dict | None) -> bool:
    perms = (doc or {}).get("permissions")
    return isinstance(perms, dict) and "custodian" in perms


def duplicate_error(exc: DuplicateKeyError) -> ApiError:
    """The answer to a unique-index violation: the MRN index (400, as the pre-check) or the
    (clinic, user) index (409)."""
    pattern = (exc.details or {}).get("keyPattern") or {}
    if "mrn" in pattern or "UniqueMrn" in str(exc):
        return BadRequest(MRN_TAKEN)
    return Duplicate(ALREADY_MEMBER)


# --- reads ---------------------------------------------------------------------------------

def find(db: Database, clinic_id, user_id: str, session=None) -> dict | None:
    return _col(db).find_one(_key(clinic_id, user_id), session=session)


def get(db: Database, clinic_id, user_id: str, session=None, missing: str = PATIENT_NOT_FOUND) -> dict:
    doc = find(db, clinic_id, user_id, session=session)
    if doc is None:
        raise NotFound(missing)
    return doc


def first_of_clinic(db: Database, clinic_oid, limit: int, session=None) -> list[dict]:
    """Up to `limit` patients of the clinic (their user ids only)."""
    return list(_col(db).find({"clinicId": clinic_oid}, {"userId": 1}, limit=limit, session=session))


def user_has_records(db: Database, user_id: str) -> bool:
    """Whether the user is a patient of any clinic."""
    return _col(db).find_one({"userId": user_id}, {"_id": 1}) is not None


def of_user(db: Database, user_id: str, session=None) -> list[dict]:
    return list(_col(db).find({"userId": user_id}, session=session).sort("_id", 1))


def clinic_ids_of_user(db: Database, user_id: str, session=None) -> list[ObjectId]:
    return [d["clinicId"] for d in _col(db).find({"userId": user_id}, {"clinicId": 1}, session=session)]


def count_in_clinic(db: Database, clinic_id, session=None) -> int:
    """Every patient of the clinic (ListPatients' meta.totalCount)."""
    return _col(db).count_documents({"clinicId": object_id(clinic_id)}, session=session)


# --- creation ------------------------------------------------------------------------------

def insert(db: Database, doc: dict, session=None) -> dict:
    try:
        _col(db).insert_one(doc, session=session)
    except DuplicateKeyError as exc:
        raise duplicate_error(exc) from None
    return doc


def add_legacy_clinician(db: Database, clinic_id, user_id: str, legacy_id: str, session=None) -> dict:
    doc = _col(db).find_one_and_update(
        _key(clinic_id, user_id),
        {"$addToSet": {"legacyClinicianIds": {"$each": [legacy_id]}}, "$set": {"updatedTime": wire.now()}},
        return_document=ReturnDocument.AFTER, session=session)
    if doc is None:
        raise NotFound(PATIENT_NOT_FOUND)
    return doc


# --- updates -------------------------------------------------------------------------------

# The fields a patient's contribution to its clinic's counts depends on (besides userId, which
# never changes): see domain/patient_counts.py.
COUNTED_FIELDS = ("dataSources", "tags", "sites")


def counted_fields(doc: dict) -> dict:
    """A condition matching the patient only while its counted fields are as in `doc` (absent or
    null: still absent or null)."""
    return {name: doc.get(name) for name in COUNTED_FIELDS}


def _change(set_fields: dict, unset: tuple) -> dict:
    change: dict = {"$set": {**set_fields, "updatedTime": wire.now()}}
    if unset:
        change["$unset"] = {name: "" for name in unset}
    return change


def update(db: Database, clinic_id, user_id: str, set_fields: dict, session=None, unset: tuple = ()) -> dict:
    """$set the fields (and updatedTime), $unset the named ones; the document after, or 404. For
    fields that do not count on the clinic (update_counted for those that may)."""
    try:
        doc = _col(db).find_one_and_update(_key(clinic_id, user_id), _change(set_fields, unset),
                                           return_document=ReturnDocument.AFTER, session=session)
    except DuplicateKeyError as exc:
        raise duplicate_error(exc) from None
    if doc is None:
        raise NotFound(PATIENT_NOT_FOUND)
    return doc


def update_counted(db: Database, clinic_id, user_id: str, set_fields: dict, *, expected: dict | None = None,
                   session=None, unset: tuple = ()) -> tuple[dict, dict]:
    """update(), and the document's counted fields before it: (before, after). `expected`, a
    document read earlier, saves reading it again: the update applies only while its counted
    fields are still those (else the patient is read and the update tried on that)."""
    change = _change(set_fields, unset)
    before = expected
    for _attempt in range(10):
        if before is None:
            before = find(db, clinic_id, user_id, session=session)
            if before is None:
                raise NotFound(PATIENT_NOT_FOUND)
        # An update then a read, both by _id, rather than one findAndModify: SecantusDB (the local
        # store) plans no index for findAndModify, nor for a filter with null or array equalities,
        # and scans the collection (~110 ms at 10k patients), while it finds by _id at once. On
        # MongoDB this costs one more round-trip.
        try:
            res = _col(db).update_one({"_id": before["_id"], **_key(clinic_id, user_id), **counted_fields(before)},
                                      change, session=session)
        except DuplicateKeyError as exc:
            raise duplicate_error(exc) from None
        if res.matched_count:
            doc = _col(db).find_one({"_id": before["_id"]}, session=session)
            if doc is not None:
                return before, doc
        before = None
    raise Conflict("conflict")


def set_permissions(db: Database, clinic_id, user_id: str, permissions: dict, session=None) -> dict:
    return update(db, clinic_id, user_id, {"permissions": permissions}, session=session)


def unset_permission(db: Database, clinic_id, user_id: str, permission: str, session=None) -> dict | None:
    """Remove one granted permission; None when the patient does not hold it (or is missing)."""
    selector = {**_key(clinic_id, user_id), f"permissions.{permission}": {"$exists": True}}
    return _col(db).find_one_and_update(
        selector, {"$unset": {f"permissions.{permission}": ""}, "$set": {"updatedTime": wire.now()}},
        return_document=ReturnDocument.AFTER, session=session)


def push_review(db: Database, clinic_id, user_id: str, review: dict, session=None) -> dict:
    """Prepend a review keeping the two newest; updatedTime is left alone (as the reference)."""
    doc = _col(db).find_one_and_update(
        _key(clinic_id, user_id), {"$push": {"reviews": {"$each": [review], "$position": 0, "$slice": 2}}},
        return_document=ReturnDocument.AFTER, session=session)
    if doc is None:
        raise NotFound(PATIENT_NOT_FOUND)
    return doc


def pop_review_of(db: Database, clinic_id, user_id: str, clinician_id: str, session=None) -> dict | None:
    """Remove the newest review when the given clinician wrote it; None when nothing matched."""
    return _col(db).find_one_and_update(
        {**_key(clinic_id, user_id), "reviews.0.clinicianId": clinician_id}, {"$pop": {"reviews": -1}},
        projection={"reviews": 1}, return_document=ReturnDocument.AFTER, session=session)


def add_connection_request(db: Database, clinic_id, user_id: str, provider: str, index: int, data_source_changes: dict,
                           request: dict, sources, session=None) -> dict | None:
    """Prepend a provider connection request (newest first, `$position: 0`, so that a change
    stream reports the whole array) and update the provider's data source at `index` (the first
    one of that provider, which the reference addresses with the positional operator; the same
    dotted path reaches the oplog). None when the data sources are no longer `sources`."""
    selector = {**_key(clinic_id, user_id), "dataSources": sources, f"dataSources.{index}.providerName": provider}
    change = {"$set": {"updatedTime": wire.now(),
                       **{f"dataSources.{index}.{k}": v for k, v in data_source_changes.items()}},
              "$push": {f"providerConnectionRequests.{provider}": {"$each": [request], "$position": 0}}}
    return _col(db).find_one_and_update(selector, change, return_document=ReturnDocument.AFTER, session=session)


def set_data_sources_for_user(db: Database, user_id: str, data_sources: list, session=None) -> int:
    res = _col(db).update_many({"userId": user_id},
                               {"$set": {"dataSources": data_sources, "updatedTime": wire.now()}}, session=session)
    return res.matched_count


def set_email_for_user(db: Database, user_id: str, email: str | None, session=None) -> int:
    """Every record of the user: `$set email` (as given), or `$unset email` when None."""
    change: dict = {"$set": {"updatedTime": wire.now()}}
    if email is None:
        change["$unset"] = {"email": ""}
    else:
        change["$set"]["email"] = email
    return _col(db).update_many({"userId": user_id}, change, session=session).matched_count


def _user_scope(clinic_id, user_ids: list | None) -> dict:
    query: dict = {"clinicId": object_id(clinic_id)}
    if user_ids is not None:
        query["userId"] = {"$in": list(user_ids)}
    return query


def assign_tag(db: Database, clinic_id, tag_id, user_ids: list | None, session=None) -> int:
    """Add a tag to the given patients of a clinic (all when user_ids is None); legacy `tags: null`
    is first repaired to `[]` (without touching updatedTime), as the reference does."""
    tag = object_id(tag_id)
    scope = _user_scope(clinic_id, user_ids)
    _col(db).update_many({**scope, "tags": {"$exists": True, "$eq": None}}, {"$set": {"tags": []}}, session=session)
    res = _col(db).update_many({**scope, "tags": {"$nin": [tag]}},
                               {"$addToSet": {"tags": tag}, "$set": {"updatedTime": wire.now()}}, session=session)
    counts.bump(db, scope["clinicId"], {counts.tally_path("tags", tag): res.modified_count}, session=session)
    return res.modified_count


def remove_tag(db: Database, clinic_id, tag_id, user_ids: list | None, session=None) -> int:
    """Take a tag from the given patients of a clinic (all when user_ids is None), and from the
    clinic's tallies as many times as they carried it."""
    tag = object_id(tag_id)
    scope = {**_user_scope(clinic_id, user_ids), "tags": tag}
    carried = 0
    if user_ids is not None:
        for d in _col(db).find(scope, {"tags": 1}, session=session):
            held = d.get("tags")
            carried += sum(1 for t in (held if isinstance(held, list) else [held]) if t == tag)
    res = _col(db).update_many(scope, {"$pull": {"tags": tag}, "$set": {"updatedTime": wire.now()}}, session=session)
    if user_ids is None:
        counts.drop(db, scope["clinicId"], [counts.tally_path("tags", tag)], session=session)
    else:
        counts.bump(db, scope["clinicId"], {counts.tally_path("tags", tag): -carried}, session=session)
    return res.modified_count


# --- removal (always archived first) -----------------------------------------------------------

def remove(db: Database, clinic_id, user_id: str, deleted_by: str | None, session=None) -> dict:
    """Archive then delete one patient; 404 patient not found when there is none."""
    doc = get(db, clinic_id, user_id, session=session)
    deletions.archive(db, "patient", [doc], deleted_by, session=session)
    if _col(db).delete_one({"_id": doc["_id"]}, session=session).deleted_count != 1:
        raise NotFound(PATIENT_NOT_FOUND)
    return doc


def remove_many(db: Database, query: dict, deleted_by: str | None = None, session=None) -> list[dict]:
    """Archive then delete every patient matching the query; the removed documents."""
    docs = list(_col(db).find(query, session=session))
    if not docs:
        return []
    deletions.archive(db, "patient", docs, deleted_by, session=session)
    _col(db).delete_many({"_id": {"$in": [d["_id"] for d in docs]}}, session=session)
    return docs


def discard(db: Database, oid, session=None) -> None:
    """Delete a document just inserted, unarchived (undoing a write no transaction covers)."""
    _col(db).delete_one({"_id": oid}, session=session)


def non_custodial_of_clinic(clinic_id) -> dict:
    return {"clinicId": object_id(clinic_id),
            "$or": [{"permissions.custodian": {"$exists": False}}, {"permissions.custodian": False}]}
