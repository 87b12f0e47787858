"""Worker effects: what Tidepool's clinic-worker does when it sees our writes (runtime-storage.md
§5.7.1) — mail, custodial profile rewrites, releasing accounts, removing a deleted tag from
patients. Domain operations describe what happened as events; this module alone decides whether
the effects are ours (CLINIC_EFFECTS=inline) or left to the worker (external), and runs them.

- `emit(services, *events)`: after the operation's transaction has committed. Failure policy:
  LOGGED. An effect that fails is logged (a warning with the event and the error's type, nothing
  from the documents) and never fails or undoes the request that caused it. Why not retried or
  journaled: the reference's worker runs these after the fact and the caller never learns of
  them; every mail carries an event key (integrations/mail.py's outbox is already the journal,
  with a unique key per event, and a failed SMTP send is recorded `failed` there), the profile
  rewrite is idempotent, so a later write redoes it; an in-request retry would only add latency
  to a request whose result is already committed.
- `within(services, event, session)`: the one deliberate exception, DeletePatientTag (and
  ConvertPatientTagToSite): the reference's worker removes the tag from the clinic's patients,
  and we keep its observable semantics by doing it INSIDE the operation's transaction, so no
  patient ever holds a tag the clinic no longer has; a failure there fails the request.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any, Callable

from clinic_api.domain import notifications, patient_effects
from clinic_api.domain.merge import emails as merge_emails
from clinic_api.store import patients as patients_store

if TYPE_CHECKING:
    from clinic_api.services import Services

log = logging.getLogger("clinic_api.effects")


@dataclasses.dataclass(frozen=True)
class ClinicCreated:
    clinic: dict


@dataclasses.dataclass(frozen=True)
class ClinicianRolesChanged:
    clinician: dict


@dataclasses.dataclass(frozen=True)
class PatientWritten:
    """An insert (before None) or an update of a patient document."""
    before: dict | None
    after: dict


@dataclasses.dataclass(frozen=True)
class PatientsRemoved:
    patients: list


@dataclasses.dataclass(frozen=True)
class UploadReminderRequested:
    patient: dict


@dataclasses.dataclass(frozen=True)
class ProviderConnectionRequested:
    patient: dict
    provider: str


@dataclasses.dataclass(frozen=True)
class MergePlanWritten:
    """One merge_plans document a merge wrote (its email, if it calls for one)."""
    plan: dict


@dataclasses.dataclass(frozen=True)
class PatientTagDeleted:
    clinic_id: Any
    tag_id: str


Event = (ClinicCreated | ClinicianRolesChanged | PatientWritten | PatientsRemoved | UploadReminderRequested
         | ProviderConnectionRequested | MergePlanWritten | PatientTagDeleted)


def ours(services: Services) -> bool:
    """True when this service plays the worker (CLINIC_EFFECTS=inline)."""
    return services.settings.effects == "inline"


_AFTER_COMMIT: dict[type, Callable[[Services, Any], None]] = {
    ClinicCreated: lambda s, e: notifications.clinic_created(s, e.clinic),
    ClinicianRolesChanged: lambda s, e: notifications.clinician_permissions_updated(s, e.clinician),
    PatientWritten: lambda s, e: patient_effects.patient_written(s, e.before, e.after),
    PatientsRemoved: lambda s, e: patient_effects.patients_removed(s, e.patients),
    UploadReminderRequested: lambda s, e: patient_effects.upload_reminder(s, e.patient),
    ProviderConnectionRequested: lambda s, e: patient_effects.connection_requested(s, e.patient, e.provider),
    MergePlanWritten: lambda s, e: merge_emails.notify(s, e.plan),
}


def emit(services: Services, *events: Event) -> None:
    """Run the events' effects now (the caller's transaction has committed), when they are ours."""
    if not ours(services):
        return
    for event in events:
        try:
            _AFTER_COMMIT[type(event)](services, event)
        except Exception as exc:  # noqa: BLE001 - the policy: an effect never fails the committed write
            log.warning("effect of %s failed: %s", type(event).__name__, type(exc).__name__)


def within(services: Services, event: PatientTagDeleted, session) -> None:
    """The tag's removal from the clinic's patients, inside the caller's transaction (see above)."""
    if ours(services):
        patients_store.remove_tag(services.store.db, event.clinic_id, event.tag_id, None, session=session)
