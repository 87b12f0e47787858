"""The database handle, one code path for the three stores: a MongoDB (`MONGODB_URI`), the local
default (a SecantusDB server this service starts, `store/local_server.py`) and the in-process
mongomock-ng store (`CLINIC_STORE=memory`)."""
from __future__ import annotations

import atexit
import logging
import os
import re
from collections.abc import Sequence
from typing import Any

import pymongo
import pymongo.errors
import pymongo.monitoring
from pymongo.database import Database

from clinic_api.settings import Settings
from clinic_api.store import local_server, monitoring

log = logging.getLogger("clinic_api.store")
READY_TIMEOUT_S = 2.0


class StoreError(RuntimeError):
    """The store cannot be used as configured (reported at start, before any request)."""


class Store:
    """The database and what it can do. `embedded` is true for the in-process memory store."""

    def __init__(self, db: Database, client, embedded: bool, kind: str = "mongodb", where: str = "",
                 timeout_s: float = 15.0):
        self.db = db
        self.client = client
        self.embedded = embedded
        self.kind = kind
        self.where = where
        self._transactions: bool | None = True if embedded else None
        # Whether the server has text indexes and `$text`: learnt once, when the indexes are ensured
        # (SecantusDB and the memory store have neither; clinician search then scans tokens).
        self.text_search = False
        self.timeout_s = timeout_s  # the longest a database operation (or the memory store's lock) may take

    @property
    def supports_transactions(self) -> bool:
        if self._transactions is None:
            try:
                hello = self.client.admin.command("hello")
                self._transactions = bool(hello.get("setName") or hello.get("msg") == "isdbgrid")
            except Exception:  # noqa: BLE001 - a probe; answer conservatively
                self._transactions = False
        return self._transactions

    @property
    def supports_collation(self) -> bool:
        return not self.embedded

    def ping(self, timeout_s: float = READY_TIMEOUT_S) -> bool:
        """Whether the database answers within `timeout_s` (for /ready)."""
        if self.embedded:
            return True
        try:
            with pymongo.timeout(timeout_s):
                self.client.admin.command("ping")
        except pymongo.errors.PyMongoError:
            return False
        return True


def mask(uri: str) -> str:
    """A MongoDB URI with its password hidden, for logs and messages."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", uri)


def local_uri(settings: Settings) -> str:
    """The local server's address: the one the starting process (gunicorn's master) published to its
    workers, else a server started (and stopped at exit) by this process."""
    uri = os.environ.get(local_server.URI_ENV)
    if uri:
        return uri
    server = local_server.LocalServer(settings.data_dir)
    try:
        uri = server.start()
    except local_server.LocalServerError as exc:
        raise StoreError(str(exc)) from exc
    atexit.register(server.stop)
    os.environ[local_server.URI_ENV] = uri
    return uri


def connect(settings: Settings, listeners: Sequence[pymongo.monitoring.CommandListener] = (),
            **client_options) -> Store:
    """The store named by `settings`. `listeners`: command listeners beside the metrics' (the command
    count test records each request's commands with one); the memory store sends no commands."""
    if settings.store == "memory":
        import mongomock_ng

        from clinic_api.store import memory_engine
        from clinic_api.store.memory import SerialDatabase

        timeout_s = settings.db_timeout_ms / 1000
        memory: Any = mongomock_ng.MongoClient(tz_aware=True, _store=memory_engine.IndexedServerStore())
        database: Any = SerialDatabase(memory[settings.database_name], timeout_s, collection=memory_engine.collection)
        return Store(database, memory, embedded=True, kind="memory", where="process memory (lost at exit)",
                     timeout_s=timeout_s)
    if settings.store == "local":
        uri = local_uri(settings)
        where = f"{os.path.abspath(settings.data_dir)} (SecantusDB at {uri})"
    else:
        uri = settings.mongodb_uri
        where = mask(uri)
    # Every exchange with the server bounded (socketTimeoutMS: a slow or locked operation), a server
    # that cannot be found given up quickly (serverSelectionTimeoutMS): both answer 503 (errors.py).
    # Not the client-wide timeoutMS: with it, PyMongo waits its whole length to select a server, so an
    # outage would hold each request that long. Transactions run under one deadline (tx.py).
    options = {"socketTimeoutMS": settings.db_timeout_ms, "serverSelectionTimeoutMS": settings.db_select_timeout_ms,
               "connectTimeoutMS": min(settings.db_select_timeout_ms, settings.db_timeout_ms), **client_options}
    client = pymongo.MongoClient(uri, tz_aware=True, event_listeners=[*monitoring.event_listeners(), *listeners],
                                 **options)
    return Store(client[settings.database_name], client, embedded=False, kind=settings.store, where=where,
                 timeout_s=settings.db_timeout_ms / 1000)


def check_transactions(store: Store, settings: Settings) -> None:
    """Multi-document changes run in transactions; a server without them (a standalone mongod)
    would break their all-or-nothing guarantees, so it is refused unless explicitly allowed."""
    if store.supports_transactions:
        return
    if settings.allow_no_transactions:
        log.warning("store: the server has no transactions (not a replica set); CLINIC_ALLOW_NO_TRANSACTIONS=true "
                    "gives up the all-or-nothing guarantee of multi-document changes")
        return
    raise StoreError(f"the database at {store.where} has no transactions (a standalone mongod?): run it as a "
                     "replica set (a single node is enough), or set CLINIC_ALLOW_NO_TRANSACTIONS=true to give up "
                     "the all-or-nothing guarantee of multi-document changes")


def preflight(settings: Settings) -> None:
    """Before any worker starts: the database answers and can run transactions (or that was waived).
    Raises StoreError with the address (credentials masked)."""
    if settings.store == "memory":
        return
    store = connect(settings, serverSelectionTimeoutMS=5000)
    try:
        try:
            store.client.admin.command("ping")
        except pymongo.errors.PyMongoError as exc:
            raise StoreError(f"the database at {store.where} does not answer within 5 s "
                             f"({type(exc).__name__})") from exc
        check_transactions(store, settings)
    finally:
        store.client.close()
