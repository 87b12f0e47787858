"""Legacy clinic accounts moving into the clinic service (migrations-merge.md §1).

A legacy "clinic" account is a user whose roles contain `clinic`. It first gets an empty clinic of
its own (EnableNewClinicExperience), completes that clinic's profile, then asks for the initial
migration (TriggerInitialMigration): a PENDING `migrations` record and `isMigrated: true` on the
clinic, together. Further legacy clinicians of a migrated clinic are queued one by one
(MigrateLegacyClinicianPatients).

What happens after a migration is recorded — moving the legacy clinician's patients into the
clinic, switching the user's role, mails — is the work of Tidepool's clinic-worker, triggered by
the insert into `migrations` (runtime-storage.md §5.7.1), which then reports RUNNING and
COMPLETED through UpdateMigration. It needs the permission service; standalone mode has none, so
there a migration is only recorded and stays PENDING until someone updates it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bson import ObjectId

from clinic_api.errors import NotFound, constraint
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store import migrations as migrations_store
from clinic_api.store import tx

if TYPE_CHECKING:
    from clinic_api.services import Services

LEGACY_ROLE = "clinic"
ADMIN_ROLE = "CLINIC_ADMIN"


def assert_legacy_clinician(services: Services, user_id: str) -> dict:
    """The user, who must hold the legacy role `clinic` (exactly that string; `clinician` does
    not qualify). Unknown to the user service: 404 `not found` (tidepool mode); standalone
    knows only users it has recorded, so an unknown user simply has no role."""
    user = services.users.get_user(user_id)
    if LEGACY_ROLE not in (user.get("roles") or []):
        raise constraint(f"user {user_id} is not clinician")
    return user


def enable_new_clinic_experience(services: Services, user_id: str) -> dict:
    """Create an empty, not yet migrated clinic with the legacy user as its only admin; the
    clinic and the admin's clinician record are written together or not at all. No duplicate
    protection (a second call makes a second clinic), no demo patient, as the reference."""
    user = assert_legacy_clinician(services, user_id)
    emails = user.get("emails") or []
    if not emails:
        # The reference crashes on this (500); the admin record needs the account's email.
        raise constraint(f"user {user_id} has no email")
    profile = services.users.get_profile(user_id)
    name = profile.get("fullName")
    store = services.store

    def work(session):
        db = store.db
        clinic = clinics_store.insert_legacy(db, user_id, session=session)
        now = clinic["createdTime"]
        admin = {"_id": ObjectId(), "clinicId": clinic["_id"], "userId": user_id, "email": emails[0],
                 "name": name if isinstance(name, str) else None, "roles": [ADMIN_ROLE],
                 "createdTime": now, "updatedTime": now}
        clinicians_store.insert(db, admin, session=session)
        return clinic

    return tx.run(store, work)


def trigger_initial_migration(services: Services, clinic_id: str) -> dict:
    """Record the PENDING migration of the clinic's single admin and mark the clinic migrated,
    atomically. Checks in the reference's order: 404 clinic not found; 422 already migrated;
    422 incomplete profile; 422 not exactly one admin (the reference: 500); the admin's legacy
    role (404 / 422); 409 `migration duplicate` when that user already has a migration (the
    reference: 500, and the clinic is left unchanged here)."""
    store = services.store
    clinic = clinics_store.get(store.db, clinic_id)
    if clinic.get("isMigrated"):
        raise constraint("clinic is already migrated")
    if not clinics_store.can_migrate(clinic):
        raise constraint("incomplete clinic profile")
    admins = clinic.get("admins") or []
    if len(admins) != 1:
        raise constraint("expected clinic with a single admin")
    admin_id = admins[0]
    assert_legacy_clinician(services, admin_id)

    def work(session):
        db = store.db
        migration = migrations_store.insert_pending(db, clinic["_id"], admin_id, session=session)
        clinics_store.set_fields(db, clinic["_id"], {"isMigrated": True}, session=session)
        return migration

    return tx.run(store, work)


def migrate_legacy_clinician(services: Services, clinic_id: str, user_id: str) -> dict:
    """Queue the migration of another legacy clinician of an already migrated clinic: 404
    clinician not found (the user is no clinician of the clinic), 404 clinic not found, 422 when
    the clinic is NOT migrated (with the reference's misleading text, kept because clients see
    it), 409 migration duplicate."""
    db = services.store.db
    if clinicians_store.find_membership(db, clinic_id, user_id) is None:
        raise NotFound("clinician not found")
    clinic = clinics_store.get(db, clinic_id)
    if not clinic.get("isMigrated"):
        raise constraint("clinic is already migrated")
    return migrations_store.insert_pending(db, clinic["_id"], user_id)


def list_for_clinic(services: Services, clinic_id: str) -> list[dict]:
    return migrations_store.list_for_clinic(services.store.db, clinic_id)


def get(services: Services, clinic_id: str, user_id: str) -> dict:
    return migrations_store.get(services.store.db, clinic_id, user_id)


def set_status(services: Services, clinic_id: str, user_id: str, status: str) -> dict:
    """The record with its new status (stored as given, an empty one too, as the reference)."""
    return migrations_store.set_status(services.store.db, clinic_id, user_id, status)
