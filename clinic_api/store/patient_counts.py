"""The clinic's patient counts as stored on the clinic document, maintained by the writes that
change them (domain/patient_counts.py says what a patient counts for).

Two fields of the clinic hold them:
- `patientCount` — the reference's field, in its shape: `{total, demo, plan, providers?: {<name>:
  {states?: {<state>: n}, total: n}}}`;
- `patientTallies` — ours, a field the reference's clinic type does not have (its decoder skips it):
  `{tags: {<tag id hex>: n}, sites: {<site id hex>: n}}`, the number of occurrences of each tag id
  in the clinic's patients' `tags` and of each site id in their `sites` (what the reference counts
  with a `$lookup` on every read of a clinic). Zero entries are removed.

A write maintains them with one conditional `$inc` on the clinic, inside the write's transaction.
The condition is that the counts are maintained at all: `patientTallies` present and `patientCount`
in the current shape. A clinic written by someone who does not keep them (the reference, an import)
has no `patientTallies` (or loses it: run `clinic-api rebuild-counts`), and its first write rebuilds
both from the patients.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

from bson import ObjectId
from pymongo import ReturnDocument

from clinic_api import wire
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database

PLAN_EXEMPT_PROVIDER = "twiist"
COUNT = "patientCount"
TALLIES = "patientTallies"
HOLDS = "patientTagAssignments"  # ours too: a clinic write that only makes writes conflict (store/tags.py)
MAINTAINED = {f"{COUNT}.total": {"$exists": True}, f"{COUNT}.patientCount": {"$exists": False},
              TALLIES: {"$exists": True}}


def empty_tallies() -> dict:
    """The tallies of a clinic without patients (a new dict each time)."""
    return {"tags": {}, "sites": {}}


def tally_path(kind: str, oid) -> str:
    """`patientTallies.tags.<hex>` / `patientTallies.sites.<hex>`."""
    return f"{TALLIES}.{kind}.{oid}"


# --- rebuilding from the patients -------------------------------------------------------------

def _count_pipeline(clinic_oid, demo_id: str) -> list:
    demo_match = {"userId": demo_id} if demo_id else {"_id": {"$exists": False}}
    not_demo = {"userId": {"$ne": demo_id}} if demo_id else {}
    return [
        {"$match": {"clinicId": clinic_oid}},
        {"$facet": {
            "total": [{"$count": "count"}],
            "demo": [{"$match": demo_match}, {"$count": "count"}],
            "plan": [{"$match": {**not_demo, "dataSources.providerName": {"$ne": PLAN_EXEMPT_PROVIDER}}},
                     {"$count": "count"}],
            "providers": [{"$match": not_demo} if not_demo else {"$match": {}},
                          {"$unwind": "$dataSources"},
                          {"$group": {"_id": {"provider": "$dataSources.providerName",
                                              "state": "$dataSources.state"},
                                      "count": {"$sum": 1}}}],
        }},
    ]


def facets(db: Database, clinic_id, demo_id: str, session=None) -> dict:
    """{total, demo, plan: [{count}], providers: [{_id: {provider, state}, count}]} of the
    clinic's patients (the demo patient counted apart)."""
    result = list(db.patients.aggregate(_count_pipeline(object_id(clinic_id), demo_id), session=session))
    return result[0] if result else {}


def tallies(db: Database, clinic_oids: list, session=None) -> dict:
    """{clinic oid: {"tags": {hex: n}, "sites": {hex: n}}} counted over the clinics' patients
    (ids that are not ObjectIds are not counted)."""
    out: dict = {oid: empty_tallies() for oid in clinic_oids}
    if not clinic_oids:
        return out
    match = {"$match": {"clinicId": {"$in": list(clinic_oids)}}}
    for kind, field, key in (("tags", "tags", "$tags"), ("sites", "sites", "$sites.id")):
        rows = db.patients.aggregate([match, {"$unwind": f"${field}"},
                                      {"$group": {"_id": {"c": "$clinicId", "k": key}, "n": {"$sum": 1}}}],
                                     session=session)
        for row in rows:
            ident = row["_id"].get("k")
            if isinstance(ident, ObjectId) and row["n"]:
                out.setdefault(row["_id"]["c"], empty_tallies())[kind][str(ident)] = int(row["n"])
    return out


def store_all(db: Database, clinic_id, count: dict, tally: dict, *, touch: bool, session=None) -> dict | None:
    """Replace both fields; the clinic after (None: no such clinic)."""
    change: dict = {COUNT: count, TALLIES: tally}
    if touch:
        change["updatedTime"] = wire.now()
    return db.clinics.find_one_and_update({"_id": object_id(clinic_id)}, {"$set": change},
                                          return_document=ReturnDocument.AFTER, session=session)


def clinic_ids(db: Database, after=None, limit: int = 500) -> list:
    """The clinics' ids in order, `limit` at a time after `after` (for rebuilding them all)."""
    query = {"_id": {"$gt": after}} if after is not None else {}
    return [d["_id"] for d in db.clinics.find(query, {"_id": 1}).sort("_id", 1).limit(limit)]


# --- maintaining ----------------------------------------------------------------------------------

def apply(db: Database, clinic_oid, inc: Mapping[str, int], *, conditions: Mapping | None = None,
          touch: bool = False, hold: bool = False, session=None) -> bool:
    """One conditional update of the clinic: `$inc` the counts (and the hold counter), `$set`
    updatedTime when `touch` (the reference's count refresh does); then, after a decrement, the
    entries that reached zero dropped (tidy). It matches only while the counts are maintained and
    `conditions` hold; whether it did. (An update by _id, not a findAndModify: SecantusDB plans no
    index for findAndModify and would scan every clinic.)"""
    change: dict = {}
    incs = {k: v for k, v in inc.items() if v}
    if hold:
        incs[HOLDS] = 1
    if incs:
        change["$inc"] = incs
    if touch:
        change["$set"] = {"updatedTime": wire.now()}
    query = {"_id": clinic_oid, **MAINTAINED, **(conditions or {})}
    if not change:
        return db.clinics.count_documents(query, limit=1, session=session) == 1
    if db.clinics.update_one(query, change, session=session).matched_count != 1:
        return False
    decremented = [k for k, v in incs.items() if v < 0]
    if decremented:
        after = db.clinics.find_one({"_id": clinic_oid}, {COUNT: 1, TALLIES: 1}, session=session)
        if after is not None:
            tidy(db, after, decremented, session=session)
    return True


def bump(db: Database, clinic_oid, inc: Mapping[str, int], session=None) -> None:
    """`$inc` tallies of a clinic whose counts are maintained (nothing otherwise: its first
    counted write rebuilds them), then drop the entries that reached zero."""
    if any(inc.values()):
        apply(db, clinic_oid, inc, session=session)


def drop(db: Database, clinic_oid, paths: Iterable[str], session=None) -> None:
    """Remove tally entries (a tag or site that no patient of the clinic carries any more)."""
    names = list(paths)
    if names:
        db.clinics.update_one({"_id": clinic_oid, TALLIES: {"$exists": True}},
                              {"$unset": {p: "" for p in names}}, session=session)


def _value(doc: Mapping, path: str):
    node: object = doc
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def tidy(db: Database, after: Mapping, decremented: Iterable[str], session=None) -> None:
    """After a decrement: unset the tallies that are now zero and give `patientCount` the shape a
    recount has (no provider of total 0, no empty `states`, no empty `providers`). Guarded by the
    values just read, so a concurrent change is never undone."""
    zero_tallies = [p for p in decremented if p.startswith(TALLIES + ".") and _value(after, p) == 0]
    unset = {p: "" for p in zero_tallies}
    query: dict = {"_id": after["_id"], **{p: 0 for p in zero_tallies}}
    stored = after.get(COUNT)
    if isinstance(stored, dict) and any(p.startswith(COUNT + ".providers.") for p in decremented):
        cleaned = clean_count(stored)
        if cleaned != stored:
            query[COUNT] = stored
            db.clinics.update_one(query, {"$set": {COUNT: cleaned}, **({"$unset": unset} if unset else {})},
                                  session=session)
            return
    if unset:
        db.clinics.update_one(query, {"$unset": unset}, session=session)


def clean_count(count: Mapping) -> dict:
    """The count as a recount would store it: providers of total 0 and zero states left out."""
    out = dict(count)
    providers = {}
    for name, entry in (count.get("providers") or {}).items():
        if not isinstance(entry, Mapping) or not entry.get("total"):
            continue
        entry = dict(entry)
        states = {s: n for s, n in (entry.get("states") or {}).items() if n}
        if states:
            entry["states"] = states
        else:
            entry.pop("states", None)
        providers[name] = entry
    if providers:
        out["providers"] = providers
    else:
        out.pop("providers", None)
    return out
