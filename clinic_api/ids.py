"""Ids as the API writes them: a 24-hex string names a document (an ObjectId in the store)."""
from __future__ import annotations

from typing import TypeGuard

_HEX = frozenset("0123456789abcdefABCDEF")


def is_hex_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and len(value) == 24 and all(c in _HEX for c in value)
