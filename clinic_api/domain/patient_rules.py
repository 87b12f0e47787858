"""The clinic's rules a patient write must satisfy (MRN settings, tags, sites, the patient-count
limit) and the accounting of each write on the clinic's counts (patients.md §0.6-§0.9)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api.domain import patient_counts
from clinic_api.errors import NotFound, bad_request, constraint
from clinic_api.store import clinics as clinics_store
from clinic_api.store import patient_queries
from clinic_api.store import tags as tags_store
from clinic_api.store.ids import is_hex_id

if TYPE_CHECKING:
    from pymongo.database import Database
    from clinic_api.services import Services

NO_SUCH_SITE = "the clinic has no site with that name"


def enforce_patient_limit(services: Services, clinic: dict, session=None) -> None:
    """402 payment required when a custodial patient would exceed the clinic's hard limit (checked
    on the clinic as read; account() enforces it again in the write)."""
    patient_counts.enforce_limit(services, clinic, session=session)


def account(services: Services, clinic: dict, before: dict | None, after: dict | None, *, session=None,
            touch: bool = True, tags=None, custodial: bool = False) -> None:
    """The patient write (before -> after) accounted for on the clinic's counts, in the write's
    transaction (patient_counts.record): the tags the body names must be the clinic's, a unique-MRN
    clinic is held so its patient writes conflict with each other (the MRN check inside each then
    sees the others), and a new custodial patient must fit under the hard limit."""
    limit = patient_counts.hard_limit(clinic) if custodial else None
    settings = clinic.get("mrnSettings")
    hold = isinstance(settings, dict) and bool(settings.get("unique"))
    patient_counts.record(services, clinic["_id"], before, after, session=session, touch=touch,
                          tags=_wanted_tags(tags), hold=hold, limit=limit)


def enforce_mrn_settings(store, clinic: dict, mrn, user_id: str | None, session=None) -> bool:
    """Apply the clinic's MRN settings; returns the patient's requireUniqueMrn flag.
    400 `mrn is required` / `mrn must be unique` (case- and accent-insensitive comparison)."""
    settings = clinic.get("mrnSettings")
    if not isinstance(settings, dict):
        return False
    if settings.get("required") and not mrn:
        raise bad_request("mrn is required")
    unique = bool(settings.get("unique"))
    if unique and mrn is not None:
        query = patient_queries.PatientQuery(clinic_id=clinic["_id"], mrn=mrn, limit=2)
        matches, _ = patient_queries.run(store, query, session=session)
        if matches and not (len(matches) == 1 and user_id is not None and matches[0].get("userId") == user_id):
            raise bad_request("mrn must be unique")
    return unique


def _wanted_tags(tags) -> list:
    return list(tags) if isinstance(tags, list) else []


def check_tags(clinic: dict, tags) -> None:
    """404 `patient tag not found` when the body's tags (ObjectIds; absent: none) are not all the
    clinic's, where the reference stores any id. A check on the clinic as read, made before any
    other change (a custodial account); account() makes it again in the write's transaction."""
    known = {t.get("_id") for t in clinic.get("patientTags") or [] if isinstance(t, dict)}
    if any(tag not in known for tag in _wanted_tags(tags)):
        raise NotFound(tags_store.TAG_NOT_FOUND)


def clinic_sites(db: Database, clinic: dict, session=None) -> dict:
    """The clinic's sites by hex id, each annotated with its current patient count."""
    annotated = clinics_store.annotate(db, [dict(clinic, sites=[dict(s) for s in clinic.get("sites") or []])],
                                       session=session)[0]
    return {str(s.get("id")): s for s in annotated.get("sites") or [] if s.get("id") is not None}


def _stored_site(site: dict) -> dict:
    entry = {"id": site["id"], "name": site.get("name", "")}
    if site.get("patients"):
        entry["patients"] = int(site["patients"])
    return entry


def resolve_sites(db: Database, clinic: dict, wanted: list, *, drop_unknown: bool = False, session=None) -> list:
    """Replace each requested site by the clinic's own (its current name; the patient count the
    reference copies along), first occurrence of each id kept. An unknown id is a 422, or
    silently dropped with drop_unknown."""
    if not wanted:
        return list(wanted)
    known = clinic_sites(db, clinic, session=session)
    out, seen = [], set()
    for site in wanted:
        site_id = site.get("id")
        found = known.get(site_id) if is_hex_id(site_id) else None
        if found is None:
            if drop_unknown:
                continue
            raise constraint(NO_SUCH_SITE)
        if site_id not in seen:
            seen.add(site_id)
            out.append(_stored_site(found))
    return out
