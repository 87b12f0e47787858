"""Clinic merge: the report of what a merge would do, and the merge itself (server only)."""
from __future__ import annotations

from connexion import NoContent
from connexion.lifecycle import ConnexionResponse

from clinic_api import context, wire
from clinic_api.domain.merge import execution, plan_json, planning, report
from clinic_api.errors import BODY_MISSING, BadRequest



def _source_id(body) -> str:
    """The body's sourceId, which the published schema cannot require (it is read-only): an
    absent body (connexion hands it over as {}) or sourceId is the validator's missing body."""
    source_id = (body or {}).get("sourceId")
    if not source_id:
        raise BadRequest(BODY_MISSING)
    return source_id


def generate_merge_report(clinicId, body=None):
    source_id = _source_id(body)
    plan = planning.plan_merge(context.services(), clinicId, source_id)
    if context.header("Accept") == "application/json":
        return ConnexionResponse(status_code=200, body=wire.dumps(plan_json.to_json(plan)),
                                 mimetype="application/json", content_type="application/json")
    return ConnexionResponse(status_code=200, body=report.workbook_bytes(plan), content_type=report.MEDIA_TYPE,
                             mimetype=report.MEDIA_TYPE,
                             headers={"Content-Disposition": f"attachment; filename={report.filename(plan)}"})


def merge_clinic(clinicId, body=None):
    source_id = _source_id(body)
    services = context.services()
    execution.execute(services, planning.plan_merge(services, clinicId, source_id))
    return NoContent, 200
