"""Creating and deleting a clinic: the clinic, its clinicians, its demo patient and the archives
change together or not at all."""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api.domain import effects
from clinic_api.domain import patients as patients_domain
from clinic_api.resources import clinics as clinic_view
from clinic_api.errors import InternalError, NotFound, bad_request, duplicate
from clinic_api.paging import Page
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store import deletions, tx
from clinic_api.store import patients as patients_store
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from clinic_api.services import Services


def create_clinic(services: Services, creator_id: str, body: dict) -> dict:
    users = services.users
    user = users.get_user(creator_id)  # 404 "not found" for an unknown user (tidepool mode)
    profile = users.get_profile(creator_id)
    emails = user.get("emails") or []
    if services.settings.integrations == "tidepool" and not emails:
        raise InternalError("creator has no email")
    fields = clinic_view.fields_from_api(body)
    store = services.store

    def work(session):
        db = store.db
        doc = clinics_store.insert_new(db, fields, creator_id, session=session)
        # The creator's own clinician record: first e-mail as the user service gives it (not
        # lower-cased), name from the profile (null without one).
        admin = clinicians_store.new_record(doc["_id"], user_id=creator_id, roles=["CLINIC_ADMIN"],
                                            email=emails[0] if emails else None, name=profile.get("fullName"))
        clinicians_store.insert(db, admin, session=session)
        demo_id = services.settings.demo_patient_user_id
        if demo_id:
            # The demo patient: a view-only patient record of that user, filled from its profile,
            # counted in the clinic's patient count (no e-mails: it counts as migrated).
            patients_domain.create_patient_from_user(services, doc["_id"], demo_id, {"view": {}},
                                                     session=session, isMigrated=True)
        return doc

    doc = tx.run(store, work)
    effects.emit(services, effects.ClinicCreated(doc))
    return clinics_store.annotate(store.db, [doc])[0]


def delete_clinic(services: Services, clinic_id: str, deleted_by: str | None) -> None:
    """Delete an empty clinic (or one holding only the demo patient) with all its clinicians,
    archiving each deleted document; in the reference's order, all in one transaction:
    400 when patients remain, 404 clinic not found when it does not exist."""
    store = services.store
    demo_id = services.settings.demo_patient_user_id
    oid = object_id(clinic_id)

    def work(session):
        db = store.db
        # As the reference: look at up to two of the clinic's patients.
        found = patients_store.first_of_clinic(db, oid, limit=2, session=session)
        only_demo = len(found) == 1 and bool(demo_id) and found[0].get("userId") == demo_id
        if found and not only_demo:
            raise bad_request("deletion of non-empty clinics is not allowed")
        if only_demo:
            patients_store.remove(db, oid, demo_id, deleted_by, session=session)
        members = clinicians_store.list_for_clinic(db, oid, session=session)
        deletions.archive(db, "clinician", members, deleted_by, session=session)
        if clinicians_store.delete_many_by_ids(db, [m["_id"] for m in members], session=session) != len(members):
            raise InternalError("unable to delete all clinicians")
        current = clinics_store.get(db, oid, session=session)
        archived = clinics_store.annotate(db, [current], session=session)[0]
        deletions.archive(db, "clinic", [clinics_store.archive_view(archived)], deleted_by, session=session)
        clinics_store.delete(db, oid, session=session)

    tx.run(store, work)


# --- reads and single-field writes -----------------------------------------------------------

def list_page(services: Services, *, share_code: str | None, created_start, created_end, ehr_enabled: bool | None,
              page: Page) -> list[dict]:
    db = services.store.db
    docs = clinics_store.list_page(db, share_code=share_code, created_start=created_start, created_end=created_end,
                                   ehr_enabled=ehr_enabled, offset=page.offset, limit=page.limit)
    return clinics_store.annotate(db, docs)


def get(services: Services, clinic_id: str) -> dict:
    """The clinic with its tags' and sites' patient counts (404 clinic not found)."""
    db = services.store.db
    return clinics_store.annotate(db, [clinics_store.get(db, clinic_id)])[0]


def get_by_share_code(services: Services, share_code: str) -> dict:
    db = services.store.db
    found = clinics_store.find_by_share_code(db, share_code)
    if not found:
        raise NotFound("not found")
    if len(found) > 1:
        # The reference answers 500 here; the unique share-code index makes it unreachable
        # unless the data were written around it. We say what is wrong instead.
        raise duplicate("multiple matching clinics found")
    return clinics_store.annotate(db, found)[0]


def update_profile(services: Services, clinic_id: str, fields: dict) -> dict:
    db = services.store.db
    return clinics_store.annotate(db, [clinics_store.update_profile(db, clinic_id, fields)])[0]


def set_field(services: Services, clinic_id: str, name: str, value) -> dict:
    """One settings-like field of the clinic replaced (tier, suppressedNotifications,
    membershipRestrictions); the updated clinic, or 404 clinic not found."""
    return clinics_store.set_fields(services.store.db, clinic_id, {name: value})


def get_raw(services: Services, clinic_id: str) -> dict:
    """The stored clinic (404 clinic not found), without the patient counts."""
    return clinics_store.get(services.store.db, clinic_id)
