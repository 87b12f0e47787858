"""What Tidepool's clinic-worker does after patient writes (runtime-storage.md §5.7.1), done here
when CLINIC_EFFECTS=inline: the custodial profile rewrite and account-claim mail, upload
reminders, provider connection requests, and releasing a deleted custodial account.

Effects never fail the request that caused them: an error is logged (as the worker would retry).
"""
from __future__ import annotations

import logging
import secrets

from clinic_api import wire
from clinic_api.integrations import accounts as accounts_mod
from clinic_api.store import clinics as clinics_store
from clinic_api.store.patients import is_custodial

log = logging.getLogger("clinic_api.effects")
PROFILE_FIELDS = ("fullName", "birthDate", "mrn", "targetDevices", "email", "diagnosisType")
CLAIM_TEMPLATE = "signup_custodial_new_clinic_experience_confirmation"
UPLOAD_REMINDER_TEMPLATE = "patient_upload_reminder"
_MISSING = object()


def accounts(services):
    """The custodial-accounts client of these services (built on first use when not wired)."""
    client = getattr(services, "accounts", None)
    if client is None:
        client = services.extra.get("accounts")
        if client is None:
            client = accounts_mod.build(services.settings, services.store, services.session)
            services.extra["accounts"] = client
    return client


def inline(services) -> bool:
    return services.settings.effects == "inline"


def _mail(services, template: str, recipient: str, variables: dict, key: str) -> None:
    mailer = getattr(services, "mail", None)
    if mailer is not None:
        mailer.send(template, recipient, variables, event_key=key)
        return
    # Without the mail client, the message is only recorded in the outbox.
    if recipient:
        services.store.db.outbox.insert_one({"template": template, "recipient": recipient,
                                             "variables": variables, "createdTime": wire.now(), "eventKey": key})


def _guard(fn):
    def run(services, *args, **kwargs):
        if not inline(services):
            return None
        try:
            return fn(services, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - an effect must not undo or fail the write
            log.warning("effect %s failed: %s", fn.__name__, type(exc).__name__)
            return None
    run.__name__ = fn.__name__
    return run


def _clinic_name(services, clinic_id) -> str:
    doc = services.store.db[clinics_store.COLLECTION].find_one({"_id": clinic_id}, {"name": 1}) or {}
    return doc.get("name") or ""


def _recipient(services, doc: dict) -> str:
    try:
        username = services.users.get_user(doc["userId"]).get("username") or ""
    except Exception:  # noqa: BLE001 - a user the user service no longer knows gets no mail
        username = ""
    return username or doc.get("email") or ""


@_guard
def patient_written(services, before: dict | None, after: dict | None) -> None:
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


def _custodial_written(services, before, after) -> None:
    if before is None:
        changed = {k: after.get(k) for k in PROFILE_FIELDS}
        removed: tuple = ()
    else:
        changed = {k: after.get(k) for k in PROFILE_FIELDS
                   if k in after and before.get(k, _MISSING) != after.get(k)}
        removed = tuple(k for k in PROFILE_FIELDS if k in before and k not in after)
    if changed or removed:
        accounts(services).apply_profile(after["userId"], changed, removed)
    email = after.get("email")
    if email:
        variables = {"ClinicName": _clinic_name(services, after.get("clinicId")), "Email": email,
                     "PatientName": after.get("fullName") or "", "UserId": after["userId"],
                     "ClinicId": str(after.get("clinicId")), "InvitedBy": after.get("invitedBy") or ""}
        # At most one claim invitation per account (hydrophone answers 403 for an existing one).
        _mail(services, CLAIM_TEMPLATE, email, variables, f"signup:{after['userId']}")


@_guard
def upload_reminder(services, doc: dict) -> None:
    when = doc.get("lastUploadReminderTime")
    _mail(services, UPLOAD_REMINDER_TEMPLATE, _recipient(services, doc), {},
          f"upload_reminder:{doc['clinicId']}:{doc['userId']}:{wire.format_time(when)}")


@_guard
def connection_requested(services, doc: dict, provider: str) -> None:
    items = (doc.get("providerConnectionRequests") or {}).get(provider) or []
    if items:
        _connect_mail(services, doc, provider, items[0])


def _connect_mail(services, doc: dict, provider: str, request: dict) -> None:
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


@_guard
def patients_removed(services, docs: list[dict]) -> None:
    """Archived custodial patients: their never-claimed accounts are released."""
    for doc in docs:
        if is_custodial(doc) and doc.get("userId"):
            if services.store.db.patients.find_one({"userId": doc["userId"]}, {"_id": 1}) is None:
                accounts(services).release_custodial(doc["userId"])
