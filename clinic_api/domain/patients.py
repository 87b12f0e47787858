"""Patient writes that span collections or services: creation (custodial or from an existing
user), update, removal with its archive, the user-wide operations, and the clinic's rules around
them (MRN settings, sites, the patient counts and their limit, worker effects)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api.domain import effects, patient_counts
from clinic_api.domain import patient_rules as rules
from clinic_api.errors import ApiError, Duplicate, NotFound
from clinic_api.resources import patients as bodies
from clinic_api.store import clinics as clinics_store
from clinic_api.store import patient_docs as docs
from clinic_api.store import patients as store
from clinic_api.store import tx
from clinic_api.store.ids import hex_id

if TYPE_CHECKING:
    from clinic_api.services import Services

ALL_PERMISSIONS: dict[str, dict] = {"custodian": {}, "view": {}, "upload": {}, "note": {}}


def _is_demo(services: Services, user_id: str) -> bool:
    demo = services.settings.demo_patient_user_id
    return bool(demo) and user_id == demo


def _present(value) -> bool:
    return value is not docs.ABSENT and value is not None


# --- creation ------------------------------------------------------------------------------

def create_account(services: Services, clinic_id: str, body: dict | None, invited_by: str | None) -> dict:
    """CreatePatientAccount: a custodial account owned by the clinic and its patient record."""
    db = services.store.db
    fields = bodies.fields_from_api(bodies.require_body(body))
    clinic = clinics_store.get(db, clinic_id)
    unique = rules.enforce_mrn_settings(services.store, clinic, fields["mrn"], None)
    rules.enforce_patient_limit(services, clinic)
    # Sites are resolved before the account exists, so a 422 leaves no orphan account behind.
    if _present(fields["sites"]) and fields["sites"]:
        fields["sites"] = rules.resolve_sites(db, clinic, fields["sites"])
    rules.check_tags(clinic, fields["tags"])
    accounts = services.accounts
    user_id = accounts.create_custodial(hex_id(clinic["_id"]), fields["email"] or None)

    def work(session):
        # The MRN checked again inside the transaction; the tags and the limit by the counts' update.
        rules.enforce_mrn_settings(services.store, clinic, fields["mrn"], None, session=session)
        doc = docs.new_document(clinic["_id"], user_id, fields, permissions=dict(ALL_PERMISSIONS),
                                require_unique_mrn=unique, invited_by=invited_by)
        return _insert_counted(services, clinic, doc, fields["tags"], custodial=True, session=session)

    try:
        doc = tx.run(services.store, work)
    except ApiError:
        accounts.release_custodial(user_id)
        raise
    effects.emit(services, effects.PatientWritten(None, doc))
    return doc


def _insert_counted(services: Services, clinic: dict, doc: dict, tags, *, custodial: bool, session) -> dict:
    """Insert a new patient and account for it on the clinic's counts (in the caller's
    transaction; without one, a refused count takes the patient back out)."""
    db = services.store.db
    store.insert(db, doc, session=session)
    try:
        rules.account(services, clinic, None, doc, session=session, tags=tags, custodial=custodial)
    except ApiError:
        if session is None:  # no transaction to undo the insert (nor a rebuild that counted it)
            store.discard(db, doc["_id"])
            patient_counts.rebuild(services, clinic["_id"])
        raise
    return doc


def _profile_filled(services: Services, user_id: str, fields: dict) -> dict:
    """CreatePatientFromUser's fill-in from the user and the profile (patients.md §3 step 5)."""
    user = services.users.get_user(user_id)
    profile = services.users.get_profile(user_id) or {}
    raw = profile.get("patient")
    patient: dict = raw if isinstance(raw, dict) else {}
    if not fields.get("birthDate"):
        fields["birthDate"] = patient.get("birthday") or None
    if not fields.get("mrn"):
        fields["mrn"] = patient.get("mrn") or None
    if not fields.get("fullName"):
        fields["fullName"] = patient.get("fullName") or profile.get("fullName") or ""
    fields["targetDevices"] = patient.get("targetDevices")
    email = user.get("username") or ""
    fields["email"] = email.lower() if email else None
    if fields.get("birthDate") is None:
        fields["birthDate"] = ""
    return fields


def create_patient_from_user(services: Services, clinic_id, user_id: str, permissions: dict | None, session=None,
                             **fields) -> dict:
    """CreatePatientFromUser (and an accepted patient invitation): the patient record of an
    existing user. `fields` are createPatient.v1 keys (fullName, birthDate, mrn, tags, sites,
    glycemicRanges, diagnosisType, isMigrated, legacyClinicianId). An existing record is a 409
    `duplicate: patient is already a member of the clinic`, unless legacyClinicianId is given:
    then that id is added to it and it is returned. Inside the caller's transaction (`session`), or
    in one of its own."""
    if session is not None:
        doc, written = _create_from_user(services, clinic_id, user_id, permissions, fields, session)
    else:
        doc, written = tx.run(services.store, lambda session: _create_from_user(
            services, clinic_id, user_id, permissions, fields, session))
    if written:
        effects.emit(services, effects.PatientWritten(None, doc))
    return doc


def _create_from_user(services: Services, clinic_id, user_id: str, permissions: dict | None, fields: dict,
                      session) -> tuple[dict, bool]:
    """(the patient record, whether it was inserted)."""
    db = services.store.db
    clinic = clinics_store.get(db, clinic_id, session=session)
    wanted_sites = [s for s in fields.get("sites") or [] if isinstance(s, dict)]
    sites = rules.resolve_sites(db, clinic, wanted_sites, drop_unknown=True, session=session) \
        if wanted_sites else (None if fields.get("sites") is None else [])
    perms = bodies.granted(permissions)
    values = _profile_filled(services, user_id, bodies.create_fields_from_api(fields, sites))
    rules.check_tags(clinic, values["tags"])
    unique = rules.enforce_mrn_settings(services.store, clinic, values["mrn"], user_id, session=session)
    custodial = bool(perms and "custodian" in perms)
    if custodial:
        rules.enforce_patient_limit(services, clinic, session=session)
    legacy = fields.get("legacyClinicianId")
    if store.find(db, clinic["_id"], user_id, session=session) is not None:
        if legacy:
            return store.add_legacy_clinician(db, clinic["_id"], user_id, legacy, session=session), False
        raise Duplicate(store.ALREADY_MEMBER)
    doc = docs.new_document(clinic["_id"], user_id, values, permissions=perms, require_unique_mrn=unique,
                            is_migrated=bool(fields.get("isMigrated")),
                            legacy_clinician_ids=[legacy] if legacy else None)
    return _insert_counted(services, clinic, doc, values["tags"], custodial=custodial, session=session), True


# --- update --------------------------------------------------------------------------------

def _deactivated(subscriptions):
    return {name: ({**sub, "active": False} if isinstance(sub, dict) else sub)
            for name, sub in subscriptions.items()}


def update_patient(services: Services, clinic_id: str, user_id: str, body: dict | None) -> dict:
    """UpdatePatient, field by field as the reference's whole-struct $set (patients.md §0.5)."""
    db = services.store.db
    fields = bodies.fields_from_api(bodies.require_body(body))
    existing = store.get(db, clinic_id, user_id)
    clinic = clinics_store.get(db, clinic_id)
    unique = rules.enforce_mrn_settings(services.store, clinic, fields["mrn"], user_id)
    changes: dict = {key: fields[key] for key in bodies.ALWAYS_FIELDS}  # type: ignore[literal-required]
    changes["requireUniqueMrn"] = unique
    for key in bodies.OPTIONAL_FIELDS:
        if _present(fields[key]):  # type: ignore[literal-required]
            changes[key] = fields[key]  # type: ignore[literal-required]
    if fields["reviews"]:
        changes["reviews"] = fields["reviews"]
    if _present(fields["sites"]):
        # Resolved before any account change, so a 422 changes nothing anywhere.
        changes["sites"] = rules.resolve_sites(db, clinic, fields["sites"]) if fields["sites"] else []
    tags = fields["tags"] if _present(fields["tags"]) else None
    rules.check_tags(clinic, tags)
    subscriptions = existing.get("ehrSubscriptions")
    if subscriptions and existing.get("mrn") != fields["mrn"]:
        changes["ehrSubscriptions"] = _deactivated(subscriptions)
    if store.is_custodial(existing):
        services.accounts.update_custodial(user_id, fields["email"] or None)

    def work(session):
        # The MRN checked again inside the transaction; the tags by the counts' update. As in the
        # reference, an update of the demo patient does not touch the clinic's updatedTime.
        rules.enforce_mrn_settings(services.store, clinic, fields["mrn"], user_id, session=session)
        before, after = store.update_counted(db, clinic_id, user_id, changes, expected=existing, session=session)
        rules.account(services, clinic, before, after, session=session, tags=tags,
                      touch=not _is_demo(services, user_id))
        return after

    doc = tx.run(services.store, work)
    effects.emit(services, effects.PatientWritten(existing, doc))
    return doc


# --- removal -------------------------------------------------------------------------------

def get_patient(services: Services, clinic_id: str, user_id: str) -> dict:
    return store.get(services.store.db, clinic_id, user_id)


def remove_patient(services: Services, clinic_id: str, user_id: str, deleted_by: str | None) -> None:
    """Archive, delete and count, together or not at all."""
    db = services.store.db

    def work(session):
        doc = store.remove(db, clinic_id, user_id, deleted_by, session=session)
        patient_counts.record(services, doc["clinicId"], doc, None, session=session)
        return doc

    doc = tx.run(services.store, work)
    effects.emit(services, effects.PatientsRemoved([doc]))


def delete_patients_of_user(services: Services, user_id: str) -> list:
    """The patient side of DELETE /v1/users/{userId}/clinics: every record of the user archived
    and deleted, and each affected clinic's counts, together. The clinic ids."""
    db = services.store.db

    def work(session):
        docs_removed = store.remove_many(db, {"userId": user_id}, session=session)
        patient_counts.record_many(services, [(d, None) for d in docs_removed], session=session)
        return docs_removed

    removed = tx.run(services.store, work)
    clinic_ids = list(dict.fromkeys(d["clinicId"] for d in removed))
    effects.emit(services, effects.PatientsRemoved(removed))
    return clinic_ids


def delete_non_custodial_patients_of_clinic(services: Services, clinic_id, session=None) -> int:
    """A clinic left without clinicians loses its non-custodial patients (archived first)."""
    db = services.store.db
    removed = store.remove_many(db, store.non_custodial_of_clinic(clinic_id), session=session)
    patient_counts.record_many(services, [(d, None) for d in removed], session=session)
    return len(removed)


def update_patients_email(services: Services, user_id: str, email: str | None) -> int:
    """The patient side of POST /v1/users/{userId}/clinics: the e-mail on every record of the
    user, as given (not lower-cased); removed when None. The number of records."""
    db = services.store.db
    before = {d["_id"]: d for d in store.of_user(db, user_id)} if effects.ours(services) else {}
    count = store.set_email_for_user(db, user_id, email)
    effects.emit(services, *(effects.PatientWritten(before.get(doc["_id"]), doc)
                             for doc in (store.of_user(db, user_id) if before else [])))
    return count


# --- sharing -------------------------------------------------------------------------------

def update_permissions(services: Services, clinic_id: str, user_id: str, body: dict | None) -> dict | None:
    """The patient's own grant to the clinic. `custodian` cannot be granted; nothing left means
    the patient leaves the clinic (None is returned)."""
    perms = bodies.granted(body or {}) or {}
    perms.pop("custodian", None)
    if not perms:
        remove_patient(services, clinic_id, user_id, user_id)
        return None
    doc = store.set_permissions(services.store.db, clinic_id, user_id, perms)
    return doc.get("permissions") or {}


def delete_permission(services: Services, clinic_id: str, user_id: str, permission: str) -> None:
    db = services.store.db
    if store.unset_permission(db, clinic_id, user_id, permission) is None:
        raise NotFound("permission not found")
    doc = store.get(db, clinic_id, user_id)
    if not doc.get("permissions"):
        try:
            remove_patient(services, clinic_id, user_id, user_id)
        except NotFound:
            pass
