"""The merge's own writes to `clinics`, `patients` and `clinicians`, each in the caller's
transaction (pass `session`). Shapes are the reference's (migrations-merge.md §2.8). A write
that finds nothing to change means the clinics changed since planning: 409, and the transaction
rolls back."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from pymongo.errors import DuplicateKeyError

from clinic_api import wire
from clinic_api.errors import Conflict, duplicate
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store import patients as patients_store
from clinic_api.store import sites as sites_store
from clinic_api.store import tags as tags_store

if TYPE_CHECKING:
    from pymongo.database import Database

CHANGED = "conflict: the clinics changed while they were being merged"
CLINICIAN_EMAIL_TAKEN = "a clinician of the target clinic has the email of a source clinician"


def _expect_one(count: int) -> None:
    if count != 1:
        raise Conflict(CHANGED)


# --- the target clinic --------------------------------------------------------------------------

# The tags and sites the merge adds go through CreatePatientTag's and CreateSite's own writes (one
# rule each, a compare-and-swap on the target's array): the rules hold whatever runs meanwhile.

def check_new_tag(clinic: dict, name: str) -> str:
    """The trimmed name of a tag the clinic can take, as creating a patient tag checks it:
    422 at 50 tags, then 409 for a name equal (ignoring case and spaces) to another's."""
    name = tags_store.trim(name)
    tags_store.check_new(clinic, name)
    return name


def add_tag(db: Database, clinic_oid, name: str, session=None) -> dict:
    """Create a patient tag in the clinic as CreatePatientTag does (same rules, same write)."""
    return tags_store.create(db, clinic_oid, name, session=session)


def check_new_site(clinic: dict, name: str) -> None:
    """409 when the clinic has a site of that name in any case (the 50-site limit is ignored)."""
    sites_store.check_new(clinic, name, limit=False)


def add_site(db: Database, clinic_oid, site_for: Callable[[dict], dict | None], session=None) -> dict | None:
    """Push the site `site_for(target)` gives (keeping its id; None: nothing to add) as CreateSite
    does, the 50-site limit ignored; the site pushed."""
    return sites_store.add(db, clinic_oid, lambda clinic: _element(site_for(clinic)), limit=False, session=session)


def _element(site: dict | None) -> dict | None:
    return None if site is None else sites_store.element(site)


def add_share_codes(db: Database, clinic_oid, codes: list, session=None) -> None:
    db[clinics_store.COLLECTION].update_one(
        {"_id": clinic_oid}, {"$addToSet": {"shareCodes": {"$each": list(codes)}}, "$set": {"updatedTime": wire.now()}},
        session=session)


# --- patients -----------------------------------------------------------------------------------

def _patients(db: Database):
    return db[patients_store.COLLECTION]


def move_patient(db: Database, source_oid, user_id: str, target_oid, *, require_unique_mrn: bool, tag_ids: list,
                 session=None) -> None:
    """The patient record changes clinic; its tags become the given target tags. Every other
    field is kept."""
    try:
        res = _patients(db).update_one(
            {"clinicId": source_oid, "userId": user_id},
            {"$set": {"clinicId": target_oid, "requireUniqueMrn": require_unique_mrn, "tags": list(tag_ids),
                      "updatedTime": wire.now()}}, session=session)
    except DuplicateKeyError as exc:
        raise patients_store.duplicate_error(exc) from None
    _expect_one(res.modified_count)


def set_patient_tags(db: Database, clinic_oid, user_id: str, tag_ids: list, session=None) -> None:
    res = _patients(db).update_one({"clinicId": clinic_oid, "userId": user_id},
                                   {"$set": {"tags": list(tag_ids), "updatedTime": wire.now()}}, session=session)
    _expect_one(res.modified_count)


def push_patient_sites(db: Database, clinic_oid, user_id: str, sites: list, session=None) -> None:
    """Append the sites to the patient's (no de-duplication)."""
    res = _patients(db).update_one({"clinicId": clinic_oid, "userId": user_id},
                                   {"$push": {"sites": {"$each": list(sites)}}, "$set": {"updatedTime": wire.now()}},
                                   session=session)
    _expect_one(res.modified_count)


def delete_patient(db: Database, clinic_oid, user_id: str, session=None) -> None:
    """Remove a merged source patient record (not archived: the user stays a patient of the
    target clinic)."""
    _expect_one(_patients(db).delete_one({"clinicId": clinic_oid, "userId": user_id}, session=session).deleted_count)


def rename_site_of_patients(db: Database, clinic_oid, site_oid, name: str, session=None) -> None:
    _patients(db).update_many({"clinicId": clinic_oid, "sites.id": site_oid},
                              {"$set": {"sites.$.name": name, "updatedTime": wire.now()}}, session=session)


# --- clinicians ---------------------------------------------------------------------------------

def move_clinician(db: Database, clinician_oid, target_oid, session=None) -> None:
    try:
        res = db[clinicians_store.COLLECTION].update_one(
            {"_id": clinician_oid}, {"$set": {"clinicId": target_oid, "updatedTime": wire.now()}}, session=session)
    except DuplicateKeyError:
        raise duplicate(CLINICIAN_EMAIL_TAKEN) from None
    _expect_one(res.modified_count)
