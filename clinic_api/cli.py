"""clinic-api: serve · token · create-indexes."""
from __future__ import annotations

import argparse
import os
import sys

from clinic_api.settings import Settings


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
    tok.add_argument("--ttl", type=int, default=0, help="lifetime in seconds (default: no expiry)")
    srv = sub.add_parser("serve", help="serve the API with gunicorn on $PORT")
    srv.add_argument("--port", type=int, default=None)
    sub.add_parser("create-indexes", help="create every index (idempotent) and exit")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.command == "token":
        from clinic_api.auth.tokens import mint

        subject = args.service_name if args.server else args.user_id
        print(mint(settings.token_secret, subject, server=args.server, email=args.email, name=args.name,
                   ttl_seconds=args.ttl or None))
        return 0
    if args.command == "create-indexes":
        from clinic_api.store import client, indexes

        store = client.connect(settings)
        names = indexes.create_all(store.db)
        print(f"{len(names)} indexes in place")
        return 0
    if args.command == "serve":
        port = str(args.port or settings.port)
        os.environ["PORT"] = port
        # The config is a module of the package, so this works from any directory.
        os.execvp(sys.executable, [sys.executable, "-m", "gunicorn", "-c", "python:clinic_api.gunicorn_conf",
                                   "clinic_api.asgi:app"])
    return 1


if __name__ == "__main__":
    sys.exit(main())
