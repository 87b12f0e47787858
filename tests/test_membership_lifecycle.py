"""The whole membership life cycle of a clinic, through the API only: invite by email, sign in,
accept, promotion, the old admin leaves, the last admin stays; and the mail it produced."""
from conftest import ADMIN_ID, CLINIC_BODY
from membership_support import NEEDS_ADMIN, snapshot

INVITEE = "5678901234"


def test_membership_life_cycle(admin, as_user, db):
    clinic = admin.post("/v1/clinics", json=CLINIC_BODY).json()
    members_url = f"/v1/clinics/{clinic['id']}/clinicians"

    # the admin invites someone who has no account yet
    sent = admin.post(f"/v1/clinics/{clinic['id']}/invites/clinicians",
                      json={"email": "Nina@Example.org", "roles": ["CLINIC_MEMBER", "PRESCRIBER"]})
    assert sent.status_code == 200
    key = sent.json()["inviteId"]
    pending = admin.get(members_url).json()
    assert sorted(c.get("inviteId") or c["id"] for c in pending) == sorted([key, ADMIN_ID])

    # the invitee signs in with that email, lists and accepts
    nina = as_user(INVITEE, email="nina@example.org", name="Nina New")
    listed = nina.get(f"/v1/clinicians/{INVITEE}/invites")
    assert listed.status_code == 200
    assert [(i["key"], i["restrictions"]) for i in listed.json()] == [(key, {"canAccept": True})]
    accepted = nina.put(f"/v1/clinicians/{INVITEE}/invites/{key}")
    assert accepted.status_code == 200
    assert nina.get(f"/v1/clinicians/{INVITEE}/invites").status_code == 404  # nothing pending any more

    # she is a member with the invited roles, and can see the clinic
    members = {c["id"]: c for c in admin.get(members_url).json()}
    assert set(members) == {ADMIN_ID, INVITEE}
    assert members[INVITEE]["roles"] == ["CLINIC_MEMBER", "PRESCRIBER"] and members[INVITEE]["name"] == "Nina New"
    assert [r["clinic"]["id"] for r in nina.get(f"/v1/clinicians/{INVITEE}/clinics").json()] == [clinic["id"]]
    assert nina.get(members_url).status_code == 200

    # the admin promotes her, then leaves
    promoted = admin.put(f"{members_url}/{INVITEE}", json={"email": "nina@example.org", "roles": ["CLINIC_ADMIN"],
                                                           "name": "Nina New"})
    assert promoted.status_code == 200 and promoted.json()["roles"] == ["CLINIC_ADMIN"]
    assert admin.delete(f"{members_url}/{ADMIN_ID}").status_code == 200
    assert admin.get(members_url).status_code == 403  # no longer a member
    assert [c["id"] for c in nina.get(members_url).json()] == [INVITEE]

    # the last admin can neither leave nor be demoted, and nothing changes when they try
    before = snapshot(db, "clinicians", "clinics", "confirmations", "outbox", "clinician_deletions")
    left = nina.delete(f"{members_url}/{INVITEE}")
    assert left.status_code == 422 and left.json() == NEEDS_ADMIN
    demoted = nina.put(f"{members_url}/{INVITEE}", json={"email": "nina@example.org", "roles": ["CLINIC_MEMBER"]})
    assert demoted.status_code == 422 and demoted.json() == NEEDS_ADMIN
    assert snapshot(db, "clinicians", "clinics", "confirmations", "outbox", "clinician_deletions") == before

    # exactly the expected mail: the clinic's creation, the invitation, the promotion
    mail = [(m["template"], m["recipient"], m["variables"]) for m in db.outbox.find().sort("_id", 1)]
    assert mail == [
        ("clinic_created", "admin@example.com", {"ClinicName": "Todd's Clinic"}),
        ("clinician_invitation", "Nina@Example.org",
         {"ClinicName": "Todd's Clinic", "CreatorName": "Ada Admin", "Email": "Nina@Example.org",
          "WebPath": "signup/clinician", "WebURL": "http://localhost:3000"}),
        ("clinician_permissions_updated", "nina@example.org",
         {"ClinicName": "Todd's Clinic", "ClinicianName": "Ada Admin"}),
    ]
    assert db.clinics.find_one()["admins"] == [INVITEE]
    assert db.confirmations.find_one({"_id": key})["status"] == "completed"
