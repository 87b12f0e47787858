"""Patient documents in the reference's BSON shape, inserted straight into `patients` (the
patients API is tested elsewhere). Used by the tag, site, summary, TIDE and count tests."""
from __future__ import annotations

import datetime as dt

from bson import ObjectId

FIXED = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


def patient_doc(clinic_id, user_id: str, **fields) -> dict:
    doc = {
        "_id": ObjectId(),
        "clinicId": ObjectId(str(clinic_id)),
        "userId": user_id,
        "birthDate": "2000-01-01",
        "email": f"{user_id}@example.com",
        "fullName": f"Patient {user_id}",
        "mrn": None,
        "targetDevices": None,
        "createdTime": FIXED,
        "updatedTime": FIXED,
        "requireUniqueMrn": False,
    }
    doc.update(fields)
    return doc


def insert_patient(db, clinic_id, user_id: str, **fields) -> dict:
    doc = patient_doc(clinic_id, user_id, **fields)
    db.patients.insert_one(doc)
    return doc


def user_id(n: int) -> str:
    return f"{n:010x}"


# --- who may call an operation ----------------------------------------------------------------

CALLERS = ("server", "admin", "member", "other_admin", "plain_user", "anonymous")
FORBIDDEN = {"message": "security requirements failed: the subject is not authorized for the requested action"}
TOKEN_MISSING = {"message": "session token is missing"}


def expect_access(request, call, allowed: dict):
    """Call the operation as each kind of caller. `allowed` maps a caller name to its expected
    status; every other caller must get 403 (400 without a token). `call(api)` makes the request
    and returns the response; the fixtures are looked up by name."""
    for name in CALLERS:
        api = request.getfixturevalue(name)
        resp = call(api)
        if name in allowed:
            assert resp.status_code == allowed[name], (name, resp.status_code, resp.text)
        elif name == "anonymous":
            assert (resp.status_code, resp.json()) == (400, TOKEN_MISSING), (name, resp.text)
        else:
            assert (resp.status_code, resp.json()) == (403, FORBIDDEN), (name, resp.text)
