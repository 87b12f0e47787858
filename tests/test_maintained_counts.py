"""A clinic's counts are maintained by the writes that change them (issue 13 item 1): the reference's
`patientCount` and our `patientTallies` (patients per tag and per site), updated in the write's own
transaction, so a read of a clinic is one document and a patient write does not recount the clinic.
The hard limit is a condition of that same update: it holds with 20 clients at once."""
from __future__ import annotations

import random

import pytest
from bson import ObjectId

from clinic_api import cli
from clinic_api.domain import patient_counts
from clinic_api.store import patient_counts as counts_store
from support import builders
from support.concurrency import race

CLIENTS = 20
ROUNDS = 3
LIMIT_EXCEEDED = '{"message":"payment required: patient count exceeds limit"}\n'


def stored(db, clinic_id) -> tuple:
    doc = db.clinics.find_one({"_id": ObjectId(clinic_id)})
    return doc.get("patientCount"), doc.get("patientTallies")


def recount(db, services, clinic_id) -> tuple:
    """What a recount from the patients gives (the rebuild's aggregations, not the increments)."""
    oid = ObjectId(clinic_id)
    count = patient_counts.compute(db, oid, services.settings.demo_patient_user_id or "")
    return count, counts_store.tallies(db, [oid])[oid]


def account(api, clinic_id, **body):
    resp = api.post(f"/v1/clinics/{clinic_id}/patients", json={"fullName": "P", "birthDate": "2000-01-01", **body})
    assert resp.status_code == 200, resp.text
    return resp.json()["id"]


# --- each write, its literal effect -----------------------------------------------------------------

def test_counts_follow_each_write(server, admin, clinic, db):
    cid = clinic["id"]
    base = f"/v1/clinics/{cid}"
    t1 = admin.post(f"{base}/patient_tags", json={"name": "one"}).json()["id"]
    t2 = admin.post(f"{base}/patient_tags", json={"name": "two"}).json()["id"]
    s1 = admin.post(f"{base}/sites", json={"name": "North"}).json()["id"]
    s2 = admin.post(f"{base}/sites", json={"name": "South"}).json()["id"]
    assert stored(db, cid) == ({"total": 0, "demo": 0, "plan": 0}, {"tags": {}, "sites": {}})

    p1 = account(admin, cid, tags=[t1], sites=[{"id": s1, "name": "North"}])
    assert stored(db, cid) == ({"total": 1, "demo": 0, "plan": 1}, {"tags": {t1: 1}, "sites": {s1: 1}})

    u2 = "00000000b2"
    assert server.post(f"{base}/patients/{u2}", json={"fullName": "U", "tags": [t1, t2]}).status_code == 200
    assert stored(db, cid) == ({"total": 2, "demo": 0, "plan": 2}, {"tags": {t1: 2, t2: 1}, "sites": {s1: 1}})

    resp = server.put(f"/v1/patients/{u2}/data_sources", json=[{"providerName": "dexcom", "state": "connected"}])
    assert resp.status_code == 200
    assert stored(db, cid)[0] == {"total": 2, "demo": 0, "plan": 2,
                                  "providers": {"dexcom": {"total": 1, "states": {"connected": 1}}}}

    assert server.post(f"{base}/patients/{u2}/connect/dexcom").status_code == 204
    assert stored(db, cid)[0] == {"total": 2, "demo": 0, "plan": 2,
                                  "providers": {"dexcom": {"total": 1, "states": {"pending": 1}}}}

    resp = admin.put(f"{base}/patients/{u2}", json={"fullName": "U", "birthDate": "2000-01-01", "tags": [t2],
                                                    "sites": [{"id": s2, "name": "South"}]})
    assert resp.status_code == 200, resp.text
    assert stored(db, cid)[1] == {"tags": {t1: 1, t2: 1}, "sites": {s1: 1, s2: 1}}

    assert admin.post(f"{base}/patients/assign_tag/{t2}", json=[p1]).status_code == 200
    assert stored(db, cid)[1] == {"tags": {t1: 1, t2: 2}, "sites": {s1: 1, s2: 1}}

    assert admin.post(f"{base}/patients/delete_tag/{t2}", json=[u2]).status_code == 200
    assert stored(db, cid)[1] == {"tags": {t1: 1, t2: 1}, "sites": {s1: 1, s2: 1}}

    resp = server.post(f"{base}/sites/{s2}/merge", json={"id": s1})
    assert (resp.status_code, resp.json()) == (200, {"id": s2, "name": "South", "patients": 2})
    assert stored(db, cid)[1] == {"tags": {t1: 1, t2: 1}, "sites": {s2: 2}}

    site = server.post(f"{base}/patient_tags/{t1}/site").json()
    assert site["name"] == "one" and site["patients"] == 1
    assert stored(db, cid)[1] == {"tags": {t2: 1}, "sites": {s2: 2, site["id"]: 1}}

    assert admin.delete(f"{base}/patient_tags/{t2}").status_code == 204
    assert stored(db, cid)[1] == {"tags": {}, "sites": {s2: 2, site["id"]: 1}}

    assert admin.delete(f"{base}/patients/{u2}").status_code == 204
    # The provider's entry goes with its last patient, as a recount leaves it out.
    assert stored(db, cid) == ({"total": 1, "demo": 0, "plan": 1}, {"tags": {}, "sites": {s2: 1, site["id"]: 1}})

    assert admin.delete(f"{base}/sites/{s2}").status_code == 204
    assert stored(db, cid)[1] == {"tags": {}, "sites": {site["id"]: 1}}
    got = admin.get(base).json()
    assert got["sites"] == [{"id": site["id"], "name": "one", "numPatients": 1}]
    assert admin.get(f"{base}/patient_count").json() == {"demo": 0, "plan": 1, "total": 1}


def test_get_clinic_reads_the_tallies_not_the_patients(admin, clinic, db):
    """The counts GetClinic shows are the stored tallies (here set by hand to prove it)."""
    cid = clinic["id"]
    tag = admin.post(f"/v1/clinics/{cid}/patient_tags", json={"name": "t"}).json()["id"]
    db.clinics.update_one({"_id": ObjectId(cid)}, {"$set": {f"patientTallies.tags.{tag}": 41}})
    assert admin.get(f"/v1/clinics/{cid}").json()["patientTags"] == [{"id": tag, "name": "t", "numPatients": 41}]


def test_a_clinic_written_around_the_service_is_counted_live_then_rebuilt(admin, clinic, db):
    cid = clinic["id"]
    tag = admin.post(f"/v1/clinics/{cid}/patient_tags", json={"name": "t"}).json()["id"]
    for n in range(3):
        builders.insert_patient(db, cid, f"{n:010x}", tags=[ObjectId(tag)])
    assert stored(db, cid) == ({"total": 0, "demo": 0, "plan": 0}, None)
    assert admin.get(f"/v1/clinics/{cid}").json()["patientTags"] == [{"id": tag, "name": "t", "numPatients": 3}]
    account(admin, cid, tags=[tag])
    assert stored(db, cid) == ({"total": 4, "demo": 0, "plan": 4}, {"tags": {tag: 4}, "sites": {}})


def test_provider_names_that_cannot_be_field_paths_are_counted_by_a_recount(server, admin, clinic, db):
    cid = clinic["id"]
    account(admin, cid)
    user = "00000000c3"
    assert server.post(f"/v1/clinics/{cid}/patients/{user}", json={"fullName": "U"}).status_code == 200
    body = [{"providerName": "acme.io", "state": "connected"}, {"providerName": "$x", "state": "error"}]
    assert server.put(f"/v1/patients/{user}/data_sources", json=body).status_code == 200
    assert stored(db, cid)[0] == {"total": 2, "demo": 0, "plan": 2, "providers": {
        "$x": {"states": {"error": 1}, "total": 1}, "acme.io": {"states": {"connected": 1}, "total": 1}}}
    assert admin.get(f"/v1/clinics/{cid}/patient_count").json() == {"demo": 0, "plan": 2, "providers": {
        "$x": {"states": {"error": 1}, "total": 1}, "acme.io": {"states": {"connected": 1}, "total": 1}},
        "total": 2}


def test_a_provider_name_with_a_nul_is_left_out_of_the_providers(server, admin, clinic, db):
    """A BSON key cannot hold a NUL: that provider is not counted under `providers` (the reference's
    recount fails on it and stores nothing); the write itself succeeds."""
    cid = clinic["id"]
    user = account(admin, cid)
    resp = admin.put(f"/v1/clinics/{cid}/patients/{user}", json={
        "fullName": "P", "birthDate": "2000-01-01",
        "dataSources": [{"providerName": "a\u0000b", "state": "connected"},
                        {"providerName": "dexcom", "state": "connected"}]})
    assert resp.status_code == 200, resp.text
    assert stored(db, cid)[0] == {"total": 1, "demo": 0, "plan": 1,
                                  "providers": {"dexcom": {"total": 1, "states": {"connected": 1}}}}
    assert server.post(f"/v1/clinics/{cid}/patient_count/refresh").status_code == 200
    assert stored(db, cid)[0]["providers"] == {"dexcom": {"total": 1, "states": {"connected": 1}}}


def test_legacy_count_is_rebuilt_by_the_next_write(admin, clinic, db):
    cid = clinic["id"]
    account(admin, cid)
    db.clinics.update_one({"_id": ObjectId(cid)}, {"$set": {"patientCount": {"patientCount": 40}}})
    account(admin, cid)
    assert stored(db, cid) == ({"total": 2, "demo": 0, "plan": 2}, {"tags": {}, "sites": {}})


def test_a_failed_write_changes_no_count(admin, clinic, db):
    cid = clinic["id"]
    account(admin, cid, mrn="M1")
    db.clinics.update_one({"_id": ObjectId(cid)}, {"$set": {"mrnSettings": {"required": False, "unique": True}}})
    resp = admin.post(f"/v1/clinics/{cid}/patients", json={"fullName": "Q", "birthDate": "2000-01-01", "mrn": "M1"})
    assert (resp.status_code, resp.text) == (400, '{"message":"bad request: mrn must be unique"}\n')
    resp = admin.post(f"/v1/clinics/{cid}/patients", json={"fullName": "Q", "birthDate": "2000-01-01",
                                                            "tags": [str(ObjectId())]})
    assert (resp.status_code, resp.text) == (404, '{"message":"patient tag not found"}\n')
    assert stored(db, cid) == ({"total": 1, "demo": 0, "plan": 1}, {"tags": {}, "sites": {}})
    assert db.patients.count_documents({}) == 1


def test_without_transactions_a_refused_patient_is_taken_back_out(admin, clinic, db, services, monkeypatch):
    """CLINIC_ALLOW_NO_TRANSACTIONS: the patient is inserted before the counts' update refuses it
    (here: a clinic written around the service, whose rebuilt count is at the limit); it is removed
    again and the counts rebuilt without it."""
    cid = clinic["id"]
    monkeypatch.setattr(services.store, "_transactions", False)
    builders.insert_patient(db, cid, "00000000a1")
    db.clinics.update_one({"_id": ObjectId(cid)}, {"$set": {"country": "US", "tier": "tier0100",
                                                            "patientCountSettings": {"hardLimit": {"plan": 1}}}})
    resp = admin.post(f"/v1/clinics/{cid}/patients", json={"fullName": "Q", "birthDate": "2000-01-01"})
    assert (resp.status_code, resp.text) == (402, LIMIT_EXCEEDED)
    assert [d["userId"] for d in db.patients.find({"clinicId": ObjectId(cid)})] == ["00000000a1"]
    assert stored(db, cid) == ({"total": 1, "demo": 0, "plan": 1}, {"tags": {}, "sites": {}})


# --- the hard limit under concurrency -----------------------------------------------------------------

@pytest.mark.parametrize("round_", range(ROUNDS))
def test_the_hard_limit_holds_with_20_clients(admin, clinic, db, round_):
    """plan: 5, 20 custodial creates at once: exactly 5 are written, 15 x 402."""
    cid = clinic["id"]
    db.clinics.update_one({"_id": ObjectId(cid)}, {"$set": {"country": "US", "tier": "tier0100",
                                                            "patientCountSettings": {"hardLimit": {"plan": 5}}}})
    url = f"/v1/clinics/{cid}/patients"
    results = race([lambda i=i: admin.post(url, json={"fullName": f"P{round_}x{i}", "birthDate": "2000-01-01"})
                    for i in range(CLIENTS)])
    assert sorted(r.status_code for r in results) == [200] * 5 + [402] * 15
    assert {r.text for r in results if r.status_code == 402} == {LIMIT_EXCEEDED}
    assert db.patients.count_documents({"clinicId": ObjectId(cid)}) == 5
    assert stored(db, cid) == ({"total": 5, "demo": 0, "plan": 5}, {"tags": {}, "sites": {}})


# --- exact under concurrent writes, and against a recount -----------------------------------------------

@pytest.mark.parametrize("round_", range(ROUNDS))
def test_counts_are_exact_after_20_concurrent_writers(server, admin, clinic, db, services, round_):
    cid = clinic["id"]
    base = f"/v1/clinics/{cid}"
    tags = [admin.post(f"{base}/patient_tags", json={"name": f"r{round_}t{k}"}).json()["id"] for k in range(3)]
    site = admin.post(f"{base}/sites", json={"name": f"S{round_}"}).json()["id"]
    existing = [account(admin, cid, tags=[tags[0]]) for _ in range(6)]
    calls = []
    for i in range(8):  # new patients, with tags and the site
        calls.append(lambda i=i: server.post(f"{base}/patients/{round_:02x}{i + 1:08x}", json={
            "fullName": "N", "tags": [tags[i % 3]], "sites": [{"id": site, "name": f"S{round_}"}]}))
    for i, user in enumerate(existing[:4]):  # updates moving patients between tags
        calls.append(lambda i=i, user=user: admin.put(f"{base}/patients/{user}", json={
            "fullName": "E", "birthDate": "2000-01-01", "tags": [tags[1], tags[2]]}))
    calls += [lambda user=user: admin.delete(f"{base}/patients/{user}") for user in existing[4:]]
    calls += [lambda: admin.post(f"{base}/patients/assign_tag/{tags[2]}", json=existing[:2]),
              lambda: admin.post(f"{base}/patients/delete_tag/{tags[0]}", json=existing[:4]),
              lambda: server.put(f"/v1/patients/{round_:02x}00000001/data_sources",
                                 json=[{"providerName": "dexcom", "state": "connected"}])]
    calls += [lambda: admin.get(base) for _ in range(CLIENTS - len(calls))]
    results = race(calls)
    assert all(r.status_code in (200, 204) for r in results), [r.text for r in results if r.status_code >= 300]
    count, tallies = stored(db, cid)
    assert (count["total"], count["plan"]) == (12, 12)
    assert sum(tallies["sites"].values()) == 8
    assert (count, tallies) == recount(db, services, cid)


OPERATIONS = ("create", "create_from_user", "update", "delete", "assign", "unassign", "data_sources", "connect",
              "delete_tag", "new_tag", "convert", "new_site", "merge_sites", "delete_site")


def test_maintained_counts_equal_a_recount_after_random_operations(server, admin, clinic, db, services):
    """A fixed-seed mix of 150 writes: the stored counts are a recount's after each tenth."""
    rng = random.Random(13)
    cid = clinic["id"]
    base = f"/v1/clinics/{cid}"
    tags = [admin.post(f"{base}/patient_tags", json={"name": f"t{k}"}).json()["id"] for k in range(3)]
    sites = [admin.post(f"{base}/sites", json={"name": f"s{k}"}).json() for k in range(2)]
    users: list = []
    made = 0

    def some_tags():
        return rng.sample(tags, rng.randint(0, min(2, len(tags))))

    def some_sites():
        return [{"id": s["id"], "name": s["name"]} for s in rng.sample(sites, rng.randint(0, min(2, len(sites))))]

    for step in range(150):
        op = rng.choice(OPERATIONS)
        if op == "create":
            users.append(account(admin, cid, tags=some_tags(), sites=some_sites()))
        elif op == "create_from_user":
            made += 1
            user = f"{made:010x}"
            resp = server.post(f"{base}/patients/{user}", json={"fullName": "U", "tags": some_tags(),
                                                                "sites": some_sites()})
            assert resp.status_code == 200, resp.text
            users.append(user)
        elif op == "update" and users:
            resp = admin.put(f"{base}/patients/{rng.choice(users)}", json={
                "fullName": "X", "birthDate": "2000-01-01", "tags": some_tags(), "sites": some_sites(),
                "dataSources": [{"providerName": rng.choice(["dexcom", "twiist"]), "state": "connected"}]})
            assert resp.status_code == 200, resp.text
        elif op == "delete" and users:
            assert admin.delete(f"{base}/patients/{users.pop(rng.randrange(len(users)))}").status_code == 204
        elif op in ("assign", "unassign") and users and tags:
            verb = "assign_tag" if op == "assign" else "delete_tag"
            resp = admin.post(f"{base}/patients/{verb}/{rng.choice(tags)}", json=rng.sample(users, min(3, len(users))))
            assert resp.status_code in (200, 204), resp.text
        elif op == "data_sources" and made:
            body = [{"providerName": rng.choice(["dexcom", "abbott", "twiist"]),
                     "state": rng.choice(["connected", "error"])} for _ in range(rng.randint(0, 2))]
            assert server.put(f"/v1/patients/{rng.randint(1, made):010x}/data_sources", json=body).status_code == 200
        elif op == "connect" and users:
            server.post(f"{base}/patients/{rng.choice(users)}/connect/dexcom")  # 404 without a dexcom source
        elif op == "delete_tag" and tags:
            assert admin.delete(f"{base}/patient_tags/{tags.pop(rng.randrange(len(tags)))}").status_code == 204
        elif op == "new_tag":
            tags.append(admin.post(f"{base}/patient_tags", json={"name": f"t{step}"}).json()["id"])
        elif op == "convert" and tags:
            resp = server.post(f"{base}/patient_tags/{tags.pop(rng.randrange(len(tags)))}/site")
            assert resp.status_code == 200, resp.text
            sites.append(resp.json())
        elif op == "new_site":
            sites.append(admin.post(f"{base}/sites", json={"name": f"s{step}"}).json())
        elif op == "merge_sites" and len(sites) >= 2:
            source, target = rng.sample(sites, 2)
            assert server.post(f"{base}/sites/{target['id']}/merge", json={"id": source["id"]}).status_code == 200
            sites.remove(source)
        elif op == "delete_site" and sites:
            assert admin.delete(f"{base}/sites/{sites.pop(rng.randrange(len(sites)))['id']}").status_code == 204
        if step % 10 == 9:
            assert stored(db, cid) == recount(db, services, cid), f"after step {step} ({op})"
    assert stored(db, cid) == recount(db, services, cid)
    assert stored(db, cid)[0]["total"] == len(users) > 0


# --- rebuilding ---------------------------------------------------------------------------------------

def test_refresh_rebuilds_tallies_too(server, admin, clinic, db):
    cid = clinic["id"]
    tag = admin.post(f"/v1/clinics/{cid}/patient_tags", json={"name": "t"}).json()["id"]
    builders.insert_patient(db, cid, "00000000a1", tags=[ObjectId(tag), ObjectId(tag)])
    assert server.post(f"/v1/clinics/{cid}/patient_count/refresh").status_code == 200
    assert stored(db, cid) == ({"total": 1, "demo": 0, "plan": 1}, {"tags": {tag: 2}, "sites": {}})


def test_cli_rebuilds_every_clinic(admin, other_admin, clinic, db, services, monkeypatch, capsys):
    cid = clinic["id"]
    builders.insert_patient(db, cid, "00000000a1")
    builders.insert_patient(db, cid, "00000000a2")
    db.clinics.update_many({}, {"$set": {"patientCount": {"total": 9, "demo": 0, "plan": 9}}})
    from clinic_api.store import client

    monkeypatch.setattr(client, "connect", lambda settings: services.store)
    assert cli.main(["rebuild-counts"]) == 0
    assert capsys.readouterr().out == "2 clinics recounted\n"
    assert stored(db, cid) == ({"total": 2, "demo": 0, "plan": 2}, {"tags": {}, "sites": {}})
    other = db.clinics.find_one({"_id": {"$ne": ObjectId(cid)}})
    assert (other["patientCount"], other["patientTallies"]) == ({"total": 0, "demo": 0, "plan": 0},
                                                                {"tags": {}, "sites": {}})
