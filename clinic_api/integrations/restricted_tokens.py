"""Restricted tokens: short-lived tokens that let the holder read one user's data (the Xealth PDF
report link carries one).

standalone (default): minted and checked here; kept in our own `restricted_tokens` collection
(`{_id: <32 hex>, userId, createdTime, expirationTime}`), valid for one hour as the platform's.
tidepool: the platform auth service at TIDEPOOL_AUTH_CLIENT_ADDRESS, as the reference calls it
(runtime note §5.8(b)): `POST /v1/users/{userId}/restricted_tokens` with body `{}` and
`GET /v1/restricted_tokens/{id}` (404 = no such token), authenticated by this service's platform
server session token (`POST {TIDEPOOL_AUTH_CLIENT_EXTERNAL_ADDRESS}/auth/serverlogin`, server name
`clinic`, refreshed hourly) or, when TIDEPOOL_SERVICE_SECRET is set, by that secret instead.

Both answer tokens as {"id", "userId", "expirationTime": aware datetime}.
"""
from __future__ import annotations

import datetime as _dt
import logging
import secrets
import threading
import time
import urllib.parse

import httpx

from clinic_api import wire
from clinic_api.errors import InternalError
from clinic_api.integrations import http
from clinic_api.store import restricted_tokens as tokens_store

log = logging.getLogger("clinic_api.restricted_tokens")
COLLECTION = tokens_store.COLLECTION
LIFETIME = _dt.timedelta(hours=1)
REFRESH_SECONDS = 3600
SESSION_HEADER = "X-Tidepool-Session-Token"


class StandaloneRestrictedTokens:
    def __init__(self, store, clock=wire.now):
        self.store = store
        self.clock = clock

    def create(self, user_id: str) -> dict:
        now = self.clock()
        doc = {"_id": secrets.token_hex(16), "userId": user_id, "createdTime": now, "expirationTime": now + LIFETIME}
        tokens_store.insert(self.store.db, doc)
        return {"id": doc["_id"], "userId": user_id, "expirationTime": doc["expirationTime"]}

    def get(self, token_id: str) -> dict | None:
        doc = tokens_store.get(self.store.db, token_id) if token_id else None
        if doc is None:
            return None
        return {"id": doc["_id"], "userId": doc.get("userId", ""), "expirationTime": doc.get("expirationTime")}


class PlatformSession:
    """This service's server session token at the platform auth service (server name `clinic`)."""

    def __init__(self, settings, http: httpx.Client):
        self.settings = settings
        self.http = http
        self._token = ""
        self._fetched = 0.0
        self._lock = threading.Lock()

    def headers(self) -> dict:
        if self.settings.service_secret:
            return {"X-Tidepool-Service-Secret": self.settings.service_secret}
        return {SESSION_HEADER: self._server_token()}

    def _server_token(self) -> str:
        with self._lock:
            if not self._token or time.monotonic() - self._fetched > REFRESH_SECONDS:
                base = self.settings.auth_external_address.rstrip("/")
                try:
                    resp = self.http.post(f"{base}/auth/serverlogin", extensions={"service": "auth_external"},
                                          headers={"X-Tidepool-Server-Name": "clinic",
                                                   "X-Tidepool-Server-Secret": self.settings.auth_server_secret})
                except httpx.HTTPError as exc:
                    raise InternalError("platform server login unreachable") from exc
                token = resp.headers.get(SESSION_HEADER, "")
                if resp.status_code != 200 or not token:
                    raise InternalError(f"platform server login answered {resp.status_code}")
                self._token, self._fetched = token, time.monotonic()
            return self._token


def _token_from(body) -> dict:
    if not isinstance(body, dict) or not isinstance(body.get("id"), str) or not body["id"]:
        raise InternalError("unusable restricted token")
    try:
        expires = wire.parse_time(body.get("expirationTime") or "")
    except (ValueError, TypeError):
        expires = None
    return {"id": body["id"], "userId": body.get("userId") or "", "expirationTime": expires}


class TidepoolRestrictedTokens:
    def __init__(self, settings, transport: httpx.BaseTransport | None = None):
        self.base = settings.auth_address.rstrip("/")
        self.http = http.client("auth", timeout=http.timeout_for(settings), transport=transport)
        self.session = PlatformSession(settings, self.http)

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            return self.http.request(method, self.base + path, headers=self.session.headers(), **kwargs)
        except httpx.HTTPError as exc:
            raise InternalError("platform auth service unreachable") from exc

    def create(self, user_id: str) -> dict:
        resp = self._request("POST", f"/v1/users/{urllib.parse.quote(user_id, safe='')}/restricted_tokens", json={})
        if resp.status_code not in (200, 201):
            raise InternalError(f"restricted token creation answered {resp.status_code}")
        return _token_from(_json(resp))

    def get(self, token_id: str) -> dict | None:
        if not token_id:
            return None
        resp = self._request("GET", f"/v1/restricted_tokens/{urllib.parse.quote(token_id, safe='')}",
                             extensions={"route": "/v1/restricted_tokens/{id}"})
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise InternalError(f"restricted token lookup answered {resp.status_code}")
        return _token_from(_json(resp))


def _json(resp: httpx.Response):
    try:
        return resp.json()
    except ValueError:
        raise InternalError("undecodable answer of the platform auth service") from None
