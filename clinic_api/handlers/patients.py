"""Patients: the clinic's patient list, patient records, sharing and care operations."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.domain import patient_care as care
from clinic_api.domain import patient_list
from clinic_api.domain import patients as domain
from clinic_api.errors import BadRequest, Unauthorized
from clinic_api.handlers._common import deleted_by, query_time, subject_id, user_subject_id
from clinic_api.paging import Page
from clinic_api.resources import clinics as clinic_view
from clinic_api.resources.patients import CREATE_FIELDS
from clinic_api.resources.patients import permissions as permissions_view
from clinic_api.resources.patients import reviews as reviews_view
from clinic_api.resources.patients import to_api

def _no_empty_items(name: str, values):
    if values is not None and any(v == "" for v in values):
        raise BadRequest(f'parameter "{name}" in query has an error: empty value is not allowed')
    return values


def list_params(clinicId, search, offset, limit, sort, sortType, period, lastReviewed, tags, sites,
                omitNonStandardRanges) -> patient_list.ListParams:
    """ListPatients' parameters: the plain ones as connexion hands them over, the dotted ones
    (range filters, last-data windows) read by their names in the contract. Unknown parameters
    are ignored, as by the reference. Errors come in the reference's order: windows, lastReviewed,
    tags, sites (then, in the domain, range filters and the sort)."""
    raw = context.query()
    windows: dict = {}
    for name, (kind, edge) in patient_list.WINDOW_PARAMS.items():
        when = query_time(name, raw.get(name))
        start, end = windows.get(kind, (None, None))
        windows[kind] = (when, end) if edge == "From" else (start, when)
    return patient_list.ListParams(
        clinic_id=clinicId, page=Page(offset=offset, limit=limit), search=search, sort=sort, sort_type=sortType,
        period=period, last_reviewed=query_time("lastReviewed", lastReviewed),
        tags=_no_empty_items("tags", tags), sites=_no_empty_items("sites", sites),
        omit_non_standard_ranges=omitNonStandardRanges,
        filters={name: raw[name] for name in patient_list.FILTER_PARAMS if name in raw}, windows=windows)


def list_patients(clinicId, search=None, offset=0, limit=10, sort=None, sortType=None, period=None,
                  lastReviewed=None, tags=None, sites=None, omitNonStandardRanges=None):
    params = list_params(clinicId, search, offset, limit, sort, sortType, period, lastReviewed, tags, sites,
                         omitNonStandardRanges)
    docs, count, total = patient_list.list_page(context.services(), params)
    return {"data": [to_api(d) for d in docs], "meta": {"count": count, "totalCount": total}}, 200


def create_patient_account(clinicId, body=None):
    caller = subject_id()
    principal = context.principal()
    invited_by = caller if principal.is_user else None
    doc = domain.create_account(context.services(), clinicId, body, invited_by)
    return to_api(doc), 200


def create_patient_from_user(clinicId, patientId, body=None):
    body = body if isinstance(body, dict) else {}
    fields = {k: body[k] for k in CREATE_FIELDS if k in body}  # anything else is ignored (as the reference)
    doc = domain.create_patient_from_user(context.services(), clinicId, patientId, body.get("permissions"), **fields)
    return to_api(doc), 200


def get_patient(clinicId, patientId):
    return to_api(domain.get_patient(context.services(), clinicId, patientId)), 200


def update_patient(clinicId, patientId, body=None):
    return to_api(domain.update_patient(context.services(), clinicId, patientId, body)), 200


def delete_patient(clinicId, patientId):
    domain.remove_patient(context.services(), clinicId, patientId, deleted_by())
    return NoContent, 204


def _relationships(pairs) -> list[dict]:
    return [{"clinic": clinic_view.to_api(clinic), "patient": to_api(doc)} for clinic, doc in pairs]


def find_patients(mrn=None, birthDate=None, workspaceId=None, workspaceIdType=None, offset=0, limit=10):
    principal = context.principal()
    if not principal.user_id or principal.is_server:
        raise Unauthorized("expected authenticated user id")
    pairs = patient_list.find_for_member(context.services(), principal.user_id, mrn=mrn, birth_date=birthDate,
                                         workspace_id=workspaceId, workspace_type=workspaceIdType,
                                         page=Page(offset=offset, limit=limit))
    return _relationships(pairs), 200


def list_clinics_for_patient(userId, offset=0, limit=10):
    pairs = patient_list.clinics_of_patient(context.services(), userId, Page(offset=offset, limit=limit))
    return _relationships(pairs), 200


def update_patient_permissions(clinicId, patientId, body=None):
    granted = domain.update_permissions(context.services(), clinicId, patientId, body)
    if granted is None:
        return NoContent, 204
    return permissions_view(granted), 200


def delete_patient_permission(clinicId, patientId, permission):
    domain.delete_permission(context.services(), clinicId, patientId, permission)
    return NoContent, 204


def update_patient_reviews(clinicId, patientId):
    reviewer = user_subject_id()
    return reviews_view(care.add_review(context.services(), clinicId, patientId, reviewer)), 200


def delete_patient_reviews(clinicId, patientId):
    reviewer = user_subject_id()
    return reviews_view(care.revert_review(context.services(), clinicId, patientId, reviewer)), 200


def send_upload_reminder(clinicId, patientId):
    user_subject_id()
    return to_api(care.send_upload_reminder(context.services(), clinicId, patientId)), 200


def connect_provider(clinicId, patientId, providerId):
    subject_id()
    care.connect_provider(context.services(), clinicId, patientId, providerId)
    return NoContent, 204


def update_patient_data_sources(userId, body=None):
    care.update_data_sources(context.services(), userId, body if isinstance(body, list) else [])
    return NoContent, 200


def _user_ids(body):
    """The target user ids; None (every patient of the clinic) for no body or a JSON null, which
    connexion hands over as {} or None."""
    return body if isinstance(body, list) else None


def assign_patient_tag_to_clinic_patients(clinicId, patientTagId, body=None):
    care.assign_tag(context.services(), clinicId, patientTagId, _user_ids(body))
    return NoContent, 200


def delete_patient_tag_from_clinic_patients(clinicId, patientTagId, body=None):
    care.remove_tag(context.services(), clinicId, patientTagId, _user_ids(body))
    return NoContent, 200
