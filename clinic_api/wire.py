"""The reference's wire formats: compact JSON ending in a newline with HTML characters escaped,
and RFC 3339 timestamps with nanosecond precision and trailing zeros dropped."""
from __future__ import annotations

import datetime as _dt
import re

import orjson

_ESCAPES = (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"))
ZERO_TIME = "0001-01-01T00:00:00Z"


def dumps(data) -> bytes:
    """Serialize like Go's encoding/json Encoder: compact, UTF-8, `<>&` escaped, trailing newline."""
    return escape_html(orjson.dumps(data, default=_default).decode()).encode() + b"\n"


def escape_html(text: str) -> str:
    """`<`, `>` and `&` as \\u escapes (they can only occur inside JSON strings)."""
    if "<" in text or ">" in text or "&" in text:
        for raw, esc in _ESCAPES:
            text = text.replace(raw, esc)
    return text


def _default(obj):
    if isinstance(obj, _dt.datetime):
        return format_time(obj)
    raise TypeError(f"cannot serialize {type(obj).__name__}")


def format_time(value: _dt.datetime | None) -> str:
    """`2024-05-01T10:20:30.12Z`: UTC, fraction without trailing zeros, none when zero."""
    if value is None:
        return ZERO_TIME
    if value.tzinfo is not None:
        value = value.astimezone(_dt.timezone.utc)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.year < 1000:
        base = f"{value.year:04d}" + base[base.index("-"):]
    if value.microsecond:
        base += "." + f"{value.microsecond:06d}".rstrip("0")
    return base + "Z"


def parse_time(text: str) -> _dt.datetime:
    """Parse an RFC 3339 date-time (with `Z` or an offset) into an aware UTC datetime."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    # Python accepts at most 6 fraction digits; Go accepts up to 9.
    if "." in value:
        head, _, rest = value.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        value = f"{head}.{(digits + '000000')[:6]}{rest}"
    parsed = _dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("missing time zone offset")
    return parsed.astimezone(_dt.timezone.utc)


def now() -> _dt.datetime:
    """The current time, truncated to milliseconds as BSON stores it."""
    current = _dt.datetime.now(_dt.timezone.utc)
    return current.replace(microsecond=current.microsecond // 1000 * 1000)


# JSON bodies nested deeper than this are refused (400) before they are decoded: Go allows 10,000
# levels, Python's decoder and the schema validator recurse and fail before 1,000; real payloads
# (EHR messages included) nest a dozen levels.
MAX_JSON_DEPTH = 128
DEPTH_ERROR = "exceeded max depth"
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> int | None:
    """Go's offset of the error (the bytes read, the opening bracket included) where `raw` (JSON)
    opens its (limit+1)-th nested level, or None. Brackets inside strings do not count."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return None
    depth = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return match.end()
        elif token in (b"]", b"}"):
            depth -= 1
    return None
