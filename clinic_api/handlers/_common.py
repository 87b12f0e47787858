"""Small helpers shared by handlers: caller identity checks the reference makes in handlers."""
from __future__ import annotations

import datetime as _dt

from clinic_api import context, gotime
from clinic_api.errors import BadRequest, bad_request


def subject_id() -> str:
    """The caller's user id; 400 when the token carries none (the reference checks this)."""
    p = context.principal()
    if not p or not p.user_id:
        raise BadRequest("expected authenticated user id")
    return p.user_id


def user_subject_id() -> str:
    """The caller's user id, which must not be a backend service's."""
    user_id = subject_id()
    if context.principal().is_server:
        raise BadRequest("expected user access token")
    return user_id


def deleted_by() -> str | None:
    """Who to record on deletion archives: users only, never server tokens."""
    p = context.principal()
    return p.user_id if p and p.is_user else None


_EARLIEST = _dt.datetime(1, 1, 1, 0, 0, 0, 1000, tzinfo=_dt.timezone.utc)
_LATEST = _dt.datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=_dt.timezone.utc)


def query_time(name: str, value: str | None) -> _dt.datetime | None:
    """A date-time query parameter, bound as the reference's binder does; Go's zero time (any
    midnight of 0001-01-01) means absent."""
    if value is None:
        return None
    try:
        parsed = gotime.parse(value)
    except gotime.GoTimeError as exc:
        # The binder tries RFC 3339, then a bare date, and reports the second failure.
        raise BadRequest(gotime.binder_message(name, value, exc.date_detail)) from None
    if parsed.instant is None:
        # An offset pushes it past year 1 or 9999 (Go accepts it): as early or as late as we can.
        return _EARLIEST if value.startswith("0001-") else _LATEST
    return None if parsed.on_day_one else parsed.instant


def tide_cutoff(value: str) -> tuple[_dt.datetime, str]:
    """TIDE's lastDataCutoff: the instant and its echo (Go's RFC 3339 with nanoseconds: the offset
    kept, a zero offset written Z, trailing fractional zeros dropped). The contract's pattern
    already held."""
    name = "lastDataCutoff"
    try:
        parsed = gotime.parse(value)
    except gotime.GoTimeError as exc:
        raise BadRequest(gotime.binder_message(name, value, exc.detail)) from None
    if parsed.echo is None:
        raise BadRequest(gotime.binder_message(name, value, f'parsing time "{value}": extra text: "{value[10:]}"'))
    if parsed.instant is None:  # past year 1 or 9999 in UTC: taken as earlier than any data
        return gotime.ZERO, parsed.echo
    if parsed.is_zero:
        raise bad_request("no lastDataCutoff provided")
    return parsed.instant, parsed.echo
