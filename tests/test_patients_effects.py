"""The worker's patient effects performed inline (standalone): custodial profiles, the account-claim
mail, connection-request mails on an e-mail change, releasing a deleted custodial account; and
nothing of it with CLINIC_EFFECTS=external."""
from __future__ import annotations

import dataclasses

from bson import ObjectId

from patients_support import BIXBY, T0, USER_A, create_patient, insert_patient
from clinic_api.domain import patient_care, patients as domain
from support.paths import patients_url as url


def patient_mails(db):
    return db.outbox.count_documents({"template": {"$ne": "clinic_created"}})


def test_custodial_creation_writes_profile_and_one_claim_mail(admin, clinic, db):
    patient = create_patient(admin, clinic["id"], email="kid@x.org", targetDevices=["g6"], diagnosisType="type1")
    profile = db.users.find_one({"_id": patient["id"]})["profile"]
    assert profile == {"fullName": "Timothy Bixby", "patient": {"birthday": "2008-01-06", "mrn": "0000000001",
                                                                "targetDevices": ["g6"], "diagnosisType": "type1",
                                                                "emails": ["kid@x.org"]},
                       "email": "kid@x.org"}
    admin.put(url(clinic, patient["id"]), json={**BIXBY, "fullName": "Tim Bixby", "email": "kid@x.org"})
    assert db.users.find_one({"_id": patient["id"]})["profile"]["fullName"] == "Tim Bixby"
    mails = list(db.outbox.find({"template": "signup_custodial_new_clinic_experience_confirmation"}))
    assert len(mails) == 1 and mails[0]["recipient"] == "kid@x.org"
    assert mails[0]["variables"]["ClinicName"] == "Todd's Clinic" and mails[0]["variables"]["UserId"] == patient["id"]


def test_custodial_without_email_gets_no_claim_mail(admin, clinic, db):
    admin.post(url(clinic), json={"fullName": "No Mail", "birthDate": "2001-01-01"})
    assert patient_mails(db) == 0


def test_removed_email_leaves_the_profile(services, admin, clinic, db):
    patient = create_patient(admin, clinic["id"], email="kid@x.org")
    domain.update_patients_email(services, patient["id"], None)
    profile = db.users.find_one({"_id": patient["id"]})["profile"]
    assert "email" not in profile and "emails" not in profile["patient"]


def test_email_change_resends_connection_requests(member, clinic, db):
    insert_patient(db, clinic["id"], USER_A, email="old@x.org", permissions={"view": {}},
                   dataSources=[{"providerName": "abbott", "state": "pending"}],
                   providerConnectionRequests={"abbott": [{"providerName": "abbott", "createdTime": T0}]})
    member.put(url(clinic, USER_A), json={"fullName": "A", "birthDate": "2000-01-01", "email": "old@x.org"})
    assert patient_mails(db) == 0
    member.put(url(clinic, USER_A), json={"fullName": "A", "birthDate": "2000-01-01", "email": "new@x.org"})
    mail = db.outbox.find_one({"template": "request_abbott_connect"})
    assert mail["recipient"] == "new@x.org" and mail["variables"]["PatientName"] == "A"


def test_deleted_custodial_account_is_released(admin, clinic, db):
    patient = create_patient(admin, clinic["id"], email="kid@x.org")
    other = create_patient(admin, clinic["id"], email="kid2@x.org")
    insert_patient(db, ObjectId(), other["id"])  # still a patient elsewhere: the account stays
    assert admin.delete(url(clinic, patient["id"])).status_code == 204
    assert admin.delete(url(clinic, other["id"])).status_code == 204
    assert db.users.find_one({"_id": patient["id"]}) is None
    assert db.users.find_one({"_id": other["id"]}) is not None


def test_external_effects_do_nothing_here(services, clinic, db):
    external = dataclasses.replace(services, settings=dataclasses.replace(services.settings, effects="external"))
    doc = domain.create_account(external, clinic["id"], {**BIXBY, "email": "kid@x.org"}, None)
    assert db.users.find_one({"_id": doc["userId"]})["profile"] == {}
    insert_patient(db, clinic["id"], USER_A, dataSources=[{"providerName": "dexcom", "state": "pending"}])
    patient_care.send_upload_reminder(external, clinic["id"], USER_A)
    patient_care.connect_provider(external, clinic["id"], USER_A, "dexcom")
    assert patient_mails(db) == 0
    stored = db.patients.find_one({"userId": USER_A})
    assert stored["lastUploadReminderTime"] and len(stored["providerConnectionRequests"]["dexcom"]) == 1
