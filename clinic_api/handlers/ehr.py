"""Redox: endpoint verification, incoming messages, order matching; EHR re-sync (auth note §4.1).

`POST /v1/redox` and `POST /v1/redox/verify` are not token-authenticated nor validated against
the contract: they check their caller themselves (the `verification-token` header, or body
field) before reading the body, which they decode as the reference does.
"""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.domain import gojson, redox
from clinic_api.self_verified import raw_body
from clinic_api.resources import patients as patient_resource
from clinic_api.resources import clinics as clinic_view
from clinic_api.resources import settings as settings_view


def verify_endpoint():
    body = gojson.bind(raw_body(), context.header("content-type"))
    return redox.verify_endpoint(context.services().settings, body), 200


def process_ehr_message():
    services = context.services()
    redox.authorize(services.settings, context.header("verification-token"))
    redox.process_message(services, raw_body())
    return NoContent, 200


def match_clinic_and_patient(body=None):
    clinic, patients = redox.match_order(context.services(), body or {})
    response: dict = {"clinic": clinic_view.to_api(clinic)}
    if patients:
        response["patients"] = [patient_resource.to_api(p) for p in patients]
    response["settings"] = settings_view.ehr_to_api(clinic.get("ehrSettings") or {})
    return response, 200


def sync_ehr_data(clinicId):
    redox.sync_clinic(context.services(), clinicId)
    return NoContent, 202


def sync_ehr_data_for_patient(patientId):
    redox.sync_patient(context.services(), patientId)
    return NoContent, 202
