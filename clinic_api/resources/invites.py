"""confirmation.v1 (clinician and patient invites, as the invite service writes them) of a stored
confirmation, with the creator's profile in the invite service's view."""
from __future__ import annotations

from typing import Any, TypedDict

from clinic_api import wire
from clinic_api.store.invites import context_value


class ConfirmationV1(TypedDict, total=False):
    key: str
    type: str
    email: str
    clinicId: str
    creatorId: str
    creator: dict
    context: Any
    created: str
    modified: str
    status: str
    expiresAt: str
    restrictions: dict | None


def profile_to_api(profile: dict | None) -> dict | None:
    """The invite service's view of a profile: fullName and four patient fields, nothing else."""
    if profile is None:
        return None
    raw = profile.get("patient")
    patient: dict = raw if isinstance(raw, dict) else {}
    return {"fullName": str(profile.get("fullName") or ""),
            "patient": {"birthday": str(patient.get("birthday") or ""),
                        "diagnosisDate": str(patient.get("diagnosisDate") or ""),
                        "isOtherPerson": bool(patient.get("isOtherPerson")),
                        "fullName": str(patient.get("fullName") or "")}}


def to_api(doc: dict, *, profile: dict | None = None, creator_userid: str = "",
           restrictions: dict | None = None) -> ConfirmationV1:
    """confirmation.v1 as the invite service writes it (key order included)."""
    out: ConfirmationV1 = {"key": doc["_id"], "type": doc.get("type", ""), "email": doc.get("email") or ""}
    if doc.get("clinicId"):
        out["clinicId"] = doc["clinicId"]
    out["creatorId"] = doc.get("creatorId") or ""
    stored = doc.get("creator") or {}
    creator: dict = {"profile": profile_to_api(profile), "userid": creator_userid}
    if stored.get("clinicId"):
        creator["clinicId"] = stored["clinicId"]
    if stored.get("clinicName"):
        creator["clinicName"] = stored["clinicName"]
    out["creator"] = creator
    out["context"] = context_value(doc)
    out["created"] = wire.format_time(doc.get("created"))
    out["modified"] = wire.format_time(doc.get("modified"))
    out["status"] = doc.get("status", "")
    if doc.get("expiresAt") is not None:
        out["expiresAt"] = wire.format_time(doc["expiresAt"])
    out["restrictions"] = restrictions
    return out
