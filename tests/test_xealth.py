"""Xealth: caller verification of every Xealth route, and the preorder forms
(POST /v1/xealth/preorder, initial and subsequent)."""
from __future__ import annotations

import uuid

import pytest
from bson import ObjectId

from clinic_api.domain import xealth_forms as forms
from ehr_support import add_patient, configure, set_ehr, xealth_settings
from conftest import CLINIC_BODY
from xealth_support import FULL_NAME, preorder, programs_request, subsequent

ROUTES = [("POST", "/v1/xealth/preorder"), ("POST", "/v1/xealth/notification"), ("PUT", "/v1/xealth/programs"),
          ("PUT", "/v1/xealth/program")]


# --- the caller ------------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", ROUTES)
def test_disabled_integration_answers_404(services, monkeypatch, anonymous, method, path):
    configure(services, monkeypatch, xealth_enabled=False)
    resp = anonymous.request(method, path, json={}, headers={"Authorization": "Bearer anything"})
    assert resp.status_code == 404
    assert resp.json() == {"message": "not found: the xealth integration is not enabled"}


def test_disabled_viewer_answers_404(services, monkeypatch, anonymous):
    configure(services, monkeypatch, xealth_enabled=False)
    resp = anonymous.get("/v1/xealth/report/web/viewer.html?clinicId=a&patientId=b&restricted_token=c")
    assert resp.status_code == 404 and resp.json()["message"] == "not found: the xealth integration is not enabled"


@pytest.mark.parametrize("method,path", ROUTES)
@pytest.mark.parametrize("authorization,message", [
    (None, "unauthorized: bearer token is required"),
    ("xealth-token", "unauthorized: bearer token is required"),
    ("bearer xealth-token", "unauthorized: bearer token is required"),
    ("Bearer ", "unauthorized: bearer token is invalid"),
    ("Bearer wrong", "unauthorized: bearer token is invalid"),
])
def test_bearer_token_is_checked_before_the_body(xealth, db, method, path, authorization, message):
    resp = xealth.call(method, path, b"{not json", headers={"Authorization": authorization})
    assert resp.status_code == 401
    assert resp.json() == {"message": message}


def test_session_tokens_are_not_what_xealth_sends(xealth, admin):
    resp = admin.put("/v1/xealth/programs", json=programs_request())
    assert resp.status_code == 401 and resp.json() == {"message": "unauthorized: bearer token is required"}


# --- preorder: initial ------------------------------------------------------------------------------

def test_initial_preorder_for_a_new_adult_patient(xealth, xealth_clinic):
    resp = xealth.preorder(preorder(email="pat@example.com"))
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["dataTrackingId", "notOrderable", "preorderFormInfo"]
    assert uuid.UUID(body["dataTrackingId"]).version == 4 and body["notOrderable"] is False
    info = body["preorderFormInfo"]
    assert list(info) == ["formData", "formId", "formSchema", "uiSchema"]
    assert info["formId"] == "patient_enrollment_form"
    assert info["formData"] == {"patient": {"email": "pat@example.com"}}
    assert info["formSchema"]["title"] == f"Add {FULL_NAME} to Tidepool"
    assert list(info["formSchema"]) == sorted(info["formSchema"])
    assert info["formSchema"]["definitions"] == {"tags": {}}
    assert info["formSchema"]["properties"]["tags"]["type"] == "null"
    assert info["uiSchema"]["tags"]["ui:widget"] == "hidden"
    assert set(info["formSchema"]["properties"]["patient"]["properties"]) == {"email"}


def test_initial_preorder_for_a_child_asks_for_a_guardian(xealth, xealth_clinic):
    body = xealth.preorder(preorder(dob="2090-06-30")).json()
    assert body["preorderFormInfo"]["formId"] == "guardian_enrollment_form"
    assert body["preorderFormInfo"]["formData"] == {"guardian": {}} and body["notOrderable"] is False
    assert body["preorderFormInfo"]["formSchema"]["properties"]["guardian"]["required"] == ["firstName", "lastName"]


def test_thirteenth_birthday_switches_to_the_patient_form(xealth, xealth_clinic):
    # The clock is 2099-02-01: born 2086-02-01 is 13 today, 2086-02-02 is not yet.
    assert xealth.preorder(preorder(dob="2086-02-01")).json()["preorderFormInfo"]["formId"] == "patient_enrollment_form"
    child = xealth.preorder(preorder(dob="2086-02-02")).json()
    assert child["preorderFormInfo"]["formId"] == "guardian_enrollment_form"


def test_initial_preorder_shows_the_clinics_tags(xealth, xealth_clinic, admin, db):
    ids = {name: admin.post(f"/v1/clinics/{xealth_clinic['id']}/patient_tags", json={"name": name}).json()["id"]
           for name in ("b-tag", "a-tag")}
    info = xealth.preorder(preorder()).json()["preorderFormInfo"]
    assert info["formSchema"]["definitions"]["tags"] == {"enum": [ids["a-tag"], ids["b-tag"]],
                                                         "enumNames": ["a-tag", "b-tag"]}
    assert info["formSchema"]["properties"]["tags"]["type"] == "object"
    assert info["uiSchema"]["tags"] == {"ids": {"ui:widget": "CheckboxesWidget"}, "ui:widget": "object"}


def test_initial_preorder_of_a_known_patient(xealth, xealth_clinic, admin):
    add_patient(admin, xealth_clinic["id"], fullName=FULL_NAME, birthDate="1985-01-11", mrn="E987655")
    resp = xealth.preorder(preorder())
    assert resp.status_code == 200 and resp.content == b"{}\n"
    body = xealth.preorder(preorder(dob="1985-01-12")).json()
    assert body["notOrderable"] is True
    info = body["preorderFormInfo"]
    assert info["formId"] == "error_form" and info["formData"] == {"patient": {}}
    assert info["formSchema"]["title"] == forms.ERROR_TITLE
    assert info["uiSchema"] == {"tags": {}, "ui:order": ["error_0", "error_1", "error_2", "error_3"]}
    assert info["formSchema"]["properties"]["error_0"] == {"description": forms.BIRTHDAY_MISMATCH[0], "title": " ",
                                                           "type": "null"}


@pytest.mark.parametrize("body,status,message", [
    (b"{oops", 400, "bad request: unable to decode the preorder request"),
    ({"eventType": "order", "eventContext": "initial"}, 400, "bad request: expected eventType='preorder' got order"),
    ({"eventType": "preorder", "eventContext": "final"}, 400, "bad request: invalid event context final"),
    ({**preorder(), "deployment": "elsewhere"}, 404,
     "matching initial preorder request: not found: couldn't find matching clinic"),
    ({**preorder(), "datasets": None}, 400, "matching initial preorder request: bad request: datasets is required"),
    ({**preorder(), "datasets": {}}, 400, "matching initial preorder request: bad request: demographics is required"),
    (preorder(mrn=""), 400, "matching initial preorder request: bad request: mrn is missing"),
    ({**preorder(), "patientIdentity": {"ids": [{"id": "x", "type": "mrn"}]}}, 400,
     "matching initial preorder request: bad request: mrn is missing"),
    ({**preorder(), "datasets": {"demographicsV1": {"name": {"given": ["A"]}}}}, 400,
     "matching initial preorder request: bad request: date of birth is missing"),
    ({**preorder(), "datasets": {"demographicsV1": {"birthDate": "2001-02-03"}}}, 400,
     "matching initial preorder request: bad request: full name is missing"),
    (preorder(dob="2001-02-30"), 400, 'parsing time "2001-02-30" as "2006-01-02": cannot parse birthDate'),
    ({**preorder(), "deployment": 7}, 400, "Unmarshal type error: expected=string, got=number, field=deployment"),
    ({**preorder(), "patientIdentity": {"ids": "e987655"}}, 400,
     "Unmarshal type error: expected=array, got=string, field=patientIdentity.ids"),
])
def test_preorder_errors(xealth, xealth_clinic, body, status, message):
    resp = xealth.preorder(body)
    assert resp.status_code == status
    assert resp.json() == {"message": message}


def test_preorder_reads_the_raw_body_without_content_type(xealth, xealth_clinic):
    resp = xealth.preorder(preorder(), headers={"content-type": None})
    assert resp.status_code == 200 and resp.json()["preorderFormInfo"]["formId"] == "patient_enrollment_form"


def test_preorder_with_two_matching_clinics_or_patients(xealth, xealth_clinic, admin, server):
    add_patient(admin, xealth_clinic["id"], fullName="One", birthDate="1985-01-11", mrn="e987655")
    add_patient(admin, xealth_clinic["id"], fullName="Two", birthDate="1990-01-11", mrn="e987655")
    resp = xealth.preorder(preorder())
    assert (resp.status_code, resp.json()) == (422, {
        "message": "matching initial preorder request: constraint violation: multiple matching patients found"})
    other = admin.post("/v1/clinics", json={**CLINIC_BODY, "name": "Twin"}).json()
    set_ehr(server, other["id"], xealth_settings())
    resp = xealth.preorder(preorder())
    assert (resp.status_code, resp.json()) == (409, {
        "message": "matching initial preorder request: duplicate: found multiple matching clinics"})


# --- preorder: subsequent ---------------------------------------------------------------------------

def test_subsequent_preorder_keeps_the_form_data(xealth, xealth_clinic, admin, db):
    tag = admin.post(f"/v1/clinics/{xealth_clinic['id']}/patient_tags", json={"name": "t"}).json()["id"]
    user_input = {"Patient": {"email": "new@example.com", "connectAbbott": True, "connectDexcom": False},
                  "tags": {"ids": [tag]}}
    resp = xealth.preorder(subsequent("track-1", user_input))
    assert resp.status_code == 200 and resp.content == b"{}\n"
    doc = db.xealth_preorder.find_one()
    assert list(doc) == ["_id", "dataTrackingId", "patient", "tags"] and isinstance(doc["_id"], ObjectId)
    assert doc["patient"] == {"email": "new@example.com", "connectAbbott": True} and doc["tags"] == {"ids": [tag]}
    resp = xealth.preorder(subsequent("track-1", user_input))
    assert (resp.status_code, resp.json()) == (409, {
        "message": "duplicate: preorder data was already submitted for this dataTrackingId"})


def test_subsequent_without_email_cannot_connect_dexcom(xealth, xealth_clinic, db):
    assert xealth.preorder(subsequent("t", {"patient": {"connectAbbott": True, "connectDexcom": True}})).json() == {}
    assert xealth.preorder(subsequent("u", None)).json() == {}
    assert db.xealth_preorder.find_one({"dataTrackingId": "t"})["patient"] == {"connectAbbott": True}
    assert db.xealth_preorder.find_one({"dataTrackingId": "u"})["patient"] == {}


def test_subsequent_guardian_form(xealth, xealth_clinic, db):
    guardian = {"firstName": "James", "lastName": "Jellyfish", "email": "g@example.com", "connectDexcom": True}
    assert xealth.preorder(subsequent("g", {"guardian": guardian}, dob="2090-01-11")).json() == {}
    assert db.xealth_preorder.find_one()["guardian"] == guardian
    body = xealth.preorder(subsequent("h", {"guardian": {"firstName": " ", "lastName": "J"}}, dob="2090-01-11")).json()
    assert body["notOrderable"] is True and body["dataTrackingId"] == "h"
    info = body["preorderFormInfo"]
    assert info["formData"] == {"guardian": {"firstName": " ", "lastName": "J"}}
    assert info["formSchema"]["properties"] == {"error_0": {"description": forms.SOMETHING_WENT_WRONG, "title": " ",
                                                            "type": "null"}}
    assert db.xealth_preorder.count_documents({}) == 1


@pytest.mark.parametrize("email,paragraphs", [("not an email", [forms.SOMETHING_WENT_WRONG]),
                                              ("taken@example.com", list(forms.DUPLICATE_EMAIL))])
def test_subsequent_email_problems_answer_the_error_form(xealth, xealth_clinic, as_user, db, email, paragraphs):
    as_user("5555555555", email="taken@example.com").get("/v1/clinics/" + xealth_clinic["id"])
    body = xealth.preorder(subsequent("track", {"patient": {"email": email}, "tags": {}})).json()
    info = body["preorderFormInfo"]
    assert body["notOrderable"] is True and info["formId"] == "error_form"
    assert info["formData"] == {"patient": {"email": email}, "tags": {}}
    assert [info["formSchema"]["properties"][k]["description"] for k in info["uiSchema"]["ui:order"]] == paragraphs
    assert db.xealth_preorder.count_documents({}) == 0


@pytest.mark.parametrize("user_input,message", [
    ({"patient": {"email": 5}}, "bad request: invalid user input: Unmarshal type error: expected=string, got=number, "
                                "field=userInput.patient.email"),
    ({"patient": {"connectDexcom": "yes"}}, "bad request: invalid user input: Unmarshal type error: expected=bool, "
                                            "got=string, field=userInput.patient.connectDexcom"),
    ({"patient": []}, "bad request: invalid user input: Unmarshal type error: expected=object, got=array, "
                      "field=userInput.patient"),
])
def test_subsequent_user_input_of_the_wrong_type(xealth, xealth_clinic, user_input, message):
    resp = xealth.preorder(subsequent("t", user_input))
    assert (resp.status_code, resp.json()) == (400, {"message": message})


def test_subsequent_needs_a_tracking_id_and_no_patient(xealth, xealth_clinic, admin):
    resp = xealth.preorder(subsequent("", {"patient": {}}))
    assert (resp.status_code, resp.json()) == (400, {"message": "bad request: formData.dataTrackingId is required"})
    add_patient(admin, xealth_clinic["id"], fullName=FULL_NAME, birthDate="1970-01-01", mrn="e987655")
    resp = xealth.preorder(subsequent("t", {"patient": {}}))
    assert (resp.status_code, resp.json()) == (409, {"message": "conflict: expected no patients to match the criteria"})


@pytest.mark.parametrize("address,valid", [("a@b.c", True), ("Ann <ann@example.com>", True), ("a.b+c@d", True),
                                           ('"odd name"@x.org', True), ("no-at-sign", False), ("a@@b", False),
                                           (".a@b.c", False), ("a@b..c", False), ("", False)])
def test_email_validity(address, valid):
    assert forms.valid_email(address) is valid
