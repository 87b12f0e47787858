"""Patterns keep the meaning Go's RE2 gives them; messages keep kin-openapi's wording."""
import pytest

from clinic_api.schema_rules import go_regex

TAG = r"^[\p{L}\p{N}_+><-]{1}[\p{L}\p{N}\s_+><-]*$"
GRAPH = r"^[[:graph:]\p{L}\p{N}][[:graph:]\p{L}\p{N} ]*$"


@pytest.mark.parametrize("text,ok", [("Ünïcode", True), ("日本", True), ("a b", True), ("a\tb", True),
                                     ("a\u2003b", False), (" lead", False), ("x\n", True), ("x!", False)])
def test_tag_name_pattern(text, ok):
    assert bool(go_regex(TAG).search(text)) is ok


@pytest.mark.parametrize("text,ok", [("abc!~", True), ("é", True), ("a b", True), ("\u00a0x", False),
                                     ("x\n", False), ("", False), ("€", False)])
def test_graph_is_ascii_printable_plus_letters_and_digits(text, ok):
    assert bool(go_regex(GRAPH).search(text)) is ok


def test_digits_are_ascii_and_dollar_is_end_of_text():
    assert not go_regex(r"^\d{4}-\d{2}-\d{2}$").search("２０２０-01-01")
    assert not go_regex(r"^[a-f0-9]{24}$").search("a" * 24 + "\n")
    assert go_regex(r"^[a-f0-9]{24}$").search("a" * 24)


def test_parameter_messages(server):
    assert server.get("/v1/clinics?limit=abc").json() == {
        "message": 'parameter "limit" in query has an error: value abc: an invalid integer: invalid syntax'}
    assert server.get("/v1/clinics?limit=0").json() == {
        "message": 'parameter "limit" in query has an error: number must be at least 1'}
    assert server.get("/v1/clinics?shareCode=").json() == {
        "message": 'parameter "shareCode" in query has an error: empty value is not allowed'}
    assert server.get("/v1/clinics?ehrEnabled=maybe").json() == {
        "message": 'parameter "ehrEnabled" in query has an error: value maybe: an invalid boolean: invalid syntax'}
    assert server.get("/v1/clinics/nothex").json() == {
        "message": 'parameter "clinicId" in path has an error: string doesn\'t match the regular expression '
                   '"^[a-f0-9]{24}$"'}


def test_unknown_query_parameters_are_ignored(server):
    assert server.get("/v1/clinics?email=x@y.z&whatever=1").status_code == 200


def test_body_messages(admin):
    resp = admin.post("/v1/clinics", json={"name": "x"})
    assert resp.status_code == 400
    assert resp.json() == {"message": 'request body has an error: doesn\'t match schema '
                                      '#/components/schemas/clinic.v1: '
                                      'Error at "/preferredBgUnits": property "preferredBgUnits" is missing'}
    resp = admin.post("/v1/clinics", json={"name": "x", "preferredBgUnits": "mg"})
    assert resp.json()["message"].endswith('Error at "/preferredBgUnits": value is not one of the allowed values '
                                           '[\"mg/dL\",\"mmol/L\"]')
    resp = admin.post("/v1/clinics", content=b"{nope", headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["message"].startswith("request body has an error: failed to decode request body: ")
    resp = admin.post("/v1/clinics", content=b"x", headers={"content-type": "text/plain"})
    assert resp.json() == {
        "message": 'request body has an error: header Content-Type has unexpected value "text/plain"'}


def test_read_only_fields_are_accepted_in_requests(admin):
    resp = admin.post("/v1/clinics", json={"name": "x", "preferredBgUnits": "mg/dL", "id": "0" * 24,
                                          "createdTime": "2020-01-01T00:00:00Z", "canMigrate": True, "tier": "t"})
    assert resp.status_code == 200
    assert resp.json()["id"] != "0" * 24 and resp.json()["tier"] == "tier0100"


def test_denial_wins_over_a_bad_body(plain_user, server):
    resp = server.post("/v1/clinics", json={"name": 3})
    assert resp.status_code == 403


@pytest.mark.parametrize("raw", [b" ", b"\n\t ", b"null"])
def test_blank_or_null_bodies_do_not_hang(server, clinic, raw, db):
    """A blank body is Go's EOF, a JSON null is not nullable: 400 either way, nothing written."""
    before = db.clinics.find_one()
    for method, path in (("PUT", "settings/mrn"), ("POST", "tier")):
        resp = server.request(method, f"/v1/clinics/{clinic['id']}/{path}", content=raw,
                              headers={"content-type": "application/json"})
        assert resp.status_code == 400, (path, resp.text)
        if raw.strip():
            assert "Value is not nullable" in resp.json()["message"], (path, resp.text)
        else:
            assert resp.json() == {"message": "request body has an error: failed to decode request body: EOF"}
    assert db.clinics.find_one() == before


def test_only_the_formats_the_reference_checks_are_checked(admin, clinic):
    # `format: email` is not checked by the reference's validator
    assert admin.get(f"/v1/clinics/{clinic['id']}/clinicians?email=not-an-email").status_code == 200
    # `format: date` is
    resp = admin.post(f"/v1/clinics/{clinic['id']}/patients", json={"fullName": "A B", "birthDate": "2024-13-01"})
    assert resp.status_code == 400
    assert resp.json()["message"].endswith(
        'Error at "/birthDate": string doesn\'t match the format "date": string doesn\'t match pattern '
        '"^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])$"')


def test_null_for_a_non_nullable_property(admin):
    resp = admin.post("/v1/clinics", json={"name": "x", "preferredBgUnits": "mg/dL", "city": None})
    assert resp.status_code == 400
    assert resp.json()["message"].endswith('Error at "/city": Value is not nullable')
