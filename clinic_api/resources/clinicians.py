"""clinician.v1 of a stored clinician record (a member or a pending invite)."""
from __future__ import annotations

from clinic_api import wire


def to_api(doc: dict) -> dict:
    """clinician.v1, keys in the reference's order."""
    out: dict = {"createdTime": wire.format_time(doc.get("createdTime")), "email": doc.get("email") or ""}
    if doc.get("userId"):
        out["id"] = doc["userId"]
    if doc.get("inviteId"):
        out["inviteId"] = doc["inviteId"]
    if doc.get("name") is not None:
        out["name"] = doc["name"]
    out["roles"] = doc.get("roles")
    out["updatedTime"] = wire.format_time(doc.get("updatedTime"))
    return out
