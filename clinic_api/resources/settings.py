"""A clinic's settings <-> their API shapes: EHR (`ehrSettings`), MRN rules (`mrnSettings`) and
patient-count limits (`patientCountSettings`)."""
from __future__ import annotations

from clinic_api import gotime, wire
from clinic_api.errors import bad_request


def ehr_to_api(ehr: dict) -> dict:
    """ehrSettings.v1 of a stored `ehrSettings` sub-document (BSON `includeGmi` -> JSON `includeGMI`)."""
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


PROCEDURE_CODES = ("enableSummaryReports", "disableSummaryReports", "createAccount", "createAccountAndEnableReports")


def ehr_from_api(body: dict) -> dict:
    """The stored `ehrSettings` sub-document of an ehrSettings.v1 body (replaces the whole one)."""
    dest = body.get("destinationIds")
    sched = body.get("scheduledReports") or {}
    upload = bool(sched.get("onUploadEnabled"))
    tags = body.get("tags") or {}
    codes = body.get("procedureCodes") or {}
    return {
        "enabled": bool(body.get("enabled")),
        "provider": body.get("provider", ""),
        "destinationIds": ({"flowsheet": dest.get("flowsheet", ""), "notes": dest.get("notes", ""),
                            "results": dest.get("results", "")} if dest is not None else None),
        # The reference's struct: these four codes, in its order; any other key is dropped.
        "procedureCodes": {k: codes[k] for k in PROCEDURE_CODES if codes.get(k) is not None},
        "sourceId": body.get("sourceId", ""),
        "mrnIdType": body.get("mrnIdType", ""),
        "scheduledReports": {"cadence": sched.get("cadence", ""), "onUploadEnabled": upload,
                             "onUploadNoteEventType":
                                 (sched.get("onUploadNoteEventType") or "New") if upload else None},
        "tags": {"codes": tags.get("codes"), "separator": tags.get("separator")},
        "flowsheets": {"icode": True} if (body.get("flowsheets") or {}).get("icode") else {},
        "notes": {"includeGmi": True} if (body.get("notes") or {}).get("includeGMI") else {},
    }


def mrn_from_api(body: dict) -> dict:
    return {"required": bool(body.get("required")), "unique": bool(body.get("unique"))}


def mrn_to_api(mrn: dict) -> dict:
    return {"required": bool(mrn.get("required")), "unique": bool(mrn.get("unique"))}


def limits_to_api(resolved: dict) -> dict:
    """patientCountSettings.v1 of the resolved limits."""
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


def _limit_date(key: str, text: str):
    """An RFC 3339 date-time with a zone offset, truncated to milliseconds as it is stored.
    The reference silently stores year 1 for a string it cannot parse (e.g. one without an
    offset): we answer 400 instead."""
    try:
        value = gotime.parse(text).instant
    except gotime.GoTimeError:
        value = None
    if value is None:
        raise bad_request(f"{key} is not an RFC 3339 date-time with a time zone offset")
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _limit_from_api(limit: dict) -> dict:
    entry = {"plan": int(limit.get("plan") or 0)}
    for key in ("startDate", "endDate"):
        if limit.get(key) is not None:
            entry[key] = _limit_date(key, limit[key])
    if "startDate" in entry and "endDate" in entry and entry["startDate"] > entry["endDate"]:
        raise bad_request()
    return entry


def limits_from_api(body: dict) -> dict:
    """The stored `patientCountSettings` of a patientCountSettings.v1 body."""
    return {key: _limit_from_api(body[key]) for key in ("hardLimit", "softLimit") if body.get(key) is not None}
