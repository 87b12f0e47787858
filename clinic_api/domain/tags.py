"""Patient tags and sites of a clinic: the operations, their transactions and the tag removal
that follows a deleted tag (domain/effects.py's one in-transaction effect)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api.domain import effects
from clinic_api.store import sites as sites_store
from clinic_api.store import tags as tags_store
from clinic_api.store import tx

if TYPE_CHECKING:
    from clinic_api.services import Services


# --- tags ------------------------------------------------------------------------------------

# Creating and renaming a tag, and creating a site, are single-document compare-and-swaps (store/tags.py);
# on the memory store each write takes its turn with the transactions (store/memory.py).

def create_tag(services: Services, clinic_id: str, name: str) -> dict:
    return tags_store.create(services.store.db, clinic_id, name)


def rename_tag(services: Services, clinic_id: str, tag_id: str, name: str) -> dict:
    return tags_store.rename(services.store.db, clinic_id, tag_id, name)


def delete_tag(services: Services, clinic_id: str, tag_id: str) -> None:
    """The tag leaves the clinic and, in the same transaction, its patients (when we play the
    worker, which does it on seeing lastDeletedPatientTag)."""
    db = services.store.db

    def work(session):
        tags_store.remove(db, clinic_id, tag_id, session=session)
        effects.within(services, effects.PatientTagDeleted(clinic_id, tag_id), session)

    tx.run(services.store, work)


def convert_tag_to_site(services: Services, clinic_id: str, tag_id: str) -> dict:
    db = services.store.db

    def work(session):
        site = sites_store.create_from_tag(db, clinic_id, tag_id, session=session)
        effects.within(services, effects.PatientTagDeleted(clinic_id, tag_id), session)
        return site

    return tx.run(services.store, work)


# --- sites -----------------------------------------------------------------------------------

def create_site(services: Services, clinic_id: str, name: str) -> dict:
    return sites_store.create(services.store.db, clinic_id, name)


def rename_site(services: Services, clinic_id: str, site_id: str, name: str) -> dict:
    """The new name on the clinic and on every patient carrying the site, together."""
    db = services.store.db
    return tx.run(services.store, lambda session: sites_store.rename(db, clinic_id, site_id, name, session=session))


def delete_site(services: Services, clinic_id: str, site_id: str) -> None:
    db = services.store.db
    tx.run(services.store, lambda session: sites_store.remove(db, clinic_id, site_id, session=session))


def merge_sites(services: Services, clinic_id: str, source_id: str, target_id: str) -> dict:
    db = services.store.db
    return tx.run(services.store, lambda session: sites_store.merge(db, clinic_id, source_id, target_id,
                                                                    session=session))
