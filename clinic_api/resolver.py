"""operationId -> handler: CamelCase becomes snake_case, looked up in the module of its family.
Every operation of clinic.v1.yaml has a handler; a missing one stops the start."""
from __future__ import annotations

import importlib
import re

from connexion.resolver import Resolver

FAMILIES = ("clinics", "settings", "counts", "clinicians", "invites", "users", "patients", "tags", "sites",
            "summaries", "reports", "migrations", "merges", "ehr", "xealth")


def snake(operation_id: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", operation_id)
    s = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", s)
    return s.lower()


def find_handler(operation_id: str):
    name = snake(operation_id)
    for family in FAMILIES:
        try:
            module = importlib.import_module(f"clinic_api.handlers.{family}")
        except ModuleNotFoundError as exc:
            if exc.name != f"clinic_api.handlers.{family}":
                raise
            continue
        fn = getattr(module, name, None)
        if callable(fn):
            return fn
    return None


class MissingHandler(LookupError):
    pass


class ClinicResolver(Resolver):
    def __init__(self):
        super().__init__(function_resolver=self._resolve)

    def _resolve(self, operation_id: str):
        fn = find_handler(operation_id)
        if fn is None:
            raise MissingHandler(f"no handler for operation {operation_id} ({snake(operation_id)})")
        return fn
