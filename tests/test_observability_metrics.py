"""/metrics (issue 10, item 3): the counts of what was served, read back from the exposition text."""
from __future__ import annotations

import pymongo
import pytest
from bson import ObjectId
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from clinic_api import wire
from clinic_api.app import create_app
from clinic_api.settings import Settings
from clinic_api.store import monitoring
from shoreline_support import serve_server_login, tidepool_settings
from support import stores


def scrape(client) -> dict:
    resp = client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_metrics_need_no_token_and_count_requests_by_operation_and_status_class(client, server, anonymous):
    before = scrape(client)
    assert server.get("/v1/clinics").status_code == 200
    assert server.get("/v1/clinics").status_code == 200
    assert anonymous.get("/v1/clinics").status_code == 400
    assert server.get(f"/v1/clinics/{ObjectId()}").status_code == 404
    assert server.get("/v1/no-such-thing").status_code == 404
    anonymous.get("/ready")
    after = scrape(client)
    assert delta(before, after, "clinic_http_requests_total", operation="ListClinics", status_class="2xx") == 2
    assert delta(before, after, "clinic_http_requests_total", operation="ListClinics", status_class="4xx") == 1
    assert delta(before, after, "clinic_http_requests_total", operation="GetClinic", status_class="4xx") == 1
    assert delta(before, after, "clinic_http_requests_total", operation="unmatched", status_class="4xx") == 1
    assert delta(before, after, "clinic_http_request_duration_seconds_count", operation="ListClinics") == 3
    assert delta(before, after, "clinic_http_request_duration_seconds_bucket", operation="ListClinics",
                 le="+Inf") == 3
    # neither /ready nor the scrapes themselves are counted
    counted = sum(v for (name, _), v in after.items() if name == "clinic_http_requests_total")
    assert counted - sum(v for (name, _), v in before.items() if name == "clinic_http_requests_total") == 5
    assert value(after, "clinic_http_requests_in_flight") == 0


def test_store_in_use_and_outbox_backlog(client, services, db, admin, clinic):
    samples = scrape(client)
    assert value(samples, "clinic_store_info", store=services.store.kind) == 1
    unsent = db.outbox.count_documents({"status": {"$ne": "sent"}})
    assert unsent >= 1  # the clinic_created mail, written to the outbox (no SMTP_HOST)
    assert value(samples, "clinic_mail_outbox_backlog", status="written") == unsent
    db.outbox.insert_many([
        {"_id": ObjectId(), "template": "t", "recipient": "x@example.org", "status": "failed",
         "createdTime": wire.now()},
        {"_id": ObjectId(), "template": "t", "recipient": "y@example.org", "status": "sent",
         "createdTime": wire.now()},
    ])
    samples = scrape(client)
    assert value(samples, "clinic_mail_outbox_backlog", status="failed") == 1
    assert value(samples, "clinic_mail_outbox_backlog", status="sending") == 0
    assert value(samples, "clinic_mail_outbox_backlog", status="written") == unsent


def test_outbound_calls_by_service(httpserver):
    upstream = serve_server_login(httpserver)
    upstream.expect_request("/token/tok-user").respond_with_json({"userid": "1234567890", "isserver": False})
    upstream.expect_request("/token/tok-bad").respond_with_data("", status=404)
    upstream.expect_request("/token/tok-boom").respond_with_data("", status=503)
    app = create_app(tidepool_settings(upstream))
    with TestClient(app) as client:
        before = scrape(client)
        for tok in ("tok-user", "tok-bad", "tok-boom"):
            client.get("/v1/clinics", headers={"x-tidepool-session-token": tok})
        after = scrape(client)
    name = "clinic_outbound_request_duration_seconds_count"
    # the server login, then one token check each
    assert delta(before, after, name, service="shoreline", status_class="2xx") == 2
    assert delta(before, after, name, service="shoreline", status_class="4xx") == 1
    assert delta(before, after, name, service="shoreline", status_class="5xx") == 1
    assert delta(before, after, "clinic_outbound_errors_total", service="shoreline") == 1


def test_unreachable_service_is_an_outbound_error(client):
    settings = Settings.from_env(stores.with_store({
        "CLINIC_INTEGRATIONS": "tidepool", "TIDEPOOL_SHORELINE_CLIENT_ADDRESS": "http://127.0.0.1:9",
        "TIDEPOOL_SERVER_TOKEN": "x"}))
    app = create_app(settings)
    with TestClient(app) as other:
        before = scrape(other)
        resp = other.get("/v1/clinics", headers={"x-tidepool-session-token": "whatever"})
        after = scrape(other)
    assert resp.status_code >= 400  # the token could not be checked
    assert delta(before, after, "clinic_outbound_errors_total", service="shoreline") == 1
    assert delta(before, after, "clinic_outbound_request_duration_seconds_count", service="shoreline",
                 status_class="error") == 1


def _command_samples(name: str, command: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, {"command": command}) or 0.0


@pytest.mark.skipif(not stores.on_wire(), reason="command monitoring needs a server (CLINIC_TEST_STORE=secantus)")
def test_database_commands_are_timed_and_failures_counted():
    client = pymongo.MongoClient(stores.uri(), event_listeners=monitoring.event_listeners())
    try:
        finds = _command_samples("clinic_db_command_duration_seconds_count", "find")
        failures = _command_samples("clinic_db_command_errors_total", "noSuchCommand")
        client["clinic_test_metrics"]["things"].find_one({})
        with pytest.raises(pymongo.errors.OperationFailure):
            client["clinic_test_metrics"].command("noSuchCommand")
        assert _command_samples("clinic_db_command_duration_seconds_count", "find") == finds + 1
        assert _command_samples("clinic_db_command_errors_total", "noSuchCommand") == failures + 1
    finally:
        client.close()


def test_command_listener_records_events():
    class Event:
        def __init__(self, name, micros):
            self.command_name, self.duration_micros = name, micros

    listener = monitoring.CommandListener()
    count = _command_samples("clinic_db_command_duration_seconds_count", "aggregate")
    errors = _command_samples("clinic_db_command_errors_total", "aggregate")
    listener.succeeded(Event("aggregate", 1500))
    listener.failed(Event("aggregate", 2500))
    assert _command_samples("clinic_db_command_duration_seconds_count", "aggregate") == count + 2
    assert _command_samples("clinic_db_command_errors_total", "aggregate") == errors + 1


def test_metrics_only_get():
    app = create_app(Settings.from_env(stores.env()))
    with TestClient(app) as client:
        resp = client.post("/metrics")
    assert (resp.status_code, resp.json()) == (405, {"message": "Method Not Allowed"})


@pytest.mark.skipif(not stores.on_wire(), reason="command monitoring needs a server (CLINIC_TEST_STORE=secantus)")
def test_the_service_database_client_is_monitored(client, server):
    before = scrape(client)
    assert server.get("/v1/clinics").status_code == 200
    after = scrape(client)
    assert delta(before, after, "clinic_db_command_duration_seconds_count", command="find") >= 1
