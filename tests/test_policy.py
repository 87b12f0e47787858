"""The policy table: every operation has a rule, and the reference's own policy cases hold."""
import pytest

from clinic_api import spec
from clinic_api.auth import policy
from clinic_api.auth.principal import Principal

C = "6066fbabc6f484277200ac64"
T = "6066fbabc6f484277200ac65"


def test_every_operation_of_the_spec_has_a_rule():
    ops = set(spec.operations())
    assert len(ops) == 86
    assert ops - set(policy.RULES) == set()
    assert set(policy.RULES) - ops == set()


def decide(principal, method, path, roles):
    routes = [r for r in spec.match(path) if method in r.operations]
    if not routes:
        return False  # no operation: the reference denies (no rule matches)
    route = routes[0]
    params = route.regex.match(path).groupdict()
    clinician = None if roles is None else {"roles": roles}
    req = policy.Request(principal=principal, path_params=params, load_clinician=lambda: clinician)
    return policy.allows(route.operations[method], req)


def user(uid):
    return Principal(user_id=uid)


def server(uid):
    return Principal(user_id=uid, is_server=True)


ADMIN, MEMBER = ["CLINIC_ADMIN"], ["CLINIC_MEMBER"]
CASES = [
    (1, user("1234567890"), "GET", "/v1/clinics", None, False),
    (2, server("hydrophone"), "GET", "/v1/clinics", None, True),
    (3, server("hydrophone"), "GET", f"/v1/clinics/{C}", None, True),
    (4, user("123456"), "GET", f"/v1/clinics/{C}", None, True),
    (5, user("123456"), "GET", "/v1/clinics/share_code/acmeclinic", None, True),
    (6, server("orca"), "GET", "/v1/clinics/share_code/acmeclinic", None, True),
    (7, server("shoreline"), "GET", "/v1/patients/12345/clinics", None, True),
    (8, server("shoreline"), "DELETE", f"/v1/clinics/{C}/patients/12345/permissions/custodian", None, True),
    (9, user("12345"), "DELETE", f"/v1/clinics/{C}/patients/12345/permissions/upload", None, True),
    (10, server("orca"), "PUT", f"/v1/clinics/{C}/clinicians/12345", None, True),
    (11, server("orca"), "DELETE", f"/v1/clinics/{C}/clinicians/12345", None, True),
    (12, user("999999999"), "DELETE", f"/v1/clinics/{C}/patients/12345", ADMIN, True),
    (13, user("999999999"), "POST", f"/v1/clinics/{C}/patients/12345", None, False),
    (14, user("999999999"), "POST", f"/v1/clinics/{C}/patients/999999999", None, False),
    (15, user("999999999"), "POST", f"/v1/clinics/{C}/patients/999999999", ADMIN, False),
    (16, user("999999999"), "POST", f"/v1/clinics/{C}/patients/999999999", MEMBER, False),
    (17, user("999999999"), "POST", f"/v1/clinics/{C}/patients/999999999/permissions", MEMBER, False),
    (18, user("999999999"), "POST", f"/v1/clinics/{C}/patients/999999999/permissions", ADMIN, False),
    (19, user("999999999"), "DELETE", f"/v1/clinics/{C}/patients/12345", MEMBER, False),
    (20, user("12345"), "DELETE", f"/v1/clinics/{C}/patients/12345", None, True),
    (21, user("999999999"), "DELETE", f"/v1/clinics/{C}/patients/12345", None, False),
    (22, user("99999"), "DELETE", f"/v1/clinics/{C}/patients/12345/permissions/upload", None, False),
    (23, server("prescription"), "GET", f"/v1/clinics/{C}/clinicians/1234567890", None, True),
    (24, server("hydrophone"), "GET", f"/v1/clinics/{C}/clinicians", None, True),
    (25, user("1234567890"), "GET", "/v1/clinicians/1234567890/clinics", None, True),
    (26, user("1234567890"), "DELETE", f"/v1/clinics/{C}", ADMIN, True),
    (27, user("1234567890"), "DELETE", f"/v1/clinics/{C}", MEMBER, False),
    (28, user("1234567890"), "PUT", f"/v1/clinics/{C}/patients/99c290f838", ADMIN, True),
    (29, user("1234567890"), "PUT", f"/v1/clinics/{C}/patients/99c290f838", MEMBER, True),
    (30, user("1234567890"), "POST", f"/v1/clinics/{C}/patients", ADMIN, True),
    (31, server("clinic-worker"), "POST", f"/v1/clinics/{C}/patients", None, True),
    (32, user("1234567890"), "POST", f"/v1/clinics/{C}/patients", MEMBER, True),
    (33, user("1234567890"), "DELETE", f"/v1/clinics/{C}/clinicians/1234567890", MEMBER, True),
    (34, user("1234567890"), "DELETE", f"/v1/clinics/{C}/clinicians/99999999", MEMBER, False),
    (35, user("1234567890"), "GET", "/v1/clinicians/123456789/clinics", None, False),
    (36, server("hydrophone"), "PATCH", f"/v1/clinics/{C}/invites/clinicians/gw94dmVOaB4CH/clinician", None, True),
    (37, server("hydrophone"), "GET", f"/v1/clinics/{C}/invites/clinicians/gw94dmVOaB4CH/clinician", None, True),
    (38, server("hydrophone"), "DELETE", f"/v1/clinics/{C}/invites/clinicians/gw94dmVOaB4CH/clinician", None, True),
    (39, server("orca"), "GET", f"/v1/clinics/{C}/migrations/123456789", None, True),
    (40, server("clinic-worker"), "GET", f"/v1/clinics/{C}/migrations/123456789", None, True),
    (41, user("1234567890"), "GET", f"/v1/clinics/{C}/migrations/1234567890", MEMBER, True),
    (42, server("clinic-worker"), "PATCH", f"/v1/clinics/{C}/migrations/1234567890", MEMBER, True),
    (43, user("1234567890"), "PATCH", f"/v1/clinics/{C}/migrations/1234567890", MEMBER, False),
    (44, server("clinic-worker"), "DELETE", "/v1/users/1234567890/clinics", None, True),
    (45, server("clinic-worker"), "POST", f"/v1/clinics/{C}/tier", None, True),
    (46, user("1234567890"), "POST", f"/v1/clinics/{C}/tier", MEMBER, False),
    (47, user("1234567890"), "POST", f"/v1/clinics/{C}/tier", ADMIN, False),
    (48, user("1234567890"), "POST", f"/v1/clinics/{C}/tier", None, False),
    (49, user("1234567890"), "DELETE", "/v1/users/1234567890/clinics", None, False),
    (50, user("1234567890"), "POST", f"/v1/clinics/{C}/patient_tags", MEMBER, True),
    (51, user("1234567890"), "PUT", f"/v1/clinics/{C}/patient_tags/{T}", MEMBER, True),
    (52, user("1234567890"), "DELETE", f"/v1/clinics/{C}/patient_tags/{T}", ADMIN, True),
    (53, user("1234567890"), "DELETE", f"/v1/clinics/{C}/patient_tags/{T}", MEMBER, False),
    (54, server("clinic-worker"), "POST", f"/v1/clinics/{C}/patients/delete_tag/{T}", None, True),
    (55, user("1234567890"), "POST", f"/v1/clinics/{C}/patients/delete_tag/{T}", ADMIN, True),
    (56, user("1234567890"), "POST", f"/v1/clinics/{C}/patients/delete_tag/{T}", MEMBER, False),
    (57, server("clinic-worker"), "POST", f"/v1/clinics/{C}/patients/assign_tag/{T}", None, True),
    (58, user("1234567890"), "POST", f"/v1/clinics/{C}/patients/assign_tag/{T}", ADMIN, True),
    (59, user("1234567890"), "POST", f"/v1/clinics/{C}/patients/assign_tag/{T}", MEMBER, False),
    (60, server("clinic-worker"), "GET", f"/v1/clinics/{C}/membership_restrictions", None, True),
    (61, user("1234567890"), "GET", f"/v1/clinics/{C}/membership_restrictions", ADMIN, True),
    (62, user("1234567890"), "GET", f"/v1/clinics/{C}/membership_restrictions", MEMBER, False),
    (63, server("orca"), "PUT", f"/v1/clinics/{C}/membership_restrictions", None, True),
    (64, user("1234567890"), "PUT", f"/v1/clinics/{C}/membership_restrictions", ADMIN, False),
    (65, user("1234567890"), "PUT", f"/v1/clinics/{C}/membership_restrictions", MEMBER, False),
    (66, server("orca"), "GET", f"/v1/clinics/{C}/settings/ehr", None, True),
    (67, server("orca"), "PUT", f"/v1/clinics/{C}/settings/ehr", None, True),
    (68, user("1234567890"), "PUT", f"/v1/clinics/{C}/settings/ehr", MEMBER, False),
    (69, user("1234567890"), "GET", f"/v1/clinics/{C}/settings/ehr", MEMBER, True),
    (70, server("orca"), "GET", f"/v1/clinics/{C}/settings/mrn", None, True),
    (71, server("orca"), "POST", f"/v1/clinics/{C}/service_accounts", None, True),
    (72, user("12345678"), "POST", f"/v1/clinics/{C}/service_accounts", MEMBER, False),
    (73, user("1234567890"), "GET", f"/v1/clinics/{C}/settings/mrn", MEMBER, True),
    (74, server("orca"), "PUT", f"/v1/clinics/{C}/settings/mrn", None, True),
    (75, user("1234567890"), "PUT", f"/v1/clinics/{C}/settings/mrn", MEMBER, False),
    (76, server("orca"), "GET", f"/v1/clinics/{C}/settings/patient_count", None, True),
    (77, user("1234567890"), "GET", f"/v1/clinics/{C}/settings/patient_count", MEMBER, True),
    (78, server("orca"), "PUT", f"/v1/clinics/{C}/settings/patient_count", None, True),
    (79, user("1234567890"), "PUT", f"/v1/clinics/{C}/settings/patient_count", MEMBER, False),
    (80, server("orca"), "GET", f"/v1/clinics/{C}/patient_count", None, True),
    (81, user("1234567890"), "GET", f"/v1/clinics/{C}/patient_count", MEMBER, True),
    (82, server("clinic-worker"), "POST", "/v1/redox/match", None, True),
    (83, server("task"), "POST", f"/v1/clinics/{C}/ehr/sync", None, True),
    (84, server("task"), "POST", "/v1/patients/012345678890/ehr/sync", None, True),
    (85, user("task"), "GET", "/v1/patients", None, True),
    (86, user("1234567890"), "POST", f"/v1/clinics/{C}/reports/merge", ADMIN, False),
    (87, user("1234567890"), "POST", f"/v1/clinics/{C}/reports/merge", None, False),
    (88, server("orca"), "POST", f"/v1/clinics/{C}/reports/merge", None, True),
    (89, server("clinic-worker"), "POST", f"/v1/clinics/{C}/patients/1234567890/connect/dexcom", None, True),
    (90, None, "POST", f"/v1/clinics/{C}/patients/1234567890/connect/dexcom", None, False),
    (91, user("clinician-user-id"), "POST", f"/v1/clinics/{C}/patients/1234567890/connect/dexcom", MEMBER, True),
    (92, user("clinician-user-id"), "POST", f"/v1/clinics/{C}/patients/1234567890/connect/dexcom", [], False),
    (93, user("1234567890"), "POST", f"/v1/clinics/{C}/patients/1234567890/connect/dexcom", None, False),
    (94, server("orca"), "POST", f"/v1/clinics/{C}/merge", None, True),
    (95, Principal(user_id=""), "POST", f"/v1/clinics/{C}/merge", None, False),
]


@pytest.mark.parametrize("n,principal,method,path,roles,allowed", CASES, ids=[f"case{c[0]}" for c in CASES])
def test_reference_policy_cases(n, principal, method, path, roles, allowed):
    assert decide(principal, method, path, roles) is allowed


def test_list_all_clinicians_is_unreachable_even_for_servers():
    assert decide(server("orca"), "GET", "/v1/clinicians", None) is False


def test_clinician_record_is_read_only_when_needed():
    calls = []
    req = policy.Request(principal=server("orca"), path_params={"clinicId": C}, load_clinician=lambda: calls.append(1))
    assert policy.allows("GetClinic", req) is True
    assert calls == []
