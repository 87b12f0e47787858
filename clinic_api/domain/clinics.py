"""Creating and deleting a clinic: the clinic, its clinicians, its demo patient and the archives
change together or not at all."""
from __future__ import annotations

from clinic_api import wire
from clinic_api.errors import InternalError, bad_request
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store import deletions, tx


def create_clinic(services, creator_id: str, body: dict) -> dict:
    users = services.users
    user = users.get_user(creator_id)  # 404 "not found" for an unknown user (tidepool mode)
    profile = users.get_profile(creator_id)
    emails = user.get("emails") or []
    if services.settings.integrations == "tidepool" and not emails:
        raise InternalError("creator has no email")
    fields = clinics_store.fields_from_api(body)
    store = services.store

    def work(session):
        db = store.db
        doc = clinics_store.insert_new(db, fields, creator_id, session=session)
        now = wire.now()
        admin = {"clinicId": doc["_id"], "userId": creator_id, "roles": ["CLINIC_ADMIN"],
                 "name": profile.get("fullName") or None, "createdTime": now, "updatedTime": now}
        if emails:
            admin["email"] = emails[0]
        clinicians_store.insert(db, admin, session=session)
        hook = services.extra.get("on_clinic_created")
        if hook is not None:
            hook(services, doc, session)
        return doc

    doc = tx.run(store, work)
    effects = services.extra.get("after_clinic_created")
    if effects is not None:
        effects(services, doc)
    return clinics_store.annotate(store.db, [doc])[0]


def delete_clinic(services, clinic_id: str, deleted_by: str | None) -> None:
    store = services.store
    demo_id = services.settings.demo_patient_user_id
    clinic = clinics_store.get(store.db, clinic_id)

    def work(session):
        db = store.db
        oid = clinic["_id"]
        patients = list(db.patients.find({"clinicId": oid}, limit=2, session=session))
        if patients and not (len(patients) == 1 and demo_id and patients[0].get("userId") == demo_id):
            raise bad_request("deletion of non-empty clinics is not allowed")
        for patient in patients:
            deletions.archive(db, "patient", [patient], deleted_by, session=session)
            db.patients.delete_one({"_id": patient["_id"]}, session=session)
        members = clinicians_store.list_for_clinic(db, oid, session=session)
        deletions.archive(db, "clinician", members, deleted_by, session=session)
        clinicians_store.delete_many_by_ids(db, [m["_id"] for m in members], session=session)
        current = clinics_store.get(db, oid, session=session)
        archived = clinics_store.annotate(db, [current], session=session)[0]
        deletions.archive(db, "clinic", [archived], deleted_by, session=session)
        clinics_store.delete(db, oid, session=session)

    tx.run(store, work)
