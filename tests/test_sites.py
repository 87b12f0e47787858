"""Sites: create, rename (reaching every patient), delete, merge."""
import itertools

import pytest
from bson import ObjectId

from clinic_api.store import sites as sites_store
from patient_docs import FIXED, insert_patient, user_id
from support.access import expect_access

SITE_PATTERN = r"^[[:graph:]\p{L}\p{N}][[:graph:]\p{L}\p{N} ]*$"
_names = itertools.count()


def sites_url(clinic):
    return f"/v1/clinics/{clinic['id']}/sites"


def body_error(schema, pointer, reason):
    return {"message": f'request body has an error: doesn\'t match schema #/components/schemas/{schema}: '
                       f'Error at "{pointer}": {reason}'}


def add_site(api, clinic, name):
    resp = api.post(sites_url(clinic), json={"name": name})
    assert resp.status_code == 200, resp.text
    return resp.json()["id"]


def stored_clinic(db, clinic):
    return db.clinics.find_one({"_id": ObjectId(clinic["id"])})


def fill_sites(db, clinic, n):
    db.clinics.update_one({"_id": ObjectId(clinic["id"])},
                          {"$set": {"sites": [{"id": ObjectId(), "name": f"site{i}"} for i in range(n)]}})


def site_element(site_id, name, **extra):
    return {"id": ObjectId(site_id), "name": name, **extra}


# --- create ---------------------------------------------------------------------------------------

def test_create(admin, clinic, db):
    resp = admin.post(sites_url(clinic), json={"name": "Test Site"})
    assert resp.status_code == 200
    site = resp.json()
    assert site == {"id": site["id"], "name": "Test Site"}
    doc = stored_clinic(db, clinic)
    assert doc["sites"] == [site_element(site["id"], "Test Site")]
    assert doc["updatedTime"] > FIXED


@pytest.mark.parametrize("name", ["Site!@#$%^&*()", "Café ok ", "été", "a b", "x" * 200, "日本"])
def test_create_accepts_names_the_go_pattern_accepts(admin, clinic, name):
    resp = admin.post(sites_url(clinic), json={"name": name})
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"] == name  # kept as sent, trailing space included


def test_create_escapes_html_characters_as_go_does(admin, clinic):
    resp = admin.post(sites_url(clinic), json={"name": "A&B<C>"})
    assert b'"name":"A\\u0026B\\u003cC\\u003e"' in resp.content


@pytest.mark.parametrize("body,expected", [
    ({"name": " Site"}, body_error("siteCreation.v1", "/name", f'string doesn\'t match the regular expression '
                                                               f'"{SITE_PATTERN}"')),
    ({"name": "Site\tA"}, body_error("siteCreation.v1", "/name", f'string doesn\'t match the regular expression '
                                                                 f'"{SITE_PATTERN}"')),
    ({"name": "Café €"}, body_error("siteCreation.v1", "/name", f'string doesn\'t match the regular expression '
                                                                f'"{SITE_PATTERN}"')),
    ({"name": "x" * 201}, body_error("siteCreation.v1", "/name", "maximum string length is 200")),
    ({"name": ""}, body_error("siteCreation.v1", "/name", "minimum string length is 1")),
    ({}, body_error("siteCreation.v1", "/name", 'property "name" is missing')),
    ({"name": "x", "numPatients": "abc"}, {"message": "bad request"}),
])
def test_create_rejects_bad_bodies(admin, clinic, db, body, expected):
    resp = admin.post(sites_url(clinic), json=body)
    assert (resp.status_code, resp.json()) == (400, expected)
    assert "sites" not in stored_clinic(db, clinic)


def test_create_without_a_body(admin, clinic, db):
    resp = admin.post(sites_url(clinic))
    assert (resp.status_code, resp.json()) == (400, {"message": "request body has an error: value is required but "
                                                                "missing"})
    assert "sites" not in stored_clinic(db, clinic)


@pytest.mark.parametrize("first,second", [("New York", "New York"), ("New York", "new york"), ("été", "ÉTÉ")])
def test_create_duplicate(admin, clinic, first, second):
    add_site(admin, clinic, first)
    resp = admin.post(sites_url(clinic), json={"name": second})
    assert (resp.status_code, resp.json()) == (409, {"message": "duplicate site name"})


def test_duplicates_use_simple_case_folding(admin, clinic):
    add_site(admin, clinic, "Straße")
    assert admin.post(sites_url(clinic), json={"name": "STRASSE"}).status_code == 200
    assert admin.post(sites_url(clinic), json={"name": "New York"}).status_code == 200
    assert admin.post(sites_url(clinic), json={"name": "New  York"}).status_code == 200


def test_create_at_fifty_sites(admin, clinic, db):
    fill_sites(db, clinic, 50)
    resp = admin.post(sites_url(clinic), json={"name": "another"})
    expected = {"message": "constraint violation: the clinic already has the maximum number of 50 sites"}
    assert (resp.status_code, resp.json()) == (422, expected)
    # the duplicate test comes first
    assert admin.post(sites_url(clinic), json={"name": "SITE1"}).status_code == 409
    assert len(stored_clinic(db, clinic)["sites"]) == 50


def test_create_at_forty_nine_sites(admin, clinic, db):
    fill_sites(db, clinic, 49)
    assert admin.post(sites_url(clinic), json={"name": "fiftieth"}).status_code == 200


def test_create_in_unknown_clinic(server):
    resp = server.post(f"/v1/clinics/{'a' * 24}/sites", json={"name": "x"})
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})


def test_create_access(request, clinic):
    expect_access(request, lambda api: api.post(sites_url(clinic), json={"name": f"n{next(_names)}"}),
                  {"server": 200, "admin": 200})


# --- rename ---------------------------------------------------------------------------------------

def rename(api, clinic, site_id, name, **extra):
    return api.put(f"{sites_url(clinic)}/{site_id}", json={"id": site_id, "name": name, **extra})


def test_rename_reaches_every_patient_carrying_the_site(admin, clinic, db):
    site, other = add_site(admin, clinic, "Old"), add_site(admin, clinic, "Other")
    insert_patient(db, clinic["id"], user_id(1), sites=[site_element(site, "Old"), site_element(other, "Other")])
    insert_patient(db, clinic["id"], user_id(2), sites=[site_element(site, "Old", patients=1)])
    insert_patient(db, clinic["id"], user_id(3), sites=[site_element(other, "Other")])
    resp = rename(admin, clinic, site, "New Name")
    assert (resp.status_code, resp.json()) == (200, {"id": site, "name": "New Name", "patients": 2})
    assert [s["name"] for s in stored_clinic(db, clinic)["sites"]] == ["New Name", "Other"]
    one, two, three = db.patients.find().sort("userId", 1)
    assert one["sites"] == [site_element(site, "New Name"), site_element(other, "Other")]
    assert two["sites"] == [site_element(site, "New Name", patients=1)]
    assert three["sites"] == [site_element(other, "Other")] and three["updatedTime"] == FIXED
    assert one["updatedTime"] > FIXED


def test_rename_without_patients_omits_the_count(admin, clinic):
    site = add_site(admin, clinic, "Old")
    assert rename(admin, clinic, site, "fooberry-jones").json() == {"id": site, "name": "fooberry-jones"}


def test_rename_uses_the_path_id(admin, clinic):
    site = add_site(admin, clinic, "Old")
    resp = admin.put(f"{sites_url(clinic)}/{site}", json={"id": "f" * 24, "name": "New", "numPatients": 9})
    assert resp.json() == {"id": site, "name": "New"}


def test_rename_at_fifty_sites(admin, clinic, db):
    fill_sites(db, clinic, 50)
    site = str(stored_clinic(db, clinic)["sites"][3]["id"])
    resp = rename(admin, clinic, site, "site3 (renamed)")
    assert (resp.status_code, resp.json()) == (200, {"id": site, "name": "site3 (renamed)"})
    names = [s["name"] for s in stored_clinic(db, clinic)["sites"]]
    assert names == [f"site{i}" if i != 3 else "site3 (renamed)" for i in range(50)]


@pytest.mark.parametrize("new", ["A", "a", "B"])
def test_rename_to_a_taken_name(admin, clinic, db, new):
    add_site(admin, clinic, "A")
    site = add_site(admin, clinic, "B")
    resp = rename(admin, clinic, site, new)
    assert (resp.status_code, resp.json()) == (409, {"message": "checking site constraints: duplicate site name"})
    assert [s["name"] for s in stored_clinic(db, clinic)["sites"]] == ["A", "B"]


def test_rename_unknown_site(admin, clinic):
    add_site(admin, clinic, "A")
    resp = rename(admin, clinic, "e" * 24, "Z")
    expected = {"message": "constraint violation: the clinic has no site with that name"}
    assert (resp.status_code, resp.json()) == (422, expected)


def test_rename_in_unknown_clinic(server):
    resp = rename(server, {"id": "a" * 24}, "e" * 24, "Z")
    assert (resp.status_code, resp.json()) == (404, {"message": "checking site constraints: clinic not found"})


@pytest.mark.parametrize("body,expected", [
    ({"name": "Renamed"}, body_error("site.v1", "/id", 'property "id" is missing')),
    ({"id": "xyz", "name": "Renamed"}, body_error("site.v1", "/id", "minimum string length is 24")),
    ({"id": "e" * 24, "name": " x"}, body_error("site.v1", "/name", f'string doesn\'t match the regular expression '
                                                                    f'"{SITE_PATTERN}"')),
    ({"id": "e" * 24, "name": "x", "numPatients": "abc"}, body_error("site.v1", "/numPatients", "value must be an "
                                                                                                "integer")),
    ({"id": "e" * 24, "name": "x", "patients": "abc"}, body_error("site.v1", "/patients", "value must be an integer")),
])
def test_rename_bad_bodies(admin, clinic, body, expected):
    site = add_site(admin, clinic, "A")
    resp = admin.put(f"{sites_url(clinic)}/{site}", json=body)
    assert (resp.status_code, resp.json()) == (400, expected)


def test_rename_without_a_body(admin, clinic, db):
    site = add_site(admin, clinic, "A")
    resp = admin.put(f"{sites_url(clinic)}/{site}")
    assert (resp.status_code, resp.json()) == (400, {"message": "request body has an error: value is required but "
                                                                "missing"})
    assert [s["name"] for s in stored_clinic(db, clinic)["sites"]] == ["A"]


def test_rename_access(request, admin, clinic):
    site = add_site(admin, clinic, "A")
    expect_access(request, lambda api: rename(api, clinic, site, f"n{next(_names)}"), {"server": 200, "admin": 200})


# --- delete ---------------------------------------------------------------------------------------

def test_delete_removes_the_site_from_the_clinic_and_its_patients(admin, clinic, db):
    site, other = add_site(admin, clinic, "X"), add_site(admin, clinic, "Y")
    insert_patient(db, clinic["id"], user_id(1), sites=[site_element(site, "X"), site_element(other, "Y")])
    insert_patient(db, clinic["id"], user_id(2), sites=[site_element(site, "X")])
    insert_patient(db, clinic["id"], user_id(3), sites=[site_element(other, "Y")])
    resp = admin.delete(f"{sites_url(clinic)}/{site}")
    assert (resp.status_code, resp.content) == (204, b"")
    assert stored_clinic(db, clinic)["sites"] == [site_element(other, "Y")]
    one, two, three = db.patients.find().sort("userId", 1)
    assert one["sites"] == [site_element(other, "Y")] and two["sites"] == []
    assert three["updatedTime"] == FIXED and two["updatedTime"] > FIXED


def test_delete_unknown_site_changes_nothing(admin, clinic, db):
    site = add_site(admin, clinic, "X")
    insert_patient(db, clinic["id"], user_id(1), sites=[site_element(site, "X")])
    before = list(db.patients.find())
    resp = admin.delete(f"{sites_url(clinic)}/{'e' * 24}")
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})
    assert list(db.patients.find()) == before


def test_delete_rolls_back_the_patients_when_the_clinic_lacks_the_site(admin, clinic, db):
    stray = ObjectId()
    insert_patient(db, clinic["id"], user_id(1), sites=[{"id": stray, "name": "stray"}])
    resp = admin.delete(f"{sites_url(clinic)}/{stray}")
    assert resp.status_code == 404
    assert db.patients.find_one()["sites"] == [{"id": stray, "name": "stray"}]


def test_delete_in_unknown_clinic(server):
    resp = server.delete(f"/v1/clinics/{'a' * 24}/sites/{'e' * 24}")
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})


def test_delete_bad_site_id(server, clinic):
    resp = server.delete(f"{sites_url(clinic)}/XYZ")
    assert resp.status_code == 400
    assert resp.json()["message"].startswith('parameter "siteId" in path has an error: ')


def test_delete_access(request, admin, clinic):
    ids = iter([add_site(admin, clinic, f"s{i}") for i in range(6)])
    expect_access(request, lambda api: api.delete(f"{sites_url(clinic)}/{next(ids)}"), {"server": 204, "admin": 204})


# --- merge ----------------------------------------------------------------------------------------

def merge(api, clinic, target, source):
    return api.post(f"{sites_url(clinic)}/{target}/merge", json={"id": source})


def test_merge_counts_the_union_of_both_sites(server, admin, clinic, db):
    src, dst = add_site(admin, clinic, "Source"), add_site(admin, clinic, "Target")
    insert_patient(db, clinic["id"], user_id(1), sites=[site_element(src, "Source")])
    insert_patient(db, clinic["id"], user_id(2), sites=[site_element(dst, "Target")])
    resp = merge(server, clinic, dst, src)
    assert (resp.status_code, resp.json()) == (200, {"id": dst, "name": "Target", "patients": 2})


def test_merge_moves_patients_and_removes_the_source(server, admin, clinic, db):
    src, dst, other = add_site(admin, clinic, "S"), add_site(admin, clinic, "T"), add_site(admin, clinic, "O")
    insert_patient(db, clinic["id"], user_id(1), sites=[site_element(src, "S")])
    insert_patient(db, clinic["id"], user_id(2), sites=[site_element(src, "S"), site_element(dst, "T")])
    insert_patient(db, clinic["id"], user_id(3), sites=[site_element(dst, "T"), site_element(other, "O")])
    insert_patient(db, clinic["id"], user_id(4), sites=[site_element(other, "O")])
    resp = merge(server, clinic, dst, src)
    assert resp.json() == {"id": dst, "name": "T", "patients": 3}
    assert [s["name"] for s in stored_clinic(db, clinic)["sites"]] == ["T", "O"]
    one, two, three, four = db.patients.find().sort("userId", 1)
    # the target copy carries the target's count before the merge, as the reference writes it
    assert one["sites"] == [site_element(dst, "T", patients=2)]
    assert two["sites"] == [site_element(dst, "T")]
    assert three["sites"] == [site_element(dst, "T"), site_element(other, "O")]
    assert four["updatedTime"] == FIXED
    assert db.patients.count_documents({"sites.id": ObjectId(src)}) == 0


def test_merge_a_site_into_itself(server, admin, clinic):
    site = add_site(admin, clinic, "X")
    resp = merge(server, clinic, site, site)
    assert (resp.status_code, resp.json()) == (400, {"message": "can't merge a site into itself: bad request"})


def test_merge_a_new_site_without_patients(server, admin, clinic):
    target, works = add_site(admin, clinic, "T"), add_site(admin, clinic, "works")
    assert merge(server, clinic, target, works).json() == {"id": target, "name": "T"}


@pytest.mark.parametrize("body", [{}, None, {"numPatients": 3}])
def test_merge_without_a_source_id_is_a_400_not_a_500(server, admin, clinic, body):
    site = add_site(admin, clinic, "X")
    resp = server.post(f"{sites_url(clinic)}/{site}/merge", json=body)
    assert (resp.status_code, resp.json()) == (400, {"message": "bad request: the id of the site to merge is required"})


def test_merge_malformed_source_id(server, admin, clinic):
    site = add_site(admin, clinic, "X")
    resp = merge(server, clinic, site, "zz")
    assert (resp.status_code, resp.json()) == (400, body_error("siteById.v1", "/id", "minimum string length is 24"))


def test_merge_unknown_target(server, admin, clinic):
    src = add_site(admin, clinic, "S")
    resp = merge(server, clinic, "e" * 24, src)
    assert (resp.status_code, resp.json()) == (404, {"message": "not found"})


def test_merge_unknown_source_changes_nothing(server, admin, clinic, db):
    dst = add_site(admin, clinic, "T")
    insert_patient(db, clinic["id"], user_id(1), sites=[site_element(dst, "T")])
    before = (stored_clinic(db, clinic), list(db.patients.find()))
    resp = merge(server, clinic, dst, "e" * 24)
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})
    assert (stored_clinic(db, clinic), list(db.patients.find())) == before


def test_merge_in_unknown_clinic(server):
    resp = merge(server, {"id": "a" * 24}, "e" * 24, "f" * 24)
    assert (resp.status_code, resp.json()) == (404, {"message": "clinic not found"})


def test_merge_bad_target_id(server, clinic):
    resp = merge(server, clinic, "XYZ", "f" * 24)
    assert (resp.status_code, resp.json()) == (400, {
        "message": 'parameter "siteId" in path has an error: minimum string length is 24'})


def test_merge_access(request, admin, clinic):
    dst = add_site(admin, clinic, "T")
    sources = iter([add_site(admin, clinic, f"s{i}") for i in range(6)])
    expect_access(request, lambda api: merge(api, clinic, dst, next(sources)), {"server": 200})


# --- store helpers ----------------------------------------------------------------------------------

def test_fold_is_simple_case_folding():
    assert sites_store.fold("New York") == sites_store.fold("NEW YORK")
    assert sites_store.fold("ß") != sites_store.fold("ss")
    assert sites_store.fold("\u212a") == sites_store.fold("k")  # Kelvin sign
    assert sites_store.fold("ſ") == sites_store.fold("S")  # long s


def test_store_level_delete_merge_and_rename(db):
    clinic_oid = ObjectId()
    db.clinics.insert_one({"_id": clinic_oid, "sites": [{"id": ObjectId(), "name": "A"}, {"id": ObjectId(),
                                                                                          "name": "B"}]})
    a, b = (s["id"] for s in db.clinics.find_one()["sites"])
    insert_patient(db, clinic_oid, user_id(1), sites=[{"id": a, "name": "A"}])
    sites_store.rename(db, clinic_oid, a, "A2")
    assert db.patients.find_one()["sites"] == [{"id": a, "name": "A2"}]
    sites_store.merge(db, clinic_oid, str(a), str(b))
    assert db.patients.find_one()["sites"] == [{"id": b, "name": "B"}]
    sites_store.remove(db, clinic_oid, b)
    assert db.patients.find_one()["sites"] == [] and db.clinics.find_one()["sites"] == []
