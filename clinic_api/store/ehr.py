"""What the EHR integrations read and write in the clinics and patients collections: EHR-enabled
clinics, patient matching by MRN / birth date / full name, the patients' EHR subscriptions
(auth note §4.1.5) and the rescheduled Redox orders (`scheduledSummaryAndReportsOrders`, §4.1.4).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId

from clinic_api import wire
from clinic_api.errors import Conflict, NotFound
from clinic_api.store import patient_queries
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database

CLINICS = "clinics"
PATIENTS = "patients"
SCHEDULED = "scheduledSummaryAndReportsOrders"
REDOX = "redox"
REDOX_SUBSCRIPTION = "summaryAndReports"
XEALTH_SUBSCRIPTION = "xealthReports"
MATCH_LIMIT = 100
SUBSCRIPTION_ATTEMPTS = 5


# --- clinics ---------------------------------------------------------------------------------

def ehr_clinics(db: Database, provider: str, *, source_id: str | None = None, clinic_id=None,
                upload_enabled: bool | None = None, limit: int = 0) -> list[dict]:
    """Clinics whose EHR integration with `provider` is enabled (oldest first)."""
    query: dict = {}
    if clinic_id is not None:
        query["_id"] = object_id(clinic_id)
    query["ehrSettings.provider"] = provider
    if source_id is not None:
        query["ehrSettings.sourceId"] = source_id
    query["ehrSettings.enabled"] = True
    if upload_enabled is not None:
        query["ehrSettings.scheduledReports.onUploadEnabled"] = upload_enabled
    return list(db[CLINICS].find(query).sort("_id", 1).limit(limit))


# --- patient matching ---------------------------------------------------------------------------

def match_patients(store, clinic_id, *, mrn: str | None = None, birth_date: str | None = None,
                   full_name: str | None = None, limit: int = MATCH_LIMIT) -> list[dict]:
    """Patients of the clinic equal on the given fields under the reference's collation
    (case- and accent-insensitive), in its list order (name, then id), at most `limit`."""
    wanted = {k: v for k, v in (("mrn", mrn), ("birthDate", birth_date), ("fullName", full_name)) if v is not None}
    query = {"clinicId": object_id(clinic_id)}
    col = store.db[PATIENTS]
    if store.supports_collation:
        cursor = col.find({**query, **wanted}, collation=patient_queries.COLLATION)
        return list(cursor.sort([("fullName", 1), ("_id", 1)]).limit(limit))
    rows = [doc for doc in col.find(query)
            if all(patient_queries.collated_equal(doc.get(k), v) for k, v in wanted.items())]
    rows.sort(key=lambda d: d["_id"])
    rows.sort(key=lambda d: patient_queries.name_key(d.get("fullName")))
    return rows[:limit]


# --- subscriptions ------------------------------------------------------------------------------

def update_subscription(db: Database, clinic_id, user_id: str, name: str, provider: str, active: bool,
                        matched: dict, now=None) -> dict:
    """Set the subscription's state and append the matched message ({id, dataModel, eventType}),
    guarded by the patient's updatedTime as the reference (a concurrent writer makes us re-read;
    after a few lost races: 409)."""
    now = now or wire.now()
    key = {"clinicId": object_id(clinic_id), "userId": user_id}
    for _attempt in range(SUBSCRIPTION_ATTEMPTS):
        patient = db[PATIENTS].find_one(key)
        if patient is None:
            raise NotFound("patient not found")
        subscriptions = dict(patient.get("ehrSubscriptions") or {})
        current = subscriptions.get(name)
        entry = dict(current) if isinstance(current, dict) else {"createdAt": now}
        messages = list(entry.get("matchedMessages") or [])
        messages.append({"id": matched["id"], "dataModel": matched["dataModel"], "eventType": matched["eventType"]})
        subscriptions[name] = {"active": bool(active), "provider": provider, "matchedMessages": messages,
                               "createdAt": entry.get("createdAt", now), "updatedAt": now}
        selector = {**key, "updatedTime": patient.get("updatedTime")}
        res = db[PATIENTS].update_one(selector, {"$set": {"ehrSubscriptions": subscriptions, "updatedTime": now}})
        if res.matched_count:
            return subscriptions[name]
    raise Conflict("conflict: the patient was changed concurrently, try again")


def active_subscription(patient: dict, name: str) -> dict | None:
    sub = (patient.get("ehrSubscriptions") or {}).get(name)
    return sub if isinstance(sub, dict) and sub.get("active") is True else None


# --- rescheduled Redox orders ---------------------------------------------------------------------

def reschedule_last_orders(db: Database, clinic_ids: list, user_id: str | None = None, now=None) -> int:
    """For every patient of the clinics (of the user, when given) with an active Redox
    subscription: a new scheduled document with the last matched order and the previous
    scheduling of that same order. The number written."""
    if not clinic_ids:
        return 0
    now = now or wire.now()
    query: dict = {"clinicId": {"$in": [object_id(c) for c in clinic_ids]},
                   f"ehrSubscriptions.{REDOX_SUBSCRIPTION}.active": True}
    if user_id is not None:
        query["userId"] = user_id
    new_docs = []
    for patient in db[PATIENTS].find(query).sort("_id", 1):
        messages = ((patient.get("ehrSubscriptions") or {}).get(REDOX_SUBSCRIPTION) or {}).get("matchedMessages")
        last = messages[-1] if isinstance(messages, list) and messages else None
        order_id = last.get("id") if isinstance(last, dict) else None
        doc: dict = {"_id": ObjectId()}
        if "userId" in patient:
            doc["userId"] = patient["userId"]
        if "clinicId" in patient:
            doc["clinicId"] = patient["clinicId"]
        doc["createdTime"] = now
        # As the reference's $lookup: a missing reference matches documents lacking the field.
        order = db[REDOX].find_one({"_id": order_id}) if order_id is not None else None
        if order is not None:
            doc["lastMatchedOrder"] = order
        preceding = list(db[SCHEDULED].find({"lastMatchedOrder._id": order_id}, {"_id": 1, "createdTime": 1})
                         .sort("createdTime", -1).limit(1))
        if preceding:
            doc["precedingDocument"] = preceding[0]
        new_docs.append(doc)
    if new_docs:
        db[SCHEDULED].insert_many(new_docs, ordered=True)
    return len(new_docs)
