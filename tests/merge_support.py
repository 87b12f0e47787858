"""Clinics, clinicians and patients for the merge tests, inserted directly with fixed times
(the families that create them are tested elsewhere), and a reader of the XLSX report."""
from __future__ import annotations

import datetime as dt
import io
import itertools

from bson import ObjectId
from openpyxl import load_workbook

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 5, 14, 3, 7, tzinfo=UTC)
T1 = dt.datetime(2024, 4, 1, 8, 30, 0, tzinfo=UTC)
SOURCE_ADMIN = "a0000000a1"
TARGET_ADMIN = "b0000000b1"
_codes = itertools.count(1)


def share_code() -> str:
    n = next(_codes)
    return f"MRGE-{n:04d}-CODE".replace("0", "A").replace("1", "B").replace("O", "P")


def seed_clinic(db, name: str | None, **fields) -> dict:
    code = share_code()
    doc = {"_id": ObjectId(), "name": name, "patientTags": [], "canonicalShareCode": code, "shareCodes": [code],
           "admins": [], "createdTime": T0, "updatedTime": T0, "isMigrated": True, "PreferredBgUnits": "mg/dL",
           "timezone": "US/Pacific", "patientCountSettings": {"hardLimit": {"plan": 250}},
           "patientCount": {"total": 0, "demo": 0, "plan": 0}}
    doc.update(fields)
    doc = {k: v for k, v in doc.items() if v is not ...}
    db.clinics.insert_one(doc)
    return doc


def add_tags(db, clinic: dict, *names) -> list[dict]:
    tags = [{"_id": ObjectId(), "name": n} for n in names]
    db.clinics.update_one({"_id": clinic["_id"]}, {"$push": {"patientTags": {"$each": tags}}})
    clinic.setdefault("patientTags", []).extend(tags)
    return tags


def add_sites(db, clinic: dict, *names) -> list[dict]:
    sites = [{"id": ObjectId(), "name": n} for n in names]
    db.clinics.update_one({"_id": clinic["_id"]}, {"$push": {"sites": {"$each": sites}}})
    clinic.setdefault("sites", []).extend(sites)
    return sites


def seed_clinician(db, clinic: dict, user_id: str | None, roles: list, *, email=None, name=None,
                   invite_id=None, created=T0) -> dict:
    doc = {"_id": ObjectId(), "clinicId": clinic["_id"]}
    if invite_id:
        doc["inviteId"] = invite_id
    if user_id:
        doc["userId"] = user_id
    doc.update({"email": email or f"{user_id or invite_id}@example.com", "name": name, "roles": roles,
                "createdTime": created, "updatedTime": created})
    db.clinicians.insert_one(doc)
    if user_id and "CLINIC_ADMIN" in roles:
        db.clinics.update_one({"_id": clinic["_id"]}, {"$addToSet": {"admins": user_id}})
    return doc


def seed_patient(db, clinic: dict, user_id: str, **fields) -> dict:
    doc = {"_id": ObjectId(), "clinicId": clinic["_id"], "userId": user_id, "birthDate": f"19{user_id[-2:]}-01-01",
           "email": f"{user_id}@example.com", "fullName": f"Patient {user_id}", "mrn": None, "tags": [],
           "createdTime": T0, "updatedTime": T0, "requireUniqueMrn": False}
    doc.update(fields)
    doc = {k: v for k, v in doc.items() if v is not ...}
    db.patients.insert_one(doc)
    return doc


def seed_user(db, user_id: str, email: str) -> None:
    db.users.insert_one({"_id": user_id, "username": email, "emails": [email]})


def pair(db, source_name="Source Clinic", target_name="Target Clinic", **common) -> tuple[dict, dict]:
    """A source and a target clinic with the same settings, each with its admin."""
    source = seed_clinic(db, source_name, **common)
    target = seed_clinic(db, target_name, **common)
    seed_clinician(db, source, SOURCE_ADMIN, ["CLINIC_ADMIN"], name="Sam Source")
    seed_clinician(db, target, TARGET_ADMIN, ["CLINIC_ADMIN"], name="Tia Target")
    return source, target


def report_url(target: dict) -> str:
    return f"/v1/clinics/{target['_id']}/reports/merge"


def merge_url(target: dict) -> str:
    return f"/v1/clinics/{target['_id']}/merge"


def body(source: dict) -> dict:
    return {"sourceId": str(source["_id"])}


def read_workbook(content: bytes) -> dict[str, list[list]]:
    """{sheet title: rows of cell values} (an empty cell reads as None, trailing ones dropped)."""
    book = load_workbook(io.BytesIO(content))
    out = {}
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows(values_only=True):
            values = list(row)
            while values and values[-1] in (None, ""):
                values.pop()
            rows.append(values)
        out[sheet.title] = rows
    return out
