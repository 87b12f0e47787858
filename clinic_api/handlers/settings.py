"""Clinic settings: EHR integration, MRN rules, patient-count limits."""
from __future__ import annotations

from clinic_api import context, wire
from clinic_api.domain.patient_counts import resolved_count_settings, subject_to_limits  # noqa: F401
from clinic_api.errors import BadRequest, NotFound, bad_request
from clinic_api.store import clinics

BODY_MISSING = "request body has an error: value is required but missing"


# --- EHR ---------------------------------------------------------------------------------------

def _ehr_to_api(ehr: dict) -> dict:
    out: dict = {}
    dest = ehr.get("destinationIds")
    if dest is not None:
        out["destinationIds"] = {"flowsheet": dest.get("flowsheet", ""), "notes": dest.get("notes", ""),
                                 "results": dest.get("results", "")}
    out["enabled"] = bool(ehr.get("enabled"))
    out["flowsheets"] = {"icode": bool((ehr.get("flowsheets") or {}).get("icode"))}
    out["mrnIdType"] = ehr.get("mrnIdType") or "MRN"
    if (ehr.get("notes") or {}).get("includeGmi"):
        out["notes"] = {"includeGMI": True}
    codes = ehr.get("procedureCodes") or {}
    out["procedureCodes"] = {k: codes[k] for k in ("createAccount", "createAccountAndEnableReports",
                                                   "disableSummaryReports", "enableSummaryReports")
                             if codes.get(k) is not None}
    out["provider"] = ehr.get("provider", "")
    sched = ehr.get("scheduledReports") or {}
    reports = {"cadence": sched.get("cadence") or "14d", "onUploadEnabled": bool(sched.get("onUploadEnabled"))}
    if sched.get("onUploadNoteEventType") is not None:
        reports["onUploadNoteEventType"] = sched["onUploadNoteEventType"]
    out["scheduledReports"] = reports
    out["sourceId"] = ehr.get("sourceId", "")
    tags = ehr.get("tags") or {}
    out["tags"] = {"codes": tags.get("codes")}
    if tags.get("separator") is not None:
        out["tags"]["separator"] = tags["separator"]
    return out


def _ehr_from_api(body: dict) -> dict:
    dest = body.get("destinationIds")
    sched = body.get("scheduledReports") or {}
    upload = bool(sched.get("onUploadEnabled"))
    tags = body.get("tags") or {}
    return {
        "enabled": bool(body.get("enabled")),
        "provider": body.get("provider", ""),
        "destinationIds": ({"flowsheet": dest.get("flowsheet", ""), "notes": dest.get("notes", ""),
                            "results": dest.get("results", "")} if dest is not None else None),
        "procedureCodes": {k: v for k, v in (body.get("procedureCodes") or {}).items() if v is not None},
        "sourceId": body.get("sourceId", ""),
        "mrnIdType": body.get("mrnIdType", ""),
        "scheduledReports": {"cadence": sched.get("cadence", ""), "onUploadEnabled": upload,
                             "onUploadNoteEventType": (sched.get("onUploadNoteEventType") or "New") if upload else None},
        "tags": {"codes": tags.get("codes"), "separator": tags.get("separator")},
        "flowsheets": {"icode": True} if (body.get("flowsheets") or {}).get("icode") else {},
        "notes": {"includeGmi": True} if (body.get("notes") or {}).get("includeGMI") else {},
    }


def get_ehr_settings(clinicId):
    doc = clinics.get(context.db(), clinicId)
    if doc.get("ehrSettings") is None:
        raise NotFound("not found")
    return _ehr_to_api(doc["ehrSettings"]), 200


def update_ehr_settings(clinicId, body=None):
    if not body:  # connexion hands an empty body over as {}; a written {} fails validation first
        # The reference would store settings without a provider, which its own GET then answers
        # against its schema: we ask for the body instead (documented in our spec).
        raise BadRequest(BODY_MISSING)
    doc = clinics.set_fields(context.db(), clinicId, {"ehrSettings": _ehr_from_api(body)})
    return _ehr_to_api(doc["ehrSettings"]), 200


# --- MRN -----------------------------------------------------------------------------------------

def get_mrn_settings(clinicId):
    doc = clinics.get(context.db(), clinicId)
    mrn = doc.get("mrnSettings")
    if mrn is None:
        raise NotFound("not found")
    return {"required": bool(mrn.get("required")), "unique": bool(mrn.get("unique"))}, 200


def update_mrn_settings(clinicId, body=None):
    body = body or {}
    value = {"required": bool(body.get("required")), "unique": bool(body.get("unique"))}
    clinics.set_fields(context.db(), clinicId, {"mrnSettings": value})
    return value, 200


# --- patient-count limits --------------------------------------------------------------------

def _limits_to_api(resolved: dict) -> dict:
    out = {}
    for key in ("hardLimit", "softLimit"):
        if key in resolved:
            limit = resolved[key]
            entry = {}
            if "endDate" in limit:
                entry["endDate"] = wire.format_time(limit["endDate"])
            entry["plan"] = limit["plan"]
            if "startDate" in limit:
                entry["startDate"] = wire.format_time(limit["startDate"])
            out[key] = entry
    return out


def _parse_date(key: str, text: str):
    """An RFC 3339 date-time with a zone offset, truncated to milliseconds as it is stored.
    The reference silently stores year 1 for a string it cannot parse (e.g. one without an
    offset): we answer 400 instead."""
    try:
        value = wire.parse_time(text)
    except (ValueError, OverflowError):
        raise bad_request(f"{key} is not an RFC 3339 date-time with a time zone offset") from None
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _parse_limit(limit: dict) -> dict:
    entry = {"plan": int(limit.get("plan") or 0)}
    for key in ("startDate", "endDate"):
        if limit.get(key) is not None:
            entry[key] = _parse_date(key, limit[key])
    if "startDate" in entry and "endDate" in entry and entry["startDate"] > entry["endDate"]:
        raise bad_request()
    return entry


def get_patient_count_settings(clinicId):
    return _limits_to_api(resolved_count_settings(clinics.get(context.db(), clinicId))), 200


def update_patient_count_settings(clinicId, body=None):
    body = body or {}
    value = {key: _parse_limit(body[key]) for key in ("hardLimit", "softLimit") if body.get(key) is not None}
    doc = clinics.set_fields(context.db(), clinicId, {"patientCountSettings": value})
    return _limits_to_api(resolved_count_settings(doc)), 200
