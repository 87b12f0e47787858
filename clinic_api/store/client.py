"""The database handle: a real MongoDB when configured, else the embedded in-memory store."""
from __future__ import annotations

import logging

import pymongo
from pymongo.database import Database

from clinic_api.settings import Settings

log = logging.getLogger("clinic_api.store")


class Store:
    """The database and what it can do. `embedded` is true for the in-memory store."""

    def __init__(self, db: Database, client, embedded: bool):
        self.db = db
        self.client = client
        self.embedded = embedded
        self._transactions: bool | None = True if embedded else None

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


def connect(settings: Settings) -> Store:
    if settings.mongodb_uri:
        client = pymongo.MongoClient(settings.mongodb_uri, tz_aware=True)
        log.info("store: MongoDB database %r", settings.database_name)
        return Store(client[settings.database_name], client, embedded=False)
    import mongomock_ng

    client = mongomock_ng.MongoClient(tz_aware=True)
    log.warning("store: embedded in-memory database (data live in memory only and are lost at exit)")
    return Store(client[settings.database_name], client, embedded=True)
