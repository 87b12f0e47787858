"""Users and profiles.

standalone: users are those whose tokens carried an email (`clinic-api token --email`); they are
kept in the `users` collection (ours, not the reference's), so an invite sent to an email reaches
the account that later signs in with it. Profiles hold the name a token carried.
tidepool: shoreline `GET /user/{id-or-email}` and seagull `GET /{id}/profile` with the server token.

Both give users as {userid, username, emails}. find_by_email answers None for "no such user",
as the invite service treats every failure of that lookup (it only logs them).
"""
from __future__ import annotations

import logging
import threading
import urllib.parse

import httpx

from clinic_api.errors import InternalError, NotFound, ServiceUnavailable
from clinic_api.store import users as users_store

log = logging.getLogger("clinic_api.users")
COLLECTION = users_store.COLLECTION


class StandaloneUsers:
    def __init__(self, store):
        self.store = store
        self._seen: set[tuple] = set()
        self._lock = threading.Lock()

    def remember(self, principal) -> None:
        """Record a user the first time a token shows their email or name."""
        if principal is None or principal.is_server or not (principal.email or principal.name):
            return
        key = (principal.user_id, principal.email.lower(), principal.name)
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
        fields = {}
        if principal.email:
            fields["username"] = principal.email.lower()
            fields["emails"] = [principal.email.lower()]
        if principal.name:
            fields["profile.fullName"] = principal.name
        users_store.set_fields(self.store.db, principal.user_id, fields)

    def get_user(self, user_id: str) -> dict:
        """{userid, username, emails, roles}; a user never seen has no email and no role (roles,
        e.g. a legacy clinic account's ["clinic"], are only ever seeded into the collection)."""
        doc = users_store.find(self.store.db, user_id) or {}
        return {"userid": user_id, "username": doc.get("username", ""), "emails": list(doc.get("emails") or []),
                "roles": list(doc.get("roles") or [])}

    def get_profile(self, user_id: str) -> dict:
        doc = users_store.find(self.store.db, user_id) or {}
        return dict(doc.get("profile") or {})

    def find_by_email(self, email: str) -> dict | None:
        doc = users_store.find_by_email(self.store.db, email.lower())
        if doc is None:
            return None
        return {"userid": doc["_id"], "username": doc.get("username", ""), "emails": list(doc.get("emails") or [])}


class TidepoolUsers:
    def __init__(self, session):
        self.session = session

    def remember(self, principal) -> None:
        return None

    def get_user(self, user_id: str) -> dict:
        try:
            resp = self.session.get(f"/user/{user_id}", base="shoreline")
        except httpx.HTTPError as exc:
            raise InternalError("unable to reach the user service") from exc
        if resp.status_code == 404:
            raise NotFound("not found")
        if resp.status_code == 204:  # shoreline's "empty user"
            return {"userid": "", "username": "", "emails": [], "roles": []}
        if resp.status_code != 200:
            raise InternalError(f"user service answered {resp.status_code}")
        body = resp.json()
        return {"userid": body.get("userid", user_id), "username": body.get("username", ""),
                "emails": list(body.get("emails") or []), "roles": list(body.get("roles") or [])}

    def get_profile(self, user_id: str) -> dict:
        try:
            resp = self.session.get(f"/{user_id}/profile", base="seagull")
        except httpx.HTTPError as exc:
            raise InternalError("unable to reach the profile service") from exc
        if resp.status_code == 404:
            return {}
        if resp.status_code != 200:
            raise InternalError(f"profile service answered {resp.status_code}")
        return resp.json() or {}

    def find_by_email(self, email: str) -> dict | None:
        """The account with this email; None when shoreline has none or the lookup fails."""
        try:
            resp = self.session.get(f"/user/{urllib.parse.quote(email, safe='@')}", base="shoreline")
        except (httpx.HTTPError, ServiceUnavailable) as exc:
            log.warning("user lookup by email failed: %s", type(exc).__name__)
            return None
        if resp.status_code != 200:
            if resp.status_code not in (204, 404):
                log.warning("user lookup by email answered %s", resp.status_code)
            return None
        try:
            body = resp.json()
        except ValueError:
            return None
        if not isinstance(body, dict) or not body.get("userid"):
            return None
        return {"userid": body["userid"], "username": body.get("username", ""),
                "emails": list(body.get("emails") or [])}
