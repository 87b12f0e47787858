"""Clinician invites, the invitee's side: ListClinicianInvites, AcceptClinicianInvite,
DismissClinicianInvite (invites.md §2.7-§2.9, §1.6, scenarios D12-D18), and the atomic accept."""
import threading

import pytest
from bson import ObjectId

from clinic_api.auth.principal import Principal
from clinic_api.domain import invites as domain
from conftest import ADMIN_ID, MEMBER_ID
from membership_support import (ALREADY_MEMBER, TIME, add_clinician, admins_of, record, snapshot)
from support.access import assert_denied, assert_token_required

INVITEE = "5678901234"
NO_MATCH = {"message": "No matching invite was found"}


@pytest.fixture
def invitee(as_user):
    return as_user(INVITEE, email="new@x.org", name="Nina New")


def send(admin, clinic, email="New@X.org", roles=("CLINIC_MEMBER",)):
    resp = admin.post(f"/v1/clinics/{clinic['id']}/invites/clinicians", json={"email": email, "roles": list(roles)})
    assert resp.status_code == 200, resp.text
    return resp.json()["inviteId"]


def mine(key=""):
    return f"/v1/clinicians/{INVITEE}/invites" + (f"/{key}" if key else "")


def restrict(server, clinic, restrictions):
    resp = server.put(f"/v1/clinics/{clinic['id']}/membership_restrictions", json={"restrictions": restrictions})
    assert resp.status_code == 200, resp.text


# --- ListClinicianInvites -------------------------------------------------------------------

def test_listing_claims_invites_sent_before_signing_up(admin, clinic, invitee, db):
    # D12
    key = send(admin, clinic)
    assert db.confirmations.find_one({"_id": key})["userId"] == ""
    resp = invitee.get(mine())
    assert resp.status_code == 200
    [item] = resp.json()
    assert db.confirmations.find_one({"_id": key})["userId"] == INVITEE
    assert item["key"] == key and item["restrictions"] == {"canAccept": True}
    assert item["creator"]["userid"] == ADMIN_ID and item["creator"]["profile"]["fullName"] == "Ada Admin"
    assert item["creator"]["clinicName"] == "Todd's Clinic" and TIME.match(item["created"])


def test_listing_newest_first_and_only_pending(admin, other_admin, clinic, invitee, db):
    first = send(admin, clinic)
    other = other_admin.get("/v1/clinicians/3456789012/clinics").json()[0]["clinic"]
    second = send(other_admin, other, email="new@X.ORG")
    db.confirmations.update_one({"_id": first}, {"$set": {"created": db.confirmations.find_one(
        {"_id": second})["created"].replace(year=2020)}})
    assert [i["key"] for i in invitee.get(mine()).json()] == [second, first]
    db.confirmations.update_one({"_id": second}, {"$set": {"status": "declined"}})
    assert [i["key"] for i in invitee.get(mine()).json()] == [first]


def test_listing_nothing_is_404_and_others_are_denied(invitee, plain_user, server, anonymous):
    # D13
    resp = invitee.get(mine())
    assert resp.status_code == 404 and resp.json() == {"message": "Nothing found"}
    for api in (plain_user, server):
        assert_denied(api, "GET", mine())
    assert_token_required(anonymous, "GET", mine())


def test_listing_leaves_out_invites_of_deleted_clinics(admin, clinic, invitee, db):
    key = send(admin, clinic)
    db.confirmations.update_one({"_id": key}, {"$set": {"clinicId": "f" * 24}})
    resp = invitee.get(mine())
    assert (resp.status_code, resp.json()) == (404, {"message": "Nothing found"})


@pytest.mark.parametrize("username, idp, restrictions, expected", [
    ("u@acme.org", "", [{"emailDomain": "acme.org", "requiredIdp": "acme-sso"}],
     {"canAccept": False, "requiredIdp": "acme-sso"}),
    ("u@acme.org", "ACME-SSO", [{"emailDomain": "acme.org", "requiredIdp": "acme-sso"}], {"canAccept": True}),
    ("u@other.org", "", [{"emailDomain": "acme.org", "requiredIdp": "acme-sso"}], {"canAccept": False}),
    ("U@ACME.ORG", "", [{"emailDomain": "acme.org"}], {"canAccept": True}),
    ("u@acme.org", "", [{"emailDomain": "other.org"}, {"emailDomain": "acme.org", "requiredIdp": "x"},
                        {"emailDomain": "acme.org"}], {"canAccept": False, "requiredIdp": "x"}),
    ("u@acme.org", "", [], {"canAccept": True}),
])
def test_membership_restrictions(username, idp, restrictions, expected):
    # D14 and §1.6: the first matching domain decides
    assert domain.restrictions_for({"membershipRestrictions": restrictions}, username, idp) == expected


def test_listing_reports_restrictions(admin, server, clinic, as_user):
    restrict(server, clinic, [{"emailDomain": "acme.org", "requiredIdp": "acme-sso"}])
    send(admin, clinic, email="u@acme.org")
    plain = as_user(INVITEE, email="u@acme.org").get(mine()).json()
    assert plain[0]["restrictions"] == {"canAccept": False, "requiredIdp": "acme-sso"}
    sso = as_user(INVITEE, email="u@acme.org", idp="ACME-SSO").get(mine()).json()
    assert sso[0]["restrictions"] == {"canAccept": True}


# --- AcceptClinicianInvite ------------------------------------------------------------------

def test_accept(admin, clinic, invitee, db):
    # D15
    key = send(admin, clinic, roles=("CLINIC_ADMIN",))
    invitee.get(mine())
    resp = invitee.put(mine(key))
    assert resp.status_code == 200
    body = resp.json()
    assert list(body) == ["createdTime", "email", "id", "name", "roles", "updatedTime"]
    assert body["id"] == INVITEE and body["name"] == "Nina New" and body["email"] == "new@x.org"
    doc = record(db, clinic["id"], INVITEE)
    assert "inviteId" not in doc and doc["roles"] == ["CLINIC_ADMIN"]
    assert db.confirmations.find_one({"_id": key})["status"] == "completed"
    assert admins_of(db, clinic["id"]) == [ADMIN_ID, INVITEE]


def test_accept_refused_by_restrictions_changes_nothing(admin, server, clinic, as_user, db):
    # D16
    restrict(server, clinic, [{"emailDomain": "acme.org", "requiredIdp": "acme-sso"}])
    key = send(admin, clinic, email="u@acme.org")
    user = as_user(INVITEE, email="u@acme.org")
    user.get(mine())
    before = snapshot(db, "clinicians", "confirmations", "clinics")
    resp = user.put(mine(key))
    assert resp.status_code == 403 and resp.json() == {"message": "Error accepting invitation"}
    assert snapshot(db, "clinicians", "confirmations", "clinics") == before


def test_server_tokens_cannot_accept_or_dismiss(admin, server, clinic):
    # D17
    key = send(admin, clinic)
    for method in ("PUT", "DELETE"):
        assert_denied(server, method, mine(key))


def test_accept_needs_an_invite_linked_to_the_user(admin, clinic, invitee, db):
    # not yet claimed (never listed), unknown, or already accepted: the invite service crashes,
    # we answer 404
    key = send(admin, clinic)
    resp = invitee.put(mine(key))
    assert resp.status_code == 404 and resp.json() == NO_MATCH
    assert invitee.put(mine("x" * 32)).json() == NO_MATCH
    invitee.get(mine())
    assert invitee.put(mine(key)).status_code == 200
    again = invitee.put(mine(key))
    assert again.status_code == 404 and again.json() == NO_MATCH
    assert db.clinicians.count_documents({"userId": INVITEE}) == 1


def test_accept_into_a_clinic_already_joined_is_409_and_nothing_changes(admin, clinic, db, as_user):
    key = send(admin, clinic, email="second@member.org")
    db.confirmations.update_one({"_id": key}, {"$set": {"userId": MEMBER_ID}})
    add_clinician(db, clinic["id"], MEMBER_ID, ["CLINIC_MEMBER"], email="member@example.com")
    before = snapshot(db, "clinicians", "confirmations", "clinics")
    resp = as_user(MEMBER_ID, email="member@example.com").put(f"/v1/clinicians/{MEMBER_ID}/invites/{key}")
    assert resp.status_code == 409 and resp.json() == ALREADY_MEMBER
    assert snapshot(db, "clinicians", "confirmations", "clinics") == before


def test_accept_to_a_deleted_clinic_is_404(admin, clinic, invitee, db):
    key = send(admin, clinic)
    invitee.get(mine())
    db.confirmations.update_one({"_id": key}, {"$set": {"clinicId": "f" * 24}})
    resp = invitee.put(mine(key))
    assert resp.status_code == 404 and resp.json() == {"message": "clinic not found"}


def test_concurrent_accepts_make_exactly_one_membership(admin, clinic, db, services):
    key = send(admin, clinic, roles=("CLINIC_ADMIN",))
    db.confirmations.update_one({"_id": key}, {"$set": {"userId": INVITEE}})
    principal = Principal(user_id=INVITEE, email="new@x.org")
    outcomes, barrier = [], threading.Barrier(8)

    def accept():
        barrier.wait()
        try:
            domain.accept_clinician_invite(services, principal, INVITEE, key)
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001 - the losers' errors are the point
            outcomes.append(getattr(exc, "message", repr(exc)))

    threads = [threading.Thread(target=accept) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} == {"No matching invite was found"}
    assert db.clinicians.count_documents({"clinicId": ObjectId(clinic["id"]), "userId": INVITEE}) == 1
    assert admins_of(db, clinic["id"]).count(INVITEE) == 1


# --- DismissClinicianInvite -----------------------------------------------------------------

def test_dismiss_is_idempotent(admin, clinic, invitee, db):
    # D18
    key = send(admin, clinic)
    invitee.get(mine())
    resp = invitee.delete(mine(key))
    assert resp.status_code == 200 and resp.text == "OK"
    assert db.clinicians.find_one({"inviteId": key}) is None
    conf = db.confirmations.find_one({"_id": key})
    assert conf["status"] == "declined" and conf["modified"].year > 1
    before = snapshot(db, "clinicians", "confirmations")
    assert invitee.delete(mine(key)).text == "OK"
    assert invitee.delete(mine("y" * 32)).text == "OK"
    assert snapshot(db, "clinicians", "confirmations") == before


def test_dismiss_of_an_invite_not_linked_to_the_user_changes_nothing(admin, clinic, invitee, db):
    key = send(admin, clinic)
    before = snapshot(db, "clinicians", "confirmations")
    assert invitee.delete(mine(key)).text == "OK"
    assert snapshot(db, "clinicians", "confirmations") == before


def test_invitee_side_authorization(plain_user, anonymous, admin, clinic):
    key = send(admin, clinic)
    for method in ("PUT", "DELETE"):
        assert_denied(plain_user, method, mine(key))
        assert_denied(admin, method, mine(key))
        assert_token_required(anonymous, method, mine(key))
