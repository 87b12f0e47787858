"""Patient tags: `clinics.patientTags[] {_id, name}` and the tag ids in `patients.tags[]`.

Names are trimmed (Go's strings.TrimSpace); two names are the same tag when they are equal after
removing every U+0020 space and lower-casing. At most 50 tags per clinic.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId
from clinic_api import wire
from clinic_api.errors import Conflict, Duplicate, NotFound, constraint
from clinic_api.store import clinics, patient_counts
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database

MAX_TAGS = 50
TOO_MANY = f"the clinic already has the maximum number of {MAX_TAGS} patient tags"
DUPLICATE = "duplicate patient tag"
TAG_NOT_FOUND = "patient tag not found"
ASSIGNMENTS = patient_counts.HOLDS  # bookkeeping of ours on the clinic: see require()

# Go's unicode.IsSpace: ASCII spaces, U+0085, U+00A0 and the Unicode space separators.
_GO_SPACES = "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009" \
             "\u200a\u2028\u2029\u202f\u205f\u3000"


def trim(name: str) -> str:
    return name.strip(_GO_SPACES)


def _lower(text: str) -> str:
    # Per code point, as Go's strings.ToLower (Python's 'İ'.lower() has two code points).
    return "".join(ch.lower()[0] if ch.lower() else ch for ch in text)


def name_key(name: str) -> str:
    return _lower(name.replace(" ", ""))


def find(doc: dict, tag_id) -> dict | None:
    oid = object_id(tag_id)
    return next((t for t in doc.get("patientTags") or [] if t.get("_id") == oid), None)


def is_duplicate(doc: dict, name: str, except_id=None) -> bool:
    key = name_key(name)
    return any(t.get("_id") != except_id and name_key(t.get("name") or "") == key
               for t in doc.get("patientTags") or [])


# --- clinic side -----------------------------------------------------------------------------
#
# The name rules (a duplicate ignores case and spaces, at most 50 tags) cannot be written as a query
# on the stored names, so each change is a compare-and-swap: the clinic is read, the rules checked on
# its tags, and the update is conditioned on `patientTags` being exactly the array that was checked.
# A concurrent change makes the condition fail and the attempt starts again on the new array: the
# write itself enforces the rules (never two tags of one name, never more than 50), on every store.

def check_new(doc: dict, name: str) -> None:
    """The rules a new tag's (trimmed) name must meet on the clinic as read: 422 at 50 tags, then 409
    for a name equal to another's."""
    if len(doc.get("patientTags") or []) >= MAX_TAGS:
        raise constraint(TOO_MANY)
    if is_duplicate(doc, name):
        raise Duplicate(DUPLICATE)


def create(db: Database, clinic_id, name: str, session=None) -> dict:
    """Add a tag (check_new's rules); CreatePatientTag, and the clinic merge inside its transaction."""
    name = trim(name)
    for _ in range(clinics.CAS_ATTEMPTS):
        doc = clinics.get(db, clinic_id, session=session)
        check_new(doc, name)
        tag: dict = {"_id": ObjectId()}
        if name:
            tag["name"] = name
        res = db.clinics.update_one(
            {"_id": doc["_id"], **clinics.same_array(doc, "patientTags"),
             f"patientTags.{MAX_TAGS - 1}": {"$exists": False}},
            {"$addToSet": {"patientTags": tag}, "$set": {"updatedTime": wire.now()}}, session=session)
        if res.matched_count == 1:
            return tag
    raise Conflict("conflict")


def rename(db: Database, clinic_id, tag_id, name: str) -> dict:
    """Rename a tag; 409 when another tag has the name, 404 when the clinic has no such tag."""
    name = trim(name)
    oid = object_id(tag_id)
    for _ in range(clinics.CAS_ATTEMPTS):
        doc = clinics.get(db, clinic_id)
        if is_duplicate(doc, name, except_id=oid):
            raise Duplicate(DUPLICATE)
        index = next((i for i, t in enumerate(doc.get("patientTags") or []) if t.get("_id") == oid), None)
        if index is None:
            raise NotFound(TAG_NOT_FOUND)
        res = db.clinics.update_one({"_id": doc["_id"], **clinics.same_array(doc, "patientTags")},
                                    {"$set": {f"patientTags.{index}.name": name, "updatedTime": wire.now()}})
        if res.matched_count == 1:
            return {"_id": oid, "name": name}
    raise Conflict("conflict")


def require(db: Database, clinic_id, tag_id, session=None) -> None:
    """Hold the tag for an assignment: 404 when the clinic or the tag is unknown. It writes the
    clinic document (a counter the reference ignores, `patientTagAssignments`), so that inside a
    transaction an assignment and a deletion of the tag conflict: one of them runs again and sees
    the other's outcome, and no patient is left holding a deleted tag."""
    res = db.clinics.update_one({"_id": object_id(clinic_id), "patientTags._id": object_id(tag_id)},
                                {"$inc": {ASSIGNMENTS: 1}}, session=session)
    if res.matched_count == 0:
        clinics.get(db, clinic_id, session=session)
        raise NotFound(TAG_NOT_FOUND)


def has(db: Database, clinic_id, tag_id, session=None) -> bool:
    return db.clinics.count_documents({"_id": object_id(clinic_id), "patientTags._id": object_id(tag_id)},
                                      session=session, limit=1) == 1


def remove(db: Database, clinic_id, tag_id, session=None) -> None:
    """Pull the tag from the clinic and record it in `lastDeletedPatientTag` (the worker's
    trigger), even when the clinic had no such tag. 404 clinic not found."""
    oid = object_id(tag_id)
    doc = db.clinics.find_one_and_update(
        {"_id": object_id(clinic_id)},
        {"$pull": {"patientTags": {"_id": oid}}, "$set": {"updatedTime": wire.now(), "lastDeletedPatientTag": oid}},
        session=session)
    if doc is None:
        raise NotFound(clinics.CLINIC_NOT_FOUND)


# The patients' side (adding a tag to patients, removing it from them) is the patients family's:
# clinic_api.store.patients.assign_tag / remove_tag. DeletePatientTag's inline effect uses the latter.
