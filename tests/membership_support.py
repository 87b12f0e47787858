"""Helpers shared by the clinician, invite and user-endpoint tests."""
from __future__ import annotations

import re

from bson import ObjectId

from clinic_api import wire
from support import builders

NOT_AUTHORIZED = {"message": "security requirements failed: the subject is not authorized for the requested action"}
MISSING_TOKEN = {"message": "session token is missing"}
NEEDS_ADMIN = {"message": "constraint violation: the clinic must have at least one admin"}
NOT_MIGRATED = {"message": "constraint violation: clinic is not migrated"}
ALREADY_MEMBER = {"message": "duplicate: clinician is already a member of the clinic"}
CLINICIAN_NOT_FOUND = {"message": "clinician not found"}
CLINIC_NOT_FOUND = {"message": "clinic not found"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


def add_clinician(db, clinic_id: str, user_id: str | None, roles, *, email=None, name=None, invite_id=None,
                  created=None) -> dict:
    """A clinician (or, without user id, an invite) record written straight into the store."""
    return builders.insert_clinician(db, clinic_id, user_id, roles, invite_id=invite_id,
                                     email=email if email is not None else ..., name=name,
                                     now=created or wire.now())


def legacy_clinic(db, admins=("1234567890",), name="Legacy Clinic") -> str:
    """A clinic that is not migrated (as the legacy flow leaves it)."""
    now = wire.now()
    oid = db.clinics.insert_one({"name": name, "admins": list(admins), "isMigrated": False,
                                 "createdTime": now, "updatedTime": now}).inserted_id
    return str(oid)


def admins_of(db, clinic_id: str) -> list:
    return list((db.clinics.find_one({"_id": ObjectId(clinic_id)}) or {}).get("admins") or [])


def record(db, clinic_id: str, user_id: str) -> dict | None:
    return db.clinicians.find_one({"clinicId": ObjectId(clinic_id), "userId": user_id})


def snapshot(db, *collections: str) -> dict:
    """Everything stored in these collections (to prove a refused change wrote nothing)."""
    return {name: sorted((repr(sorted(d.items())) for d in db[name].find()), key=str) for name in collections}
