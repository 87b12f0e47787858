"""Patient invites of a clinic: GetPatientInvites and AcceptPatientInvitation (invites.md §2.5-§2.6,
scenarios D19-D23): the sharing patient becomes a clinic patient, atomically and once."""
import datetime as dt
import threading

import pytest
from bson import ObjectId

from clinic_api.domain import invites as domain
from clinic_api.store import invites as store
from membership_support import add_clinician, snapshot
from support.access import assert_denied, assert_token_required
from support.paths import patient_invites_url as url

PATIENT = "abcdef0123"
CREATED = dt.datetime(2024, 5, 1, 10, 20, 30, tzinfo=dt.timezone.utc)
FORBIDDEN = {"message": "Forbidden to perform requested operation"}
NO_MATCH = {"message": "No matching invite was found"}


@pytest.fixture
def patient(as_user):
    api = as_user(PATIENT, email="Pat@Example.org", name="Pat Patient")
    api.get(f"/v1/patients/{PATIENT}/clinics")  # signs in once: the service now knows the user
    return api


def share(db, clinic, key="s" * 32, permissions=None, status="pending", type_="careteam_invitation"):
    doc = store.new_patient_invite(key, clinic_id=clinic["id"], patient_id=PATIENT, created=CREATED,
                                   permissions=permissions or {"view": {}, "upload": {}, "note": {}, "custodian": {}})
    doc.update(status=status, type=type_)
    store.save(db, doc)
    return key


# --- GetPatientInvites ----------------------------------------------------------------------

def test_pending_patient_invites(member, clinic, patient, db):
    # D19 and the listing shape
    assert member.get(url(clinic)).json() == []
    share(db, clinic)
    share(db, clinic, key="t" * 32, status="completed")
    resp = member.get(url(clinic))
    assert resp.status_code == 200
    [item] = resp.json()
    assert item["key"] == "s" * 32 and item["email"] == "" and item["creatorId"] == PATIENT
    assert item["context"] == {"view": {}, "upload": {}, "note": {}, "custodian": {}}
    assert item["creator"]["userid"] == PATIENT and item["creator"]["profile"]["fullName"] == "Pat Patient"
    assert item["expiresAt"] == "2024-05-08T10:20:30Z" and item["restrictions"] is None


def test_patient_invites_authorization(server, admin, other_admin, plain_user, anonymous, clinic, db, as_user):
    add_clinician(db, clinic["id"], "7777777777", [], email="no-roles@x.org")
    for api in (server, admin, as_user("7777777777")):  # any clinician record will do
        assert api.get(url(clinic)).status_code == 200
    for api in (other_admin, plain_user):
        assert_denied(api, "GET", url(clinic))
    assert_token_required(anonymous, "GET", url(clinic))


# --- AcceptPatientInvitation ----------------------------------------------------------------

def test_accept_creates_the_patient_with_offered_permissions(member, clinic, patient, db):
    # D20
    key = share(db, clinic)
    resp = member.put(url(clinic, key))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["id"] == PATIENT and body["permissions"] == {"note": {}, "upload": {}, "view": {}}
    assert body["fullName"] == "Pat Patient" and body["email"] == "pat@example.org"
    doc = db.patients.find_one({"clinicId": ObjectId(clinic["id"]), "userId": PATIENT})
    assert doc["permissions"] == {"view": {}, "upload": {}, "note": {}}
    assert db.confirmations.find_one({"_id": key})["status"] == "completed"


def test_accept_passes_the_body_fields(admin, clinic, patient, db):
    key = share(db, clinic)
    resp = admin.put(url(clinic, key), json={"fullName": "Patricia P", "mrn": "MRN-1", "birthDate": "2001-02-03",
                                              "glycemicRanges": {"type": "preset", "preset": "adaStandard"}})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["fullName"], body["mrn"], body["birthDate"]) == ("Patricia P", "MRN-1", "2001-02-03")
    assert "glycemicRanges" not in body  # not passed on, as the invite service


def test_mrn_required(member, server, clinic, patient, db):
    # D21
    assert server.put(f"/v1/clinics/{clinic['id']}/settings/mrn", json={"required": True,
                                                                        "unique": False}).status_code == 200
    key = share(db, clinic)
    before = snapshot(db, "patients", "confirmations")
    resp = member.put(url(clinic, key), json={"mrn": "  "})
    assert resp.status_code == 400 and resp.json() == {"message": "Error creating patient because MRN is required"}
    assert member.put(url(clinic, key)).status_code == 400
    assert snapshot(db, "patients", "confirmations") == before
    assert member.put(url(clinic, key), json={"mrn": "A1"}).status_code == 200


@pytest.mark.parametrize("status, type_", [("declined", "careteam_invitation"), ("completed", "careteam_invitation"),
                                           ("pending", "clinician_invitation")])
def test_accept_of_a_non_pending_or_other_invite_is_403(member, clinic, patient, db, status, type_):
    # D22
    key = share(db, clinic, status=status, type_=type_)
    before = snapshot(db, "patients", "confirmations")
    resp = member.put(url(clinic, key))
    assert resp.status_code == 403 and resp.json() == FORBIDDEN
    assert snapshot(db, "patients", "confirmations") == before


def test_accept_of_an_unknown_invite_is_404(member, other_admin, clinic, patient, db):
    resp = member.put(url(clinic, "u" * 32))
    assert resp.status_code == 404 and resp.json() == NO_MATCH
    other = other_admin.get("/v1/clinicians/3456789012/clinics").json()[0]["clinic"]
    key = share(db, other)
    assert member.put(url(clinic, key)).json() == NO_MATCH  # an invite to another clinic


def test_accept_when_already_a_patient_returns_the_patient_unchanged(member, clinic, patient, db):
    # D23
    first = share(db, clinic, permissions={"view": {}})
    assert member.put(url(clinic, first)).status_code == 200
    second = share(db, clinic, key="v" * 32, permissions={"view": {}, "upload": {}})
    resp = member.put(url(clinic, second))
    assert resp.status_code == 200 and resp.json()["permissions"] == {"view": {}}
    assert db.confirmations.find_one({"_id": second})["status"] == "completed"
    assert db.patients.count_documents({"userId": PATIENT}) == 1


def test_repeated_and_concurrent_accepts_make_one_patient(member, clinic, patient, db, services):
    key = share(db, clinic)
    outcomes, barrier = [], threading.Barrier(6)

    def accept():
        barrier.wait()
        try:
            domain.accept_patient_invitation(services, clinic["id"], key, None)
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001
            outcomes.append(getattr(exc, "message", repr(exc)))

    threads = [threading.Thread(target=accept) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1 and set(outcomes) - {"ok"} == {FORBIDDEN["message"]}
    assert db.patients.count_documents({"clinicId": ObjectId(clinic["id"]), "userId": PATIENT}) == 1
    assert member.put(url(clinic, key)).json() == FORBIDDEN


def test_accept_authorization(other_admin, plain_user, anonymous, patient, clinic, db):
    key = share(db, clinic)
    for api in (other_admin, plain_user, patient):
        assert_denied(api, "PUT", url(clinic, key))
    assert_token_required(anonymous, "PUT", url(clinic, key))
    assert db.patients.count_documents({}) <= 1  # at most the clinic's demo patient
