"""Reading the bodies of the self-verifying EHR routes as the reference's Go decoding reads them
(auth note §3.5): object keys matched case-insensitively (the last matching key wins), JSON null
leaves a field at its zero value, and a value of the wrong JSON type is an error.

`bind` is the Echo binder of the routes that bind (`/v1/redox/verify`, the Xealth notification,
programs and program url): no body binds nothing; only JSON is decoded (anything else is 415);
the first JSON value is read. `unmarshal` is json.Unmarshal of the routes that read the raw body
(`/v1/redox`, the Xealth preorder): the whole body must be one JSON value.

Where the reference answers 500 for a body it cannot decode, these raise 400s (documented in
clinic.v1.yaml). Type errors name the field's path; unlike Go's text they carry no byte offset.
"""
from __future__ import annotations

import datetime as _dt

from clinic_api import godecode, wire
from clinic_api.errors import ApiError, BadRequest

MISSING = object()
_KINDS = {str: "string", bool: "bool", int: "number", float: "number", dict: "object", list: "array",
          type(None): "null"}


class UnsupportedMediaType(ApiError):
    status = 415
    kind = "Unsupported Media Type"


def json_kind(value) -> str:
    return _KINDS.get(type(value), "value")


def bind(raw: bytes, content_type: str | None):
    """Echo's DefaultBinder on a JSON body; None when there is no body. Go's json.Decoder: the
    first value is read (what follows is ignored); a body ending inside it is `unexpected EOF`, a
    syntax error `Syntax error: offset=<Go's byte offset>, error=<Go's text>`."""
    if not raw:
        return None
    if not (content_type or "").lower().startswith("application/json"):
        raise UnsupportedMediaType("Unsupported Media Type")
    deep = wire.too_deep(raw)
    if deep is not None and raw.strip(b" \t\r\n"):
        raise BadRequest(f"Syntax error: offset={deep}, error={wire.DEPTH_ERROR}")
    try:
        return godecode.decode(raw)
    except godecode.GoJSONError as exc:
        if exc.offset is None:
            raise BadRequest(exc.text) from None
        raise BadRequest(f"Syntax error: offset={exc.offset}, error={exc.text}") from None


def unmarshal(raw: bytes, on_error: str):
    """json.Unmarshal of the whole body; `on_error` is the 400 message for undecodable text."""
    if wire.too_deep(raw) is not None:
        raise BadRequest(on_error)
    try:
        return godecode.decode(raw, whole=True)
    except godecode.GoJSONError:
        raise BadRequest(on_error) from None


def type_error(expected: str, value, field: str) -> BadRequest:
    return BadRequest(f"Unmarshal type error: expected={expected}, got={json_kind(value)}, field={field}")


def field(obj: dict, name: str):
    """The value of key `name`, matched case-insensitively; Go assigns the keys in document
    order, so the last matching one stays. MISSING when there is none."""
    folded = name.lower()
    for key in reversed(list(obj)):
        if key.lower() == folded:
            return obj[key]
    return MISSING


def get(obj, name: str, kind: str, path: str = ""):
    """A typed field of a JSON object: None when absent or null; 400 for the wrong JSON type.
    kind: string | bool | number | object | array."""
    if not isinstance(obj, dict):
        return None
    value = field(obj, name)
    where = f"{path}.{name}" if path else name
    if value is MISSING or value is None:
        return None
    ok = {"string": isinstance(value, str), "bool": isinstance(value, bool),
          "number": isinstance(value, (int, float)) and not isinstance(value, bool),
          "object": isinstance(value, dict), "array": isinstance(value, list)}[kind]
    if not ok:
        raise type_error(kind, value, where)
    return value


def get_str(obj, name: str, path: str = "") -> str:
    """A string field with Go's zero value ""."""
    return get(obj, name, "string", path) or ""


def objects(obj, name: str, path: str = "") -> list[dict]:
    """An array of objects (null items read as empty objects)."""
    items = get(obj, name, "array", path) or []
    where = f"{path}.{name}" if path else name
    out = []
    for item in items:
        if item is None:
            item = {}
        if not isinstance(item, dict):
            raise type_error("object", item, where)
        out.append(item)
    return out


def strings(obj, name: str, path: str = "") -> list[str]:
    items = get(obj, name, "array", path) or []
    where = f"{path}.{name}" if path else name
    for item in items:
        if not isinstance(item, str) and item is not None:
            raise type_error("string", item, where)
    return [item or "" for item in items]


def ensure_object(value, expected: str) -> dict:
    """The top-level value, which must be an object (null reads as an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise type_error(expected, value, "")
    return value


def parse_date(value: str, field_name: str) -> str:
    """A `YYYY-MM-DD` date (the generated clients' Date type); 400 when it is not one."""
    try:
        _dt.date.fromisoformat(value)
        if len(value) != 10:
            raise ValueError
    except ValueError:
        raise BadRequest(f'parsing time "{value}" as "2006-01-02": cannot parse {field_name}') from None
    return value
