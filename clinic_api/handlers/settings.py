"""Clinic settings: EHR integration, MRN rules, patient-count limits."""
from __future__ import annotations

from clinic_api import context
from clinic_api.domain import clinic_settings
from clinic_api.errors import BODY_MISSING, BadRequest
from clinic_api.resources import settings as settings_view


# --- EHR ---------------------------------------------------------------------------------------

def get_ehr_settings(clinicId):
    return settings_view.ehr_to_api(clinic_settings.get_ehr(context.services(), clinicId)), 200


def update_ehr_settings(clinicId, body=None):
    if not body:  # connexion hands an empty body over as {}; a written {} fails validation first
        # The reference would store settings without a provider, which its own GET then answers
        # against its schema: we ask for the body instead (documented in our spec).
        raise BadRequest(BODY_MISSING)
    ehr = clinic_settings.set_ehr(context.services(), clinicId, settings_view.ehr_from_api(body))
    return settings_view.ehr_to_api(ehr), 200


# --- MRN -----------------------------------------------------------------------------------------

def get_mrn_settings(clinicId):
    return settings_view.mrn_to_api(clinic_settings.get_mrn(context.services(), clinicId)), 200


def update_mrn_settings(clinicId, body=None):
    mrn = clinic_settings.set_mrn(context.services(), clinicId, settings_view.mrn_from_api(body or {}))
    return settings_view.mrn_to_api(mrn), 200


# --- patient-count limits --------------------------------------------------------------------

def get_patient_count_settings(clinicId):
    return settings_view.limits_to_api(clinic_settings.get_count_limits(context.services(), clinicId)), 200


def update_patient_count_settings(clinicId, body=None):
    limits = clinic_settings.set_count_limits(context.services(), clinicId, settings_view.limits_from_api(body or {}))
    return settings_view.limits_to_api(limits), 200
