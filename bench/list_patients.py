"""ListPatients benchmark on the embedded store.

A clinic of 10,000 patients; the query a clinician runs all day: a free-text search, sorted by
name, with a summary filter, a page of 50. It is sent to the real application (connexion FlaskApp
with our whole pipeline: token, membership check, validation, handler, store) and to a bare Flask
handler that runs the same store query on the same database, both in-process. Reported per side:
requests/s, p50/p95 latency and store round-trips per request; round-trips are also counted for a
page of 10, to show that a page costs the same number of calls whatever its size (no N+1).

Run: make bench   (or .venv/bin/python bench/list_patients.py [--patients N] [--requests N])
"""
from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import threading
import time
import urllib.parse
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask  # noqa: E402
from bson import ObjectId  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from clinic_api import services as services_mod, wire  # noqa: E402
from clinic_api.app import create_app  # noqa: E402
from clinic_api.auth.tokens import mint  # noqa: E402
from clinic_api.domain import patient_list  # noqa: E402
from clinic_api.settings import Settings  # noqa: E402
from clinic_api.store import patient_docs, patient_queries, patients as patients_store  # noqa: E402
from clinic_api.store.patient_view import to_api  # noqa: E402

SECRET = "bench-secret-0123456789abcdef0123456789"
MEMBER = "2345678901"
FIRST = ["Anna", "Ben", "Chloé", "Daniel", "Élodie", "Frank", "Grace", "Hana", "Ian", "Jana", "Karl", "Lena",
         "Marco", "Nadia", "Oscar", "Paula", "Quinn", "Rosa", "Sean", "Tanja"]
LAST = ["Smith", "Müller", "Garcia", "Novak", "Rossi", "Dubois", "Jensen", "Kowalski", "Silva", "Brown",
        "Nakamura", "O'Neil", "Andersen", "Petrov", "Santos", "Meyer", "Hansen", "Lopez", "Weber", "Costa"]
QUERY = {"search": "an", "sort": "+fullName", "sortType": "cgm", "cgm.timeInTargetPercent": ">=0.5", "limit": "50"}


# --- store round-trips ----------------------------------------------------------------------------

class RoundTrips:
    """Counts top-level calls on the store's collections (calls made inside another call, by the
    embedded store itself, are not round-trips)."""

    METHODS = ("find", "find_one", "aggregate", "count_documents", "estimated_document_count", "insert_one",
               "insert_many", "update_one", "update_many", "find_one_and_update", "delete_one", "delete_many")

    def __init__(self, collection_class):
        self.count = 0
        self._lock = threading.Lock()
        self._depth = threading.local()
        for name in self.METHODS:
            original = getattr(collection_class, name)
            setattr(collection_class, name, self._wrap(original))

    def _wrap(self, original):
        counter = self

        def call(*args, **kwargs):
            depth = getattr(counter._depth, "value", 0)
            if depth == 0:
                with counter._lock:
                    counter.count += 1
            counter._depth.value = depth + 1
            try:
                return original(*args, **kwargs)
            finally:
                counter._depth.value = depth
        return call


# --- data -------------------------------------------------------------------------------------------

def seed(db, clinic_id: ObjectId, count: int, rng: random.Random) -> None:
    """Patients in the reference's shape, with CGM summaries (inserted before the indexes exist:
    the embedded store checks unique indexes by scanning, which makes 10,000 single inserts slow)."""
    docs = []
    for n in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        fields = {"fullName": name,
                  "birthDate": f"{rng.randint(1940, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                  "email": f"patient{n}@example.org", "mrn": f"MRN{n:06d}", "targetDevices": None}
        doc = patient_docs.new_document(clinic_id, f"{n:010x}", fields, permissions={"view": {}, "upload": {}})
        tir = round(rng.random(), 3)
        doc["summary"] = {"cgmStats": {"dates": {"hasLastData": True, "lastData": wire.now()},
                                       "periods": {"14d": {"hasTimeInTargetPercent": True,
                                                           "timeInTargetPercent": tir}}}}
        docs.append(doc)
    db.patients.insert_many(docs)
    now = wire.now()
    db.clinics.insert_one({"_id": clinic_id, "name": "Bench Clinic", "createdTime": now, "updatedTime": now})
    db.clinicians.insert_one({"clinicId": clinic_id, "userId": MEMBER, "roles": ["CLINIC_MEMBER"],
                              "createdTime": now, "updatedTime": now})


# --- the bare Flask twin ------------------------------------------------------------------------------

def bare_flask(services) -> flask.Flask:
    """The same store query and rendering, without connexion, authentication or validation."""
    app = flask.Flask("bare")

    @app.get("/v1/clinics/<clinic_id>/patients")
    def list_patients(clinic_id):
        args = flask.request.args
        query = patient_list.list_query(
            clinic_id, params={k: v for k, v in args.items() if k in patient_list.FILTER_PARAMS},
            search=args.get("search"), offset=int(args.get("offset", 0)), limit=int(args.get("limit", 10)),
            sort=args.get("sort"), sort_type=args.get("sortType"), period=args.get("period"))
        docs, count = patient_queries.run(services.store, query)
        total = patients_store.count_in_clinic(services.store.db, clinic_id)
        body = {"data": [to_api(d) for d in docs], "meta": {"count": count, "totalCount": total}}
        return flask.Response(wire.dumps(body), mimetype="application/json")

    return app


# --- measuring ----------------------------------------------------------------------------------------

def measure(send, requests: int, counter: RoundTrips) -> dict:
    for _ in range(3):  # warm-up
        send()
    latencies, trips = [], []
    started = time.perf_counter()
    for _ in range(requests):
        before = counter.count
        t0 = time.perf_counter()
        resp = send()
        latencies.append(time.perf_counter() - t0)
        trips.append(counter.count - before)
        assert resp.status_code == 200, resp.status_code
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rps": requests / elapsed, "p50": statistics.median(latencies) * 1000,
            "p95": latencies[max(0, int(round(0.95 * len(latencies))) - 1)] * 1000,
            "trips": statistics.mean(trips), "body": resp}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    settings = Settings.from_env({"CLINIC_TOKEN_SECRET": SECRET})
    services = services_mod.build(settings)
    clinic_id = ObjectId()
    t0 = time.perf_counter()
    seed(services.store.db, clinic_id, args.patients, random.Random(20240117))
    app = create_app(settings, services=services)  # creates the indexes over the seeded data
    print(f"seeded {args.patients} patients and indexes in {time.perf_counter() - t0:.1f}s "
          f"(embedded store, collation fallback: {not services.store.supports_collation})")
    counter = RoundTrips(type(services.store.db.patients))

    token = {"x-tidepool-session-token": mint(SECRET, MEMBER)}
    path = f"/v1/clinics/{clinic_id}/patients"

    def query_string(limit):
        return urllib.parse.urlencode({**QUERY, "limit": str(limit)})

    results = {}
    with TestClient(app) as ours:
        bare = bare_flask(services).test_client()
        sides = {"clinic-api (connexion, full pipeline)": lambda limit=50: ours.get(f"{path}?{query_string(limit)}",
                                                                                     headers=token),
                 "bare Flask handler, same store query": lambda limit=50: bare.get(f"{path}?{query_string(limit)}")}
        for label, send in sides.items():
            results[label] = measure(send, args.requests, counter)
            before = counter.count
            send(10)
            results[label]["trips10"] = counter.count - before

    first = next(iter(results.values()))["body"]
    meta = first.json()["meta"] if hasattr(first, "json") else None
    print(f"query: GET {path}?{urllib.parse.unquote(query_string(50))}")
    if meta:
        print(f"       {meta['count']} matching of {meta['totalCount']}, page of {len(first.json()['data'])}")
    print(f"{'':42} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'trips/req (page 50)':>20} {'(page 10)':>10}")
    for label, r in results.items():
        print(f"{label:42} {r['rps']:8.1f} {r['p50']:8.1f} {r['p95']:8.1f} {r['trips']:20.1f} {r['trips10']:10d}")
    ours_r, bare_r = results.values()
    print(f"overhead of the full pipeline: {ours_r['p50'] - bare_r['p50']:.1f} ms at p50 "
          f"({ours_r['p50'] / bare_r['p50']:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
