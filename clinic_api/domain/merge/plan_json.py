"""The plan as JSON (GenerateMergeReport with `Accept: application/json`, a debugging aid).
The plan's own keys are the reference's (its Go field names); the clinic, clinician and patient
documents inside are given with their stored field names (ids as hex, times in RFC 3339)."""
from __future__ import annotations

import datetime as _dt

from bson import ObjectId

from clinic_api import wire
from clinic_api.domain.merge.model import MergePlan


def plain(value):
    """A stored value as JSON: ObjectIds as hex strings, dates in RFC 3339."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, _dt.datetime):
        return wire.format_time(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _error(message):
    return {"Message": message} if message else None


def _membership(items: list):
    return [{"EmailDomain": r.get("emailDomain") or "", "RequiredIdp": r.get("requiredIdp") or ""}
            for r in items] or None


def _clusters(clusters: list) -> list:
    return [{"Patients": [{"Patient": plain(m.patient), "Conflicts": m.conflicts} for m in c.members]}
            for c in clusters]


def _patient_plan(p) -> dict:
    conflicts = None
    if p.conflicts is not None:
        conflicts = {cat: [{"Category": c.category, "Patient": plain(c.patient)} for c in items]
                     for cat, items in p.conflicts.items()}
    return {
        "SourceClinicId": plain(p.source_clinic_id), "TargetClinicId": plain(p.target_clinic_id),
        "SourceClinicName": p.source_clinic_name, "TargetClinicName": p.target_clinic_name,
        "SourcePatient": plain(p.source_patient), "TargetPatient": plain(p.target_patient),
        "Conflicts": conflicts, "PatientAction": p.action,
        "SourceTagNames": p.source_tag_names, "TargetTagNames": p.target_tag_names,
        "SourceSiteNames": p.source_site_names, "RenamedSiteNames": p.renamed_site_names,
        "TargetSiteNames": p.target_site_names, "PostMigrationTagNames": p.post_migration_tag_names,
        "PostMigrationSiteNames": p.post_migration_site_names,
        "PostMigrationMRNUniqueness": p.post_migration_mrn_uniqueness, "CanExecuteAction": p.can_execute,
        "Error": _error(p.error),
    }


def to_json(plan: MergePlan) -> dict:
    return {
        "Source": plain(plan.source),
        "Target": plain(plan.target),
        "MembershipRestrictionsMergePlan": {"SourceValue": _membership(plan.membership.source),
                                            "TargetValue": _membership(plan.membership.target)},
        "SourcePatientClusters": _clusters(plan.source_clusters),
        "TargetPatientClusters": _clusters(plan.target_clusters),
        "SettingsPlans": [{"Name": s.name, "SourceValue": s.source_value, "TargetValue": s.target_value}
                          for s in plan.settings],
        "TagsPlans": [{"Name": t.name, "TagAction": t.action, "Workspaces": t.workspaces, "Merge": t.merge,
                       "SourceClinicId": plain(t.source_clinic_id), "TargetClinicId": plain(t.target_clinic_id)}
                      for t in plan.tags],
        "SitesPlans": [{"Site": plain(s.site), "Action": s.action, "SourceWorkspace": s.workspace,
                        "ExpectedRename": s.expected_rename, "SourceClinicId": plain(s.source_clinic_id),
                        "TargetClinicId": plain(s.target_clinic_id)} for s in plan.sites],
        "ClinicianPlans": [{"Clinician": plain(c.clinician), "ClinicianAction": c.action,
                            "Downgraded": c.downgraded, "ResultingRoles": c.resulting_roles,
                            "Workspaces": c.workspaces, "SourceClinicName": c.source_clinic_name,
                            "TargetClinicName": c.target_clinic_name, "Error": _error(c.error)}
                           for c in plan.clinicians],
        "PatientPlans": [_patient_plan(p) for p in plan.patients],
        "CreatedTime": wire.format_time(plan.created_time),
    }
