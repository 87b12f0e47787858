"""ObjectId <-> 24-hex conversions at the store boundary."""
from __future__ import annotations

from bson import ObjectId

from clinic_api.errors import NotFound
from clinic_api.ids import is_hex_id

__all__ = ["ZERO_ID", "hex_id", "is_hex_id", "object_id"]

ZERO_ID = ObjectId("0" * 24)


def object_id(value: str | ObjectId, missing: str | None = None) -> ObjectId:
    """The ObjectId of a 24-hex string. An invalid one becomes the all-zero id (which matches
    nothing), unless `missing` names the NotFound to raise instead."""
    if isinstance(value, ObjectId):
        return value
    if is_hex_id(value):
        return ObjectId(value)
    if missing is not None:
        raise NotFound(missing)
    return ZERO_ID


def hex_id(value) -> str:
    return str(value) if value is not None else ""
