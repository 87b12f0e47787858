"""The `clinicians` collection: clinic members and pending clinician invites.

A member has `userId`; a pending invite has `inviteId` and no `userId` (so it grants nothing).
Field names and shapes are the reference's (clinics-clinicians.md §9.2)."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from clinic_api import wire
from clinic_api.errors import NotFound, duplicate
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "clinicians"
NOT_FOUND = "clinician not found"
ALREADY_MEMBER = "clinician is already a member of the clinic"
ADMIN_ROLE = "CLINIC_ADMIN"


def find_membership(db: Database, clinic_id: str, user_id: str) -> dict | None:
    """The caller's clinician record in a clinic (for authorization); None when there is none.
    An invalid clinic id matches nothing, as in the reference."""
    if not user_id:
        return None
    return db[COLLECTION].find_one({"clinicId": object_id(clinic_id), "userId": user_id},
                                   {"roles": 1, "userId": 1})


def is_admin(doc: dict | None) -> bool:
    return doc is not None and bool(doc) and ADMIN_ROLE in (doc.get("roles") or [])


# --- reads ---------------------------------------------------------------------------------

def get(db: Database, clinic_id, user_id: str, session=None) -> dict:
    doc = db[COLLECTION].find_one({"clinicId": object_id(clinic_id), "userId": user_id}, session=session)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


def get_by_oid(db: Database, oid, session=None) -> dict:
    doc = db[COLLECTION].find_one({"_id": oid}, session=session)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


def get_invite(db: Database, clinic_id, invite_id: str, session=None) -> dict:
    doc = db[COLLECTION].find_one({"clinicId": object_id(clinic_id), "inviteId": invite_id}, session=session)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


def any_matching(db: Database, clinic_oid, *, user_id=None, invite_id=None, email=None, session=None) -> bool:
    """Whether a record of the clinic has the user id, invite id or email (the duplicate test)."""
    alternatives = []
    if user_id:
        alternatives.append({"userId": user_id})
    if invite_id:
        alternatives.append({"inviteId": invite_id})
    if email is not None:
        alternatives.append({"email": email})
    if not alternatives:
        return False
    return _exists(db, {"clinicId": clinic_oid, "$or": alternatives}, session)


def any_for_clinic(db: Database, clinic_oid, session=None) -> bool:
    """Whether any record (member, invite or service account) remains in the clinic."""
    return _exists(db, {"clinicId": clinic_oid}, session)


def _exists(db: Database, query: dict, session) -> bool:
    # find_one rather than count_documents: the embedded store has no count inside a session.
    return db[COLLECTION].find_one(query, {"_id": 1}, session=session) is not None


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", (text or "").lower()) if t]


def _text_filter(search: str):
    """The embedded store has no $text: a predicate over email tokens that approximates it
    (any positive term matches a token, quoted phrases match as substrings, -terms exclude).
    No stemming or stop words."""
    phrases = [p.lower() for p in re.findall(r'"([^"]*)"', search)]
    rest = re.sub(r'"[^"]*"', " ", search)
    positive: list[str] = []
    negative: list[str] = []
    for word in rest.split():
        (negative if word.startswith("-") else positive).extend(_tokens(word.lstrip("-")))

    def match(doc) -> bool:
        email = (doc.get("email") or "").lower()
        tokens = set(_tokens(email))
        if any(t in tokens for t in negative):
            return False
        if phrases and not all(p in email for p in phrases):
            return False
        return bool(phrases) or any(t in tokens for t in positive)

    return match


# Clinician lists are newest first (index ClinicApiCliniciansByClinicCreatedTime, ...ByUserCreatedTime).
NEWEST_FIRST = [("createdTime", -1)]


def list_filter(clinic_id, *, email=None, role=None) -> dict:
    """ListClinicians' filter, without the search."""
    query: dict = {"clinicId": object_id(clinic_id)}
    if email is not None:
        query["email"] = email.lower()
    if role is not None:
        query["roles"] = {"$elemMatch": {"$eq": role}}
    return query


def list_page(db: Database, clinic_id, *, search=None, email=None, role=None, offset=0, limit=10,
              text_index=True) -> list[dict]:
    """Members and invites of a clinic, newest first (by text score when searching)."""
    query = list_filter(clinic_id, email=email, role=role)
    coll = db[COLLECTION]
    if search is not None and text_index:
        query["$text"] = {"$search": search}
        cursor = coll.find(query, {"score": {"$meta": "textScore"}}).sort([("score", {"$meta": "textScore"})])
        return [_drop_score(d) for d in cursor.skip(offset).limit(limit)]
    if search is not None:
        match = _text_filter(search)
        docs = [d for d in coll.find(query).sort(NEWEST_FIRST) if match(d)]
        return docs[offset:offset + limit]
    return list(coll.find(query).sort(NEWEST_FIRST).skip(offset).limit(limit))


def _drop_score(doc: dict) -> dict:
    doc.pop("score", None)
    return doc


def list_for_user(db: Database, user_id: str, *, offset=0, limit=None, session=None) -> list[dict]:
    cursor = db[COLLECTION].find({"userId": user_id}, session=session).sort(NEWEST_FIRST).skip(offset)
    if limit is not None:
        cursor = cursor.limit(limit)
    return list(cursor)


def list_all(db: Database, *, offset=0, limit=10) -> list[dict]:
    return list(db[COLLECTION].find({}).sort(NEWEST_FIRST).skip(offset).limit(limit))


def list_for_clinic(db: Database, clinic_id, session=None) -> list[dict]:
    return list(db[COLLECTION].find({"clinicId": clinic_id}, session=session))


# --- writes --------------------------------------------------------------------------------

def insert(db: Database, doc: dict, session=None) -> dict:
    """Insert a record; a unique-index clash (a racing duplicate) is the duplicate error."""
    try:
        db[COLLECTION].insert_one(doc, session=session)
    except DuplicateKeyError:
        raise duplicate(ALREADY_MEMBER) from None
    return doc


def new_record(clinic_oid, *, email=None, roles=None, user_id=None, invite_id=None, name=None,
               service_account=False) -> dict:
    """A clinician document in the reference's field order."""
    now = wire.now()
    doc: dict = {}
    if invite_id:
        doc["inviteId"] = invite_id
    doc["clinicId"] = clinic_oid
    if user_id:
        doc["userId"] = user_id
    if email is not None:
        doc["email"] = email
    doc["name"] = name
    doc["roles"] = roles
    if service_account:
        doc["isServiceAccount"] = True
    doc["createdTime"] = now
    doc["updatedTime"] = now
    return doc


def update_member(db: Database, current: dict, *, roles, name, updated_by: str, roles_changed: bool,
                  session=None) -> dict:
    """$set roles, name and updatedTime; a role change also $pushes {roles, updatedBy} to
    rolesUpdates under an optimistic lock on updatedTime (lost lock: clinician not found)."""
    selector: dict = {"_id": current["_id"]}
    update: dict = {"$set": {"roles": roles, "name": name, "updatedTime": wire.now()}}
    if roles_changed:
        selector["updatedTime"] = current.get("updatedTime")
        update["$push"] = {"rolesUpdates": {"roles": list(roles), "updatedBy": updated_by}}
    doc = db[COLLECTION].find_one_and_update(selector, update, return_document=ReturnDocument.AFTER,
                                             session=session)
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


def delete_by_oid(db: Database, oid, session=None) -> None:
    if db[COLLECTION].delete_one({"_id": oid}, session=session).deleted_count == 0:
        raise NotFound(NOT_FOUND)


def delete_many_by_ids(db: Database, ids, session=None) -> int:
    if not ids:
        return 0
    return db[COLLECTION].delete_many({"_id": {"$in": ids}}, session=session).deleted_count


def associate(db: Database, invite: dict, user_id: str, name: str | None, session=None) -> dict:
    """Turn a pending invite into the user's membership: $set userId (and the profile name when
    there is one), $unset inviteId. The user's existing record in that clinic is a duplicate."""
    fields: dict = {"userId": user_id, "updatedTime": wire.now()}
    if name:
        fields["name"] = name
    try:
        doc = db[COLLECTION].find_one_and_update(
            {"_id": invite["_id"], "inviteId": invite.get("inviteId")},
            {"$set": fields, "$unset": {"inviteId": ""}}, return_document=ReturnDocument.AFTER, session=session)
    except DuplicateKeyError:
        raise duplicate(ALREADY_MEMBER) from None
    if doc is None:
        raise NotFound(NOT_FOUND)
    return doc


def delete_invite(db: Database, clinic_id, invite_id: str, session=None) -> int:
    return db[COLLECTION].delete_one({"clinicId": object_id(clinic_id), "inviteId": invite_id},
                                     session=session).deleted_count


def email_taken_by_others(db: Database, user_id: str, clinic_oids: list, email: str | None, session=None) -> bool:
    """Whether another record of one of these clinics holds `email` (it would clash)."""
    if not clinic_oids:
        return False
    return _exists(db, {"clinicId": {"$in": clinic_oids}, "email": email, "userId": {"$ne": user_id}}, session)


def set_email_everywhere(db: Database, user_id: str, email: str | None, session=None) -> tuple[int, int]:
    """$set the email (as given) on every record of the user; (matched, modified)."""
    res = db[COLLECTION].update_many({"userId": user_id}, {"$set": {"email": email, "updatedTime": wire.now()}},
                                     session=session)
    return res.matched_count, res.modified_count
