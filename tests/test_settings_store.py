"""Settings from the environment, the store URI, the indexes, the command line."""
import subprocess
import sys

import pytest

from clinic_api.settings import Settings, SettingsError, mongo_uri_from_env
from clinic_api.store import indexes


def test_defaults_are_zero_configuration():
    s = Settings.from_env({})
    assert s.store == "local" and s.data_dir == "data" and s.host == "127.0.0.1"
    assert not s.embedded_store and s.port == 8080 and s.database_name == "clinic"
    assert s.integrations == "standalone" and s.effects == "inline"


def test_uri_built_exactly_as_the_reference():
    env = {"TIDEPOOL_STORE_SCHEME": "mongodb+srv", "TIDEPOOL_STORE_ADDRESSES": "cluster.example.net",
           "TIDEPOOL_STORE_USERNAME": "u", "TIDEPOOL_STORE_PASSWORD": "p",
           "TIDEPOOL_STORE_OPT_PARAMS": "retryWrites=true"}
    assert mongo_uri_from_env(env) == "mongodb+srv://u:p@cluster.example.net/?ssl=false&retryWrites=true"
    assert mongo_uri_from_env({"TIDEPOOL_STORE_TLS": "true"}) == "mongodb://localhost/?ssl=true"
    assert mongo_uri_from_env({"MONGODB_URI": "mongodb://db:27017"}) == "mongodb://db:27017"
    assert mongo_uri_from_env({}) == ""


@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_go_booleans_only(value):
    with pytest.raises(SettingsError):
        Settings.from_env({"TIDEPOOL_STORE_TLS": value})


def test_bad_modes_stop_the_start():
    with pytest.raises(SettingsError):
        Settings.from_env({"CLINIC_INTEGRATIONS": "other"})
    with pytest.raises(SettingsError):
        Settings.from_env({"LOG_LEVEL": "loud"})
    assert Settings.from_env({"LOG_LEVEL": ""}).log_level == "info"


def test_indexes_exactly_as_the_reference(db):
    info = db.patients.index_information()
    assert info["UniqueMrn"]["key"] == [("clinicId", 1), ("mrn", 1), ("_na", 1)]
    assert info["UniqueMrn"]["unique"] is True
    assert info["UniqueMrn"]["partialFilterExpression"] == {"mrn": {"$type": "string"},
                                                            "requireUniqueMrn": {"$eq": True}}
    assert info["MeetingTargetsIndex7d"]["partialFilterExpression"] == {
        "summary.cgmStats.periods.7d.timeInTargetPercent": {"$gte": 0.7},
        "summary.cgmStats.periods.7d.timeCGMUsePercent": {"$gte": 0.7}}
    assert set(db.clinics.index_information()) == {"_id_", "UniqueShareCodes", "UniqueCanonicalShareCode"}
    assert db.clinician_deletions.index_information()["ClinicianDeletion"]["key"] == [("clinician.clinicId,userId", 1)]
    sched = db.scheduledSummaryAndReportsOrders.index_information()
    assert sched["CleanupExpiredRescheduledOrdersAfter90d"]["expireAfterSeconds"] == 7776000
    assert indexes.create_all(db) == []  # idempotent: a second run creates nothing and succeeds


def test_partial_unique_mrn_index_behaves(db):
    from bson import ObjectId
    from pymongo.errors import DuplicateKeyError
    c = ObjectId()
    db.patients.insert_one({"clinicId": c, "userId": "a", "mrn": "1", "requireUniqueMrn": False})
    db.patients.insert_one({"clinicId": c, "userId": "b", "mrn": "1", "requireUniqueMrn": False})
    db.patients.insert_one({"clinicId": c, "userId": "c", "mrn": None, "requireUniqueMrn": True})
    db.patients.insert_one({"clinicId": c, "userId": "d", "mrn": None, "requireUniqueMrn": True})
    db.patients.insert_one({"clinicId": c, "userId": "e", "mrn": "X", "requireUniqueMrn": True})
    with pytest.raises(DuplicateKeyError):
        db.patients.insert_one({"clinicId": c, "userId": "f", "mrn": "X", "requireUniqueMrn": True})


def test_cli_mints_tokens_the_server_accepts(client, db):
    env = {"CLINIC_TOKEN_SECRET": "test-secret-for-the-clinic-api-suite-0123456789", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "clinic_api.cli", "token", "--server"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    resp = client.get("/v1/clinics", headers={"x-tidepool-session-token": out})
    assert resp.status_code == 200
    out = subprocess.run([sys.executable, "-m", "clinic_api.cli", "token", "--user-id", "1234567890"], env=env,
                         capture_output=True, text=True, check=True).stdout.strip()
    resp = client.get("/v1/clinics", headers={"x-tidepool-session-token": out})
    assert resp.status_code == 403  # a user, not a server
