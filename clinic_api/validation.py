"""Request validation from the spec, with the reference's meaning and messages.

* `pattern` uses the `regex` package, translated to Go RE2 semantics: `[[:graph:]]`, `\\d`, `\\s`
  and `\\w` are ASCII-only, `\\p{L}`/`\\p{N}` are Unicode, `$` does not match before a final newline.
* `readOnly` properties are accepted in requests and never required there.
* Messages are the first line of what the reference's validator (kin-openapi) says:
  `parameter "<name>" in <where> has an error: <reason>` and `request body has an error: ...`.
"""
from __future__ import annotations

import functools
import json
import urllib.parse

import regex
from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from connexion.validators import JSONRequestBodyValidator, JSONResponseBodyValidator, ParameterValidator
from connexion.validators import DefaultsJSONRequestBodyValidator  # noqa: F401 (re-export for tests)

from clinic_api import errors, godecode, spec, wire
from clinic_api.context import EXTENSION
from clinic_api.self_verified import RAW_BODY

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


def _pattern(validator, pattern, instance, schema):
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


def _nullable_all_of(validator, all_of, instance, schema):
    """`nullable: true` beside `allOf` admits null, as kin-openapi reads it (e.g. clinic.v1
    phoneNumbers, which the reference answers as null)."""
    if instance is None and schema.get("nullable"):
        return
    yield from Draft4Validator.VALIDATORS["allOf"](validator, all_of, instance, schema)


def _kin_integer(checker, value) -> bool:
    # kin-openapi compares float64s: 1.0 and 1e29 are integers to it (the binding into Go ints then
    # refuses them: _check_int_range).
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, float) and value.is_integer())


RequestValidator = validators.extend(Draft4RequestValidator, {"pattern": _pattern, "required": _required_not_readonly,
                                                              "allOf": _nullable_all_of},
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


def _pointer(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        parts.append(error.message.split('"')[1])
    return "/" + "/".join(parts)


def first_error(validator, instance) -> ValidationError | None:
    errs = sorted(validator.iter_errors(instance), key=lambda e: (list(map(str, e.absolute_path)), str(e.validator)))
    return errs[0] if errs else None


# Go's strconv.ParseBool, which the reference's parameter binding uses.
GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
GO_BOOLEANS = GO_TRUE + ("0", "f", "F", "FALSE", "false", "False")


def go_bool(value) -> bool:
    """A boolean query parameter as the handler receives it: connexion coerces only
    true/false spellings, the other Go spellings arrive as strings."""
    return value is True or value in GO_TRUE


def _normalise_booleans(scope, params) -> None:
    """Rewrite Go-only boolean spellings (1, t, F, ...) as true/false, which is all connexion's
    coercion of handler arguments understands."""
    names = {p["name"] for p in params if (p.get("schema") or {}).get("type") == "boolean"}
    if not names:
        return
    pairs = urllib.parse.parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    changed = False
    for i, (key, value) in enumerate(pairs):
        if key in names and value in GO_BOOLEANS and value not in ("true", "false"):
            pairs[i] = (key, "true" if value in GO_TRUE else "false")
            changed = True
    if changed:
        scope["query_string"] = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote).encode("latin-1")


class KinParameterValidator(ParameterValidator):
    """Path, query and header parameters, with the reference's messages. Unknown query
    parameters are ignored (strict validation is off)."""

    def validate(self, scope):
        super().validate(scope)
        _normalise_booleans(scope, self.parameters.get("query", []))

    def validate_request(self, request):
        raw_query = urllib.parse.parse_qs(request.scope.get("query_string", b"").decode("latin-1"),
                                          keep_blank_values=True)
        for where in ("path", "query", "header"):
            for param in self.parameters.get(where, []):
                message = self._check(where, param, request, raw_query)
                if message:
                    raise errors.BadRequest(f'parameter "{param["name"]}" in {where} has an error: {message}')

    def _check(self, where, param, request, raw_query):
        name = param["name"]
        schema = param.get("schema", {})
        if where == "query":
            raw = raw_query.get(name)
            if raw is None:
                return "value is required but missing" if param.get("required") else None
            if any(r == "" for r in raw) and not param.get("allowEmptyValue"):
                return "empty value is not allowed"
            value = request.query_params.get(name)
        elif where == "path":
            value = request.path_params.get(name)
            raw = [value]
        else:
            value = request.headers.get(name)
            raw = [value] if value is not None else None
            if value is None:
                return "value is required but missing" if param.get("required") else None
        if value is None:
            return "value is required but missing" if param.get("required") else None
        kind = schema.get("type")
        if kind == "array" and where == "query":
            return _check_array(name, param, schema, value, raw)
        if schema.get("format") == "date-time" and isinstance(value, str) and not KIN_DATE_TIME.match(value):
            return ('string doesn\'t match the format "date-time": '
                    f'string doesn\'t match pattern "{KIN_DATE_TIME.pattern}"')
        if kind in ("integer", "number") and not isinstance(value, (int, float)):
            word = "integer" if kind == "integer" else "number"
            return f"value {raw[0]}: an invalid {word}: invalid syntax"
        if kind == "integer" and isinstance(value, int) and not _fits(value, schema.get("format")):
            return f"value {raw[0]}: an invalid integer: value out of range"
        if kind == "boolean":
            return None if raw[0] in GO_BOOLEANS else f"value {raw[0]}: an invalid boolean: invalid syntax"
        err = first_error(validator_for(RequestValidator, schema), value)
        return reason(err) if err is not None else None



def _fits(value: int, fmt: str | None) -> bool:
    """Go parses integer parameters with strconv.ParseInt into 64 (or 32) bits."""
    bits = 32 if fmt == "int32" else 64
    return -(1 << (bits - 1)) <= value < (1 << (bits - 1))


def _check_array(name, param, schema, value, raw):
    """A form-style array query parameter: one occurrence unless exploded; item errors point at
    the item (`Error at "/0": ...`), as kin-openapi words them."""
    if len(raw) > 1 and param.get("explode", True) is False:
        raise errors.BadRequest(f"Invalid format for parameter {name}: parameter '{name}' is not exploded, "
                                f"but is specified multiple times")
    err = first_error(validator_for(RequestValidator, schema), value)
    if err is None:
        return None
    if err.absolute_path:
        return f'Error at "{_pointer(err)}": {reason(err)}'
    return reason(err)


_JSON_NULL = object()  # a body that is the JSON literal null (not the same as no body)
_GO_INT_TYPES = {"int32": "int32", "int64": "int64"}


def _at(pointer: str) -> str:
    """kin-openapi's location of a schema error: none for the body itself (e.g. a top-level array)."""
    return f'Error at "{pointer}": ' if pointer != "/" else ""


def _check_int_range(schema, value, path: list, raw: bytes) -> None:
    """After validation, as the reference's handler binds the body into Go ints: a number that is
    not an integer literal within int64 (`1.0`, `1e29`, valid for kin-openapi, which compares
    float64s) fails the binding, with Echo's text."""
    if not isinstance(schema, dict):
        return
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            _check_int_range(sub, value, path, raw)
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            sub = props.get(name, extra if isinstance(extra, dict) else None)
            if sub is not None:
                _check_int_range(sub, item, path + [name], raw)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            _check_int_range(schema["items"], item, path + [i], raw)
    elif schema.get("type") == "integer" and isinstance(value, float):
        expected = _GO_INT_TYPES.get(schema.get("format") or "", "int")
        raise errors.BadRequest(godecode.unmarshal_type_error(expected, path, raw))


class KinBodyValidator(JSONRequestBodyValidator):
    """JSON bodies: an empty body passes when the body is not required; defaults are filled in."""

    MUTABLE_VALIDATION = True

    async def wrap_receive(self, receive, *, scope):
        self._ref = spec.body_schema_refs().get(
            scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id"))
        return await super().wrap_receive(receive, scope=scope)

    async def _parse(self, stream, scope):
        body = b"".join([message async for message in stream])
        if not body:
            return None
        if not body.strip():
            raise errors.BadRequest("request body has an error: failed to decode request body: EOF")
        if wire.too_deep(body) is not None:
            raise errors.BadRequest(f"request body has an error: failed to decode request body: {wire.DEPTH_ERROR}")
        # kin-openapi's decoder is Go's json.Decoder: the first value (what follows is ignored),
        # Go's error texts, lone surrogate escapes and invalid UTF-8 read as U+FFFD.
        try:
            parsed = godecode.decode(body)
        except godecode.GoJSONError as exc:
            raise errors.BadRequest(f"request body has an error: failed to decode request body: {exc.text}") from None
        self._raw_body = body
        # Kept for the handlers' binding errors (the `offset=` of an Unmarshal type error).
        scope.setdefault("extensions", {}).setdefault(EXTENSION, {})[RAW_BODY] = body
        return _JSON_NULL if parsed is None else parsed

    def _validate(self, body):
        if body is _JSON_NULL:
            ref = getattr(self, "_ref", None)
            where = f" {ref}" if ref else ""
            raise errors.BadRequest(f"request body has an error: doesn't match schema{where}: {_at('/')}"
                                    "Value is not nullable")
        if body is None:
            if self._required:
                raise errors.BadRequest(errors.BODY_MISSING)
            return None
        ref = getattr(self, "_ref", None)
        where = f" {ref}" if ref else ""
        beyond = godecode.non_finite(body)
        if beyond is not None:
            # A number beyond float64: kin-openapi cannot convert the json.Number.
            raise errors.BadRequest(f'request body has an error: doesn\'t match schema{where}: '
                                    f'{_at("/" + "/".join(beyond))}cannot convert json.Number to float64')
        err = first_error(validator_for(DefaultingRequestValidator, self._schema), body)
        if err is not None:
            raise errors.BadRequest(
                f'request body has an error: doesn\'t match schema{where}: {_at(_pointer(err))}{reason(err)}')
        _check_int_range(self._schema, body, [], getattr(self, "_raw_body", b""))
        return body

    def _insert_body(self, receive, *, body, scope):
        if body is not None and body is not _JSON_NULL:
            return super()._insert_body(receive, body=body, scope=scope)
        # A blank or `null` body was consumed while validating: hand the handler an empty one,
        # or the next reader would wait for bytes that never come.
        new_scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"content-length"]
                     + [(b"content-length", b"0")]}
        empty = [{"type": "http.request", "body": b"", "more_body": False}]
        return self._insert_messages(receive, messages=empty), new_scope


class UndecodableBodyValidator(KinBodyValidator):
    """Media types the spec lists but nothing can decode (application/xml on UpdateClinic)."""

    async def _parse(self, stream, scope):
        body = b"".join([message async for message in stream])
        if not body:
            return None
        mime = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"content-type"), "")
        raise errors.BadRequest("request body has an error: failed to decode request body: "
                                f'unsupported content type "{mime.split(";")[0].strip()}"')


_ResponseSchemaValidator = validators.extend(Draft4ResponseValidator, {"pattern": _pattern, "allOf": _nullable_all_of})


class GoPatternResponseValidator(JSONResponseBodyValidator):
    """Response validation (on in tests) with the same RE2 meaning of `pattern` as requests."""

    @property
    def validator(self):
        return _ResponseSchemaValidator(self._schema, format_checker=FORMAT_CHECKER)


VALIDATOR_MAP = {
    "response": {"application/json": GoPatternResponseValidator, "*/*json": GoPatternResponseValidator},
    "parameter": KinParameterValidator,
    "body": {"application/json": KinBodyValidator, "*/*json": KinBodyValidator,
             "application/xml": UndecodableBodyValidator},
}
