"""The reference's Xealth integration scenario, in order (Xealth played by a local HTTP server,
restricted tokens minted by this service); restricted tokens of the platform auth service (tidepool
mode) and the Xealth client, each against a local HTTP server."""
from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest
from werkzeug import Response

from clinic_api.domain import xealth_forms as forms
from clinic_api.errors import InternalError
from clinic_api.integrations.restricted_tokens import TidepoolRestrictedTokens
from clinic_api.integrations.xealth import XealthClient
from clinic_api.settings import Settings
from support import stores
from conftest import CLINIC_BODY
from ehr_support import APP_URL, NOW, cgm_summary, configure, set_ehr, xealth_settings
from xealth_support import (ACCESS_TOKEN, DEPLOYMENT, FULL_NAME, notification, order, preorder,
                            program_url_request, programs_request, subsequent)

GUARDIAN_ORDER = "4f5d4267-1b1f-4b6f-9f7e-2a1c2b3d4e5f"


def program(xealth) -> dict:
    return xealth.programs(programs_request()).json()


def test_xealth_scenario(xealth, admin, server, as_user, db, anonymous):
    clinic = admin.post("/v1/clinics", json=CLINIC_BODY).json()                                     # 1
    set_ehr(server, clinic["id"], xealth_settings())                                                # 2
    form = xealth.preorder(preorder()).json()                                                       # 3
    tracking = form["dataTrackingId"]
    assert tracking and form["notOrderable"] is False
    assert form["preorderFormInfo"]["formId"] == "patient_enrollment_form"
    user_input = {"patient": {"email": "xealth@tidepool.org", "connectAbbott": True, "connectDexcom": True}}
    resp = xealth.preorder(subsequent(tracking, user_input), headers={"content-type": None})       # 4
    assert resp.status_code == 200 and resp.content == b"{}\n"
    xealth.serve_order(order(tracking))                                                             # 5
    assert xealth.notify(notification()).status_code == 200
    found = admin.get(f"/v1/clinics/{clinic['id']}/patients?search=e987655").json()["data"]         # 6
    assert len(found) == 1
    patient = found[0]
    assert (patient["mrn"], patient["fullName"], patient["email"]) == ("e987655", FULL_NAME, "xealth@tidepool.org")
    assert len(patient["connectionRequests"]["abbott"]) == 1 and len(patient["connectionRequests"]["dexcom"]) == 1
    expected = {"description": "Last Upload: N/A | Last Viewed by You: N/A | Claimed Account?: No | "
                               "Cloud Connections: Abbott (pending), Dexcom (pending)",
                "enrolledDate": "2021-01-14", "hasStatusView": False, "has_alert": False, "programId": "100",
                "title": "Tidepool"}
    assert program(xealth) == {"present": True, "programs": [expected]}                             # 7
    resp = server.post(f"/v1/patients/{patient['id']}/summary", json=cgm_summary())                 # 8
    assert resp.status_code == 200
    programs = program(xealth)["programs"][0]                                                       # 9
    assert programs["description"].startswith("Last Upload: 2024-01-18 | Last Viewed by You: N/A")
    assert programs["hasStatusView"] is True and programs["has_alert"] is True
    url = urllib.parse.urlsplit(xealth.program_url(program_url_request()).json()["url"])            # 10
    assert (url.scheme, url.netloc, url.path) == ("https", "integration.test.app.url.com",
                                                  "/v1/xealth/report/web/viewer.html")
    query = dict(urllib.parse.parse_qsl(url.query))
    assert (query["clinicId"], query["patientId"]) == (clinic["id"], patient["id"])
    token = query["restricted_token"]
    page = anonymous.get(f"/v1/xealth/report/web/viewer.html?{url.query}", headers=xealth_bearer())  # 11
    assert page.status_code == 200
    report = (f"{APP_URL}/export/report/{patient['id']}?bgUnits=mg%2FdL&dob=1985-01-11&endDate=2024-01-17T06%3A38%3A22Z"
              f"&fullName=FirstName+First+LastName+Last&inline=true&mrn=e987655&reports=all&restricted_token={token}"
              f"&startDate=2024-01-03T06%3A38%3A22Z&tzName=US%2FPacific&userId={patient['id']}")
    assert report.replace("/", "\\/").replace("&", "\\u0026").replace("+", "\\u002b") in page.text
    programs = program(xealth)["programs"][0]                                                       # 12
    assert f"Last Viewed by You: {NOW:%Y-%m-%d}" in programs["description"]
    assert programs["has_alert"] is False and programs["hasStatusView"] is True
    xealth.server.clear()
    xealth.server.expect_request("/oauth2/token").respond_with_json({"access_token": ACCESS_TOKEN})
    xealth.serve_order(order(tracking, state="canceled"))                                           # 13
    assert xealth.notify(notification("cancel")).status_code == 200
    assert program(xealth) == {"present": False}
    assert xealth.preorder(preorder()).content == b"{}\n"                                           # 14
    mismatch = xealth.preorder(preorder(dob="1985-01-12"))                                          # 15
    assert mismatch.status_code == 200 and forms.BIRTHDAY_MISMATCH[0] in mismatch.json()["preorderFormInfo"][
        "formSchema"]["properties"]["error_0"]["description"]
    xealth.serve_order(order(tracking))                                                             # 16
    assert xealth.notify(notification()).status_code == 200
    assert program(xealth)["present"] is True
    assert admin.delete(f"/v1/clinics/{clinic['id']}/patients/{patient['id']}").status_code == 204  # 17
    renewed = xealth.preorder(preorder()).json()                                                    # 18
    assert renewed["preorderFormInfo"]["formId"] == "patient_enrollment_form"
    assert renewed["dataTrackingId"] != tracking
    # 19: the address now belongs to a Tidepool user (here: one this service has seen).
    as_user("6666666666", email="xealth@tidepool.org").get(f"/v1/clinics/{clinic['id']}")
    taken = xealth.preorder(subsequent(renewed["dataTrackingId"], user_input)).json()
    assert taken["notOrderable"] is True
    assert taken["preorderFormInfo"]["formSchema"]["properties"]["error_0"]["description"] == forms.DUPLICATE_EMAIL[0]
    assert "already in use with another account" in forms.DUPLICATE_EMAIL[0]
    # 20: the guardian flow. The clock is 2099, so a child is born in 2090 (the reference: 2023).
    child = xealth.preorder(preorder(dob="2090-01-11", mrn="e987656")).json()
    assert child["preorderFormInfo"]["formId"] == "guardian_enrollment_form" and child["notOrderable"] is False
    guardian = {"email": "xealth+guardian@tidepool.org", "firstName": "James", "lastName": "Jellyfish"}
    done = xealth.preorder(subsequent(child["dataTrackingId"], {"guardian": guardian}, dob="2090-01-11",
                                      mrn="e987656"))
    assert done.content == b"{}\n"
    xealth.serve_order(order(child["dataTrackingId"], dob="2090-01-11", mrn="e987656", order_id=GUARDIAN_ORDER),
                       order_id=GUARDIAN_ORDER)
    assert xealth.notify(notification(order_id=GUARDIAN_ORDER)).status_code == 200
    found = admin.get(f"/v1/clinics/{clinic['id']}/patients?search=e987656").json()["data"]
    assert [(p["fullName"], p["email"]) for p in found] == [(FULL_NAME, "xealth+guardian@tidepool.org")]


def xealth_bearer():
    return {"Authorization": "Bearer xealth-token"}


# --- restricted tokens of the platform auth service (tidepool mode) --------------------------------------

def platform_settings(server, **extra) -> Settings:
    env = {"CLINIC_INTEGRATIONS": "tidepool", "TIDEPOOL_AUTH_CLIENT_ADDRESS": server.url_for("/auth-api"),
           "TIDEPOOL_AUTH_CLIENT_EXTERNAL_ADDRESS": server.url_for("/external"),
           "TIDEPOOL_AUTH_CLIENT_EXTERNAL_SERVER_SESSION_TOKEN_SECRET": "platform-secret", **extra}
    return Settings.from_env(stores.with_store(env))


@pytest.fixture
def platform(httpserver):
    def login(request):
        ok = request.headers.get("X-Tidepool-Server-Secret") == "platform-secret" and \
            request.headers.get("X-Tidepool-Server-Name") == "clinic"
        return Response("", status=200 if ok else 401, headers={"X-Tidepool-Session-Token": "platform-token"})

    httpserver.expect_request("/external/auth/serverlogin", method="POST").respond_with_handler(login)
    return httpserver


TOKEN_JSON = {"id": "1234567890abcdef1234567890abcdef", "userId": "1234567891",
              "expirationTime": "2099-02-01T13:30:00Z", "createdTime": "2099-02-01T12:30:00Z"}


def test_platform_restricted_tokens(platform):
    platform.expect_request("/auth-api/v1/users/1234567891/restricted_tokens", method="POST", json={},
                            headers={"X-Tidepool-Session-Token": "platform-token"}).respond_with_json(TOKEN_JSON, 201)
    platform.expect_request(f"/auth-api/v1/restricted_tokens/{TOKEN_JSON['id']}", method="GET",
                            headers={"X-Tidepool-Session-Token": "platform-token"}).respond_with_json(TOKEN_JSON)
    platform.expect_request("/auth-api/v1/restricted_tokens/unknown").respond_with_json({}, 404)
    client = TidepoolRestrictedTokens(platform_settings(platform))
    created = client.create("1234567891")
    assert created == {"id": TOKEN_JSON["id"], "userId": "1234567891",
                       "expirationTime": dt.datetime(2099, 2, 1, 13, 30, tzinfo=dt.timezone.utc)}
    assert client.get(TOKEN_JSON["id"]) == created
    assert client.get("unknown") is None and client.get("") is None
    assert len([r for r, _ in platform.log if r.path == "/external/auth/serverlogin"]) == 1


def test_platform_service_secret_replaces_the_session_token(platform):
    platform.expect_request("/auth-api/v1/users/u1/restricted_tokens", method="POST",
                            headers={"X-Tidepool-Service-Secret": "shh"}).respond_with_json(
                                {**TOKEN_JSON, "userId": "u1"})
    client = TidepoolRestrictedTokens(platform_settings(platform, TIDEPOOL_SERVICE_SECRET="shh"))
    assert client.create("u1")["userId"] == "u1"
    assert not [r for r, _ in platform.log if r.path == "/external/auth/serverlogin"]


@pytest.mark.parametrize("secret,status,body", [("wrong", 201, TOKEN_JSON), ("platform-secret", 500, {}),
                                                ("platform-secret", 201, {"userId": "x"})])
def test_platform_failures_are_internal_errors(platform, secret, status, body):
    platform.expect_request("/auth-api/v1/users/u1/restricted_tokens").respond_with_json(body, status)
    client = TidepoolRestrictedTokens(platform_settings(
        platform, TIDEPOOL_AUTH_CLIENT_EXTERNAL_SERVER_SESSION_TOKEN_SECRET=secret))
    with pytest.raises(InternalError):
        client.create("u1")


def test_report_link_in_tidepool_mode(xealth, platform, services, monkeypatch, server, admin, clinic, anonymous):
    from xealth_support import enroll

    set_ehr(server, clinic["id"], xealth_settings())
    enroll(xealth)
    configure(services, monkeypatch, integrations="tidepool", auth_address=platform.url_for("/auth-api"),
              auth_external_address=platform.url_for("/external"), auth_server_secret="platform-secret")
    user_id = services.store.db.patients.find_one()["userId"]
    token = {**TOKEN_JSON, "userId": user_id}
    platform.expect_request(f"/auth-api/v1/users/{user_id}/restricted_tokens", method="POST").respond_with_json(token)
    platform.expect_request(f"/auth-api/v1/restricted_tokens/{token['id']}").respond_with_json(token)
    url = xealth.program_url(program_url_request()).json()["url"]
    assert f"restricted_token={token['id']}" in url
    page = anonymous.get("/v1/xealth/report/web/viewer.html?" + urllib.parse.urlsplit(url).query)
    assert page.status_code == 200 and f"restricted_token={token['id']}" in page.text.replace("\\u0026", "&")


# --- the Xealth client ----------------------------------------------------------------------------------

def test_xealth_client_token_reuse_and_expiry(httpserver):
    settings = Settings.from_env(({"TIDEPOOL_XEALTH_ENABLED": "true", "TIDEPOOL_XEALTH_BEARER_TOKEN": "b",
                                  "TIDEPOOL_XEALTH_CLIENT_ID": "id", "TIDEPOOL_XEALTH_CLIENT_SECRET": "secret",
                                  "TIDEPOOL_APPLICATION_URL": APP_URL,
                                  "TIDEPOOL_XEALTH_TOKEN_URL": httpserver.url_for("/token"),
                                  "TIDEPOOL_XEALTH_SERVER_BASE_URL": httpserver.url_for("/v2/")}))
    httpserver.expect_request("/token", method="POST", data="grant_type=client_credentials").respond_with_json(
        {"access_token": "a1", "expires_in": 100})
    httpserver.expect_request(f"/v2/partner/read/order/{DEPLOYMENT}/o 1",
                              headers={"Authorization": "Bearer a1"}).respond_with_json({"orderInfo": {}})
    now = [0.0]
    client = XealthClient(settings, clock=lambda: now[0])
    assert client.read_order(DEPLOYMENT, "o 1") == {"orderInfo": {}}
    now[0] = 69.0
    client.access_token()
    assert len([r for r, _ in httpserver.log if r.path == "/token"]) == 1
    now[0] = 71.0
    client.access_token()
    assert len([r for r, _ in httpserver.log if r.path == "/token"]) == 2


@pytest.mark.parametrize("status,body", [(401, {"error": "invalid_client"}), (200, {"token_type": "bearer"})])
def test_xealth_client_token_failures(httpserver, status, body):
    settings = Settings.from_env(({"TIDEPOOL_XEALTH_ENABLED": "1", "TIDEPOOL_XEALTH_BEARER_TOKEN": "b",
                                  "TIDEPOOL_XEALTH_CLIENT_ID": "id", "TIDEPOOL_XEALTH_CLIENT_SECRET": "s",
                                  "TIDEPOOL_APPLICATION_URL": "",
                                  "TIDEPOOL_XEALTH_TOKEN_URL": httpserver.url_for("/t")}))
    httpserver.expect_request("/t").respond_with_json(body, status)
    with pytest.raises(InternalError):
        XealthClient(settings).access_token()


def test_xealth_settings():
    base = {"TIDEPOOL_XEALTH_ENABLED": "true", "TIDEPOOL_XEALTH_BEARER_TOKEN": "b", "TIDEPOOL_XEALTH_CLIENT_ID": "i",
            "TIDEPOOL_XEALTH_CLIENT_SECRET": "s", "TIDEPOOL_APPLICATION_URL": "u"}
    settings = Settings.from_env((base))
    assert settings.xealth_enabled and settings.xealth_token_url == "https://auth-sandbox.xealth.io/oauth2/token"
    assert settings.xealth_server_base_url == "https://api-sandbox.xealth.io/v2"
    from clinic_api.settings import SettingsError
    for name in ("TIDEPOOL_XEALTH_BEARER_TOKEN", "TIDEPOOL_APPLICATION_URL"):
        with pytest.raises(SettingsError, match=f"required key {name} missing value"):
            Settings.from_env(({k: v for k, v in base.items() if k != name}))
    with pytest.raises(SettingsError):
        Settings.from_env(({"TIDEPOOL_XEALTH_ENABLED": ""}))
    disabled = Settings.from_env(({"TIDEPOOL_XEALTH_BEARER_TOKEN": "ignored",
                                   "TIDEPOOL_REDOX_VERIFICATION_TOKEN": "r"}))
    assert not disabled.xealth_enabled and disabled.xealth_bearer_token == "" and \
        disabled.redox_verification_token == "r"
