"""Small helpers shared by handlers: caller identity checks the reference makes in handlers."""
from __future__ import annotations

import datetime as _dt

from clinic_api import context, wire
from clinic_api.errors import BadRequest


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


def query_time(name: str, value: str | None):
    """A date-time query parameter; Go's zero time means absent."""
    if value is None:
        return None
    try:
        parsed = wire.parse_time(value)
    except OverflowError:
        # An offset pushes it past year 1 or 9999 (Go accepts it): as early or as late as we can.
        parsed = _EARLIEST if value.startswith("0001-") else _LATEST
    except ValueError:
        # The reference's binder: after RFC 3339 it tries a bare date, which stops at the "T".
        raise BadRequest(f"Invalid format for parameter {name}: error parsing '{value}' as RFC3339 "
                         f"or 2006-01-02 time: parsing time \"{value}\": extra text: \"{value[10:]}\"") from None
    return None if parsed.year == 1 and parsed.month == 1 and parsed.day == 1 and not parsed.hour \
        and not parsed.minute and not parsed.second else parsed
