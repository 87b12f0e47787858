"""A clinic of N patients, prepared in seconds: the clinic, its admin and one patient tag through
the API, then the patients in bulk (insert_many of documents built as the store builds them, with
CGM summaries for the filters and TIDE), then the counts rebuilt through the API
(RefreshPatientCount), as an operator would after an import."""
from __future__ import annotations

import datetime as dt
import random
import time

import orjson
from bson import ObjectId

from clinic_api import wire
from clinic_api.store import indexes, patient_docs

ADMIN = "1234567890"
FIRST = ["Anna", "Ben", "Chloé", "Daniel", "Élodie", "Frank", "Grace", "Hana", "Ian", "Jana", "Karl", "Lena",
         "Marco", "Nadia", "Oscar", "Paula", "Quinn", "Rosa", "Sean", "Tanja"]
LAST = ["Smith", "Müller", "Garcia", "Novak", "Rossi", "Dubois", "Jensen", "Kowalski", "Silva", "Brown",
        "Nakamura", "O'Neil", "Andersen", "Petrov", "Santos", "Meyer", "Hansen", "Lopez", "Weber", "Costa"]
PERIOD_FIELDS = ("timeInVeryLowPercent", "timeInAnyLowPercent", "timeInLowPercent", "timeInTargetPercent",
                 "timeInHighPercent", "timeInVeryHighPercent", "timeInExtremeHighPercent", "timeInAnyHighPercent",
                 "timeCGMUsePercent")
CHUNK = 5000


def summary(rng: random.Random, now: dt.datetime) -> dict:
    values: dict = {}
    for name in PERIOD_FIELDS:
        values["has" + name[0].upper() + name[1:]] = True
        values[name] = round(rng.random() * (0.2 if "Low" in name or "High" in name else 1), 4)
    values.update({"timeInTargetPercentDelta": round(rng.uniform(-0.3, 0.3), 4),
                   "hasTimeInTargetPercentDelta": True, "averageGlucoseMmol": round(rng.uniform(5, 12), 2),
                   "timeCGMUseMinutes": rng.randint(1000, 20000), "glucoseManagementIndicator": 7.1})
    last = now - dt.timedelta(hours=rng.randint(0, 24 * 20))
    return {"cgmStats": {"id": str(ObjectId()), "dates": {"hasLastData": True, "lastData": last},
                         "periods": {"14d": values}}}


def patients(clinic_id: str, tag: ObjectId, count: int, rng: random.Random) -> list[dict]:
    now = wire.now()
    docs = []
    for n in range(count):
        fields = {"fullName": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                  "birthDate": f"{rng.randint(1940, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                  "email": f"patient{n}@example.org", "mrn": f"MRN{n:06d}", "targetDevices": None}
        if n % 3 == 0:
            fields["tags"] = [tag]
        doc = patient_docs.new_document(clinic_id, f"{n + 1:010x}", fields, permissions={"view": {}, "upload": {}})
        doc["summary"] = summary(rng, now)
        docs.append(doc)
    return docs


def clinic(store, api, admin: dict, server: dict, size: int, seed: int = 20240117) -> dict:
    """Creates the clinic (through `api`, a driver of the full app) and its patients. Returns ids.
    On the memory store the patients' indexes are set aside while inserting (mongomock checks
    unique indexes by scanning, which makes a bulk insert quadratic) and ensured again after."""
    db = store.db
    made = api.request("POST", "/v1/clinics", headers=admin,
                       body=orjson.dumps({"name": f"Bench Clinic {size}", "preferredBgUnits": "mg/dL"}))
    assert made.status == 200, (made.status, made.body)
    clinic_id = made.json()["id"]
    tag = api.request("POST", f"/v1/clinics/{clinic_id}/patient_tags", headers=admin,
                      body=orjson.dumps({"name": "Bench tag"}))
    assert tag.status == 200, (tag.status, tag.body)
    # No patient-count limit: the bench creates patients past the default plan's.
    limits = api.request("PUT", f"/v1/clinics/{clinic_id}/settings/patient_count", headers=server, body=b"{}")
    assert limits.status == 200, (limits.status, limits.body)
    tags = api.request("GET", f"/v1/clinics/{clinic_id}", headers=admin).json().get("patientTags") or []
    tag_id = ObjectId(tags[0]["id"])
    rng = random.Random(seed)
    docs = patients(clinic_id, tag_id, size, rng)
    t0 = time.perf_counter()
    if store.embedded:
        db.patients.drop_indexes()
    for start in range(0, len(docs), CHUNK):
        db.patients.insert_many(docs[start:start + CHUNK], ordered=False)
    if store.embedded:
        indexes.ensure(store)
    t1 = time.perf_counter()
    refreshed = api.request("POST", f"/v1/clinics/{clinic_id}/patient_count/refresh", headers=server)
    assert refreshed.status in (200, 204), (refreshed.status, refreshed.body)
    timings = {"insert": t1 - t0, "refresh": time.perf_counter() - t1}
    return {"timings": timings, "clinic": clinic_id, "tag": str(tag_id), "users": [d["userId"] for d in docs[:50]]}
