"""Multi-document changes that must be all-or-nothing."""
from __future__ import annotations

from typing import Callable, TypeVar

import pymongo
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from clinic_api.store import memory

T = TypeVar("T")


def run(store, fn: Callable[[object], T]) -> T:
    """Run fn(session) in a transaction (majority write, snapshot read) where the server
    supports one; the embedded store's transactions also roll back, and hold its lock
    (store/memory.py) for their whole length, so no write interleaves with them. Without
    transaction support (a standalone mongod), fn runs with session None: callers check their
    constraints before they write."""
    if not store.supports_transactions:
        return fn(None)
    if store.embedded:
        with memory.turn(store.timeout_s), store.client.start_session() as session:
            return session.with_transaction(fn)
    # The client's timeoutMS bounds each command, not with_transaction's retries of a conflicting
    # transaction (up to 120 s): the whole of it runs under one deadline, past which a 503.
    with pymongo.timeout(store.timeout_s), store.client.start_session() as session:
        return session.with_transaction(
            fn,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
        )
