"""Sites: `clinics.sites[] {id, name, patients?}` and their copies in `patients.sites[]`.

Names are kept as sent (no trimming); two names are the same site when they are equal under
simple case folding (Go's strings.EqualFold). At most 50 sites per clinic.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import re

from bson import ObjectId

from clinic_api import wire
from clinic_api.errors import BadRequest, Conflict, ConstraintViolation, Duplicate, NotFound, constraint
from clinic_api.store import clinics, patient_counts
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database

MAX_SITES = 50
TOO_MANY = f"the clinic already has the maximum number of {MAX_SITES} sites"
DUPLICATE = "duplicate site name"
NO_SUCH_SITE = "the clinic has no site with that name"
_NUMBERED = re.compile(r"^(.*) \(([0-9]+)\)$", re.DOTALL)


def _fold(ch: str) -> str:
    upper = ch.upper()
    if len(upper) == 1:
        lower = upper.lower()
        if len(lower) == 1:
            return lower
    lower = ch.lower()
    return lower if len(lower) == 1 else ch


def fold(name: str) -> str:
    """A key equal for two names exactly when Go's strings.EqualFold says they are equal
    (simple folding: 'ß' is not 'ss')."""
    return "".join(_fold(ch) for ch in name)


def find(doc: dict, site_id) -> dict | None:
    oid = object_id(site_id)
    return next((s for s in doc.get("sites") or [] if s.get("id") == oid), None)


def _written(site: dict | None) -> dict:
    """A site just written (returned by the write or read back in the same session, so present)."""
    assert site is not None
    return site


def name_taken(doc: dict, name: str) -> bool:
    key = fold(name)
    return any(fold(s.get("name") or "") == key for s in doc.get("sites") or [])


def free_name(doc: dict, name: str) -> str:
    """The name, or `name (2)`, `name (3)` … (a trailing ` (n)` is incremented) until no site has it."""
    while name_taken(doc, name):
        m = _NUMBERED.match(name)
        name = f"{m.group(1)} ({int(m.group(2)) + 1})" if m else f"{name} (2)"
    return name


def element(site: dict) -> dict:
    """The stored element {id, name, patients?} (patients omitted when 0)."""
    out = {"id": site["id"], "name": site.get("name") or ""}
    if site.get("patients"):
        out["patients"] = int(site["patients"])
    return out


def annotated(db: Database, clinic_id, session=None) -> dict:
    return clinics.annotate(db, [clinics.get(db, clinic_id, session=session)], session=session)[0]


# --- clinic side -------------------------------------------------------------------------------

def check_new(doc: dict, name: str, *, limit: bool = True) -> None:
    """The rules a new site's name must meet on the clinic as read: 409 for a name another site has
    in any case (checked first), then 422 at 50 sites unless `limit` is False (the clinic merge, which
    may take the target past 50 sites, as the reference's CreateSiteIgnoringLimit)."""
    if name_taken(doc, name):
        raise Duplicate(DUPLICATE)
    if limit and len(doc.get("sites") or []) >= MAX_SITES:
        raise constraint(TOO_MANY)


def add(db: Database, clinic_id, site_for: Callable[[dict], dict | None], *, limit: bool = True, session=None,
        doc: dict | None = None) -> dict | None:
    """Push the site `site_for(clinic)` gives for the clinic as read (None: nothing to add; the clinic
    merge names a renamed site after the sites it finds), checked by check_new. A compare-and-swap on
    the clinic's `sites` (see store/tags.py): the push happens only while the sites are still those the
    rules were checked on, else the attempt starts again on a fresh read. The pushed site, or None."""
    for _ in range(clinics.CAS_ATTEMPTS):
        doc = doc if doc is not None else clinics.get(db, clinic_id, session=session)
        site = site_for(doc)
        if site is None:
            return None
        check_new(doc, site["name"], limit=limit)
        condition = {"_id": doc["_id"], **clinics.same_array(doc, "sites")}
        if limit:
            condition[f"sites.{MAX_SITES - 1}"] = {"$exists": False}
        res = db.clinics.update_one(condition, {"$push": {"sites": site}, "$set": {"updatedTime": wire.now()}},
                                    session=session)
        if res.matched_count == 1:
            return site
        doc = None
    raise Conflict("conflict")


def create(db: Database, clinic_id, name: str, session=None, doc: dict | None = None) -> dict:
    """Add a site of that name (CreateSite): 409 duplicate name, then 422 at 50 sites."""
    return _written(add(db, clinic_id, lambda _clinic: {"id": ObjectId(), "name": name}, session=session, doc=doc))


def rename(db: Database, clinic_id, site_id, name: str, session=None) -> dict:
    """Rename the site on the clinic and on every patient carrying it. 404 / 409 are prefixed
    `checking site constraints:`; an unknown site is 422. The clinic's part is a compare-and-swap
    on its `sites`, as create."""
    oid = object_id(site_id)
    for _ in range(clinics.CAS_ATTEMPTS):
        try:
            doc = clinics.get(db, clinic_id, session=session)
        except NotFound:
            raise NotFound(f"checking site constraints: {clinics.CLINIC_NOT_FOUND}") from None
        if name_taken(doc, name):
            raise Duplicate(f"checking site constraints: {DUPLICATE}")
        index = next((i for i, s in enumerate(doc.get("sites") or []) if s.get("id") == oid), None)
        if index is None:
            raise constraint(NO_SUCH_SITE)
        now = wire.now()
        res = db.clinics.update_one({"_id": doc["_id"], **clinics.same_array(doc, "sites")},
                                    {"$set": {f"sites.{index}.name": name, "updatedTime": now}}, session=session)
        if res.matched_count == 1:
            db.patients.update_many({"clinicId": doc["_id"], "sites.id": oid},
                                    {"$set": {"sites.$.name": name, "updatedTime": now}}, session=session)
            return _written(find(annotated(db, doc["_id"], session=session), oid))
    raise Conflict("conflict")


def remove(db: Database, clinic_id, site_id, session=None) -> None:
    """Remove the site from the clinic's patients, then from the clinic (404 clinic not found
    when the clinic or the site is unknown; the caller's transaction undoes the first step)."""
    clinic_oid, oid = object_id(clinic_id), object_id(site_id)
    remove_from_patients(db, clinic_oid, oid, session=session)
    res = db.clinics.update_one({"_id": clinic_oid, "sites.id": oid},
                                {"$pull": {"sites": {"id": oid}}, "$set": {"updatedTime": wire.now()}},
                                session=session)
    if res.modified_count != 1:
        raise NotFound(clinics.CLINIC_NOT_FOUND)


# --- patient side --------------------------------------------------------------------------------

def remove_from_patients(db: Database, clinic_oid, site_oid, session=None) -> None:
    db.patients.update_many({"clinicId": clinic_oid, "sites": {"$elemMatch": {"id": site_oid}}},
                            {"$pull": {"sites": {"id": site_oid}}, "$set": {"updatedTime": wire.now()}},
                            session=session)
    patient_counts.drop(db, clinic_oid, [patient_counts.tally_path("sites", site_oid)], session=session)


def add_to_patients_with(db: Database, clinic_oid, site: dict, having_site_oid, session=None) -> None:
    """Give `site` to every patient of the clinic that carries `having_site_oid` but not `site`."""
    res = db.patients.update_many(
        {"clinicId": clinic_oid, "$and": [{"sites.id": having_site_oid}, {"sites.id": {"$nin": [site["id"]]}}]},
        {"$push": {"sites": element(site)}, "$set": {"updatedTime": wire.now()}}, session=session)
    patient_counts.bump(db, clinic_oid, {patient_counts.tally_path("sites", site["id"]): res.modified_count},
                        session=session)


def move_tag_to_site(db: Database, clinic_oid, tag_oid, site: dict, session=None) -> None:
    """Patients carrying the tag get the site and lose the tag (and the tallies with them)."""
    res = db.patients.update_many({"clinicId": clinic_oid, "tags": tag_oid},
                                  {"$push": {"sites": element(site)}, "$pull": {"tags": tag_oid},
                                   "$set": {"updatedTime": wire.now()}}, session=session)
    patient_counts.drop(db, clinic_oid, [patient_counts.tally_path("tags", tag_oid)], session=session)
    patient_counts.bump(db, clinic_oid, {patient_counts.tally_path("sites", site["id"]): res.modified_count},
                        session=session)


# --- operations spanning the clinic and its patients (run inside the caller's transaction) -------

def merge(db: Database, clinic_id, source_id: str, target_id: str, session=None) -> dict:
    """Move every patient of the source site to the target site and delete the source.
    Everything is checked before the first write."""
    if source_id == target_id:
        raise BadRequest("can't merge a site into itself: bad request")
    doc = annotated(db, clinic_id, session=session)
    target = find(doc, target_id)
    if target is None:
        raise NotFound("not found")
    source = find(doc, source_id)
    if source is None:
        raise NotFound(clinics.CLINIC_NOT_FOUND)
    add_to_patients_with(db, doc["_id"], target, source["id"], session=session)
    remove(db, doc["_id"], source["id"], session=session)
    return _written(find(annotated(db, doc["_id"], session=session), target["id"]))


def create_from_tag(db: Database, clinic_id, tag_id, session=None) -> dict:
    """A new site named after the tag (de-conflicted), given to the tag's patients, who lose the
    tag; the tag is then deleted from the clinic. 409 `conflict` when no site can be added."""
    from clinic_api.store import tags  # noqa: PLC0415 - tags and sites know of each other only here

    doc = annotated(db, clinic_id, session=session)
    tag = tags.find(doc, tag_id)
    if tag is None:
        raise NotFound("unable to find patient tag: not found")
    name = free_name(doc, tag.get("name") or "")
    try:
        site = create(db, doc["_id"], name, session=session, doc=doc)
    except (Duplicate, ConstraintViolation):
        raise Conflict("conflict") from None
    count = int(tag.get("patients") or 0)
    if count:
        site["patients"] = count
    move_tag_to_site(db, doc["_id"], tag["_id"], site, session=session)
    tags.remove(db, doc["_id"], tag["_id"], session=session)
    return site
