"""Patient sub-plans (migrations-merge.md §2.5 "Patients"): one per source patient, then one per
target patient. A source patient with the same user in the target is MERGEd into that record,
every other source patient MOVEs; the target side RETAINs or is MERGEd INTO."""
from __future__ import annotations

from clinic_api.domain.merge import matching
from clinic_api.domain.merge.model import (DUPLICATE_ACCOUNTS, MERGE, MERGE_INTO, MOVE, MRN_REQUIRED,
                                           MRN_TAKEN_IN_SOURCE, MRN_TAKEN_IN_TARGET, RETAIN, Conflict, PatientPlan)
from clinic_api.store import sites as sites_store


def renamed(site: dict, target_sites: list) -> str:
    """The name a site gets in the target: kept when the target has this very site (same id
    and name), else the first of `name`, `name (2)`, … that no target site has (any case)."""
    name = site.get("name") or ""
    if any(t.get("id") == site.get("id") and (t.get("name") or "") == name for t in target_sites):
        return name
    return sites_store.free_name({"sites": target_sites}, name)


def site_names(sites, target_sites: list) -> list | None:
    """The sorted names of a patient's sites after renaming against `target_sites` (None when
    the patient has no `sites` at all)."""
    if sites is None:
        return None
    return sorted(renamed(s, target_sites) for s in sites)


def tag_names(patient: dict, tags_by_id: dict) -> list | None:
    """The distinct names of the patient's tags that the clinic has (None without tags)."""
    ids = patient.get("tags")
    if not ids:
        return None
    names: dict[str, None] = {}
    for tag_id in ids:
        tag = tags_by_id.get(tag_id)
        if tag is not None:
            names.setdefault(tag.get("name") or "", None)
    return list(names)


def tags_by_id(clinic: dict) -> dict:
    return {t.get("_id"): t for t in clinic.get("patientTags") or []}


def _union(*lists) -> list:
    out: dict[str, None] = {}
    for names in lists:
        for name in names or []:
            out.setdefault(name, None)
    return list(out)


def plan_patients(source: dict, target: dict, source_patients: list, target_patients: list,
                  source_names: tuple[str, str]) -> list[PatientPlan]:
    source_name, target_name = source_names
    source_index, target_index = matching.Index(source_patients), matching.Index(target_patients)
    source_tags, target_tags = tags_by_id(source), tags_by_id(target)
    target_sites = target.get("sites") or []
    mrn_settings = target.get("mrnSettings")
    merged_into: set[str] = set()
    plans = []

    for patient in source_patients:
        names = tag_names(patient, source_tags)
        conflicts: dict = {}
        plan = PatientPlan(
            source_clinic_id=source["_id"], target_clinic_id=target["_id"], source_clinic_name=source_name,
            target_clinic_name=target_name, source_patient=patient, target_patient=None, conflicts=conflicts,
            action=MOVE, source_tag_names=names, source_site_names=site_names(patient.get("sites"), []),
            renamed_site_names=site_names(patient.get("sites"), target_sites),
            post_migration_tag_names=names, post_migration_site_names=site_names(patient.get("sites"), target_sites))
        for uid, cat in matching.duplicates(patient, target_index):
            twin = target_index.by_user_id(uid)
            assert twin is not None  # duplicates() yields the index's own patients
            if cat == DUPLICATE_ACCOUNTS:
                merged_into.add(uid)
                plan.action = MERGE
                plan.target_patient = twin
                plan.target_tag_names = tag_names(twin, target_tags)
                plan.target_site_names = site_names(twin.get("sites"), target_sites)
                plan.post_migration_tag_names = _union(plan.source_tag_names, plan.target_tag_names)
                combined = list(patient.get("sites") or []) + list(twin.get("sites") or [])
                plan.post_migration_site_names = site_names(combined, target_sites)
            conflicts.setdefault(cat, []).append(Conflict(category=cat, patient=twin))
        if plan.action == MOVE and mrn_settings is not None:
            _check_mrn(plan, patient, mrn_settings, source_index, target_index)
        plans.append(plan)

    for patient in target_patients:
        plans.append(PatientPlan(
            source_clinic_id=source["_id"], target_clinic_id=target["_id"], source_clinic_name=source_name,
            target_clinic_name=target_name, source_patient=None, target_patient=patient, conflicts=None,
            action=MERGE_INTO if matching.user_id(patient) in merged_into else RETAIN,
            target_tag_names=tag_names(patient, target_tags),
            target_site_names=site_names(patient.get("sites"), target_sites)))
    return plans


def _check_mrn(plan: PatientPlan, patient: dict, settings: dict, source_index, target_index) -> None:
    """A moved patient must satisfy the target's MRN settings."""
    mrn = matching.normalized_mrn(patient)
    if not mrn:
        if settings.get("required"):
            plan.can_execute, plan.error = False, MRN_REQUIRED
        return
    if not settings.get("unique"):
        return
    plan.post_migration_mrn_uniqueness = True
    if target_index.with_mrn(mrn):
        plan.can_execute, plan.error = False, MRN_TAKEN_IN_TARGET
    if len(source_index.with_mrn(mrn)) > 1:
        plan.can_execute, plan.error = False, MRN_TAKEN_IN_SOURCE
