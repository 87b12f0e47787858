"""The `clinics` collection: documents, share codes, live tag/site counts, deletion."""
from __future__ import annotations

from typing import TYPE_CHECKING

import secrets

from bson import ObjectId
from pymongo import ReturnDocument

from clinic_api import wire
from clinic_api.errors import Duplicate, NotFound
from clinic_api.store import patient_counts
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "clinics"
SHARE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SHARE_CODE_ATTEMPTS = 100
DEFAULT_HARD_LIMIT_PLAN = 250
CLINIC_NOT_FOUND = "clinic not found"


def new_share_code() -> str:
    chars = "".join(secrets.choice(SHARE_CODE_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


# --- reads ---------------------------------------------------------------------------------

def get(db: Database, clinic_id, session=None) -> dict:
    doc = db[COLLECTION].find_one({"_id": object_id(clinic_id)}, session=session)
    if doc is None:
        raise NotFound(CLINIC_NOT_FOUND)
    return doc


def find_by_share_code(db: Database, share_code: str, limit: int = 2) -> list[dict]:
    return list(db[COLLECTION].find({"shareCodes": share_code}).sort("_id", 1).limit(limit))


LIST_SORT = [("_id", 1)]  # the _id_ index


def list_page(db: Database, *, share_code=None, created_start=None, created_end=None, ehr_enabled=None,
              offset=0, limit=10) -> list[dict]:
    query = list_filter(share_code=share_code, created_start=created_start, created_end=created_end,
                        ehr_enabled=ehr_enabled)
    return list(db[COLLECTION].find(query).sort(LIST_SORT).skip(offset).limit(limit))


def list_filter(*, share_code=None, created_start=None, created_end=None, ehr_enabled=None) -> dict:
    """ListClinics' filter."""
    query: dict = {}
    if share_code is not None:
        query["shareCodes"] = {"$in": [share_code]}
    created = {}
    if created_start is not None:
        created["$gte"] = created_start
    if created_end is not None:
        created["$lt"] = created_end
    if created:
        query["createdTime"] = created
    if ehr_enabled is not None:
        query["ehrSettings.enabled"] = ehr_enabled
    return query


def annotate(db: Database, docs: list[dict], session=None, live: bool = False) -> list[dict]:
    """Put each tag's and site's patient count into patientTags[].patients and sites[].patients,
    from the clinic's maintained tallies (store/patient_counts.py), or counted over the clinics'
    patients when a clinic has none (or `live`)."""
    need = [d["_id"] for d in docs if (d.get("patientTags") or d.get("sites"))
            and (live or not isinstance(d.get(patient_counts.TALLIES), dict))]
    counted = patient_counts.tallies(db, need, session=session) if need else {}
    for doc in docs:
        if not (doc.get("patientTags") or doc.get("sites")):
            continue
        tally = counted.get(doc["_id"]) if doc["_id"] in counted else doc.get(patient_counts.TALLIES)
        if not isinstance(tally, dict):
            continue
        for kind, field, key in (("tags", "patientTags", "_id"), ("sites", "sites", "id")):
            known = tally.get(kind) or {}
            for item in doc.get(field) or []:
                n = known.get(str(item.get(key))) if isinstance(item, dict) else None
                if n:
                    item["patients"] = n
    return docs


# --- the migration rule on the stored document ------------------------------------------------

def profile_complete(doc: dict) -> bool:
    if doc.get("_id") is None:
        return False
    for field in ("address", "city", "clinicType", "country", "name", "postalCode", "state", "PreferredBgUnits"):
        if not doc.get(field):
            return False
    return all(t.get("_id") is not None and t.get("name") for t in (doc.get("patientTags") or []))


def can_migrate(doc: dict) -> bool:
    return not doc.get("isMigrated") and profile_complete(doc) and len(doc.get("admins") or []) > 0


# --- writes -----------------------------------------------------------------------------------

# Compare-and-swap on an array of the clinic (its tags, its sites), for rules no query can state
# (names equal up to case folding): read, check, then update only while the array is exactly as read.
CAS_ATTEMPTS = 1000


def same_array(doc: dict, field: str) -> dict:
    """A condition matching the clinic only while `field` is exactly as read in `doc` (absent or
    null: still absent or null)."""
    value = doc.get(field)
    return {field: value if isinstance(value, list) else None}


# Field order of the reference's clinic document (its struct order); the deletion archive holds
# only these fields, as the reference re-encodes the clinic before archiving it.
DOCUMENT_FIELDS = ("_id", "address", "city", "clinicType", "clinicSize", "country", "name", "patientTags",
                   "phoneNumbers", "postalCode", "state", "canonicalShareCode", "website", "shareCodes", "admins",
                   "createdTime", "updatedTime", "isMigrated", "tier", "PreferredBgUnits", "suppressedNotifications",
                   "timezone", "membershipRestrictions", "ehrSettings", "mrnSettings", "patientCountSettings",
                   "patientCount", "sites")
_ALWAYS_WRITTEN = ("timezone",)  # null when unset, every other field is left out when unset


def _in_document_order(doc: dict) -> dict:
    out = {k: doc[k] for k in DOCUMENT_FIELDS if k in doc}
    for key in _ALWAYS_WRITTEN:
        out.setdefault(key, None)
    for key in (patient_counts.TALLIES,):  # ours, after the reference's fields
        if key in doc:
            out[key] = doc[key]
    return out


_EMPTY_OMITTED = {"tier": "", "PreferredBgUnits": "", "isMigrated": False, "patientTags": [],
                  "membershipRestrictions": [], "sites": []}


def archive_view(doc: dict) -> dict:
    """The clinic as the reference archives it: its known fields only, null ones (and the empty
    values its encoder drops) left out, `timezone` always present."""
    out = {}
    for key in DOCUMENT_FIELDS:
        value = doc.get(key)
        if key in _ALWAYS_WRITTEN:
            out[key] = value
        elif value is not None and not (key in _EMPTY_OMITTED and value == _EMPTY_OMITTED[key]):
            out[key] = value
    return out


def _insert_with_share_code(db: Database, make, session=None) -> dict:
    """Insert the document `make(code)` builds around a fresh share code, pre-checked against
    existing ones up to 100 times as the reference (409 duplicate share code after that). A
    racing insert of the same code hits the unique index. The one place a clinic is inserted."""
    for _ in range(SHARE_CODE_ATTEMPTS):
        code = new_share_code()
        if db[COLLECTION].find_one({"shareCodes": code}, {"_id": 1}, session=session) is None:
            doc = make(code)
            db[COLLECTION].insert_one(doc, session=session)
            return doc
    raise Duplicate("duplicate share code")


def insert_new(db: Database, fields: dict, creator_id: str, session=None) -> dict:
    """Insert a new (migrated) clinic with its creator as admin and a fresh share code."""
    now = wire.now()
    doc = {**fields, "admins": [creator_id], "isMigrated": True,
           "patientCountSettings": {"hardLimit": {"plan": DEFAULT_HARD_LIMIT_PLAN}},
           "patientCount": {"total": 0, "demo": 0, "plan": 0},
           patient_counts.TALLIES: patient_counts.empty_tallies(),
           "createdTime": now, "updatedTime": now}
    return _insert_with_share_code(db, lambda code: _in_document_order(
        {**doc, "canonicalShareCode": code, "shareCodes": [code], "_id": ObjectId()}), session=session)


def insert_legacy(db: Database, admin_id: str, session=None) -> dict:
    """A legacy user's clinic as the reference inserts it: share code, the admin, times, null
    timezone, the default patient-count settings — no name and no `isMigrated` (absent means
    not migrated)."""
    now = wire.now()
    return _insert_with_share_code(db, lambda code: {
        "_id": ObjectId(), "canonicalShareCode": code, "shareCodes": [code], "admins": [admin_id],
        "createdTime": now, "updatedTime": now, "timezone": None,
        "patientCountSettings": {"hardLimit": {"plan": DEFAULT_HARD_LIMIT_PLAN}},
        "patientCount": {"total": 0, "demo": 0, "plan": 0},
        patient_counts.TALLIES: patient_counts.empty_tallies()}, session=session)


def find_by_ids(db: Database, clinic_ids, limit: int = 0, session=None) -> list[dict]:
    return list(db[COLLECTION].find({"_id": {"$in": list(clinic_ids)}}, limit=limit, session=session))


def name_of(db: Database, clinic_id) -> str:
    doc = db[COLLECTION].find_one({"_id": clinic_id}, {"name": 1}) or {}
    return doc.get("name") or ""


def update_profile(db: Database, clinic_id, fields: dict) -> dict:
    return set_fields(db, clinic_id, fields)


def set_fields(db: Database, clinic_id, fields: dict, session=None) -> dict:
    """$set the fields and updatedTime; the updated document, or 404 clinic not found."""
    doc = db[COLLECTION].find_one_and_update(
        {"_id": object_id(clinic_id)}, {"$set": {**fields, "updatedTime": wire.now()}},
        return_document=ReturnDocument.AFTER, session=session)
    if doc is None:
        raise NotFound(CLINIC_NOT_FOUND)
    return doc


def add_admin(db: Database, clinic_id, user_id: str, session=None) -> None:
    res = db[COLLECTION].update_one({"_id": object_id(clinic_id)},
                                    {"$addToSet": {"admins": user_id}, "$set": {"updatedTime": wire.now()}},
                                    session=session)
    if res.matched_count == 0:
        raise NotFound(CLINIC_NOT_FOUND)


def pull_admin_if_unchanged(db: Database, clinic_oid, user_id: str, updated_time, session=None) -> bool:
    """$pull the admin unless the clinic changed since it was read (its updatedTime, as the
    reference guards it); False when it did."""
    res = db[COLLECTION].update_one({"_id": clinic_oid, "updatedTime": updated_time},
                                    {"$pull": {"admins": user_id}, "$set": {"updatedTime": wire.now()}},
                                    session=session)
    return res.matched_count != 0


def delete(db: Database, clinic_id, session=None) -> None:
    db[COLLECTION].delete_one({"_id": object_id(clinic_id)}, session=session)
