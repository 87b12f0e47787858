"""JSON Schema with the reference's meaning and messages: the keyword rules, formats and messages
that request and response validation (clinic_api/validation.py) share.

* `pattern` uses the `regex` package, translated to Go RE2 semantics: `[[:graph:]]`, `\\d`, `\\s`
  and `\\w` are ASCII-only, `\\p{L}`/`\\p{N}` are Unicode, `$` does not match before a final newline.
* `readOnly` properties are accepted in requests and never required there.
* Formats: only those kin-openapi checks (date, date-time, byte), with its patterns.
* `reason()` words a jsonschema error as kin-openapi does.
"""
from __future__ import annotations

import functools
import json

import regex
from jsonschema import FormatChecker, ValidationError, validators
from connexion.json_schema import Draft4RequestValidator

_TYPE_WORDS = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
               "object": "an object", "array": "an array"}


@functools.lru_cache(maxsize=256)
def go_regex(pattern: str):
    """Compile an RE2 pattern with Go's meaning using the `regex` package."""
    out, i, in_class = [], 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            ascii_class = {"d": "0-9", "s": "\\t\\n\\f\\r ", "w": "0-9A-Za-z_"}.get(nxt)
            if ascii_class:
                out.append(ascii_class if in_class else f"[{ascii_class}]")
            else:
                out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class and pattern.startswith("[:graph:]", i):
            out.append("!-~")
            i += len("[:graph:]")
            continue
        if in_class and pattern.startswith("[:print:]", i):
            out.append(" -~")
            i += len("[:print:]")
            continue
        if ch == "[" and not in_class:
            in_class = True
            out.append(ch)
            if pattern[i + 1:i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1:i + 2] == "]":
                out.append("\\]")
                i += 1
        elif ch == "]" and in_class:
            in_class = False
            out.append(ch)
        elif ch == "$" and not in_class:
            out.append("\\Z")
        else:
            out.append(ch)
        i += 1
    return regex.compile("".join(out), regex.V0)


def go_pattern(validator, pattern, instance, schema):
    if isinstance(instance, str) and not go_regex(pattern).search(instance):
        yield ValidationError(f'string doesn\'t match the regular expression "{pattern}"', validator="pattern",
                              validator_value=pattern)


def _required_not_readonly(validator, required, instance, schema):
    if not isinstance(instance, dict):
        return
    props = schema.get("properties", {})
    for name in required:
        if name not in instance and not (props.get(name) or {}).get("readOnly"):
            yield ValidationError(f'property "{name}" is missing', validator="required", validator_value=required)


def _kin_integer(checker, value) -> bool:
    # kin-openapi compares float64s: 1.0 and 1e29 are integers to it (the binding into Go ints then
    # refuses them: _check_int_range).
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


RequestValidator = validators.extend(Draft4RequestValidator,
                                     {"pattern": go_pattern, "required": _required_not_readonly},
                                     type_checker=Draft4RequestValidator.TYPE_CHECKER.redefine("integer", _kin_integer))


def _with_defaults(cls):
    validate_properties = cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if isinstance(sub, dict) and "default" in sub:
                    instance.setdefault(name, sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(cls, {"properties": set_defaults})


DefaultingRequestValidator = _with_defaults(RequestValidator)
# The formats the reference's validator checks (and only those: `email`, `uri`, `hostname` are not).
KIN_DATE_TIME = regex.compile(r"^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])T([0-1][0-9]|2[0-3]):[0-5][0-9]:"
                              r"([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)[0-9]{2}:[0-9]{2})?$")
KIN_DATE = regex.compile(r"^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])$")
KIN_BYTE = regex.compile(r"(^$|^[a-zA-Z0-9+/\-_]*=*$)")
KIN_FORMATS = {"date": KIN_DATE, "date-time": KIN_DATE_TIME, "byte": KIN_BYTE}
FORMAT_CHECKER = FormatChecker(formats=())
for _name, _rx in KIN_FORMATS.items():
    FORMAT_CHECKER.checks(_name)(lambda value, _rx=_rx: not isinstance(value, str) or bool(_rx.match(value)))


# Validators built once per schema object, not per request: the spec's schemas live as long as the
# app, so a schema's id names it; the entry keeps the schema alive so the id cannot be reused. The
# bound only matters if something passed throwaway schemas.
_VALIDATORS: dict[tuple[int, type], tuple[dict, object]] = {}
_VALIDATORS_MAX = 4096


def validator_for(cls, schema: dict):
    """The `cls` validator (with the reference's formats) of `schema`, built on first use."""
    key = (id(schema), cls)
    found = _VALIDATORS.get(key)
    if found is None or found[0] is not schema:
        if len(_VALIDATORS) >= _VALIDATORS_MAX:
            _VALIDATORS.clear()
        found = (schema, cls(schema, format_checker=FORMAT_CHECKER))
        _VALIDATORS[key] = found
    return found[1]


def _fmt_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def reason(error: ValidationError) -> str:
    """kin-openapi's wording for one schema failure."""
    v, val = error.validator, error.validator_value
    if v in ("pattern", "required"):
        return error.message
    if v == "type":
        if error.instance is None:
            return "Value is not nullable"
        kind = val[0] if isinstance(val, list) else val
        return f"value must be {_TYPE_WORDS.get(kind, kind)}"
    if v == "enum":
        return "value is not one of the allowed values " + json.dumps(val, separators=(",", ":"), ensure_ascii=False)
    if v == "minLength":
        return f"minimum string length is {val}"
    if v == "maxLength":
        return f"maximum string length is {val}"
    if v == "minimum":
        return f"number must be at least {_fmt_value(val)}"
    if v == "maximum":
        return f"number must be at most {_fmt_value(val)}"
    if v == "minItems":
        return f"minimum number of items is {val}"
    if v == "maxItems":
        return f"maximum number of items is {val}"
    if v == "uniqueItems":
        return "duplicate items found"
    if v == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f'property "{extra[0] if extra else ""}" is unsupported'
    if v == "format":
        pattern = KIN_FORMATS[val].pattern if val in KIN_FORMATS else ""
        return f'string doesn\'t match the format "{val}": string doesn\'t match pattern "{pattern}"'
    if v in ("oneOf", "anyOf"):
        return f'doesn\'t match any schema from "{v}"'
    return error.message


def pointer(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        parts.append(error.message.split('"')[1])
    return "/" + "/".join(parts)


def first_error(validator, instance) -> ValidationError | None:
    errs = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), str(e.validator)))
    return errs[0] if errs else None
