"""The access matrix: who may call an operation. One helper for every family's refusal tests:
`expect_access` calls an operation as each kind of caller (the conftest fixtures by name) and checks
the allowed ones' statuses and everyone else's refusal; `assert_denied` / `assert_token_required`
check one caller."""
from __future__ import annotations

CALLERS = ("server", "admin", "member", "other_admin", "plain_user", "anonymous")
FORBIDDEN = {"message": "security requirements failed: the subject is not authorized for the requested action"}
TOKEN_MISSING = {"message": "session token is missing"}


def expect_access(request, call, allowed: dict) -> None:
    """Call the operation as each kind of caller. `allowed` maps a caller name to its expected
    status; every other caller must get 403 (400 without a token). `call(api)` makes the request
    and returns the response; the fixtures are looked up by name."""
    for name in CALLERS:
        api = request.getfixturevalue(name)
        resp = call(api)
        if name in allowed:
            assert resp.status_code == allowed[name], (name, resp.status_code, resp.text)
        elif name == "anonymous":
            assert (resp.status_code, resp.json()) == (400, TOKEN_MISSING), (name, resp.text)
        else:
            assert (resp.status_code, resp.json()) == (403, FORBIDDEN), (name, resp.text)


def assert_denied(api, method: str, url: str, json=None) -> None:
    resp = api.request(method, url, json=json)
    assert (resp.status_code, resp.json()) == (403, FORBIDDEN), (method, url, resp.status_code, resp.text)


def assert_token_required(anonymous, method: str, url: str, json=None) -> None:
    resp = anonymous.request(method, url, json=json)
    assert (resp.status_code, resp.json()) == (400, TOKEN_MISSING), (method, url, resp.text)
