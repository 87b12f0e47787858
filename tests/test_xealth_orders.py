"""Xealth: order notifications (the order is read from a local HTTP server playing Xealth), the
programs summary, the report link and the report viewer page."""
from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest
from bson import ObjectId

from ehr_support import APP_URL, NOW, add_patient, cgm_summary, set_ehr, xealth_settings
from conftest import CLINIC_BODY
from xealth_support import (ACCESS_TOKEN, DEPLOYMENT, FULL_NAME, ORDER_ID, enroll, notification, order, preorder,
                            program_url_request, programs_request)


def patient_doc(db, mrn="e987655"):
    return db.patients.find_one({"mrn": mrn})


# --- notifications --------------------------------------------------------------------------------

def test_new_order_creates_the_patient(xealth, xealth_clinic, admin, db, httpserver):
    tag = admin.post(f"/v1/clinics/{xealth_clinic['id']}/patient_tags", json={"name": "t"}).json()["id"]
    enroll(xealth, tags=[tag, "0123456789abcdef01234567"])
    stored = db.xealth_order.find_one()
    assert list(stored) == ["_id", "eventNotification", "orderData"]
    event = stored["eventNotification"]
    assert list(event) == ["deployment", "eventContext", "eventId", "eventTimeStamp", "eventType", "orderId",
                           "partnerId", "patientIdentity", "programId"]
    assert event["eventTimeStamp"] == dt.datetime(2021, 1, 14, 0, 23, 47, 580000, tzinfo=dt.timezone.utc)
    assert stored["orderData"]["orderInfo"]["orderId"] == ORDER_ID
    patient = patient_doc(db)
    assert (patient["fullName"], patient["birthDate"], patient["email"]) == (FULL_NAME, "1985-01-11",
                                                                            "xealth@tidepool.org")
    assert patient["permissions"] == {"custodian": {}, "view": {}, "upload": {}, "note": {}}
    assert patient["tags"] == [ObjectId(tag)]
    assert [(d["providerName"], d["state"]) for d in patient["dataSources"]] == [("abbott", "pending"),
                                                                               ("dexcom", "pending")]
    assert set(patient["providerConnectionRequests"]) == {"abbott", "dexcom"}
    sub = patient["ehrSubscriptions"]["xealthReports"]
    assert sub["active"] is True and sub["provider"] == "xealth"
    assert sub["matchedMessages"] == [{"id": stored["_id"], "dataModel": "order", "eventType": "new"}]
    token_calls = [r for r, _ in httpserver.log if r.path == "/oauth2/token"]
    assert token_calls[0].form["grant_type"] == "client_credentials"
    assert token_calls[0].headers["Authorization"] == "Basic dGlkZXBvb2wrY2xpZW50OnMzY3JldCUyRiUyQg=="


def test_access_token_is_reused(xealth, xealth_clinic, httpserver):
    enroll(xealth)
    xealth.serve_order(order(None))
    assert xealth.notify(notification("cancel")).status_code == 200
    assert len([r for r, _ in httpserver.log if r.path == "/oauth2/token"]) == 1


def test_cancel_deactivates_the_subscription(xealth, xealth_clinic, db):
    enroll(xealth)
    xealth.serve_order(order(None, state="canceled"))
    resp = xealth.notify(notification("cancel"))
    assert resp.status_code == 200 and resp.content == b"" and "content-type" not in resp.headers
    sub = patient_doc(db)["ehrSubscriptions"]["xealthReports"]
    assert sub["active"] is False and [m["eventType"] for m in sub["matchedMessages"]] == ["new", "cancel"]


@pytest.mark.parametrize("body", [notification(eventType="preorder"), notification("update"),
                                  notification(deployment="unknown"), notification(program="999")])
def test_notifications_that_are_ignored(xealth, xealth_clinic, db, httpserver, body):
    resp = xealth.notify(body)
    assert resp.status_code == 200 and resp.content == b""
    assert db.xealth_order.count_documents({}) == 0 and not httpserver.log


def test_notification_for_two_clinics_is_409(xealth, xealth_clinic, admin, server):
    other = admin.post("/v1/clinics", json={**CLINIC_BODY, "name": "Twin"}).json()
    set_ehr(server, other["id"], xealth_settings())
    resp = xealth.notify(notification())
    assert (resp.status_code, resp.json()) == (409, {
        "message": "matching event notification request: duplicate: found multiple matching clinics"})


def test_order_errors(xealth, xealth_clinic, db):
    xealth.serve_order(order("unknown-tracking-id"))
    resp = xealth.notify(notification())
    assert (resp.status_code, resp.json()) == (404, {"message": "not found: preorder data not found"})
    assert db.xealth_order.count_documents({}) == 1 and db.patients.count_documents({}) == 0
    xealth.server.clear()
    xealth.server.expect_request("/oauth2/token").respond_with_json({"access_token": ACCESS_TOKEN})
    xealth.serve_order(order(None))
    resp = xealth.notify(notification())
    assert (resp.status_code, resp.json()) == (400, {
        "message": "unable to create patient create: bad request: preorder data is required to create a new patient"})


def test_order_for_an_existing_patient_only_subscribes(xealth, xealth_clinic, admin, db):
    existing = add_patient(admin, xealth_clinic["id"], fullName=FULL_NAME, birthDate="1985-01-11", mrn="e987655")
    xealth.serve_order(order(None))
    assert xealth.notify(notification()).status_code == 200
    assert db.patients.count_documents({}) == 1
    patient = patient_doc(db)
    assert patient["userId"] == existing["id"] and patient["ehrSubscriptions"]["xealthReports"]["active"]


def test_xealth_failures_are_server_errors(xealth, xealth_clinic, db):
    xealth.server.expect_request(f"/v2/partner/read/order/{DEPLOYMENT}/{ORDER_ID}").respond_with_data("no", 503)
    resp = xealth.notify(notification())
    assert (resp.status_code, resp.json()) == (500, {"message": "Internal Server Error"})
    assert db.xealth_order.count_documents({}) == 0


@pytest.mark.parametrize("body,message", [
    (b"{bad", "Syntax error: offset=2, error=invalid character 'b' looking for beginning of object key string"),
    ({"eventTimeStamp": "yesterday"}, 'bad request: parsing time "yesterday": not an RFC 3339 date-time'),
    ({"eventType": ["order"]}, "Unmarshal type error: expected=string, got=array, field=eventType"),
])
def test_notification_body_errors(xealth, xealth_clinic, body, message):
    resp = xealth.notify(body)
    assert (resp.status_code, resp.json()) == (400, {"message": message})


def test_notification_needs_json(xealth, xealth_clinic):
    resp = xealth.notify(b"eventType=order", headers={"content-type": "application/x-www-form-urlencoded"})
    assert (resp.status_code, resp.json()) == (415, {"message": "Unsupported Media Type"})
    assert xealth.notify(b"", headers={"content-type": None}).status_code == 200


# --- programs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("request_body", [programs_request(mrn="nobody"), programs_request(deployment="unknown")])
def test_programs_of_unknown_patients_are_not_present(xealth, xealth_clinic, request_body):
    resp = xealth.programs(request_body)
    assert resp.status_code == 200 and resp.content == b'{"present":false}\n'


def test_programs_without_an_active_subscription(xealth, xealth_clinic, admin):
    add_patient(admin, xealth_clinic["id"], fullName=FULL_NAME, birthDate="1985-01-11", mrn="e987655")
    assert xealth.programs(programs_request()).json() == {"present": False}


def test_programs_describe_the_enrollment(xealth, xealth_clinic, server, db):
    enroll(xealth)
    program = {"description": "Last Upload: N/A | Last Viewed by You: N/A | Claimed Account?: No | "
                              "Cloud Connections: Abbott (pending), Dexcom (pending)",
               "enrolledDate": "2021-01-14", "hasStatusView": False, "has_alert": False, "programId": "100",
               "title": "Tidepool"}
    resp = xealth.programs(programs_request())
    assert resp.status_code == 200 and resp.json() == {"present": True, "programs": [program]}
    assert list(resp.json()["programs"][0]) == list(program)
    user_id = patient_doc(db)["userId"]
    assert server.post(f"/v1/patients/{user_id}/summary", json=cgm_summary()).status_code == 200
    program.update(description=program["description"].replace("Last Upload: N/A", "Last Upload: 2024-01-18"),
                   hasStatusView=True, has_alert=True)
    assert xealth.programs(programs_request()).json()["programs"] == [program]
    assert xealth.program_url(program_url_request()).status_code == 200
    program.update(description=program["description"].replace("Viewed by You: N/A", "Viewed by You: 2099-02-01"),
                   has_alert=False)
    assert xealth.programs(programs_request()).json()["programs"] == [program]
    # Another EHR user has not viewed it.
    assert "Viewed by You: N/A" in xealth.programs(programs_request(ehr_user="Other")).json()["programs"][0][
        "description"]


def test_programs_lost_order_is_404(xealth, xealth_clinic, db):
    enroll(xealth)
    db.xealth_order.delete_many({})
    resp = xealth.programs(programs_request())
    assert (resp.status_code, resp.json()) == (404, {"message": "not found"})


def test_programs_claimed_and_connections(xealth, xealth_clinic, db):
    from clinic_api.domain.xealth_programs import cloud_connections

    enroll(xealth)
    db.patients.update_one({}, {"$set": {"permissions": {"view": {}}}})
    assert "Claimed Account?: Yes" in xealth.programs(programs_request()).json()["programs"][0]["description"]
    early, late = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2024, 2, 1, tzinfo=dt.timezone.utc)
    assert cloud_connections([{"providerName": "dexcom", "state": "connected", "modifiedTime": late},
                              {"providerName": "dexcom", "state": "pending", "modifiedTime": early},
                              {"providerName": "twiist", "state": "pendingReconnect"},
                              {"providerName": "abbott", "state": "ERROR"}]) == \
        "Abbott (error), Dexcom (connected), twiist (pending reconnect)"
    assert cloud_connections(None) == "None"


# --- program url and the viewer ----------------------------------------------------------------------

def test_program_url_and_viewer(xealth, xealth_clinic, server, db, anonymous):
    enroll(xealth)
    user_id = patient_doc(db)["userId"]
    server.post(f"/v1/patients/{user_id}/summary", json=cgm_summary())
    resp = xealth.program_url(program_url_request())
    assert resp.status_code == 200 and list(resp.json()) == ["url"]
    url = urllib.parse.urlsplit(resp.json()["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "integration.test.app.url.com",
                                                  "/v1/xealth/report/web/viewer.html")
    query = urllib.parse.parse_qs(url.query)
    assert [k for k, _ in urllib.parse.parse_qsl(url.query)] == ["clinicId", "patientId", "restricted_token"]
    assert query["clinicId"] == [xealth_clinic["id"]] and query["patientId"] == [user_id]
    token = query["restricted_token"][0]
    assert db.restricted_tokens.find_one({"_id": token})["userId"] == user_id
    view = db.xealth_report_view.find_one()
    assert {k: v for k, v in view.items() if k != "_id"} == {
        "userId": "User_98768", "deployment": DEPLOYMENT, "systemLogin": "jdoe", "patientUserId": user_id,
        "programId": "100", "clinicId": ObjectId(xealth_clinic["id"]), "createdTime": NOW}
    page = anonymous.get(f"/v1/xealth/report/web/viewer.html?{url.query}")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=UTF-8"
    report = (f"{APP_URL}/export/report/{user_id}?bgUnits=mg%2FdL&dob=1985-01-11&endDate=2024-01-17T06%3A38%3A22Z"
              f"&fullName=FirstName+First+LastName+Last&inline=true&mrn=e987655&reports=all&restricted_token={token}"
              f"&startDate=2024-01-03T06%3A38%3A22Z&tzName=US%2FPacific&userId={user_id}")
    escaped = report.replace("/", "\\/").replace("&", "\\u0026").replace("+", "\\u002b")
    assert escaped in page.text


def test_program_url_without_ehr_user_records_no_view(xealth, xealth_clinic, db):
    enroll(xealth)
    assert xealth.program_url(program_url_request(datasets={"demographicsV1": preorder()["datasets"][
        "demographicsV1"]})).status_code == 200
    assert db.xealth_report_view.count_documents({}) == 0


def test_program_url_errors(xealth, xealth_clinic):
    resp = xealth.program_url(program_url_request())
    assert (resp.status_code, resp.json()) == (404, {
        "message": "matching get program url request: not found: couldn't find matching patient"})
    resp = xealth.program_url(program_url_request(deployment="nowhere"))
    assert resp.status_code == 404 and resp.json()["message"].endswith("couldn't find matching clinic")


def viewer(api, clinic_id, patient_id, token):
    query = urllib.parse.urlencode({"clinicId": clinic_id, "patientId": patient_id, "restricted_token": token})
    return api.get(f"/v1/xealth/report/web/viewer.html?{query}")


def test_viewer_checks(xealth, xealth_clinic, server, db, anonymous, monkeypatch, services):
    enroll(xealth)
    user_id = patient_doc(db)["userId"]
    token = urllib.parse.parse_qs(urllib.parse.urlsplit(
        xealth.program_url(program_url_request()).json()["url"]).query)["restricted_token"][0]
    unauthorized = [("unknown-token", user_id), (token, "someone-else")]
    for tok, patient in unauthorized:
        resp = viewer(anonymous, xealth_clinic["id"], patient, tok)
        assert (resp.status_code, resp.json()) == (401, {"message": "unauthorized: invalid or expired token"})
    resp = viewer(anonymous, "0123456789abcdef01234567", user_id, token)
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})
    xealth.serve_order(order(None))
    assert xealth.notify(notification("cancel")).status_code == 200
    resp = viewer(anonymous, xealth_clinic["id"], user_id, token)
    assert (resp.status_code, resp.json()) == (
        401, {"message": "unauthorized: patient doesn't have active subscriptions"})
    monkeypatch.setattr(services, "clock", lambda: NOW + dt.timedelta(hours=2))
    assert viewer(anonymous, xealth_clinic["id"], user_id, token).json()["message"] == \
        "unauthorized: invalid or expired token"


def test_viewer_report_without_summary_and_missing_fields(xealth, xealth_clinic, db, anonymous):
    enroll(xealth)
    url = xealth.program_url(program_url_request()).json()["url"]
    page = anonymous.get("/v1/xealth/report/web/viewer.html?" + urllib.parse.urlsplit(url).query)
    assert page.status_code == 200 and "startDate" not in page.text and "endDate" not in page.text
    db.patients.update_one({}, {"$set": {"mrn": None}})
    resp = anonymous.get("/v1/xealth/report/web/viewer.html?" + urllib.parse.urlsplit(url).query)
    assert (resp.status_code, resp.json()) == (422, {"message": "constraint violation: mrn is required"})


@pytest.mark.parametrize("query,missing", [("", "clinicId"), ("clinicId=a", "patientId"),
                                           ("clinicId=a&patientId=b", "restricted_token")])
def test_viewer_parameters_are_required(xealth, anonymous, query, missing):
    resp = anonymous.get(f"/v1/xealth/report/web/viewer.html?{query}")
    assert resp.status_code == 400
    assert resp.json() == {
        "message": f"Invalid format for parameter {missing}: query parameter '{missing}' is required"}


def test_viewer_assets_are_not_served(anonymous):
    resp = anonymous.get("/v1/xealth/report/build/pdf.mjs")
    assert (resp.status_code, resp.json()) == (404, {"message": "Not Found"})
