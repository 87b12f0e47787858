"""The inserted patient document in the reference's field order (patients.md §0.2, §0.4). The
fields come bound from a request body by resources/patients.py; nothing here reads a body."""
from __future__ import annotations

from typing import Any, Mapping

from bson import ObjectId

from clinic_api import wire
from clinic_api.store.ids import object_id

ABSENT = object()  # an optional field that was not sent (distinct from null): not written


def new_document(clinic_id, user_id: str, fields: Mapping[str, Any], *, permissions: dict | None = None,
                 require_unique_mrn: bool = False, invited_by: str | None = None, is_migrated: bool = False,
                 legacy_clinician_ids: list | None = None, now=None) -> dict:
    """The inserted document, fields in the reference's order. `fields` as from_patient_body
    (or the create-from-user equivalent); ABSENT / None optional values are omitted."""
    now = now or wire.now()

    def present(key):
        value = fields.get(key, ABSENT)
        return value is not ABSENT and value is not None

    doc: dict = {"_id": ObjectId(), "clinicId": object_id(clinic_id), "userId": user_id,
                 "birthDate": fields.get("birthDate"), "email": fields.get("email"),
                 "fullName": fields.get("fullName") or "", "mrn": fields.get("mrn"),
                 "targetDevices": fields.get("targetDevices")}
    for key in ("tags", "dataSources"):
        if present(key):
            doc[key] = fields[key]
    if permissions is not None:
        doc["permissions"] = permissions
    if is_migrated:
        doc["isMigrated"] = True
    if legacy_clinician_ids:
        doc["legacyClinicianIds"] = list(legacy_clinician_ids)
    doc["createdTime"] = now
    doc["updatedTime"] = now
    if invited_by:
        doc["invitedBy"] = invited_by
    if fields.get("reviews"):
        doc["reviews"] = fields["reviews"]
    doc["requireUniqueMrn"] = bool(require_unique_mrn)
    for key in ("sites", "glycemicRanges", "diagnosisType"):
        if present(key):
            doc[key] = fields[key]
    return doc
