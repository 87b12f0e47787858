"""The Xealth partner API, as the reference calls it (auth note §4.2.2).

OAuth2 client credentials at TIDEPOOL_XEALTH_TOKEN_URL (client id and secret, form-escaped, in an
HTTP Basic header; form `grant_type=client_credentials`, no scope); the access token is reused
until 30 seconds before it expires. Orders are read with
`GET {TIDEPOOL_XEALTH_SERVER_BASE_URL}/partner/read/order/{deployment}/{orderId}` and that token.
Any failure (transport, a non-200 answer, an undecodable body) is an InternalError: the order
cannot be processed without Xealth.
"""
from __future__ import annotations

import base64
import threading
import time
import urllib.parse

import httpx

from clinic_api.errors import InternalError
from clinic_api.integrations import http

EXPIRY_MARGIN_SECONDS = 30


def _basic(client_id: str, client_secret: str) -> str:
    pair = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


class XealthClient:
    def __init__(self, settings, transport: httpx.BaseTransport | None = None, clock=time.monotonic):
        self.settings = settings
        self.http = http.client("xealth", timeout=http.timeout_for(settings), transport=transport)
        self.clock = clock
        self._token = ""
        self._expires: float | None = None
        self._lock = threading.Lock()

    def access_token(self) -> str:
        with self._lock:
            now = self.clock()
            if self._token and (self._expires is None or now < self._expires - EXPIRY_MARGIN_SECONDS):
                return self._token
            s = self.settings
            try:
                resp = self.http.post(s.xealth_token_url, data={"grant_type": "client_credentials"},
                                      headers={"Authorization": _basic(s.xealth_client_id, s.xealth_client_secret)})
            except httpx.HTTPError as exc:
                raise InternalError("xealth token endpoint unreachable") from exc
            if resp.status_code != 200:
                raise InternalError(f"xealth token endpoint answered {resp.status_code}")
            body = _json(resp)
            token = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise InternalError("xealth token endpoint answered without an access token")
            expires_in = body.get("expires_in")
            self._token = token
            self._expires = now + float(expires_in) if isinstance(expires_in, (int, float)) and expires_in > 0 \
                else None
            return token

    def read_order(self, deployment: str, order_id: str) -> dict:
        base = self.settings.xealth_server_base_url.rstrip("/")
        path = "/partner/read/order/{}/{}".format(urllib.parse.quote(deployment, safe=""),
                                                   urllib.parse.quote(order_id, safe=""))
        headers = {"Authorization": f"Bearer {self.access_token()}"}
        try:
            resp = self.http.get(base + path, headers=headers)
        except httpx.HTTPError as exc:
            raise InternalError("xealth unreachable") from exc
        if resp.status_code != 200:
            raise InternalError(f"unexpected response when retrieving order {resp.status_code}")
        body = _json(resp)
        if not isinstance(body, dict):
            raise InternalError("unexpected order document")
        return body


def _json(resp: httpx.Response):
    try:
        return resp.json()
    except ValueError:
        raise InternalError("undecodable answer from xealth") from None
