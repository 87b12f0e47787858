"""Planning a clinic merge (migrations-merge.md §2.2–§2.6): read both clinics, their clinicians
and patients, and decide every sub-plan. Reads only, outside any transaction."""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api import wire
from clinic_api.domain.merge import matching
from clinic_api.store import merge_reads as queries
from clinic_api.domain.merge.model import (MERGE, MERGE_INTO, MOVE, PARTIAL_SSO, RETAIN, SITE_MOVE, SITE_RENAME,
                                           SITE_RETAIN, TAG_CREATE, TAG_RETAIN, TAG_SKIP, ClinicianPlan, MergePlan,
                                           MembershipPlan, SettingsPlan, SitePlan, TagPlan)
from clinic_api.domain.merge.patient_plans import plan_patients, renamed
from clinic_api.errors import bad_request
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store import sites as sites_store
from clinic_api.store.ids import object_id

if TYPE_CHECKING:
    from clinic_api.services import Services

SAME_CLINIC = "a clinic cannot be merged into itself"


def clinic_name(clinic: dict) -> str:
    return clinic.get("name") or ""


def plan_merge(services: Services, target_id: str, source_id: str) -> MergePlan:
    """The plan for merging `source_id` into `target_id`: 404 clinic not found (the source is
    checked first), 400 when both are the same clinic."""
    db = services.store.db
    if object_id(source_id) == object_id(target_id):
        raise bad_request(SAME_CLINIC)
    source = clinics_store.get(db, source_id)
    target = clinics_store.get(db, target_id)
    source, target = clinics_store.annotate(db, [source, target])
    demo_id = services.settings.demo_patient_user_id or ""
    return build(source, target,
                 source_clinicians=queries.clinicians_of(db, source["_id"]),
                 target_clinicians=queries.clinicians_of(db, target["_id"]),
                 source_patients=queries.patients_of(db, source["_id"], demo_id),
                 target_patients=queries.patients_of(db, target["_id"], demo_id),
                 now=wire.now())


def build(source: dict, target: dict, *, source_clinicians: list, target_clinicians: list,
          source_patients: list, target_patients: list, now) -> MergePlan:
    """Every sub-plan from the loaded documents (no database access)."""
    names = (clinic_name(source), clinic_name(target))
    return MergePlan(
        source=source, target=target,
        membership=MembershipPlan(source=list(source.get("membershipRestrictions") or []),
                                  target=list(target.get("membershipRestrictions") or [])),
        source_clusters=matching.clusters(source_patients),
        target_clusters=matching.clusters(target_patients),
        settings=plan_settings(source, target),
        tags=plan_tags(source, target, names),
        sites=plan_sites(source, target, names),
        clinicians=plan_clinicians(source, target, source_clinicians, target_clinicians, names),
        patients=plan_patients(source, target, source_patients, target_patients, names),
        created_time=now,
    )


# --- settings ---------------------------------------------------------------------------------

def _mrn_required(clinic: dict) -> str:
    return "Required" if (clinic.get("mrnSettings") or {}).get("required") else "Not Required"


def _mrn_unique(clinic: dict) -> str:
    return "Yes" if (clinic.get("mrnSettings") or {}).get("unique") else "No"


SETTINGS = (
    ("MRN Required", _mrn_required),
    ("MRN Unique", _mrn_unique),
    ("Glucose Units", lambda c: c.get("PreferredBgUnits") or ""),
    ("Timezone", lambda c: c.get("timezone") or ""),
)


def plan_settings(source: dict, target: dict) -> list[SettingsPlan]:
    return [SettingsPlan(name, value(source), value(target)) for name, value in SETTINGS]


# --- tags and sites ---------------------------------------------------------------------------

def plan_tags(source: dict, target: dict, names: tuple[str, str]) -> list[TagPlan]:
    """CREATE each source tag in the target, or SKIP it when the target has the very same name;
    RETAIN each target tag (`merge` when the source has that name too)."""
    source_name, target_name = names
    source_tags = [t.get("name") or "" for t in source.get("patientTags") or []]
    target_tags = [t.get("name") or "" for t in target.get("patientTags") or []]
    plans = []
    for name in source_tags:
        shared = name in target_tags
        plans.append(TagPlan(name=name, action=TAG_SKIP if shared else TAG_CREATE,
                             workspaces=sorted([source_name, target_name]) if shared else [source_name],
                             merge=False, source_clinic_id=source["_id"], target_clinic_id=target["_id"]))
    for name in target_tags:
        shared = name in source_tags
        plans.append(TagPlan(name=name, action=TAG_RETAIN,
                             workspaces=sorted([target_name, source_name]) if shared else [target_name],
                             merge=shared, source_clinic_id=source["_id"] if shared else None,
                             target_clinic_id=target["_id"]))
    return plans


def plan_sites(source: dict, target: dict, names: tuple[str, str]) -> list[SitePlan]:
    """MOVE each source site, or RENAME it when a target site has the very same name; RETAIN
    each target site."""
    source_name, target_name = names
    target_sites = target.get("sites") or []
    plans = []
    for site in source.get("sites") or []:
        element = sites_store.element(site)
        clash = any((t.get("name") or "") == element["name"] for t in target_sites)
        plans.append(SitePlan(site=element, action=SITE_RENAME if clash else SITE_MOVE, workspace=source_name,
                              expected_rename=renamed(element, target_sites) if clash else "",
                              source_clinic_id=source["_id"], target_clinic_id=target["_id"]))
    for site in target_sites:
        plans.append(SitePlan(site=sites_store.element(site), action=SITE_RETAIN, workspace=target_name,
                              expected_rename="", source_clinic_id=None, target_clinic_id=target["_id"]))
    return plans


# --- clinicians -------------------------------------------------------------------------------

def plan_clinicians(source: dict, target: dict, source_clinicians: list, target_clinicians: list,
                    names: tuple[str, str]) -> list[ClinicianPlan]:
    source_name, target_name = names
    in_target = {c["userId"]: c for c in target_clinicians if c.get("userId") is not None}
    in_source = {c["userId"] for c in source_clinicians if c.get("userId") is not None}
    restricted = bool(target.get("membershipRestrictions"))
    plans = []
    for clinician in source_clinicians:
        plan = ClinicianPlan(clinician=clinician, action=MOVE, downgraded=False,
                             resulting_roles=clinician.get("roles"), workspaces=[source_name],
                             source_clinic_name=source_name, target_clinic_name=target_name)
        twin = in_target.get(clinician.get("userId")) if clinician.get("userId") is not None else None
        if twin is not None:
            plan.action = MERGE
            plan.workspaces = sorted([source_name, target_name])
            if clinicians_store.is_admin(clinician) and not clinicians_store.is_admin(twin):
                plan.downgraded = True
                plan.resulting_roles = twin.get("roles")
        if plan.action == MOVE and restricted:
            plan.error = PARTIAL_SSO
        plans.append(plan)
    for clinician in target_clinicians:
        shared = clinician.get("userId") is not None and clinician["userId"] in in_source
        plans.append(ClinicianPlan(clinician=clinician, action=MERGE_INTO if shared else RETAIN, downgraded=False,
                                   resulting_roles=clinician.get("roles"),
                                   workspaces=sorted([target_name, source_name]) if shared else [target_name],
                                   source_clinic_name=source_name, target_clinic_name=target_name))
    return plans
