"""Clinics, clinicians and patients for the merge tests, inserted directly with fixed times
(the families that create them are tested elsewhere), and a reader of the XLSX report."""
from __future__ import annotations

import datetime as dt
import io
import itertools

from bson import ObjectId
from openpyxl import load_workbook

from support import builders

UTC = dt.timezone.utc
T0 = dt.datetime(2024, 3, 5, 14, 3, 7, tzinfo=UTC)
T1 = dt.datetime(2024, 4, 1, 8, 30, 0, tzinfo=UTC)
SOURCE_ADMIN = "a0000000a1"
TARGET_ADMIN = "b0000000b1"
_codes = itertools.count(1)


def share_code() -> str:
    n = next(_codes)
    return f"MRGE-{n:04d}-CODE".replace("0", "A").replace("1", "B").replace("O", "P")


def seed_clinic(db, name: str | None, **fields) -> dict:
    code = share_code()
    return builders.insert_clinic(db, now=T0, **{
        "name": name, "phoneNumbers": ..., "patientTags": [], "canonicalShareCode": code, "shareCodes": [code],
        "admins": [], "timezone": "US/Pacific", **fields})


def add_tags(db, clinic: dict, *names) -> list[dict]:
    tags = [{"_id": ObjectId(), "name": n} for n in names]
    db.clinics.update_one({"_id": clinic["_id"]}, {"$push": {"patientTags": {"$each": tags}}})
    clinic.setdefault("patientTags", []).extend(tags)
    return tags


def add_sites(db, clinic: dict, *names) -> list[dict]:
    sites = [{"id": ObjectId(), "name": n} for n in names]
    db.clinics.update_one({"_id": clinic["_id"]}, {"$push": {"sites": {"$each": sites}}})
    clinic.setdefault("sites", []).extend(sites)
    return sites


def seed_clinician(db, clinic: dict, user_id: str | None, roles: list, *, email=None, name=None,
                   invite_id=None, created=T0) -> dict:
    return builders.insert_clinician(db, clinic["_id"], user_id, roles, invite_id=invite_id,
                                     email=email or f"{user_id or invite_id}@example.com", name=name, now=created)


def seed_patient(db, clinic: dict, user_id: str, **fields) -> dict:
    return builders.insert_patient(db, clinic["_id"], user_id, now=T0, **{
        "birthDate": f"19{user_id[-2:]}-01-01", "targetDevices": ..., "tags": [], **fields})


def seed_user(db, user_id: str, email: str) -> None:
    db.users.insert_one({"_id": user_id, "username": email, "emails": [email]})


def pair(db, source_name="Source Clinic", target_name="Target Clinic", **common) -> tuple[dict, dict]:
    """A source and a target clinic with the same settings, each with its admin."""
    source = seed_clinic(db, source_name, **common)
    target = seed_clinic(db, target_name, **common)
    seed_clinician(db, source, SOURCE_ADMIN, ["CLINIC_ADMIN"], name="Sam Source")
    seed_clinician(db, target, TARGET_ADMIN, ["CLINIC_ADMIN"], name="Tia Target")
    return source, target


def snapshot(db):
    """Everything the merge may write."""
    return {name: sorted(db[name].find(), key=lambda d: str(d["_id"]))
            for name in ("clinics", "patients", "clinicians", "merge_plans", "clinic_deletions", "clinician_deletions",
                         "patient_deletions", "outbox")}


def report_url(target: dict) -> str:
    return f"/v1/clinics/{target['_id']}/reports/merge"


def merge_url(target: dict) -> str:
    return f"/v1/clinics/{target['_id']}/merge"


def body(source: dict) -> dict:
    return {"sourceId": str(source["_id"])}


def read_workbook(content: bytes) -> dict[str, list[list]]:
    """{sheet title: rows of cell values} (an empty cell reads as None, trailing ones dropped;
    trailing empty rows are not stored in the file)."""
    book = load_workbook(io.BytesIO(content))
    out = {}
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows(values_only=True):
            values = list(row)
            while values and values[-1] in (None, ""):
                values.pop()
            rows.append(values)
        out[sheet.title] = rows
    return out


# --- the reference's merge population (migrations-merge.md §4.3/§4.4), deterministic ------------

def uid(prefix: str, n: int) -> str:
    return f"{prefix}{n:09d}"


def unique_patient(clinic: dict, user_id: str, k: int, **fields) -> dict:
    """A patient whose name, birth date and MRN no other patient has (k is globally unique)."""
    doc = {"_id": ObjectId(), "clinicId": clinic["_id"], "userId": user_id, "fullName": f"Person {k:05d}",
           "birthDate": (dt.date(1950, 1, 1) + dt.timedelta(days=k)).isoformat(), "mrn": f"MRN{k:05d}",
           "email": f"{user_id}@example.com", "tags": [], "createdTime": T0, "updatedTime": T0,
           "requireUniqueMrn": False}
    doc.update(fields)
    return doc


LIKELY_SHAPES = (("fullName", "birthDate"), ("fullName", "mrn"), ("birthDate", "mrn"))


def population(source: dict, target: dict, unique: int = 50, twins: int = 10, likely: int = 9, name_only: int = 8,
               mrn_only: int = 7) -> dict:
    """Source: `unique` patients. Target: `unique` others, plus for consecutive source patients
    `twins` with the same userId, `likely` duplicates (2 of name/DOB/MRN copied, in turn),
    `name_only` and `mrn_only` ones. Each clinic gets 3 tags and the sites `<x>1`, `<x>2` and
    `Shared` (same name, different ids); base patients carry 2 of their clinic's tags and one
    site; the first twin pair both carry `Shared`, the second pair has no `sites` at all."""
    k = itertools.count(1)
    for clinic, prefix in ((source, "s"), (target, "t")):
        clinic["patientTags"] = [{"_id": ObjectId(), "name": f"{prefix}-tag{i}"} for i in range(3)]
        clinic["sites"] = [{"id": ObjectId(), "name": f"{prefix}{i}"} for i in (1, 2)] + [
            {"id": ObjectId(), "name": "Shared"}]

    def based(clinic, user_id, i):
        tags, sites = clinic["patientTags"], clinic["sites"]
        return unique_patient(clinic, user_id, next(k), tags=[tags[i % 3]["_id"], tags[(i + 1) % 3]["_id"]],
                              sites=[sites[i % 3]])

    src = [based(source, uid("s", i), i) for i in range(unique)]
    tgt = [based(target, uid("t", i), i) for i in range(unique)]
    i = 0
    for j in range(twins):
        twin = based(target, src[i]["userId"], j)
        if j == 0:
            src[i]["sites"] = [source["sites"][0], source["sites"][2]]
            twin["sites"] = [target["sites"][1], target["sites"][2]]
        elif j == 1:
            del src[i]["sites"]
            del twin["sites"]
        tgt.append(twin)
        i += 1
    for j in range(likely):
        dup = unique_patient(target, uid("l", j), next(k))
        for field in LIKELY_SHAPES[j % 3]:
            dup[field] = src[i][field]
        tgt.append(dup)
        i += 1
    for j in range(name_only):
        tgt.append(unique_patient(target, uid("n", j), next(k), fullName=src[i]["fullName"]))
        i += 1
    for j in range(mrn_only):
        tgt.append(unique_patient(target, uid("m", j), next(k), mrn=src[i]["mrn"]))
        i += 1
    return {"source": src, "target": tgt}


def insert_population(db, source: dict, target: dict, **counts) -> dict:
    data = population(source, target, **counts)
    for clinic in (source, target):
        db.clinics.update_one({"_id": clinic["_id"]},
                              {"$set": {"patientTags": clinic["patientTags"], "sites": clinic["sites"]}})
    db.patients.insert_many(data["source"] + data["target"])
    builders.written_around_the_service(db, {d["clinicId"] for d in data["source"] + data["target"]})
    return data
