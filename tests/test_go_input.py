"""Bodies read as the reference's Go decoding reads them (issue 12 items 3-4): Go's error texts and
byte offsets, lone surrogate escapes and invalid UTF-8 as U+FFFD (never a 500), numbers beyond
int64/float64 as the reference's 400s, trailing bytes after the first JSON value ignored, a query
pair with invalid percent-encoding dropped."""
from __future__ import annotations

import pytest
from bson import ObjectId

from clinic_api import godecode
from ehr_support import configure
from patients_support import insert_patient

JSON = {"content-type": "application/json"}
DECODE = "request body has an error: failed to decode request body: "


def post(api, url, raw: bytes, method="POST"):
    return api.request(method, url, content=raw, headers=JSON)


# --- the decoder itself ------------------------------------------------------------------------

@pytest.mark.parametrize("raw,text,offset", [
    (b"", "EOF", None),
    (b" \n\t", "EOF", None),
    (b'{"name": "x"', "unexpected EOF", None),
    (b'{"name": tru', "unexpected EOF", None),
    (b"1.", "unexpected EOF", None),
    (b"x", "invalid character 'x' looking for beginning of value", 1),
    (b'{"name": x}', "invalid character 'x' looking for beginning of value", 10),
    (b"{name}", "invalid character 'n' looking for beginning of object key string", 2),
    (b"{'a':1}", "invalid character '\\'' looking for beginning of object key string", 2),
    (b'{"a" 1}', "invalid character '1' after object key", 6),
    (b'{"a":1 "b":2}', "invalid character '\"' after object key:value pair", 8),
    (b"[1 2]", "invalid character '2' after array element", 4),
    (b'{"a":01}', "invalid character '1' after object key:value pair", 7),
    (b'"a\x01"', "invalid character '\\x01' in string literal", 3),
    (b'"\\q"', "invalid character 'q' in string escape code", 3),
    (b'"\\u12x4"', "invalid character 'x' in \\u hexadecimal character escape", 6),
    (b"-a", "invalid character 'a' in numeric literal", 2),
    (b"1.e3", "invalid character 'e' after decimal point in numeric literal", 3),
    (b"1e+x", "invalid character 'x' in exponent of numeric literal", 4),
    (b"nul1", "invalid character '1' in literal null (expecting 'l')", 4),
    (b"[NaN]", "invalid character 'N' looking for beginning of value", 2),
    (b"\xff", "invalid character '\xff' looking for beginning of value", 1),
    (b"\x00", "invalid character '\\x00' looking for beginning of value", 1),
])
def test_go_errors_and_offsets(raw, text, offset):
    with pytest.raises(godecode.GoJSONError) as err:
        godecode.decode(raw)
    assert (err.value.text, err.value.offset) == (text, offset)


@pytest.mark.parametrize("raw,value", [
    (b'{"a":1} trailing', {"a": 1}),
    (b"[1,2]]]", [1, 2]),
    (b"12 x", 12),
    (b'{"a":"\\ud800"}', {"a": "\ufffd"}),
    (b'{"\\udc00":"\\ud83d\\ude00\\ud800x"}', {"\ufffd": "\U0001f600\ufffdx"}),
    (b'"\xff\xe2\x82!"', "\ufffd\ufffd\ufffd!"),
    (b'{"a":1e29,"b":123456789012345678901234567890}', {"a": 1e29, "b": 1.2345678901234568e29}),
])
def test_go_values(raw, value):
    assert godecode.decode(raw) == value


def test_whole_body_and_locate():
    with pytest.raises(godecode.GoJSONError) as err:
        godecode.decode(b'{"a":1} x', whole=True)
    assert (err.value.text, err.value.offset) == ("invalid character 'x' after top-level value", 9)
    assert godecode.locate(b'{"hardLimit": {"plan": 1e29}}', ["hardLimit", "plan"]) == ("number 1e29", 27)
    assert godecode.locate(b'{"a":[{"b":1},{"c":{"d":2}}]}', ["a", "c"]) == ("object", 20)


# --- on the wire: connexion's body path --------------------------------------------------------

def test_undecodable_bodies(admin, clinic):
    url = f"/v1/clinics/{clinic['id']}/patient_tags"
    for raw, text in [(b'{"name": "x"', "unexpected EOF"), (b'{"name": x}', "invalid character 'x' looking for "
                                                                            "beginning of value"),
                      (b'{"name": "x",}', "invalid character '}' looking for beginning of object key string")]:
        resp = post(admin, url, raw)
        assert (resp.status_code, resp.text) == (400, '{"message":"' + DECODE + text.replace('"', '\\"') + '"}\n')


def test_trailing_bytes_after_the_first_value_are_ignored(admin, clinic):
    resp = post(admin, f"/v1/clinics/{clinic['id']}/patient_tags", b'{"name": "after"} {"name": "ignored"} !!')
    assert (resp.status_code, resp.json()["name"]) == (200, "after")


def test_a_top_level_array_error_has_no_location(server, clinic):
    resp = post(server, f"/v1/clinics/{clinic['id']}/patients/assign_tag/{ObjectId()}", b"[]")
    assert resp.json() == {"message": "request body has an error: doesn't match schema "
                                      "#/components/schemas/tidepoolUserIds.v1: minimum number of items is 1"}


def test_a_null_body_error_has_no_location(server, clinic):
    resp = post(server, f"/v1/clinics/{clinic['id']}/settings/mrn", b"null", method="PUT")
    assert resp.json() == {"message": "request body has an error: doesn't match schema "
                                      "#/components/schemas/mrnSettings.v1: Value is not nullable"}


def test_lone_surrogates_are_replacement_characters(admin, server, clinic, db):
    resp = post(admin, "/v1/clinics", b'{"name": "A\\ud800B", "preferredBgUnits": "mg/dL"}')
    assert (resp.status_code, resp.json()["name"]) == (200, "A\ufffdB")
    base = f"/v1/clinics/{clinic['id']}/patients"
    resp = post(server, f"{base}/a1a1a1a1a1", b'{"fullName": "\\udfff", "mrn": "\\ud800\\ud800"}')
    assert (resp.status_code, resp.json()["fullName"], resp.json()["mrn"]) == (200, "\ufffd", "\ufffd\ufffd")
    resp = post(server, f"{base}/a1a1a1a1a1", b'{"fullName": "N\\ud800", "birthDate": "2000-01-01"}', method="PUT")
    assert (resp.status_code, resp.json()["fullName"]) == (200, "N\ufffd")
    resp = post(admin, base, b'{"fullName": "\\ud83d\\ude00\\ud83d", "birthDate": "2000-01-01"}')
    assert (resp.status_code, resp.json()["fullName"]) == (200, "\U0001f600\ufffd")
    assert db.patients.count_documents({"fullName": "\U0001f600\ufffd"}) == 1


def test_invalid_utf8_in_strings_is_replaced(admin):
    resp = post(admin, "/v1/clinics", b'{"name": "A\xffB\xe2\x82", "preferredBgUnits": "mg/dL"}')
    assert (resp.status_code, resp.json()["name"]) == (200, "A\ufffdB\ufffd\ufffd")
    resp = post(admin, "/v1/clinics", b'{"name": \xff}')
    assert resp.json() == {"message": DECODE + "invalid character '\xff' looking for beginning of value"}


def test_numbers_beyond_int64_and_float64(server, clinic, db):
    url = f"/v1/clinics/{clinic['id']}/settings/patient_count"
    raw = b'{"hardLimit": {"plan": 1e29}}'
    resp = post(server, url, raw, method="PUT")
    assert (resp.status_code, resp.json()) == (400, {
        "message": "Unmarshal type error: expected=int, got=number 1e29, field=hardLimit.plan, offset=27"})
    resp = post(server, url, b'{"hardLimit": {"plan": 99999999999999999999}}', method="PUT")
    assert resp.json()["message"] == ("Unmarshal type error: expected=int, got=number 99999999999999999999, "
                                      "field=hardLimit.plan, offset=43")
    resp = post(server, url, b'{"hardLimit": {"plan": 1e400}}', method="PUT")
    assert resp.json()["message"] == ("request body has an error: doesn't match schema "
                                      "#/components/schemas/patientCountSettings.v1: "
                                      'Error at "/hardLimit/plan": cannot convert json.Number to float64')
    stored = db.clinics.find_one({"_id": ObjectId(clinic["id"])})["patientCountSettings"]
    assert stored == {"hardLimit": {"plan": 250}}


# --- Echo-bound routes -------------------------------------------------------------------------

@pytest.mark.parametrize("raw,message", [
    (b'{"challenge": "c"', "unexpected EOF"),
    (b'{"challenge": c}', "Syntax error: offset=15, error=invalid character 'c' looking for beginning of value"),
    (b'  [1,]', "Syntax error: offset=6, error=invalid character ']' looking for beginning of value"),
])
def test_echo_bound_errors(services, anonymous, monkeypatch, raw, message):
    configure(services, monkeypatch, redox_verification_token="tok")
    resp = anonymous.request("POST", "/v1/redox/verify", content=raw,
                             headers={**JSON, "verification-token": "tok"})
    assert (resp.status_code, resp.json()) == (400, {"message": message})


def test_echo_bound_surrogates_and_trailing_bytes(services, anonymous, monkeypatch):
    configure(services, monkeypatch, redox_verification_token="tok")
    raw = b'{"verification-token": "tok", "challenge": "\\ud800"} trailing'
    resp = anonymous.request("POST", "/v1/redox/verify", content=raw,
                             headers={**JSON, "verification-token": "tok"})
    assert (resp.status_code, resp.json()) == (200, {"challenge": "\ufffd"})


# --- query strings --------------------------------------------------------------------------------

def test_invalid_percent_encoding_drops_the_pair(server, clinic, db):
    insert_patient(db, clinic["id"], "a1a1a1a1a1", fullName="Zed")
    base = f"/v1/clinics/{clinic['id']}/patients"
    for query in ("search=%ZZ", "limit=%ZZ", "search=%ZZ&limit=%Z1", "limit=%"):
        resp = server.get(f"{base}?{query}")
        assert (resp.status_code, resp.json()["meta"]["count"]) == (200, 1), query
    resp = server.get(f"{base}?search=%ZZ&search=Zed")
    assert resp.json()["meta"]["count"] == 1


def test_ehr_procedure_codes_keep_the_reference_fields_only(server, clinic, db):
    """Found by `make fuzz`: a procedureCodes key with a NUL byte was stored as sent (a 500: BSON
    keys cannot hold one). The reference's struct keeps its four codes and drops the rest."""
    from clinic_helpers import EHR_BODY

    codes = {"\u0000": {"x": 1}, "createAccount": "1", "enableSummaryReports": "2", "other": "3"}
    resp = server.put(f"/v1/clinics/{clinic['id']}/settings/ehr", json={**EHR_BODY, "procedureCodes": codes})
    assert resp.status_code == 200, resp.text
    stored = db.clinics.find_one({"_id": ObjectId(clinic["id"])})["ehrSettings"]["procedureCodes"]
    assert list(stored.items()) == [("enableSummaryReports", "2"), ("createAccount", "1")]
