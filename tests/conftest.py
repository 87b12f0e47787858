"""One app per test session; every test starts from an empty database. Responses are validated
against our own clinic.v1.yaml.

The store under test (tests/support/stores.py): CLINIC_TEST_STORE=memory (the default of a bare
`pytest`), CLINIC_TEST_STORE=secantus (a SecantusDB server this session starts on a free port and a
temporary directory), or CLINIC_TEST_MONGODB_URI=mongodb://... (any MongoDB, e.g. a replica set).
`make test` runs the suite on memory and on SecantusDB."""
from __future__ import annotations

import os
import warnings

import pytest

warnings.filterwarnings("ignore", category=DeprecationWarning)
from starlette.testclient import TestClient  # noqa: E402

from clinic_api.app import create_app  # noqa: E402
from clinic_api.auth.tokens import mint  # noqa: E402
from support import stores  # noqa: E402

pytest_plugins = ["support.fixtures"]

SECRET = "test-secret-for-the-clinic-api-suite-0123456789"
ADMIN_ID = "1234567890"
MEMBER_ID = "2345678901"
OTHER_ADMIN_ID = "3456789012"
PLAIN_USER_ID = "4567890123"


class Api:
    """A test client that speaks as a given caller."""

    def __init__(self, client: TestClient, token: str | None):
        self.client = client
        self.token = token

    def _headers(self, headers):
        out = dict(headers or {})
        if self.token is not None:
            out.setdefault("x-tidepool-session-token", self.token)
        return out

    def request(self, method, url, *, json=None, headers=None, **kw):
        return self.client.request(method, url, json=json, headers=self._headers(headers), **kw)

    def get(self, url, **kw):
        return self.request("GET", url, **kw)

    def post(self, url, json=None, **kw):
        return self.request("POST", url, json=json, **kw)

    def put(self, url, json=None, **kw):
        return self.request("PUT", url, json=json, **kw)

    def patch(self, url, json=None, **kw):
        return self.request("PATCH", url, json=json, **kw)

    def delete(self, url, **kw):
        return self.request("DELETE", url, **kw)


def token_for(user_id: str, *, server=False, email="", name="", idp="") -> str:
    return mint(SECRET, user_id, server=server, email=email, name=name, identity_provider=idp)


def pytest_sessionstart(session):
    stores.start()


def pytest_sessionfinish(session, exitstatus):
    stores.stop()


def pytest_configure(config):
    config.addinivalue_line("markers", "store_independent: starts its own processes and stores; "
                                       "run in the memory pass only")


def pytest_collection_modifyitems(config, items):
    """Tests that do not touch the store under test run once, in the memory pass."""
    if os.environ.get("CLINIC_TEST_STORE", "memory") == "memory" and not os.environ.get("CLINIC_TEST_MONGODB_URI"):
        return
    skip = pytest.mark.skip(reason="store-independent: runs in the memory pass")
    for item in items:
        if item.get_closest_marker("store_independent"):
            item.add_marker(skip)


def pytest_report_header(config):
    return f"store under test: {stores.describe()}"


@pytest.fixture(scope="session")
def app():
    return create_app(stores.settings(CLINIC_TOKEN_SECRET=SECRET, CLINIC_VALIDATE_RESPONSES="true"))


@pytest.fixture(scope="session")
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def services(app):
    return app.services


@pytest.fixture
def db(app):
    database = app.services.store.db
    stores.empty(database)
    app.services.users._seen.clear() if hasattr(app.services.users, "_seen") else None
    return database


@pytest.fixture
def as_user(client, db):
    def make(user_id: str, **kw) -> Api:
        return Api(client, token_for(user_id, **kw))
    return make


@pytest.fixture
def server(client, db) -> Api:
    return Api(client, token_for("server", server=True))


@pytest.fixture
def anonymous(client, db) -> Api:
    return Api(client, None)


@pytest.fixture
def admin(as_user) -> Api:
    return as_user(ADMIN_ID, email="admin@example.com", name="Ada Admin")


@pytest.fixture
def plain_user(as_user) -> Api:
    return as_user(PLAIN_USER_ID, email="plain@example.com")


CLINIC_BODY = {
    "name": "Todd's Clinic", "address": "1 Todd's Way", "city": "San Francisco", "postalCode": "90210",
    "state": "California", "country": "USA", "website": "http://www.test.com", "clinicType": "provider_practice",
    "clinicSize": "0-249", "phoneNumbers": [{"number": "+15551115555"}], "preferredBgUnits": "mg/dL",
    "timezone": "US/Pacific",
}


@pytest.fixture
def clinic(admin) -> dict:
    """A clinic created by `admin` through the API."""
    resp = admin.post("/v1/clinics", json=CLINIC_BODY)
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.fixture
def member(as_user, db, clinic) -> Api:
    """A CLINIC_MEMBER of `clinic`, inserted directly (the clinicians family is tested elsewhere)."""
    from bson import ObjectId
    from clinic_api import wire

    now = wire.now()
    db.clinicians.insert_one({"clinicId": ObjectId(clinic["id"]), "userId": MEMBER_ID, "email": "member@example.com",
                              "name": "Mel Member", "roles": ["CLINIC_MEMBER"], "createdTime": now, "updatedTime": now})
    return as_user(MEMBER_ID, email="member@example.com")


@pytest.fixture
def other_admin(as_user) -> Api:
    """The admin of another clinic."""
    api = as_user(OTHER_ADMIN_ID, email="other@example.com")
    resp = api.post("/v1/clinics", json={**CLINIC_BODY, "name": "Other Clinic"})
    assert resp.status_code == 200
    return api
