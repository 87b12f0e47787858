"""The contract, loaded once: path templates for the gate, and request-body schema names for
validation messages."""
from __future__ import annotations

import dataclasses
import functools
import pathlib
import re

import yaml

# Package data, so an installed wheel finds it from any directory (in the source tree it is a link
# to the root clinic.v1.yaml).
SPEC_PATH = pathlib.Path(__file__).resolve().parent / "clinic.v1.yaml"
METHODS = ("get", "put", "post", "patch", "delete")


@dataclasses.dataclass(frozen=True)
class Route:
    template: str
    regex: re.Pattern
    literals: int
    operations: dict  # METHOD -> operationId


@functools.lru_cache(maxsize=1)
def load() -> dict:
    with open(SPEC_PATH, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _compile(template: str) -> re.Pattern:
    out = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{") and part.endswith("}"):
            out += f"(?P<{part[1:-1]}>[^/]+)"
        else:
            out += re.escape(part)
    return re.compile(f"^{out}$")


@functools.lru_cache(maxsize=1)
def routes() -> tuple[Route, ...]:
    out = []
    for template, item in load()["paths"].items():
        ops = {m.upper(): o["operationId"] for m, o in item.items() if m in METHODS}
        literals = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
        out.append(Route(template, _compile(template), literals, ops))
    # Static segments win over parameters, as in the reference's router.
    return tuple(sorted(out, key=lambda r: -r.literals))


def match(path: str) -> list[Route]:
    return [r for r in routes() if r.regex.match(path)]


@functools.lru_cache(maxsize=1)
def operations() -> dict[str, tuple[str, str]]:
    """operationId -> (METHOD, template)."""
    return {op: (m, r.template) for r in routes() for m, op in r.operations.items()}


@functools.lru_cache(maxsize=1)
def body_schema_refs() -> dict[str, str]:
    """operationId -> the $ref of its JSON request body schema, when it is a reference."""
    refs = {}
    for item in load()["paths"].values():
        for m, o in item.items():
            if m not in METHODS:
                continue
            schema = ((o.get("requestBody") or {}).get("content", {}).get("application/json") or {}).get("schema") or {}
            if "$ref" in schema:
                refs[o["operationId"]] = schema["$ref"]
    return refs
