"""clinic-api: serve · check-config · token · create-indexes · rebuild-counts."""
from __future__ import annotations

import argparse
import os
import sys

from clinic_api import startup
from clinic_api.settings import Settings, SettingsError

DEFAULT_TTL = 86_400


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="clinic-api", description="Tidepool Clinics API service")
    sub = parser.add_subparsers(dest="command", required=True)
    tok = sub.add_parser("token", help="mint a session token for CLINIC_TOKEN_SECRET (standalone mode)")
    who = tok.add_mutually_exclusive_group(required=True)
    who.add_argument("--user-id", help="the user id the token speaks for")
    who.add_argument("--server", action="store_true", help="a backend-service (server) token")
    tok.add_argument("--email", default="", help="the user's email (standalone mode remembers it)")
    tok.add_argument("--name", default="", help="the user's full name")
    tok.add_argument("--service-name", default="clinic-api-server", help="subject of a --server token")
    tok.add_argument("--ttl", type=int, default=DEFAULT_TTL,
                     help=f"lifetime in seconds (default: {DEFAULT_TTL}, one day); 0 for none")
    srv = sub.add_parser("serve", help="serve the API with gunicorn on $PORT")
    srv.add_argument("--port", type=int, default=None)
    idx = sub.add_parser("create-indexes", help="create every declared index that is missing (idempotent) and exit")
    idx.add_argument("--check", action="store_true",
                     help="create nothing: list missing and differing indexes; exit 1 if there are any")
    sub.add_parser("rebuild-counts", help="recount every clinic's patient count and per-tag/per-site patient "
                                          "counts from its patients (after data written by another service)")
    sub.add_parser("check-config", help="check the settings as a start would; print them with secrets masked")
    args = parser.parse_args(argv)
    if args.command == "check-config":
        return _check_config()
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        for line in exc.problems:
            print(f"clinic-api: {line}", file=sys.stderr)
        return startup.EXIT_CONFIG

    if args.command == "token":
        from clinic_api.auth.tokens import mint

        subject = args.service_name if args.server else args.user_id
        print(mint(settings.token_secret, subject, server=args.server, email=args.email, name=args.name,
                   ttl_seconds=args.ttl or None))
        return 0
    if args.command == "create-indexes":
        return _indexes(settings, check=args.check)
    if args.command == "rebuild-counts":
        return _rebuild_counts(settings)
    if args.command == "serve":
        port = str(args.port or settings.port)
        os.environ["PORT"] = port
        found = startup.problems()[1]
        if found:
            for line in found:
                print(f"clinic-api: {line}", file=sys.stderr)
            return startup.EXIT_CONFIG
        # The config is a module of the package, so this works from any directory.
        os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "-c", "python:clinic_api.gunicorn_conf",
                                   "clinic_api.asgi:app"])
    return 1


def _check_config() -> int:
    """The effective configuration (secrets masked) and every problem a start would refuse;
    with a database configured, whether it answers (within ~5 s) and has transactions."""
    settings, found = startup.problems()
    if settings is not None:
        for name, value in settings.masked().items():
            print(f"{name}: {value}")
        if not found:
            from clinic_api.store import client

            if settings.store == "mongodb":
                try:
                    client.preflight(settings)
                except client.StoreError as exc:
                    found = [f"MONGODB_URI: {exc}"]
    for line in found:
        print(f"clinic-api: {line}", file=sys.stderr)
    if found:
        return startup.EXIT_CONFIG
    print("configuration ok")
    return 0


def _indexes(settings, *, check: bool) -> int:
    from clinic_api.store import client, indexes

    try:
        store = client.connect(settings)
    except client.StoreError as exc:
        print(f"clinic-api: {exc}", file=sys.stderr)
        return 2
    if check:
        missing, report = indexes.plan(store.db, memory=store.embedded)
        required = [(c, m) for c, m in missing if (c, m.document["name"]) != indexes.TEXT_SEARCH_INDEX]
        for collection, model in missing:
            optional = "" if (collection, model) in required else " (text search: servers without it serve a scan)"
            print(f"missing: {collection}.{model.document['name']}{optional}")
        for line in report.differing:
            print(f"differs: {line}")
        print(f"{len(report.kept)} indexes as declared, {len(missing)} missing, {len(report.differing)} differing")
        return 1 if required or report.differing else 0
    report = indexes.ensure(store)
    for line in report.refused:
        print(f"not created: {line}")
    for line in report.differing:
        print(f"differs (left alone): {line}")
    print(f"{len(report.created)} created, {len(report.kept)} already in place, {len(report.refused)} refused, "
          f"{len(report.differing)} differing")
    return 0


def _rebuild_counts(settings) -> int:
    from clinic_api.domain import patient_counts
    from clinic_api import services
    from clinic_api.store import client

    try:
        store = client.connect(settings)
    except client.StoreError as exc:
        print(f"clinic-api: {exc}", file=sys.stderr)
        return 2
    done = patient_counts.rebuild_all(services.build(settings, store))
    print(f"{done} clinics recounted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
