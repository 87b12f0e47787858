"""Request validation from the spec, with the reference's meaning and messages.

* The schema keywords' meaning (RE2 patterns, readOnly, kin-openapi's formats) and the wording of
  schema errors live in clinic_api/schema_rules.py.
* Messages are the first line of what the reference's validator (kin-openapi) says:
  `parameter "<name>" in <where> has an error: <reason>` and `request body has an error: ...`.
"""
from __future__ import annotations

import urllib.parse

from jsonschema import validators
from connexion.json_schema import Draft4ResponseValidator
from connexion.validators import JSONRequestBodyValidator, JSONResponseBodyValidator, ParameterValidator
from connexion.validators import DefaultsJSONRequestBodyValidator  # noqa: F401 (re-export for tests)

from clinic_api import errors, godecode, spec, wire
from clinic_api.schema_rules import (FORMAT_CHECKER, KIN_DATE_TIME, DefaultingRequestValidator, RequestValidator,
                                     first_error, go_pattern, pointer, reason, validator_for)
from clinic_api.context import EXTENSION
from clinic_api.self_verified import RAW_BODY

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
        return f'Error at "{pointer(err)}": {reason(err)}'
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
                f'request body has an error: doesn\'t match schema{where}: {_at(pointer(err))}{reason(err)}')
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


_ResponseSchemaValidator = validators.extend(Draft4ResponseValidator, {"pattern": go_pattern})


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
