"""The one way this service builds HTTP clients for other services: `client(service, ...)`.

Every call forwards the request id (`X-Request-ID`), is timed into the outbound metrics by
service, and writes one `clinic_api.outbound` log line with method, host, route and status. The
route is never the URL: a caller may name it (`extensions={"route": "/token/{token}"}`), else
every path segment that is not a plain lower-case word is replaced by `{}` (ids, tokens, emails).
"""
from __future__ import annotations

import logging
import re
import time
from typing import Callable

import httpx

from clinic_api import errors, metrics, request_id

log = logging.getLogger("clinic_api.outbound")
ROUTE = "route"
SERVICE = "service"
_WORD = re.compile(r"[a-z][a-z_]*|v\d+")


def route_of(request: httpx.Request) -> str:
    named = request.extensions.get(ROUTE)
    if isinstance(named, str):
        return named
    segments = request.url.path.split("/")
    return "/".join(s if not s or _WORD.fullmatch(s) else "{}" for s in segments) or "/"


class ObservedClient(httpx.Client):
    """An httpx.Client that forwards the request id and logs and measures each call."""

    def __init__(self, service: str | Callable[[httpx.Request], str], **kwargs):
        super().__init__(**kwargs)
        self.service = service

    def _service_of(self, request: httpx.Request) -> str:
        named = request.extensions.get(SERVICE)
        if isinstance(named, str):
            return named
        return self.service(request) if callable(self.service) else self.service

    def send(self, request: httpx.Request, **kwargs) -> httpx.Response:
        rid = request_id.current()
        if rid and request_id.HEADER not in request.headers:
            request.headers[request_id.HEADER] = rid
        service = self._service_of(request)
        fields = {"service": service, "method": request.method, "host": request.url.netloc.decode("ascii", "replace"),
                  "route": route_of(request)}
        # httpx would refuse our keys on the transport: they stay on this side.
        for key in (ROUTE, SERVICE):
            request.extensions.pop(key, None)
        start = time.perf_counter()
        try:
            response = super().send(request, **kwargs)
        except httpx.HTTPError as exc:
            seconds = time.perf_counter() - start
            metrics.observe_outbound(service, None, seconds)
            log.warning("outbound call failed", extra={**fields, "error": type(exc).__name__,
                                                        "duration_ms": round(seconds * 1000, 3)})
            if isinstance(exc, httpx.TransportError):  # down, unreachable or too slow: try again later
                raise errors.ServiceUnavailable(f"the {service} service is unavailable; try again later") from exc
            raise
        seconds = time.perf_counter() - start
        metrics.observe_outbound(service, response.status_code, seconds)
        log.info("outbound call", extra={**fields, "status": response.status_code,
                                         "duration_ms": round(seconds * 1000, 3)})
        return response


DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def timeout_for(settings) -> httpx.Timeout:
    """Connect within 3 s (or less), every read and write within CLINIC_HTTP_TIMEOUT_SECONDS."""
    return httpx.Timeout(float(settings.http_timeout_s), connect=min(3.0, float(settings.http_timeout_s)))


def client(service: str | Callable[[httpx.Request], str], *, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
           verify: bool = True, transport: httpx.BaseTransport | None = None) -> ObservedClient:
    """An HTTP client for `service` (a name, or a function of the request naming it). A call that
    cannot connect or times out raises errors.ServiceUnavailable (503)."""
    return ObservedClient(service, timeout=timeout, verify=verify, transport=transport)
