"""clinician.v1 of a stored clinician record (a member or a pending invite)."""
from __future__ import annotations

from typing import TypedDict

from clinic_api import wire


class ClinicianV1(TypedDict, total=False):
    createdTime: str
    email: str
    id: str
    inviteId: str
    name: str | None
    roles: list[str] | None
    updatedTime: str


def to_api(doc: dict) -> ClinicianV1:
    """clinician.v1, keys in the reference's order."""
    out: ClinicianV1 = {"createdTime": wire.format_time(doc.get("createdTime")), "email": doc.get("email") or ""}
    if doc.get("userId"):
        out["id"] = doc["userId"]
    if doc.get("inviteId"):
        out["inviteId"] = doc["inviteId"]
    if doc.get("name") is not None:
        out["name"] = doc["name"]
    out["roles"] = doc.get("roles")
    out["updatedTime"] = wire.format_time(doc.get("updatedTime"))
    return out
