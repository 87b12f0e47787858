"""Clinics: list, create, read, update, delete, tier, notifications, membership restrictions."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.domain import clinics as clinic_domain
from clinic_api.handlers._common import deleted_by, query_time, subject_id
from clinic_api.paging import Page
from clinic_api.resources import clinics as clinic_view


def list_clinics(limit=10, offset=0, shareCode=None, createdTimeStart=None, createdTimeEnd=None, ehrEnabled=None):
    docs = clinic_domain.list_page(context.services(), share_code=shareCode,
                                   created_start=query_time("createdTimeStart", createdTimeStart),
                                   created_end=query_time("createdTimeEnd", createdTimeEnd), ehr_enabled=ehrEnabled,
                                   page=Page(offset=offset, limit=limit))
    return [clinic_view.to_api(d) for d in docs], 200


def create_clinic(body=None):
    creator = subject_id()
    doc = clinic_domain.create_clinic(context.services(), creator, body or {})
    # The contract lists application/xml beside JSON for this answer; JSON is what is sent.
    return clinic_view.to_api(doc), 200, {"Content-Type": "application/json"}


def get_clinic(clinicId):
    return clinic_view.to_api(clinic_domain.get(context.services(), clinicId)), 200


def get_clinic_by_share_code(shareCode):
    return clinic_view.to_api(clinic_domain.get_by_share_code(context.services(), shareCode)), 200


def update_clinic(clinicId, body=None):
    doc = clinic_domain.update_profile(context.services(), clinicId, clinic_view.fields_from_api(body or {}))
    return clinic_view.to_api(doc), 200


def delete_clinic(clinicId):
    clinic_domain.delete_clinic(context.services(), clinicId, deleted_by())
    return NoContent, 204


def update_tier(clinicId, body=None):
    clinic_domain.set_field(context.services(), clinicId, "tier", (body or {}).get("tier", ""))
    return NoContent, 200


def update_suppressed_notifications(clinicId, body=None):
    value = clinic_view.suppressed_from_api(body or {})
    clinic_domain.set_field(context.services(), clinicId, "suppressedNotifications", value)
    return NoContent, 200


def list_membership_restrictions(clinicId):
    return clinic_view.restrictions_to_api(clinic_domain.get_raw(context.services(), clinicId)), 200


def update_membership_restrictions(clinicId, body=None):
    items = clinic_view.restrictions_from_api(body or {})
    doc = clinic_domain.set_field(context.services(), clinicId, "membershipRestrictions", items or None)
    return clinic_view.restrictions_to_api(doc), 200
