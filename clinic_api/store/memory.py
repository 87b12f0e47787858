"""The in-process memory store (mongomock-ng, `CLINIC_STORE=memory`) made safe for threads.

mongomock has no locking of its own: a conditional update matches a document and then changes it
without holding a lock (two racing compare-and-swaps can both succeed), and a transaction that rolls
back puts back the collections as they were when it first touched them, silently undoing whatever
another thread wrote meanwhile. So on this store every write takes its turn with the transactions:
one process-wide re-entrant lock, held by a transaction for its whole length (store/tx.py) and by
each write outside one for that write. A write inside a transaction already holds it.
"""
from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from clinic_api.errors import DATABASE_UNAVAILABLE, ServiceUnavailable

LOCK = threading.RLock()

# The collection methods that change data (and the eager reads that walk a collection while it may
# be changing).
SERIAL_METHODS = frozenset({
    "insert_one", "insert_many", "update_one", "update_many", "replace_one", "delete_one", "delete_many",
    "find_one_and_update", "find_one_and_replace", "find_one_and_delete", "bulk_write", "create_index",
    "create_indexes", "drop_index", "drop_indexes", "drop", "find_one", "count_documents", "aggregate", "distinct",
})


@contextmanager
def turn(timeout_s: float) -> Iterator[None]:
    """Hold the store's lock; a writer stuck past the database timeout is a 503, not a hang."""
    if not LOCK.acquire(timeout=timeout_s):
        raise ServiceUnavailable(DATABASE_UNAVAILABLE)
    try:
        yield
    finally:
        LOCK.release()


class SerialCollection:
    """A mongomock collection whose writes take their turn."""

    def __init__(self, collection: Any, timeout_s: float, database: SerialDatabase) -> None:
        self._collection = collection
        self._timeout_s = timeout_s
        self._database = database

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._collection, name)
        if name not in SERIAL_METHODS:
            return attr

        @functools.wraps(attr)
        def in_turn(*args, **kwargs):
            with turn(self._timeout_s):
                return attr(*args, **kwargs)

        return in_turn

    def __getitem__(self, name: str) -> SerialCollection:
        return self._database[f"{self._collection.name}.{name}"]


class SerialDatabase:
    """A mongomock database whose collections are SerialCollections; `collection(database, name)`
    gives the mongomock collection (the memory engine's, store/memory_engine.py)."""

    def __init__(self, database: Any, timeout_s: float,
                 collection: Callable[[Any, str], Any] = lambda database, name: database[name]) -> None:
        self._database = database
        self._timeout_s = timeout_s
        self._collection = collection

    def __getitem__(self, name: str) -> SerialCollection:
        return SerialCollection(self._collection(self._database, name), self._timeout_s, self)

    def __getattr__(self, name: str) -> Any:
        if name == "get_collection":
            return lambda collection, **options: self[collection]
        if name.startswith("_") or name in ("client", "name", "command", "list_collection_names",
                                            "list_collections", "drop_collection", "create_collection",
                                            "codec_options", "with_options"):
            return getattr(self._database, name)
        return self[name]
