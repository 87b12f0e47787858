"""The lighter pipeline (issue 13 item 4) changes no answer: the gate's one route resolution picks
what connexion's router picks, error responses are the same bytes (rendered on the event loop),
and a standalone token is verified once per its lifetime in a bounded cache."""
from __future__ import annotations

import asyncio
import hashlib
import re
import time

import jwt
import pytest
from connexion.middleware.routing import RoutingMiddleware
from connexion.spec import Specification

from clinic_api import errors, spec
from clinic_api.auth.tokens import ALGORITHM, StandaloneTokens, TokenInvalid
from clinic_api.resolver import ClinicResolver
from conftest import Api, token_for

SECRET = "a-secret-of-at-least-thirty-two-characters!"


# --- the route, matched once --------------------------------------------------------------------

def _connexion_router():
    """connexion's own routing middleware on the contract, and what it hands to the next app."""
    seen: dict = {}

    async def capture(scope, receive, send):
        seen["scope"] = scope

    router = RoutingMiddleware(capture)
    router.add_api(Specification.load(spec.SPEC_PATH), base_path="", resolver=ClinicResolver())

    def route(path: str, method: str):
        seen.clear()
        scope = {"type": "http", "method": method, "path": path, "root_path": "", "query_string": b"",
                 "headers": [], "extensions": {}}
        asyncio.run(router(scope, _no_body, _ignore))
        if "scope" not in seen:  # Starlette answered itself (a known path, another method)
            return None
        out = seen["scope"]
        operation_id = out["extensions"]["connexion_routing"]["operation_id"]
        if operation_id is None:
            return None
        return operation_id, dict(out.get("path_params") or {}), out["extensions"]["connexion_routing"]

    return route


async def _no_body():
    return {"type": "http.request", "body": b"", "more_body": False}


async def _ignore(message):
    return None


def _paths():
    """Every template with ordinary values, and with values that are other templates' literals."""
    literals = sorted({seg for r in spec.routes() for seg in r.template.split("/") if seg and "{" not in seg})
    for route in spec.routes():
        names = re.findall(r"\{([^}]+)\}", route.template)
        for value in ["6560f0f0f0f0f0f0f0f0f0f0", "1234567890", *literals[:40]]:
            path = route.template
            for name in names:
                path = path.replace("{" + name + "}", value)
            yield path


def test_the_gate_resolves_every_request_as_connexions_router_does():
    connexion_route = _connexion_router()
    checked = 0
    for path in sorted(set(_paths())):
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            ours = spec.resolve(path, method)
            theirs = connexion_route(path, method)
            assert (ours is None) == (theirs is None), (method, path, ours, theirs)
            if ours is not None:
                assert ours == theirs[:2], (method, path)
                assert theirs[2]["api_base_path"] == ""
                checked += 1
    assert checked > 500


def test_match_lists_the_same_routes_as_a_scan_of_all_templates():
    for path in sorted(set(_paths())) + ["/", "/v1", "/v1/clinics/", "/v1/clinics\n", "//v1/clinics"]:
        assert spec.match(path) == [r for r in spec.routes() if r.regex.match(path)], path


# --- errors: the same bytes, rendered without a thread ------------------------------------------

def test_error_handlers_run_on_the_event_loop(app):
    handlers = app.middleware.error_handlers
    assert len(handlers) == len(errors.HANDLERS)
    assert all(asyncio.iscoroutinefunction(h) for _, h in handlers)


def test_error_responses_are_unchanged(client, db, admin, anonymous):
    clinic = "6560f0f0f0f0f0f0f0f0f0f0"
    cases = [
        (anonymous.get("/v1/clinics"), 400, b'{"message":"session token is missing"}\n'),
        (Api(client, "garbage").get("/v1/clinics"), 401, b'{"message":"session token is invalid"}\n'),
        (admin.get("/v1/nothing/here"), 404, b'{"message":"no matching operation was found"}\n'),
        (admin.request("PATCH", "/v1/clinics"), 404, b'{"message":"method not allowed"}\n'),
        (admin.get("/v1/clinics"), 403, b'{"message":"security requirements failed: the subject is not '
                                        b'authorized for the requested action"}\n'),
        (admin.get(f"/v1/clinics/{clinic}"), 404, b'{"message":"clinic not found"}\n'),
        (Api(client, token_for("server", server=True)).get("/v1/clinics?limit=x"), 400,
         b'{"message":"parameter \\"limit\\" in query has an error: value x: an invalid integer: invalid syntax"}\n'),
    ]
    for resp, status, body in cases:
        assert (resp.status_code, resp.content) == (status, body), resp.request.url
        assert resp.headers["content-type"] == "application/json"
        assert resp.headers["content-length"] == str(len(body))
        assert resp.headers["x-request-id"]


# --- a token verified once per its lifetime --------------------------------------------------------

def _token(sub="1234567890", **claims) -> str:
    return jwt.encode({"sub": sub, "srv": False, "iat": int(time.time()), **claims}, SECRET, algorithm=ALGORITHM)


def _counting(verifier: StandaloneTokens) -> list:
    calls: list = []
    decode = verifier._decode

    def counted(token):
        calls.append(token)
        return decode(token)

    verifier._decode = counted  # type: ignore[method-assign]
    return calls


def test_a_token_is_verified_once_and_cached_by_its_hash():
    verifier = StandaloneTokens(SECRET)
    calls = _counting(verifier)
    token = _token(exp=int(time.time()) + 3600, email="a@example.com")
    first = verifier.verify(token)
    assert verifier.verify(token) == first and len(calls) == 1
    assert first.user_id == "1234567890" and first.email == "a@example.com"
    assert list(verifier.cache.keys()) == [hashlib.sha256(token.encode()).digest()]  # never the token itself


def test_a_cached_token_expires_at_its_exp():
    wall = [time.time()]
    verifier = StandaloneTokens(SECRET, clock=lambda: wall[0])
    calls = _counting(verifier)
    exp = int(wall[0]) + 60
    token = _token(exp=exp)
    verifier.verify(token)
    wall[0] = exp - 0.001
    verifier.verify(token)
    assert len(calls) == 1
    wall[0] = exp  # the cache lets go at exp: the token is checked again (PyJWT's own clock says valid)
    verifier.verify(token)
    assert len(calls) == 2


def test_a_token_without_exp_is_rechecked_after_the_maximum_age():
    wall = [time.time()]
    verifier = StandaloneTokens(SECRET, clock=lambda: wall[0])
    calls = _counting(verifier)
    token = _token()
    verifier.verify(token)
    wall[0] += StandaloneTokens.MAX_AGE_SECONDS - 1
    verifier.verify(token)
    assert len(calls) == 1
    wall[0] += 1
    verifier.verify(token)
    assert len(calls) == 2


def test_an_expired_token_is_invalid_and_failures_are_not_cached():
    verifier = StandaloneTokens(SECRET)
    expired = _token(exp=int(time.time()) - 1)
    for _ in range(2):
        with pytest.raises(TokenInvalid):
            verifier.verify(expired)
    with pytest.raises(TokenInvalid):
        verifier.verify(_token()[:-2] + "xx")
    assert len(verifier.cache) == 0


def test_the_cache_is_bounded():
    verifier = StandaloneTokens(SECRET, capacity=3)
    calls = _counting(verifier)
    tokens = [_token(sub=f"{n:010d}", exp=int(time.time()) + 600) for n in range(5)]
    for token in tokens:
        verifier.verify(token)
    assert len(verifier.cache) == 3
    verifier.verify(tokens[0])  # the least recently used went first
    assert len(calls) == 6
    assert StandaloneTokens(SECRET).cache.maxsize == StandaloneTokens.CACHE_CAPACITY


def test_a_token_past_its_exp_is_refused_by_the_app(client, db):
    exp = int(time.time()) + 2
    token = jwt.encode({"sub": "server", "srv": True, "exp": exp}, "test-secret-for-the-clinic-api-suite-0123456789",
                       algorithm=ALGORITHM)
    assert Api(client, token).get("/v1/clinics").status_code == 200
    while time.time() < exp:
        time.sleep(0.05)
    assert Api(client, token).get("/v1/clinics").content == b'{"message":"session token is invalid"}\n'
