"""migration.v1 of a stored migration record."""
from __future__ import annotations

from clinic_api import wire


def to_api(doc: dict) -> dict:
    """migration.v1, keys in the reference's order; `status` upper-cased, left out when empty."""
    out: dict = {"createdTime": wire.format_time(doc.get("createdTime"))}
    status = doc.get("status") or ""
    if status:
        out["status"] = status.upper()
    out["updatedTime"] = wire.format_time(doc.get("updatedTime"))
    out["userId"] = doc.get("userId") or ""
    return out
