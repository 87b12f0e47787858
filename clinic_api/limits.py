"""Every request bounded in size before it is buffered: the request line and headers
(CLINIC_MAX_HEADER_BYTES, 431) and the body (CLINIC_MAX_BODY_BYTES, 413: from Content-Length
before any byte is read, or as soon as a streamed body passes the cap). It sits before the token
gate, so the routes that check their callers themselves (Redox, Xealth) and requests without a
token are bounded too."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clinic_api import errors


class Limits:
    def __init__(self, app: ASGIApp, *, max_body: int, max_header: int):
        self.app = app
        self.max_body = max_body
        self.max_header = max_header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        declared = None
        for name, value in scope.get("headers") or ():
            size += len(name) + len(value) + 4  # ": " and CRLF
            if name == b"content-length":
                declared = value
        if size > self.max_header:
            raise errors.HeadersTooLarge("request header fields too large")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            raise errors.PayloadTooLarge(self._too_large())
        await self.app(scope, self._counting(receive), send)

    def _too_large(self) -> str:
        return f"request body too large (limit {self.max_body} bytes)"

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise errors.PayloadTooLarge(self._too_large())
            return message

        return counted
