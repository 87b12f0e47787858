"""Clinic settings: EHR integration, MRN rules, patient-count limits."""
from __future__ import annotations

from clinic_api import context, wire
from clinic_api.domain.patient_counts import resolved_count_settings, subject_to_limits  # noqa: F401
from clinic_api.errors import BODY_MISSING, BadRequest, NotFound, bad_request
from clinic_api.store import clinics, ehr_settings



# --- EHR ---------------------------------------------------------------------------------------

def get_ehr_settings(clinicId):
    doc = clinics.get(context.db(), clinicId)
    if doc.get("ehrSettings") is None:
        raise NotFound("not found")
    return ehr_settings.to_api(doc["ehrSettings"]), 200


def update_ehr_settings(clinicId, body=None):
    if not body:  # connexion hands an empty body over as {}; a written {} fails validation first
        # The reference would store settings without a provider, which its own GET then answers
        # against its schema: we ask for the body instead (documented in our spec).
        raise BadRequest(BODY_MISSING)
    doc = clinics.set_fields(context.db(), clinicId, {"ehrSettings": ehr_settings.from_api(body)})
    return ehr_settings.to_api(doc["ehrSettings"]), 200


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
