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


@functools.lru_cache(maxsize=1)
def _by_depth() -> dict[int, tuple[tuple[Route, ...], tuple[Route, ...]]]:
    """Number of "/" in a path -> (its routes by specificity, as routes(); the same routes in the
    contract's order). A template's parameters never span a "/", so a path can only match templates
    with as many; the regexes themselves still decide, as before."""
    depths = {r.template.count("/") for r in routes()}
    ordered = [Route(t, _compile(t), 0, {}) for t in load()["paths"]]
    position = {r.template: i for i, r in enumerate(ordered)}
    table = {}
    for depth in depths:
        found = tuple(r for r in routes() if r.template.count("/") == depth)
        table[depth] = (found, tuple(sorted(found, key=lambda r: position[r.template])))
    return table


_NONE: tuple[tuple[Route, ...], tuple[Route, ...]] = ((), ())


def match(path: str) -> list[Route]:
    """The routes whose template matches `path`, most literal segments first."""
    return [r for r in _by_depth().get(path.count("/"), _NONE)[0] if r.regex.match(path)]


def resolve(path: str, method: str) -> tuple[str, dict[str, str]] | None:
    """(operationId, path parameters) of the request, chosen as connexion's router (Starlette's)
    chooses: the first template in the contract's order that matches the path and has the method.
    None when no template has both."""
    for route in _by_depth().get(path.count("/"), _NONE)[1]:
        operation_id = route.operations.get(method)
        if operation_id is None:
            continue
        found = route.regex.match(path)
        if found:
            return operation_id, found.groupdict()
    return None


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
