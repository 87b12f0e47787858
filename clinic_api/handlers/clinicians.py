"""Clinicians: members of a clinic, pending invite records, service accounts, and a user's clinics."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.domain import memberships
from clinic_api.errors import BODY_MISSING, BadRequest, bad_request
from clinic_api.handlers._common import deleted_by, query_time, subject_id
from clinic_api.paging import Page
from clinic_api.resources import clinicians as clinician_view
from clinic_api.resources import clinics as clinic_view


def _body(body) -> dict:
    """The clinician.v1 body. The reference binds an empty body to an all-empty record (roles
    null); we refuse it as the validator words a missing body."""
    if not body:
        raise BadRequest(BODY_MISSING)
    return body


def list_clinicians(clinicId, search=None, offset=0, limit=10, email=None, role=None):
    docs = memberships.list_clinicians(context.services(), clinicId, search=search, email=email, role=role,
                                       page=Page(offset=offset, limit=limit))
    return [clinician_view.to_api(d) for d in docs], 200


def create_clinician(clinicId, body=None):
    body = _body(body)
    doc = memberships.create_clinician(
        context.services(), clinicId, email=(body.get("email") or "").lower(), roles=body.get("roles"),
        user_id=body.get("id") or None, invite_id=body.get("inviteId") or None, name=body.get("name"))
    return clinician_view.to_api(doc), 200


def get_clinician(clinicId, clinicianId):
    return clinician_view.to_api(memberships.get_clinician(context.services(), clinicId, clinicianId)), 200


def update_clinician(clinicId, clinicianId, body=None):
    body = _body(body)
    services = context.services()
    memberships.migrated_clinic(services.store.db, clinicId)
    doc = memberships.update_clinician(services, clinicId, clinicianId, roles=list(body.get("roles") or []),
                                       name=body.get("name"), updated_by=subject_id())
    return clinician_view.to_api(doc), 200


def delete_clinician(clinicId, clinicianId):
    memberships.delete_clinician(context.services(), clinicId, clinicianId, deleted_by())
    return NoContent, 200


def list_all_clinicians(offset=0, limit=10, createdTimeStart=None, createdTimeEnd=None):
    # Parsed and then ignored, as the reference's repository ignores them.
    query_time("createdTimeStart", createdTimeStart)
    query_time("createdTimeEnd", createdTimeEnd)
    return _relationships(memberships.all_relationships(context.services(), Page(offset=offset, limit=limit))), 200


def list_clinics_for_clinician(userId, offset=0, limit=10):
    pairs = memberships.relationships_of_user(context.services(), userId, Page(offset=offset, limit=limit))
    return _relationships(pairs), 200


def _relationships(pairs) -> list[dict]:
    return [{"clinic": clinic_view.to_api(clinic), "clinician": clinician_view.to_api(record)}
            for clinic, record in pairs]


def add_service_account(clinicId, body=None):
    body = _body(body)
    doc = memberships.add_service_account(context.services(), clinicId, name=body.get("name"),
                                          client_id=body.get("client_id") or "",
                                          client_secret=body.get("client_secret") or "")
    return clinician_view.to_api(doc), 200


def get_invited_clinician(clinicId, inviteId):
    return clinician_view.to_api(memberships.get_invite(context.services(), clinicId, inviteId)), 200


def associate_clinician_to_user(clinicId, inviteId, body=None):
    services = context.services()
    memberships.migrated_clinic(services.store.db, clinicId)
    user_id = (body or {}).get("userId") or ""
    if not user_id:
        raise bad_request("user id is required")
    return clinician_view.to_api(memberships.associate_invite(services, clinicId, inviteId, user_id)), 200


def delete_invited_clinician(clinicId, inviteId):
    memberships.delete_invited(context.services(), clinicId, inviteId)
    return NoContent, 200
