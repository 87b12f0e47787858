"""Patient tags of a clinic: create, rename, delete, convert into a site."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.errors import BODY_MISSING, BadRequest
from clinic_api.store import patients as patients_store
from clinic_api.store import sites, tags, tx


def go_kind(value) -> str:
    """How Go's JSON decoder names a value it could not store (`got=` of an Unmarshal type error)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return f"number {value}"
    return {str: "string", dict: "object", list: "array"}.get(type(value), "value")


def check_int_fields(body: dict | None, *fields: str) -> None:
    """Fields the reference binds into Go ints: anything but a JSON integer (or null) is a 400."""
    for field in fields:
        value = (body or {}).get(field)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            continue
        raise BadRequest(f"Unmarshal type error: expected=int, got={go_kind(value)}, field={field}")




def _name(body) -> str:
    # The reference lets an empty body through and stores a nameless tag (which its own response
    # schema rejects and which makes the clinic unmigratable): we answer 400 instead. (connexion
    # hands an empty body over as {}; a real `{}` never gets here, it lacks the required name.)
    if not body:
        raise BadRequest(BODY_MISSING)
    check_int_fields(body, "patients")
    return body.get("name") or ""


def create_patient_tag(clinicId, body=None):
    tag = tags.create(context.db(), clinicId, _name(body))
    return tags.to_api(tag), 200


def update_patient_tag(clinicId, patientTagId, body=None):
    tag = tags.rename(context.db(), clinicId, patientTagId, _name(body))
    return tags.to_api(tag), 200


def delete_patient_tag(clinicId, patientTagId):
    services = context.services()
    db = services.store.db

    def work(session):
        tags.remove(db, clinicId, patientTagId, session=session)
        # What Tidepool's worker does on seeing lastDeletedPatientTag (it calls
        # DeletePatientTagFromClinicPatients), when we play the worker.
        if services.settings.effects == "inline":
            patients_store.remove_tag(db, clinicId, patientTagId, None, session=session)

    tx.run(services.store, work)
    return NoContent, 204


def convert_patient_tag_to_site(clinicId, patientTagId):
    services = context.services()
    db = services.store.db

    def work(session):
        site = sites.create_from_tag(db, clinicId, patientTagId, session=session)
        if services.settings.effects == "inline":
            patients_store.remove_tag(db, clinicId, patientTagId, None, session=session)
        return site

    return sites.to_api(tx.run(services.store, work)), 200
