"""migration.v1 of a stored migration record."""
from __future__ import annotations

from typing import TypedDict

from clinic_api import wire


class MigrationV1(TypedDict, total=False):
    createdTime: str
    status: str
    updatedTime: str
    userId: str


def to_api(doc: dict) -> MigrationV1:
    """migration.v1, keys in the reference's order; `status` upper-cased, left out when empty."""
    out: MigrationV1 = {"createdTime": wire.format_time(doc.get("createdTime"))}
    status = doc.get("status") or ""
    if status:
        out["status"] = status.upper()
    out["updatedTime"] = wire.format_time(doc.get("updatedTime"))
    out["userId"] = doc.get("userId") or ""
    return out
