"""The reference's repository and service scenarios (patients.md, Test scenarios 1-52), ported to
our store and domain functions. Scenario numbers in the test names."""
from __future__ import annotations

import pytest
from bson import ObjectId

from patients_support import T0, T1, insert_patient
from clinic_api.errors import BadRequest, Duplicate, NotFound
from clinic_api.domain import patients as domain
from clinic_api.store import patient_docs, patient_queries, patients as store

C = ObjectId("60d5ec49f1a2c3b4d5e6f701")
K = ObjectId("60d5ec49f1a2c3b4d5e6f702")


def uid(n):
    return f"{n:010x}"


@pytest.fixture
def ten(db):
    """Ten patients, even-indexed ones in clinic C, every third one with a disconnected twiist source."""
    docs = []
    for n in range(10):
        extra = {"dataSources": [{"providerName": "twiist", "state": "disconnected"}]} if n % 3 == 0 else {}
        docs.append(insert_patient(db, C if n % 2 == 0 else ObjectId(), uid(n), fullName=f"Name{n} Last",
                                   email=f"p{n}@x.org", mrn=f"MRN{n}".upper() if n % 2 else f"mrn{n}",
                                   tags=[ObjectId()], sites=[], **extra))
    return docs


def fields(**kw):
    base = {"fullName": "Random Person", "birthDate": "1999-12-31", "email": "r@x.org", "mrn": "M-1",
            "targetDevices": ["a", "b", "c"], "tags": [ObjectId()], "sites": []}
    base.update(kw)
    return base


def new(user, clinic=C, unique=False, **kw):
    return patient_docs.new_document(clinic, user, fields(**kw), permissions={"view": {}}, require_unique_mrn=unique,
                                     now=T0)


def test_01_created_document_round_trips(db):
    doc = new(uid(1), diagnosisType="type1", glycemicRanges={"type": "preset", "preset": "adaStandard"})
    store.insert(db, doc)
    assert store.get(db, C, uid(1)) == doc


def test_02_03_04_mrn_uniqueness_follows_the_flag(db):
    store.insert(db, new(uid(1), mrn="SAME"))
    store.insert(db, new(uid(2), mrn="SAME"))  # flag off: allowed
    store.insert(db, new(uid(3), unique=True, mrn=None))
    store.insert(db, new(uid(4), unique=True, mrn=None))  # no MRN: outside the partial index
    store.insert(db, new(uid(5), unique=True, mrn="U"))
    with pytest.raises(BadRequest) as err:
        store.insert(db, new(uid(6), unique=True, mrn="U"))
    assert err.value.message == "bad request: mrn must be unique"
    assert store.find(db, C, uid(6)) is None


def test_05_update_to_a_taken_unique_mrn(db):
    store.insert(db, new(uid(1), unique=True, mrn="A"))
    store.insert(db, new(uid(2), unique=True, mrn="B"))
    with pytest.raises(BadRequest):
        store.update(db, C, uid(2), {"mrn": "A"})
    assert store.update(db, C, uid(2), {"mrn": "C"})["mrn"] == "C"


def test_06_07_create_again_with_and_without_legacy_clinician(services, db):
    db.clinics.insert_one({"_id": C, "name": "C"})
    domain.create_patient_from_user(services, C, uid(1), {"view": {}}, fullName="P")
    doc = domain.create_patient_from_user(services, C, uid(1), {"view": {}}, legacyClinicianId="7777777777")
    assert doc["legacyClinicianIds"] == ["7777777777"]
    with pytest.raises(Duplicate) as err:
        domain.create_patient_from_user(services, C, uid(1), {"view": {}})
    assert err.value.message == "duplicate: patient is already a member of the clinic"


@pytest.mark.parametrize("extra", [{"diagnosisType": "lada"}, {"glycemicRanges": {"type": "preset",
                                                                                  "preset": "adaHighRisk"}},
                                   {"glycemicRanges": {"type": "custom", "custom": {"name": "c", "thresholds": [
                                       {"name": "t", "upperBound": {"value": 70.0, "units": "mg/dL"},
                                        "inclusive": True}]}}}])
def test_08_ranges_and_diagnosis_round_trip(db, extra):
    store.insert(db, new(uid(1), **extra))
    stored = store.get(db, C, uid(1))
    assert {k: stored[k] for k in extra} == extra


def test_09_get_and_10_clinic_ids(db, ten):
    assert store.get(db, C, uid(4))["email"] == "p4@x.org"
    with pytest.raises(NotFound):
        store.get(db, C, uid(3))
    insert_patient(db, K, uid(4))
    insert_patient(db, K, uid(5))
    assert sorted(store.clinic_ids_of_user(db, uid(4))) == sorted([C, K])


def test_11_12_update_sets_the_given_fields(db):
    store.insert(db, new(uid(1)))
    site = {"id": ObjectId(), "name": "New York"}
    changes = {"birthDate": "2001-01-01", "email": "n@x.org", "fullName": "N", "mrn": "N1", "tags": [],
               "targetDevices": ["z"], "permissions": {"upload": {}}, "sites": [site], "diagnosisType": "other",
               "dataSources": [{"providerName": "abbott", "state": "connected"}],
               "ehrSubscriptions": {"s": {"active": False}}}
    doc = store.update(db, C, uid(1), changes)
    assert {k: doc[k] for k in changes} == changes and doc["clinicId"] == C and doc["userId"] == uid(1)
    assert store.get(db, C, uid(1)) == doc and doc["updatedTime"] > T0


def test_13_update_email_for_user(db):
    insert_patient(db, C, uid(1), email="a@x.org")
    insert_patient(db, K, uid(1), email="a@x.org")
    store.set_email_for_user(db, uid(1), "e@x.org")
    assert [d["email"] for d in db.patients.find()] == ["e@x.org", "e@x.org"]
    store.set_email_for_user(db, uid(1), None)
    assert all("email" not in d for d in db.patients.find())


def test_14_remove_archives(db):
    insert_patient(db, C, uid(1))
    doc = store.remove(db, C, uid(1), None)
    assert store.find(db, C, uid(1)) is None
    archive = db.patient_deletions.find_one()
    assert archive["patient"] == doc and "deletedByUserId" not in archive
    with pytest.raises(NotFound):
        store.remove(db, C, uid(1), None)


def test_18_19_20_clinic_tags(db):
    tag = ObjectId()
    for n in range(10):
        insert_patient(db, K, uid(n), tags=[tag])
    store.remove_tag(db, K, tag, [uid(0), uid(1)])
    assert db.patients.count_documents({"tags": tag}) == 8
    store.remove_tag(db, K, tag, None)
    assert db.patients.count_documents({"tags": tag}) == 0
    store.assign_tag(db, K, tag, [uid(0), uid(1)])
    assert db.patients.count_documents({"tags": tag}) == 2
    store.assign_tag(db, K, tag, None)
    assert db.patients.count_documents({"tags": tag}) == 10


def run(services, **kw):
    docs, count = patient_queries.run(services.store, patient_queries.PatientQuery(**kw))
    return [d["userId"] for d in docs], count


def test_24_limits_and_offsets(services, ten):
    assert len(run(services, limit=10)[0]) == 10 and len(run(services, limit=2)[0]) == 2
    assert run(services, offset=1, limit=2)[0][0] == run(services, limit=3)[0][1]


def test_25_filters(services, ten):
    assert run(services, user_id=uid(3))[0] == [uid(3)]
    assert run(services, mrn="MRN3")[0] == [uid(3)]
    assert run(services, mrn="mrn3")[0] == [uid(3)]  # the collation: case-insensitive equality
    assert run(services, search="Name3 Last")[0] == [uid(3)]
    assert run(services, clinic_id=C)[1] == 5
    other = ten[1]["clinicId"]
    assert sorted(run(services, clinic_ids=[C, other])[0]) == [uid(0), uid(1), uid(2), uid(4), uid(6), uid(8)]
    assert run(services, clinic_ids=[])[0] == []


def test_26_27_internal_mrn_and_subscription_filters(services, db):
    insert_patient(db, K, uid(1), mrn=None)
    insert_patient(db, K, uid(2), mrn="")
    db.patients.update_one({"userId": uid(2)}, {"$unset": {"ehrSubscriptions": ""}})
    doc = insert_patient(db, K, uid(3), mrn="X", ehrSubscriptions={"a": {"active": True}})
    db.patients.update_one({"_id": doc["_id"]}, {"$set": {"note": 1}})
    insert_patient(db, K, uid(4), ehrSubscriptions={})
    db.patients.update_one({"userId": uid(1)}, {"$unset": {"mrn": ""}})
    assert run(services, clinic_id=K, has_mrn=False)[0] == [uid(1), uid(2), uid(4)]
    assert run(services, clinic_id=K, has_mrn=True)[0] == [uid(3)]
    assert run(services, clinic_id=K, has_subscription=False)[0] == [uid(1), uid(2), uid(4)]
    assert run(services, clinic_id=K, has_subscription=True)[0] == [uid(3)]


def test_28_29_30_tags_and_sites(services, db, ten):
    a, b = ten[0]["tags"][0], ObjectId()
    db.patients.update_one({"userId": uid(0)}, {"$push": {"tags": b}})
    db.patients.update_one({"userId": uid(2)}, {"$set": {"tags": [b]}})
    assert run(services, tags=[str(a), str(b)])[0] == [uid(0)]
    assert run(services, tags=[str(a)])[0] == [uid(0)]
    db.patients.update_one({"userId": uid(4)}, {"$set": {"tags": []}})
    assert run(services, tags=[""])[0] == [uid(4)]
    site = ObjectId()
    assert run(services, sites=[str(site)])[0] == []
    db.patients.update_one({"userId": uid(6)}, {"$set": {"sites": [{"id": site, "name": "S"}]}})
    assert run(services, sites=[str(site)])[0] == [uid(6)]
    assert run(services, sites=[str(site), str(ObjectId())])[0] == [uid(6)]
    assert len(run(services, sites=[""])[0]) == 9


def test_31_search_by_mrn_first_name_email(services, ten):
    for term in ("mrn4", "Name4", "p4@x.org"):
        assert uid(4) in run(services, clinic_id=C, search=term)[0]


def test_34_35_36_reviews(db):
    insert_patient(db, C, uid(1))
    for n, when in enumerate([T0, T1, T1.replace(hour=5)], 1):
        doc = store.push_review(db, C, uid(1), {"clinicianId": "X", "time": when})
        assert len(doc["reviews"]) == min(n, 2) and doc["reviews"][0]["time"] == when
    assert store.pop_review_of(db, C, uid(1), "nobody") is None
    assert store.pop_review_of(db, C, uid(1), "X")["reviews"] == [{"clinicianId": "X", "time": T1}]


def test_32_33_permissions(db):
    insert_patient(db, C, uid(1))
    perms = {"custodian": {}, "view": {}, "upload": {}, "note": {}}
    assert store.set_permissions(db, C, uid(1), perms)["permissions"] == perms
    assert "view" not in store.unset_permission(db, C, uid(1), "view")["permissions"]
    assert store.unset_permission(db, C, uid(1), "view") is None


def test_45_47_48_service_permissions(services, db):
    db.clinics.insert_one({"_id": C, "name": "C"})
    insert_patient(db, C, uid(1), permissions={"view": {}, "upload": {}})
    assert domain.update_permissions(services, str(C), uid(1), {"upload": {}}) == {"upload": {}}
    assert domain.update_permissions(services, str(C), uid(1), {"custodian": {}}) is None
    assert store.find(db, C, uid(1)) is None
    insert_patient(db, C, uid(2), permissions={"view": {}, "note": {}})
    domain.delete_permission(services, str(C), uid(2), "note")
    assert store.get(db, C, uid(2))["permissions"] == {"view": {}}
    domain.delete_permission(services, str(C), uid(2), "view")
    assert store.find(db, C, uid(2)) is None


def test_52_profile_does_not_replace_given_values(services, db):
    db.clinics.insert_one({"_id": C, "name": "C"})
    db.users.insert_one({"_id": uid(1), "username": "u@x.org",
                         "profile": {"fullName": "Prof", "patient": {"birthday": "1950-01-01", "mrn": "PM"}}})
    doc = domain.create_patient_from_user(services, C, uid(1), None, fullName="Given", birthDate="2000-02-02",
                                          mrn="GM")
    assert (doc["fullName"], doc["birthDate"], doc["mrn"], doc["email"]) == ("Given", "2000-02-02", "GM", "u@x.org")
