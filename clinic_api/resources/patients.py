"""A stored patient -> patient.v1 as the reference renders it (patients.md §0.3): keys in its
order, its omissions, nulls and fallbacks."""
from __future__ import annotations

import datetime as _dt
import re

from bson import ObjectId

from clinic_api import wire
from clinic_api.store.ids import hex_id

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
    from clinic_api.store.patient_docs import float32

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
            if not entry.get("periods"):
                entry.pop("periods", None)
            out[key] = entry
    return out


def to_api(doc: dict) -> dict:
    """patient.v1 with the reference's keys, order and quirks."""
    out: dict = {"birthDate": birth_date(doc.get("birthDate")),
                 "connectionRequests": connection_requests(doc),
                 "createdTime": _time(doc.get("createdTime")),
                 "dataSources": data_sources(doc.get("dataSources"))}
    if doc.get("diagnosisType") in DIAGNOSIS_TYPES:
        out["diagnosisType"] = doc["diagnosisType"]
    if doc.get("email") is not None:
        out["email"] = doc["email"]
    out["fullName"] = doc.get("fullName") or ""
    ranges = glycemic_ranges(doc.get("glycemicRanges"))
    if ranges is not None:
        out["glycemicRanges"] = ranges
    out["id"] = doc.get("userId", "")
    if _is_set(doc.get("lastUploadReminderTime")):
        out["lastUploadReminderTime"] = _time(doc["lastUploadReminderTime"])
    if doc.get("mrn") is not None:
        out["mrn"] = doc["mrn"]
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
    return out


def permissions(perms: dict | None) -> dict:
    return {k: {} for k in PERMISSION_ORDER if k in (perms or {})}


def reviews(items) -> list:
    return [{"clinicianId": r.get("clinicianId", ""), "time": _time(r.get("time"))} for r in items or []]
