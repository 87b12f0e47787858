"""Multi-document changes that must be all-or-nothing."""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

T = TypeVar("T")
_embedded_lock = threading.RLock()


def run(store, fn: Callable[[object], T]) -> T:
    """Run fn(session) in a transaction (majority write, snapshot read) where the server
    supports one; the embedded store's transactions also roll back, and a process lock keeps
    concurrent callers from interleaving. Without transaction support (a standalone mongod),
    fn runs with session None: callers check their constraints before they write."""
    if store.embedded:
        with _embedded_lock:
            with store.client.start_session() as session:
                return session.with_transaction(fn)
    if not store.supports_transactions:
        return fn(None)
    with store.client.start_session() as session:
        return session.with_transaction(
            fn,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
        )
