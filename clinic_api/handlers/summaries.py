"""Glucose summaries on patient documents: written per user, removed per summary id."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.domain import summaries
from clinic_api.resources import summaries as summary_bodies

SCHEMA_REF = "#/components/schemas/patientSummary.v1"


def update_patient_summary(patientId, body=None):
    # No body at all (Content-Length 0) removes the summary; `{}` only touches updatedTime.
    # connexion hands both over as {}, so the header tells them apart.
    if context.header("content-length") == "0":
        parts = None
    else:
        parts = summary_bodies.parts_from_api(body or {}, SCHEMA_REF)
    summaries.update(context.services(), patientId, parts)
    return NoContent, 200


def delete_patient_summary(summaryId):
    summaries.delete(context.services(), summaryId)
    return NoContent, 200
