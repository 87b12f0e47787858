"""Redox: endpoint verification and incoming messages (POST /v1/redox/verify, POST /v1/redox).
Neither takes a session token nor is validated against the contract: the caller is checked by
the verification token first, then the body is decoded as the reference decodes it."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from bson import Int64, ObjectId

from ehr_support import LOG_ID, NEW_ORDER, REDOX_TOKEN, configure

HEADERS = {"verification-token": REDOX_TOKEN, "content-type": "application/json"}


@pytest.fixture
def redox(services, monkeypatch, anonymous):
    configure(services, monkeypatch, redox_verification_token=REDOX_TOKEN)
    return anonymous


def post_message(api, payload, headers=HEADERS):
    content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return api.post("/v1/redox", content=content, headers=headers)


# --- VerifyEndpoint -------------------------------------------------------------------------------

def test_verify_echoes_the_challenge(redox):
    resp = redox.post("/v1/redox/verify", json={"verification-token": REDOX_TOKEN, "challenge": "abc-123"})
    assert resp.status_code == 200
    assert resp.content == b'{"challenge":"abc-123"}\n'


def test_verify_keys_match_case_insensitively(redox):
    resp = redox.post("/v1/redox/verify", json={"Verification-Token": REDOX_TOKEN, "CHALLENGE": "x"})
    assert resp.status_code == 200 and resp.json() == {"challenge": "x"}


@pytest.mark.parametrize("body", [{"verification-token": "wrong", "challenge": "c"}, {"challenge": "c"}, None])
def test_verify_refuses_another_token(redox, body):
    resp = redox.post("/v1/redox/verify", json=body) if body is not None else redox.post("/v1/redox/verify")
    assert resp.status_code == 401
    assert resp.json() == {"message": "unauthorized: invalid verification token"}


def test_verify_without_a_configured_token_passes_a_request_without_one(services, monkeypatch, anonymous):
    configure(services, monkeypatch, redox_verification_token="")
    resp = anonymous.post("/v1/redox/verify", json={"challenge": "c"})
    assert resp.status_code == 200 and resp.json() == {"challenge": "c"}


@pytest.mark.parametrize("content,ctype,status,message", [
    (b"{bad", "application/json", 400,
     "Syntax error: offset=2, error=invalid character 'b' looking for beginning of object key string"),
    (b'{"challenge": "c"', "application/json", 400, "unexpected EOF"),
    (b'{"challenge": "c",}', "application/json", 400,
     "Syntax error: offset=19, error=invalid character '}' looking for beginning of object key string"),
    (b"   ", "application/json", 400, "EOF"),
    (b'{"challenge": 5}', "application/json", 400,
     "Unmarshal type error: expected=string, got=number, field=challenge"),
    (b"[1]", "application/json", 400,
     "Unmarshal type error: expected=redox.VerificationRequest, got=array, field="),
    (b"challenge=c", "text/plain", 415, "Unsupported Media Type"),
    (b'{"challenge": "c"}', None, 415, "Unsupported Media Type"),
])
def test_verify_body_errors(redox, content, ctype, status, message):
    headers = {"content-type": ctype} if ctype else {}
    resp = redox.post("/v1/redox/verify", content=content, headers=headers)
    assert resp.status_code == status
    assert resp.json() == {"message": message}


def test_verify_reads_only_the_first_json_value(redox):
    body = json.dumps({"verification-token": REDOX_TOKEN, "challenge": "c"}).encode() + b" trailing"
    resp = redox.post("/v1/redox/verify", content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 200 and resp.json() == {"challenge": "c"}


def test_verify_wrong_method_is_405_without_token(redox):
    resp = redox.get("/v1/redox/verify")
    assert resp.status_code == 405 and resp.headers["allow"] == "OPTIONS, POST"


# --- ProcessEHRMessage: the caller ------------------------------------------------------------------

@pytest.mark.parametrize("headers,message", [
    ({}, "unauthorized: verification token is required"),
    ({"verification-token": ""}, "unauthorized: verification token is required"),
    ({"verification-token": "nope"}, "unauthorized: invalid verification token"),
])
def test_message_caller_is_checked_before_the_body(redox, db, headers, message):
    resp = redox.post("/v1/redox", content=b"{not json", headers={**headers, "content-type": "text/plain"})
    assert resp.status_code == 401
    assert resp.json() == {"message": message}
    assert db.redox.count_documents({}) == 0


def test_message_is_stored_with_its_normalised_meta(redox, db):
    resp = post_message(redox, NEW_ORDER)
    assert resp.status_code == 200
    assert resp.content == b"" and "content-type" not in resp.headers
    doc = db.redox.find_one({"meta.Logs.ID": LOG_ID})
    assert list(doc) == ["_id", "meta", "message"] and isinstance(doc["_id"], ObjectId)
    assert list(doc["meta"]) == ["DataModel", "Destinations", "EventDateTime", "EventType", "FacilityCode", "Logs",
                                 "Source", "Test"]
    assert doc["meta"]["Destinations"] == [{"ID": "dest-1", "Name": "Test EMR"}]
    assert doc["meta"]["Logs"] == [{"AttemptID": "attempt-1", "ID": LOG_ID}]
    assert doc["meta"]["Source"] == {"ID": NEW_ORDER["Meta"]["Source"]["ID"], "Name": "Redox test tools"}
    assert doc["meta"]["FacilityCode"] is None and doc["meta"]["Test"] is True
    assert doc["message"] == NEW_ORDER


def test_message_meta_defaults_and_unknown_keys(redox, db):
    payload = {"meta": {"datamodel": "Results", "eventtype": "New", "Message": {"ID": 16777217}, "Transmission": {},
                        "Destinations": [None, {"Name": "n"}], "Extra": "kept in message only"}}
    assert post_message(redox, payload).status_code == 200
    meta = db.redox.find_one()["meta"]
    assert meta == {"DataModel": "Results", "Destinations": [{"ID": None, "Name": None}, {"ID": None, "Name": "n"}],
                    "EventDateTime": None, "EventType": "New", "FacilityCode": None,
                    "Message": {"ID": 16777216.0}, "Test": None, "Transmission": {"ID": None}}
    assert db.redox.find_one()["message"]["meta"]["Extra"] == "kept in message only"


def test_message_body_is_read_raw_whatever_its_content_type(redox, db):
    body = json.dumps(NEW_ORDER).encode()
    assert redox.post("/v1/redox", content=body, headers={"verification-token": REDOX_TOKEN}).status_code == 200
    assert post_message(redox, body, {**HEADERS, "content-type": "text/plain"}).status_code == 200
    assert db.redox.count_documents({}) == 2


def test_message_is_read_as_canonical_extended_json(redox, db):
    oid = "65a1b2c3d4e5f60718293a4b"
    payload = {**NEW_ORDER, "Extra": {"when": {"$date": {"$numberLong": "1704067200000"}}, "ref": {"$oid": oid},
                                      "big": {"$numberLong": "9007199254740993"}, "n": 7, "f": 1.5}}
    assert post_message(redox, payload).status_code == 200
    extra = db.redox.find_one()["message"]["Extra"]
    assert extra["when"] == dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert extra["ref"] == ObjectId(oid)
    assert extra["big"] == Int64(9007199254740993) and extra["n"] == 7 and extra["f"] == 1.5


@pytest.mark.parametrize("payload,message", [
    (b"{oops", "bad request: unable to unmarshall message"),
    (b"", "bad request: unable to unmarshall message"),
    (b"[1, 2]", "bad request: unable to unmarshall message"),
    (b'"text"', "bad request: unable to unmarshall message"),
    (b"null", "bad request: cannot process message with invalid metadata"),
    ({"Patient": {}}, "bad request: cannot process message with invalid metadata"),
    ({"Meta": {"DataModel": "Order"}}, "bad request: cannot process message with invalid metadata"),
    ({"Meta": {"DataModel": "", "EventType": "New"}}, "bad request: cannot process message with invalid metadata"),
    ({"Meta": "Order"}, "bad request: cannot process message with invalid metadata"),
    ({"Meta": {"DataModel": 1, "EventType": "New"}}, "bad request: cannot process message with invalid metadata"),
    ({"Meta": {"DataModel": "Order", "EventType": "New", "Test": "yes"}},
     "bad request: cannot process message with invalid metadata"),
    ({"Meta": {"DataModel": "Order", "EventType": "New", "Message": {"ID": 1e300}}},
     "bad request: cannot process message with invalid metadata"),
    ({"Meta": {"DataModel": "Order", "EventType": "New", "Logs": {}}},
     "bad request: cannot process message with invalid metadata"),
    ({"Meta": {"DataModel": "Order", "EventType": "New"}, "ref": {"$oid": "not-an-id"}},
     "bad request: unable to unmarshall message"),
    ({"Meta": {"DataModel": "Order", "EventType": "New"}, "n": 2 ** 70}, "bad request: unable to unmarshall message"),
])
def test_message_errors_store_nothing(redox, db, payload, message):
    resp = post_message(redox, payload)
    assert resp.status_code == 400
    assert resp.json() == {"message": message}
    assert db.redox.count_documents({}) == 0


def test_message_wrong_method_is_405(redox):
    resp = redox.put("/v1/redox", json={})
    assert resp.status_code == 405 and resp.json() == {"message": "Method Not Allowed"}
