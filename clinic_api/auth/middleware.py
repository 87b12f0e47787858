"""The request pipeline before the handler, in the reference's order:

Gate (before routing)      /ready; /metrics and the API docs pass without a token (answered by
                           observe.MetricsEndpoint and connexion's Swagger UI, or 404 when the docs
                           are off); routes that skip token auth; missing token -> 400; invalid
                           token -> 401; unknown path -> 404; known path, other method -> 404
Authorize (after routing)  the policy row of the operation -> 403, before request validation
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from clinic_api import errors, spec
from clinic_api.auth import policy
from clinic_api.auth.tokens import TokenInvalid
from clinic_api.context import EXTENSION
from clinic_api.routing import MATCHED, ROUTE
from clinic_api.wire import dumps

if TYPE_CHECKING:
    from clinic_api.services import Services

TOKEN_HEADER = "x-tidepool-session-token"
# Route templates whose callers are not token-authenticated (they verify themselves).
SKIPPED_TEMPLATES = {
    "/v1/redox", "/v1/redox/verify", "/v1/xealth/preorder", "/v1/xealth/notification",
    "/v1/xealth/programs", "/v1/xealth/program", "/v1/xealth/report/web/viewer.html",
}
READY_METHODS = "OPTIONS, GET"
# Token-exempt paths beside /ready, passed on to the middlewares that answer them.
EXEMPT_PATHS = frozenset({"/metrics", "/docs", "/openapi.json", "/openapi.yaml"})
EXEMPT_PREFIX = "/docs/"


def _json(status: int, message: str, headers: dict | None = None) -> Response:
    return Response(dumps({"message": message}), status_code=status, media_type="application/json",
                    headers=headers)


class Gate:
    def __init__(self, app: ASGIApp, *, services: Services):
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path == "/ready":
            await self._ready(method)(scope, receive, send)
            return
        if path in EXEMPT_PATHS or path.startswith(EXEMPT_PREFIX):
            await self.app(scope, receive, send)
            return
        routes = spec.match(path)
        extensions = scope.setdefault("extensions", {})
        extensions[MATCHED] = routes  # for the access log of a request refused here
        skipped = [r for r in routes if r.template in SKIPPED_TEMPLATES]
        if skipped or path.startswith("/v1/xealth/report/"):
            await self._skipped(scope, receive, send, skipped, method)
            return
        token = Headers(scope=scope).get(TOKEN_HEADER)
        if not token:
            raise errors.BadRequest(errors.SESSION_TOKEN_MISSING)
        principal = await self._verify(token)
        if not routes:
            raise errors.NotFound(errors.NO_OPERATION)
        if not any(method in r.operations for r in routes):
            raise errors.NotFound(errors.METHOD_NOT_ALLOWED)
        # The route is resolved here, once: routing.RouteOnce hands it to connexion as its own.
        extensions[EXTENSION] = {"principal": principal, "services": self.services,
                                 ROUTE: spec.resolve(path, method)}
        await self.app(scope, receive, send)

    async def _verify(self, token: str):
        verifier = self.services.tokens
        try:
            if verifier.blocking:
                principal = await anyio.to_thread.run_sync(verifier.verify, token)
            else:
                principal = verifier.verify(token)
        except TokenInvalid:
            raise errors.Unauthorized(errors.SESSION_TOKEN_INVALID) from None
        self.services.users.remember(principal)
        return principal

    def _ready(self, method: str):
        if method == "GET":
            return self._ready_get
        return self._ready_other(method)

    async def _ready_get(self, scope: Scope, receive: Receive, send: Send) -> None:
        """200 only when the database answers a ping within 2 s (the reference always says 200)."""
        if await anyio.to_thread.run_sync(self.services.store.ping):
            response = Response(b"", status_code=200, headers={"content-length": "0"})
        else:
            response = _json(503, errors.DATABASE_UNAVAILABLE, {"Retry-After": "5"})
        await response(scope, receive, send)

    @staticmethod
    def _ready_other(method: str) -> Response:
        if method == "OPTIONS":
            return Response(status_code=204, headers={"Allow": READY_METHODS})
        if method == "HEAD":
            return Response(status_code=405, headers={"Allow": READY_METHODS})
        return _json(405, "Method Not Allowed", {"Allow": READY_METHODS})

    async def _skipped(self, scope, receive, send, routes, method):
        allowed = sorted({m for r in routes for m in r.operations})
        if routes and method not in allowed:
            allow = ", ".join(["OPTIONS"] + allowed)
            if method == "OPTIONS":
                response = Response(status_code=204, headers={"Allow": allow})
            else:
                response = _json(405, "Method Not Allowed", {"Allow": allow})
            await response(scope, receive, send)
            return
        if not routes:
            await _json(404, "Not Found")(scope, receive, send)
            return
        scope.setdefault("extensions", {})[EXTENSION] = {"principal": None, "services": self.services,
                                                         ROUTE: spec.resolve(scope["path"], method)}
        await self.app(scope, receive, send)


class Authorize:
    def __init__(self, app: ASGIApp, *, services: Services):
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        routing = scope.get("extensions", {}).get("connexion_routing", {})
        operation_id = routing.get("operation_id")
        if operation_id is None:  # the gate already answered unknown routes
            raise errors.NotFound(errors.NO_OPERATION)
        if policy.RULES.get(operation_id) is not policy.PUBLIC:
            principal = scope["extensions"][EXTENSION]["principal"]
            params = dict(scope.get("path_params") or {})
            store = self.services.store
            memberships = self.services.memberships

            def load():
                return memberships(store.db, params.get("clinicId", ""), principal.user_id)

            req = policy.Request(principal=principal, path_params=params, load_clinician=load)
            if store.embedded:
                allowed = policy.allows(operation_id, req)
            else:
                allowed = await anyio.to_thread.run_sync(policy.allows, operation_id, req)
            if not allowed:
                raise errors.Forbidden(errors.NOT_AUTHORIZED)
        _drop_content_type_without_body(scope)
        await self.app(scope, receive, send)


class ResponseFormat:
    """Outermost: shapes every response, errors included, as the reference's server does."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if b"pretty" in scope.get("query_string", b""):
                send = _pretty(scope, send)
            send = _without_type_when_empty(send)
        await self.app(scope, receive, send)


def _pretty(scope: Scope, send: Send) -> Send:
    """`?pretty` (any value) indents JSON bodies by two spaces, errors included, as the reference."""
    from urllib.parse import parse_qs

    if "pretty" not in parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        return send
    start: dict = {}
    chunks: list[bytes] = []

    async def wrapped(message):
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        headers = list(start.get("headers") or [])
        is_json = any(k == b"content-type" and v.startswith(b"application/json") for k, v in headers)
        if is_json and body.strip():
            import orjson

            from clinic_api.wire import escape_html

            body = escape_html(orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2).decode()).encode() + b"\n"
            headers = [(k, v) for k, v in headers if k != b"content-length"] + [(b"content-length",
                                                                                 str(len(body)).encode())]
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def _without_type_when_empty(send: Send) -> Send:
    """A response without a body carries no Content-Type, as the reference's."""

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = message.get("headers") or []
            empty = message["status"] == 204 or any(k == b"content-length" and v == b"0" for k, v in headers)
            if empty:
                message = {**message, "headers": [(k, v) for k, v in headers if k != b"content-type"]}
        await send(message)

    return wrapped


def _drop_content_type_without_body(scope: Scope) -> None:
    """An empty body is no body: its Content-Type is not checked (as the reference's validator)."""
    headers = scope.get("headers") or []
    length = next((v for k, v in headers if k == b"content-length"), None)
    chunked = any(k == b"transfer-encoding" for k, _ in headers)
    if not chunked and (length is None or length.strip() in (b"", b"0")):
        scope["headers"] = [(k, v) for k, v in headers if k != b"content-type"]
