"""What a handler may know about its request: the caller and the services. Nothing from Flask."""
from __future__ import annotations

import urllib.parse

from connexion import context as _cx

from clinic_api.auth.principal import Principal

EXTENSION = "clinic"


def _ext() -> dict:
    return _cx.scope["extensions"][EXTENSION]


def principal() -> Principal:
    return _ext()["principal"]


def services():
    """The app's Services (store, settings, integrations)."""
    return _ext()["services"]


def header(name: str) -> str | None:
    """A request header's value (first occurrence), or None."""
    key = name.lower().encode("latin-1")
    for k, v in _cx.scope.get("headers") or []:
        if k.lower() == key:
            return v.decode("latin-1")
    return None



def query() -> dict[str, str]:
    """The query parameters' raw values by their names in the contract (the last occurrence of a
    repeated one, as connexion reads a non-array parameter)."""
    raw = (_cx.scope.get("query_string") or b"").decode("latin-1")
    return dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
