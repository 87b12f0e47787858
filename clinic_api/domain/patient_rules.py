"""The clinic's rules a patient write must satisfy (MRN settings, sites, the patient-count limit)
and the clinic patient-count refresh that follows patient writes (patients.md §0.6-§0.9)."""
from __future__ import annotations

import logging
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

log = logging.getLogger("clinic_api.patients")
NO_SUCH_SITE = "the clinic has no site with that name"


def refresh_count(services: Services, clinic_id, session=None) -> None:
    """Recompute the clinic's patient count. As in the reference, a failure is logged only."""
    try:
        patient_counts.refresh(services, clinic_id, session=session)
    except Exception as exc:  # noqa: BLE001 - the count is advisory; the patient write stands
        log.warning("patient count refresh failed for clinic %s: %s", clinic_id, type(exc).__name__)


def refresh_counts(services: Services, clinic_ids, session=None) -> None:
    for clinic_id in dict.fromkeys(clinic_ids):
        refresh_count(services, clinic_id, session=session)


def enforce_patient_limit(services: Services, clinic: dict, session=None) -> None:
    """402 payment required when a custodial patient would exceed the clinic's hard limit."""
    patient_counts.enforce_limit(services, clinic, session=session)


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
    other change (a custodial account); hold_clinic() makes it again in the write's transaction."""
    known = {t.get("_id") for t in clinic.get("patientTags") or [] if isinstance(t, dict)}
    if any(tag not in known for tag in _wanted_tags(tags)):
        raise NotFound(tags_store.TAG_NOT_FOUND)


def hold_clinic(db: Database, clinic: dict, tags, session=None) -> None:
    """Inside a patient write's transaction, when the patient carries tags or the clinic wants
    unique MRNs: check the tags against the clinic and write the clinic (tags_store.hold_for_patient),
    so the write conflicts with a concurrent deletion of one of its tags and with the other patient
    writes of the clinic that hold it. The one that runs again sees the other's outcome: no patient
    is written with a deleted tag, and the MRN check made after it in the same transaction sees
    every committed MRN (two MRNs equal up to case cannot both pass it)."""
    wanted = _wanted_tags(tags)
    settings = clinic.get("mrnSettings")
    if wanted or (isinstance(settings, dict) and settings.get("unique")):
        tags_store.hold_for_patient(db, clinic["_id"], wanted, session=session)


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
