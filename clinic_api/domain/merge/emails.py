"""The emails Tidepool's clinic-worker sends for a merge, from the `merge_plans` documents
(runtime-storage.md §5.7.1); domain/effects.py runs them after the merge commits when effects are
inline. Each is keyed by its merge_plans document, so none is sent twice."""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api.errors import NotFound
from clinic_api.integrations import mail
from clinic_api.store.ids import hex_id

if TYPE_CHECKING:
    from clinic_api.services import Services

PATIENT = "clinic_merged_patient_notification"
TARGET_ADMIN = "clinic_merged_target_admin_notification"
SOURCE_CLINICIAN = "clinic_merged_source_clinician_notification"

# Our wording; the variables are the ones the Tidepool templates receive.
for _name, _template in {
    PATIENT: mail.Template(
        "{SourceClinicName} is now part of {TargetClinicName}",
        "The clinic {SourceClinicName} has merged into {TargetClinicName}. Your data is now shared with "
        "{TargetClinicName}.\n"),
    TARGET_ADMIN: mail.Template(
        "{SourceClinicName} has merged into {TargetClinicName}",
        "The clinic {SourceClinicName} has merged into your clinic {TargetClinicName}: its patients and "
        "members are now part of {TargetClinicName}.\n"),
    SOURCE_CLINICIAN: mail.Template(
        "{SourceClinicName} is now part of {TargetClinicName}",
        "The clinic {SourceClinicName} has merged into {TargetClinicName}. You are now a member of "
        "{TargetClinicName}.\n"),
}.items():
    mail.TEMPLATES.setdefault(_name, _template)


def clinician_template(plan: dict) -> str | None:
    action = plan.get("clinicianAction")
    if action in ("RETAIN", "MERGE_INTO"):
        return TARGET_ADMIN if "CLINIC_ADMIN" in (plan.get("resultingRoles") or []) else None
    if action in ("MOVE", "MERGE"):
        return SOURCE_CLINICIAN
    return None


def _username(services: Services, user_id: str) -> str:
    try:
        return services.users.get_user(user_id).get("username") or ""
    except NotFound:
        return ""  # the user is gone: nobody to tell


def _send(services: Services, template: str, user_id: str, plan: dict, doc: dict) -> None:
    recipient = _username(services, user_id)
    variables = {"SourceClinicName": plan.get("sourceClinicName") or "",
                 "TargetClinicName": plan.get("targetClinicName") or ""}
    services.mail.send(template, recipient, variables, event_key=f"{template}:{hex_id(doc['_id'])}")


def notify(services: Services, doc: dict) -> None:
    """The email one merge_plans document calls for, if any."""
    plan = doc.get("plan") or {}
    if doc.get("type") == "patient":
        user_id = (plan.get("sourcePatient") or {}).get("userId")
        if user_id:
            _send(services, PATIENT, user_id, plan, doc)
    elif doc.get("type") == "clinician":
        template = clinician_template(plan)
        user_id = (plan.get("clinician") or {}).get("userId")
        if template and user_id:
            _send(services, template, user_id, plan, doc)

