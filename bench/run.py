"""`make bench`: the cost of the main operations per clinic size and per store, and the pipeline's
cost against a bare Flask twin.

For each store (memory: mongomock-ng in-process; secantus: a SecantusDB server started here on a
temporary directory, reached over the wire) and each clinic size (1k, 10k, 50k patients), a clinic
is seeded in bulk (bench/seed.py) and GetClinic, UpdatePatient, CreatePatientAccount, ListPatients
(plain, and search + name sort + a summary filter) and TideReport are sent to the full application
in-process (bench/drive.py). Reported: p50/p95 latency, commands per request, and the growth of p50
from the smallest to the largest size. Each cell runs for about `--budget` seconds (at least
`--min-requests`, at most `--max-requests` requests), so slow cells run few requests.

The pipeline ratio: GetClinic on a clinic without patients (the store's cost as small as it gets, so
the pipeline shows) sent alternately to the full app and to the bare Flask twin (bench/twin.py: the
same token check, policy row, handler and JSON writer as plain WSGI), in interleaved rounds;
throughput(full) / throughput(twin). GetClinic's ratio at each size is listed too.

Run: make bench   (or .venv/bin/python bench/run.py --sizes 1000,10000 --stores memory)
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import a2wsgi  # noqa: E402
import orjson  # noqa: E402

import drive  # noqa: E402
import seed as seeding  # noqa: E402
import twin  # noqa: E402
from clinic_api import logging_setup, services as services_mod  # noqa: E402
from clinic_api.app import create_app  # noqa: E402
from clinic_api.auth.tokens import mint  # noqa: E402
from clinic_api.settings import Settings  # noqa: E402
from clinic_api.store import local_server  # noqa: E402

SECRET = "bench-secret-0123456789abcdef0123456789"
SEARCH = {"search": "an", "sort": "+fullName", "sortType": "cgm", "cgm.timeInTargetPercent": ">=0.5", "limit": "50"}
OPERATIONS = ("GetClinic", "UpdatePatient", "CreatePatientAccount", "ListPatients", "ListPatients search",
              "TideReport")


class Cell:
    def __init__(self, latencies: list[float], commands: list[int]):
        latencies = sorted(latencies)
        self.n = len(latencies)
        self.p50 = statistics.median(latencies) * 1000
        self.p95 = latencies[max(0, int(round(0.95 * len(latencies))) - 1)] * 1000
        self.commands = statistics.mean(commands)


def requests_for(ids: dict, admin: dict, counter: list[int]):
    """operation -> a function sending the i-th request of it; each returns drive.Reply."""
    c = ids["clinic"]
    cutoff = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    tide = urllib.parse.urlencode({"period": "14d", "tags": ids["tag"], "lastDataCutoff": cutoff})
    users = ids["users"]

    def create(api, i):
        counter[0] += 1
        body = {"fullName": f"New Patient {counter[0]}", "birthDate": "2001-02-03",
                "email": f"new{counter[0]}.{c}@example.org", "mrn": f"NEW{counter[0]:06d}"}
        return api.request("POST", f"/v1/clinics/{c}/patients", headers=admin, body=orjson.dumps(body))

    return {
        "GetClinic": lambda api, i: api.request("GET", f"/v1/clinics/{c}", headers=admin),
        "UpdatePatient": lambda api, i: api.request(
            "PUT", f"/v1/clinics/{c}/patients/{users[i % len(users)]}", headers=admin,
            body=orjson.dumps({"fullName": f"Updated Name {i}", "birthDate": "1990-01-01"})),
        "CreatePatientAccount": create,
        "ListPatients": lambda api, i: api.request("GET", f"/v1/clinics/{c}/patients", "limit=50", headers=admin),
        "ListPatients search": lambda api, i: api.request("GET", f"/v1/clinics/{c}/patients",
                                                          urllib.parse.urlencode(SEARCH), headers=admin),
        "TideReport": lambda api, i: api.request("GET", f"/v1/clinics/{c}/tide_report", tide, headers=admin),
    }


def measure(send, api, counter: drive.CommandCounter, args) -> Cell:
    latencies, commands = [], []
    started = time.perf_counter()
    i = 0
    while True:
        before = counter.count
        t0 = time.perf_counter()
        reply = send(api, i)
        took = time.perf_counter() - t0
        assert reply.status == 200, (reply.status, reply.body[:300])
        # The first request warms caches up; when it is slow anyway it counts as a sample.
        if i > 0 or took > 0.5:
            latencies.append(took)
            commands.append(counter.count - before)
        i += 1
        spent = time.perf_counter() - started
        if len(latencies) >= args.max_requests:
            break
        if len(latencies) >= args.min_requests and spent >= args.budget:
            break
    return Cell(latencies, commands)


def pipeline_ratio(ours: drive.AsgiDriver, bare: drive.WsgiDriver, clinic_id: str, admin: dict,
                   rounds: int, per_round: int) -> tuple[float, float, float, float]:
    """GetClinic on `clinic_id` through both, in alternating rounds: (throughput ratio full/twin by
    CPU time, the same by wall time, full app's CPU ms per request, twin's CPU ms per request).
    CPU time (of this process, all threads) is what bounds a worker's throughput, and unlike wall
    time it is not moved by other processes' load on the machine."""
    path = f"/v1/clinics/{clinic_id}"
    for driver in (ours, bare):
        reply = driver.request("GET", path, headers=admin)
        assert reply.status == 200, (reply.status, reply.body)
    totals = {"ours": [0.0, 0.0], "bare": [0.0, 0.0]}
    for _ in range(rounds):
        for name, driver in (("ours", ours), ("bare", bare)):
            wall, cpu = drive.timed(lambda d=driver: d.request("GET", path, headers=admin), per_round)
            totals[name][0] += wall
            totals[name][1] += cpu
    n = rounds * per_round
    (ours_wall, ours_cpu), (bare_wall, bare_cpu) = totals["ours"], totals["bare"]
    return bare_cpu / ours_cpu, bare_wall / ours_wall, ours_cpu / n * 1000, bare_cpu / n * 1000


def settings_for(store: str, uri: str, size: int) -> Settings:
    env = {"CLINIC_TOKEN_SECRET": SECRET, "LOG_LEVEL": "info"}
    if store == "memory":
        env["CLINIC_STORE"] = "memory"
    else:
        # A long limit: dropping the 50k database at the end takes SecantusDB longer than the default 15 s.
        env.update(CLINIC_STORE="mongodb", MONGODB_URI=uri, TIDEPOOL_CLINIC_DATABASE_NAME=f"bench_{size}",
                   CLINIC_DB_TIMEOUT_MS="300000")
    return Settings.from_env(env)


def run_pipeline(store: str, uri: str, args, out: dict) -> None:
    """The pipeline ratio, on a database of its own holding one clinic and no patients."""
    admin = {"x-tidepool-session-token": mint(SECRET, seeding.ADMIN)}
    settings = settings_for(store, uri, 0)
    services = services_mod.build(settings)
    if store != "memory":
        services.store.client.drop_database(settings.database_name)
    api = drive.AsgiDriver(create_app(settings, services=services))
    bare = drive.WsgiDriver(twin.bare_flask(services).wsgi_app)
    made = api.request("POST", "/v1/clinics", headers=admin,
                       body=orjson.dumps({"name": "Empty", "preferredBgUnits": "mg/dL"}))
    out[(store, "pipeline")] = pipeline_ratio(api, bare, made.json()["id"], admin, args.rounds, args.per_round)
    # Where the difference goes: the same twin behind a2wsgi, the ASGI->WSGI bridge FlaskApp runs
    # its Flask app through (a thread hop per request), on the same driver as the full app.
    bridged = drive.AsgiDriver(a2wsgi.WSGIMiddleware(twin.bare_flask(services).wsgi_app))
    out[(store, "bridge")] = pipeline_ratio(bridged, bare, made.json()["id"], admin, args.rounds, args.per_round)
    bridged.close()
    print(f"  {store}: pipeline ratio {out[(store, 'pipeline')][0]:.2f}x", file=sys.stderr, flush=True)
    if args.profile:
        import cProfile
        import pstats

        path = f"/v1/clinics/{made.json()['id']}"
        profile = cProfile.Profile()
        profile.enable()
        drive.timed(lambda: api.request("GET", path, headers=admin), args.per_round)
        profile.disable()
        print(f"\nprofile of {args.per_round} GetClinic requests through the full app ({store}):")
        pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(args.profile)
    api.close()
    if store != "memory":
        services.store.client.drop_database(settings.database_name)
    services.store.client.close()


def run_store(store: str, uri: str, sizes: list[int], counter, args, out: dict) -> None:
    run_pipeline(store, uri, args, out)
    admin = {"x-tidepool-session-token": mint(SECRET, seeding.ADMIN)}
    server = {"x-tidepool-session-token": mint(SECRET, "server", server=True)}
    for size in sizes:
        settings = settings_for(store, uri, size)
        services = services_mod.build(settings)
        if store != "memory":
            services.store.client.drop_database(settings.database_name)
        app = create_app(settings, services=services)
        api = drive.AsgiDriver(app)
        t0 = time.perf_counter()
        ids = seeding.clinic(services.store, api, admin, server, size)
        timings = ids["timings"]
        print(f"  {store}: {size:,} patients seeded in {time.perf_counter() - t0:.1f}s (insert_many "
              f"{timings['insert']:.1f}s, RefreshPatientCount {timings['refresh']:.1f}s)", file=sys.stderr, flush=True)
        created = [0]
        for op, send in requests_for(ids, admin, created).items():
            out[(store, op, size)] = cell = measure(send, api, counter, args)
            print(f"    {op:22} p50 {cell.p50:9.1f} ms  n={cell.n}", file=sys.stderr, flush=True)
        bare = drive.WsgiDriver(twin.bare_flask(services).wsgi_app)
        # Alternating single requests, so a drift of the machine's load hits both sides alike.
        pairs = max(1, min(40, int(args.budget / max(out[(store, "GetClinic", size)].p50 / 1000, 1e-4))))
        out[(store, "ratio", size)] = pipeline_ratio(api, bare, ids["clinic"], admin, pairs, 1)
        api.close()
        if store != "memory":
            services.store.client.drop_database(settings.database_name)
        services.store.client.close()


def fmt_ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def print_table(out: dict, stores: list[str], sizes: list[int]) -> None:
    label = {s: f"{s // 1000}k" if s % 1000 == 0 else str(s) for s in sizes}
    head = f"{'store':9} {'operation':22}" + "".join(f" {label[s] + ' p50/p95 ms':>20} {'cmds':>5}" for s in sizes)
    grow = f"growth {label[sizes[0]]}→{label[sizes[-1]]}" if len(sizes) > 1 else ""
    operations = OPERATIONS if sizes else ()
    print(head + f" {grow:>14}")
    print("-" * (len(head) + 15))
    for store in stores:
        for op in operations:
            cells = [out.get((store, op, s)) for s in sizes]
            row = f"{store:9} {op:22}"
            for cell in cells:
                row += (f" {fmt_ms(cell.p50) + ' / ' + fmt_ms(cell.p95):>20} {cell.commands:5.1f}" if cell
                        else f" {'-':>20} {'-':>5}")
            if len(sizes) > 1 and cells[0] and cells[-1]:
                row += f" {cells[-1].p50 / cells[0].p50:13.1f}x"
            print(row)
        ratios = [out.get((store, "ratio", s)) for s in sizes]
        if sizes:
            print(f"{store:9} {'GetClinic ÷ bare Flask':22}" + "".join(
                f" {(f'{r[0]:.2f}x' if r else '-'):>20} {'':5}" for r in ratios))
        pipe = out.get((store, "pipeline"))
        if pipe:
            print(f"{store:9} pipeline (GetClinic, clinic without patients): {pipe[0]:.2f}x the bare Flask twin's "
                  f"throughput (CPU {pipe[2]:.2f} vs {pipe[3]:.2f} ms per request; by wall time {pipe[1]:.2f}x)")
        bridge = out.get((store, "bridge"))
        if pipe and bridge:
            print(f"{store:9}   of which the ASGI->WSGI bridge alone (the twin behind a2wsgi): CPU {bridge[2]:.2f} ms "
                  f"({bridge[0]:.2f}x); connexion and our middlewares: {pipe[2] - bridge[2]:.2f} ms")
    print("p50/p95: latency of one request in process (no socket); cmds: store commands per request "
          "(memory: top-level collection calls; secantus: PyMongo command monitoring). "
          "÷ bare Flask: throughput (by CPU time per request) of the full app over the twin's (bench/twin.py); "
          "goal >= 0.80x.")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="clinic sizes, comma separated ('' for the "
                        "pipeline ratio alone)")
    parser.add_argument("--stores", default="memory,secantus", help="memory and/or secantus")
    parser.add_argument("--budget", type=float, default=1.5, help="seconds per cell (after the minimum)")
    parser.add_argument("--min-requests", type=int, default=2)
    parser.add_argument("--max-requests", type=int, default=300,
                        help="at most this many per cell: cheap cells take many samples, so their p50 holds still")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of the pipeline ratio")
    parser.add_argument("--per-round", type=int, default=200, help="requests per side per round")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N heaviest entries of a cProfile of the pipeline's GetClinic")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(",") if s)
    stores = [s for s in args.stores.split(",") if s]
    for store in stores:
        if store not in ("memory", "secantus"):
            parser.error(f"unknown store {store!r} (memory, secantus)")
    # Production logging (one JSON line per request) into the void: its cost is part of the pipeline.
    logging_setup.configure("info", stream=open(os.devnull, "w"))  # noqa: SIM115
    counter = drive.CommandCounter()
    out: dict = {}
    started = time.perf_counter()
    for store in stores:
        if store == "memory":
            run_store(store, "", sizes, counter, args, out)
            continue
        with tempfile.TemporaryDirectory(prefix="clinic-bench-") as tmp:
            server = local_server.LocalServer(tmp)
            uri = server.start()
            try:
                run_store(store, uri, sizes, counter, args, out)
            finally:
                server.stop()
    print(f"\nclinic-api bench, {os.cpu_count()} CPUs, {time.perf_counter() - started:.0f}s\n")
    print_table(out, stores, sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
