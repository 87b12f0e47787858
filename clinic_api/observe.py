"""The outermost middleware (`Observe`): request id, access log line and request metrics; and the
`/metrics` endpoint (`MetricsEndpoint`, after the gate, which lets it through without a token).

The access line (logger `clinic_api.access`) holds the request id, method, route template,
operationId, status, duration and caller (a user id, or "server") and nothing else of the request:
no query values, bodies, tokens or path values. `/ready` and `/metrics` are neither logged nor
counted.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import functools
import logging
import time

import anyio
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinic_api import metrics, request_id, spec
from clinic_api.context import EXTENSION
from clinic_api.routing import MATCHED
from clinic_api.wire import dumps

if TYPE_CHECKING:
    from clinic_api.services import Services

access_log = logging.getLogger("clinic_api.access")
UNLOGGED = frozenset({"/ready", "/metrics"})
DOCS_PATHS = frozenset({"/docs", "/openapi.json", "/openapi.yaml"})
DOCS_PREFIX = "/docs/"
_HEADER = request_id.HEADER.lower().encode("latin-1")


def is_docs(path: str) -> bool:
    return path in DOCS_PATHS or path.startswith(DOCS_PREFIX)


def operation_of(scope: Scope) -> tuple[str | None, str | None]:
    """(operationId, route template) of a request: connexion's routing when it ran, else the
    contract's match of the path (a request refused before routing, e.g. without a token)."""
    op = ((scope.get("extensions") or {}).get("connexion_routing") or {}).get("operation_id")
    if op:
        found = spec.operations().get(op)
        return op, found[1] if found else None
    routes = (scope.get("extensions") or {}).get(MATCHED)
    if routes is None:
        routes = spec.match(scope["path"])
    for route in routes:
        if scope["method"] in route.operations:
            return route.operations[scope["method"]], route.template
    return None, routes[0].template if routes else None


def caller_of(scope: Scope) -> str | None:
    principal = ((scope.get("extensions") or {}).get(EXTENSION) or {}).get("principal")
    if principal is None:
        return None
    return "server" if principal.is_server else principal.user_id


class Observe:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id.accept(Headers(scope=scope).get(request_id.HEADER))
        token = request_id.bind(rid)
        scope.setdefault("extensions", {})  # shared by the copies the middlewares below make
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers") or [] if k.lower() != _HEADER]
                message = {**message, "headers": headers + [(_HEADER, rid.encode("latin-1"))]}
            await send(message)

        if scope["path"] in UNLOGGED:
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                request_id.unbind(token)
            return
        metrics.IN_FLIGHT.inc()
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            status = status or 500
            raise
        finally:
            seconds = time.perf_counter() - start
            metrics.IN_FLIGHT.dec()
            self._record(scope, status, seconds)
            request_id.unbind(token)

    @staticmethod
    def _record(scope: Scope, status: int | None, seconds: float) -> None:
        docs = is_docs(scope["path"])
        op, route = (None, scope["path"]) if docs else operation_of(scope)
        label = op or ("docs" if docs else "unmatched")
        _counter(label, metrics.status_class(status) if status else "none").inc()
        _histogram(label).observe(seconds)
        if access_log.isEnabledFor(logging.INFO):
            # The record made directly: the same fields and line as access_log.info(...), without
            # looking up the caller's source frame, which no line shows.
            access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, "request", (), None,
                                                    extra={"method": scope["method"], "route": route,
                                                           "operation_id": op, "status": status,
                                                           "duration_ms": round(seconds * 1000, 3),
                                                           "caller": caller_of(scope)}))


# The labelled children of the request metrics, looked up once per label set (a few dozen).
@functools.lru_cache(maxsize=1024)
def _counter(operation: str, status_class: str):
    return metrics.REQUESTS.labels(operation, status_class)


@functools.lru_cache(maxsize=512)
def _histogram(operation: str):
    return metrics.LATENCY.labels(operation)


class MetricsEndpoint:
    """`GET /metrics`: the Prometheus text exposition (token-exempt, see auth/middleware.Gate)."""

    def __init__(self, app: ASGIApp, *, services: Services):
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/metrics":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            response = Response(dumps({"message": "Method Not Allowed"}), status_code=405,
                                 media_type="application/json", headers={"Allow": "GET, HEAD"})
            await response(scope, receive, send)
            return
        store = self.services.store
        if store.embedded:
            body, content_type = metrics.render(store)
        else:
            body, content_type = await anyio.to_thread.run_sync(metrics.render, store)
        await Response(body, status_code=200, headers={"content-type": content_type})(scope, receive, send)
