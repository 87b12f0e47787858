"""One builder per stored document type, in the reference's BSON shape, with fixed times: tests that
need data a family of operations would otherwise create write it straight into the store.

Each `*_doc` builds the document (nothing written); each `insert_*` writes it and returns it. Fields
given override the defaults; a field given as `...` is left out of the document. The per-module
helpers (patient_docs.insert_patient, clinic_helpers.seed_*, merge_support.seed_*,
membership_support.add_clinician) are these builders with their module's defaults."""
from __future__ import annotations

import datetime as dt
from typing import Any

from bson import ObjectId

UTC = dt.timezone.utc
FIXED = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
SHARE_CODE = "ABCD-EFGH-JK23"


def _oid(value) -> ObjectId:
    return value if isinstance(value, ObjectId) else ObjectId(str(value))


def _finish(doc: dict, fields: dict) -> dict:
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not ...}


# --- clinics -------------------------------------------------------------------------------------

def clinic_doc(*, now: dt.datetime = FIXED, **fields: Any) -> dict:
    """A migrated clinic as the reference stores it (one share code, a tier-default limit)."""
    doc = {"_id": ObjectId(), "name": "Seeded Clinic", "phoneNumbers": None, "canonicalShareCode": SHARE_CODE,
           "shareCodes": [SHARE_CODE], "admins": ["1234567890"], "createdTime": now, "updatedTime": now,
           "isMigrated": True, "PreferredBgUnits": "mg/dL", "timezone": None,
           "patientCountSettings": {"hardLimit": {"plan": 250}}, "patientCount": {"total": 0, "demo": 0, "plan": 0}}
    return _finish(doc, fields)


def insert_clinic(db, **fields: Any) -> dict:
    doc = clinic_doc(**fields)
    db.clinics.insert_one(doc)
    return doc


# --- clinicians ----------------------------------------------------------------------------------

def clinician_doc(clinic_id, user_id: str | None, roles, *, invite_id: str | None = None,
                  now: dt.datetime = FIXED, **fields: Any) -> dict:
    """A clinician record; without a user id (and with an invite id) a pending invite."""
    doc: dict = {"_id": ObjectId(), "clinicId": _oid(clinic_id)}
    if invite_id:
        doc["inviteId"] = invite_id
    if user_id:
        doc["userId"] = user_id
    doc.update({"email": f"{user_id or invite_id}@example.com", "name": None, "roles": list(roles),
                "createdTime": now, "updatedTime": now})
    return _finish(doc, fields)


def insert_clinician(db, clinic_id, user_id: str | None, roles, *, sync_admins: bool = True, **fields: Any) -> dict:
    """The record, and (for an admin, as the service keeps it) the user in the clinic's `admins`."""
    doc = clinician_doc(clinic_id, user_id, roles, **fields)
    db.clinicians.insert_one(doc)
    if sync_admins and user_id and "CLINIC_ADMIN" in doc["roles"]:
        db.clinics.update_one({"_id": doc["clinicId"]}, {"$addToSet": {"admins": user_id}})
    return doc


# --- patients ------------------------------------------------------------------------------------

def patient_doc(clinic_id, user_id: str, *, now: dt.datetime = FIXED, **fields: Any) -> dict:
    """A patient record with the fields every record carries."""
    doc = {"_id": ObjectId(), "clinicId": _oid(clinic_id), "userId": user_id, "birthDate": "2000-01-01",
           "email": f"{user_id}@example.com", "fullName": f"Patient {user_id}", "mrn": None, "targetDevices": None,
           "createdTime": now, "updatedTime": now, "requireUniqueMrn": False}
    return _finish(doc, fields)


def insert_patient(db, clinic_id, user_id: str, **fields: Any) -> dict:
    doc = patient_doc(clinic_id, user_id, **fields)
    db.patients.insert_one(doc)
    written_around_the_service(db, [doc["clinicId"]])
    return doc


def written_around_the_service(db, clinic_ids) -> None:
    """Patients written straight into the database, as the reference or an import would: such a
    writer does not keep our per-tag and per-site counts, and drops them (as `clinic-api
    rebuild-counts` would be told to), so the clinic's next read counts live and its next
    patient write rebuilds the counts."""
    db.clinics.update_many({"_id": {"$in": list(clinic_ids)}}, {"$unset": {"patientTallies": ""}})


# --- migrations ----------------------------------------------------------------------------------

def migration_doc(clinic_id, user_id: str, status: str = "PENDING", *, now: dt.datetime = FIXED, **fields: Any) -> dict:
    """A legacy-clinician migration record. (Confirmations are built by clinic_api.store.invites'
    new_clinician_invite / new_patient_invite, the shapes the service itself writes.)"""
    doc = {"_id": ObjectId(), "clinicId": _oid(clinic_id), "userId": user_id, "status": status,
           "createdTime": now, "updatedTime": now}
    return _finish(doc, fields)


def insert_migration(db, clinic_id, user_id: str, status: str = "PENDING", **fields: Any) -> dict:
    doc = migration_doc(clinic_id, user_id, status, **fields)
    db.migrations.insert_one(doc)
    return doc
