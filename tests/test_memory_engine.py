"""The memory store's engine (clinic_api/store/memory_engine.py): hash-index lookups, unique checks
and undo-log transactions over mongomock-ng.

Answers are compared with plain mongomock-ng (the engine must only make them cheaper) on random
documents, queries and writes, and pinned literally on small cases; what a lookup costs is counted
in documents examined, never timed. The engine is the memory store's, so these tests build one
whatever store the suite runs on."""
from __future__ import annotations

import re
import subprocess
import sys

import mongomock_ng
import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings, strategies as st
from pymongo.errors import DuplicateKeyError

from clinic_api.settings import Settings
from clinic_api.store import client, memory_engine, tx
from support.concurrency import race

A = ObjectId("65a1b2c3d4e5f60718293a01")
B = ObjectId("65a1b2c3d4e5f60718293a02")


@pytest.fixture
def store():
    return client.connect(Settings.from_env({"CLINIC_STORE": "memory"}))


@pytest.fixture
def examined(monkeypatch):
    """How many documents the engine's filter was applied to (the documents a query read)."""
    seen = [0]
    real = memory_engine.filter_applies

    def counting(spec, document, *args, **kwargs):
        seen[0] += 1
        return real(spec, document, *args, **kwargs)

    monkeypatch.setattr(memory_engine, "filter_applies", counting)
    return seen


def _names(cursor) -> list:
    return [d["n"] for d in cursor]


def test_the_memory_store_is_built_on_the_engine(store):
    raw = store.db.patients._collection
    assert isinstance(raw, memory_engine.IndexedCollection)
    assert isinstance(raw._store, memory_engine.IndexedCollectionStore)
    # mongomock's own lookups of the collection ($lookup, get_collection) find the same one.
    assert raw.database.get_collection("patients") is raw


def test_an_upgrade_that_moves_what_the_engine_relies_on_fails_at_start(monkeypatch):
    memory_engine.check_mongomock()
    monkeypatch.delattr(mongomock_ng.collection.Collection, "_ensure_uniques")
    with pytest.raises(ImportError, match=r"lacks what the memory store relies on: Collection\._ensure_uniques "):
        memory_engine.check_mongomock()


def test_the_other_stores_never_load_mongomock():
    """The engine (and mongomock-ng under it) is loaded when a memory store is built, not before:
    a service on MongoDB or SecantusDB starts without it."""
    probe = ("import sys, clinic_api.app, clinic_api.store.tx, clinic_api.store.memory; "
             "print(sorted(m for m in sys.modules if m.startswith('mongomock') or m.endswith('memory_engine')))")
    ran = subprocess.run([sys.executable, "-W", "ignore", "-c", probe], capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert ran.stdout.strip() == "[]"


# -- lookups ----------------------------------------------------------------------------------------

def test_lookups_by_id_and_by_field_read_only_what_they_name(store, examined):
    store.db.p.insert_many([{"_id": i, "n": i, "clinicId": A if i % 2 else B, "userId": f"u{i}", "tags": [f"t{i % 7}"]}
                            for i in range(2000)])
    examined[0] = 0
    assert store.db.p.find_one({"_id": 1234})["n"] == 1234
    assert examined[0] == 1
    assert _names(store.db.p.find({"_id": re.compile("^12$")})) == []  # a regex is no key
    store.db.p.insert_one({"_id": "k12", "n": "k12"})
    assert _names(store.db.p.find({"_id": re.compile("^k1")})) == ["k12"]
    assert _names(store.db.p.find({"_id": {"$in": [5, 5.0, "k12"]}})) == [5, "k12"]
    examined[0] = 0
    assert _names(store.db.p.find({"clinicId": A, "userId": "u777"})) == [777]
    assert examined[0] == 1
    examined[0] = 0
    assert _names(store.db.p.find({"userId": {"$in": ["u5", "u3", "u4"]}})) == [3, 4, 5]
    assert examined[0] == 3
    examined[0] = 0
    assert _names(store.db.p.find({"$and": [{"clinicId": B}, {"userId": {"$eq": "u10"}}]})) == [10]
    assert examined[0] == 1
    examined[0] = 0
    assert store.db.p.count_documents({"clinicId": A, "tags": "t3"}) == 143
    assert examined[0] == 286  # the documents holding t3, half of them in clinic A
    examined[0] = 0
    assert store.db.p.count_documents({"clinicId": A}) == 1000
    assert examined[0] == 1000  # half the collection: still through the index
    examined[0] = 0
    assert store.db.p.count_documents({"tags": {"$in": ["t0", "t1", "t2", "t3", "t4"]}}) == 1430
    assert examined[0] == 0  # most of the collection: walked by mongomock as before, not through the index


def test_the_indexes_follow_updates_deletes_and_replacements(store):
    db = store.db
    db.p.insert_many([{"_id": 1, "n": 1, "userId": "a"}, {"_id": 2, "n": 2, "userId": "b"}, {"_id": 3, "n": 3}])
    assert _names(db.p.find({"userId": "a"})) == [1]  # builds the index of userId
    db.p.update_one({"_id": 1}, {"$set": {"userId": "b"}})
    db.p.update_one({"_id": 3}, {"$set": {"userId": ["a", "c"]}})
    assert _names(db.p.find({"userId": "a"})) == [3]
    assert _names(db.p.find({"userId": "b"})) == [1, 2]
    db.p.replace_one({"_id": 2}, {"n": 20, "userId": {"nested": "b"}})
    assert _names(db.p.find({"userId": "b"})) == [1]
    db.p.delete_one({"userId": "b"})
    assert _names(db.p.find({"userId": "b"})) == []
    assert _names(db.p.find({"userId": "c"})) == [3]
    db.p.find_one_and_update({"userId": "c"}, {"$unset": {"userId": ""}})
    assert _names(db.p.find({"userId": {"$in": ["a", "c"]}})) == []
    assert _names(db.p.find({})) == [20, 3]


def test_an_aggregation_starting_with_a_match_reads_only_the_matching_documents(store, examined):
    store.db.p.insert_many([{"_id": i, "clinicId": A if i < 10 else B, "k": i % 3} for i in range(300)])
    examined[0] = 0
    rows = list(store.db.p.aggregate([{"$match": {"clinicId": A, "k": {"$ne": 0}}},
                                      {"$group": {"_id": "$k", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]))
    assert rows == [{"_id": 1, "n": 3}, {"_id": 2, "n": 3}]
    assert examined[0] == 10


# -- unique checks --------------------------------------------------------------------------------

def test_unique_indexes_refuse_duplicates_through_the_index(store):
    db = store.db
    db.p.create_index([("clinicId", 1), ("userId", 1)], unique=True)
    db.p.create_index([("clinicId", 1), ("mrn", 1)], unique=True,
                      partialFilterExpression={"mrn": {"$type": "string"}})
    db.c.create_index([("shareCodes", 1)], unique=True)
    db.p.insert_many([{"clinicId": A, "userId": f"u{i}"} for i in range(50)])
    with pytest.raises(DuplicateKeyError):
        db.p.insert_one({"clinicId": A, "userId": "u7"})
    db.p.insert_one({"clinicId": B, "userId": "u7"})  # another clinic
    with pytest.raises(DuplicateKeyError):
        db.p.update_one({"clinicId": A, "userId": "u8"}, {"$set": {"userId": "u9"}})
    assert db.p.count_documents({"clinicId": A, "userId": "u8"}) == 1
    # Outside the partial index (no string MRN): never a clash, however many.
    db.p.update_many({"clinicId": A}, {"$set": {"mrn": None}})
    db.p.update_one({"clinicId": A, "userId": "u1"}, {"$set": {"mrn": "M1"}})
    with pytest.raises(DuplicateKeyError):
        db.p.update_one({"clinicId": A, "userId": "u2"}, {"$set": {"mrn": "M1"}})
    # Arrays: any shared element clashes.
    db.c.insert_one({"_id": 1, "shareCodes": ["AAA", "BBB"]})
    with pytest.raises(DuplicateKeyError):
        db.c.insert_one({"_id": 2, "shareCodes": ["CCC", "BBB"]})
    db.c.insert_one({"_id": 3, "shareCodes": ["CCC"]})
    assert sorted(d["_id"] for d in db.c.find()) == [1, 3]


def test_a_unique_check_reads_only_the_documents_its_values_name(store, monkeypatch):
    store.db.p.create_index([("clinicId", 1), ("userId", 1)], unique=True)
    store.db.p.insert_many([{"clinicId": A, "userId": f"u{i}"} for i in range(1000)])
    compared = [0]
    real = memory_engine.IndexedCollection._compute_index_entries

    def counting(document, keys, sparse):
        compared[0] += 1
        return real(document, keys, sparse)

    monkeypatch.setattr(memory_engine.IndexedCollection, "_compute_index_entries", staticmethod(counting))
    store.db.p.update_one({"clinicId": A, "userId": "u500"}, {"$set": {"x": 1}})
    assert compared[0] == 1  # the updated document only: its stored self is skipped, no other is read
    compared[0] = 0
    store.db.p.insert_one({"clinicId": A, "userId": "new"})
    assert compared[0] == 1


def test_a_renamed_collection_keeps_its_documents_and_indexes(store):
    db = store.db
    db.empty.create_index([("k", 1)], name="K", unique=True)
    db.full.insert_many([{"_id": 1, "k": "x"}, {"_id": 2, "k": "y"}])
    db.empty.rename("renamed_empty")
    db.full.rename("renamed_full")
    assert "K" in db.renamed_empty.index_information()
    assert [d["_id"] for d in db.renamed_full.find({"k": "y"})] == [2]


# -- transactions ---------------------------------------------------------------------------------

def test_an_aborted_transaction_puts_back_what_it_changed_in_place(store):
    db = store.db
    db.t.insert_many([{"_id": "a", "n": 1}, {"_id": "b", "n": 2}, {"_id": "c", "n": 3}])
    assert _names(db.t.find({"_id": {"$in": ["a", "b"]}})) == [1, 2]
    raw = db.t._collection._store

    def work(session):
        db.t.update_one({"_id": "a"}, {"$set": {"n": 10}}, session=session)
        db.t.delete_one({"_id": "b"}, session=session)
        db.t.insert_one({"_id": "b", "n": 22}, session=session)
        db.t.delete_one({"_id": "c"}, session=session)
        db.t.insert_one({"_id": "d", "n": 4}, session=session)
        assert raw._saved_documents is None  # no copy of the collection
        assert sorted(raw._undo) == ["a", "b", "c", "d"]  # what was touched, once each
        raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        tx.run(store, work)
    assert list(db.t.find()) == [{"_id": "a", "n": 1}, {"_id": "b", "n": 2}, {"_id": "c", "n": 3}]
    assert _names(db.t.find({"_id": "b"})) == [2] and _names(db.t.find({"_id": "d"})) == []
    assert raw._undo is None


def test_a_committed_transaction_keeps_its_writes(store):
    db = store.db
    db.t.insert_one({"_id": "a", "n": 1, "k": "x"})
    tx.run(store, lambda s: (db.t.update_one({"k": "x"}, {"$set": {"n": 2, "k": "y"}}, session=s),
                             db.t.insert_one({"_id": "b", "n": 3, "k": "x"}, session=s)))
    assert list(db.t.find()) == [{"_id": "a", "n": 2, "k": "y"}, {"_id": "b", "n": 3, "k": "x"}]
    assert _names(db.t.find({"k": "x"})) == [3]


def test_a_refused_update_inside_a_transaction_leaves_the_document_as_it_was(store):
    db = store.db
    db.t.create_index([("k", 1)], unique=True)
    db.t.insert_many([{"_id": 1, "k": "x", "n": 1}, {"_id": 2, "k": "y", "n": 2}])

    def work(session):
        db.t.update_one({"_id": 1}, {"$set": {"n": 5}}, session=session)
        db.t.update_one({"_id": 2}, {"$set": {"k": "x"}}, session=session)

    with pytest.raises(DuplicateKeyError):
        tx.run(store, work)
    assert list(db.t.find()) == [{"_id": 1, "k": "x", "n": 1}, {"_id": 2, "k": "y", "n": 2}]
    assert _names(db.t.find({"k": "y"})) == [2]


# -- threads --------------------------------------------------------------------------------------

def test_readers_and_writers_on_twenty_threads(store):
    """Readers narrow through indexes being built and changed by writers on other threads: every
    read sees each document once, whole, and the final state is exact."""
    db = store.db
    db.p.insert_many([{"_id": i, "owner": "none", "n": 0} for i in range(200)])
    errors: list = []

    def client(k: int) -> None:
        try:
            for round_ in range(20):
                if k % 2:
                    db.p.update_one({"_id": (k // 2) * 20 + round_}, {"$set": {"owner": f"w{k}"}, "$inc": {"n": 1}})
                else:
                    seen = [d["_id"] for d in db.p.find({"owner": {"$in": [f"w{j}" for j in range(1, 20, 2)]}})]
                    assert len(seen) == len(set(seen))
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    race([lambda k=k: client(k) for k in range(20)])
    assert errors == []
    assert sum(d["n"] for d in db.p.find()) == 200
    assert db.p.count_documents({"owner": "none"}) == 0


# -- the same answers as mongomock-ng -------------------------------------------------------------

KEYED = st.sampled_from(["x", "y", "z", A, B])
VALUE = (KEYED | st.none() | st.integers(0, 2) | st.lists(KEYED | st.integers(0, 2), max_size=3)
         | st.fixed_dictionaries({"x": KEYED}) | st.lists(st.lists(KEYED, max_size=2), max_size=2))
DOC = st.fixed_dictionaries({}, optional={"f": VALUE, "g": VALUE})
CONDITION = (KEYED | st.builds(lambda v: {"$eq": v}, KEYED)
             | st.builds(lambda v: {"$in": v}, st.lists(KEYED, max_size=3))
             | st.builds(lambda v: {"$ne": v}, KEYED) | st.none() | st.just(1))
QUERY = (st.fixed_dictionaries({}, optional={"f": CONDITION, "g": CONDITION,
                                             "_id": st.integers(0, 12) | st.builds(lambda v: {"$in": v},
                                                                                   st.lists(st.integers(0, 12)))})
         | st.builds(lambda a, b: {"$and": [a, b]}, st.fixed_dictionaries({"f": CONDITION}),
                     st.fixed_dictionaries({"g": CONDITION})))
WRITE = st.tuples(st.sampled_from(["set", "delete", "insert", "unset"]), st.integers(0, 12), VALUE)


def _apply(collection, write, fresh: list[int], session=None) -> None:
    kind, target, value = write
    if kind == "set":
        collection.update_one({"_id": target}, {"$set": {"f": value}}, session=session)
    elif kind == "unset":
        collection.update_many({"f": value if not isinstance(value, (list, dict)) else "x"}, {"$unset": {"g": ""}},
                               session=session)
    elif kind == "delete":
        collection.delete_one({"_id": target}, session=session)
    else:
        fresh[0] += 1
        collection.insert_one({"_id": 100 + fresh[0], "f": value}, session=session)


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(docs=st.lists(DOC, min_size=4, max_size=12), queries=st.lists(QUERY, min_size=1, max_size=6),
       writes=st.lists(WRITE, max_size=6), abort=st.booleans())
def test_answers_are_those_of_mongomock(docs, queries, writes, abort):
    ours = client.connect(Settings.from_env({"CLINIC_STORE": "memory"}))
    plain = mongomock_ng.MongoClient(tz_aware=True).db
    rows = [{"_id": i, **doc} for i, doc in enumerate(docs)]
    for collection in (ours.db.c, plain.c):
        collection.insert_many([dict(row) for row in rows])
        for query in queries:  # before the writes too, so the indexes are built then maintained
            list(collection.find(query))
    fresh_ours, fresh_plain = [0], [0]
    for write in writes:
        _apply(plain.c, write, fresh_plain)
    if abort:
        def work(session):
            for write in writes:
                _apply(ours.db.c, write, fresh_ours, session)
            raise RuntimeError("roll back")

        with pytest.raises(RuntimeError):
            tx.run(ours, work)
        expected_rows = rows
    else:
        for write in writes:
            _apply(ours.db.c, write, fresh_ours)
        expected_rows = list(plain.c.find())
    assert list(ours.db.c.find()) == expected_rows
    oracle = mongomock_ng.MongoClient(tz_aware=True).db.c
    if expected_rows:
        oracle.insert_many(expected_rows)
    for query in queries:
        assert list(ours.db.c.find(query)) == list(oracle.find(query)), query
        assert ours.db.c.count_documents(query) == oracle.count_documents(query), query
        pipeline = [{"$match": query}, {"$project": {"_id": 1}}]
        assert list(ours.db.c.aggregate(pipeline)) == list(oracle.aggregate(pipeline)), query
