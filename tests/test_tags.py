"""Patient tags: create, rename, delete (and the patients' side), convert into a site."""
import dataclasses
import itertools

import pytest
from bson import ObjectId

from clinic_api.store import patients as patients_store
from clinic_api.store import tags as tags_store
from patient_docs import FIXED, insert_patient, user_id
from support.access import expect_access

TAG_SCHEMA = "#/components/schemas/patientTag.v1"
TAG_PATTERN = r"^[\p{L}\p{N}_+><-]{1}[\p{L}\p{N}\s_+><-]*$"
_names = itertools.count()


def tags_url(clinic):
    return f"/v1/clinics/{clinic['id']}/patient_tags"


def body_error(pointer, reason):
    return {"message": f'request body has an error: doesn\'t match schema {TAG_SCHEMA}: Error at "{pointer}": {reason}'}


def add_tag(api, clinic, name):
    resp = api.post(tags_url(clinic), json={"name": name})
    assert resp.status_code == 200, resp.text
    return resp.json()["id"]


def stored_clinic(db, clinic):
    return db.clinics.find_one({"_id": ObjectId(clinic["id"])})


def fill_tags(db, clinic, n):
    db.clinics.update_one({"_id": ObjectId(clinic["id"])},
                          {"$set": {"patientTags": [{"_id": ObjectId(), "name": f"tag{i}"} for i in range(n)]}})


# --- create -------------------------------------------------------------------------------------

def test_create_trims_the_name_and_stores_id_and_name(admin, clinic, db):
    resp = admin.post(tags_url(clinic), json={"name": "My Tag "})
    assert resp.status_code == 200
    body = resp.json()
    assert body == {"id": body["id"], "name": "My Tag"}
    doc = stored_clinic(db, clinic)
    assert doc["patientTags"] == [{"_id": ObjectId(body["id"]), "name": "My Tag"}]
    assert doc["updatedTime"] > FIXED


@pytest.mark.parametrize("name", ["a\tb", "Élan_+<>-é9", "١٢", "x" * 20, "a b c", "-", "<>"])
def test_create_accepts_names_the_go_pattern_accepts(admin, clinic, name):
    resp = admin.post(tags_url(clinic), json={"name": name})
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == name.strip()


@pytest.mark.parametrize("body,expected", [
    ({"name": " lead"}, body_error("/name", f'string doesn\'t match the regular expression "{TAG_PATTERN}"')),
    ({"name": "ok!"}, body_error("/name", f'string doesn\'t match the regular expression "{TAG_PATTERN}"')),
    ({"name": "a\u00a0b"}, body_error("/name", f'string doesn\'t match the regular expression "{TAG_PATTERN}"')),
    ({"name": "a\u2003b"}, body_error("/name", f'string doesn\'t match the regular expression "{TAG_PATTERN}"')),
    ({"name": "abcdefghijklmnopqrstu"}, body_error("/name", "maximum string length is 20")),
    ({"name": ""}, body_error("/name", "minimum string length is 1")),
    ({}, body_error("/name", 'property "name" is missing')),
    ({"id": "zz", "name": "x"}, body_error("/id", "minimum string length is 24")),
    ({"name": "x", "numPatients": "many"}, body_error("/numPatients", "value must be an integer")),
    ({"name": "x", "patients": "abc"},
     {"message": "Unmarshal type error: expected=int, got=string, field=patients, offset=28"}),
    ({"name": "x", "patients": 1.5},
     {"message": "Unmarshal type error: expected=int, got=number 1.5, field=patients, offset=26"}),
])
def test_create_rejects_bad_bodies(admin, clinic, db, body, expected):
    resp = admin.post(tags_url(clinic), json=body)
    assert (resp.status_code, resp.json()) == (400, expected)
    assert "patientTags" not in stored_clinic(db, clinic)


def test_create_ignores_id_and_counts_in_the_body(admin, clinic):
    resp = admin.post(tags_url(clinic), json={"id": "a" * 24, "name": "x", "numPatients": 7, "patients": 3})
    assert resp.status_code == 200
    assert resp.json()["id"] != "a" * 24 and set(resp.json()) == {"id", "name"}


def test_create_without_a_body_is_a_400_not_a_nameless_tag(admin, clinic, db):
    resp = admin.post(tags_url(clinic))
    assert (resp.status_code, resp.json()) == (400, {"message": "request body has an error: value is required but "
                                                                "missing"})
    assert "patientTags" not in stored_clinic(db, clinic)


@pytest.mark.parametrize("first,second", [("first", "first"), ("My Tag", "mytag"), ("My Tag", "MY TAG"),
                                          ("abc", "A B C "), ("Ünï", "üNÏ")])
def test_create_duplicate_names(admin, clinic, first, second):
    add_tag(admin, clinic, first)
    resp = admin.post(tags_url(clinic), json={"name": second})
    assert (resp.status_code, resp.json()) == (409, {"message": "duplicate patient tag"})


def test_tabs_are_not_ignored_by_the_duplicate_test(admin, clinic):
    add_tag(admin, clinic, "MyTag")
    assert admin.post(tags_url(clinic), json={"name": "My\tTag"}).status_code == 200


def test_create_at_fifty_tags_is_a_422_even_for_a_duplicate(admin, clinic, db):
    fill_tags(db, clinic, 50)
    expected = {"message": "constraint violation: the clinic already has the maximum number of 50 patient tags"}
    for name in ("new", "tag1"):
        resp = admin.post(tags_url(clinic), json={"name": name})
        assert (resp.status_code, resp.json()) == (422, expected)
    assert len(stored_clinic(db, clinic)["patientTags"]) == 50


def test_create_at_forty_nine_tags_succeeds(admin, clinic, db):
    fill_tags(db, clinic, 49)
    assert admin.post(tags_url(clinic), json={"name": "fiftieth"}).status_code == 200


def test_create_in_unknown_clinic(server):
    resp = server.post(f"/v1/clinics/{'a' * 24}/patient_tags", json={"name": "x"})
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})


def test_create_bad_clinic_id(server):
    resp = server.post("/v1/clinics/XYZ/patient_tags", json={"name": "x"})
    assert resp.status_code == 400
    assert resp.json()["message"].startswith('parameter "clinicId" in path has an error: ')


def test_create_access(request, clinic):
    expect_access(request, lambda api: api.post(tags_url(clinic), json={"name": f"n{next(_names)}"}),
                  {"server": 200, "admin": 200, "member": 200})


# --- patient counts on the clinic --------------------------------------------------------------

def test_clinic_shows_patient_counts_per_tag(admin, clinic, db):
    first = add_tag(admin, clinic, "first")
    second = add_tag(admin, clinic, "second")
    insert_patient(db, clinic["id"], user_id(1), tags=[ObjectId(first)])
    insert_patient(db, clinic["id"], user_id(2), tags=[ObjectId(first), ObjectId(first)])
    tags = admin.get(f"/v1/clinics/{clinic['id']}").json()["patientTags"]
    assert tags == [{"id": first, "name": "first", "numPatients": 3}, {"id": second, "name": "second"}]


# --- rename ---------------------------------------------------------------------------------------

def test_rename(admin, clinic, db):
    tag = add_tag(admin, clinic, "Old")
    insert_patient(db, clinic["id"], user_id(1), tags=[ObjectId(tag)])
    resp = admin.put(f"{tags_url(clinic)}/{tag}", json={"name": "New "})
    assert (resp.status_code, resp.json()) == (200, {"id": tag, "name": "New"})
    assert stored_clinic(db, clinic)["patientTags"] == [{"_id": ObjectId(tag), "name": "New"}]
    assert db.patients.find_one()["tags"] == [ObjectId(tag)]


def test_rename_to_a_variant_of_its_own_name(admin, clinic):
    tag = add_tag(admin, clinic, "My Tag")
    assert admin.put(f"{tags_url(clinic)}/{tag}", json={"name": "MYTAG"}).json() == {"id": tag, "name": "MYTAG"}


def test_rename_to_another_tags_name(admin, clinic):
    add_tag(admin, clinic, "one")
    tag = add_tag(admin, clinic, "two")
    resp = admin.put(f"{tags_url(clinic)}/{tag}", json={"name": "O N E"})
    assert (resp.status_code, resp.json()) == (409, {"message": "duplicate patient tag"})


def test_rename_is_not_limited(admin, clinic, db):
    fill_tags(db, clinic, 50)
    tag = str(stored_clinic(db, clinic)["patientTags"][0]["_id"])
    assert admin.put(f"{tags_url(clinic)}/{tag}", json={"name": "renamed"}).status_code == 200


def test_rename_unknown_tag_is_a_404_not_a_500(admin, clinic, db):
    add_tag(admin, clinic, "one")
    before = stored_clinic(db, clinic)
    resp = admin.put(f"{tags_url(clinic)}/{'b' * 24}", json={"name": "x"})
    assert (resp.status_code, resp.json()) == (404, {"message": "patient tag not found"})
    assert stored_clinic(db, clinic) == before


def test_rename_unknown_clinic(server):
    resp = server.put(f"/v1/clinics/{'a' * 24}/patient_tags/{'b' * 24}", json={"name": "x"})
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})


def test_rename_bad_body(admin, clinic):
    tag = add_tag(admin, clinic, "x")
    resp = admin.put(f"{tags_url(clinic)}/{tag}", json={"name": "no!"})
    assert resp.json() == body_error("/name", f'string doesn\'t match the regular expression "{TAG_PATTERN}"')
    assert admin.put(f"{tags_url(clinic)}/{tag}").status_code == 400
    resp = admin.put(f"{tags_url(clinic)}/abc", json={"name": "x"})
    assert resp.json() == {"message": 'parameter "patientTagId" in path has an error: string doesn\'t match the '
                                      'regular expression "^[a-f0-9]{24}$"'}


def test_rename_access(request, admin, clinic):
    tag = add_tag(admin, clinic, "x")
    expect_access(request, lambda api: api.put(f"{tags_url(clinic)}/{tag}", json={"name": f"n{next(_names)}"}),
                  {"server": 200, "admin": 200, "member": 200})


# --- delete ---------------------------------------------------------------------------------------

def test_delete_removes_the_tag_from_the_clinic_and_its_patients(admin, clinic, db):
    keep, gone = add_tag(admin, clinic, "keep"), add_tag(admin, clinic, "gone")
    insert_patient(db, clinic["id"], user_id(1), tags=[ObjectId(keep), ObjectId(gone), ObjectId(gone)])
    insert_patient(db, clinic["id"], user_id(2), tags=[ObjectId(keep)])
    resp = admin.delete(f"{tags_url(clinic)}/{gone}")
    assert (resp.status_code, resp.content) == (204, b"")
    doc = stored_clinic(db, clinic)
    assert doc["patientTags"] == [{"_id": ObjectId(keep), "name": "keep"}]
    assert doc["lastDeletedPatientTag"] == ObjectId(gone)
    first, second = db.patients.find().sort("userId", 1)
    assert first["tags"] == [ObjectId(keep)] and first["updatedTime"] > FIXED
    assert second["tags"] == [ObjectId(keep)] and second["updatedTime"] == FIXED


def test_delete_leaves_patients_to_the_worker_when_effects_are_external(admin, clinic, db, services, monkeypatch):
    tag = add_tag(admin, clinic, "gone")
    insert_patient(db, clinic["id"], user_id(1), tags=[ObjectId(tag)])
    monkeypatch.setattr(services, "settings", dataclasses.replace(services.settings, effects="external"))
    assert admin.delete(f"{tags_url(clinic)}/{tag}").status_code == 204
    assert db.patients.find_one()["tags"] == [ObjectId(tag)]
    assert stored_clinic(db, clinic)["lastDeletedPatientTag"] == ObjectId(tag)


def test_delete_the_last_tag_leaves_an_empty_list(admin, clinic, db):
    tag = add_tag(admin, clinic, "only")
    admin.delete(f"{tags_url(clinic)}/{tag}")
    assert stored_clinic(db, clinic)["patientTags"] == []
    assert admin.get(f"/v1/clinics/{clinic['id']}").json()["patientTags"] is None


def test_delete_unknown_tag_still_records_it(admin, clinic, db):
    resp = admin.delete(f"{tags_url(clinic)}/{'c' * 24}")
    assert resp.status_code == 204
    assert stored_clinic(db, clinic)["lastDeletedPatientTag"] == ObjectId("c" * 24)


def test_delete_in_unknown_clinic(server):
    resp = server.delete(f"/v1/clinics/{'a' * 24}/patient_tags/{'c' * 24}")
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})


def test_delete_access(request, clinic):
    expect_access(request, lambda api: api.delete(f"{tags_url(clinic)}/{'c' * 24}"), {"server": 204, "admin": 204})


# --- the patients' side (the patients family's store functions, used by delete) ---------------

def _moved_patients(db, clinic_oid, tag_oid, twice=True):
    for n in range(10):
        tags = [tag_oid, tag_oid] if twice else []
        insert_patient(db, clinic_oid, user_id(n), tags=tags)


def test_remove_from_patients_pulls_every_occurrence(db):
    clinic_oid, tag = ObjectId(), ObjectId()
    _moved_patients(db, clinic_oid, tag)
    patients_store.remove_tag(db, clinic_oid, tag, None)
    assert db.patients.count_documents({"tags": tag}) == 0


def test_remove_from_some_patients(db):
    clinic_oid, tag = ObjectId(), ObjectId()
    _moved_patients(db, clinic_oid, tag)
    patients_store.remove_tag(db, clinic_oid, tag, [user_id(0), user_id(1)])
    assert db.patients.count_documents({"tags": tag}) == 8


def test_assign_to_some_then_all_patients(db):
    clinic_oid, tag = ObjectId(), ObjectId()
    _moved_patients(db, clinic_oid, tag, twice=False)
    db.patients.update_one({"userId": user_id(5)}, {"$set": {"tags": None}})
    db.patients.update_one({"userId": user_id(6)}, {"$unset": {"tags": ""}})
    patients_store.assign_tag(db, clinic_oid, tag, [user_id(0), user_id(1)])
    assert db.patients.count_documents({"tags": tag}) == 2
    patients_store.assign_tag(db, clinic_oid, tag, None)
    assert db.patients.count_documents({"tags": tag}) == 10
    assert all(p["tags"] == [tag] for p in db.patients.find())


def test_name_helpers():
    assert tags_store.trim("\t x \n\u00a0") == "x"
    assert tags_store.name_key("My Tag") == tags_store.name_key("MYTAG") == "mytag"
    assert tags_store.name_key("My\tTag") != tags_store.name_key("MyTag")
    assert tags_store.name_key("İ") == "i"


# --- convert into a site --------------------------------------------------------------------------

def convert(api, clinic, tag):
    return api.post(f"{tags_url(clinic)}/{tag}/site")


def test_convert_moves_the_tags_patients_to_a_new_site(server, admin, clinic, db):
    tag = add_tag(admin, clinic, "testing")
    other = add_tag(admin, clinic, "other")
    insert_patient(db, clinic["id"], user_id(1), tags=[ObjectId(tag), ObjectId(other)])
    insert_patient(db, clinic["id"], user_id(2), tags=[ObjectId(tag)])
    insert_patient(db, clinic["id"], user_id(3), tags=[ObjectId(other)])
    resp = convert(server, clinic, tag)
    assert resp.status_code == 200
    site = resp.json()
    assert site == {"id": site["id"], "name": "testing", "patients": 2}
    doc = stored_clinic(db, clinic)
    assert [t["name"] for t in doc["patientTags"]] == ["other"]
    assert doc["lastDeletedPatientTag"] == ObjectId(tag)
    assert doc["sites"] == [{"id": ObjectId(site["id"]), "name": "testing"}]
    one, two, three = db.patients.find().sort("userId", 1)
    assert one["tags"] == [ObjectId(other)] and two["tags"] == []
    assert one["sites"] == two["sites"] == [{"id": ObjectId(site["id"]), "name": "testing", "patients": 2}]
    assert "sites" not in three and three["tags"] == [ObjectId(other)]
    clinic_json = admin.get(f"/v1/clinics/{clinic['id']}").json()
    assert clinic_json["sites"] == [{"id": site["id"], "name": "testing", "numPatients": 2}]


def test_convert_a_tag_without_patients(server, admin, clinic):
    tag = add_tag(admin, clinic, "empty")
    resp = convert(server, clinic, tag)
    assert resp.status_code == 200 and resp.json() == {"id": resp.json()["id"], "name": "empty"}


@pytest.mark.parametrize("existing,tag_name,expected", [
    (["S"], "S", "S (2)"), (["s", "S (2)"], "S", "S (3)"), ([], "S", "S")])
def test_convert_finds_a_free_site_name(server, admin, clinic, existing, tag_name, expected):
    for name in existing:
        assert admin.post(f"/v1/clinics/{clinic['id']}/sites", json={"name": name}).status_code == 200
    tag = add_tag(admin, clinic, tag_name)
    assert convert(server, clinic, tag).json()["name"] == expected


def test_free_site_name_increments_a_trailing_number():
    from clinic_api.store import sites
    doc = {"sites": [{"name": "Bar (5)"}, {"name": "bar (6)"}, {"name": "Foo"}]}
    assert sites.free_name(doc, "Bar (5)") == "Bar (7)"
    assert sites.free_name(doc, "foo") == "foo (2)"
    assert sites.free_name(doc, "new") == "new"


def test_convert_unknown_tag(server, admin, clinic):
    add_tag(admin, clinic, "x")
    resp = convert(server, clinic, "d" * 24)
    assert (resp.status_code, resp.json()) == (404, {"message": "unable to find patient tag: not found"})


def test_convert_in_unknown_clinic(server):
    resp = convert(server, {"id": "a" * 24}, "d" * 24)
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})


def test_convert_when_the_clinic_has_fifty_sites(server, admin, clinic, db):
    tag = add_tag(admin, clinic, "x")
    insert_patient(db, clinic["id"], user_id(1), tags=[ObjectId(tag)])
    db.clinics.update_one({"_id": ObjectId(clinic["id"])},
                          {"$set": {"sites": [{"id": ObjectId(), "name": f"site{i}"} for i in range(50)]}})
    before = stored_clinic(db, clinic)
    resp = convert(server, clinic, tag)
    assert (resp.status_code, resp.json()) == (409, {"message": "conflict"})
    assert stored_clinic(db, clinic) == before
    assert db.patients.find_one()["tags"] == [ObjectId(tag)]


def test_convert_access(request, admin, clinic):
    ids = iter([add_tag(admin, clinic, f"t{i}") for i in range(6)])
    expect_access(request, lambda api: convert(api, clinic, next(ids)), {"server": 200})
