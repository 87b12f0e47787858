"""Building patient documents: request bodies -> stored fields, and the inserted document in the
reference's field order (patients.md §0.2, §0.4)."""
from __future__ import annotations

import re
import struct

from bson import ObjectId

from clinic_api import wire
from clinic_api.errors import BODY_MISSING, BadRequest
from clinic_api.validation import KIN_DATE
from clinic_api.store.ids import is_hex_id, object_id

ABSENT = object()  # a body key that was not sent (distinct from null)
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
CREATE_REF = "#/components/schemas/createPatient.v1"
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def check_birth_date(value: str, ref: str = "#/components/schemas/patient.v1") -> str:
    """A `YYYY-MM-DD` date: the contract's date format (kin-openapi's message), then Go's
    time.Parse, which also rejects impossible days such as 2021-02-31."""
    if not isinstance(value, str) or not KIN_DATE.match(value):
        raise BadRequest(f'request body has an error: doesn\'t match schema {ref}: Error at "/birthDate": '
                         f'string doesn\'t match the format "date": string doesn\'t match pattern "{KIN_DATE.pattern}"')
    parts = _DATE.match(value)
    assert parts is not None  # KIN_DATE matched
    year, month, day = (int(g) for g in parts.groups())
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    limit = 28 if month == 2 and not leap else _DAYS[month - 1]
    if not 1 <= day <= limit:
        raise BadRequest(f'parsing time "{value}": day out of range')
    return value


def require_body(body):
    """The patient bodies are required here (the reference accepted none and stored blanks).
    connexion hands an absent body over as {}, which the contract (fullName and birthDate
    required) would otherwise have rejected."""
    if not body:
        raise BadRequest(BODY_MISSING)
    return body


def float32(value) -> float:
    """The value as a Go float32 stores it (then widened to a BSON double)."""
    return struct.unpack("f", struct.pack("f", float(value)))[0]


def _time_or_none(value):
    if not isinstance(value, str):
        return None
    try:
        parsed = wire.parse_time(value)
    except ValueError:
        return None
    return None if parsed.year == 1 else parsed


def tag_ids(values) -> list[ObjectId]:
    """Hex strings -> ObjectIds; invalid ones are dropped silently (as the reference)."""
    return [ObjectId(v) for v in values or [] if is_hex_id(v)]


def data_source(item: dict) -> dict:
    """One stored data source: {dataSourceId?, modifiedTime?, expirationTime?, providerName, state,
    latestDataTime?}; unparsable optional parts are left out."""
    out: dict = {}
    if is_hex_id(item.get("dataSourceId")):
        out["dataSourceId"] = ObjectId(item["dataSourceId"])
    for key in ("modifiedTime", "expirationTime"):
        when = _time_or_none(item.get(key))
        if when is not None:
            out[key] = when
    out["providerName"] = item.get("providerName", "")
    out["state"] = item.get("state", "")
    when = _time_or_none(item.get("latestDataTime"))
    if when is not None:
        out["latestDataTime"] = when
    return out


def glycemic_ranges(value: dict) -> dict:
    """{type, preset} or {type, custom}; thresholds' values rounded to float32 as stored by Go."""
    if not isinstance(value, dict):  # the schema has no `type: object`: Go's binder refuses it
        kind_of = {bool: "bool", str: "string", list: "array"}.get(type(value), "number")
        raise BadRequest(f"Unmarshal type error: expected=api.GlycemicRangesV1, got={kind_of}, field=glycemicRanges")
    kind = value.get("type") or "preset"
    if kind == "custom":
        custom = value.get("custom") or {}
        thresholds = []
        for t in custom.get("thresholds") or []:
            bound = t.get("upperBound") or {}
            thresholds.append({"name": t.get("name", ""),
                               "upperBound": {"value": float32(bound.get("value", 0)), "units": bound.get("units", "")},
                               "inclusive": bool(t.get("inclusive", False))})
        return {"type": "custom", "custom": {"name": custom.get("name", ""), "thresholds": thresholds}}
    return {"type": kind, "preset": value.get("preset") or "adaStandard"}


def _opt_list(body: dict, key: str, convert):
    """ABSENT for a missing or null key, else the converted list ([] stays [])."""
    value = body.get(key, None)
    return ABSENT if value is None else convert(value)


def from_patient_body(body: dict | None) -> dict:
    """patient.v1 (CreatePatientAccount / UpdatePatient) -> the fields the service honours.
    Optional list fields are ABSENT when missing or null."""
    body = body or {}
    for key in ("fullName", "mrn"):  # minLength 1, kept out of the contract so responses may carry ""
        if body.get(key) == "":
            raise BadRequest('request body has an error: doesn\'t match schema #/components/schemas/patient.v1: '
                             f'Error at "/{key}": minimum string length is 1')
    email = body.get("email")
    reviews = [{"clinicianId": r.get("clinicianId", ""), "time": _time_or_none(r.get("time"))}
               for r in body.get("reviews") or []]
    return {
        "email": email.lower() if isinstance(email, str) else None,
        "birthDate": check_birth_date(body["birthDate"]) if body.get("birthDate") is not None else "0001-01-01",
        "fullName": body.get("fullName") or "",
        "mrn": body.get("mrn"),
        "targetDevices": body.get("targetDevices"),
        "reviews": reviews,
        "tags": _opt_list(body, "tags", tag_ids),
        "sites": _opt_list(body, "sites", lambda v: [{"id": s.get("id"), "name": s.get("name", "")} for s in v]),
        "dataSources": _opt_list(body, "dataSources", lambda v: [data_source(d) for d in v]),
        "glycemicRanges": glycemic_ranges(body["glycemicRanges"]) if body.get("glycemicRanges") is not None
        else ABSENT,
        "diagnosisType": body["diagnosisType"] if body.get("diagnosisType") is not None else ABSENT,
    }


def granted(permissions: dict | None) -> dict | None:
    """patientPermissions.v1 -> stored permissions: each present, non-null key -> {}."""
    if permissions is None:
        return None
    return {k: {} for k in ("custodian", "view", "upload", "note") if permissions.get(k) is not None}


def new_document(clinic_id, user_id: str, fields: dict, *, permissions: dict | None = None,
                 require_unique_mrn: bool = False, invited_by: str | None = None, is_migrated: bool = False,
                 legacy_clinician_ids: list | None = None, now=None) -> dict:
    """The inserted document, fields in the reference's order. `fields` as from_patient_body
    (or the create-from-user equivalent); ABSENT / None optional values are omitted."""
    now = now or wire.now()

    def present(key):
        value = fields.get(key, ABSENT)
        return value is not ABSENT and value is not None

    doc: dict = {"_id": ObjectId(), "clinicId": object_id(clinic_id), "userId": user_id,
                 "birthDate": fields.get("birthDate"), "email": fields.get("email"),
                 "fullName": fields.get("fullName") or "", "mrn": fields.get("mrn"),
                 "targetDevices": fields.get("targetDevices")}
    for key in ("tags", "dataSources"):
        if present(key):
            doc[key] = fields[key]
    if permissions is not None:
        doc["permissions"] = permissions
    if is_migrated:
        doc["isMigrated"] = True
    if legacy_clinician_ids:
        doc["legacyClinicianIds"] = list(legacy_clinician_ids)
    doc["createdTime"] = now
    doc["updatedTime"] = now
    if invited_by:
        doc["invitedBy"] = invited_by
    if fields.get("reviews"):
        doc["reviews"] = fields["reviews"]
    doc["requireUniqueMrn"] = bool(require_unique_mrn)
    for key in ("sites", "glycemicRanges", "diagnosisType"):
        if present(key):
            doc[key] = fields[key]
    return doc
