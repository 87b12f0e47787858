"""Patient tags of a clinic: create, rename, delete, convert into a site."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context, godecode
from clinic_api.domain import tags as domain
from clinic_api.errors import BODY_MISSING, BadRequest
from clinic_api.resources import tags as tag_view


def check_int_fields(body: dict | None, *fields: str) -> None:
    """Fields the reference binds into Go ints: anything but a JSON integer (or null) is a 400."""
    for field in fields:
        value = (body or {}).get(field)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            continue
        raise BadRequest(godecode.request_type_error("int", field, godecode.value_kind(value)))


def _name(body) -> str:
    # The reference lets an empty body through and stores a nameless tag (which its own response
    # schema rejects and which makes the clinic unmigratable): we answer 400 instead. (connexion
    # hands an empty body over as {}; a real `{}` never gets here, it lacks the required name.)
    if not body:
        raise BadRequest(BODY_MISSING)
    check_int_fields(body, "patients")
    return body.get("name") or ""


def create_patient_tag(clinicId, body=None):
    tag = domain.create_tag(context.services(), clinicId, _name(body))
    return tag_view.tag_to_api(tag), 200


def update_patient_tag(clinicId, patientTagId, body=None):
    tag = domain.rename_tag(context.services(), clinicId, patientTagId, _name(body))
    return tag_view.tag_to_api(tag), 200


def delete_patient_tag(clinicId, patientTagId):
    domain.delete_tag(context.services(), clinicId, patientTagId)
    return NoContent, 204


def convert_patient_tag_to_site(clinicId, patientTagId):
    return tag_view.site_to_api(domain.convert_tag_to_site(context.services(), clinicId, patientTagId)), 200
