"""Clinics: UpdateTier, UpdateSuppressedNotifications, List/UpdateMembershipRestrictions."""
import pytest
from clinic_helpers import (BAD_ID_MESSAGE, CLINIC_NOT_FOUND, UNKNOWN_ID, body_schema_error, comparable, seed_clinic,
                            stored)

# --- UpdateTier ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tier,description", [("tier0100", "Free"), ("tier0200", "Standard"),
                                              ("tier0300", "Premium"), ("tier0400", "Enterprise")])
def test_update_tier(server, clinic, db, tier, description):
    before = stored(db, clinic["id"])
    resp = server.post(f"/v1/clinics/{clinic['id']}/tier", json={"tier": tier})
    assert (resp.status_code, resp.content) == (200, b"")
    assert "content-type" not in resp.headers
    after = stored(db, clinic["id"])
    assert after["tier"] == tier and after["updatedTime"] >= before["updatedTime"]
    body = server.get(f"/v1/clinics/{clinic['id']}").json()
    assert (body["tier"], body["tierDescription"]) == (tier, description)


def test_update_tier_with_an_empty_body_stores_the_default(server, clinic, db):
    server.post(f"/v1/clinics/{clinic['id']}/tier", json={"tier": "tier0300"})
    resp = server.post(f"/v1/clinics/{clinic['id']}/tier")
    assert (resp.status_code, resp.content) == (200, b"")
    assert stored(db, clinic["id"])["tier"] == ""
    body = server.get(f"/v1/clinics/{clinic['id']}").json()
    assert (body["tier"], body["tierDescription"]) == ("tier0100", "Free")


@pytest.mark.parametrize("body,pointer,reason", [
    ({}, "/tier", 'property "tier" is missing'),
    ({"tier": "gold"}, "/tier", "value is not one of the allowed values "
                                "[\"tier0100\",\"tier0200\",\"tier0300\",\"tier0400\"]"),
    ({"tier": 100}, "/tier", "value is not one of the allowed values "
                             "[\"tier0100\",\"tier0200\",\"tier0300\",\"tier0400\"]"),
    ([], "/", "value must be an object"),
])
def test_update_tier_refuses_bad_bodies(server, clinic, db, body, pointer, reason):
    before = comparable(stored(db, clinic["id"]))
    resp = server.post(f"/v1/clinics/{clinic['id']}/tier", json=body)
    assert (resp.status_code, resp.json()) == (400, body_schema_error("UpdateTier", pointer, reason))
    assert comparable(stored(db, clinic["id"])) == before


def test_update_tier_of_unknown_or_malformed_clinic(server, db):
    resp = server.post(f"/v1/clinics/{UNKNOWN_ID}/tier", json={"tier": "tier0200"})
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)
    resp = server.post("/v1/clinics/nope/tier", json={"tier": "tier0200"})
    assert (resp.status_code, resp.json()) == (400, {"message": BAD_ID_MESSAGE})
    assert db.clinics.count_documents({}) == 0


# --- UpdateSuppressedNotifications ---------------------------------------------------------------

@pytest.mark.parametrize("body,stored_value,answered", [
    ({"suppressedNotifications": {"patientClinicInvitation": True}}, {"patientClinicInvitation": True},
     {"patientClinicInvitation": True}),
    ({"suppressedNotifications": {"patientClinicInvitation": False}}, {"patientClinicInvitation": False},
     {"patientClinicInvitation": False}),
    ({"suppressedNotifications": {}}, {}, {}),
    (None, {}, {}),  # empty body
])
def test_update_suppressed_notifications(admin, clinic, db, body, stored_value, answered):
    resp = admin.post(f"/v1/clinics/{clinic['id']}/suppressed_notifications", json=body)
    assert (resp.status_code, resp.content) == (200, b"")
    assert stored(db, clinic["id"])["suppressedNotifications"] == stored_value
    assert admin.get(f"/v1/clinics/{clinic['id']}").json()["suppressedNotifications"] == answered


def test_suppressed_notifications_replace_the_whole_setting(admin, clinic, db):
    url = f"/v1/clinics/{clinic['id']}/suppressed_notifications"
    admin.post(url, json={"suppressedNotifications": {"patientClinicInvitation": True}})
    admin.post(url, json={"suppressedNotifications": {}})
    assert stored(db, clinic["id"])["suppressedNotifications"] == {}


@pytest.mark.parametrize("body,pointer,reason", [
    ({}, "/suppressedNotifications", 'property "suppressedNotifications" is missing'),
    ({"suppressedNotifications": {"patientClinicInvitation": True, "other": True}}, "/suppressedNotifications",
     'property "other" is unsupported'),
    ({"suppressedNotifications": {"patientClinicInvitation": "yes"}},
     "/suppressedNotifications/patientClinicInvitation", "value must be a boolean"),
    ({"suppressedNotifications": []}, "/suppressedNotifications", "value must be an object"),
])
def test_update_suppressed_notifications_refuses_bad_bodies(admin, clinic, db, body, pointer, reason):
    before = comparable(stored(db, clinic["id"]))
    resp = admin.post(f"/v1/clinics/{clinic['id']}/suppressed_notifications", json=body)
    assert (resp.status_code, resp.json()) == (400, body_schema_error("UpdateSuppressedNotifications", pointer, reason))
    assert comparable(stored(db, clinic["id"])) == before


def test_update_suppressed_notifications_of_a_vanished_clinic(admin, clinic, db):
    # The admin's record outlives the clinic document only if the data were changed around us.
    db.clinics.delete_many({})
    resp = admin.post(f"/v1/clinics/{clinic['id']}/suppressed_notifications",
                      json={"suppressedNotifications": {"patientClinicInvitation": True}})
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)
    assert db.clinics.count_documents({}) == 0


# --- Membership restrictions ---------------------------------------------------------------------

def test_a_new_clinic_has_no_restrictions(admin, server, clinic):
    for caller in (admin, server):
        resp = caller.get(f"/v1/clinics/{clinic['id']}/membership_restrictions")
        assert (resp.status_code, resp.content) == (200, b"{}\n")


def test_update_membership_restrictions_replaces_them_verbatim(server, admin, clinic, db):
    body = {"restrictions": [{"emailDomain": "Example.COM", "requiredIdp": "okta"}, {"emailDomain": "other.org"},
                             {"emailDomain": "other.org", "requiredIdp": ""}, {"emailDomain": "not a hostname!"}]}
    resp = server.put(f"/v1/clinics/{clinic['id']}/membership_restrictions", json=body)
    expected = {"restrictions": [{"emailDomain": "Example.COM", "requiredIdp": "okta"}, {"emailDomain": "other.org"},
                                 {"emailDomain": "other.org"}, {"emailDomain": "not a hostname!"}]}
    assert (resp.status_code, resp.json()) == (200, expected)
    assert stored(db, clinic["id"])["membershipRestrictions"] == expected["restrictions"]
    assert admin.get(f"/v1/clinics/{clinic['id']}/membership_restrictions").json() == expected
    assert list(resp.json()["restrictions"][0]) == ["emailDomain", "requiredIdp"]


@pytest.mark.parametrize("body", [{"restrictions": []}, {}, None])
def test_clearing_restrictions_stores_null(server, clinic, db, body):
    url = f"/v1/clinics/{clinic['id']}/membership_restrictions"
    server.put(url, json={"restrictions": [{"emailDomain": "example.com"}]})
    resp = server.put(url, json=body)
    assert (resp.status_code, resp.json()) == (200, {})
    doc = stored(db, clinic["id"])
    assert "membershipRestrictions" in doc and doc["membershipRestrictions"] is None


def test_stored_restrictions_without_a_domain_read_as_empty_domain(server, db):
    cid = seed_clinic(db, membershipRestrictions=[{"requiredIdp": "okta"}, {}])
    resp = server.get(f"/v1/clinics/{cid}/membership_restrictions")
    assert resp.json() == {"restrictions": [{"emailDomain": "", "requiredIdp": "okta"}, {"emailDomain": ""}]}


@pytest.mark.parametrize("body,pointer,reason", [
    ({"restrictions": [{}]}, "/restrictions/0/emailDomain", 'property "emailDomain" is missing'),
    ({"restrictions": [{"emailDomain": 5}]}, "/restrictions/0/emailDomain", "value must be a string"),
    ({"restrictions": [{"emailDomain": "a.org", "requiredIdp": False}]}, "/restrictions/0/requiredIdp",
     "value must be a string"),
    ({"restrictions": "example.com"}, "/restrictions", "value must be an array"),
])
def test_update_membership_restrictions_refuses_bad_bodies(server, clinic, db, body, pointer, reason):
    before = comparable(stored(db, clinic["id"]))
    resp = server.put(f"/v1/clinics/{clinic['id']}/membership_restrictions", json=body)
    assert (resp.status_code, resp.json()) == (400, body_schema_error("membershipRestrictions.v1", pointer, reason))
    assert comparable(stored(db, clinic["id"])) == before


def test_membership_restrictions_of_unknown_clinic(server, db):
    url = f"/v1/clinics/{UNKNOWN_ID}/membership_restrictions"
    assert (server.get(url).status_code, server.get(url).json()) == (404, CLINIC_NOT_FOUND)
    resp = server.put(url, json={"restrictions": [{"emailDomain": "example.com"}]})
    assert (resp.status_code, resp.json()) == (404, CLINIC_NOT_FOUND)
    resp = server.get("/v1/clinics/x/membership_restrictions")
    assert (resp.status_code, resp.json()) == (400, {"message": BAD_ID_MESSAGE})
