"""A clinic's patient count: read (refreshed when missing or legacy) and recompute."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.domain import patient_counts
from clinic_api.resources import clinics as clinic_view


def get_patient_count(clinicId):
    return clinic_view.patient_count_to_api(patient_counts.of_clinic(context.services(), clinicId)), 200


def refresh_patient_count(clinicId):
    patient_counts.refresh(context.services(), clinicId)
    return NoContent, 200
