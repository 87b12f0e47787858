"""Glucose summaries on patient documents: written per user, removed per summary id."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.errors import NoChange
from clinic_api.store import summaries, tx

SCHEMA_REF = "#/components/schemas/patientSummary.v1"


def update_patient_summary(patientId, body=None):
    # No body at all (Content-Length 0) removes the summary; `{}` only touches updatedTime.
    # connexion hands both over as {}, so the header tells them apart.
    if context.header("content-length") == "0":
        parts = None
    else:
        parts = summaries.parts_from_api(body or {}, SCHEMA_REF)
    services = context.services()
    matched = tx.run(services.store, lambda session: summaries.update_all_clinics(
        services.store.db, patientId, parts, session=session))
    if matched == 0:
        raise NoChange("summary no change")
    return NoContent, 200


def delete_patient_summary(summaryId):
    if summaries.delete_by_summary_id(context.db(), summaryId) == 0:
        raise NoChange("no change")
    return NoContent, 200
