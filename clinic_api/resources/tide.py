"""The TIDE report (tideResponse.v1) of a built report: the config the reference echoes and each
category's patients with their period values, in its key order and number format."""
from __future__ import annotations

import datetime as _dt

from clinic_api.store.ids import hex_id

# What the response's config says (constants, whatever was requested).
FILTERS = {"dropInTimeInTargetPercent": "<-0.15", "timeCGMUsePercent": "<0.7", "timeInAnyLowPercent": ">0.04",
           "timeInTargetPercent": "<0.7", "timeInVeryLowPercent": ">0.01"}
THRESHOLDS = {"extremeHighGlucoseThreshold": 19.4, "highGlucoseThreshold": 10, "lowGlucoseThreshold": 3.9,
              "veryHighGlucoseThreshold": 13.9, "veryLowGlucoseThreshold": 3}
SCHEMA_VERSION = 2
RESULT_FIELDS = ("averageGlucoseMmol", "glucoseManagementIndicator", "lastData", "patient", "timeCGMUseMinutes",
                 "timeCGMUsePercent", "timeInAnyHighPercent", "timeInAnyLowPercent", "timeInExtremeHighPercent",
                 "timeInHighPercent", "timeInLowPercent", "timeInTargetPercent", "timeInTargetPercentDelta",
                 "timeInVeryHighPercent", "timeInVeryLowPercent")


def go_number(value):
    """Go prints integral floats without a fraction (10, not 10.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def _time(value, format_time):
    return format_time(value) if isinstance(value, _dt.datetime) else value


def patient_to_api(doc: dict, format_time) -> dict:
    sources = doc.get("dataSources")
    rendered_sources = None
    if sources is not None:
        rendered_sources = []
        for src in sources:
            entry = {}
            if src.get("dataSourceId") is not None:
                entry["dataSourceId"] = hex_id(src["dataSourceId"])
            for key in ("expirationTime", "latestDataTime", "modifiedTime"):
                if src.get(key) is not None:
                    entry[key] = _time(src[key], format_time)
            entry["providerName"] = src.get("providerName") or ""
            entry["state"] = src.get("state") or ""
            rendered_sources.append(entry)
    out: dict = {"dataSources": rendered_sources}
    if doc.get("email") is not None:
        out["email"] = doc["email"]
    if doc.get("fullName") is not None:
        out["fullName"] = doc["fullName"]
    if doc.get("userId") is not None:
        out["id"] = doc["userId"]
    out["reviews"] = [{"clinicianId": r.get("clinicianId", r.get("clinicianid", "")),
                       "time": _time(r.get("time"), format_time)} for r in doc.get("reviews") or []]
    out["tags"] = [hex_id(t) for t in doc.get("tags") or []]
    return out


def result_to_api(doc: dict, period: str, format_time) -> dict:
    cgm = (doc.get("summary") or {}).get("cgmStats") or {}
    values = dict((cgm.get("periods") or {}).get(period) or {})
    last_data = (cgm.get("dates") or {}).get("lastData")
    if last_data is not None:
        values["lastData"] = _time(last_data, format_time)
    values["patient"] = patient_to_api(doc, format_time)
    return {key: go_number(values[key]) for key in RESULT_FIELDS if values.get(key) is not None}


def to_api(results_by_category: dict, *, clinic_id: str, period: str, tag_ids, cutoff_text: str, format_time) -> dict:
    config = {"clinicId": clinic_id, "extremeHighGlucoseThreshold": THRESHOLDS["extremeHighGlucoseThreshold"],
              "filters": dict(FILTERS), "highGlucoseThreshold": THRESHOLDS["highGlucoseThreshold"],
              "lastDataCutoff": cutoff_text, "lowGlucoseThreshold": THRESHOLDS["lowGlucoseThreshold"],
              "period": period, "schemaVersion": SCHEMA_VERSION, "tags": list(tag_ids),
              "veryHighGlucoseThreshold": THRESHOLDS["veryHighGlucoseThreshold"],
              "veryLowGlucoseThreshold": THRESHOLDS["veryLowGlucoseThreshold"]}
    results = {name: [result_to_api(doc, period, format_time) for doc in docs]
               for name, docs in sorted(results_by_category.items())}
    return {"config": config, "results": results}
