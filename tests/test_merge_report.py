"""GenerateMergeReport: the XLSX workbook (sheets, cells, cell types), the JSON plan, errors,
who may ask, and that nothing is written (migrations-merge.md §2.7; scenario §4.9)."""
import datetime as dt
import re

import pytest
from bson import ObjectId

from merge_support import (SOURCE_ADMIN, TARGET_ADMIN, T1, add_sites, add_tags, body, pair, read_workbook, report_url,
                           seed_clinic, seed_clinician, seed_patient, snapshot)
from support.access import expect_access

SHEETS = ["Summary", "Patients in Source Clinic", "Patients in Target Clinic", "Duplicates in Source Clinic",
          "Duplicates in Target Clinic", "Duplicates in Merged Workspace"]
DETAIL_HEADER = ["Name ---", "Claimed ---", "UUID ---", "DOB ---", "MRN ---", "Tags ---", "Sites ---",
                 "Latest Upload ---"]


def report(server, source, target, **kw):
    resp = server.post(report_url(target), json=body(source), **kw)
    assert resp.status_code == 200, resp.text
    return resp


def workbook(server, source, target):
    return read_workbook(report(server, source, target).content)


def rows_after(rows, prefix):
    """The rows following the first row whose column A starts with `prefix`, up to an empty row."""
    start = next(i for i, r in enumerate(rows) if r and isinstance(r[0], str) and r[0].startswith(prefix))
    out = []
    for r in rows[start + 1:]:
        if not r or r[0] in (None, ""):
            break
        out.append(r)
    return rows[start], out


# --- the workbook ------------------------------------------------------------------------------------

def test_report_is_an_xlsx_attachment_and_writes_nothing(db, server):
    source, target = pair(db)
    before = snapshot(db)
    resp = report(server, source, target)
    assert resp.headers["content-type"] == "application/vnd.ms-excel"
    assert re.fullmatch(r"attachment; filename=merge-report-\d+\.xlsx", resp.headers["content-disposition"])
    assert resp.content[:2] == b"PK"
    assert list(read_workbook(resp.content)) == SHEETS
    assert snapshot(db) == before


def test_summary_of_a_mergeable_plan(db, server):
    source, target = pair(db)
    add_tags(db, source, "only-source", "both")
    add_tags(db, target, "both", "only-target")
    add_sites(db, source, "North", "Hub")
    add_sites(db, target, "hub")
    seed_clinician(db, source, "m1", ["CLINIC_MEMBER"], name="Mia Member", email="mia@example.com")
    seed_clinician(db, source, "d1", ["CLINIC_ADMIN"], name="Dan Down", email="dan@example.com")
    seed_clinician(db, target, "d1", ["CLINIC_MEMBER"], name="Dan Down", email="dan@example.com")
    seed_patient(db, source, "0000000001")
    seed_patient(db, source, "0000000002")
    seed_patient(db, target, "0000000002")
    rows = workbook(server, source, target)["Summary"]
    assert rows[:8] == [["SUMMARY"], [], ["Report Generated", rows[2][1]], [],
                        ["Merging from Workspace 1 (Source)", "Source Clinic"],
                        ["Merging to Workspace 2 (Target)", "Target Clinic"], ["Can execute merge plan?", "Yes"], []]
    assert re.fullmatch(r"[A-Z][a-z]+ [ 1-3]\d \d{4} \d\d:\d\d:\d\d UTC", rows[2][1])
    assert rows[8:16] == [
        ["Settings ---", "Do they match? ---", "Source Clinic ---", "Target Clinic ---"],
        ["Partial SSO*", "Yes", "N/A", "N/A"],
        ["MRN Required", "Yes", "Not Required", "Not Required"],
        ["MRN Unique", "Yes", "No", "No"],
        ["Glucose Units", "Yes", "mg/dL", "mg/dL"],
        ["Timezone", "Yes", "US/Pacific", "US/Pacific"],
        ["*If the target clinic has partial SSO and the source clinic does not, the clinic users in the source "
         "clinic should be manually invited to the target clinic before the merge. This way their SSO configuration "
         "will be correct."], []]
    _, measures = rows_after(rows, "Measures ---")
    assert measures == [["Resulting Members & Admins", 4], ["- Members downgraded from Admin", 1],
                        ["Resulting Tags", 3], ["- Duplicate tags that will be merged", 1], ["Resulting Sites", 3],
                        ["- Duplicate sites that will be renamed", 0], ["Resulting Patient Accounts", 2],
                        ["- Duplicate Accounts", 1], ["- Likely Duplicate Accounts", 0], ["- Duplicate MRN Only", 0],
                        ["- Duplicate Name Only", 0]]
    header, admins = rows_after(rows, "Resulting Admins")
    assert header == ["Resulting Admins (2)", "Workspace ---", "Email ---"]
    assert admins == [["Sam Source", "Source Clinic", f"{SOURCE_ADMIN}@example.com"],
                      ["Tia Target", "Target Clinic", f"{TARGET_ADMIN}@example.com"]]
    header, members = rows_after(rows, "Resulting Members (")
    assert header[0] == "Resulting Members (2)" and header[3].startswith("Downgrade (Only if")
    assert members == [["Mia Member", "Source Clinic", "mia@example.com"],
                       ["Dan Down", "Source Clinic, Target Clinic", "dan@example.com", "Yes"]]
    assert rows_after(rows, "Pending Invites") == (["Pending Invites (0)", "Workspace ---"], [])
    assert rows_after(rows, "Resulting Tags (") == (
        ["Resulting Tags (3) ---", "Workspace ---", "Merge ---"],
        [["only-source", "Source Clinic"], ["both", "Source Clinic, Target Clinic", "Yes"],
         ["only-target", "Target Clinic"]])
    # "Hub" differs from "hub" only in case: planned as a move, as the reference does
    assert rows_after(rows, "Resulting Sites (") == (
        ["Resulting Sites (3) ---", "Workspace ---", "Action ---"],
        [["Hub", "Source Clinic", "Create"], ["hub", "Target Clinic", "Retain"], ["North", "Source Clinic", "Create"]])


def test_summary_of_a_blocked_plan_lists_each_error_once(db, server):
    source, target = pair(db, timezone=None)
    db.clinics.update_one({"_id": target["_id"]}, {"$set": {"timezone": "UTC", "PreferredBgUnits": "mmol/L",
                                                          "membershipRestrictions": [
                                                              {"emailDomain": "b.org", "requiredIdp": "idp"},
                                                              {"emailDomain": "a.org", "requiredIdp": "idp"}]}})
    seed_clinician(db, source, None, ["CLINIC_MEMBER"], invite_id="inv1")
    seed_clinician(db, source, None, ["CLINIC_MEMBER"], invite_id="inv2")
    seed_clinician(db, target, None, ["CLINIC_MEMBER"], invite_id="inv3")
    rows = workbook(server, source, target)["Summary"]
    assert rows[6] == ["Can execute merge plan?", "No", "No. Settings mismatch; " + (
        "The partial SSO settings of the target clinic prevent moving source clinicians to target clinic. All "
        "source members which are not already members of the target clinic should be removed from the source "
        "clinic.") + "; Pending invites in source workspace"]
    assert rows[9] == ["Partial SSO*", "No", "N/A", "a.org/idp, b.org/idp"]
    assert rows[12:14] == [["Glucose Units", "No", "mg/dL", "mmol/L"], ["Timezone", "No", None, "UTC"]]
    assert rows_after(rows, "Pending Invites") == (
        ["Pending Invites (3)", "Workspace ---"], [[2, "Source Clinic"], [1, "Target Clinic"]])


def test_report_sites_patients_and_upload_dates(db, server):
    """The reference's report scenario (§4.9)."""
    source, target = pair(db)
    add_sites(db, source, "Chicago", "New York")
    add_sites(db, target, "Chicago", "San Diego")
    at = dt.datetime(2025, 3, 5, 14, 3, 7, 250000, tzinfo=dt.timezone.utc)
    some_site = lambda name: [{"id": ObjectId(), "name": name}]  # noqa: E731
    seed_patient(db, source, "0000000001", sites=some_site("Some Source Site"),
                 summary={"cgmStats": {"dates": {"lastUploadDate": at}}})
    seed_patient(db, target, "0000000002", sites=some_site("Some Target Site"),
                 summary={"cgmStats": {"dates": {"lastUploadDate": at}}})
    book = workbook(server, source, target)
    assert book["Patients in Source Clinic"][2][7] == "2025-03-05 14:03:07"
    header, sites = rows_after(book["Summary"], "Resulting Sites (")
    assert [s[0] for s in sites] == ["Chicago", "Chicago (2)", "New York", "San Diego"]
    assert [s[2] for s in sites] == ["Retain", "Rename", "Create", "Retain"]
    assert [s[1] for s in sites] == ["Target Clinic", "Source Clinic", "Source Clinic", "Target Clinic"]
    assert book["Patients in Source Clinic"][2][6] == "Some Source Site"
    assert book["Patients in Target Clinic"][2][6] == "Some Target Site"


def test_patient_sheets(db, server):
    source, target = pair(db)
    tag1, tag2 = add_tags(db, source, "t1", "t2")
    site = add_sites(db, source, "Zed")[0]
    cgm, bgm = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), T1
    seed_patient(db, source, "0000000001", fullName="Ann Lee", birthDate="1990-02-03", mrn="M-1",
                 tags=[tag1["_id"], tag2["_id"], tag1["_id"], ObjectId()],
                 sites=[site, {"id": ObjectId(), "name": "Alpha"}],
                 summary={"cgmStats": {"dates": {"lastUploadDate": cgm}},
                          "bgmStats": {"dates": {"lastUploadDate": bgm}}})
    seed_patient(db, source, "0000000002", fullName=None, permissions={"custodian": {}}, birthDate=...)
    seed_patient(db, target, "0000000003", permissions={"view": {}})
    book = workbook(server, source, target)
    assert book["Patients in Source Clinic"] == [DETAIL_HEADER, [],
                                                 ["Ann Lee", "Y", "0000000001", "1990-02-03", "M-1", "t1, t2",
                                                  "Alpha, Zed", "2024-04-01 08:30:00"],
                                                 [None, "-", "0000000002"]]
    assert book["Patients in Target Clinic"] == [DETAIL_HEADER, [],
                                                 ["Patient 0000000003", "Y", "0000000003", "1903-01-01"]]


def test_duplicate_sheets(db, server):
    source, target = pair(db)
    [tag] = add_tags(db, target, "vip")
    seed_patient(db, source, "0000000001", fullName="Ann", mrn="A1")
    seed_patient(db, source, "0000000002", fullName="ann ", mrn="A2")
    seed_patient(db, target, "0000000003", fullName="Bo", mrn="B1", birthDate="2000-01-01", tags=[tag["_id"]])
    seed_patient(db, target, "0000000004", fullName="Cy", mrn="b1", birthDate="2000-01-01")
    seed_patient(db, target, "0000000005", fullName="Dee", mrn="A2")
    book = workbook(server, source, target)
    rows = book["Duplicates in Source Clinic"]
    assert rows[0] == ["Source Clinic"] and rows[1] == ["Review Possible Duplicates"]
    assert rows[7] == [None, "Name ---", "Claimed? ---", "UUID ---", "DOB ---", "MRN ---", "Tags ---", "Sites ---",
                       "Latest Upload ---", "Likely Duplicates ---", "Name Only Matches ---", "MRN Only Matches ---"]
    assert rows[8:] == [["Review 1"],
                        [None, "Ann", "Y", "0000000001", "1901-01-01", "A1", None, None, None, None, "0000000002"],
                        [None, "ann ", "Y", "0000000002", "1902-01-01", "A2", None, None, None, None, "0000000001"]]
    rows = book["Duplicates in Target Clinic"]
    assert rows[8:] == [["Review 1"],
                        [None, "Bo", "Y", "0000000003", "2000-01-01", "B1", "vip", None, None, "0000000004"],
                        [None, "Cy", "Y", "0000000004", "2000-01-01", "b1", None, None, None, "0000000003"]]
    merged = book["Duplicates in Merged Workspace"]
    assert merged[0] == ["MERGED WORKSPACE PATIENT REVIEW"] and merged[4] == []
    assert merged[5] == [None, "Status ---", "Original Workspace ---"] + DETAIL_HEADER
    assert merged[6:] == [
        ["Patient 1", "(retained)", "Source Clinic", "ann ", "Y", "0000000002", "1902-01-01", "A2"],
        [None, "Review duplicate MRN"],
        [None, "(retained)", "Target Clinic", "Dee", "Y", "0000000005", "1905-01-01", "A2"]]


def test_merged_workspace_sheet_exact_matches_and_errors(db, server):
    source, target = pair(db, mrnSettings={"unique": True})
    [s_tag] = add_tags(db, source, "src")
    [t_tag] = add_tags(db, target, "tgt")
    [shared] = add_sites(db, target, "Main")
    [moved] = add_sites(db, source, "Main")
    seed_patient(db, source, "0000000001", fullName="Ann", mrn="A1", tags=[s_tag["_id"]], sites=[moved])
    seed_patient(db, target, "0000000001", fullName="Ann T", mrn="T1", tags=[t_tag["_id"]], sites=[shared])
    seed_patient(db, source, "0000000002", fullName="Bob", birthDate="1980-01-01", mrn="X9")
    seed_patient(db, target, "0000000003", fullName="bob", birthDate="1980-01-01", mrn="x9")
    rows = workbook(server, source, target)["Duplicates in Merged Workspace"]
    assert rows[6:] == [
        ["Patient 1", "(combined)", "Source Clinic", "Ann", "Y", "0000000001", "1901-01-01", "A1", "src", "Main (2)"],
        [None, "Exact Match: Results in one claimed account"],
        [None, "(result)", None, "Ann T", "Y", "0000000001", "1901-01-01", "T1", "src, tgt", "Main, Main (2)"],
        [None, "(combined)", "Target Clinic", "Ann T", "Y", "0000000001", "1901-01-01", "T1", "tgt", "Main"],
        [],
        ["Patient 2", "(ERROR)", "Source Clinic", "Bob", "Y", "0000000002", "1980-01-01", "X9"],
        [None, "Review likely duplicate(s)"],
        [None, "(retained)", "Target Clinic", "bob", "Y", "0000000003", "1980-01-01", "x9"]]
    summary = workbook(server, source, target)["Summary"]
    assert summary[6] == ["Can execute merge plan?", "No", "No. MRN uniqueness error(s) for duplicate accounts. "
                          "View error(s) on the 'Duplicates in Merged Workspace' tab"]


def test_clinics_without_a_name(db, server):
    source, target = seed_clinic(db, ...), seed_clinic(db, "Target")  # the source has no name
    add_tags(db, source, "t")
    seed_patient(db, source, "0000000001")
    rows = workbook(server, source, target)["Summary"]
    assert rows[4] == ["Merging from Workspace 1 (Source)"]
    assert rows_after(rows, "Resulting Tags (")[1] == [["t"]]


# --- the plan as JSON ----------------------------------------------------------------------------------

def test_plan_as_json(db, server):
    source, target = pair(db)
    add_tags(db, source, "t")
    seed_patient(db, source, "0000000001")
    seed_patient(db, target, "0000000001")
    resp = report(server, source, target, headers={"Accept": "application/json"})
    assert resp.headers["content-type"] == "application/json"
    plan = resp.json()
    assert list(plan) == ["Source", "Target", "MembershipRestrictionsMergePlan", "SourcePatientClusters",
                          "TargetPatientClusters", "SettingsPlans", "TagsPlans", "SitesPlans", "ClinicianPlans",
                          "PatientPlans", "CreatedTime"]
    assert plan["Source"]["_id"] == str(source["_id"]) and plan["Target"]["name"] == "Target Clinic"
    assert plan["MembershipRestrictionsMergePlan"] == {"SourceValue": None, "TargetValue": None}
    assert plan["TagsPlans"] == [{"Name": "t", "TagAction": "CREATE", "Workspaces": ["Source Clinic"], "Merge": False,
                                  "SourceClinicId": str(source["_id"]), "TargetClinicId": str(target["_id"])}]
    assert [p["PatientAction"] for p in plan["PatientPlans"]] == ["MERGE", "MERGE_INTO"]
    assert plan["PatientPlans"][0]["Conflicts"]["Duplicate Accounts"][0]["Patient"]["userId"] == "0000000001"
    assert [c["ClinicianAction"] for c in plan["ClinicianPlans"]] == ["MOVE", "RETAIN"]
    assert plan["ClinicianPlans"][0]["Error"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", plan["CreatedTime"])


def test_any_other_accept_header_gets_the_workbook(db, server):
    source, target = pair(db)
    resp = report(server, source, target, headers={"Accept": "application/json, text/plain"})
    assert resp.headers["content-type"] == "application/vnd.ms-excel"


# --- errors and access ---------------------------------------------------------------------------------

@pytest.mark.parametrize("request_body,message", [
    (None, "request body has an error: value is required but missing"),
    ({}, "request body has an error: value is required but missing"),
    ({"sourceId": "0" * 25}, 'request body has an error: doesn\'t match schema '
     '#/components/schemas/generateMergeReport.v1: Error at "/sourceId": maximum string length is 24'),
])
def test_bad_bodies(db, server, request_body, message):
    source, target = pair(db)
    resp = server.request("POST", report_url(target), json=request_body)
    assert (resp.status_code, resp.json()) == (400, {"message": message})


def test_same_and_unknown_clinics(db, server):
    source, target = pair(db)
    resp = server.post(report_url(target), json=body(target))
    assert (resp.status_code, resp.json()) == (400, {"message": "bad request: a clinic cannot be merged into itself"})
    for s, t in ((source, {"_id": ObjectId()}), ({"_id": ObjectId()}, target)):
        resp = server.post(report_url(t), json=body(s))
        assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})


def test_only_servers_may_get_the_report(request, db, clinic, member, other_admin):
    source = seed_clinic(db, "Source", timezone="US/Pacific")
    expect_access(request, lambda api: api.post(f"/v1/clinics/{clinic['id']}/reports/merge", json=body(source)),
                  {"server": 200})
