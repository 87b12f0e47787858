"""Fixtures shared by several test modules, registered once by tests/conftest.py (`pytest_plugins`)
instead of being imported into each module."""
from __future__ import annotations

import pytest

from ehr_support import APP_URL, XEALTH_TOKEN, configure, set_ehr, xealth_settings
from xealth_support import ACCESS_TOKEN, Xealth


@pytest.fixture
def xealth(services, monkeypatch, httpserver, anonymous):
    configure(services, monkeypatch, xealth_enabled=True, xealth_bearer_token=XEALTH_TOKEN,
              xealth_client_id="tidepool client", xealth_client_secret="s3cret/+",
              xealth_token_url=httpserver.url_for("/oauth2/token"), xealth_server_base_url=httpserver.url_for("/v2"),
              application_url=APP_URL)
    httpserver.expect_request("/oauth2/token", method="POST").respond_with_json(
        {"access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600})
    return Xealth(anonymous, httpserver)


@pytest.fixture
def xealth_clinic(xealth, server, clinic) -> dict:
    set_ehr(server, clinic["id"], xealth_settings())
    return clinic
