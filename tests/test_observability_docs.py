"""The API docs beside the API (issue 10, item 4): Swagger UI at /docs, the contract at
/openapi.json and /openapi.yaml, without a token; CLINIC_DOCS=false turns them off."""
from __future__ import annotations

import pytest
import yaml
from starlette.testclient import TestClient

from clinic_api import spec
from clinic_api.app import create_app
from clinic_api.settings import Settings, SettingsError
from support import stores

METHODS = ("get", "put", "post", "patch", "delete")


def test_swagger_ui_without_a_token(anonymous):
    resp = anonymous.get("/docs", follow_redirects=False)
    assert resp.status_code in (302, 307) and resp.headers["location"].endswith("/docs/")
    resp = anonymous.get("/docs/")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    assert 'id="swagger-ui"' in resp.text and "swagger-ui-bundle.js" in resp.text
    assert '"../openapi.json"' in resp.text  # relative: right behind a path prefix too
    for asset, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "text/css"),
                        ("swagger-ui-standalone-preset.js", "javascript")):
        resp = anonymous.get(f"/docs/{asset}")
        assert resp.status_code == 200 and kind in resp.headers["content-type"], asset
    # only the UI's own files: not the bundle's sample page or template
    assert anonymous.get("/docs/index.j2").status_code == 404
    assert anonymous.get("/docs/%2e%2e/clinic.v1.yaml").status_code == 404


def test_contract_as_json_with_every_operation(anonymous):
    resp = anonymous.get("/openapi.json")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
    document = resp.json()
    operations = [op for item in document["paths"].values() for m, op in item.items() if m in METHODS]
    assert len(operations) == 86
    assert document["servers"] == [{"url": "/", "description": "this server"}]  # "Try it out" calls us
    # the Authorize button: the contract's apiKey header
    assert document["components"]["securitySchemes"]["sessionToken"] == {
        **document["components"]["securitySchemes"]["sessionToken"],
        "type": "apiKey", "in": "header", "name": "x-tidepool-session-token"}
    assert document["security"] == [{"sessionToken": []}]


def test_contract_as_yaml_is_the_file(anonymous):
    resp = anonymous.get("/openapi.yaml")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/yaml")
    assert resp.content == spec.SPEC_PATH.read_bytes()
    assert len([m for item in yaml.safe_load(resp.content)["paths"].values() for m in item if m in METHODS]) == 86


def test_docs_only_get(anonymous):
    resp = anonymous.post("/openapi.json")
    assert (resp.status_code, resp.json()) == (405, {"message": "Method Not Allowed"})


def test_docs_off():
    app = create_app(Settings.from_env(stores.env(CLINIC_DOCS="false")))
    with TestClient(app) as client:
        for path in ("/docs", "/docs/", "/docs/swagger-ui.css", "/openapi.json", "/openapi.yaml"):
            resp = client.get(path, follow_redirects=False)
            assert (resp.status_code, resp.json()) == (404, {"message": "no matching operation was found"}), path
            assert resp.headers["x-request-id"]
        assert client.get("/metrics").status_code == 200  # the metrics stay


def test_docs_setting():
    assert Settings.from_env({}).docs is True
    assert Settings.from_env({"CLINIC_DOCS": "0"}).docs is False
    with pytest.raises(SettingsError):
        Settings.from_env({"CLINIC_DOCS": "no"})
