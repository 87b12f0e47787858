"""What the memory store needs from mongomock-ng so that a patient write costs the same in a clinic
of 50,000 patients as in one of 1,000: equality lookups, unique checks and transactions whose cost
follows the documents touched, not the collection.

mongomock-ng, as it comes, walks every document of a collection for every query (after copying the
list of them), walks them all again for each unique index on every insert and update, and begins a
transaction by deep-copying every collection the transaction touches. Three changes, made by
subclassing its collection and its collection store (the memory store builds its client with them,
store/client.py; nothing else of mongomock changes):

- Equality lookups. A query whose conditions include `_id` equal to a value (or `$in` values) reads
  those documents by key. A query with a top-level field equal to a string or an ObjectId (or `$in`
  of them), also inside `$and`, reads the documents a hash index of that field names: built the first
  time a query asks for that field, kept up to date by every write after. The index only narrows:
  each candidate is still matched by mongomock's own filter, so the answers are the same as a walk
  (`tests/test_memory_engine.py` compares them with plain mongomock-ng on random documents and
  queries), in the same natural order. The index itself: store/memory_index.py.
- Unique checks compare a new or changed document with the documents its unique fields' values
  name, not with the whole collection; a document outside a partial index's filter is not checked
  (as MongoDB: it is not in that index).
- Transactions keep an undo log: a document's first change in the transaction records what it was
  (updates work on a copy, so a stored document is never changed in place); an abort puts those
  back, in their places. The memory store runs one transaction at a time (store/memory.py), so the
  log belongs to the collection.

Written against mongomock-ng 7.11 (its private `_iter_documents`, `_ensure_uniques`,
`_update_documents`, `_documents`): `tests/test_memory_engine.py` fails first if an upgrade moves them.
"""
from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any, Iterator

import mongomock_ng
from mongomock_ng import DuplicateKeyError, helpers, store
from mongomock_ng import aggregate as pipelines
from mongomock_ng.collection import Collection
from mongomock_ng.filtering import filter_applies

from clinic_api.store.memory_index import ABSENT, FieldIndex, indexed_values, probe

# Walking is as cheap as reading through an index once the candidates are this share of the
# collection or more.
WORTH_IT = 0.5

# The private parts of mongomock-ng this module overrides or calls.
_RELIED_ON = {Collection: ("_iter_documents", "_ensure_uniques", "_update_documents", "_compute_index_entries",
                           "_entries_overlap", "_store"),
              store.CollectionStore: ("begin_transaction", "commit_transaction", "abort_transaction",
                                      "_remove_expired_documents")}


def check_mongomock() -> None:
    """An upgrade of mongomock-ng that moves what this module relies on fails here, at import (so at
    start), rather than answering differently."""
    missing = [f"{owner.__name__}.{name}" for owner, names in _RELIED_ON.items() for name in names
               if not hasattr(owner, name)]
    if missing:
        raise ImportError(f"mongomock-ng {getattr(mongomock_ng, '__version__', '?')} lacks what the memory store "
                          f"relies on: {', '.join(missing)} (pyproject.toml pins the versions it was written for)")


check_mongomock()

class IndexedCollectionStore(store.CollectionStore):
    """A collection's documents with hash indexes on the fields queried by equality, and an undo log
    while a transaction runs. Every change of `_documents` goes through `__setitem__`/`__delitem__`
    (or the methods below), which keep both."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._fields: dict[str, FieldIndex] = {}
        self._order: dict[Any, int] = {}
        self._counter = itertools.count()
        self._undo: dict[Any, tuple[Any, int | None]] | None = None
        # Guards the indexes (and `_documents` while they change together) against readers on
        # other threads; never held while taking mongomock's reader/writer lock.
        self._index_lock = threading.Lock()

    # -- writes --------------------------------------------------------------------------------
    def __setitem__(self, key: Any, document: Any) -> None:
        with self._rwlock.writer(), self._index_lock:
            before = self._documents.get(key, ABSENT)
            if self._undo is not None and key not in self._undo:
                self._undo[key] = (before, self._order.get(key))
            if before is ABSENT:
                self._order[key] = next(self._counter)
            else:
                for index in self._fields.values():
                    index.remove(key)
            self._documents[key] = document
            for index in self._fields.values():
                index.add(key, document)

    def __delitem__(self, key: Any) -> None:
        with self._rwlock.writer(), self._index_lock:
            before = self._documents[key]
            if self._undo is not None and key not in self._undo:
                self._undo[key] = (before, self._order.get(key))
            del self._documents[key]
            self._order.pop(key, None)
            for index in self._fields.values():
                index.remove(key)

    def drop(self) -> None:
        with self._rwlock.writer(), self._index_lock:
            super().drop()
            self._fields = {}
            self._order = {}

    # -- transactions --------------------------------------------------------------------------
    def begin_transaction(self) -> None:
        # Index definitions are replaced, never changed in place: a shallow copy puts them back.
        self._undo = {}
        self._saved_indexes = dict(self.indexes)
        self._saved_ttl_indexes = dict(self._ttl_indexes)

    def commit_transaction(self) -> None:
        self._undo = None
        self._saved_indexes = None
        self._saved_ttl_indexes = None

    def abort_transaction(self) -> None:
        undo, self._undo = self._undo, None
        if undo is None:
            return
        with self._rwlock.writer(), self._index_lock:
            restored_elsewhere = False
            for key, (before, order) in undo.items():
                for index in self._fields.values():
                    index.remove(key)
                if before is ABSENT:
                    self._documents.pop(key, None)
                    self._order.pop(key, None)
                    continue
                if key not in self._documents or self._order.get(key) != order:
                    restored_elsewhere = True
                self._documents[key] = before
                self._order[key] = order if order is not None else next(self._counter)
                for index in self._fields.values():
                    index.add(key, before)
            if restored_elsewhere:
                # A document deleted then restored goes back to its place in the natural order.
                self._documents = OrderedDict(sorted(self._documents.items(), key=lambda item: self._order[item[0]]))
        saved_indexes, saved_ttl = self._saved_indexes, self._saved_ttl_indexes
        if saved_indexes is not None and saved_ttl is not None:
            self.indexes, self._ttl_indexes = saved_indexes, saved_ttl
        self._saved_indexes = None
        self._saved_ttl_indexes = None

    # -- reads ---------------------------------------------------------------------------------
    def _index_of(self, field: str) -> FieldIndex:
        """The field's hash index, built on first use (call with the index lock held)."""
        index = self._fields.get(field)
        if index is None:
            index = FieldIndex(field)
            for key, document in self._documents.items():
                index.add(key, document)
            self._fields[field] = index
        return index

    def _narrowest(self, spec: Mapping) -> set | list | None:
        """The keys of the documents `spec` can match (a superset), or None when it names none."""
        ids = indexed_values("_id", spec["_id"]) if "_id" in spec else None
        if ids is not None:
            return list(dict.fromkeys(k for k in ids if k in self._documents))
        best: tuple[int, FieldIndex, list] | None = None
        for field, condition in spec.items():
            values = indexed_values(field, condition) if field != "_id" else None
            if values is None:
                continue
            index = self._index_of(field)
            size = index.size(values)
            if best is None or size < best[0]:
                best = (size, index, values)
        narrowest: set | list | None = best[1].candidates(best[2]) if best is not None else None
        for part in spec.get("$and", ()) if isinstance(spec.get("$and"), list) else ():
            if isinstance(part, Mapping) and (narrowest is None or len(narrowest) > 1):
                narrowed = self._narrowest(part)
                if narrowed is not None and (narrowest is None or len(narrowed) < len(narrowest)):
                    narrowest = narrowed
        return narrowest

    def candidates(self, spec: Any) -> list | None:
        """The documents `spec` may match, in natural order, when an index narrows them to fewer than
        a walk would read; None otherwise (walk the collection)."""
        if not isinstance(spec, Mapping) or not spec:
            return None
        self._remove_expired_documents()
        with self._index_lock:
            total = len(self._documents)
            if not total:
                return None
            keys = self._narrowest(spec)
            if keys is None or len(keys) > total * WORTH_IT:
                return None
            documents = self._documents
            return [documents[key] for key in sorted((k for k in keys if k in documents), key=self._order.__getitem__)]


class IndexedDatabaseStore(store.DatabaseStore):
    def __getitem__(self, name: str) -> store.CollectionStore:
        try:
            return self._collections[name]
        except KeyError:
            created = self._collections[name] = IndexedCollectionStore(name)
            return created

    def rename(self, name: str, new_name: str) -> None:
        moved = self._collections.pop(name, None)
        if moved is None:  # (an empty store is falsy: it has a length)
            moved = IndexedCollectionStore(new_name)
        moved.name = new_name
        self._collections[new_name] = moved


class IndexedServerStore(store.ServerStore):
    def __getitem__(self, name: str) -> store.DatabaseStore:
        try:
            return self._databases[name]
        except KeyError:
            created = self._databases[name] = IndexedDatabaseStore()
            return created


_copying = threading.local()


@contextmanager
def _updating() -> Iterator[None]:
    """While an update runs, the documents it reads are copies: it changes them, and the store
    records the old one (undo log, indexes) when the copy is written back."""
    depth = getattr(_copying, "depth", 0)
    _copying.depth = depth + 1
    try:
        yield
    finally:
        _copying.depth = depth


class IndexedCollection(Collection):
    """A mongomock-ng collection reading through its store's indexes."""

    def _candidates(self, spec: Any) -> list | None:
        collection_store = self._store
        return collection_store.candidates(spec) if isinstance(collection_store, IndexedCollectionStore) else None

    def _iter_documents(self, filter):  # noqa: A002 - mongomock's name
        found = self._candidates(filter)
        documents = (super()._iter_documents(filter) if found is None
                     else (document for document in found if filter_applies(filter, document)))
        if getattr(_copying, "depth", 0):
            return (helpers._clone_document(document) for document in documents)
        return documents

    def _update_documents(self, *args, **kwargs):
        with _updating():
            return super()._update_documents(*args, **kwargs)

    def _ensure_uniques(self, new_data):
        collection_store = self._store
        for index in collection_store.indexes.values():
            if not index.get("unique"):
                continue
            keys = index.get("key")
            partial = index.get("partialFilterExpression")
            if partial is not None and not filter_applies(partial, new_data):
                continue
            mine = self._compute_index_entries(new_data, keys, index.get("sparse"))
            if mine is None:
                continue
            found = self._candidates(probe(new_data, keys))
            for document in (found if found is not None else collection_store.documents):
                if document["_id"] == new_data.get("_id"):
                    continue
                if partial is not None and not filter_applies(partial, document):
                    continue
                theirs = self._compute_index_entries(document, keys, index.get("sparse"))
                if theirs is not None and self._entries_overlap(mine, theirs):
                    raise DuplicateKeyError(
                        "E11000 Duplicate Key Error", 11000,
                        {"keyPattern": dict(keys),
                         "keyValue": {k: helpers.get_value_by_dot(new_data, k) for k, _ in keys}})

    def aggregate(self, pipeline, session=None, **kwargs):
        """A pipeline starting with `$match` reads only the documents its indexed equalities allow
        (the `$match` still runs, unchanged, on them)."""
        if pipeline and isinstance(pipeline[0], Mapping) and isinstance(pipeline[0].get("$match"), Mapping):
            match = pipeline[0]["$match"]
            narrowing = {field: condition for field, condition in match.items()
                         if indexed_values(field, condition) is not None}
            if narrowing:
                return pipelines.process_pipeline(list(self.find(narrowing)), self.database, pipeline, session)
        return super().aggregate(pipeline, session=session, **kwargs)

    def with_options(self, codec_options=None, read_preference=None, write_concern=None, read_concern=None):
        same = super().with_options(codec_options, read_preference, write_concern, read_concern)
        if same is self:
            return self
        return IndexedCollection(self.database, self.name, _db_store=self._db_store,
                                 write_concern=same.write_concern, read_concern=same.read_concern,
                                 read_preference=same.read_preference, codec_options=same.codec_options)


def collection(database: Any, name: str) -> IndexedCollection:
    """The database's collection `name`, an IndexedCollection (registered with the database, so
    mongomock's own lookups of it — `$lookup`, `get_collection` — find the same one)."""
    accesses = database._collection_accesses
    found = accesses.get(name)
    if not isinstance(found, IndexedCollection):
        found = accesses[name] = IndexedCollection(
            database, name, _db_store=database._store, read_preference=database.read_preference,
            codec_options=database.codec_options)
    return found
