"""Clinicians: members of a clinic, pending invite records, service accounts, and a user's clinics."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.domain import memberships
from clinic_api.errors import BODY_MISSING, BadRequest, bad_request
from clinic_api.handlers._common import deleted_by, query_time, subject_id
from clinic_api.integrations import service_accounts
from clinic_api.resources import clinicians as clinician_view
from clinic_api.store import clinicians


def _body(body) -> dict:
    """The clinician.v1 body. The reference binds an empty body to an all-empty record (roles
    null); we refuse it as the validator words a missing body."""
    if not body:
        raise BadRequest(BODY_MISSING)
    return body


def list_clinicians(clinicId, search=None, offset=0, limit=10, email=None, role=None):
    services = context.services()
    docs = clinicians.list_page(services.store.db, clinicId, search=search, email=email, role=role,
                                offset=offset, limit=limit, text_index=services.store.text_search)
    return [clinician_view.to_api(d) for d in docs], 200


def create_clinician(clinicId, body=None):
    body = _body(body)
    doc = memberships.create_clinician(
        context.services(), clinicId, email=(body.get("email") or "").lower(), roles=body.get("roles"),
        user_id=body.get("id") or None, invite_id=body.get("inviteId") or None, name=body.get("name"))
    return clinician_view.to_api(doc), 200


def get_clinician(clinicId, clinicianId):
    return clinician_view.to_api(clinicians.get(context.db(), clinicId, clinicianId)), 200


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
    db = context.db()
    return memberships.relationships(db, clinicians.list_all(db, offset=offset, limit=limit)), 200


def list_clinics_for_clinician(userId, offset=0, limit=10):
    db = context.db()
    return memberships.relationships(db, clinicians.list_for_user(db, userId, offset=offset, limit=limit)), 200


def add_service_account(clinicId, body=None):
    body = _body(body)
    services = context.services()
    memberships.migrated_clinic(services.store.db, clinicId)
    user_id = service_accounts.subject_for(services.settings.service_token_endpoint,
                                           body.get("client_id") or "", body.get("client_secret") or "")
    doc = memberships.create_clinician(services, clinicId, email=None, roles=["CLINIC_MEMBER"], user_id=user_id,
                                       name=body.get("name"), service_account=True)
    return clinician_view.to_api(doc), 200


def get_invited_clinician(clinicId, inviteId):
    return clinician_view.to_api(clinicians.get_invite(context.db(), clinicId, inviteId)), 200


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
