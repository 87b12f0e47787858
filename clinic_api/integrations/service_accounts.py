"""Service accounts: an OAuth2 client-credentials exchange at TIDEPOOL_AUTH_SERVICE_TOKEN_ENDPOINT
whose id_token `sub` is the account's user id (auth note §1.6).

As the reference's OAuth library: scope `openid`; client authentication by HTTP Basic first
(id and secret form-escaped), then, if the endpoint refuses that, in the form body. The id_token
is read without verifying its signature (the reference does the same; it came straight from
the endpoint over the connection we opened).
"""
from __future__ import annotations

import base64
import logging
import urllib.parse

import httpx
import jwt

from clinic_api.errors import InternalError, bad_request, constraint
from clinic_api.integrations import http as http_client

log = logging.getLogger("clinic_api.service_accounts")
NOT_CONFIGURED = "service accounts are not available: TIDEPOOL_AUTH_SERVICE_TOKEN_ENDPOINT is not set"


def _basic(client_id: str, client_secret: str) -> str:
    pair = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def _token_fields(resp: httpx.Response) -> dict:
    kind = resp.headers.get("content-type", "").split(";")[0].strip()
    if kind in ("application/x-www-form-urlencoded", "text/plain"):
        return {k: v[0] for k, v in urllib.parse.parse_qs(resp.text).items()}
    try:
        body = resp.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def subject_for(endpoint: str, client_id: str, client_secret: str, *,
                transport: httpx.BaseTransport | None = None) -> str:
    """The user id of the client: 422 without an endpoint (this deployment cannot register service
    accounts), 400 when the endpoint rejects the credentials, 500 when it fails or answers without
    a usable id_token."""
    if not endpoint:
        raise constraint(NOT_CONFIGURED)
    form = {"grant_type": "client_credentials", "scope": "openid"}
    try:
        with http_client.client("token_endpoint", transport=transport) as http:
            resp = http.post(endpoint, data=form, headers={"Authorization": _basic(client_id, client_secret)})
            if 400 <= resp.status_code < 500:
                resp = http.post(endpoint, data={**form, "client_id": client_id, "client_secret": client_secret})
    except httpx.HTTPError as exc:
        log.warning("token endpoint unreachable: %s", type(exc).__name__)
        raise InternalError("token endpoint unreachable") from exc
    if 400 <= resp.status_code < 500:
        raise bad_request("the token endpoint rejected the client credentials")
    if resp.status_code != 200:
        raise InternalError(f"token endpoint answered {resp.status_code}")
    id_token = _token_fields(resp).get("id_token")
    if not isinstance(id_token, str) or not id_token:
        raise InternalError("token response without id_token")
    try:
        claims = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise InternalError("unparsable id_token") from exc
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InternalError("id_token without subject")
    return sub
