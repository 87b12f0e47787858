"""Shared bits of the patient tests: fixed times, documents inserted in the reference's shape,
request bodies, reference texts and the authorization callers."""
from __future__ import annotations

import datetime as dt
import re

from bson import ObjectId

from clinic_api.store import patient_docs
from support import builders

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 1, 17, 6, 38, 22, 958000, tzinfo=UTC)  # on the wire: 2024-01-17T06:38:22.958Z
T1 = dt.datetime(2024, 2, 1, 0, 0, 0, tzinfo=UTC)
T2 = dt.datetime(2024, 3, 1, 12, 0, 0, tzinfo=UTC)
WIRE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")
NOT_AUTHORIZED = {"message": "security requirements failed: the subject is not authorized for the requested action"}
MISSING_TOKEN = {"message": "session token is missing"}
PATIENT_NOT_FOUND = {"message": "patient not found"}
CLINIC_NOT_FOUND = {"message": "clinic not found"}
ALREADY_MEMBER = {"message": "duplicate: patient is already a member of the clinic"}
UNKNOWN_CLINIC = "0123456789abcdef01234567"
USER_A, USER_B, USER_C = "a0a0a0a0a0", "b1b1b1b1b1", "c2c2c2c2c2"
UUID_USER = "8b1f2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
BIXBY = {"fullName": "Timothy Bixby", "birthDate": "2008-01-06", "mrn": "0000000001", "email": "test@tidepool.org"}
EMPTY_REQUESTS = {"abbott": [], "dexcom": [], "twiist": []}
PATIENT_KEYS = ["birthDate", "connectionRequests", "createdTime", "dataSources", "diagnosisType", "email",
                "fullName", "glycemicRanges", "id", "lastUploadReminderTime", "mrn", "permissions", "reviews",
                "sites", "summary", "tags", "targetDevices", "updatedTime"]


def insert_patient(db, clinic_id, user_id: str, **fields) -> dict:
    """A patient document as the service writes it (fixed times), with any stored field overridden."""
    base = {"fullName": fields.pop("fullName", f"Patient {user_id}"), "birthDate": fields.pop("birthDate",
                                                                                              "2000-01-01"),
            "email": fields.pop("email", None), "mrn": fields.pop("mrn", None), "targetDevices": None}
    doc = patient_docs.new_document(ObjectId(str(clinic_id)), user_id, base, now=T0)
    doc.update(fields)
    db.patients.insert_one(doc)
    builders.written_around_the_service(db, [doc["clinicId"]])
    return doc


def add_clinic_site(db, clinic_id, name: str) -> str:
    site_id = ObjectId()
    db.clinics.update_one({"_id": ObjectId(clinic_id)}, {"$push": {"sites": {"id": site_id, "name": name}}})
    return str(site_id)


def set_clinic(db, clinic_id, **fields) -> None:
    db.clinics.update_one({"_id": ObjectId(clinic_id)}, {"$set": fields})


def create_patient(api, clinic_id, **body) -> dict:
    resp = api.post(f"/v1/clinics/{clinic_id}/patients", json={**BIXBY, **body})
    assert resp.status_code == 200, resp.text
    return resp.json()


def assert_key_order(body: dict) -> None:
    keys = list(body)
    assert keys == [k for k in PATIENT_KEYS if k in body], keys


def callers(request, names):
    """The named caller fixtures (server, admin, member, other_admin, plain_user, anonymous)."""
    return {name: request.getfixturevalue(name) for name in names}


_SCHEMAS: dict = {}


def _spec_schemas() -> dict:
    """The contract's component schemas (parsed once)."""
    if not _SCHEMAS:
        import pathlib

        import yaml

        path = pathlib.Path(__file__).resolve().parent.parent / "clinic.v1.yaml"
        _SCHEMAS.update(yaml.safe_load(path.read_text())["components"]["schemas"])
    return _SCHEMAS


def filled(schema_name: str, values: dict) -> dict:
    """Every required field of the schema with a zero value of its type, then the given values."""
    schema = _spec_schemas()[schema_name]
    out = {}
    for name in schema.get("required", []):
        kind = schema["properties"][name].get("type")
        out[name] = False if kind == "boolean" else 0 if kind == "integer" else 0.0
    out.update(values)
    return out


def stats(kind: str = "cgm", period: str = "14d", dates: dict | None = None, **values) -> dict:
    """A stored `summary` whose `<kind>Stats` has the dates and one period with the values given
    (the rest of what the contract requires zero-filled)."""
    return {f"{kind}Stats": {"dates": filled("summaryDates.v1", dates or {}),
                             "periods": {period: filled(f"{kind}Period.v1", values)}}}
