"""The TIDE report of a clinic."""
from __future__ import annotations

import datetime as _dt
import re

from clinic_api import context, wire
from clinic_api.domain import tide
from clinic_api.errors import BadRequest, bad_request
from clinic_api.validation import go_bool

_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:(\d\d))(?:\.(\d+))?(Z|[+-]\d\d:\d\d)?$")
_ZERO = _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc)


def _invalid(value: str, detail: str) -> BadRequest:
    return BadRequest(f"Invalid format for parameter lastDataCutoff: error parsing '{value}' as RFC3339 or "
                      f"2006-01-02 time: {detail}")


def parse_cutoff(value: str) -> tuple[_dt.datetime, str]:
    """The cutoff instant and its echo (Go's RFC 3339 with nanoseconds: the offset kept, a zero
    offset written Z, trailing fractional zeros dropped). The contract's pattern already held."""
    m = _RFC3339.match(value)
    if m is None or m.group(4) is None:
        date = value[:10]
        raise _invalid(value, f'parsing time "{value}": extra text: "{value[len(date):]}"')
    base, seconds, fraction, zone = m.group(1), m.group(2), (m.group(3) or "")[:9].rstrip("0"), m.group(4)
    if zone in ("+00:00", "-00:00"):
        zone = "Z"
    before_year_one = False
    try:
        parsed = wire.parse_time(value)
    except ValueError:
        what = "second" if seconds == "60" else "day"
        raise _invalid(value, f'parsing time "{value}": {what} out of range') from None
    except OverflowError:  # before year 1 in UTC: earlier than any data
        parsed, before_year_one = _ZERO, True
    if parsed == _ZERO and not before_year_one:
        raise bad_request("no lastDataCutoff provided")
    return parsed, f"{base}{'.' + fraction if fraction else ''}{zone}"


def tide_report(clinicId, period, tags, lastDataCutoff, categories=None, excludeNoData=None):
    cutoff, echo = parse_cutoff(lastDataCutoff)
    report = tide.build(context.db(), clinicId, period=period, tag_ids=tags, cutoff=cutoff, categories=categories,
                        exclude_no_data=go_bool(excludeNoData), now=wire.now())
    return tide.to_api(report, clinic_id=clinicId, period=period, tag_ids=tags, cutoff_text=echo,
                       format_time=wire.format_time), 200
