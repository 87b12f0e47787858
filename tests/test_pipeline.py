"""The pipeline before any handler: tokens, unknown routes, /ready, error format."""
from conftest import Api, token_for


def test_missing_token_is_400_even_on_unknown_paths(anonymous):
    for method, url in [("GET", "/v1/clinics"), ("GET", "/nowhere"), ("DELETE", "/v1/clinics/abc"),
                        ("GET", "/metrics/"), ("GET", "/docsx"), ("GET", "/ready/")]:  # /metrics, /docs: exempt
        resp = anonymous.request(method, url)
        assert resp.status_code == 400
        assert resp.content == b'{"message":"session token is missing"}\n'
        assert resp.headers["content-type"] == "application/json"


def test_empty_token_is_missing(client, db):
    resp = client.get("/v1/clinics", headers={"x-tidepool-session-token": ""})
    assert resp.status_code == 400
    assert resp.json() == {"message": "session token is missing"}


def test_invalid_token_is_401(client, db):
    for token in ["garbage", token_for("1234567890")[:-2] + "xx"]:
        resp = Api(client, token).get("/v1/clinics")
        assert resp.status_code == 401
        assert resp.content == b'{"message":"session token is invalid"}\n'


def test_token_signed_with_another_secret_is_invalid(client, db):
    from clinic_api.auth.tokens import mint
    resp = Api(client, mint("another-secret-of-at-least-thirty-two-bytes!!",
                            "1234567890")).get("/v1/clinics/" + "a" * 24)
    assert resp.status_code == 401


def test_unknown_path_with_valid_token_is_404(admin):
    resp = admin.get("/v1/nothing/here")
    assert resp.status_code == 404
    assert resp.content == b'{"message":"no matching operation was found"}\n'
    assert admin.get("/metrics/").json() == {"message": "no matching operation was found"}


def test_known_path_other_method_is_404_method_not_allowed(admin):
    resp = admin.patch("/v1/clinics")
    assert resp.status_code == 404
    assert resp.content == b'{"message":"method not allowed"}\n'


def test_ready(anonymous):
    resp = anonymous.get("/ready")
    assert resp.status_code == 200 and resp.content == b""
    head = anonymous.request("HEAD", "/ready")
    assert head.status_code == 405 and head.headers["allow"] == "OPTIONS, GET"
    post = anonymous.post("/ready")
    assert post.status_code == 405 and post.json() == {"message": "Method Not Allowed"}
    opts = anonymous.request("OPTIONS", "/ready")
    assert opts.status_code == 204 and opts.headers["allow"] == "OPTIONS, GET"


def test_skipped_routes_do_not_need_a_token(anonymous):
    resp = anonymous.get("/v1/redox")
    assert resp.status_code == 405
    assert resp.headers["allow"] == "OPTIONS, POST"
    assert resp.json() == {"message": "Method Not Allowed"}
    assert anonymous.get("/v1/xealth/report/nothing.js").status_code == 404


def test_html_characters_are_escaped_like_go(admin):
    resp = admin.post("/v1/clinics", json={"name": "<A & B>", "preferredBgUnits": "mg/dL"})
    assert resp.status_code == 200
    assert b'"name":"\\u003cA \\u0026 B\\u003e"' in resp.content
    assert resp.content.endswith(b"}\n")


def test_unexpected_failure_is_a_bare_500(admin, monkeypatch):
    from clinic_api.store import clinics

    def boom(*a, **k):
        raise RuntimeError("E11000 secret mongo detail for patient Jane Doe")
    monkeypatch.setattr(clinics, "list_page", boom)
    resp = Api(admin.client, token_for("srv", server=True)).get("/v1/clinics")
    assert resp.status_code == 500
    assert resp.content == b'{"message":"Internal Server Error"}\n'


def test_every_operation_has_a_handler():
    from clinic_api import spec
    from clinic_api.resolver import find_handler
    assert [op for op in spec.operations() if find_handler(op) is None] == []


def test_empty_responses_carry_no_content_type(admin, server, clinic):
    resp = server.post(f"/v1/clinics/{clinic['id']}/tier", json={"tier": "tier0200"})
    assert resp.status_code == 200 and resp.content == b""
    assert "content-type" not in resp.headers
    resp = admin.delete(f"/v1/clinics/{clinic['id']}")
    assert resp.status_code == 204 and "content-type" not in resp.headers


def test_pretty_indents_json_bodies_errors_included(server, admin):
    resp = server.get("/v1/clinics?pretty")
    assert resp.content == b"[]\n"
    resp = admin.get("/v1/clinics?pretty=1")
    assert resp.status_code == 403
    assert resp.content == (b'{\n  "message": "security requirements failed: the subject is not authorized '
                            b'for the requested action"\n}\n')
