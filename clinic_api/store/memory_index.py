"""The memory engine's hash index (store/memory_engine.py): which documents may hold a value in one
top-level field, and which query conditions such an index can answer.

An index only ever narrows: it names a superset of the documents a condition matches, and the
engine still runs mongomock's filter on each of them. So a value is indexed only where equality is
plain (strings and ObjectIds: numbers, dates and the like compare across types), and a document
whose field holds something a query could match otherwise (a sub-document, a nested array) is a
candidate for every value.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Iterable

from bson import ObjectId

ABSENT = object()
# Values a hash index holds: a query equal to one of these matches a stored value only if it is
# the same value, or an array holding it (numbers, dates and the like are compared across types,
# so they are not indexed and a query on them walks the collection as before).
KEYED = (str, ObjectId)


def keyed_values(condition: Any) -> list | None:
    """The values a top-level condition requires the field to equal one of, when they are all keyed
    values: `"x"`, `{"$eq": "x"}`, `{"$in": ["x", "y"]}`; None for any other condition."""
    if isinstance(condition, KEYED):
        return [condition]
    if isinstance(condition, Mapping) and len(condition) == 1:
        (operator, operand), = condition.items()
        if operator == "$eq" and isinstance(operand, KEYED):
            return [operand]
        if operator == "$in" and isinstance(operand, (list, tuple)) and all(isinstance(v, KEYED) for v in operand):
            return list(operand)
    return None


def id_values(condition: Any) -> list | None:
    """The `_id`s an `_id` condition allows, when it names them: a value, `$eq`, `$in` (strings,
    ObjectIds and numbers only: a regex, a date or a sub-document is left to mongomock's filter)."""
    def plain(value: Any) -> bool:
        return isinstance(value, (str, ObjectId, int, float))

    if plain(condition):
        return [condition]
    if isinstance(condition, Mapping) and len(condition) == 1:
        (operator, operand), = condition.items()
        if operator == "$eq" and plain(operand):
            return [operand]
        if operator == "$in" and isinstance(operand, (list, tuple)) and all(plain(v) for v in operand):
            return list(operand)
    return None


def indexed_values(field: str, condition: Any) -> list | None:
    """What an indexed read may use of one top-level condition of a query: the `_id`s it names, or the
    keyed values a plain (undotted) field must equal one of; None when no index serves it."""
    if field == "_id":
        return id_values(condition)
    if field.startswith("$") or "." in field:
        return None
    return keyed_values(condition)


def probe(document: Mapping, keys: list) -> dict:
    """The indexed equalities a document's unique-index fields give: the documents they name are the
    only ones its entries can clash with."""
    probe: dict = {}
    for field, _direction in keys:
        value = document.get(field, ABSENT) if "." not in field else ABSENT
        if isinstance(value, KEYED):
            probe[field] = value
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, KEYED) for v in value):
            probe[field] = {"$in": list(value)}
    return probe


class FieldIndex:
    """Which documents may hold a keyed value (or an array holding it) in one top-level field.

    `buckets[value]` holds the keys of the documents whose field is that value or an array holding
    it; `loose` holds those whose field holds something a query could match in a way the buckets do
    not capture (a sub-document, a nested array): they are candidates for every value."""

    __slots__ = ("field", "buckets", "loose", "entries")

    def __init__(self, field: str) -> None:
        self.field = field
        self.buckets: dict[Any, set] = {}
        self.loose: set = set()
        self.entries: dict[Any, tuple[tuple, bool]] = {}

    @staticmethod
    def keys_of(value: Any) -> tuple[tuple, bool]:
        if value is ABSENT:
            return (), False
        if isinstance(value, KEYED):
            return (value,), False
        if isinstance(value, (list, tuple)):
            keys, loose = [], False
            for item in value:
                if isinstance(item, KEYED):
                    keys.append(item)
                elif isinstance(item, (Mapping, list, tuple)):
                    loose = True
            return tuple(keys), loose
        return (), isinstance(value, Mapping)

    def add(self, key: Any, document: Mapping) -> None:
        keys, loose = self.keys_of(document.get(self.field, ABSENT))
        if not keys and not loose:
            return
        self.entries[key] = (keys, loose)
        for value in keys:
            self.buckets.setdefault(value, set()).add(key)
        if loose:
            self.loose.add(key)

    def remove(self, key: Any) -> None:
        entry = self.entries.pop(key, None)
        if entry is None:
            return
        keys, loose = entry
        for value in keys:
            bucket = self.buckets.get(value)
            if bucket is not None:
                bucket.discard(key)
                if not bucket:
                    del self.buckets[value]
        if loose:
            self.loose.discard(key)

    def size(self, values: list) -> int:
        """How many candidates `candidates(values)` gives at most (without building them)."""
        return len(self.loose) + sum(len(self.buckets.get(value, ())) for value in values)

    def candidates(self, values: Iterable) -> set:
        found = set(self.loose)
        for value in values:
            found.update(self.buckets.get(value, ()))
        return found
