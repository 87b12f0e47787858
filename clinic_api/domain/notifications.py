"""The emails of clinics, clinicians and invites: who gets which template with which variables.

clinic_created and clinician_permissions_updated are what Tidepool's clinic-worker sends from
change events (runtime-storage.md §5.7.1); domain/effects.py runs them (CLINIC_EFFECTS=inline).
Invitation emails are the invite service's own and are always sent (we are that service).
Each email carries an event key, so one event never mails twice.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api.errors import NotFound
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store.ids import hex_id

if TYPE_CHECKING:
    from clinic_api.services import Services

UNKNOWN_UPDATER = "Clinic administrator"


def _address(services: Services, user_id: str, fallback: str = "") -> str:
    """The user's username (the reference mails shoreline's username), else a known email."""
    try:
        user = services.users.get_user(user_id)
    except Exception:  # noqa: BLE001 - an unknown user just gets no mail
        user = {}
    return user.get("username") or next(iter(user.get("emails") or []), "") or fallback


def clinic_created(services: Services, clinic: dict) -> None:
    name, admins = clinic.get("name"), clinic.get("admins") or []
    if not name or not admins:
        return
    recipient = _address(services, admins[0])
    services.mail.send("clinic_created", recipient, {"ClinicName": name},
                       event_key=f"clinic_created:{hex_id(clinic['_id'])}")


def clinician_permissions_updated(services: Services, clinician: dict) -> None:
    updates = clinician.get("rolesUpdates") or []
    user_id = clinician.get("userId")
    if not updates or not user_id or clinician.get("clinicId") is None:
        return
    db = services.store.db
    clinic = clinics_store.get(db, clinician["clinicId"])
    updated_by = updates[-1].get("updatedBy") or ""
    try:
        updater_name = clinicians_store.get(db, clinician["clinicId"], updated_by).get("name")
    except NotFound:
        updater_name = None
    recipient = _address(services, user_id, clinician.get("email") or "")
    services.mail.send("clinician_permissions_updated", recipient,
                       {"ClinicName": clinic.get("name") or "", "ClinicianName": updater_name or UNKNOWN_UPDATER},
                       event_key=f"clinician_permissions_updated:{hex_id(clinician['_id'])}:{len(updates)}")


def clinician_invitation(services: Services, confirmation: dict, creator_profile: dict | None) -> bool:
    """The invitation (or its resend) to the invitee's email. MailError when SMTP refuses it."""
    email = confirmation.get("email") or ""
    variables = {
        "ClinicName": (confirmation.get("creator") or {}).get("clinicName") or "",
        "CreatorName": (creator_profile or {}).get("fullName") or "",
        "Email": email,
        "WebPath": "login" if confirmation.get("userId") else "signup/clinician",
        "WebURL": services.settings.web_url.rstrip("/"),
    }
    modified = confirmation.get("modified")
    stamp = int(modified.timestamp() * 1000) if modified is not None else 0
    return services.mail.send("clinician_invitation", email, variables,
                              event_key=f"clinician_invitation:{confirmation['_id']}:{stamp}")
