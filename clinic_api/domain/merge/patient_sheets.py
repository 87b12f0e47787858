"""The patient sheets of the merge report: the patients of each clinic, the duplicate groups
inside each clinic, and the source patients that match target patients."""
from __future__ import annotations

import datetime as _dt

from clinic_api.domain.merge.model import (DUPLICATE_ACCOUNTS, LIKELY_DUPLICATES, MERGE, MRN_ONLY, NAME_ONLY,
                                           MergePlan)
from clinic_api.domain.merge.patient_plans import site_names, tag_names, tags_by_id
from clinic_api.domain.merge.planning import clinic_name
from clinic_api.errors import InternalError
from clinic_api.store import patients as patients_store

SOURCE_PATIENTS = "Patients in Source Clinic"
TARGET_PATIENTS = "Patients in Target Clinic"
SOURCE_DUPLICATES = "Duplicates in Source Clinic"
TARGET_DUPLICATES = "Duplicates in Target Clinic"
MERGED_DUPLICATES = "Duplicates in Merged Workspace"
DETAIL_HEADER = ["Name ---", "Claimed ---", "UUID ---", "DOB ---", "MRN ---", "Tags ---", "Sites ---",
                 "Latest Upload ---"]
CLUSTER_INTRO = [
    "Review Possible Duplicates",
    '- Below we list groups of patients that appear to be duplicate accounts. For each patient in the group, you '
    'can see their connection with the other patients in the "Likely Duplicates", "Name Only Matches" and "MRN '
    'Only Matches" columns.',
    "- If the patient matches another patient in the group on 2 or more of the following -- MRN, DOB or name -- "
    "then we will list that matching patient's ID in the \"Likely Duplicates\" column. If the patient matches "
    "another on name only, or MRN only, we list those IDs in the corresponding columns.",
    "- If evaluating a patient account with an associated ID abc1234def, you will see this URL when you view their "
    "data: https://app.tidepool.org/patients/abc1234def/data. This URL configuration will help you quickly confirm "
    "which patient account you wish to keep, and which you wish to remove.",
    "- Each patient appears only once, so after you resolve each group you don't have to backtrack.",
]
CLUSTER_HEADER = ["", "Name ---", "Claimed? ---", "UUID ---", "DOB ---", "MRN ---", "Tags ---", "Sites ---",
                  "Latest Upload ---", "Likely Duplicates ---", "Name Only Matches ---", "MRN Only Matches ---"]
MERGED_INTRO = [
    "MERGED WORKSPACE PATIENT REVIEW",
    "- We have identified the following patients from the Source Clinic that appear to be duplicates of one or "
    "more patients in the Target Clinic. You can see the original patient in the row next to \"Patient 1,\" and "
    "what we are doing with the patient under the \"Status\" column",
    "- Accounts with the same UUID are exact matches. While all diabetes data is already synced, workspaces may "
    "have different descriptive text for these accounts. All tags will be retained and other fields will defer to "
    "the Target Clinic if they differ.",
    "- Likely duplicates match in at least 2 fields out of Name, DOB, and MRN (blank fields do not count as "
    "matches). All of these accounts will be brought into the resulting workspace and should be manually reviewed "
    "to remove duplicates.",
]
MERGED_HEADER = ["", "Status ---", "Original Workspace ---"] + DETAIL_HEADER
REVIEWS = ((LIKELY_DUPLICATES, "Review likely duplicate(s)"), (NAME_ONLY, "Review duplicate name"),
           (MRN_ONLY, "Review duplicate MRN"))
UPLOAD_FORMAT = "%Y-%m-%d %H:%M:%S"


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def latest_upload(patient: dict) -> str:
    """The later of the CGM and BGM last upload dates (UTC), or "" without one."""
    summary = patient.get("summary") or {}
    latest = None
    for key in ("cgmStats", "bgmStats"):
        value = ((summary.get(key) or {}).get("dates") or {}).get("lastUploadDate")
        if isinstance(value, _dt.datetime):
            value = value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
            if latest is None or value > latest:
                latest = value
    return latest.astimezone(_dt.timezone.utc).strftime(UPLOAD_FORMAT) if latest else ""


def details(patient: dict, tags, sites) -> list:
    """The 8 cells describing a patient."""
    return [_text(patient.get("fullName")), "-" if patients_store.is_custodial(patient) else "Y",
            _text(patient.get("userId")), _text(patient.get("birthDate")), _text(patient.get("mrn")),
            ", ".join(tags or []), ", ".join(sites or []), latest_upload(patient)]


def patients_sheet(plans, side: str) -> list[list]:
    rows: list[list] = [list(DETAIL_HEADER), []]
    for p in plans:
        if side == "source":
            rows.append(details(p.source_patient, p.source_tag_names, p.source_site_names))
        else:
            rows.append(details(p.target_patient, p.target_tag_names, p.target_site_names))
    return rows


def clusters_sheet(clusters: list, clinic: dict) -> list[list]:
    rows: list[list] = [[clinic_name(clinic)]] + [[line] for line in CLUSTER_INTRO] + [[], list(CLUSTER_HEADER)]
    tags = tags_by_id(clinic)
    for k, cluster in enumerate(clusters, 1):
        rows.append([f"Review {k}"])
        for member in cluster.members:
            p = member.patient
            rows.append([""] + details(p, tag_names(p, tags), site_names(p.get("sites"), []))
                        + [", ".join(member.conflicts.get(cat) or [])
                           for cat in (LIKELY_DUPLICATES, NAME_ONLY, MRN_ONLY)])
        rows.append([])
    return rows


def merged_sheet(plan: MergePlan) -> list[list]:
    target_name = clinic_name(plan.target)
    target_tags = tags_by_id(plan.target)
    target_sites = plan.target.get("sites") or []
    rows: list[list] = [[line] for line in MERGED_INTRO] + [[], list(MERGED_HEADER)]
    n = 0
    for p in plan.patients:
        if p.source_patient is None or not p.has_conflicts:
            continue
        n += 1
        status = "(ERROR)" if p.blocks else "(combined)" if p.action == MERGE else "(retained)"
        rows.append([f"Patient {n}", status, clinic_name(plan.source)]
                    + details(p.source_patient, p.source_tag_names, p.renamed_site_names))
        twins = p.conflicts.get(DUPLICATE_ACCOUNTS) or []
        if len(twins) > 1:
            raise InternalError("unexpected number of duplicate accounts")
        if twins:
            twin = twins[0].patient
            rows.append(["", "Exact Match: Results in one claimed account"])
            rows.append(["", "(result)", ""] + details(twin, p.post_migration_tag_names, p.post_migration_site_names))
            rows.append(["", "(combined)", target_name] + details(twin, p.target_tag_names, p.target_site_names))
        for category, title in REVIEWS:
            conflicts = p.conflicts.get(category) or []
            if not conflicts:
                continue
            rows.append(["", title])
            for c in conflicts:
                rows.append(["", "(retained)", target_name]
                            + details(c.patient, tag_names(c.patient, target_tags),
                                      site_names(c.patient.get("sites"), target_sites)))
        rows.append([])
    return rows


def sheets(plan: MergePlan) -> list[tuple[str, list[list]]]:
    source_plans = [p for p in plan.patients if p.source_patient is not None]
    target_plans = [p for p in plan.patients if p.source_patient is None and p.target_patient is not None]
    return [
        (SOURCE_PATIENTS, patients_sheet(source_plans, "source")),
        (TARGET_PATIENTS, patients_sheet(target_plans, "target")),
        (SOURCE_DUPLICATES, clusters_sheet(plan.source_clusters, plan.source)),
        (TARGET_DUPLICATES, clusters_sheet(plan.target_clusters, plan.target)),
        (MERGED_DUPLICATES, merged_sheet(plan)),
    ]
