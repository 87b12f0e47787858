"""Database commands per request (issue 13 item 2): how many each main operation sends, and that no
request sends the same command twice. A change that adds a round-trip fails here; lower a pin when
a change saves one.

The commands are recorded with PyMongo command monitoring: a listener on the MongoClient of an app of
this module's own (`store.client.connect(listeners=...)`), on a database of its own. A command is
its name and its document without what the driver adds per exchange or per session (`lsid`,
`txnNumber`, `$clusterTime`, `$db`, `startTransaction`, `autocommit`, `readConcern`, `writeConcern`,
`maxTimeMS`, ...), plus whether it ran inside a transaction: a read inside a transaction and the
same read outside it count as different commands, because re-reading inside the transaction what
was checked before it is deliberate (the check outside answers early, the one inside is the one the
write relies on). `getMore`, `commitTransaction` and `abortTransaction` are counted like any other.

The memory store (mongomock-ng) sends no wire commands: there the pins are skipped, and only the
recorder itself is tested. Run them with `make test-wire PYTEST_ARGS="tests/test_command_counts.py"`.

Each operation is called as the web app calls it: by a clinician of the clinic (ListClinics, a
backend-service operation, by the server), on a clinic of 12 patients (one page of 10 is full),
after the caller's token and account have been seen once (a first request of a token costs what no
later one does).
"""
from __future__ import annotations

import threading
import urllib.parse
from collections import Counter
from contextlib import contextmanager

import pytest
from bson import ObjectId, json_util
from pymongo import monitoring
from starlette.testclient import TestClient

from clinic_api import services as services_mod
from clinic_api.app import create_app
from clinic_api.store import client as store_client
from conftest import CLINIC_BODY, SECRET, Api, token_for
from patients_support import BIXBY, insert_patient
from support import stores
from tide_fixture import CUTOFF

# What the driver adds to a command per exchange, per session or per transaction: not part of what
# the service asked for. (`maxTimeMS` is what is left of a deadline, different at every call.)
DRIVER_FIELDS = frozenset({"lsid", "txnNumber", "$clusterTime", "$db", "startTransaction", "autocommit",
                           "readConcern", "writeConcern", "maxTimeMS", "$readPreference", "recoveryToken",
                           "apiVersion", "apiStrict", "apiDeprecationErrors"})
TRANSACTION = "[in transaction] "

# --- the pins: commands per request ------------------------------------------------------------------
# The Go reference, for comparison (its handlers, facts only): the caller's clinician record (for
# operations a clinic member may call), then ListPatients one aggregation (page and match count in
# one $facet) and one count of the clinic (3); TideReport a count and a find per reached category
# and for noData (up to 17); GetPatient one find (2); ListClinicians one find (2).

PINS = {
    "ListClinicians": 2,  # the caller's clinician record, the page
    "ListPatients plain": 3,  # the caller's, the page, one count (the match count is the clinic's)
    "ListPatients plain, page not full": 2,  # the caller's, the page (it holds every patient: no count)
    "ListPatients search": 4,  # the caller's, the page, the match count, the clinic's count
    "ListPatients tag filter": 4,  # the same
    "GetPatient": 2,  # the caller's, the patient
    "TideReport": 9,  # the caller's, one find per category (7 by default, none spends the budget), noData
    # The clinic's counts are maintained by the writes (domain/patient_counts.py): a read of a clinic
    # is its document alone, and a patient write adds one update of the clinic to its transaction.
    "GetClinic": 1,  # the clinic (the tag and site counts are on it)
    "ListClinics": 1,  # the page of clinics
    # the caller's; the clinic; the account (standalone: e-mail and id free?, insert); in one
    # transaction: the patient, the clinic's counts, commit; the account's profile (read, write);
    # the clinic's name and the outbox for the sign-up mail
    "CreatePatientAccount": 12,
    # the caller's; the patient; the clinic; in one transaction: the patient's update (only while its
    # counted fields are as read) and its read by _id (store/patients.update_counted says why not one
    # findAndModify), the clinic's counts and updatedTime, commit
    "UpdatePatient": 7,
    "CreatePatientTag": 3,  # the caller's, the clinic, the clinic's tags (while they are as read)
    # the caller's; in one transaction: the clinic's tags, the tag off its patients (the worker's
    # part, done inline), the tag's count off the clinic, commit
    "DeletePatientTag": 5,
}

# Reads one request sends more than once with the same filter (different projections, so not
# identical commands). CreatePatientAccount: the standalone account service checks that the new id is
# free, then reads the profile it writes; the sign-up mail reads the clinic's name.
KNOWN_SAME_READS: dict[str, dict[str, int]] = {
    "CreatePatientAccount": {"find clinics": 2, "find users": 2},
}


# --- the recorder ------------------------------------------------------------------------------------

def command_key(name: str, command: dict) -> str:
    """One command as the service asked for it: name, document without the driver's fields, and
    whether it ran in a transaction."""
    in_transaction = "txnNumber" in command and name not in ("commitTransaction", "abortTransaction")
    body = {k: v for k, v in command.items() if k not in DRIVER_FIELDS}
    return (TRANSACTION if in_transaction else "") + json_util.dumps(body)


def repeated(keys: list[str]) -> dict[str, int]:
    """The commands sent more than once, with how many times."""
    return {key: n for key, n in Counter(keys).items() if n > 1}


def label(key: str) -> str:
    """A recorded command in short: its name and collection (`find patients`), and whether it ran
    in a transaction."""
    prefix = TRANSACTION if key.startswith(TRANSACTION) else ""
    name, target = next(iter(json_util.loads(key[len(prefix):]).items()))
    return f"{prefix}{name} {target}"


READS = frozenset({"find", "aggregate", "count", "distinct"})


def read_key(key: str) -> str | None:
    """A read by what it selects (name, collection, filter or pipeline, in a transaction or not),
    whatever its projection, sort, limit or collation; None for any other command."""
    prefix = TRANSACTION if key.startswith(TRANSACTION) else ""
    document = json_util.loads(key[len(prefix):])
    name, target = next(iter(document.items()))
    if name not in READS:
        return None
    selects = document.get("filter", document.get("pipeline", document.get("query")))
    return f"{prefix}{name} {target} {json_util.dumps(selects)}"


class CommandRecorder(monitoring.CommandListener):
    """Records the started commands while `recording()` is open (requests are sent one at a time)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._commands: list[str] | None = None

    def started(self, event) -> None:
        with self._lock:
            if self._commands is not None:
                self._commands.append(command_key(event.command_name, dict(event.command)))

    def succeeded(self, event) -> None:
        return None

    def failed(self, event) -> None:
        return None

    @contextmanager
    def recording(self):
        commands: list[str] = []
        with self._lock:
            self._commands = commands
        try:
            yield commands
        finally:
            with self._lock:
                self._commands = None


def test_recorder_keys_leave_out_the_driver_fields_and_mark_transactions():
    class Event:
        def __init__(self, name, command):
            self.command_name, self.command = name, command

    recorder = CommandRecorder()
    find = {"find": "patients", "filter": {"clinicId": ObjectId("a" * 24)}, "limit": 1}
    recorder.started(Event("find", find))  # not recording: ignored
    with recorder.recording() as commands:
        recorder.started(Event("find", {**find, "lsid": {"id": 1}, "$db": "clinic", "$clusterTime": {"t": 1}}))
        recorder.started(Event("find", {**find, "lsid": {"id": 2}, "$db": "clinic", "maxTimeMS": 900}))
        recorder.started(Event("find", {**find, "lsid": {"id": 1}, "txnNumber": 1, "startTransaction": True,
                                        "autocommit": False, "readConcern": {}}))
        recorder.started(Event("commitTransaction", {"commitTransaction": 1, "txnNumber": 1, "writeConcern": {}}))
    recorder.started(Event("find", find))
    assert len(commands) == 4
    assert commands[0] == commands[1] == json_util.dumps(find)
    assert commands[2] == TRANSACTION + json_util.dumps(find)
    assert [label(c) for c in commands] == ["find patients", "find patients", TRANSACTION + "find patients",
                                            "commitTransaction 1"]
    assert commands[3] == json_util.dumps({"commitTransaction": 1})
    assert repeated(commands) == {json_util.dumps(find): 2}
    projected = {**find, "projection": {"name": 1}}
    assert read_key(command_key("find", projected)) == read_key(commands[0]) != read_key(commands[2])
    assert read_key(commands[3]) is None
    assert label_of_read(read_key(commands[2]) or "") == TRANSACTION + "find patients"


# --- the app and the clinic --------------------------------------------------------------------------

wire_only = pytest.mark.skipif(not stores.on_wire(), reason="the memory store (mongomock-ng) sends no wire "
                                                            "commands to count: run with CLINIC_TEST_STORE=secantus")
RECORDER = CommandRecorder()
ADMIN_ID = "1234567890"
PATIENTS = 12


@pytest.fixture(scope="module")
def counted_client():
    settings = stores.settings(fresh=True, CLINIC_TOKEN_SECRET=SECRET, CLINIC_VALIDATE_RESPONSES="true")
    store = store_client.connect(settings, listeners=[RECORDER])
    app = create_app(settings, services_mod.build(settings, store))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


class World:
    """A clinic of PATIENTS patients (tagged with its one tag), its admin and the server."""

    def __init__(self, client: TestClient):
        self.db = client.app.services.store.db  # type: ignore[attr-defined]
        stores.empty(self.db)
        self.admin = Api(client, token_for(ADMIN_ID, email="admin@example.com", name="Ada Admin"))
        self.server = Api(client, token_for("server", server=True))
        resp = self.admin.post("/v1/clinics", json=CLINIC_BODY)
        assert resp.status_code == 200, resp.text
        self.clinic_id = resp.json()["id"]
        resp = self.admin.post(f"/v1/clinics/{self.clinic_id}/patient_tags", json={"name": "Tagged"})
        assert resp.status_code == 200, resp.text
        self.tag_id = resp.json()["id"]
        for n in range(PATIENTS):
            insert_patient(self.db, self.clinic_id, f"{n + 1:010x}", fullName=f"Patient {n:02d}",
                           tags=[ObjectId(self.tag_id)])
        self.user_id = f"{1:010x}"
        # Patients written straight into the database leave the clinic's counts to be rebuilt (as
        # data written by another service would): rebuilt here, so what is measured is a clinic
        # whose counts the service keeps.
        assert self.server.post(f"/v1/clinics/{self.clinic_id}/patient_count/refresh").status_code == 200
        # Warm: the admin's token and account are seen once before anything is counted.
        assert self.admin.get(f"/v1/clinics/{self.clinic_id}").status_code == 200
        assert self.server.get("/v1/clinics").status_code == 200


def _tide_url(world: World) -> str:
    query = urllib.parse.urlencode({"period": "14d", "tags": world.tag_id, "lastDataCutoff": CUTOFF})
    return f"/v1/clinics/{world.clinic_id}/tide_report?{query}"


def _patients(world: World, **query) -> str:
    return f"/v1/clinics/{world.clinic_id}/patients" + ("?" + urllib.parse.urlencode(query) if query else "")


# name -> (caller, method, path, body) from a World
OPERATIONS = {
    "GetClinic": lambda w: (w.admin, "GET", f"/v1/clinics/{w.clinic_id}", None),
    "ListClinics": lambda w: (w.server, "GET", "/v1/clinics", None),
    "ListClinicians": lambda w: (w.admin, "GET", f"/v1/clinics/{w.clinic_id}/clinicians", None),
    "ListPatients plain": lambda w: (w.admin, "GET", _patients(w), None),
    "ListPatients plain, page not full": lambda w: (w.admin, "GET", _patients(w, limit=50), None),
    "ListPatients search": lambda w: (w.admin, "GET", _patients(w, search="Patient"), None),
    "ListPatients tag filter": lambda w: (w.admin, "GET", _patients(w, tags=w.tag_id), None),
    "GetPatient": lambda w: (w.admin, "GET", f"/v1/clinics/{w.clinic_id}/patients/{w.user_id}", None),
    "TideReport": lambda w: (w.admin, "GET", _tide_url(w), None),
    "CreatePatientAccount": lambda w: (w.admin, "POST", _patients(w), BIXBY),
    "UpdatePatient": lambda w: (w.admin, "PUT", f"/v1/clinics/{w.clinic_id}/patients/{w.user_id}",
                                {"fullName": "Renamed Patient", "birthDate": "2000-01-01"}),
    "CreatePatientTag": lambda w: (w.admin, "POST", f"/v1/clinics/{w.clinic_id}/patient_tags", {"name": "New tag"}),
    "DeletePatientTag": lambda w: (w.admin, "DELETE", f"/v1/clinics/{w.clinic_id}/patient_tags/{w.tag_id}", None),
}
ALL_PINS = PINS
assert set(OPERATIONS) == set(ALL_PINS)


def record(client: TestClient, name: str) -> list[str]:
    world = World(client)
    caller, method, path, body = OPERATIONS[name](world)
    with RECORDER.recording() as commands:
        resp = caller.request(method, path, json=body)
    assert resp.status_code in (200, 204), (name, resp.status_code, resp.text)
    return list(commands)


@wire_only
@pytest.mark.parametrize("name", list(ALL_PINS))
def test_commands_per_request(counted_client, name):
    commands = record(counted_client, name)
    assert len(commands) == ALL_PINS[name], "\n".join(commands)


@wire_only
@pytest.mark.parametrize("name", list(ALL_PINS))
def test_no_command_sent_twice(counted_client, name):
    commands = record(counted_client, name)
    assert repeated(commands) == {}, "\n".join(f"{n}x {key}" for key, n in repeated(commands).items())


@wire_only
@pytest.mark.parametrize("name", list(ALL_PINS))
def test_no_read_repeated(counted_client, name):
    """The same selection read twice (outside a transaction, or twice inside one) is a round-trip
    to save, whatever the projections: only the known ones of the operations under rework remain."""
    reads = [k for k in map(read_key, record(counted_client, name)) if k is not None]
    repeats = {label_of_read(key): n for key, n in repeated(reads).items()}
    assert repeats == KNOWN_SAME_READS.get(name, {}), "\n".join(f"{n}x {key}" for key, n in repeated(reads).items())


def label_of_read(key: str) -> str:
    """`find users` of a read key (`[in transaction] find users` inside one)."""
    prefix = TRANSACTION if key.startswith(TRANSACTION) else ""
    return prefix + " ".join(key[len(prefix):].split(" ", 2)[:2])
