"""The request id: taken from `X-Request-ID` when well-formed, generated otherwise; held in a
contextvar for the request's log lines and forwarded on calls to other services."""
from __future__ import annotations

import contextvars
import re
import uuid

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,128}")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("clinic_request_id", default=None)


def accept(value: str | None) -> str:
    """The caller's id when well-formed (1-128 of [A-Za-z0-9._-]), else a new one."""
    if value and _WELL_FORMED.fullmatch(value):
        return value
    return uuid.uuid4().hex


def current() -> str | None:
    return _current.get()


def bind(value: str) -> contextvars.Token:
    return _current.set(value)


def unbind(token: contextvars.Token) -> None:
    _current.reset(token)
