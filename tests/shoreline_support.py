"""A real local HTTP server (pytest-httpserver) playing Tidepool's shoreline and seagull for the
tidepool-mode tests: the server login every tidepool client starts with, and settings that point
this service at that server."""
from __future__ import annotations

from werkzeug import Response

from clinic_api.settings import Settings
from support import stores

SERVER_SECRET = "shoreline-server-secret"
SERVER_TOKEN = "our-server-token"
OUR_TOKEN = {"x-tidepool-session-token": SERVER_TOKEN}


def serve_server_login(httpserver):
    """Answer `POST /serverlogin` as shoreline: our token for server `clinics` with our secret, else 401."""
    def login(request):
        if (request.headers.get("x-tidepool-server-name") == "clinics"
                and request.headers.get("x-tidepool-server-secret") == SERVER_SECRET):
            return Response("", status=200, headers=OUR_TOKEN)
        return Response("", status=401)

    httpserver.expect_request("/serverlogin", method="POST").respond_with_handler(login)
    return httpserver


def tidepool_settings(server, *, seagull_path: str = "", **extra) -> Settings:
    """Tidepool mode against `server` (shoreline at its root, seagull at `seagull_path`)."""
    base = server.url_for("").rstrip("/")
    return Settings.from_env(stores.with_store({"CLINIC_INTEGRATIONS": "tidepool", "CLINIC_VALIDATE_RESPONSES": "true",
                              "TIDEPOOL_SHORELINE_CLIENT_ADDRESS": base,
                              "TIDEPOOL_SEAGULL_CLIENT_ADDRESS": base + seagull_path,
                              "TIDEPOOL_SERVER_TOKEN": SERVER_SECRET, **extra}))
