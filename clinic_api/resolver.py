"""connexion's resolver on the explicit operationId -> handler map (handlers/operations.py).

`check` runs when the resolver is built, before the app serves: every operation of clinic.v1.yaml
must resolve to exactly one function, the map may name no other operation, and no function may
serve two operations. Any mismatch stops the start."""
from __future__ import annotations

from typing import Callable, Iterable

from connexion.resolver import Resolver

from clinic_api import spec
from clinic_api.handlers.operations import OPERATIONS


class MissingHandler(LookupError):
    pass


def contract_operations() -> list[str]:
    """The operationIds of clinic.v1.yaml, in the file's order."""
    out = []
    for item in spec.load()["paths"].values():
        for method in spec.METHODS:
            if method in item:
                out.append(item[method]["operationId"])
    return out


def check(operation_ids: Iterable[str], operations: dict[str, Callable]) -> None:
    wanted = list(operation_ids)
    problems = []
    duplicated = sorted({op for op in wanted if wanted.count(op) > 1})
    if duplicated:
        problems.append(f"operationIds used twice in the contract: {', '.join(duplicated)}")
    missing = [op for op in wanted if op not in operations]
    if missing:
        problems.append(f"no handler for {', '.join(missing)}")
    unknown = sorted(set(operations) - set(wanted))
    if unknown:
        problems.append(f"handlers for operations the contract lacks: {', '.join(unknown)}")
    by_function: dict[Callable, list[str]] = {}
    for op, fn in operations.items():
        if not callable(fn):
            problems.append(f"the handler of {op} is not a function")
        by_function.setdefault(fn, []).append(op)
    shared = [ops for ops in by_function.values() if len(ops) > 1]
    if shared:
        problems.append("one function serves several operations: " + "; ".join(", ".join(ops) for ops in shared))
    if problems:
        raise MissingHandler("; ".join(problems))


def find_handler(operation_id: str) -> Callable | None:
    """The function serving an operation, or None."""
    return OPERATIONS.get(operation_id)


class ClinicResolver(Resolver):
    def __init__(self, operations: dict[str, Callable] | None = None):
        self.operations = OPERATIONS if operations is None else operations
        check(contract_operations(), self.operations)
        super().__init__(function_resolver=self._resolve)

    def _resolve(self, operation_id: str) -> Callable:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise MissingHandler(f"no handler for operation {operation_id}") from None
