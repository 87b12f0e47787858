"""Clinics: list, create, read, update, delete, tier, notifications, membership restrictions."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.domain import clinics as clinic_domain
from clinic_api.errors import NotFound, duplicate
from clinic_api.handlers._common import deleted_by, query_time, subject_id
from clinic_api.resources import clinics as clinic_view
from clinic_api.store import clinics


def list_clinics(limit=10, offset=0, shareCode=None, createdTimeStart=None, createdTimeEnd=None, ehrEnabled=None):
    db = context.db()
    docs = clinics.list_page(db, share_code=shareCode, created_start=query_time("createdTimeStart", createdTimeStart),
                             created_end=query_time("createdTimeEnd", createdTimeEnd), ehr_enabled=ehrEnabled,
                             offset=offset, limit=limit)
    return [clinic_view.to_api(d) for d in clinics.annotate(db, docs)], 200


def create_clinic(body=None):
    creator = subject_id()
    doc = clinic_domain.create_clinic(context.services(), creator, body or {})
    # The contract lists application/xml beside JSON for this answer; JSON is what is sent.
    return clinic_view.to_api(doc), 200, {"Content-Type": "application/json"}


def get_clinic(clinicId):
    db = context.db()
    return clinic_view.to_api(clinics.annotate(db, [clinics.get(db, clinicId)])[0]), 200


def get_clinic_by_share_code(shareCode):
    db = context.db()
    found = clinics.find_by_share_code(db, shareCode)
    if not found:
        raise NotFound("not found")
    if len(found) > 1:
        # The reference answers 500 here; the unique share-code index makes it unreachable
        # unless the data were written around it. We say what is wrong instead.
        raise duplicate("multiple matching clinics found")
    return clinic_view.to_api(clinics.annotate(db, found)[0]), 200


def update_clinic(clinicId, body=None):
    db = context.db()
    doc = clinics.update_profile(db, clinicId, clinic_view.fields_from_api(body or {}))
    return clinic_view.to_api(clinics.annotate(db, [doc])[0]), 200


def delete_clinic(clinicId):
    clinic_domain.delete_clinic(context.services(), clinicId, deleted_by())
    return NoContent, 204


def update_tier(clinicId, body=None):
    clinics.set_fields(context.db(), clinicId, {"tier": (body or {}).get("tier", "")})
    return NoContent, 200


def update_suppressed_notifications(clinicId, body=None):
    inner = (body or {}).get("suppressedNotifications") or {}
    value = {}
    if inner.get("patientClinicInvitation") is not None:
        value["patientClinicInvitation"] = bool(inner["patientClinicInvitation"])
    clinics.set_fields(context.db(), clinicId, {"suppressedNotifications": value})
    return NoContent, 200


def _restrictions_to_api(doc: dict) -> dict:
    items = doc.get("membershipRestrictions") or []
    if not items:
        return {}
    out = []
    for item in items:
        entry = {"emailDomain": item.get("emailDomain", "")}
        if item.get("requiredIdp"):
            entry["requiredIdp"] = item["requiredIdp"]
        out.append(entry)
    return {"restrictions": out}


def list_membership_restrictions(clinicId):
    return _restrictions_to_api(clinics.get(context.db(), clinicId)), 200


def update_membership_restrictions(clinicId, body=None):
    items = []
    for item in (body or {}).get("restrictions") or []:
        entry = {}
        if item.get("emailDomain"):
            entry["emailDomain"] = item["emailDomain"]
        if item.get("requiredIdp"):
            entry["requiredIdp"] = item["requiredIdp"]
        items.append(entry)
    doc = clinics.set_fields(context.db(), clinicId, {"membershipRestrictions": items or None})
    return _restrictions_to_api(doc), 200
