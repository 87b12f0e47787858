"""A clinic's settings: EHR integration, MRN rules, patient-count limits. Each is a sub-document
of the clinic, read whole and replaced whole (the bodies are bound by resources/settings.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api.domain.patient_counts import resolved_count_settings
from clinic_api.errors import NotFound
from clinic_api.store import clinics as clinics_store

if TYPE_CHECKING:
    from clinic_api.services import Services


def _get(services: Services, clinic_id: str, field: str) -> dict:
    """The clinic's sub-document; 404 `not found` when the clinic has none (404 clinic not found
    when there is no clinic)."""
    value = clinics_store.get(services.store.db, clinic_id).get(field)
    if value is None:
        raise NotFound("not found")
    return value


def get_ehr(services: Services, clinic_id: str) -> dict:
    return _get(services, clinic_id, "ehrSettings")


def set_ehr(services: Services, clinic_id: str, ehr: dict) -> dict:
    return clinics_store.set_fields(services.store.db, clinic_id, {"ehrSettings": ehr})["ehrSettings"]


def get_mrn(services: Services, clinic_id: str) -> dict:
    return _get(services, clinic_id, "mrnSettings")


def set_mrn(services: Services, clinic_id: str, mrn: dict) -> dict:
    return clinics_store.set_fields(services.store.db, clinic_id, {"mrnSettings": mrn})["mrnSettings"]


def get_count_limits(services: Services, clinic_id: str) -> dict:
    """The limits in force: the stored ones, or the tier's defaults."""
    return resolved_count_settings(clinics_store.get(services.store.db, clinic_id))


def set_count_limits(services: Services, clinic_id: str, limits: dict) -> dict:
    return resolved_count_settings(
        clinics_store.set_fields(services.store.db, clinic_id, {"patientCountSettings": limits}))
