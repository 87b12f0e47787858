"""Lint of clinic.v1.yaml: errors only, each one line. `python tests/support/spec_lint.py` (make lint).

- The document against the OpenAPI 3.0 JSON Schema (the one openapi-spec-validator ships), with
  `pattern`s checked under the meaning the service gives them (RE2, clinic_api.schema_rules.go_regex)
  instead of ECMA regexes, which the published patterns are not.
- Every `$ref` resolves; operationIds are unique; every path parameter of a template is declared.
- `nullable` only where a `type` stands beside it (OpenAPI 3.0 ignores it elsewhere, e.g. beside
  `allOf`), and no keyword beside a `$ref` except `readOnly`/`description` (ignored there too).
- No unused component of our own: components the published contract has stay even when unused
  (the contract keeps every published schema).
"""
from __future__ import annotations

import json
import pathlib
import re
import sys
from importlib import resources

import jsonschema
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = ROOT / "clinic.v1.yaml"
PUBLISHED = ROOT / "tests" / "contract" / "clinic.v1.published.yaml"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
REF_SIBLINGS_ALLOWED = {"readOnly", "description"}


def load(path: pathlib.Path) -> dict:
    return yaml.safe_load(path.read_text())


def _oas30_schema() -> dict:
    text = resources.files("openapi_spec_validator").joinpath("resources/schemas/v3.0/schema.json").read_text()
    return json.loads(text)


def _format_checker() -> jsonschema.FormatChecker:
    from clinic_api.schema_rules import go_regex

    checker = jsonschema.FormatChecker()

    @checker.checks("regex", raises=Exception)
    def _regex(value) -> bool:
        if isinstance(value, str):
            go_regex(value)
        return True

    return checker


def _walk(node, path=""):
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}/{i}")


def _resolve(spec: dict, ref: str):
    node = spec
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def lint(spec: dict, published: dict) -> list[str]:
    problems = []
    validator_cls = jsonschema.validators.validator_for(_oas30_schema())
    validator = validator_cls(_oas30_schema(), format_checker=_format_checker())
    for error in sorted(validator.iter_errors(spec), key=lambda e: list(e.absolute_path)):
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{where}: not OpenAPI 3.0: {error.message[:200]}")

    used = set()
    for path, node in _walk(spec):
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        if isinstance(ref, str):
            used.add(ref)
            if not ref.startswith("#/") or _resolve(spec, ref) is None:
                problems.append(f"{path}: $ref {ref} does not resolve")
            extra = set(node) - {"$ref"} - REF_SIBLINGS_ALLOWED
            if extra:
                problems.append(f"{path}: {sorted(extra)} beside $ref are ignored")
        if node.get("nullable") is True and "type" not in node:
            problems.append(f"{path}: nullable without a type beside it has no effect in OpenAPI 3.0")

    seen: dict[str, str] = {}
    for template, item in (spec.get("paths") or {}).items():
        placeholders = set(re.findall(r"{([^}]+)}", template))
        common = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            op_id = op.get("operationId", "")
            if op_id in seen:
                problems.append(f"{method.upper()} {template}: operationId {op_id} also used by {seen[op_id]}")
            seen[op_id] = f"{method.upper()} {template}"
            declared = set()
            for param in common + op.get("parameters", []):
                param = _resolve(spec, param["$ref"]) if "$ref" in param else param
                if param and param.get("in") == "path":
                    declared.add(param.get("name"))
            for name in sorted(placeholders - declared):
                problems.append(f"{method.upper()} {template}: path parameter {name} is not declared")

    published_components = published.get("components") or {}
    for kind, members in (spec.get("components") or {}).items():
        if kind == "securitySchemes":
            continue
        for name in members:
            ref = f"#/components/{kind}/{name}"
            if ref not in used and name not in (published_components.get(kind) or {}):
                problems.append(f"{ref}: unused (and not part of the published contract)")
    return problems


def main() -> int:
    problems = lint(load(SPEC), load(PUBLISHED))
    for line in problems:
        print(f"clinic.v1.yaml{line}", file=sys.stderr)
    print(f"spec lint: {len(problems)} errors")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
