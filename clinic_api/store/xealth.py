"""The Xealth collections (auth note §4.3): `xealth_preorder` (what the enrollment form gathered,
keyed by its unique dataTrackingId), `xealth_order` (each order notification with the order read
from Xealth) and `xealth_report_view` (who opened a patient's report, when)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from clinic_api.errors import NotFound, duplicate
from clinic_api.store.ids import is_hex_id

if TYPE_CHECKING:
    from pymongo.database import Database

PREORDERS = "xealth_preorder"
ORDERS = "xealth_order"
REPORT_VIEWS = "xealth_report_view"
PREORDER_NOT_FOUND = "not found: preorder data not found"


def insert_preorder(db: Database, data: dict) -> dict:
    """data: {dataTrackingId, patient?|guardian?, tags?}. A dataTrackingId already used is a 409."""
    doc = {"_id": ObjectId(), **data}
    try:
        db[PREORDERS].insert_one(doc)
    except DuplicateKeyError:
        raise duplicate("preorder data was already submitted for this dataTrackingId") from None
    return doc


def get_preorder(db: Database, data_tracking_id: str) -> dict:
    doc = db[PREORDERS].find_one({"dataTrackingId": data_tracking_id})
    if doc is None:
        raise NotFound(PREORDER_NOT_FOUND)
    return doc


def insert_order(db: Database, event_notification: dict, order_data: dict) -> dict:
    doc = {"_id": ObjectId(), "eventNotification": event_notification, "orderData": order_data}
    db[ORDERS].insert_one(doc)
    return doc


def get_order(db: Database, document_id) -> dict:
    oid = document_id if isinstance(document_id, ObjectId) else (ObjectId(document_id) if is_hex_id(document_id)
                                                                  else None)
    doc = db[ORDERS].find_one({"_id": oid}) if oid is not None else None
    if doc is None:
        raise NotFound("not found")
    return doc


def insert_report_view(db: Database, view: dict) -> dict:
    """view: {userId, deployment, systemLogin?, patientUserId, programId, clinicId, createdTime}."""
    doc = {"_id": ObjectId(), **view}
    db[REPORT_VIEWS].insert_one(doc)
    return doc


def last_report_view(db: Database, *, clinic_id: ObjectId, deployment: str, patient_user_id: str, program_id: str,
                     user_id: str) -> dict | None:
    query = {"clinicId": clinic_id, "deployment": deployment, "patientUserId": patient_user_id,
             "programId": program_id, "userId": user_id}
    found = list(db[REPORT_VIEWS].find(query).sort("createdTime", -1).limit(1))
    return found[0] if found else None
