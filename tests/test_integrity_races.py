"""Rules that must hold whatever the interleaving (issue 12): 20 clients at once through the API, then
the invariant checked exactly on the stored documents, a few rounds each. The threads are released
together by a barrier; no assertion depends on which one wins or on timing."""
from __future__ import annotations

import pytest
from bson import ObjectId

from patients_support import insert_patient, set_clinic
from support.concurrency import race

CLIENTS = 20
ROUNDS = 3


def answers(responses) -> list:
    """Sorted (status, body) pairs."""
    return sorted((r.status_code, r.text) for r in responses)


def stored(db, clinic_id, field) -> list:
    return db.clinics.find_one({"_id": ObjectId(clinic_id)}).get(field) or []


def fill(db, clinic_id, field, n, element) -> None:
    db.clinics.update_one({"_id": ObjectId(clinic_id)}, {"$set": {field: [element(i) for i in range(n)]}})


DUPLICATE_TAG = '{"message":"duplicate patient tag"}\n'
TOO_MANY_TAGS = '{"message":"constraint violation: the clinic already has the maximum number of 50 patient tags"}\n'
DUPLICATE_SITE = '{"message":"duplicate site name"}\n'
TOO_MANY_SITES = '{"message":"constraint violation: the clinic already has the maximum number of 50 sites"}\n'


# --- tag names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("round_", range(ROUNDS))
def test_one_tag_per_name_whatever_the_spelling(admin, clinic, db, round_):
    """20 creates of one name (spelled with other cases and spaces): one tag, 19 x 409."""
    url = f"/v1/clinics/{clinic['id']}/patient_tags"
    spellings = [f"Tag {round_}", f"tag{round_}", f"TAG {round_}", f"t a g{round_}"]
    results = race([lambda i=i: admin.post(url, json={"name": spellings[i % 4]}) for i in range(CLIENTS)])
    assert [r.status_code for r in results].count(200) == 1
    assert [a for a in answers(results) if a[0] != 200] == [(409, DUPLICATE_TAG)] * (CLIENTS - 1)
    tags = stored(db, clinic["id"], "patientTags")
    assert len(tags) == 1 and tags[0]["name"] in spellings


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_never_more_than_50_tags(admin, clinic, db, round_):
    """45 tags, 20 creates of distinct names: exactly 5 are added, 15 x 422."""
    fill(db, clinic["id"], "patientTags", 45, lambda i: {"_id": ObjectId(), "name": f"old{i}"})
    url = f"/v1/clinics/{clinic['id']}/patient_tags"
    results = race([lambda i=i: admin.post(url, json={"name": f"new{round_}x{i}"}) for i in range(CLIENTS)])
    assert [a for a in answers(results) if a[0] != 200] == [(422, TOO_MANY_TAGS)] * 15
    tags = stored(db, clinic["id"], "patientTags")
    assert len(tags) == 50 and len({t["name"] for t in tags}) == 50


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_renames_to_one_name(admin, clinic, db, round_):
    """20 tags renamed at once to one name: one rename succeeds, 19 x 409, the names stay unique."""
    fill(db, clinic["id"], "patientTags", CLIENTS, lambda i: {"_id": ObjectId(), "name": f"t{i}"})
    ids = [str(t["_id"]) for t in stored(db, clinic["id"], "patientTags")]
    results = race([lambda i=i: admin.put(f"/v1/clinics/{clinic['id']}/patient_tags/{ids[i]}",
                                          json={"name": f"Same {round_}"}) for i in range(CLIENTS)])
    assert [r.status_code for r in results].count(200) == 1
    assert [a for a in answers(results) if a[0] != 200] == [(409, DUPLICATE_TAG)] * (CLIENTS - 1)
    names = [t["name"] for t in stored(db, clinic["id"], "patientTags")]
    assert len(names) == CLIENTS and len(set(names)) == CLIENTS and names.count(f"Same {round_}") == 1


# --- site names -----------------------------------------------------------------------------------

@pytest.mark.parametrize("round_", range(ROUNDS))
def test_one_site_per_name_whatever_the_case(admin, clinic, db, round_):
    url = f"/v1/clinics/{clinic['id']}/sites"
    spellings = [f"Site {round_}", f"site {round_}", f"SITE {round_}", f"sItE {round_}"]
    results = race([lambda i=i: admin.post(url, json={"name": spellings[i % 4]}) for i in range(CLIENTS)])
    assert [r.status_code for r in results].count(200) == 1
    assert [a for a in answers(results) if a[0] != 200] == [(409, DUPLICATE_SITE)] * (CLIENTS - 1)
    sites = stored(db, clinic["id"], "sites")
    assert len(sites) == 1 and sites[0]["name"] in spellings


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_never_more_than_50_sites(admin, clinic, db, round_):
    fill(db, clinic["id"], "sites", 45, lambda i: {"id": ObjectId(), "name": f"old{i}"})
    url = f"/v1/clinics/{clinic['id']}/sites"
    results = race([lambda i=i: admin.post(url, json={"name": f"new{round_}x{i}"}) for i in range(CLIENTS)])
    assert [a for a in answers(results) if a[0] != 200] == [(422, TOO_MANY_SITES)] * 15
    sites = stored(db, clinic["id"], "sites")
    assert len(sites) == 50 and len({s["name"] for s in sites}) == 50


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_site_renames_to_one_name(admin, clinic, db, round_):
    fill(db, clinic["id"], "sites", CLIENTS, lambda i: {"id": ObjectId(), "name": f"s{i}"})
    ids = [str(s["id"]) for s in stored(db, clinic["id"], "sites")]
    results = race([lambda i=i: admin.put(f"/v1/clinics/{clinic['id']}/sites/{ids[i]}",
                                          json={"id": ids[i], "name": f"Same {round_}"}) for i in range(CLIENTS)])
    assert [r.status_code for r in results].count(200) == 1
    assert {a for a in answers(results) if a[0] != 200} == {
        (409, '{"message":"checking site constraints: duplicate site name"}\n')}
    names = [s["name"] for s in stored(db, clinic["id"], "sites")]
    assert len(set(names)) == CLIENTS and names.count(f"Same {round_}") == 1


# --- tag assignment -------------------------------------------------------------------------------

def test_a_tag_the_clinic_lacks_is_not_assigned(server, admin, clinic, db):
    insert_patient(db, clinic["id"], "a1a1a1a1a1")
    tag = admin.post(f"/v1/clinics/{clinic['id']}/patient_tags", json={"name": "gone"}).json()["id"]
    assert admin.delete(f"/v1/clinics/{clinic['id']}/patient_tags/{tag}").status_code == 204
    for tag_id in (tag, str(ObjectId())):
        resp = server.post(f"/v1/clinics/{clinic['id']}/patients/assign_tag/{tag_id}", json=["a1a1a1a1a1"])
        assert (resp.status_code, resp.json()) == (404, {"message": "patient tag not found"})
    resp = server.post(f"/v1/clinics/{ObjectId()}/patients/assign_tag/{tag}")
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})
    assert db.patients.count_documents({"tags": ObjectId(tag)}) == 0


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_no_patient_keeps_a_deleted_tag(server, admin, clinic, db, round_):
    """Per round, 4 tags; for each, 4 assigns (to all patients or to some) race its deletion, 20
    clients in all. Afterwards no patient holds a tag the clinic does not have, and every assign
    answered 200 (it came first) or 404 (the tag was gone)."""
    users = [f"{i:010x}" for i in range(1, 9)]
    for user in users:
        insert_patient(db, clinic["id"], user, tags=[])
    base = f"/v1/clinics/{clinic['id']}"
    tags = [admin.post(f"{base}/patient_tags", json={"name": f"r{round_}t{k}"}).json()["id"] for k in range(4)]
    calls = []
    for tag in tags:
        calls.append(lambda tag=tag: admin.delete(f"{base}/patient_tags/{tag}"))
        calls += [lambda tag=tag, k=k: server.post(f"{base}/patients/assign_tag/{tag}",
                                                   json=None if k == 0 else users[k::2]) for k in range(4)]
    results = race(calls)
    assert all(r.status_code == 204 for r in results[::5])
    assign_answers = {(r.status_code, r.text) for i, r in enumerate(results) if i % 5}
    assert assign_answers <= {(200, ""), (404, '{"message":"patient tag not found"}\n')}
    known = {t["_id"] for t in stored(db, clinic["id"], "patientTags")}
    held = {t for p in db.patients.find({"clinicId": ObjectId(clinic["id"])}) for t in p.get("tags") or []}
    assert held <= known and not known & {ObjectId(t) for t in tags}


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_convert_to_site_races_assigns(server, admin, clinic, db, round_):
    """A tag converted into a site while it is being assigned: the patients end up with the site,
    none with the tag."""
    users = [f"{i:010x}" for i in range(1, 6)]
    for user in users:
        insert_patient(db, clinic["id"], user, tags=[])
    base = f"/v1/clinics/{clinic['id']}"
    tag = admin.post(f"{base}/patient_tags", json={"name": f"conv{round_}"}).json()["id"]
    calls = [lambda: server.post(f"{base}/patient_tags/{tag}/site")]
    calls += [lambda k=k: server.post(f"{base}/patients/assign_tag/{tag}", json=[users[k % 5]])
              for k in range(CLIENTS - 1)]
    results = race(calls)
    assert results[0].status_code == 200, results[0].text
    assert {r.status_code for r in results[1:]} <= {200, 404}
    assert db.patients.count_documents({"tags": ObjectId(tag)}) == 0
    assert ObjectId(tag) not in {t["_id"] for t in stored(db, clinic["id"], "patientTags")}


# --- MRN ------------------------------------------------------------------------------------------

MRN_TAKEN = '{"message":"bad request: mrn must be unique"}\n'


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_one_answer_for_a_duplicate_mrn(server, clinic, db, round_):
    """20 creates with one MRN in a clinic that wants unique MRNs: one patient; every other answer
    is the pre-check's 400, whether the pre-check or the unique index caught it."""
    set_clinic(db, clinic["id"], mrnSettings={"required": False, "unique": True})
    base = f"/v1/clinics/{clinic['id']}/patients"
    results = race([lambda i=i: server.post(f"{base}/{i + 1:010x}", json={"fullName": f"P{i}", "mrn": f"M{round_}"})
                    for i in range(CLIENTS)])
    assert [r.status_code for r in results].count(200) == 1
    assert [a for a in answers(results) if a[0] != 200] == [(400, MRN_TAKEN)] * (CLIENTS - 1)
    assert db.patients.count_documents({"mrn": f"M{round_}"}) == 1
    # Updates of 20 other patients to one MRN: the same.
    users = [f"{i + 100:010x}" for i in range(CLIENTS)]
    for user in users:
        insert_patient(db, clinic["id"], user, requireUniqueMrn=True, mrn=None)
    body = {"birthDate": "2000-01-01", "mrn": f"U{round_}"}
    results = race([lambda u=u: server.put(f"{base}/{u}", json={**body, "fullName": u}) for u in users])
    assert [r.status_code for r in results].count(200) == 1
    assert [a for a in answers(results) if a[0] != 200] == [(400, MRN_TAKEN)] * (CLIENTS - 1)
    assert db.patients.count_documents({"mrn": f"U{round_}"}) == 1


# --- tags and MRNs in patient bodies (issue 12 item 1, the patient writes) -------------------------

TAG_NOT_FOUND = '{"message":"patient tag not found"}\n'


def test_patient_bodies_take_only_the_clinics_tags(server, admin, clinic, db):
    """CreatePatientFromUser, CreatePatientAccount and UpdatePatient with a tag the clinic lacks:
    404 `patient tag not found` (the reference stores any id), nothing written."""
    base = f"/v1/clinics/{clinic['id']}"
    gone = admin.post(f"{base}/patient_tags", json={"name": "gone"}).json()["id"]
    kept = admin.post(f"{base}/patient_tags", json={"name": "kept"}).json()["id"]
    assert admin.delete(f"{base}/patient_tags/{gone}").status_code == 204
    insert_patient(db, clinic["id"], "b2b2b2b2b2", tags=[])
    before = db.patients.count_documents({})
    for tag in (gone, str(ObjectId())):
        for resp in (server.post(f"{base}/patients/c3c3c3c3c3", json={"fullName": "A", "tags": [kept, tag]}),
                     admin.post(f"{base}/patients", json={"fullName": "B", "birthDate": "2000-01-01",
                                                          "tags": [tag]}),
                     server.put(f"{base}/patients/b2b2b2b2b2", json={"fullName": "C", "birthDate": "2000-01-01",
                                                                     "tags": [tag, kept]})):
            assert (resp.status_code, resp.text) == (404, TAG_NOT_FOUND)
    assert db.patients.count_documents({}) == before
    assert db.patients.find_one({"userId": "b2b2b2b2b2"})["tags"] == []
    resp = server.put(f"{base}/patients/b2b2b2b2b2", json={"fullName": "C", "birthDate": "2000-01-01", "tags": [kept]})
    assert resp.status_code == 200 and resp.json()["tags"] == [kept]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_no_patient_written_with_a_deleted_tag(server, admin, clinic, db, round_):
    """Per round, 4 tags; for each, its deletion races 4 patient writes carrying it (a create from a
    user, a custodial create, two updates), 20 clients in all. Afterwards no patient holds a tag the
    clinic does not have; each write answered 200 (it came first) or 404 (the tag was gone)."""
    base = f"/v1/clinics/{clinic['id']}"
    users = [f"{round_ + 1:02x}{i:08x}" for i in range(8)]
    for user in users:
        insert_patient(db, clinic["id"], user, tags=[])
    tags = [admin.post(f"{base}/patient_tags", json={"name": f"p{round_}t{k}"}).json()["id"] for k in range(4)]
    calls = []
    for k, tag in enumerate(tags):
        update = {"fullName": "U", "birthDate": "2000-01-01", "tags": [tag]}
        calls += [
            lambda tag=tag: admin.delete(f"{base}/patient_tags/{tag}"),
            lambda tag=tag, k=k: server.post(f"{base}/patients/{round_ + 1:02x}{k + 100:08x}",
                                             json={"fullName": "F", "tags": [tag]}),
            lambda tag=tag: admin.post(f"{base}/patients", json={"fullName": "A", "birthDate": "2000-01-01",
                                                                  "tags": [tag]}),
            lambda k=k, update=update: server.put(f"{base}/patients/{users[2 * k]}", json=update),
            lambda k=k, update=update: server.put(f"{base}/patients/{users[2 * k + 1]}", json=update),
        ]
    results = race(calls)
    assert all(r.status_code == 204 for r in results[::5])
    assert {r.status_code for i, r in enumerate(results) if i % 5} <= {200, 404}
    assert {r.text for i, r in enumerate(results) if i % 5 and r.status_code == 404} <= {TAG_NOT_FOUND}
    known = {t["_id"] for t in stored(db, clinic["id"], "patientTags")}
    held = {t for p in db.patients.find({"clinicId": ObjectId(clinic["id"])}) for t in p.get("tags") or []}
    assert held <= known and not known & {ObjectId(t) for t in tags}


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_one_patient_per_mrn_whatever_the_case(server, admin, clinic, db, round_):
    """20 writes (creates from users, custodial creates, updates) of one MRN spelled in different
    cases, in a clinic that wants unique MRNs: exactly one succeeds, every other answer is the 400."""
    set_clinic(db, clinic["id"], mrnSettings={"required": False, "unique": True})
    base = f"/v1/clinics/{clinic['id']}/patients"
    spellings = [f"mrn{round_}x", f"MRN{round_}X", f"Mrn{round_}x", f"mRn{round_}X"]
    users = [f"{round_ + 1:02x}{i + 200:08x}" for i in range(CLIENTS)]
    for user in users[10:15]:
        insert_patient(db, clinic["id"], user, requireUniqueMrn=True, mrn=None)
    calls = []
    for i, user in enumerate(users):
        mrn = spellings[i % 4]
        if i < 5:
            calls.append(lambda user=user, mrn=mrn: server.post(f"{base}/{user}", json={"fullName": "F", "mrn": mrn}))
        elif i < 10:
            calls.append(lambda mrn=mrn: admin.post(base, json={"fullName": "A", "birthDate": "2000-01-01",
                                                                 "mrn": mrn}))
        elif i < 15:
            calls.append(lambda user=user, mrn=mrn: server.put(f"{base}/{user}", json={
                "fullName": "U", "birthDate": "2000-01-01", "mrn": mrn}))
        else:
            calls.append(lambda user=user, mrn=mrn: server.post(f"{base}/{user}", json={"fullName": "F", "mrn": mrn}))
    results = race(calls)
    assert [r.status_code for r in results].count(200) == 1, answers(results)
    assert [a for a in answers(results) if a[0] != 200] == [(400, MRN_TAKEN)] * (CLIENTS - 1)
    holders = [p for p in db.patients.find({"clinicId": ObjectId(clinic["id"])})
               if str(p.get("mrn") or "").lower() == f"mrn{round_}x"]
    assert len(holders) == 1
