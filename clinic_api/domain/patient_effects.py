"""What Tidepool's clinic-worker does after patient writes (runtime-storage.md §5.7.1): the
custodial profile rewrite and account-claim mail, upload reminders, provider connection requests,
and releasing a deleted custodial account. Run by domain/effects.py (which decides whether they
are ours and what a failure does), never called by operations directly."""
from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from clinic_api import wire
from clinic_api.store import clinics as clinics_store
from clinic_api.store import patients as patients_store
from clinic_api.store.patients import is_custodial

if TYPE_CHECKING:
    from clinic_api.services import Services

PROFILE_FIELDS = ("fullName", "birthDate", "mrn", "targetDevices", "email", "diagnosisType")
CLAIM_TEMPLATE = "signup_custodial_new_clinic_experience_confirmation"
UPLOAD_REMINDER_TEMPLATE = "patient_upload_reminder"
_MISSING = object()


def _mail(services: Services, template: str, recipient: str, variables: dict, key: str) -> None:
    services.mail.send(template, recipient, variables, event_key=key)


def _clinic_name(services: Services, clinic_id) -> str:
    return clinics_store.name_of(services.store.db, clinic_id)


def _recipient(services: Services, doc: dict) -> str:
    try:
        username = services.users.get_user(doc["userId"]).get("username") or ""
    except Exception:  # noqa: BLE001 - a user the user service no longer knows gets no mail
        username = ""
    return username or doc.get("email") or ""


def patient_written(services: Services, before: dict | None, after: dict | None) -> None:
    """After an insert (before None) or an update of a patient document."""
    if after is None:
        return
    if is_custodial(after) and after.get("userId"):
        _custodial_written(services, before, after)
    if before is not None and before.get("email", _MISSING) != after.get("email", _MISSING):
        # An e-mail change re-sends the newest request of every provider (as the worker does).
        for provider, items in (after.get("providerConnectionRequests") or {}).items():
            if items:
                _connect_mail(services, after, provider, items[0])


def _custodial_written(services: Services, before, after) -> None:
    if before is None:
        changed = {k: after.get(k) for k in PROFILE_FIELDS}
        removed: tuple = ()
    else:
        changed = {k: after.get(k) for k in PROFILE_FIELDS
                   if k in after and before.get(k, _MISSING) != after.get(k)}
        removed = tuple(k for k in PROFILE_FIELDS if k in before and k not in after)
    if changed or removed:
        services.accounts.apply_profile(after["userId"], changed, removed)
    email = after.get("email")
    if email:
        variables = {"ClinicName": _clinic_name(services, after.get("clinicId")), "Email": email,
                     "PatientName": after.get("fullName") or "", "UserId": after["userId"],
                     "ClinicId": str(after.get("clinicId")), "InvitedBy": after.get("invitedBy") or ""}
        # At most one claim invitation per account (hydrophone answers 403 for an existing one).
        _mail(services, CLAIM_TEMPLATE, email, variables, f"signup:{after['userId']}")


def upload_reminder(services: Services, doc: dict) -> None:
    when = doc.get("lastUploadReminderTime")
    _mail(services, UPLOAD_REMINDER_TEMPLATE, _recipient(services, doc), {},
          f"upload_reminder:{doc['clinicId']}:{doc['userId']}:{wire.format_time(when)}")


def connection_requested(services: Services, doc: dict, provider: str) -> None:
    items = (doc.get("providerConnectionRequests") or {}).get(provider) or []
    if items:
        _connect_mail(services, doc, provider, items[0])


def _connect_mail(services: Services, doc: dict, provider: str, request: dict) -> None:
    reconnect = any(ds.get("providerName") == provider and ds.get("state") == "pendingReconnect"
                    for ds in doc.get("dataSources") or [])
    if reconnect:
        template = f"request_{provider}_reconnect"
    elif is_custodial(doc):
        template = f"request_{provider}_connect_custodial"
    else:
        template = f"request_{provider}_connect"
    variables = {"ClinicName": _clinic_name(services, doc.get("clinicId")),
                 # Standalone has no restricted-token service: an opaque id stands in for one.
                 "RestrictedTokenId": secrets.token_hex(16),
                 "PatientName": doc.get("fullName") or "", "ProviderName": provider}
    key = f"connect:{doc['clinicId']}:{doc['userId']}:{provider}:{wire.format_time(request.get('createdTime'))}"
    _mail(services, template, _recipient(services, doc), variables, key)


def patients_removed(services: Services, docs: list[dict]) -> None:
    """Archived custodial patients: their never-claimed accounts are released."""
    for doc in docs:
        if is_custodial(doc) and doc.get("userId"):
            if not patients_store.user_has_records(services.store.db, doc["userId"]):
                services.accounts.release_custodial(doc["userId"])
