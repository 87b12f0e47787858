"""Multi-document changes that must be all-or-nothing."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

import pymongo
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from clinic_api.errors import DATABASE_UNAVAILABLE, ServiceUnavailable

T = TypeVar("T")
_embedded_lock = threading.RLock()


@contextmanager
def _embedded_turn(store) -> Iterator[None]:
    # A stuck transaction must not hang every other writer: wait at most the database timeout.
    if not _embedded_lock.acquire(timeout=store.timeout_s):
        raise ServiceUnavailable(DATABASE_UNAVAILABLE)
    try:
        yield
    finally:
        _embedded_lock.release()


def run(store, fn: Callable[[object], T]) -> T:
    """Run fn(session) in a transaction (majority write, snapshot read) where the server
    supports one; the embedded store's transactions also roll back, and a process lock keeps
    concurrent callers from interleaving. Without transaction support (a standalone mongod),
    fn runs with session None: callers check their constraints before they write."""
    if store.embedded:
        with _embedded_turn(store), store.client.start_session() as session:
            return session.with_transaction(fn)
    if not store.supports_transactions:
        return fn(None)
    # The client's timeoutMS bounds each command, not with_transaction's retries of a conflicting
    # transaction (up to 120 s): the whole of it runs under one deadline, past which a 503.
    with pymongo.timeout(store.timeout_s), store.client.start_session() as session:
        return session.with_transaction(
            fn,
            read_concern=ReadConcern("snapshot"),
            write_concern=WriteConcern("majority"),
        )


def single(store, fn: Callable[[], T]) -> T:
    """Run fn(), a compare-and-swap on one document outside any transaction. A server applies each
    conditional update atomically, so it runs as is. On the embedded store it takes its turn with the
    transactions: mongomock matches a document and then updates it without holding a lock, and a
    transaction that rolls back puts back the collections as they were when it first touched them,
    which would silently undo a write another thread made meanwhile (a tag created while a clinic
    merge into the clinic ran and then failed was lost, its 200 already sent)."""
    if not store.embedded:
        return fn()
    with _embedded_turn(store):
        return fn()
