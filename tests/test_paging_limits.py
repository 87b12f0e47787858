"""`limit` and `offset` are Go ints in the reference (kin-openapi parses them with strconv.ParseInt):
a value beyond int64 is a 400 with the parser's words on every list operation, never a driver error;
the largest int64 is served. (ListAllClinicians takes them too, but no caller may use it.)"""
from __future__ import annotations

import pytest

from conftest import ADMIN_ID

TOO_BIG = "9223372036854775808"  # 2^63
LARGEST = "9223372036854775807"  # 2^63 - 1
PATIENT_ID = "5678901234"

LISTS = [
    ("ListClinics", "/v1/clinics"),
    ("ListClinicians", "/v1/clinics/{clinicId}/clinicians"),
    ("ListPatients", "/v1/clinics/{clinicId}/patients"),
    ("ListClinicsForPatient", f"/v1/patients/{PATIENT_ID}/clinics"),
    ("ListClinicsForClinician", f"/v1/clinicians/{ADMIN_ID}/clinics"),
    ("FindPatients", "/v1/patients?mrn=123"),
]


def _url(template: str, clinic: dict, query: str) -> str:
    url = template.format(clinicId=clinic["id"])
    return url + ("&" if "?" in url else "?") + query


@pytest.mark.parametrize("name,template", LISTS, ids=[n for n, _ in LISTS])
@pytest.mark.parametrize("param", ["limit", "offset"])
@pytest.mark.parametrize("value", [TOO_BIG, "18446744073709551616", "-9223372036854775809"])
def test_beyond_int64_is_a_400(server, admin, clinic, name, template, param, value):
    caller = admin if name == "FindPatients" else server  # FindPatients is for users only
    resp = caller.get(_url(template, clinic, f"{param}={value}"))
    assert resp.status_code == 400
    assert resp.json() == {"message": f'parameter "{param}" in query has an error: value {value}: '
                                      f'an invalid integer: value out of range'}


@pytest.mark.parametrize("name,template", LISTS, ids=[n for n, _ in LISTS])
def test_the_largest_int64_is_served(server, admin, clinic, name, template):
    caller = admin if name == "FindPatients" else server
    server.post(f"/v1/clinics/{clinic['id']}/patients/{PATIENT_ID}", json={"fullName": "Pat Patient",
                                                                         "birthDate": "2001-02-03", "mrn": "123"})
    resp = caller.get(_url(template, clinic, f"offset={LARGEST}&limit={LARGEST}"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["data"] if isinstance(body, dict) else body) == []
    resp = caller.get(_url(template, clinic, f"offset=0&limit={LARGEST}"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert len(body["data"] if isinstance(body, dict) else body) == 1
