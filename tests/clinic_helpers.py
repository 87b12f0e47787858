"""Shared bits of the clinics tests: reference texts, request bodies, documents seeded directly
with fixed times (no wall clock), and small assertions."""
from __future__ import annotations

import datetime as dt
import re

from bson import ObjectId

from support import builders

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 5, 1, 10, 20, 30, 120000, tzinfo=UTC)  # on the wire: 2024-05-01T10:20:30.12Z
T1 = dt.datetime(2024, 6, 1, 0, 0, 0, tzinfo=UTC)  # on the wire: 2024-06-01T00:00:00Z
NOT_AUTHORIZED = {"message": "security requirements failed: the subject is not authorized for the requested action"}
MISSING_TOKEN = {"message": "session token is missing"}
CLINIC_NOT_FOUND = {"message": "clinic not found"}
BARE_NOT_FOUND = {"message": "not found"}
UNKNOWN_ID = "0123456789abcdef01234567"
BAD_ID_MESSAGE = ('parameter "clinicId" in path has an error: '
                  'string doesn\'t match the regular expression "^[a-f0-9]{24}$"')
SHARE_CODE = re.compile(r"^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}"
                        r"-[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{4}$")
WIRE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")

# The order in which the reference writes the keys of clinic.v1.
CLINIC_KEYS = ["address", "canMigrate", "city", "clinicSize", "clinicType", "country", "createdTime", "id", "name",
               "patientTags", "phoneNumbers", "postalCode", "preferredBgUnits", "shareCode", "sites", "state",
               "suppressedNotifications", "tier", "tierDescription", "timezone", "updatedTime", "website"]

EHR_BODY = {
    "enabled": True, "provider": "redox", "sourceId": "7ce6f387-0c8f-4a9b-9a1e-3f2a1c0b9d11", "mrnIdType": "MR",
    "procedureCodes": {"enableSummaryReports": "49086-2"},
    "destinationIds": {"flowsheet": "f-1", "notes": "n-1", "results": "r-1"},
    "scheduledReports": {"cadence": "14d", "onUploadEnabled": True, "onUploadNoteEventType": "Replace"},
    "tags": {"codes": ["PATIENT_TAGS"], "separator": ","}, "flowsheets": {"icode": False},
}


def body_schema_error(schema: str, pointer: str, reason: str) -> dict:
    """kin-openapi's text; an error of the body itself (pointer "/") carries no location."""
    where = f'Error at "{pointer}": ' if pointer != "/" else ""
    return {"message": f'request body has an error: doesn\'t match schema #/components/schemas/{schema}: '
                       f'{where}{reason}'}


def seed_clinic(db, **fields) -> ObjectId:
    """A clinic document as the reference stores it, with fixed times; `fields` override (`name=...`
    drops a key)."""
    return builders.insert_clinic(db, now=T0, **fields)["_id"]


def seed_clinician(db, clinic_id, user_id: str, roles: list, email: str | None = None, name: str | None = None):
    builders.insert_clinician(db, clinic_id, user_id, roles, sync_admins=False, email=email or f"{user_id}@example.com",
                              name=name, now=T0)


def seed_patient(db, clinic_id, user_id: str, **fields):
    """A bare patient record (name and view permission only)."""
    return builders.insert_patient(db, clinic_id, user_id, now=T0, **{
        "birthDate": ..., "email": ..., "mrn": ..., "targetDevices": ..., "requireUniqueMrn": ...,
        "permissions": {"view": {}}, **fields})


def stored(db, clinic_id) -> dict | None:
    return db.clinics.find_one({"_id": ObjectId(str(clinic_id))})


def comparable(doc: dict | None) -> dict | None:
    """A stored document with its times as text, to compare before/after a refused write."""
    if doc is None:
        return None
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in doc.items()}


def assert_wire_time(text: str, value: dt.datetime) -> None:
    """The reference's format (RFC 3339, fraction without trailing zeros, Z), equal to the stored time."""
    from clinic_api import wire

    assert WIRE_TIME.match(text), text
    assert text == wire.format_time(value)
