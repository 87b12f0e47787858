"""Operations whose callers verify themselves (Redox, Xealth; policy PUBLIC).

The reference lets these routes skip its OpenAPI request validator as well as token
authentication (auth note §1.5): the handler checks the caller first (verification token, Xealth
bearer token) and only then reads the body, which it decodes itself. So here the request
validator steps aside for them, and the raw body is kept on the request for the handler
(`raw_body()`), whatever its Content-Type, exactly as it came.
"""
from __future__ import annotations

from connexion import context as _cx
from connexion.middleware.request_validation import RequestValidationMiddleware
from starlette.types import Receive, Scope, Send

from clinic_api.auth import policy
from clinic_api.context import EXTENSION

RAW_BODY = "raw_body"


def self_verified(operation_id: str | None) -> bool:
    return operation_id is not None and policy.RULES.get(operation_id) is policy.PUBLIC


class RequestValidation(RequestValidationMiddleware):
    """connexion's request validation, except for the self-verifying operations."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            routing = scope.get("extensions", {}).get("connexion_routing", {})
            if self_verified(routing.get("operation_id")):
                body, receive = await _buffered(receive)
                scope.setdefault("extensions", {}).setdefault(EXTENSION, {})[RAW_BODY] = body
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


async def _buffered(receive: Receive):
    """Read the whole request body; a receive that hands it over again, then defers."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay():
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def raw_body() -> bytes:
    """The request body as received (b"" when there is none)."""
    return _cx.scope["extensions"][EXTENSION].get(RAW_BODY, b"")
