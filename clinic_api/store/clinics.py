"""The `clinics` collection: documents, share codes, live tag/site counts, deletion."""
from __future__ import annotations

import secrets

from bson import ObjectId
from pymongo import ReturnDocument

from clinic_api import wire
from clinic_api.errors import Duplicate, NotFound
from clinic_api.store.ids import hex_id, object_id

COLLECTION = "clinics"
SHARE_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SHARE_CODE_ATTEMPTS = 100
DEFAULT_HARD_LIMIT_PLAN = 250
TIER_DESCRIPTIONS = {"tier0100": "Free", "tier0200": "Standard", "tier0300": "Premium", "tier0400": "Enterprise"}
PROFILE_FIELDS = ("address", "city", "postalCode", "state", "country", "website", "clinicType", "clinicSize")
CLINIC_NOT_FOUND = "clinic not found"


def new_share_code() -> str:
    chars = "".join(secrets.choice(SHARE_CODE_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


# --- reads ---------------------------------------------------------------------------------

def get(db, clinic_id, session=None) -> dict:
    doc = db[COLLECTION].find_one({"_id": object_id(clinic_id)}, session=session)
    if doc is None:
        raise NotFound(CLINIC_NOT_FOUND)
    return doc


def find_by_share_code(db, share_code: str, limit: int = 2) -> list[dict]:
    return list(db[COLLECTION].find({"shareCodes": share_code}).sort("_id", 1).limit(limit))


def list_page(db, *, share_code=None, created_start=None, created_end=None, ehr_enabled=None,
              offset=0, limit=10) -> list[dict]:
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
    return list(db[COLLECTION].find(query).sort("_id", 1).skip(offset).limit(limit))


def patient_counts(db, clinic_ids: list, session=None) -> dict:
    """{clinicId: {"tags": {tagId: n}, "sites": {siteId: n}}} over the clinics' patients."""
    out: dict = {cid: {"tags": {}, "sites": {}} for cid in clinic_ids}
    if not clinic_ids:
        return out
    match = {"$match": {"clinicId": {"$in": list(clinic_ids)}}}
    tags = db.patients.aggregate([match, {"$unwind": "$tags"},
                                  {"$group": {"_id": {"c": "$clinicId", "t": "$tags"}, "n": {"$sum": 1}}}],
                                 session=session)
    for row in tags:
        out.setdefault(row["_id"]["c"], {"tags": {}, "sites": {}})["tags"][row["_id"]["t"]] = row["n"]
    sites = db.patients.aggregate([match, {"$unwind": "$sites"},
                                   {"$group": {"_id": {"c": "$clinicId", "s": "$sites.id"}, "n": {"$sum": 1}}}],
                                  session=session)
    for row in sites:
        out.setdefault(row["_id"]["c"], {"tags": {}, "sites": {}})["sites"][row["_id"]["s"]] = row["n"]
    return out


def annotate(db, docs: list[dict], session=None) -> list[dict]:
    """Merge live patient counts into patientTags[].patients and sites[].patients."""
    need = [d["_id"] for d in docs if d.get("patientTags") or d.get("sites")]
    counts = patient_counts(db, need, session=session) if need else {}
    for doc in docs:
        c = counts.get(doc["_id"])
        if not c:
            continue
        for tag in doc.get("patientTags") or []:
            n = c["tags"].get(tag.get("_id"))
            if n:
                tag["patients"] = n
        for site in doc.get("sites") or []:
            n = c["sites"].get(site.get("id"))
            if n:
                site["patients"] = n
    return docs


# --- the API shape -------------------------------------------------------------------------

def profile_complete(doc: dict) -> bool:
    if doc.get("_id") is None:
        return False
    for field in ("address", "city", "clinicType", "country", "name", "postalCode", "state", "PreferredBgUnits"):
        if not doc.get(field):
            return False
    return all(t.get("_id") is not None and t.get("name") for t in (doc.get("patientTags") or []))


def can_migrate(doc: dict) -> bool:
    return not doc.get("isMigrated") and profile_complete(doc) and len(doc.get("admins") or []) > 0


def _counted(items, id_key) -> list[dict]:
    out = []
    for item in items:
        entry = {"id": hex_id(item.get(id_key)), "name": item.get("name", "")}
        if item.get("patients"):
            entry["numPatients"] = int(item["patients"])
        out.append(entry)
    return out


def to_api(doc: dict) -> dict:
    """clinic.v1, keys in the reference's order."""
    out: dict = {}
    if doc.get("address") is not None:
        out["address"] = doc["address"]
    out["canMigrate"] = can_migrate(doc)
    for key in ("city", "clinicSize", "clinicType", "country"):
        if doc.get(key) is not None:
            out[key] = doc[key]
    out["createdTime"] = wire.format_time(doc.get("createdTime"))
    out["id"] = hex_id(doc["_id"])
    out["name"] = doc.get("name") or ""
    if doc.get("patientTags") is not None:
        out["patientTags"] = _counted(doc["patientTags"], "_id") or None
    if doc.get("phoneNumbers") is not None:
        phones = []
        for phone in doc["phoneNumbers"]:
            entry = {"number": phone.get("number", "")}
            if phone.get("type") is not None:
                entry["type"] = phone["type"]
            phones.append(entry)
        out["phoneNumbers"] = phones or None
    if doc.get("postalCode") is not None:
        out["postalCode"] = doc["postalCode"]
    out["preferredBgUnits"] = doc.get("PreferredBgUnits") or "mg/dL"
    if doc.get("canonicalShareCode") is not None:
        out["shareCode"] = doc["canonicalShareCode"]
    if doc.get("sites"):
        out["sites"] = _counted(doc["sites"], "id")
    if doc.get("state") is not None:
        out["state"] = doc["state"]
    suppressed = doc.get("suppressedNotifications")
    if suppressed is not None:
        out["suppressedNotifications"] = (
            {"patientClinicInvitation": bool(suppressed["patientClinicInvitation"])}
            if suppressed.get("patientClinicInvitation") is not None else {})
    tier = doc.get("tier") or "tier0100"
    out["tier"] = tier
    out["tierDescription"] = TIER_DESCRIPTIONS.get(tier, "")
    if doc.get("timezone") is not None:
        out["timezone"] = doc["timezone"]
    out["updatedTime"] = wire.format_time(doc.get("updatedTime"))
    if doc.get("website") is not None:
        out["website"] = doc["website"]
    return out


def fields_from_api(body: dict) -> dict:
    """The fields a create or update honours; the rest of the body is ignored."""
    fields = {"name": body.get("name") or ""}
    for key in PROFILE_FIELDS:
        if key in body and body[key] is not None:
            fields[key] = body[key]
    phones = body.get("phoneNumbers")
    fields["phoneNumbers"] = (
        [{k: p[k] for k in ("type", "number") if k in p} for p in phones] if phones is not None else None)
    fields["timezone"] = body.get("timezone")
    if body.get("preferredBgUnits"):
        fields["PreferredBgUnits"] = body["preferredBgUnits"]
    return fields


# --- writes --------------------------------------------------------------------------------

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


def insert_new(db, fields: dict, creator_id: str, session=None) -> dict:
    """Insert a new clinic with its creator as admin and a fresh share code (pre-checked up to
    100 times, as the reference; 409 duplicate share code after that). A racing insert of the
    same code hits the unique index."""
    now = wire.now()
    doc = {**fields, "admins": [creator_id], "isMigrated": True,
           "patientCountSettings": {"hardLimit": {"plan": DEFAULT_HARD_LIMIT_PLAN}},
           "patientCount": {"total": 0, "demo": 0, "plan": 0},
           "createdTime": now, "updatedTime": now}
    for _ in range(SHARE_CODE_ATTEMPTS):
        code = new_share_code()
        if db[COLLECTION].find_one({"shareCodes": code}, {"_id": 1}, session=session) is None:
            doc["canonicalShareCode"] = code
            doc["shareCodes"] = [code]
            doc["_id"] = ObjectId()
            doc = _in_document_order(doc)
            db[COLLECTION].insert_one(doc, session=session)
            return doc
    raise Duplicate("duplicate share code")


def update_profile(db, clinic_id, fields: dict) -> dict:
    return set_fields(db, clinic_id, fields)


def set_fields(db, clinic_id, fields: dict, session=None) -> dict:
    """$set the fields and updatedTime; the updated document, or 404 clinic not found."""
    doc = db[COLLECTION].find_one_and_update(
        {"_id": object_id(clinic_id)}, {"$set": {**fields, "updatedTime": wire.now()}},
        return_document=ReturnDocument.AFTER, session=session)
    if doc is None:
        raise NotFound(CLINIC_NOT_FOUND)
    return doc


def add_admin(db, clinic_id, user_id: str, session=None) -> None:
    res = db[COLLECTION].update_one({"_id": object_id(clinic_id)},
                                    {"$addToSet": {"admins": user_id}, "$set": {"updatedTime": wire.now()}},
                                    session=session)
    if res.matched_count == 0:
        raise NotFound(CLINIC_NOT_FOUND)


def delete(db, clinic_id, session=None) -> None:
    db[COLLECTION].delete_one({"_id": object_id(clinic_id)}, session=session)
