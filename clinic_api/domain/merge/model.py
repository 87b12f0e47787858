"""The merge plan: what planning decides for every tag, site, clinician and patient of the two
clinics, and what would stop the merge. Plain data; persistence shapes are in `to_bson`."""
from __future__ import annotations

import dataclasses
import datetime as _dt

# Conflict categories between two patients (migrations-merge.md §2.3).
DUPLICATE_ACCOUNTS = "Duplicate Accounts"
LIKELY_DUPLICATES = "Likely Duplicate Accounts"
MRN_ONLY = "MRN Only Match"
NAME_ONLY = "Name Only Match"

# Actions.
TAG_CREATE, TAG_SKIP, TAG_RETAIN = "CREATE", "SKIP", "RETAIN"
SITE_MOVE, SITE_RENAME, SITE_RETAIN = "MOVE", "RENAME", "RETAIN"
MOVE, MERGE, MERGE_INTO, RETAIN = "MOVE", "MERGE", "MERGE_INTO", "RETAIN"

ADMIN_ROLE = "CLINIC_ADMIN"

# The texts of the errors that block a merge (shown in the report).
SETTINGS_MISMATCH = "Settings mismatch"
PENDING_INVITES = "Pending invites in source workspace"
PARTIAL_SSO = ("The partial SSO settings of the target clinic prevent moving source clinicians to target clinic. "
               "All source members which are not already members of the target clinic should be removed from the "
               "source clinic.")
MRN_REQUIRED = "Target workspace requires MRNs"
MRN_TAKEN_IN_TARGET = ("MRN uniqueness error(s) for duplicate accounts. View error(s) on the "
                       "'Duplicates in Merged Workspace' tab")
MRN_TAKEN_IN_SOURCE = ("MRN uniqueness error(s) for duplicate accounts. View error(s) on the "
                       "'Duplicates in Source Clinic' tab")


def _error(message: str | None):
    return {"message": message} if message is not None else None


@dataclasses.dataclass
class SettingsPlan:
    name: str
    source_value: str
    target_value: str

    @property
    def matches(self) -> bool:
        return self.source_value == self.target_value

    def errors(self) -> list[str]:
        return [] if self.matches else [SETTINGS_MISMATCH]


@dataclasses.dataclass
class MembershipPlan:
    """Partial SSO: the source's restrictions must all exist in the target (same IdP)."""
    source: list
    target: list

    @staticmethod
    def serialize(items: list) -> str:
        if not items:
            return "N/A"
        return ", ".join(sorted(f"{r.get('emailDomain') or ''}/{r.get('requiredIdp') or ''}" for r in items))

    @property
    def source_value(self) -> str:
        return self.serialize(self.source)

    @property
    def target_value(self) -> str:
        return self.serialize(self.target)

    @property
    def matches(self) -> bool:
        return self.source_value == self.target_value

    def errors(self) -> list[str]:
        target = {r.get("emailDomain") or "": r.get("requiredIdp") or "" for r in self.target}
        for r in self.source:
            domain = r.get("emailDomain") or ""
            if domain not in target or target[domain] != (r.get("requiredIdp") or ""):
                return [SETTINGS_MISMATCH]
        return []


@dataclasses.dataclass
class TagPlan:
    name: str
    action: str
    workspaces: list
    merge: bool
    source_clinic_id: object
    target_clinic_id: object

    def to_bson(self) -> dict:
        return {"name": self.name, "tagAction": self.action, "workspaces": list(self.workspaces),
                "merge": self.merge, "sourceClinicId": self.source_clinic_id, "targetClinicId": self.target_clinic_id}


@dataclasses.dataclass
class SitePlan:
    site: dict  # {id, name, patients?}; for RENAME the original name
    action: str
    workspace: str
    expected_rename: str
    source_clinic_id: object
    target_clinic_id: object

    @property
    def display_name(self) -> str:
        return self.expected_rename or self.site.get("name") or ""

    def errors(self) -> list[str]:
        if self.action not in (SITE_MOVE, SITE_RENAME, SITE_RETAIN):
            return [f"invalid site action for site: {self.display_name}"]
        return []

    def to_bson(self) -> dict:
        return {"site": dict(self.site), "siteAction": self.action, "workspace": self.workspace,
                "expectedRename": self.expected_rename, "sourceClinicId": self.source_clinic_id,
                "targetClinicId": self.target_clinic_id}


@dataclasses.dataclass
class ClinicianPlan:
    clinician: dict
    action: str
    downgraded: bool
    resulting_roles: list | None
    workspaces: list
    source_clinic_name: str
    target_clinic_name: str
    error: str | None = None

    @property
    def pending_invite(self) -> bool:
        return not self.clinician.get("userId")

    @property
    def is_admin_after(self) -> bool:
        return ADMIN_ROLE in (self.resulting_roles or [])

    def errors(self) -> list[str]:
        out = [self.error] if self.error else []
        if self.action == MOVE and self.pending_invite:
            out.append(PENDING_INVITES)
        return out

    def to_bson(self) -> dict:
        return {"clinician": self.clinician, "clinicianAction": self.action, "downgraded": self.downgraded,
                "resultingRoles": self.resulting_roles, "workspaces": list(self.workspaces),
                "sourceClinicName": self.source_clinic_name, "targetClinicName": self.target_clinic_name,
                "error": _error(self.error)}


@dataclasses.dataclass
class Conflict:
    category: str
    patient: dict


@dataclasses.dataclass
class PatientPlan:
    source_clinic_id: object
    target_clinic_id: object
    source_clinic_name: str
    target_clinic_name: str
    source_patient: dict | None
    target_patient: dict | None
    conflicts: dict | None  # category -> [Conflict]; None for target-side plans
    action: str
    source_tag_names: list | None = None
    target_tag_names: list | None = None
    source_site_names: list | None = None
    renamed_site_names: list | None = None
    target_site_names: list | None = None
    post_migration_tag_names: list | None = None
    post_migration_site_names: list | None = None
    post_migration_mrn_uniqueness: bool = False
    can_execute: bool = True
    error: str | None = None

    @property
    def has_conflicts(self) -> bool:
        return any(self.conflicts.values()) if self.conflicts else False

    @property
    def blocks(self) -> bool:
        return not self.can_execute or bool(self.errors())

    def errors(self) -> list[str]:
        return [self.error] if self.error else []

    def to_bson(self) -> dict:
        """The persisted shape: the source and target patients without their summary."""
        conflicts = None
        if self.conflicts is not None:
            conflicts = {cat: [{"category": c.category, "patient": c.patient} for c in items]
                         for cat, items in self.conflicts.items()}
        return {
            "sourceClinicId": self.source_clinic_id, "targetClinicId": self.target_clinic_id,
            "sourceClinicName": self.source_clinic_name, "targetClinicName": self.target_clinic_name,
            "sourcePatient": _without_summary(self.source_patient),
            "targetPatient": _without_summary(self.target_patient),
            "conflicts": conflicts, "patientAction": self.action,
            "sourceTagNames": self.source_tag_names, "targetTagNames": self.target_tag_names,
            "sourceSiteNames": self.source_site_names, "mergedSiteNames": self.renamed_site_names,
            "targetSiteNames": self.target_site_names, "postMigrationTagNames": self.post_migration_tag_names,
            "postMigrationSiteNames": self.post_migration_site_names,
            "postMigrationMRNUniqueness": self.post_migration_mrn_uniqueness,
            "canExecuteAction": self.can_execute, "error": _error(self.error),
        }


def _without_summary(patient: dict | None) -> dict | None:
    if patient is None:
        return None
    return {k: v for k, v in patient.items() if k != "summary"}


@dataclasses.dataclass
class ClusterMember:
    patient: dict
    conflicts: dict  # category -> [userId of a direct neighbour]


@dataclasses.dataclass
class Cluster:
    members: list  # [ClusterMember]


@dataclasses.dataclass
class MergePlan:
    source: dict
    target: dict
    membership: MembershipPlan
    source_clusters: list
    target_clusters: list
    settings: list
    tags: list
    sites: list
    clinicians: list
    patients: list
    created_time: _dt.datetime

    def errors(self) -> list[str]:
        """Every blocking error, in the reference's order (site plans are not consulted)."""
        out = list(self.membership.errors())
        for group in (self.settings, self.clinicians, self.patients):
            for plan in group:
                out.extend(plan.errors())
        return out

    def distinct_errors(self) -> list[str]:
        return list(dict.fromkeys(self.errors()))

    @property
    def blocked(self) -> bool:
        return bool(self.errors()) or any(p.blocks for p in self.patients)

    def clinic_bson(self) -> dict:
        return {"source": self.source, "target": self.target, "createdTime": self.created_time}
