"""The patient list engine (patients.md §0.11): one filter, one sort, a page and the match count.

On MongoDB: the reference's filter and sort (the page read through a cursor, the count by a
second command), with the collation {locale: en, strength: 1} when the sort is by name (or the
default).
The embedded store has no collation: there the name-sorted (and collated-equality) queries read
the matching documents once and compare names (and collated equalities) by a case- and
accent-folded key in Python. Every other query takes the aggregation path on
both backends.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import unicodedata
from typing import TYPE_CHECKING

from bson import ObjectId

from clinic_api.store.ids import is_hex_id, object_id

if TYPE_CHECKING:
    from pymongo.database import Database

COLLECTION = "patients"
COLLATION = {"locale": "en", "strength": 1}
DEFAULT_SORT = (("fullName", 1),)
_GO_META = set("\\.+*?()|[]{}^$")


def quote_meta(text: str) -> str:
    """Go's regexp.QuoteMeta: a search string is matched literally, never as a pattern."""
    return "".join("\\" + ch if ch in _GO_META else ch for ch in text)


@dataclasses.dataclass
class PatientQuery:
    clinic_id: str | ObjectId | None = None
    clinic_ids: list | None = None
    user_id: str | None = None
    mrn: str | None = None  # equality under the collation
    birth_date: str | None = None  # equality under the collation
    search: str | None = None
    tags: list | None = None
    sites: list | None = None
    omit_non_standard_ranges: bool = False
    last_reviewed: _dt.datetime | None = None
    ranges: list = dataclasses.field(default_factory=list)  # [(path, "$gte"|..., number)]
    last_data: list = dataclasses.field(default_factory=list)  # [(path, from|None, to|None)]
    has_mrn: bool | None = None  # internal filters (no public parameter reaches them)
    has_subscription: bool | None = None
    sort: tuple | None = None  # ((path, 1|-1), ...) without the final _id; None = default
    offset: int = 0
    limit: int = 10

    @property
    def collation(self) -> bool:
        """As the reference: only for the default sort or a sort by name."""
        return self.sort is None or any(path == "fullName" for path, _ in self.sort)

    def sort_spec(self) -> dict:
        spec = dict(self.sort or DEFAULT_SORT)
        spec["_id"] = 1
        return spec


def build_filter(q: PatientQuery, *, collated: bool = True) -> dict:
    """The $match document. `collated=False` leaves out the equalities that need the collation."""
    match: dict = {}
    if q.clinic_id is not None:
        match["clinicId"] = object_id(q.clinic_id)
    if q.clinic_ids is not None:
        match["clinicId"] = {"$in": [object_id(c) for c in q.clinic_ids]}
    if q.user_id is not None:
        match["userId"] = {"$eq": q.user_id}
    if collated and q.mrn is not None:
        match["mrn"] = q.mrn
    if collated and q.birth_date is not None:
        match["birthDate"] = q.birth_date
    if q.has_mrn is not None:
        empty = {"$in": [None, ""]}
        match["mrn"] = {"$not": empty} if q.has_mrn else empty
    if q.has_subscription is not None:
        no_subscription: dict = {"$in": [None, {}]}
        match["ehrSubscriptions"] = {"$not": no_subscription} if q.has_subscription else no_subscription
    groups: list[list] = []
    if q.search:
        pattern = {"$regex": quote_meta(q.search), "$options": "i"}
        groups.append([{"fullName": pattern}, {"email": pattern}, {"mrn": pattern}, {"birthDate": pattern}])
    if q.tags is not None:
        ids = [ObjectId(t) for t in q.tags if is_hex_id(t)]
        if ids:
            match["tags"] = {"$all": ids}
        else:
            groups.append([{"tags": {"$size": 0}}, {"tags": {"$exists": False}}])
    if q.sites is not None:
        ids = [ObjectId(s) for s in q.sites if is_hex_id(s)]
        if ids:
            match["sites"] = {"$elemMatch": {"id": {"$in": ids}}}
        else:
            groups.append([{"sites": {"$size": 0}}, {"sites": {"$exists": False}}])
    if q.omit_non_standard_ranges:
        groups.append([{"glycemicRanges.preset": "adaStandard"}, {"glycemicRanges": {"$exists": False}}])
    if q.last_reviewed is not None:
        match["reviews.0.time"] = {"$lte": q.last_reviewed}
    for path, op, value in q.ranges:
        match.setdefault(path, {})[op] = value
    for path, start, end in q.last_data:
        window = {}
        if start is not None:
            window["$gte"] = start
        if end is not None:
            window["$lt"] = end
        if window:
            match[path] = window
    if len(groups) == 1:
        match["$or"] = groups[0]
    elif groups:
        match["$and"] = [{"$or": g} for g in groups]
    return match


def run(store, q: PatientQuery, session=None) -> tuple[list[dict], int]:
    """(the page of patient documents, the number of matching patients).

    The reference computes both in one aggregation whose $facet returns the whole page as a single
    document, which fails beyond MongoDB's 16 MB document limit (a 500 for a large `limit`); here
    the page is a cursor and the count a second command, same filter, sort and collation."""
    if q.collation and not store.supports_collation:
        return _run_folded(store.db, q, session)
    match = build_filter(q)
    kwargs = {"collation": COLLATION} if q.collation else {}
    coll = store.db[COLLECTION]
    cursor = coll.find(match, session=session, **kwargs).sort(list(q.sort_spec().items()))
    docs = list(cursor.skip(q.offset).limit(q.limit))
    if len(docs) < q.limit and (docs or q.offset == 0):
        return docs, q.offset + len(docs)  # the page holds the last match: no count needed
    return docs, coll.count_documents(match, session=session, **kwargs)


def first(db: Database, selector: dict, sort: list, limit: int, session=None) -> list[dict]:
    """The first `limit` patients matching `selector` in that order (a TIDE report's category)."""
    return list(db[COLLECTION].find(selector, session=session).sort(sort).limit(limit))


def whole_clinic(q: PatientQuery) -> bool:
    """Whether the query matches every patient of one clinic (no filter beside the clinic), so that
    its match count is the clinic's patient count."""
    return q.clinic_id is not None and build_filter(q) == {"clinicId": object_id(q.clinic_id)}


# --- the embedded store's stand-in for the collation ---------------------------------------------

def fold(text: str) -> str:
    """Case- and accent-insensitive form (what strength 1 ignores): compatibility-decomposed,
    combining marks dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _char_class(ch: str) -> int:
    # The root collation orders spaces, then punctuation, symbols, digits, then letters.
    if ch.isspace():
        return 0
    cat = unicodedata.category(ch)
    return {"P": 1, "S": 2, "N": 3}.get(cat[0], 4)


def name_key(value) -> tuple:
    """A sort key giving names the order of the collation (missing and null first)."""
    if not isinstance(value, str):
        return (0, ())
    return (1, tuple((_char_class(ch), ch) for ch in fold(value)))


def collated_equal(stored, wanted: str) -> bool:
    return isinstance(stored, str) and fold(stored) == fold(wanted)


def _run_folded(db: Database, q: PatientQuery, session) -> tuple[list[dict], int]:
    """One read of the matching documents; collated equalities, name order and the page are
    applied here. (The embedded store scans its documents for any query, so reading them whole
    once costs less than reading names first and the page's documents by id after.)"""
    rows = list(db[COLLECTION].find(build_filter(q, collated=False), session=session))
    if q.mrn is not None:
        rows = [r for r in rows if collated_equal(r.get("mrn"), q.mrn)]
    if q.birth_date is not None:
        rows = [r for r in rows if collated_equal(r.get("birthDate"), q.birth_date)]
    rows.sort(key=lambda r: r["_id"])
    for path, direction in reversed(q.sort or DEFAULT_SORT):
        if path == "fullName":
            rows.sort(key=lambda r: name_key(r.get("fullName")), reverse=direction < 0)
    return rows[q.offset:q.offset + q.limit], len(rows)
