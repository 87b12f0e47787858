"""Session-token verification backends.

standalone: HS256 tokens signed with CLINIC_TOKEN_SECRET, minted by `clinic-api token`; a token is
            verified once per its lifetime (cached by its SHA-256 until `exp`, at most 5 minutes).
tidepool:   the reference's way: shoreline `GET /token/{token}` with this service's own server
            token (from `POST /serverlogin`); server tokens are cached for 5 minutes in an LRU of
            10,000 entries, user tokens are checked every time, failures are never cached.
"""
from __future__ import annotations

import collections
import hashlib
import logging
import threading
import time

import cachetools
import httpx
import jwt

from clinic_api.auth.principal import Principal
from clinic_api.errors import ServiceUnavailable

log = logging.getLogger("clinic_api.auth")
ALGORITHM = "HS256"
AUTH_UNAVAILABLE = "the auth service is unavailable; try again later"


class TokenInvalid(Exception):
    pass


def mint(secret: str, user_id: str, *, server: bool = False, email: str = "", name: str = "",
         ttl_seconds: int | None = None, identity_provider: str = "") -> str:
    now = int(time.time())
    claims = {"sub": user_id, "srv": bool(server), "iat": now}
    if email:
        claims["email"] = email
    if name:
        claims["name"] = name
    if identity_provider:
        claims["idp"] = identity_provider
    if ttl_seconds:
        claims["exp"] = now + ttl_seconds
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class StandaloneTokens:
    """HS256 tokens, each verified once per its lifetime: a verified token's principal is kept in a
    bounded cache keyed by the token's SHA-256 until the token's `exp` or for MAX_AGE_SECONDS,
    whichever comes first (a token without `exp` is re-verified every MAX_AGE_SECONDS). Tokens
    that fail are never cached."""

    blocking = False  # a signature check: no I/O
    MAX_AGE_SECONDS = 300
    CACHE_CAPACITY = 10_000

    def __init__(self, secret: str, *, clock=time.time, capacity: int | None = None):
        self.secret = secret
        self.clock = clock  # wall clock, the one `exp` is written in
        self.cache: cachetools.TLRUCache = cachetools.TLRUCache(
            maxsize=capacity or self.CACHE_CAPACITY, ttu=self._expires, timer=clock)
        self.lock = threading.Lock()

    def _expires(self, _key, value: tuple[Principal, float | None], now: float) -> float:
        exp = value[1]
        return now + self.MAX_AGE_SECONDS if exp is None else min(now + self.MAX_AGE_SECONDS, exp)

    def verify(self, token: str) -> Principal:
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        with self.lock:
            cached = self.cache.get(key)
        if cached is not None:
            return cached[0]
        principal, exp = self._decode(token)
        with self.lock:
            self.cache[key] = (principal, exp)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float | None]:
        try:
            claims = jwt.decode(token, self.secret, algorithms=[ALGORITHM], options={"require": ["sub"]})
        except jwt.PyJWTError as exc:
            raise TokenInvalid(str(exc)) from exc
        user_id = claims.get("sub")
        if not isinstance(user_id, str) or not user_id:
            raise TokenInvalid("empty subject")
        # Only the JSON literal true makes a server token ("true", 1 and the like do not).
        principal = Principal(user_id=user_id, is_server=claims.get("srv") is True,
                              email=str(claims.get("email") or ""), name=str(claims.get("name") or ""),
                              identity_provider=str(claims.get("idp") or ""))
        exp = claims.get("exp")  # PyJWT checked it is a number when present
        return principal, (float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None)


class _LRU:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self.items: collections.OrderedDict[str, tuple[float, Principal]] = collections.OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str, now: float) -> Principal | None:
        with self.lock:
            entry = self.items.get(key)
            if entry is None:
                return None
            expires, principal = entry
            if now >= expires:
                del self.items[key]
                return None
            self.items.move_to_end(key)
            return principal

    def put(self, key: str, principal: Principal, expires: float) -> None:
        with self.lock:
            self.items[key] = (expires, principal)
            self.items.move_to_end(key)
            while len(self.items) > self.capacity:
                self.items.popitem(last=False)


class ShorelineTokens:
    CACHE_SECONDS = 300
    CACHE_CAPACITY = 10_000
    blocking = True  # asks shoreline (HTTP)

    def __init__(self, server_session, clock=time.monotonic):
        self.server = server_session  # integrations.tidepool.ServerSession
        self.cache = _LRU(self.CACHE_CAPACITY)
        self.clock = clock

    def verify(self, token: str) -> Principal:
        now = self.clock()
        cached = self.cache.get(token, now)
        if cached is not None:
            return cached
        # A token we could not check is a 503 (errors.ServiceUnavailable, raised by the HTTP client when
        # shoreline is down or slow, or here when it fails), never a 401: the web app signs users
        # out on a 401. (The reference answers 401 in both cases.)
        try:
            resp = self.server.get(f"/token/{token}", base="shoreline", extensions={"route": "/token/{token}"})
        except httpx.HTTPError as exc:
            log.warning("token check failed: %s", type(exc).__name__)
            raise ServiceUnavailable(AUTH_UNAVAILABLE) from exc
        if resp.status_code >= 500:
            raise ServiceUnavailable(AUTH_UNAVAILABLE)
        if resp.status_code != 200:
            raise TokenInvalid(f"auth service answered {resp.status_code}")
        try:
            body = {k.lower(): v for k, v in resp.json().items()}
        except (ValueError, AttributeError) as exc:
            raise TokenInvalid("unparsable token check answer") from exc
        user_id = body.get("userid") or ""
        if not isinstance(user_id, str) or not user_id:
            raise TokenInvalid("empty user id")
        principal = Principal(user_id=user_id, is_server=bool(body.get("isserver")),
                              identity_provider=str(body.get("identityprovider") or ""))
        if principal.is_server:
            self.cache.put(token, principal, now + self.CACHE_SECONDS)
        return principal
