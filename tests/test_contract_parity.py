"""clinic.v1.yaml keeps the published contract (tests/contract/clinic.v1.published.yaml, a copy of the
Tidepool Clinics API 1.0 document): every published path, method and operationId, every parameter
(name, place, required, type, pattern, enum), every request and response media type, every status
code and every component schema. It may document more, never less; and the lint finds no error."""
from __future__ import annotations

import pytest

from support import spec_lint

METHODS = ("get", "put", "post", "patch", "delete")
OURS = spec_lint.load(spec_lint.SPEC)
PUBLISHED = spec_lint.load(spec_lint.PUBLISHED)


def deref(spec: dict, node):
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        node = spec_lint._resolve(spec, node["$ref"])
    return node


def operations(spec: dict) -> dict:
    out = {}
    for template, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            params = {}
            for param in item.get("parameters", []) + op.get("parameters", []):
                param = deref(spec, param)
                schema = deref(spec, param.get("schema") or {})
                params[(param["name"], param["in"])] = (bool(param.get("required")), schema.get("type"),
                                                        schema.get("pattern"), tuple(schema.get("enum") or ()))
            body = deref(spec, op.get("requestBody") or {})
            responses = {str(code): sorted((deref(spec, resp).get("content") or {}))
                         for code, resp in (op.get("responses") or {}).items()}
            out[(method, template)] = {"operationId": op.get("operationId"), "parameters": params,
                                       "request": sorted(body.get("content") or {}), "responses": responses}
    return out


PUBLISHED_OPS = operations(PUBLISHED)
OUR_OPS = operations(OURS)


def test_the_published_contract_has_86_operations():
    assert len(PUBLISHED_OPS) == 86


@pytest.mark.parametrize("key", sorted(PUBLISHED_OPS), ids=[f"{m.upper()} {p}" for m, p in sorted(PUBLISHED_OPS)])
def test_every_published_operation_is_kept(key):
    assert key in OUR_OPS, f"{key} is missing"
    theirs, ours = PUBLISHED_OPS[key], OUR_OPS[key]
    assert ours["operationId"] == theirs["operationId"]
    assert ours["parameters"] == theirs["parameters"]
    assert ours["request"] == theirs["request"]
    for code, media in theirs["responses"].items():
        assert code in ours["responses"], f"status {code} dropped"
        assert set(media) <= set(ours["responses"][code]), f"status {code}: media types {media} dropped"


def test_every_published_component_schema_is_kept():
    assert set(PUBLISHED["components"]["schemas"]) <= set(OURS["components"]["schemas"])


def test_the_contract_lints_clean():
    assert spec_lint.lint(OURS, PUBLISHED) == []


def test_the_lint_finds_errors():
    broken = {**OURS, "components": {**OURS["components"], "schemas": {
        **OURS["components"]["schemas"],
        "unusedThing.v1": {"type": "string"},
        "clinicLike.v1": {"type": "object", "properties": {"x": {"allOf": [{"$ref": "#/components/schemas/nowhere"}],
                                                                  "nullable": True}}},
    }}}
    problems = spec_lint.lint(broken, PUBLISHED)
    assert "/components/schemas/clinicLike.v1/properties/x: nullable without a type beside it has no effect in " \
           "OpenAPI 3.0" in problems
    assert "/components/schemas/clinicLike.v1/properties/x/allOf/0: $ref #/components/schemas/nowhere does not " \
           "resolve" in problems
    assert "#/components/schemas/unusedThing.v1: unused (and not part of the published contract)" in problems
    assert "#/components/schemas/clinicLike.v1: unused (and not part of the published contract)" in problems
