"""patient.v1 <-> the stored patient. To the API as the reference renders it (patients.md §0.3):
keys in its order, its omissions, nulls and fallbacks. From the API as the reference's Go binder
reads a body (patients.md §0.4): the fields the service honours, Go's conversions (float32,
time.Parse) and its errors. The document itself is laid out by store/patient_docs.py."""
from __future__ import annotations

import datetime as _dt
import re
import struct
from typing import Any, TypedDict, cast

from bson import ObjectId

from clinic_api import wire
from clinic_api.resources import summaries
from clinic_api.errors import BODY_MISSING, BadRequest
from clinic_api.store.ids import hex_id, is_hex_id
from clinic_api.store.patient_docs import ABSENT
from clinic_api.schema_rules import KIN_DATE

PROVIDERS = ("abbott", "dexcom", "twiist")
DIAGNOSIS_TYPES = {"type1", "type2", "type3c", "gestational", "prediabetes", "lada", "mody", "other",
                   "notApplicable"}
PRESETS = {"adaStandard", "adaPregnancyType1", "adaPregnancyType2", "adaHighRisk"}
UNITS = {"mg/dL", "mmol/L"}
PERMISSION_ORDER = ("custodian", "note", "upload", "view")
ZERO_DATE = "0001-01-01"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _time(value) -> str:
    return wire.format_time(value if isinstance(value, _dt.datetime) else None)


def _is_set(value) -> bool:
    return isinstance(value, _dt.datetime) and value.year > 1


def birth_date(value) -> str:
    if isinstance(value, str) and _DATE.match(value):
        try:
            _dt.date.fromisoformat(value)
            return value
        except ValueError:
            pass
    return ZERO_DATE


def float32_json(value):
    """A float32 value re-rendered with its shortest decimal form (Go's float32 JSON); integral
    values as integers, as Go prints them."""
    target = float32(value)
    text = repr(target)
    for digits in range(1, 10):
        candidate = f"{target:.{digits}g}"
        if float32(float(candidate)) == target:
            text = candidate
            break
    number = float(text)
    return int(number) if number.is_integer() and abs(number) < 2 ** 53 else number


def connection_requests(doc: dict) -> dict:
    stored = doc.get("providerConnectionRequests") or {}
    out = {}
    for provider in PROVIDERS:
        out[provider] = [{"createdTime": _time(r.get("createdTime")), "providerName": r.get("providerName", "")}
                         for r in stored.get(provider) or []]
    legacy = doc.get("lastRequestedDexcomConnectTime")
    if not out["dexcom"] and _is_set(legacy):
        out["dexcom"] = [{"createdTime": _time(legacy), "providerName": "dexcom"}]
    return out


def data_sources(items) -> list | None:
    if items is None:
        return None
    out = []
    for ds in items:
        entry: dict = {}
        if ds.get("dataSourceId") is not None:
            entry["dataSourceId"] = hex_id(ds["dataSourceId"])
        for key in ("expirationTime", "latestDataTime", "modifiedTime"):
            if _is_set(ds.get(key)):
                entry[key] = _time(ds[key])
        entry["providerName"] = ds.get("providerName", "")
        entry["state"] = ds.get("state", "")
        out.append(entry)
    return out


def glycemic_ranges(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    kind = value.get("type")
    if kind == "preset":
        preset = value.get("preset")
        return {"preset": preset, "type": "preset"} if preset in PRESETS else None
    if kind == "custom":
        custom = value.get("custom") or {}
        thresholds = []
        for t in custom.get("thresholds") or []:
            bound = t.get("upperBound") or {}
            if bound.get("units") not in UNITS:
                return None
            entry: dict = {}
            if t.get("inclusive"):
                entry["inclusive"] = True
            entry["name"] = t.get("name", "")
            entry["upperBound"] = {"units": bound["units"], "value": float32_json(bound.get("value") or 0)}
            thresholds.append(entry)
        return {"custom": {"name": custom.get("name", ""), "thresholds": thresholds}, "type": "custom"}
    return None


def _plain(value):
    """BSON -> JSON values (ObjectId hex, RFC 3339 times), keys kept in order."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, _dt.datetime):
        return wire.format_time(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)  # Go prints an integral float64 without a fraction
    return value


def summary(value: dict):
    """The stored summary as patientSummary.v1 (BSON values as JSON, empty periods left out)."""
    out = {}
    for key in ("bgmStats", "cgmStats"):
        stats = value.get(key)
        if isinstance(stats, dict):
            entry = _plain(stats)
            if key == "bgmStats" and entry.get("periods"):
                entry["periods"] = summaries.bgm_periods_to_api(entry["periods"])
            if not entry.get("periods"):
                entry.pop("periods", None)
            out[key] = entry
    return out


# Optional fields stored as sent and shown when stored non-null (email is lower-cased on the way in).
PLAIN_FIELDS = ("email", "mrn")


class PatientV1(TypedDict, total=False):
    """patient.v1 as sent (keys in alphabetical order, as the reference's generated struct)."""
    birthDate: str
    connectionRequests: dict
    createdTime: str
    dataSources: list | None
    diagnosisType: str
    email: str
    fullName: str
    glycemicRanges: dict
    id: str
    lastUploadReminderTime: str
    mrn: str
    permissions: dict
    reviews: list
    sites: list
    summary: dict
    tags: list[str] | None
    targetDevices: list[str]
    updatedTime: str


def to_api(doc: dict) -> PatientV1:
    """patient.v1 with the reference's keys, order (alphabetical, as its generated struct) and quirks."""
    out: dict = {k: doc[k] for k in PLAIN_FIELDS if doc.get(k) is not None}
    out["birthDate"] = birth_date(doc.get("birthDate"))
    out["connectionRequests"] = connection_requests(doc)
    out["createdTime"] = _time(doc.get("createdTime"))
    out["dataSources"] = data_sources(doc.get("dataSources"))
    if doc.get("diagnosisType") in DIAGNOSIS_TYPES:
        out["diagnosisType"] = doc["diagnosisType"]
    out["fullName"] = doc.get("fullName") or ""
    ranges = glycemic_ranges(doc.get("glycemicRanges"))
    if ranges is not None:
        out["glycemicRanges"] = ranges
    out["id"] = doc.get("userId", "")
    if _is_set(doc.get("lastUploadReminderTime")):
        out["lastUploadReminderTime"] = _time(doc["lastUploadReminderTime"])
    perms = doc.get("permissions")
    if isinstance(perms, dict):
        out["permissions"] = permissions(perms)
    out["reviews"] = reviews(doc.get("reviews"))
    out["sites"] = [{"id": hex_id(s.get("id")), "name": s.get("name", "")} for s in doc.get("sites") or []]
    if isinstance(doc.get("summary"), dict):
        out["summary"] = summary(doc["summary"])
    tags = doc.get("tags")
    out["tags"] = [hex_id(t) for t in tags] if tags else None
    if doc.get("targetDevices") is not None:
        out["targetDevices"] = list(doc["targetDevices"])
    out["updatedTime"] = _time(doc.get("updatedTime"))
    return cast(PatientV1, dict(sorted(out.items())))


def permissions(perms: dict | None) -> dict:
    return {k: {} for k in PERMISSION_ORDER if k in (perms or {})}


def reviews(items) -> list:
    return [{"clinicianId": r.get("clinicianId", ""), "time": _time(r.get("time"))} for r in items or []]


# --- from the API: the Go-style binding of patient bodies ------------------------------------

class PatientFields(TypedDict):
    """A bound patient.v1 body: what CreatePatientAccount and UpdatePatient honour. The optional
    list/object fields are ABSENT when missing or null (Any: ABSENT is a sentinel)."""
    email: str | None
    birthDate: str | None
    fullName: str
    mrn: str | None
    targetDevices: list[str] | None
    reviews: list[dict]
    tags: Any
    sites: Any
    dataSources: Any
    glycemicRanges: Any
    diagnosisType: Any


# The fields an update replaces when they are sent (ABSENT: left as they are), in the order the
# reference writes them; the rest of PatientFields is always written.
OPTIONAL_FIELDS = ("tags", "dataSources", "glycemicRanges", "diagnosisType")
ALWAYS_FIELDS = ("birthDate", "email", "fullName", "mrn", "targetDevices")
_DATE_PARTS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
CREATE_REF = "#/components/schemas/createPatient.v1"
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def check_birth_date(value: str, ref: str = "#/components/schemas/patient.v1") -> str:
    """A `YYYY-MM-DD` date: the contract's date format (kin-openapi's message), then Go's
    time.Parse, which also rejects impossible days such as 2021-02-31."""
    if not isinstance(value, str) or not KIN_DATE.match(value):
        raise BadRequest(f'request body has an error: doesn\'t match schema {ref}: Error at "/birthDate": '
                         f'string doesn\'t match the format "date": string doesn\'t match pattern "{KIN_DATE.pattern}"')
    parts = _DATE_PARTS.match(value)
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


def data_source_from_api(item: dict) -> dict:
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


def glycemic_ranges_from_api(value: dict) -> dict:
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


def fields_from_api(body: dict | None) -> PatientFields:
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
    return {  # the optional fields: OPTIONAL_FIELDS
        "email": email.lower() if isinstance(email, str) else None,
        "birthDate": check_birth_date(body["birthDate"]) if body.get("birthDate") is not None else "0001-01-01",
        "fullName": body.get("fullName") or "",
        "mrn": body.get("mrn"),
        "targetDevices": body.get("targetDevices"),
        "reviews": reviews,
        "tags": _opt_list(body, "tags", tag_ids),
        "sites": _opt_list(body, "sites", lambda v: [{"id": s.get("id"), "name": s.get("name", "")} for s in v]),
        "dataSources": _opt_list(body, "dataSources", lambda v: [data_source_from_api(d) for d in v]),
        "glycemicRanges": glycemic_ranges_from_api(body["glycemicRanges"]) if body.get("glycemicRanges") is not None
        else ABSENT,
        "diagnosisType": body["diagnosisType"] if body.get("diagnosisType") is not None else ABSENT,
    }


def granted(permissions: dict | None) -> dict | None:
    """patientPermissions.v1 -> stored permissions: each present, non-null key -> {}."""
    if permissions is None:
        return None
    return {k: {} for k in ("custodian", "view", "upload", "note") if permissions.get(k) is not None}


# createPatient.v1 (CreatePatientFromUser): the keys honoured, anything else is ignored.
CREATE_FIELDS = ("isMigrated", "legacyClinicianId", "fullName", "birthDate", "mrn", "tags", "sites",
                 "glycemicRanges", "diagnosisType")


def create_fields_from_api(fields: dict, sites: list | None) -> dict:
    """The stored fields of a createPatient.v1 body (CREATE_FIELDS keys), `sites` resolved by the
    domain; optional fields ABSENT when missing or null."""
    birth = fields.get("birthDate")
    return {"fullName": fields.get("fullName") or "",
            "birthDate": check_birth_date(birth, CREATE_REF) if birth else None,
            "mrn": fields.get("mrn") or None,
            "tags": tag_ids(fields["tags"]) if fields.get("tags") is not None else ABSENT,
            "sites": sites if sites is not None else ABSENT,
            "glycemicRanges": glycemic_ranges_from_api(fields["glycemicRanges"])
            if fields.get("glycemicRanges") is not None else ABSENT,
            "diagnosisType": fields["diagnosisType"] if fields.get("diagnosisType") is not None else ABSENT}
