"""Who may call each clinics-family operation: the policy table's rows for these operations,
played through the whole app for every caller class. Denial wins over bad input."""
import pytest
from clinic_helpers import EHR_BODY, MISSING_TOKEN, NOT_AUTHORIZED, comparable
from conftest import CLINIC_BODY

S, A, M, OA, P = "server", "admin", "member", "other_admin", "plain_user"
CALLERS = [S, A, M, OA, P, "anonymous"]
USERS = {A, M, OA, P}

# operationId: (method, url, good body, success status, callers allowed, a bad body)
OPERATIONS = {
    "ListClinics": ("GET", "/v1/clinics", None, 200, {S}, None),
    "CreateClinic": ("POST", "/v1/clinics", CLINIC_BODY, 200, USERS, {"name": 5}),
    "GetClinic": ("GET", "/v1/clinics/{id}", None, 200, {S} | USERS, None),
    "GetClinicByShareCode": ("GET", "/v1/clinics/share_code/{code}", None, 200, {S} | USERS, None),
    "UpdateClinic": ("PUT", "/v1/clinics/{id}", CLINIC_BODY, 200, {S, A}, {"name": 5}),
    "DeleteClinic": ("DELETE", "/v1/clinics/{id}", None, 204, {S, A}, None),
    "UpdateTier": ("POST", "/v1/clinics/{id}/tier", {"tier": "tier0200"}, 200, {S}, {"tier": "gold"}),
    "UpdateSuppressedNotifications": ("POST", "/v1/clinics/{id}/suppressed_notifications",
                                      {"suppressedNotifications": {"patientClinicInvitation": True}}, 200, {A},
                                      {"suppressedNotifications": {"x": 1}}),
    "ListMembershipRestrictions": ("GET", "/v1/clinics/{id}/membership_restrictions", None, 200, {S, A}, None),
    "UpdateMembershipRestrictions": ("PUT", "/v1/clinics/{id}/membership_restrictions",
                                     {"restrictions": [{"emailDomain": "example.com"}]}, 200, {S},
                                     {"restrictions": "x"}),
    "GetEHRSettings": ("GET", "/v1/clinics/{id}/settings/ehr", None, 200, {S, A, M}, None),
    "UpdateEHRSettings": ("PUT", "/v1/clinics/{id}/settings/ehr", EHR_BODY, 200, {S}, {"provider": "epic"}),
    "GetMRNSettings": ("GET", "/v1/clinics/{id}/settings/mrn", None, 200, {S, A, M}, None),
    "UpdateMRNSettings": ("PUT", "/v1/clinics/{id}/settings/mrn", {"required": True, "unique": True}, 200, {S},
                          {"required": "x"}),
    "GetPatientCountSettings": ("GET", "/v1/clinics/{id}/settings/patient_count", None, 200, {S, A, M}, None),
    "UpdatePatientCountSettings": ("PUT", "/v1/clinics/{id}/settings/patient_count", {"hardLimit": {"plan": 9}}, 200,
                                   {S}, {"hardLimit": {"plan": -1}}),
}


@pytest.fixture
def world(db, clinic, member, other_admin):
    """The clinic of `admin` with a member and EHR/MRN settings, and another clinic with its admin."""
    db.clinics.update_one({"shareCodes": clinic["shareCode"]},
                          {"$set": {"ehrSettings": {"enabled": True, "provider": "xealth", "sourceId": "s",
                                                    "mrnIdType": "MRN", "procedureCodes": {},
                                                    "scheduledReports": {"cadence": "14d", "onUploadEnabled": False},
                                                    "tags": {"codes": None}, "flowsheets": {}, "notes": {}},
                                    "mrnSettings": {"required": False, "unique": False}}})
    return clinic


def snapshot(db):
    return [comparable(d) for name in ("clinics", "clinicians") for d in db[name].find({}).sort("_id", 1)]


def call(api, op, clinic, body=..., url=None):
    method, template, good, *_ = OPERATIONS[op]
    url = url or template.format(id=clinic["id"], code=clinic["shareCode"])
    return api.request(method, url, json=good if body is ... else body)


def test_every_clinics_family_operation_is_covered():
    from clinic_api.auth import policy

    assert set(OPERATIONS) <= set(policy.RULES)
    assert len(OPERATIONS) == 16


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("op", list(OPERATIONS))
def test_policy(request, db, world, op, caller):
    _, _, _, ok, allowed, _ = OPERATIONS[op]
    api = request.getfixturevalue(caller)
    before = snapshot(db)
    resp = call(api, op, world)
    if caller == "anonymous":
        assert (resp.status_code, resp.json()) == (400, MISSING_TOKEN)
    elif caller in allowed:
        assert resp.status_code == ok, resp.text
    else:
        assert (resp.status_code, resp.json()) == (403, NOT_AUTHORIZED)
    if caller == "anonymous" or caller not in allowed:
        assert snapshot(db) == before


DENIED_WITH_BAD_BODY = [(op, sorted(set(CALLERS[:5]) - spec[4])[0]) for op, spec in OPERATIONS.items()
                        if spec[5] is not None and set(CALLERS[:5]) - spec[4]]


@pytest.mark.parametrize("op,caller", DENIED_WITH_BAD_BODY)
def test_denial_wins_over_a_bad_body(request, db, world, op, caller):
    api = request.getfixturevalue(caller)
    before = snapshot(db)
    resp = call(api, op, world, body=OPERATIONS[op][5])
    assert (resp.status_code, resp.json()) == (403, NOT_AUTHORIZED)
    assert snapshot(db) == before


@pytest.mark.parametrize("op", [op for op, spec in OPERATIONS.items() if "{id}" in spec[1] and P not in spec[4]])
def test_denial_wins_over_a_malformed_clinic_id(plain_user, world, op):
    url = OPERATIONS[op][1].format(id="not-a-clinic-id")
    resp = call(plain_user, op, world, url=url)
    assert (resp.status_code, resp.json()) == (403, NOT_AUTHORIZED)


def test_denial_wins_over_bad_query_parameters(admin, world):
    resp = admin.get("/v1/clinics?limit=0&createdTimeStart=yesterday")
    assert (resp.status_code, resp.json()) == (403, NOT_AUTHORIZED)


def test_an_admin_of_another_clinic_gets_nothing_of_this_one(other_admin, world):
    for op in ("UpdateClinic", "DeleteClinic", "ListMembershipRestrictions", "GetEHRSettings",
               "UpdateSuppressedNotifications"):
        assert call(other_admin, op, world).status_code == 403, op


def test_a_member_who_becomes_admin_gains_admin_operations(member, world, db):
    assert call(member, "UpdateClinic", world).status_code == 403
    db.clinicians.update_one({"userId": "2345678901"}, {"$set": {"roles": ["CLINIC_ADMIN"]}})
    assert call(member, "UpdateClinic", world).status_code == 200
