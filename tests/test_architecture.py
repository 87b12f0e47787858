"""The layering contract (DESIGN.md §2), checked on the source: who may import whom, and who may
touch a collection. KNOWN lists what still breaks a rule, module by module; a module may leave a
list (fix it, then delete its line), never join one."""
from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "clinic_api"


def _module(path: pathlib.Path) -> str:
    return ".".join(("clinic_api", *path.relative_to(ROOT).with_suffix("").parts)).removesuffix(".__init__")


MODULES = {_module(p): p for p in sorted(ROOT.rglob("*.py"))}


def _imports(name: str) -> set[str]:
    """Every clinic_api module the module imports (at any depth of its code)."""
    out = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("clinic_api"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("clinic_api"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in MODULES else node.module)
    return out


def _in(name: str, layer: str) -> bool:
    return name == layer or name.startswith(layer + ".")


# (importer layer, forbidden layer, why)
CONTRACTS = [
    ("clinic_api.handlers", "clinic_api.store", "handlers call the domain; they neither read nor write"),
    ("clinic_api.handlers", "clinic_api.integrations", "other services are called from the domain"),
    ("clinic_api.handlers", "clinic_api.services", "handlers get the services from context"),
    ("clinic_api.store", "clinic_api.domain", "the store is below the domain"),
    ("clinic_api.store", "clinic_api.handlers", "the store is below the handlers"),
    ("clinic_api.store", "clinic_api.resources", "the store knows no API shape"),
    ("clinic_api.store", "clinic_api.integrations", "the store calls no other service"),
    ("clinic_api.store", "clinic_api.context", "the store is given its database, never finds it"),
    ("clinic_api.domain", "clinic_api.handlers", "the domain is below the handlers"),
    ("clinic_api.domain", "clinic_api.context", "the domain is given its services, never finds them"),
    ("clinic_api.resources", "clinic_api.domain", "mappers convert, they decide nothing"),
    ("clinic_api.resources", "clinic_api.handlers", "mappers are below the handlers"),
    ("clinic_api.resources", "clinic_api.integrations", "mappers call no service"),
    ("clinic_api.integrations", "clinic_api.domain", "integrations are called by the domain"),
    ("clinic_api.integrations", "clinic_api.handlers", "integrations are called by the domain"),
]

# Rule breaks not yet fixed: (importer, imported). Shrink only (empty: keep it so).
KNOWN: set[tuple[str, str]] = set()


def _breaks() -> set[tuple[str, str]]:
    found = set()
    for name in MODULES:
        for imported in _imports(name):
            for importer_layer, forbidden, _why in CONTRACTS:
                if _in(name, importer_layer) and _in(imported, forbidden):
                    found.add((name, imported))
    return found


def test_layers_import_only_downwards():
    new = sorted(_breaks() - KNOWN)
    assert new == [], "imports that break the layering contract:\n" + "\n".join(f"{a} -> {b}" for a, b in new)


def test_known_breaks_are_still_there():
    """A fixed break leaves KNOWN, so it cannot come back unnoticed."""
    assert sorted(KNOWN - _breaks()) == []


# --- only the store touches collections ----------------------------------------------------------

COLLECTION_METHODS = {"find", "find_one", "insert_one", "insert_many", "update_one", "update_many", "delete_one",
                      "delete_many", "aggregate", "count_documents", "find_one_and_update", "replace_one",
                      "bulk_write", "distinct", "estimated_document_count", "find_one_and_delete",
                      "create_index", "create_indexes", "drop"}
# Modules outside the store that touch a collection. Shrink only (empty: keep it so); the standalone
# implementations of other services keep their data through store/users, outbox, restricted_tokens.
COLLECTIONS_KNOWN: set[str] = set()


def _touches_collections(path: pathlib.Path) -> list[int]:
    """Lines with `<x>.db[...]`, `db[...]`, or `db.<collection>.<method>(`."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Subscript):
            base = node.value
            if (isinstance(base, ast.Name) and base.id == "db") or (isinstance(base, ast.Attribute)
                                                                    and base.attr == "db"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr in COLLECTION_METHODS:
            owner = node.value
            if isinstance(owner, ast.Attribute) and (
                    (isinstance(owner.value, ast.Name) and owner.value.id == "db")
                    or (isinstance(owner.value, ast.Attribute) and owner.value.attr == "db")):
                lines.append(node.lineno)
    return sorted(set(lines))


@pytest.mark.parametrize("name", sorted(n for n in MODULES if not _in(n, "clinic_api.store")))
def test_only_the_store_touches_collections(name):
    lines = _touches_collections(MODULES[name])
    if name in COLLECTIONS_KNOWN:
        assert lines, f"{name} no longer touches a collection: remove it from COLLECTIONS_KNOWN"
        return
    assert lines == [], f"{name} touches a collection at lines {lines}"


def test_every_operation_resolves_to_exactly_one_function():
    from clinic_api import resolver

    resolver.check(resolver.contract_operations(), resolver.OPERATIONS)  # raises on any mismatch
    assert len(resolver.OPERATIONS) == 86


def test_the_resolver_check_refuses_a_missing_an_unknown_and_a_shared_handler():
    from clinic_api import resolver

    def handler():
        return None

    with pytest.raises(resolver.MissingHandler, match="no handler for GetClinic"):
        resolver.check(["GetClinic"], {})
    with pytest.raises(resolver.MissingHandler, match="the contract lacks: Nope"):
        resolver.check(["GetClinic"], {"GetClinic": handler, "Nope": lambda: None})
    with pytest.raises(resolver.MissingHandler, match="GetClinic, UpdateClinic"):
        resolver.check(["GetClinic", "UpdateClinic"], {"GetClinic": handler, "UpdateClinic": handler})


# --- explicit wiring: every services / db parameter says what it is --------------------------------

PARAMETER_TYPES = {"services": "Services", "db": "Database"}
# Modules whose parameters are not annotated yet. Shrink only (empty: keep it so).
UNANNOTATED_KNOWN: set[str] = set()


def _unannotated(path: pathlib.Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            for arg in a.posonlyargs + a.args + a.kwonlyargs:
                expected = PARAMETER_TYPES.get(arg.arg)
                if expected is None:
                    continue
                found = ast.unparse(arg.annotation) if arg.annotation is not None else None
                if found is None or expected not in found:
                    out.append(f"{node.name}({arg.arg}: {found})")
    return out


@pytest.mark.parametrize("name", sorted(MODULES))
def test_services_and_db_parameters_are_annotated(name):
    found = _unannotated(MODULES[name])
    if name in UNANNOTATED_KNOWN:
        assert found, f"{name} is annotated now: remove it from UNANNOTATED_KNOWN"
        return
    assert found == [], f"{name}: {found}"
