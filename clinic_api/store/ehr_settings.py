"""The `ehrSettings` sub-document of a clinic: its BSON shape and its API shape."""
from __future__ import annotations


def to_api(ehr: dict) -> dict:
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


def from_api(body: dict) -> dict:
    """The stored `ehrSettings` sub-document of an ehrSettings.v1 body (replaces the whole one)."""
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
                             "onUploadNoteEventType":
                                 (sched.get("onUploadNoteEventType") or "New") if upload else None},
        "tags": {"codes": tags.get("codes"), "separator": tags.get("separator")},
        "flowsheets": {"icode": True} if (body.get("flowsheets") or {}).get("icode") else {},
        "notes": {"includeGmi": True} if (body.get("notes") or {}).get("includeGMI") else {},
    }
