"""The `clinicians` collection: clinic members and pending clinician invites."""
from __future__ import annotations

from clinic_api.store.ids import object_id

COLLECTION = "clinicians"


def find_membership(db, clinic_id: str, user_id: str) -> dict | None:
    """The caller's clinician record in a clinic (for authorization); None when there is none.
    An invalid clinic id matches nothing, as in the reference."""
    if not user_id:
        return None
    return db[COLLECTION].find_one({"clinicId": object_id(clinic_id), "userId": user_id},
                                   {"roles": 1, "userId": 1})


def insert(db, doc: dict, session=None) -> dict:
    db[COLLECTION].insert_one(doc, session=session)
    return doc


def list_for_clinic(db, clinic_id, session=None) -> list[dict]:
    return list(db[COLLECTION].find({"clinicId": clinic_id}, session=session))


def delete_many_by_ids(db, ids, session=None) -> int:
    if not ids:
        return 0
    return db[COLLECTION].delete_many({"_id": {"$in": ids}}, session=session).deleted_count
