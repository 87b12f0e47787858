"""Merge planning without HTTP: duplicate detection, clusters, every sub-plan and what blocks a
merge (migrations-merge.md §2.3–§2.6; the reference's scenarios §4.2, §4.3, §4.5–§4.8, §4.4 #29)."""
import itertools

import pytest
from bson import ObjectId

from clinic_api.domain.merge import matching, planning
from clinic_api.domain.merge.model import (DUPLICATE_ACCOUNTS, LIKELY_DUPLICATES, MERGE, MERGE_INTO, MOVE,
                                           MRN_ONLY, MRN_REQUIRED, MRN_TAKEN_IN_SOURCE, MRN_TAKEN_IN_TARGET,
                                           NAME_ONLY, PARTIAL_SSO, PENDING_INVITES, RETAIN, SETTINGS_MISMATCH,
                                           MembershipPlan)
from merge_support import T0, population, unique_patient, uid


def clinic(name="Clinic", **fields):
    return {"_id": ObjectId(), "name": name, "PreferredBgUnits": "mg/dL", "timezone": "UTC", **fields}


def clinician(c, user_id, roles, **fields):
    doc = {"_id": ObjectId(), "clinicId": c["_id"], "roles": roles, "createdTime": T0, **fields}
    if user_id:
        doc["userId"] = user_id
    return doc


def build(source, target, source_patients=(), target_patients=(), source_clinicians=(), target_clinicians=()):
    return planning.build(source, target, source_clinicians=list(source_clinicians),
                          target_clinicians=list(target_clinicians), source_patients=list(source_patients),
                          target_patients=list(target_patients), now=T0)


def patient(c, user_id, **fields):
    doc = {"_id": ObjectId(), "clinicId": c["_id"], "userId": user_id}
    doc.update(fields)
    return doc


# --- duplicate detection (§2.3) --------------------------------------------------------------------

@pytest.mark.parametrize("fields,expected", [
    ({"userId": "same"}, DUPLICATE_ACCOUNTS),
    ({"userId": "same", "fullName": "Ann"}, DUPLICATE_ACCOUNTS),
    ({"mrn": "M1"}, MRN_ONLY),
    ({"fullName": "Ann"}, NAME_ONLY),
    ({"birthDate": "2000-01-01"}, None),
    ({"fullName": "Ann", "birthDate": "2000-01-01"}, LIKELY_DUPLICATES),
    ({"fullName": "Ann", "mrn": "M1"}, LIKELY_DUPLICATES),
    ({"birthDate": "2000-01-01", "mrn": "M1"}, LIKELY_DUPLICATES),
    ({"fullName": "Ann", "birthDate": "2000-01-01", "mrn": "M1"}, LIKELY_DUPLICATES),
])
def test_conflict_category_of_a_pair(fields, expected):
    a, b = clinic("A"), clinic("B")
    p = patient(a, "p", fullName="x", birthDate="1990-01-01", mrn="y")
    q = patient(b, "q", fullName="other", birthDate="1980-02-02", mrn="z")
    for key, value in fields.items():
        p[key] = q[key] = value
    found = matching.duplicates(p, matching.Index([q]))
    assert found == ([(q["userId"], expected)] if expected else [])


def test_names_and_mrns_are_compared_lower_cased_and_trimmed_birth_dates_exactly():
    a, b = clinic("A"), clinic("B")
    p = patient(a, "p", fullName="  ANN Lee ", mrn=" ab-1\t", birthDate="2000-01-01")
    assert matching.duplicates(p, matching.Index([patient(b, "q", fullName="ann lee", mrn="AB-1")])) == [
        ("q", LIKELY_DUPLICATES)]
    assert matching.duplicates(p, matching.Index([patient(b, "q", birthDate="2000-1-1", fullName="Ann")])) == []
    assert matching.lower("İSTANBUL") == "istanbul"


def test_blank_values_never_match_and_a_record_is_not_its_own_duplicate():
    a = clinic("A")
    blank = patient(a, "p", fullName="  ", mrn="", birthDate=None)
    other = patient(a, "q", fullName="", mrn=" ", birthDate=None)
    assert matching.duplicates(blank, matching.Index([blank, other])) == []
    same = patient(a, "p", fullName="Ann")
    assert matching.duplicates(same, matching.Index([same])) == []
    # the same user in another clinic is the same account
    assert matching.duplicates(same, matching.Index([patient(clinic("B"), "p")])) == [("p", DUPLICATE_ACCOUNTS)]


# --- clusters (§2.4, scenario §4.2) --------------------------------------------------------------

def test_fifty_seeds_with_nine_duplicates_each_make_fifty_clusters_of_ten():
    c = clinic()
    k = itertools.count(1)
    seeds = [unique_patient(c, uid("s", i), next(k)) for i in range(50)]
    patients = list(seeds)
    for i, seed in enumerate(seeds):
        for j in range(2):
            dup = unique_patient(c, uid(f"l{j}", i), next(k))
            for field in (("fullName", "birthDate"), ("fullName", "mrn"), ("birthDate", "mrn"))[(i + j) % 3]:
                dup[field] = seed[field]
            patients.append(dup)
        patients += [unique_patient(c, uid(f"n{j}", i), next(k), fullName=seed["fullName"]) for j in range(3)]
        patients += [unique_patient(c, uid(f"m{j}", i), next(k), mrn=seed["mrn"]) for j in range(4)]
    assert len(patients) == 500
    clusters = matching.clusters(patients)
    assert len(clusters) == 50
    assert all(len(cl.members) == 10 for cl in clusters)
    assert sum(len(cl.members) for cl in clusters) == len({m.patient["userId"] for cl in clusters for m in cl.members})


def test_clusters_are_transitive_and_list_direct_neighbours_only():
    c = clinic()
    a = patient(c, "a", fullName="Ann", mrn="1")
    b = patient(c, "b", fullName="ann", mrn="2")  # name only with a
    d = patient(c, "d", fullName="Dan", mrn="2")  # MRN only with b
    e = patient(c, "e", fullName="Eve", birthDate="2000-01-01")
    f = patient(c, "f", fullName="Fay", birthDate="2000-01-01")  # DOB only: no edge
    [cluster] = matching.clusters([a, b, d, e, f])
    members = {m.patient["userId"]: m.conflicts for m in cluster.members}
    assert [m.patient["userId"] for m in cluster.members] == ["a", "b", "d"]
    assert members == {"a": {NAME_ONLY: ["b"]}, "b": {NAME_ONLY: ["a"], MRN_ONLY: ["d"]}, "d": {MRN_ONLY: ["b"]}}


# --- patients (scenario §4.3) --------------------------------------------------------------------

@pytest.fixture
def merge_population():
    source, target = clinic("Source"), clinic("Target")
    data = population(source, target)
    return source, target, data


def conflict_counts(plan):
    counts = {}
    for p in plan.patients:
        for items in (p.conflicts or {}).values():
            for c in items:
                counts[c.category] = counts.get(c.category, 0) + 1
    return counts


def test_population_conflict_counts_and_resulting_patients(merge_population):
    source, target, data = merge_population
    plan = build(source, target, data["source"], data["target"])
    assert conflict_counts(plan) == {DUPLICATE_ACCOUNTS: 10, LIKELY_DUPLICATES: 9, MRN_ONLY: 7, NAME_ONLY: 8}
    assert len(data["target"]) == 84
    assert sum(1 for p in plan.patients if p.action != MERGE_INTO) == 50 + 84 - 10
    assert not plan.blocked and plan.errors() == []


def test_population_plans_per_action(merge_population):
    source, target, data = merge_population
    plan = build(source, target, data["source"], data["target"])
    by_action = {}
    for p in plan.patients:
        by_action.setdefault(p.action, []).append(p)
    assert {a: len(ps) for a, ps in by_action.items()} == {MOVE: 40, MERGE: 10, RETAIN: 74, MERGE_INTO: 10}
    for p in by_action[RETAIN] + by_action[MERGE_INTO]:
        assert p.source_patient is None and p.target_patient is not None and p.conflicts is None
    for p in by_action[MERGE]:
        assert p.target_patient["userId"] == p.source_patient["userId"]
        assert p.conflicts[DUPLICATE_ACCOUNTS] and p.source_tag_names and p.target_tag_names
        assert set(p.post_migration_tag_names) >= set(p.source_tag_names) | set(p.target_tag_names)
    for p in by_action[MOVE]:
        assert p.target_patient is None and p.post_migration_tag_names == p.source_tag_names
        assert p.post_migration_site_names == p.renamed_site_names


def test_population_site_names_after_the_rename(merge_population):
    source, target, data = merge_population
    plan = build(source, target, data["source"], data["target"])
    first_twin = next(p for p in plan.patients if p.action == MERGE)
    assert first_twin.source_site_names == ["Shared", "s1"]
    assert first_twin.renamed_site_names == ["Shared (2)", "s1"]
    assert first_twin.target_site_names == ["Shared", "t2"]
    assert first_twin.post_migration_site_names == ["Shared", "Shared (2)", "s1", "t2"]
    second = [p for p in plan.patients if p.action == MERGE][1]
    assert second.source_site_names is None and second.target_site_names is None
    assert second.post_migration_site_names == []


def test_population_with_unique_mrns_in_target_blocks_the_mrn_sharing_moves(merge_population):
    source, target, data = merge_population
    target["mrnSettings"] = {"unique": True}
    plan = build(source, target, data["source"], data["target"])
    assert plan.blocked
    blocked = [p for p in plan.patients if p.blocks]
    assert len(blocked) == 7 + 6  # the MRN-only matches and the likely duplicates sharing the MRN
    assert {p.error for p in blocked} == {MRN_TAKEN_IN_TARGET}
    assert all(p.action == MOVE and not p.can_execute for p in blocked)
    assert all(p.post_migration_mrn_uniqueness for p in plan.patients if p.action == MOVE)
    assert not any(p.error for p in plan.patients if p.action == MERGE)
    # the settings differ as well (MRN Unique), which the report lists once
    assert plan.distinct_errors() == [SETTINGS_MISMATCH, MRN_TAKEN_IN_TARGET]


def test_mrn_required_and_mrn_repeated_in_the_source():
    source, target = clinic("S"), clinic("T", mrnSettings={"required": True, "unique": True})
    plan = build(source, target, [patient(source, "a", mrn=" "), patient(source, "b", mrn="X1"),
                                  patient(source, "c", mrn="x1 "), patient(source, "d", mrn="free")],
                 [patient(target, "t", mrn="other")])
    errors = {p.source_patient["userId"]: (p.error, p.can_execute, p.post_migration_mrn_uniqueness)
              for p in plan.patients if p.source_patient}
    assert errors == {"a": (MRN_REQUIRED, False, False), "b": (MRN_TAKEN_IN_SOURCE, False, True),
                      "c": (MRN_TAKEN_IN_SOURCE, False, True), "d": (None, True, True)}


def test_target_without_mrn_settings_takes_any_mrn():
    source, target = clinic("S"), clinic("T")
    plan = build(source, target, [patient(source, "a"), patient(source, "b", mrn="1"), patient(source, "c", mrn="1")])
    assert not any(p.blocks for p in plan.patients)


def test_large_population_without_duplicates():
    source, target = clinic("S"), clinic("T")
    data = population(source, target, unique=1025, twins=0, likely=0, name_only=0, mrn_only=0)
    plan = build(source, target, data["source"], data["target"])
    assert sum(1 for p in plan.patients if p.action != MERGE_INTO) == 2050
    assert plan.source_clusters == [] and plan.target_clusters == []


# --- clinicians (scenario §4.5) --------------------------------------------------------------------

def clinician_plans(source, target, source_clinicians, target_clinicians=()):
    return build(source, target, source_clinicians=source_clinicians, target_clinicians=target_clinicians).clinicians


def test_source_clinician_not_in_target_moves():
    source, target = clinic("Source"), clinic("Target")
    [p] = clinician_plans(source, target, [clinician(source, "u1", ["CLINIC_MEMBER"])])
    assert (p.action, p.workspaces, p.resulting_roles, p.errors()) == (MOVE, ["Source"], ["CLINIC_MEMBER"], [])


def test_moving_clinicians_into_a_target_with_partial_sso_blocks():
    source = clinic("Source")
    target = clinic("Target", membershipRestrictions=[{"emailDomain": "tidepool.org", "requiredIdp": "tidepool_idp"}])
    [p] = clinician_plans(source, target, [clinician(source, "u1", ["CLINIC_ADMIN"])])
    assert p.action == MOVE and p.errors() == [PARTIAL_SSO]


def test_source_clinician_also_in_target_merges():
    source, target = clinic("Source"), clinic("Target")
    plans = clinician_plans(source, target, [clinician(source, "u1", ["CLINIC_MEMBER"])],
                            [clinician(target, "u1", ["CLINIC_MEMBER"])])
    assert [(p.action, p.workspaces, p.resulting_roles, p.downgraded, p.errors()) for p in plans] == [
        (MERGE, ["Source", "Target"], ["CLINIC_MEMBER"], False, []),
        (MERGE_INTO, ["Source", "Target"], ["CLINIC_MEMBER"], False, [])]


def test_admin_of_source_who_is_a_member_of_target_is_downgraded():
    source, target = clinic("Source"), clinic("Target")
    plans = clinician_plans(source, target, [clinician(source, "u1", ["CLINIC_ADMIN"])],
                            [clinician(target, "u1", ["CLINIC_MEMBER"])])
    assert (plans[0].resulting_roles, plans[0].downgraded) == (["CLINIC_MEMBER"], True)


def test_target_clinicians_are_retained_or_merged_into():
    source, target = clinic("Source"), clinic("Target")
    plans = clinician_plans(source, target, [clinician(source, "u1", ["CLINIC_ADMIN"])],
                            [clinician(target, "u1", ["CLINIC_ADMIN"]), clinician(target, "u2", ["CLINIC_ADMIN"])])
    assert [(p.action, p.workspaces, p.errors()) for p in plans[1:]] == [
        (MERGE_INTO, ["Source", "Target"], []), (RETAIN, ["Target"], [])]
    assert not build(source, target, source_clinicians=[], target_clinicians=[]).blocked


def test_pending_invites_of_the_source_block():
    source, target = clinic("Source"), clinic("Target")
    plans = clinician_plans(source, target, [clinician(source, None, ["CLINIC_MEMBER"], inviteId="inv")],
                            [clinician(target, None, ["CLINIC_MEMBER"], inviteId="inv2")])
    assert [(p.action, p.errors()) for p in plans] == [(MOVE, [PENDING_INVITES]), (RETAIN, [])]


# --- tags (scenario §4.6) -------------------------------------------------------------------------

def test_tag_plans():
    source = clinic("Source", patientTags=[{"_id": ObjectId(), "name": n} for n in ("s1", "s2", "s3", "d1", "d2")])
    target = clinic("Target", patientTags=[{"_id": ObjectId(), "name": n} for n in ("t1", "d1", "d2", "D3")])
    plan = build(source, target)
    assert [(t.name, t.action, t.workspaces, t.merge) for t in plan.tags] == [
        ("s1", "CREATE", ["Source"], False), ("s2", "CREATE", ["Source"], False), ("s3", "CREATE", ["Source"], False),
        ("d1", "SKIP", ["Source", "Target"], False), ("d2", "SKIP", ["Source", "Target"], False),
        ("t1", "RETAIN", ["Target"], False), ("d1", "RETAIN", ["Source", "Target"], True),
        ("d2", "RETAIN", ["Source", "Target"], True), ("D3", "RETAIN", ["Target"], False)]
    assert [(t.source_clinic_id, t.target_clinic_id) for t in plan.tags[5:7]] == [
        (None, target["_id"]), (source["_id"], target["_id"])]
    assert not plan.blocked


# --- sites (scenario §4.7) ------------------------------------------------------------------------

def sites(*names):
    return [{"id": ObjectId(), "name": n} for n in names]


def test_site_plans_move_rename_retain():
    source = clinic("Source", sites=sites("src1", "dup1", "dup2"))
    target = clinic("Target", sites=sites("tgt1", "dup1", "dup2"))
    plan = build(source, target)
    assert [(s.site["name"], s.action, s.display_name, s.workspace) for s in plan.sites] == [
        ("src1", "MOVE", "src1", "Source"), ("dup1", "RENAME", "dup1 (2)", "Source"),
        ("dup2", "RENAME", "dup2 (2)", "Source"), ("tgt1", "RETAIN", "tgt1", "Target"),
        ("dup1", "RETAIN", "dup1", "Target"), ("dup2", "RETAIN", "dup2", "Target")]
    assert not any(s.errors() for s in plan.sites) and not plan.blocked
    assert sum(1 for s in plan.sites if s.action == "RENAME") == 2
    target["sites"] = sites("tgt1", "tgt2", "tgt3", "dup1", "dup2")
    assert len(build(source, target).sites) == 8


def test_site_rename_skips_taken_numbers_and_keeps_an_identical_site():
    taken = sites("dup1", "dup1 (2)", "dup1 (3)", "DUP1 (4)")
    source, target = clinic("S", sites=sites("dup1", "x (7)")), clinic("T", sites=taken + sites("x (7)"))
    plan = build(source, target)
    assert [s.display_name for s in plan.sites[:2]] == ["dup1 (5)", "x (8)"]
    same = taken[0]
    plan = build(clinic("S", sites=[same]), clinic("T", sites=[same]))
    assert (plan.sites[0].action, plan.sites[0].display_name) == ("RENAME", "dup1")


def test_an_invalid_site_action_is_an_error_of_the_site_plan_only():
    source, target = clinic("S", sites=sites("src1")), clinic("T")
    plan = build(source, target)
    assert plan.sites[0].errors() == []
    plan.sites[0].action = ""
    assert plan.sites[0].errors() == ["invalid site action for site: src1"]
    assert not plan.blocked  # site plans are not consulted


# --- settings and membership restrictions (scenario §4.8) ------------------------------------------

@pytest.mark.parametrize("source,target,blocks", [
    ([], [], False),
    ([("test.com", "test_idp"), ("example.com", "example_idp")],
     [("example.com", "example_idp"), ("test.com", "test_idp")], False),
    ([], [("test.com", "test_idp")], False),
    ([("test.com", "test_idp")], [("test.com", "test_idp"), ("example.com", "example_idp")], False),
    ([("a.com", "test_idp")], [("test.com", "test_idp")], True),
    ([("test.com", "other_idp")], [("test.com", "test_idp")], True),
])
def test_membership_restrictions(source, target, blocks):
    m = MembershipPlan(source=[{"emailDomain": d, "requiredIdp": i} for d, i in source],
                       target=[{"emailDomain": d, "requiredIdp": i} for d, i in target])
    assert bool(m.errors()) is blocks


def test_membership_restrictions_serialized_for_the_report():
    m = MembershipPlan(source=[], target=[{"emailDomain": "b.org", "requiredIdp": "x"},
                                          {"emailDomain": "a.org", "requiredIdp": "y"}])
    assert (m.source_value, m.target_value, m.matches, m.errors()) == ("N/A", "a.org/y, b.org/x", False, [])


@pytest.mark.parametrize("field,value", [
    ("mrnSettings", {"required": True}), ("mrnSettings", {"unique": True}), ("PreferredBgUnits", "mmol/L"),
    ("timezone", "US/Eastern"),
])
def test_any_settings_difference_blocks(field, value):
    plan = build(clinic("S"), clinic("T", **{field: value}))
    assert plan.blocked and plan.errors() == [SETTINGS_MISMATCH]
    assert [(s.name, s.matches) for s in plan.settings if not s.matches] == [
        ({"mrnSettings": "MRN Required" if "required" in str(value) else "MRN Unique"}.get(field)
         or {"PreferredBgUnits": "Glucose Units", "timezone": "Timezone"}[field], False)]


def test_settings_values():
    plan = build(clinic("S", mrnSettings={"required": True, "unique": False}, timezone=None),
                 clinic("T", PreferredBgUnits=None))
    assert [(s.name, s.source_value, s.target_value) for s in plan.settings] == [
        ("MRN Required", "Required", "Not Required"), ("MRN Unique", "No", "No"),
        ("Glucose Units", "mg/dL", ""), ("Timezone", "", "UTC")]


def test_clinics_without_a_name_plan_with_empty_names():
    source, target = clinic(None, patientTags=[{"_id": ObjectId(), "name": "t"}]), clinic("T")
    plan = build(source, target, [patient(source, "a")], [], [clinician(source, "u", ["CLINIC_ADMIN"])])
    assert plan.tags[0].workspaces == [""] and plan.patients[0].source_clinic_name == ""
