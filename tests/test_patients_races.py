"""Unique-key races: concurrent creations of the same patient or the same unique MRN in one clinic
end with exactly one winner and 4xx answers (never a 500)."""
from __future__ import annotations

import threading

import pytest
from bson import ObjectId

from patients_support import BIXBY, USER_A, set_clinic
from clinic_api.domain import patients as domain
from clinic_api.errors import ApiError, Duplicate
from clinic_api.store import patient_docs, patients as store

THREADS = 8


def race(fn, rounds=THREADS):
    """Run fn(i) in parallel threads released together; [(i, result or ApiError)]."""
    barrier = threading.Barrier(rounds)
    results = []
    lock = threading.Lock()

    def run(i):
        barrier.wait()
        try:
            out = fn(i)
        except ApiError as exc:
            out = exc
        with lock:
            results.append((i, out))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(rounds)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def winners(results):
    return [r for _, r in results if not isinstance(r, ApiError)]


def test_index_answers_a_race_that_passed_the_checks(db):
    """Both requests passed the pre-checks: the unique indexes decide, with a 409 for the patient and
    the pre-check's own 400 for the MRN (one answer for a duplicate MRN whatever the timing)."""
    clinic = ObjectId()
    docs = [patient_docs.new_document(clinic, USER_A, {"fullName": f"P{i}"}) for i in range(THREADS)]
    results = race(lambda i: store.insert(db, docs[i]))
    assert len(winners(results)) == 1
    assert {(r.status, r.message) for _, r in results if isinstance(r, ApiError)} == {
        (409, "duplicate: patient is already a member of the clinic")}
    docs = [patient_docs.new_document(clinic, f"{i:010x}", {"fullName": "M", "mrn": "SAME"}, require_unique_mrn=True)
            for i in range(THREADS)]
    results = race(lambda i: store.insert(db, docs[i]))
    assert len(winners(results)) == 1
    assert {(r.status, r.message) for _, r in results if isinstance(r, ApiError)} == {
        (400, "bad request: mrn must be unique")}


def test_concurrent_create_from_user(services, clinic, db):
    results = race(lambda i: domain.create_patient_from_user(services, clinic["id"], USER_A, {"view": {}},
                                                             fullName=f"P{i}"))
    assert len(winners(results)) == 1 and db.patients.count_documents({"userId": USER_A}) == 1
    assert all(isinstance(r, Duplicate) for _, r in results if isinstance(r, ApiError))


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_custodial_creates_with_one_unique_mrn(services, clinic, db, round_):
    set_clinic(db, clinic["id"], mrnSettings={"required": False, "unique": True})
    results = race(lambda i: domain.create_account(services, clinic["id"], {**BIXBY, "email": f"k{i}@x.org"}, None))
    assert len(winners(results)) == 1 and db.patients.count_documents({"mrn": "0000000001"}) == 1
    losers = {(r.status, r.message) for _, r in results if isinstance(r, ApiError)}
    assert losers == {(400, "bad request: mrn must be unique")}
    # A loser's custodial account is not left behind.
    assert db.users.count_documents({"custodial": True}) == 1


def test_concurrent_http_creates(server, clinic, db):
    url = f"/v1/clinics/{clinic['id']}/patients/{USER_A}"
    results = race(lambda i: server.post(url, json={"fullName": f"P{i}"}))
    statuses = sorted(r.status_code for _, r in results)
    assert statuses == [200] + [409] * (THREADS - 1)
