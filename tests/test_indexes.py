"""Indexes on a fresh database and on one that another service created first, on the store under
test: what start-up and `clinic-api create-indexes` create, what they keep, what they report."""
from __future__ import annotations

import logging
import os
import subprocess
import sys

import pymongo
import pytest
from pymongo.errors import OperationFailure

from clinic_api import cli
from clinic_api.app import create_app
from clinic_api.store import client as store_client
from support import stores

# Every index of the service, by collection (the reference's, ours on its collections, then this service's own
# collections).
DECLARED = {
    "clinics": {"UniqueShareCodes", "UniqueCanonicalShareCode"},
    "clinic_deletions": {"ClinicDeletion", "DeletedTime"},
    "patients": {"UserId", "UniquePatient", "PatientFullNameEn", "PatientBirthDate", "PatientEmail", "PatientMRN",
                 "PatientTagsV2", "DataSourcesProviderName", "DataSourcesState", "UniqueMrn", "Sites",
                 "MeetingTargetsIndex1d", "MeetingTargetsIndex7d", "MeetingTargetsIndex14d", "MeetingTargetsIndex30d",
                 # ours, for the list queries (tests/test_query_plans.py)
                 "ClinicApiListByFullNameEn", "ClinicApiListByFullNameDescEn", "ClinicApiListByBirthDate",
                 "ClinicApiListByBirthDateDesc", "ClinicApiListByCgmLastData", "ClinicApiListByCgmLastDataDesc",
                 "ClinicApiTideByTagsLastData"},
    "patient_deletions": {"PatientDeletion", "DeletedTime"},
    "clinicians": {"UniqueClinicianUserId", "UniqueInviteId", "UniqueClinicMemberEmail", "ClinicianSearch",
                   "ClinicianByRole", "CliniciansByCreatedTime",
                   "ClinicApiCliniciansByClinicCreatedTime", "ClinicApiCliniciansByUserCreatedTime"},
    "clinician_deletions": {"ClinicianDeletion", "DeletedTime"},
    "migrations": {"UniqueClinicianMigration"},
    "redox": {"MetadataLogsId", "MetadataSource"},
    "scheduledSummaryAndReportsOrders": {"LastMatchedOrderByID", "CleanupExpiredRescheduledOrdersAfter90d"},
    "xealth_preorder": {"dataTrackingId"},
    "xealth_report_view": {"LastReportView"},
    "confirmations": {"ByClinicTypeStatus", "ByUserTypeStatus"},
    "outbox": {"UniqueEventKey", "OutboxByCreatedTime"},
    "users": {"UserEmails"},
    "restricted_tokens": {"ExpiredRestrictedTokens"},
}


def present(db) -> dict[str, set[str]]:
    return {name: {spec["name"] for spec in db[name].list_indexes()} - {"_id_"} for name in DECLARED}


def accepts_text_indexes(db) -> bool:
    """Asked of the server directly, on a scratch collection."""
    try:
        db.text_probe.create_index([("t", "text")])
    except OperationFailure as exc:
        assert exc.code == 67  # CannotCreateIndex: the only refusal we expect
        return False
    finally:
        db.drop_collection("text_probe")
    return True


def expected(db) -> dict[str, set[str]]:
    want = {name: set(names) for name, names in DECLARED.items()}
    if not accepts_text_indexes(db):
        want["clinicians"].discard("ClinicianSearch")
    return want


def test_start_on_a_fresh_database_creates_every_declared_index(caplog):
    caplog.set_level(logging.INFO, logger="clinic_api.store")
    app = create_app(stores.settings(fresh=True))
    db = app.services.store.db
    assert present(db) == expected(db)
    has_text = "ClinicianSearch" in expected(db)["clinicians"]
    if stores.kind() == "secantus":
        assert not has_text  # SecantusDB has no text indexes: the one index lost, and only that one
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
    text_lines = [r.getMessage() for r in caplog.records if "text search" in r.getMessage()]
    if app.services.store.text_search:
        assert text_lines == []
    else:
        assert text_lines == ["store: the server has no text search (index clinicians.ClinicianSearch not in use); "
                              "clinician search scans email tokens instead"]


def test_a_second_start_keeps_every_index_and_creates_none(caplog):
    settings = stores.settings(fresh=True)
    first = create_app(settings)
    if not stores.on_wire():
        pytest.skip("the memory store lives in one app: there is no second start on the same data")
    caplog.set_level(logging.INFO, logger="clinic_api.store")
    second = create_app(stores.settings(TIDEPOOL_CLINIC_DATABASE_NAME=settings.database_name))
    assert present(second.services.store.db) == present(first.services.store.db)
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_text_search_is_used_only_where_the_server_runs_it():
    app = create_app(stores.settings(fresh=True))
    store = app.services.store
    if store.embedded:
        assert store.text_search is False  # mongomock-ng accepts the index but has no $text
    else:
        assert store.text_search is accepts_text_indexes(store.db)


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clinic_api.cli", "create-indexes", *args], capture_output=True,
                          text=True, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}, timeout=120)


def test_cli_create_indexes_on_a_fresh_database():
    if not stores.on_wire():
        pytest.skip("the memory store lives in one process: see the in-process test below")
    env = stores.env(fresh=True)
    out = _cli(env)
    assert out.returncode == 0, out.stderr
    db = pymongo.MongoClient(stores.uri())[env["TIDEPOOL_CLINIC_DATABASE_NAME"]]
    want = expected(db)
    assert present(db) == want
    count = sum(len(names) for names in want.values())
    assert out.stdout.splitlines()[-1] == f"{count} created, 0 already in place, 0 refused, 0 differing"
    again = _cli(env)
    assert again.stdout.splitlines()[-1] == f"0 created, {count} already in place, 0 refused, 0 differing"
    check = _cli(env, "--check")
    assert check.returncode == 0, check.stdout


def test_cli_create_indexes_in_process_on_the_store_under_test(monkeypatch, capsys):
    settings = stores.settings(fresh=True)
    store = store_client.connect(settings)
    monkeypatch.setattr(store_client, "connect", lambda _settings: store)
    assert cli._indexes(settings, check=False) == 0
    assert present(store.db) == expected(store.db)
    assert cli._indexes(settings, check=True) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    if "ClinicianSearch" in expected(store.db)["clinicians"]:
        assert last == "51 indexes as declared, 0 missing, 0 differing"
    else:  # reported missing, but not a failure: a server without text search cannot have it
        assert last == "50 indexes as declared, 1 missing, 0 differing"


# Created first, as another service might: the same keys and options, in other orders.
REORDERED = [
    ("clinicians", {"key": {"clinicId": 1, "userId": 1}, "partialFilterExpression": {"userId": {"$exists": True}},
                    "name": "UniqueClinicianUserId", "background": True, "unique": True}),
    ("patients", {"name": "UniqueMrn", "unique": True, "key": {"clinicId": 1, "mrn": 1, "_na": 1},
                  "partialFilterExpression": {"requireUniqueMrn": {"$eq": True}, "mrn": {"$type": "string"}}}),
    ("patients", {"collation": {"strength": 1, "locale": "en"}, "key": {"clinicId": 1, "fullName": 1},
                  "name": "PatientFullNameEn"}),
    ("patients", {"key": {"clinicId": 1, "userId": 1, "tags": 1, "summary.cgmStats.dates.lastData": 1,
                          "summary.cgmStats.periods.7d.timeInTargetPercent": 1},
                  "partialFilterExpression": {"summary.cgmStats.periods.7d.timeCGMUsePercent": {"$gte": 0.7},
                                              "summary.cgmStats.periods.7d.timeInTargetPercent": {"$gte": 0.7}},
                  "name": "MeetingTargetsIndex7d"}),
    ("scheduledSummaryAndReportsOrders", {"expireAfterSeconds": 7776000,
                                          "name": "CleanupExpiredRescheduledOrdersAfter90d",
                                          "key": {"createdTime": 1}}),
]


def _precreate(db, specs) -> None:
    for collection, spec in specs:
        db.command({"createIndexes": collection, "indexes": [spec]})


def test_start_keeps_equivalent_indexes_created_with_other_option_orders(caplog):
    settings = stores.settings(fresh=True)
    if not stores.on_wire():
        pytest.skip("needs a database that outlives one app (a server)")
    db = pymongo.MongoClient(stores.uri(), tz_aware=True)[settings.database_name]
    _precreate(db, REORDERED)
    caplog.set_level(logging.INFO, logger="clinic_api.store")
    app = create_app(settings)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert present(app.services.store.db) == expected(db)
    mrn = db.patients.index_information()["UniqueMrn"]
    assert list(mrn["partialFilterExpression"]) == ["requireUniqueMrn", "mrn"]  # theirs, untouched
    check = _cli(stores.env(TIDEPOOL_CLINIC_DATABASE_NAME=settings.database_name), "--check")
    assert check.returncode == 0, check.stdout


def test_start_reports_a_differing_index_once_and_leaves_it_alone(caplog):
    settings = stores.settings(fresh=True)
    if not stores.on_wire():
        pytest.skip("needs a database that outlives one app (a server)")
    db = pymongo.MongoClient(stores.uri(), tz_aware=True)[settings.database_name]
    _precreate(db, [("patients", {"key": {"clinicId": 1, "mrn": -1}, "name": "PatientMRN"}),
                    ("outbox", {"key": {"createdTime": 1}, "name": "OutboxByCreatedTime", "unique": True})])
    caplog.set_level(logging.INFO, logger="clinic_api.store")
    app = create_app(settings)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "store: 2 index(es) differ from the declared ones and were left alone: "
        "patients.PatientMRN: keys {'clinicId': 1, 'mrn': -1} instead of {'clinicId': 1, 'mrn': 1}; "
        "outbox.OutboxByCreatedTime: options differ: unique is True, declared None "
        "(see `clinic-api create-indexes --check`)"]
    assert db.patients.index_information()["PatientMRN"]["key"] == [("clinicId", 1), ("mrn", -1)]
    others = present(app.services.store.db)
    assert others == expected(db)  # every other index is there
    check = _cli(stores.env(TIDEPOOL_CLINIC_DATABASE_NAME=settings.database_name), "--check")
    assert check.returncode == 1
    assert [line for line in check.stdout.splitlines() if line.startswith("differs")] == [
        "differs: patients.PatientMRN: keys {'clinicId': 1, 'mrn': -1} instead of {'clinicId': 1, 'mrn': 1}",
        "differs: outbox.OutboxByCreatedTime: options differ: unique is True, declared None"]
