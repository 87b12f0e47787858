"""HTTP plumbing shared by the tidepool clients: this service's own server session token,
obtained from shoreline's /serverlogin (server name `clinics`) and refreshed hourly."""
from __future__ import annotations

import threading
import time

import httpx

from clinic_api.integrations import http
from clinic_api.settings import Settings

TOKEN_HEADER = "x-tidepool-session-token"
REFRESH_SECONDS = 3600


class ServerSession:
    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self.bases = {"shoreline": settings.shoreline_address.rstrip("/"),
                      "seagull": settings.seagull_address.rstrip("/"),
                      "auth": settings.auth_address.rstrip("/")}
        # No TLS verification, as the reference's shoreline/seagull client; unlike it, bounded in time.
        self.http = http.client("shoreline", timeout=http.timeout_for(settings), verify=False, transport=transport)
        self._token = ""
        self._fetched = 0.0
        self._lock = threading.Lock()

    def token(self) -> str:
        with self._lock:
            if not self._token or time.monotonic() - self._fetched > REFRESH_SECONDS:
                resp = self.http.post(f"{self.bases['shoreline']}/serverlogin",
                                      headers={"x-tidepool-server-name": "clinics",
                                               "x-tidepool-server-secret": self.settings.server_token})
                if resp.status_code != 200 or not resp.headers.get(TOKEN_HEADER):
                    raise httpx.HTTPStatusError("server login failed", request=resp.request, response=resp)
                self._token = resp.headers[TOKEN_HEADER]
                self._fetched = time.monotonic()
            return self._token

    def request(self, method: str, path: str, *, base: str, **kwargs) -> httpx.Response:
        headers = {TOKEN_HEADER: self.token(), **kwargs.pop("headers", {})}
        extensions = {http.SERVICE: base, **kwargs.pop("extensions", {})}
        return self.http.request(method, self.bases[base] + path, headers=headers, extensions=extensions, **kwargs)

    def get(self, path: str, *, base: str, **kwargs) -> httpx.Response:
        return self.request("GET", path, base=base, **kwargs)
