"""Clinic membership: clinician records and the clinic's `admins` array change together.

The rule: after every create, update, delete and invite association a clinic keeps at least one
admin. The clinic's `admins` array mirrors which members hold CLINIC_ADMIN (the reference keeps it
in step in the same transaction, clinics-clinicians.md §0.7). Every change here runs in
`tx.run`, and checks the rule BEFORE its first write, so a 422 leaves nothing changed even on a
MongoDB without transactions.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from clinic_api.domain import effects
from clinic_api.domain import patients as patients_domain
from clinic_api.errors import Conflict, NotFound, constraint, duplicate
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store import deletions, tx
from clinic_api.integrations import service_accounts
from clinic_api.paging import Page
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from pymongo.database import Database
    from clinic_api.services import Services

log = logging.getLogger("clinic_api.memberships")
ADMIN_ROLE = clinicians_store.ADMIN_ROLE
NEEDS_ADMIN = "the clinic must have at least one admin"


# --- guards and the admins array ---------------------------------------------------------------

def migrated_clinic(db: Database, clinic_id, session=None) -> dict:
    """The clinic, which must exist (404) and be migrated (422), as the reference checks first."""
    clinic = clinics_store.get(db, clinic_id, session=session)
    if clinic.get("isMigrated") is not True:
        raise constraint("clinic is not migrated")
    return clinic


def check_admins_remain(clinic: dict, user_id: str, admin_after: bool, allow_orphaning: bool = False) -> None:
    """422 when the change would leave the clinic's `admins` empty."""
    if admin_after or allow_orphaning:
        return
    remaining = [a for a in (clinic.get("admins") or []) if a != user_id]
    if not remaining:
        raise constraint(NEEDS_ADMIN)


def sync_admin(db: Database, clinic_id, user_id: str, admin_after: bool, *, allow_orphaning=False,
               session=None) -> None:
    """Keep `admins` in step with one member: $addToSet when they are an admin after the change,
    else $pull (guarded by the clinic's updatedTime, as the reference)."""
    oid = object_id(clinic_id)
    if admin_after:
        clinics_store.add_admin(db, oid, user_id, session=session)
        return
    clinic = clinics_store.get(db, oid, session=session)
    check_admins_remain(clinic, user_id, False, allow_orphaning)
    if not clinics_store.pull_admin_if_unchanged(db, oid, user_id, clinic.get("updatedTime"), session=session):
        raise Conflict("conflict: concurrent modification of clinic detected")


def roles_changed(old, new: list) -> bool:
    """The reference's test; with equal lengths it sorts the new roles in place (so they are
    stored sorted, a wire-visible quirk we keep)."""
    old = list(old or [])
    if len(old) != len(new):
        return True
    new.sort()
    return sorted(old) != new


# --- clinician records --------------------------------------------------------------------------

def create_in(db: Database, clinic: dict, *, email: str | None, roles: list, user_id=None, invite_id=None, name=None,
              service_account=False, session=None) -> dict:
    """Insert a member (with user id) or an invite (without) into a migrated clinic."""
    oid = clinic["_id"]
    if clinicians_store.any_matching(db, oid, user_id=user_id, invite_id=invite_id, email=email,
                                       session=session):
        raise duplicate(clinicians_store.ALREADY_MEMBER)
    admin = ADMIN_ROLE in (roles or [])
    if user_id:
        check_admins_remain(clinic, user_id, admin)
    doc = clinicians_store.new_record(oid, email=email, roles=roles, user_id=user_id, invite_id=invite_id,
                                      name=name, service_account=service_account)
    clinicians_store.insert(db, doc, session=session)
    if user_id:
        sync_admin(db, oid, user_id, admin, session=session)
    return clinicians_store.get_by_oid(db, doc["_id"], session=session)


def create_clinician(services: Services, clinic_id: str, *, email: str | None, roles: list, user_id=None,
                     invite_id=None,
                     name=None, service_account=False) -> dict:
    store = services.store
    migrated_clinic(store.db, clinic_id)

    def work(session):
        clinic = migrated_clinic(store.db, clinic_id, session=session)
        return create_in(store.db, clinic, email=email, roles=roles, user_id=user_id, invite_id=invite_id,
                         name=name, service_account=service_account, session=session)

    return tx.run(store, work)


def update_clinician(services: Services, clinic_id: str, user_id: str, *, roles: list, name, updated_by: str) -> dict:
    """New roles and name (an absent name clears it). Returns the record after the change."""
    store = services.store
    db = store.db
    migrated_clinic(db, clinic_id)
    changed = {}

    def work(session):
        current = clinicians_store.get(db, clinic_id, user_id, session=session)
        new_roles = list(roles)
        changed["roles"] = roles_changed(current.get("roles"), new_roles)
        admin = ADMIN_ROLE in new_roles
        check_admins_remain(clinics_store.get(db, clinic_id, session=session), user_id, admin)
        clinicians_store.update_member(db, current, roles=new_roles, name=name, updated_by=updated_by,
                                       roles_changed=changed["roles"], session=session)
        doc = clinicians_store.get_by_oid(db, current["_id"], session=session)
        sync_admin(db, clinic_id, user_id, admin, session=session)
        return doc

    doc = tx.run(store, work)
    if changed.get("roles"):
        effects.emit(services, effects.ClinicianRolesChanged(doc))
    return doc


def delete_clinician(services: Services, clinic_id: str, user_id: str, deleted_by: str | None) -> None:
    """Archive and delete a member; the last admin cannot go (422, nothing changed)."""
    store = services.store
    db = store.db
    migrated_clinic(db, clinic_id)
    clinicians_store.get(db, clinic_id, user_id)

    def work(session):
        current = clinicians_store.get(db, clinic_id, user_id, session=session)
        check_admins_remain(clinics_store.get(db, clinic_id, session=session), user_id, False)
        deletions.archive(db, "clinician", [current], deleted_by, session=session)
        clinicians_store.delete_by_oid(db, current["_id"], session=session)
        sync_admin(db, clinic_id, user_id, False, session=session)

    tx.run(store, work)


# --- reads ----------------------------------------------------------------------------------

def list_clinicians(services: Services, clinic_id: str, *, search: str | None, email: str | None, role: str | None,
                    page: Page) -> list[dict]:
    """Members and invites of a clinic; a search uses the text index where the server has one."""
    store = services.store
    return clinicians_store.list_page(store.db, clinic_id, search=search, email=email, role=role, offset=page.offset,
                                      limit=page.limit, text_index=store.text_search)


def get_clinician(services: Services, clinic_id: str, user_id: str) -> dict:
    return clinicians_store.get(services.store.db, clinic_id, user_id)


def get_invite(services: Services, clinic_id: str, invite_id: str) -> dict:
    return clinicians_store.get_invite(services.store.db, clinic_id, invite_id)


def all_relationships(services: Services, page: Page) -> list[tuple[dict, dict]]:
    db = services.store.db
    return relationships(db, clinicians_store.list_all(db, offset=page.offset, limit=page.limit))


def relationships_of_user(services: Services, user_id: str, page: Page) -> list[tuple[dict, dict]]:
    db = services.store.db
    return relationships(db, clinicians_store.list_for_user(db, user_id, offset=page.offset, limit=page.limit))


def add_service_account(services: Services, clinic_id: str, *, name: str | None, client_id: str,
                        client_secret: str) -> dict:
    """A CLINIC_MEMBER record for a service account, whose user id the token endpoint gives."""
    migrated_clinic(services.store.db, clinic_id)
    user_id = service_accounts.subject_for(services.settings.service_token_endpoint, client_id, client_secret)
    return create_clinician(services, clinic_id, email=None, roles=["CLINIC_MEMBER"], user_id=user_id, name=name,
                            service_account=True)


def relationships(db: Database, records: list[dict]) -> list[tuple[dict, dict]]:
    """[(clinic, clinician record)] in the records' order, each clinic with its tag and site counts;
    records of a clinic that no longer exists are left out (the reference fails the whole request
    with a 500)."""
    ids = list({r["clinicId"] for r in records})
    docs = clinics_store.find_by_ids(db, ids)
    found = {c["_id"]: c for c in clinics_store.annotate(db, docs)}
    out = []
    for record in records:
        clinic = found.get(record["clinicId"])
        if clinic is None:
            log.warning("clinician record of a missing clinic skipped")
            continue
        out.append((clinic, record))
    return out


# --- invites --------------------------------------------------------------------------------

def associate_in(db: Database, clinic: dict, invite_id: str, user_id: str, name: str | None, session=None) -> dict:
    """The pending invite becomes the user's membership (admins kept in step)."""
    invite = clinicians_store.get_invite(db, clinic["_id"], invite_id, session=session)
    if clinicians_store.any_matching(db, clinic["_id"], user_id=user_id, session=session):
        raise duplicate(clinicians_store.ALREADY_MEMBER)
    admin = clinicians_store.is_admin(invite)
    check_admins_remain(clinic, user_id, admin)
    doc = clinicians_store.associate(db, invite, user_id, name, session=session)
    sync_admin(db, clinic["_id"], user_id, admin, session=session)
    return doc


def associate_invite(services: Services, clinic_id: str, invite_id: str, user_id: str) -> dict:
    store = services.store
    migrated_clinic(store.db, clinic_id)
    name = profile_name(services, user_id)

    def work(session):
        clinic = migrated_clinic(store.db, clinic_id, session=session)
        return associate_in(store.db, clinic, invite_id, user_id, name, session=session)

    return tx.run(store, work)


def delete_invited(services: Services, clinic_id: str, invite_id: str, session=None) -> None:
    """Delete a pending invite record (no archive, no admin change); 404 when there is none."""
    db = services.store.db
    migrated_clinic(db, clinic_id, session=session)
    if clinicians_store.delete_invite(db, clinic_id, invite_id, session=session) == 0:
        raise NotFound(clinicians_store.NOT_FOUND)


def profile_name(services: Services, user_id: str) -> str | None:
    return (services.users.get_profile(user_id) or {}).get("fullName") or None


# --- a user across all clinics ----------------------------------------------------------------

def delete_user_from_clinics(services: Services, user_id: str) -> None:
    """The user leaves every clinic (orphaning allowed); a clinic left without any clinician
    record loses its non-custodial patients. The patient records of the user are the patients
    module's (called first, as the reference does)."""
    store = services.store
    db = store.db
    patients_domain.delete_patients_of_user(services, user_id)

    def work(session):
        for record in clinicians_store.list_for_user(db, user_id, session=session):
            deletions.archive(db, "clinician", [record], None, session=session)
            clinicians_store.delete_by_oid(db, record["_id"], session=session)
            clinic_oid = record["clinicId"]
            try:
                sync_admin(db, clinic_oid, user_id, False, allow_orphaning=True, session=session)
            except NotFound:
                log.warning("clinician record of a missing clinic removed")
                continue
            if not clinicians_store.any_for_clinic(db, clinic_oid, session=session):
                patients_domain.delete_non_custodial_patients_of_clinic(services, clinic_oid, session=session)

    tx.run(store, work)


def set_user_email(services: Services, user_id: str, email: str | None) -> None:
    """The user's new email on all their clinician records (a clash with another record of one
    of those clinics is 422 and nothing is written), then on their patient records (where no
    email means: remove it)."""
    store = services.store
    db = store.db

    def work(session):
        records = clinicians_store.list_for_user(db, user_id, session=session)
        clinic_oids = list({r["clinicId"] for r in records})
        if clinicians_store.email_taken_by_others(db, user_id, clinic_oids, email, session=session):
            raise constraint("duplicate email")
        clinicians_store.set_email_everywhere(db, user_id, email, session=session)

    if email is not None:
        tx.run(store, work)
    patients_domain.update_patients_email(services, user_id, email)

