"""Care operations on patient records: reviews, upload reminders, provider connection requests,
data sources and clinic-wide tag assignment (patients.md §11-§15)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import datetime as _dt
import logging

from clinic_api import wire
from clinic_api.domain import effects, patient_counts
from clinic_api.errors import Conflict, NotFound
from clinic_api.resources.patients import data_source_from_api
from clinic_api.store import patients as store
from clinic_api.store import tags as tags_store
from clinic_api.store import tx

if TYPE_CHECKING:
    from clinic_api.services import Services

log = logging.getLogger("clinic_api.patients")
CONNECT_REQUEST_LIFETIME = _dt.timedelta(days=30)
NO_REVIEW = "no review to delete"


def _is_demo(services: Services, user_id: str) -> bool:
    demo = services.settings.demo_patient_user_id
    return bool(demo) and user_id == demo


def add_review(services: Services, clinic_id: str, user_id: str, clinician_id: str) -> list:
    """Mark reviewed now: newest first, the two newest kept."""
    doc = store.push_review(services.store.db, clinic_id, user_id, {"clinicianId": clinician_id, "time": wire.now()})
    return doc.get("reviews") or []


def revert_review(services: Services, clinic_id: str, user_id: str, clinician_id: str) -> list:
    """Remove the newest review, which must be the caller's."""
    db = services.store.db
    doc = store.pop_review_of(db, clinic_id, user_id, clinician_id)
    if doc is not None:
        return doc.get("reviews") or []
    current = store.get(db, clinic_id, user_id)
    reviews = current.get("reviews") or []
    if not reviews:
        raise NotFound(NO_REVIEW)  # the reference fails with a 500 here
    if reviews[0].get("clinicianId") != clinician_id:
        raise Conflict("conflict: cannot revert review from another clinician")
    return []  # the caller's review became the newest meanwhile: nothing reverted (as the reference)


def send_upload_reminder(services: Services, clinic_id: str, user_id: str) -> dict:
    """Record the reminder time; the reminder mail itself is the worker's effect."""
    doc = store.update(services.store.db, clinic_id, user_id, {"lastUploadReminderTime": wire.now()})
    effects.emit(services, effects.UploadReminderRequested(doc))
    return doc


def connect_provider(services: Services, clinic_id: str, user_id: str, provider: str) -> None:
    """Ask the patient to connect a provider account: the provider's data source is set pending
    (or pendingReconnect) and the request is prepended to providerConnectionRequests.<p>."""
    db = services.store.db
    now = wire.now()
    request = {"providerName": provider, "createdTime": now}

    def work(session):
        for _attempt in range(3):  # the data sources may change between the read and the write
            doc = store.get(db, clinic_id, user_id, missing="error finding patient: patient not found",
                            session=session)
            sources = doc.get("dataSources") or []
            matching = [ds for ds in sources if ds.get("providerName") == provider]
            if not matching:
                raise NotFound(store.PATIENT_NOT_FOUND)
            changes = {"expirationTime": now + CONNECT_REQUEST_LIFETIME, "state": "pending"}
            if matching[-1].get("modifiedTime") is not None:
                changes = {"modifiedTime": now, "expirationTime": now + CONNECT_REQUEST_LIFETIME,
                           "state": "pendingReconnect"}
            index = next(i for i, ds in enumerate(sources) if ds.get("providerName") == provider)
            updated = store.add_connection_request(db, clinic_id, user_id, provider, index, changes, request,
                                                   doc.get("dataSources"), session=session)
            if updated is not None:
                patient_counts.record(services, updated["clinicId"], doc, updated, session=session,
                                      touch=not _is_demo(services, user_id))
                return updated
        raise NotFound(store.PATIENT_NOT_FOUND)

    updated = tx.run(services.store, work)
    effects.emit(services, effects.ProviderConnectionRequested(updated, provider))


def update_data_sources(services: Services, user_id: str, items: list) -> None:
    """Replace the data sources on every clinic's record of the user, and the clinics' counts with
    them. Always succeeds, as the reference (a user without records is fine)."""
    db = services.store.db
    sources = [data_source_from_api(d) for d in items]

    def work(session):
        before = store.of_user(db, user_id, session=session)
        store.set_data_sources_for_user(db, user_id, sources, session=session)
        patient_counts.record_many(services, [(doc, {**doc, "dataSources": sources}) for doc in before],
                                   session=session, touch=not _is_demo(services, user_id))

    try:
        tx.run(services.store, work)
    except Exception as exc:  # noqa: BLE001 - the reference only logs a failed update
        log.error("data sources update failed: %s", type(exc).__name__)


def assign_tag(services: Services, clinic_id: str, tag_id: str, user_ids: list | None) -> None:
    """Give the patients a tag the clinic has (404 `patient tag not found` otherwise, where the
    reference assigns any id). The check and the patients' update run in one transaction that also
    writes the clinic (tags_store.require), so a deletion of the tag either comes first (then 404)
    or conflicts with it and runs again after, removing the tag from these patients too. Without
    transactions (a standalone mongod) the tag is checked again after the update and taken back
    from the patients when it was deleted meanwhile."""
    db = services.store.db

    def work(session):
        tags_store.require(db, clinic_id, tag_id, session=session)
        store.assign_tag(db, clinic_id, tag_id, user_ids, session=session)
        if session is None and not tags_store.has(db, clinic_id, tag_id):
            store.remove_tag(db, clinic_id, tag_id, user_ids)
            raise NotFound(tags_store.TAG_NOT_FOUND)

    tx.run(services.store, work)


def remove_tag(services: Services, clinic_id: str, tag_id: str, user_ids: list | None) -> None:
    """Take the tag from the patients and from the clinic's tallies, together."""
    db = services.store.db
    tx.run(services.store, lambda session: store.remove_tag(db, clinic_id, tag_id, user_ids, session=session))
