"""The store the suite runs on, chosen once per test session from the environment:

- CLINIC_TEST_MONGODB_URI=mongodb://...  any MongoDB (a replica set for the transaction tests);
- CLINIC_TEST_STORE=secantus             a SecantusDB server started here (free port, temporary
                                         directory), stopped when the session ends;
- otherwise                              the in-memory store (mongomock-ng).

Each app the tests build gets its store settings from `settings()`, so every app of the session runs
on the store under test."""
from __future__ import annotations

import itertools
import os
import tempfile

import pymongo

from clinic_api.settings import Settings
from clinic_api.store import indexes, local_server

_DB_PREFIX = "clinic_test"
_state: dict = {"kind": "memory", "uri": "", "server": None, "tmp": None, "databases": set()}
_counter = itertools.count(1)


def start() -> None:
    uri = os.environ.get("CLINIC_TEST_MONGODB_URI", "")
    kind = os.environ.get("CLINIC_TEST_STORE", "memory") or "memory"
    if uri:
        _state.update(kind="mongodb", uri=uri)
    elif kind == "secantus":
        tmp = tempfile.TemporaryDirectory(prefix="clinic-test-secantus-")
        server = local_server.LocalServer(tmp.name)
        _state.update(kind="secantus", uri=server.start(), server=server, tmp=tmp)
    elif kind != "memory":
        raise RuntimeError(f"CLINIC_TEST_STORE must be memory or secantus (got {kind!r})")


def stop() -> None:
    if _state["uri"] and _state["databases"] and _state["kind"] == "mongodb":
        client = pymongo.MongoClient(_state["uri"], serverSelectionTimeoutMS=5000)
        for name in _state["databases"]:
            client.drop_database(name)
        client.close()
    if _state["server"] is not None:
        _state["server"].stop()
        _state["server"] = None
    if _state["tmp"] is not None:
        _state["tmp"].cleanup()
        _state["tmp"] = None


def kind() -> str:
    """memory, secantus or mongodb."""
    return _state["kind"]


def on_wire() -> bool:
    return _state["kind"] != "memory"


def uri() -> str:
    return _state["uri"]


def describe() -> str:
    return _state["kind"] + (f" at {_state['uri']}" if _state["uri"] else "")


def env(*, fresh: bool = False, **extra: str) -> dict:
    """Environment variables naming the store under test (and `extra`). `fresh`: a database of its
    own, empty, for tests that need one (index creation, a second app)."""
    if not on_wire():
        return {"CLINIC_STORE": "memory", **extra}
    name = f"{_DB_PREFIX}_{next(_counter)}" if fresh else _DB_PREFIX
    _state["databases"].add(name)
    if fresh:
        client = pymongo.MongoClient(_state["uri"])
        client.drop_database(name)
        client.close()
    return {"CLINIC_STORE": "mongodb", "MONGODB_URI": _state["uri"], "TIDEPOOL_CLINIC_DATABASE_NAME": name, **extra}


def settings(*, fresh: bool = False, **extra: str) -> Settings:
    return Settings.from_env(env(fresh=fresh, **extra))


def empty(db) -> None:
    """Every collection emptied, the declared indexes in place. On the wire the collections and
    their indexes are kept (dropping and re-creating ~40 indexes per test costs more than the
    test); an index a test removed is put back."""
    if not on_wire():
        for name in db.list_collection_names():
            db.drop_collection(name)
        indexes.create_all(db)
        return
    for name in db.list_collection_names():
        if name.startswith("system."):
            continue
        db[name].delete_many({})
    missing, _ = indexes.plan(db)  # on the wire: a server records every option
    for collection, model in missing:
        if (collection, model.document["name"]) != indexes.TEXT_SEARCH_INDEX:
            db[collection].create_indexes([model])


def with_store(variables: dict, *, fresh: bool = True) -> dict:
    """`variables` plus the store under test, on a database of its own by default (a second app
    in a test must not see the session app's data, as on the memory store)."""
    return {**env(fresh=fresh), **variables}
