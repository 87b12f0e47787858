"""The one Go-style time parser: an RFC 3339 date-time read as the reference's Go code reads it
(`time.Parse(time.RFC3339Nano, s)`), with what its callers need to answer as it does.

Callers (handlers/params.py for query parameters and the TIDE cutoff, resources/settings.py for
dates in bodies) choose their own message; the parsing, the range checks and the echo are here.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import re

from clinic_api import wire

_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:(\d\d))(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")
ZERO = _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class GoTime:
    text: str
    instant: _dt.datetime | None  # UTC; None when an offset takes it past year 1 or 9999 (Go keeps it)
    echo: str | None  # Go's RFC3339Nano rendering of the text; None when the text is not strict RFC 3339

    @property
    def overflow(self) -> bool:
        return self.instant is None

    @property
    def is_zero(self) -> bool:
        """Go's zero time (0001-01-01T00:00:00Z, any offset or fraction that lands on it)."""
        return self.instant == ZERO

    @property
    def on_day_one(self) -> bool:
        """0001-01-01 with no time of day: what the binders of the reference take as absent."""
        i = self.instant
        return i is not None and (i.year, i.month, i.day, i.hour, i.minute, i.second) == (1, 1, 1, 0, 0, 0)


class GoTimeError(ValueError):
    """A text Go's parser refuses. `detail` is Go's RFC 3339 error; `date_detail` is the error of
    the binder's second attempt, the bare date layout `2006-01-02` (which stops at the "T")."""

    def __init__(self, text: str, detail: str):
        super().__init__(detail)
        self.text = text
        self.detail = detail

    @property
    def date_detail(self) -> str:
        return f'parsing time "{self.text}": extra text: "{self.text[10:]}"'


def parse(text: str) -> GoTime:
    m = _RFC3339.match(text)
    echo = None
    if m is not None and m.group(4) is not None:
        base, fraction, zone = m.group(1), (m.group(3) or "")[:9].rstrip("0"), m.group(4)
        if zone in ("+00:00", "-00:00"):
            zone = "Z"
        echo = f"{base}{'.' + fraction if fraction else ''}{zone}"
    try:
        instant: _dt.datetime | None = wire.parse_time(text)
    except OverflowError:
        instant = None
    except ValueError:
        if echo is None:
            raise GoTimeError(text, f'parsing time "{text}": extra text: "{text[10:]}"') from None
        what = "second" if m is not None and m.group(2) == "60" else "day"
        raise GoTimeError(text, f'parsing time "{text}": {what} out of range') from None
    return GoTime(text=text, instant=instant, echo=echo)


def binder_message(name: str, text: str, detail: str) -> str:
    """The reference's query binder (oapi-codegen) refusing a date-time parameter."""
    return f"Invalid format for parameter {name}: error parsing '{text}' as RFC3339 or 2006-01-02 time: {detail}"
