"""The tidepool authentication backend against a real local HTTP server playing shoreline:
server login, token checks, the 5-minute cache of server tokens only."""
import pytest
from starlette.testclient import TestClient

from clinic_api.app import create_app
from clinic_api.auth.tokens import ShorelineTokens, TokenInvalid
from clinic_api.errors import ServiceUnavailable
from clinic_api.integrations.tidepool import ServerSession
from clinic_api.settings import Settings
from support import stores
from shoreline_support import serve_server_login, tidepool_settings



@pytest.fixture
def shoreline(httpserver):
    return serve_server_login(httpserver)


def expect_token(server, token, body, status=200):
    server.expect_request(f"/token/{token}", method="GET", headers={"x-tidepool-session-token": "our-server-token"}
                          ).respond_with_json(body, status=status)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_user_token_accepted_with_lowercase_keys_and_checked_every_time(shoreline):
    expect_token(shoreline, "user-token", {"userid": "1234567890", "isserver": False})
    tokens = ShorelineTokens(ServerSession(tidepool_settings(shoreline)))
    p = tokens.verify("user-token")
    assert (p.user_id, p.is_server) == ("1234567890", False)
    tokens.verify("user-token")
    calls = [r for r, _ in shoreline.log if r.path == "/token/user-token"]
    assert len(calls) == 2  # user tokens are never cached


def test_server_token_cached_for_five_minutes(shoreline):
    expect_token(shoreline, "srv", {"userId": "server", "isServer": True})
    clock = Clock()
    tokens = ShorelineTokens(ServerSession(tidepool_settings(shoreline)), clock=clock)
    assert tokens.verify("srv").is_server
    clock.now += 299
    tokens.verify("srv")
    assert len([r for r, _ in shoreline.log if r.path == "/token/srv"]) == 1
    clock.now += 2
    tokens.verify("srv")
    assert len([r for r, _ in shoreline.log if r.path == "/token/srv"]) == 2


@pytest.mark.parametrize("status,body", [(404, {}), (401, {}), (200, {"userid": "", "isserver": True}), (200, ["x"])])
def test_rejections(shoreline, status, body):
    expect_token(shoreline, "bad", body, status=status)
    tokens = ShorelineTokens(ServerSession(tidepool_settings(shoreline)))
    with pytest.raises(TokenInvalid):
        tokens.verify("bad")
    with pytest.raises(TokenInvalid):  # failures are never cached
        tokens.verify("bad")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_failing_auth_service_is_unavailable_not_a_bad_token(shoreline, status):
    expect_token(shoreline, "tok", {}, status=status)
    tokens = ShorelineTokens(ServerSession(tidepool_settings(shoreline)))
    for _ in range(2):  # never cached
        with pytest.raises(ServiceUnavailable) as unavailable:
            tokens.verify("tok")
        assert unavailable.value.message == "the auth service is unavailable; try again later"


def test_an_unreachable_auth_service_is_unavailable_not_a_bad_token():
    settings = Settings.from_env({"CLINIC_INTEGRATIONS": "tidepool", "TIDEPOOL_SHORELINE_CLIENT_ADDRESS": "http://127.0.0.1:9"})
    with pytest.raises(ServiceUnavailable):
        ShorelineTokens(ServerSession(settings)).verify("x")


def test_the_pipeline_answers_503_with_retry_after_when_shoreline_is_down():
    settings = Settings.from_env(stores.with_store({
        "CLINIC_INTEGRATIONS": "tidepool", "TIDEPOOL_SHORELINE_CLIENT_ADDRESS": "http://127.0.0.1:9",
        "TIDEPOOL_SERVER_TOKEN": "secret"}))
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        resp = client.get("/v1/clinics", headers={"x-tidepool-session-token": "some-user-token"})
    assert resp.status_code == 503
    assert resp.json() == {"message": "the shoreline service is unavailable; try again later"}
    assert resp.headers["retry-after"] == "5"


def test_pipeline_in_tidepool_mode(shoreline):
    expect_token(shoreline, "srv", {"userid": "server", "isserver": True})
    expect_token(shoreline, "user", {"userid": "1234567890", "isserver": False})
    shoreline.expect_request("/token/nope").respond_with_data("", status=404)
    shoreline.expect_request("/user/1234567890").respond_with_json(
        {"userid": "1234567890", "username": "Ada@Example.com", "emails": ["Ada@Example.com"]})
    shoreline.expect_request("/1234567890/profile").respond_with_json({"fullName": "Ada Admin"})
    app = create_app(tidepool_settings(shoreline))
    with TestClient(app) as client:
        assert client.get("/v1/clinics").json() == {"message": "session token is missing"}
        resp = client.get("/v1/clinics", headers={"x-tidepool-session-token": "nope"})
        assert (resp.status_code, resp.json()) == (401, {"message": "session token is invalid"})
        resp = client.get("/v1/clinics", headers={"x-tidepool-session-token": "srv"})
        assert (resp.status_code, resp.json()) == (200, [])
        resp = client.post("/v1/clinics", headers={"x-tidepool-session-token": "user"},
                           json={"name": "Shoreline Clinic", "preferredBgUnits": "mg/dL"})
        assert resp.status_code == 200, resp.text
        clinic_id = resp.json()["id"]
    admin = app.services.store.db.clinicians.find_one({"userId": "1234567890"})
    assert admin["email"] == "Ada@Example.com"  # as shoreline returns it, not lower-cased
    assert admin["name"] == "Ada Admin" and admin["roles"] == ["CLINIC_ADMIN"]
    assert str(admin["clinicId"]) == clinic_id


def test_unknown_creator_is_404_not_found(shoreline):
    expect_token(shoreline, "ghost", {"userid": "ghost", "isserver": False})
    shoreline.expect_request("/user/ghost").respond_with_data("", status=404)
    app = create_app(tidepool_settings(shoreline))
    with TestClient(app) as client:
        resp = client.post("/v1/clinics", headers={"x-tidepool-session-token": "ghost"},
                           json={"name": "X", "preferredBgUnits": "mg/dL"})
    assert (resp.status_code, resp.json()) == (404, {"message": "not found"})
    assert app.services.store.db.clinics.count_documents({}) == 0
