"""The `confirmations` collection: invites, as Tidepool's invite service (hydrophone) stores them
(invites.md §5.1), kept in our own database.

_id is the 32-character URL-safe key (also the `inviteId` of a clinician invite record), clinicId
is a hex string (not an ObjectId), `modified` of a never-modified invite is the zero time, and a
patient invite's `context` is the permissions JSON as binary data.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import secrets
from typing import TYPE_CHECKING

from bson.binary import Binary
from pymongo import ReturnDocument

from clinic_api import wire

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "confirmations"
CLINICIAN_INVITATION = "clinician_invitation"
CARETEAM_INVITATION = "careteam_invitation"
PENDING, COMPLETED, CANCELED, DECLINED = "pending", "completed", "canceled", "declined"
ZERO_TIME = _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc)
PATIENT_INVITE_LIFETIME = _dt.timedelta(days=7)



def new_key() -> str:
    """24 random bytes, URL-safe base64 without padding: 32 characters."""
    return secrets.token_urlsafe(24)


def new_clinician_invite(key: str, *, email: str, clinic_id: str, clinic_name: str, creator_id: str,
                         user_id: str = "", created=None) -> dict:
    """A pending clinician invitation, fields in the order hydrophone writes them."""
    creator = {}
    if clinic_id:
        creator["clinicId"] = clinic_id
    if clinic_name:
        creator["clinicName"] = clinic_name
    doc: dict = {"_id": key, "type": CLINICIAN_INVITATION, "email": email}
    if clinic_id:
        doc["clinicId"] = clinic_id
    doc.update({"creatorId": creator_id, "creator": creator, "created": created or wire.now(),
                "modified": ZERO_TIME, "status": PENDING, "templateName": CLINICIAN_INVITATION,
                "userId": user_id or ""})
    return doc


def new_patient_invite(key: str, *, clinic_id: str, patient_id: str, permissions: dict, created=None) -> dict:
    """A pending patient→clinic share (created by the patient side; used by tests and seeds)."""
    created = created or wire.now()
    return {"_id": key, "type": CARETEAM_INVITATION, "email": "", "clinicId": clinic_id, "creatorId": patient_id,
            "creator": {}, "context": Binary(json.dumps(permissions, separators=(",", ":")).encode(), 0),
            "created": created, "modified": ZERO_TIME, "status": PENDING,
            "expiresAt": created + PATIENT_INVITE_LIFETIME, "templateName": "patient_clinic_invitation",
            "userId": ""}


def context_value(doc: dict):
    """The decoded `context` JSON, or None."""
    raw = doc.get("context")
    if raw is None:
        return None
    if isinstance(raw, (bytes, bytearray)):
        raw = bytes(raw).decode("utf-8", "replace")
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return None
    return raw


# --- reads ---------------------------------------------------------------------------------

def _email_match(email: str) -> dict:
    return {"$regex": f"^{re.escape(email)}$", "$options": "i"}


def find_one(db: Database, key: str, *, type_=None, status=None, clinic_id=None, user_id=None,
             session=None) -> dict | None:
    """The newest confirmation matching the given (non-empty) criteria."""
    query: dict = {"_id": key}
    for field, value in (("type", type_), ("status", status), ("clinicId", clinic_id), ("userId", user_id)):
        if value:
            query[field] = value
    docs = list(db[COLLECTION].find(query, session=session).sort("created", -1).limit(1))
    return docs[0] if docs else None


def find_pending(db: Database, *, type_: str, clinic_id=None, user_id=None) -> list[dict]:
    query: dict = {"type": type_, "status": {"$in": [PENDING]}}
    if clinic_id:
        query["clinicId"] = clinic_id
    if user_id:
        query["userId"] = user_id
    return list(db[COLLECTION].find(query).sort("created", -1))


# --- writes --------------------------------------------------------------------------------

def save(db: Database, doc: dict, *, only_if_status: str | None = None, session=None) -> dict | None:
    """Write the whole document ($set upsert by key, as hydrophone does). With `only_if_status`,
    only over a stored confirmation still in that status (None otherwise): a resend cannot
    revive an invite accepted meanwhile."""
    fields = {k: v for k, v in doc.items() if k != "_id"}
    selector = {"_id": doc["_id"]}
    if only_if_status:
        selector["status"] = only_if_status
    return db[COLLECTION].find_one_and_update(selector, {"$set": fields}, upsert=not only_if_status,
                                              return_document=ReturnDocument.AFTER, session=session)


def transition(db: Database, key: str, new_status: str, *, expected=PENDING, session=None) -> dict | None:
    """Move a confirmation from `expected` to `new_status` (modified = now), atomically: None
    when it is not (or no longer) in the expected status."""
    return db[COLLECTION].find_one_and_update(
        {"_id": key, "status": expected}, {"$set": {"status": new_status, "modified": wire.now()}},
        return_document=ReturnDocument.AFTER, session=session)


def claim_userless(db: Database, email: str, user_id: str) -> int:
    """Give the user's id to pending clinician invitations sent to their email before they had an
    account (case-insensitive exact email)."""
    res = db[COLLECTION].update_many(
        {"email": _email_match(email), "userId": "", "type": CLINICIAN_INVITATION, "status": {"$in": [PENDING]}},
        {"$set": {"userId": user_id}})
    return res.modified_count
