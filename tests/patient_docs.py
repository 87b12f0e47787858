"""Patient documents in the reference's BSON shape, inserted straight into `patients` (the
patients API is tested elsewhere). Used by the tag, site, summary, TIDE and count tests."""
from __future__ import annotations

from support import builders

FIXED = builders.FIXED


def patient_doc(clinic_id, user_id: str, **fields) -> dict:
    return builders.patient_doc(clinic_id, user_id, now=FIXED, **fields)


def insert_patient(db, clinic_id, user_id: str, **fields) -> dict:
    return builders.insert_patient(db, clinic_id, user_id, now=FIXED, **fields)


def user_id(n: int) -> str:
    return f"{n:010x}"
