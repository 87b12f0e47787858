"""Custodial accounts and profiles: the user and profile services as the patient operations use them.

standalone (default): custodial users are minted here (10-hex ids, like Tidepool user ids) and kept
in our `users` collection next to the users StandaloneUsers records, with their profile.
tidepool: shoreline `POST /v1/clinics/{clinicId}/users` (create) and `PUT /user/{id}` (update),
seagull `GET`/`POST /{userId}/profile` (the profile rewrite clinic-worker performs), all with the
service's server session token.
"""
from __future__ import annotations

import logging
import secrets
import threading

import httpx

from clinic_api import wire
from clinic_api.errors import Duplicate, InternalError
from clinic_api.store import users as users_store

log = logging.getLogger("clinic_api.accounts")
EMAIL_TAKEN = "duplicate: email address is already taken"
UPDATE_EMAIL_TAKEN = "unable to update custodial user: " + EMAIL_TAKEN


def profile_changes(profile: dict, changed: dict, removed: tuple) -> dict:
    """clinic-worker's rewrite of a custodial user's profile from patient fields: `changed` holds
    the patient fields written (None values are skipped), `removed` the ones unset."""
    profile = dict(profile or {})
    patient = dict(profile["patient"]) if isinstance(profile.get("patient"), dict) else {}
    values = {k: v for k, v in changed.items() if v is not None}
    if "fullName" in values:
        profile["fullName"] = values["fullName"]
    for field, key in (("birthDate", "birthday"), ("mrn", "mrn"), ("targetDevices", "targetDevices"),
                       ("diagnosisType", "diagnosisType")):
        if field in values:
            patient[key] = values[field]
    if "email" in values:
        profile["email"] = values["email"]
        patient["emails"] = [values["email"]]
    gone = set(removed)
    if "fullName" in gone:
        profile.pop("fullName", None)
    for field, key in (("birthDate", "birthday"), ("mrn", "mrn"), ("targetDevices", "targetDevices"),
                       ("diagnosisType", "diagnosisType")):
        if field in gone:
            patient.pop(key, None)
    if "email" in gone:
        profile.pop("email", None)
        patient.pop("emails", None)
    profile["patient"] = patient
    return profile


class StandaloneAccounts:
    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()  # e-mail uniqueness: check and write together

    def _taken(self, email: str, except_id: str | None = None) -> bool:
        return users_store.email_taken(self.store.db, email, except_id)

    def create_custodial(self, clinic_id: str, email: str | None) -> str:
        """A new custodial user owned by the clinic; 409 when the e-mail belongs to a user."""
        with self._lock:
            if email and self._taken(email):
                raise Duplicate(EMAIL_TAKEN)
            user_id = secrets.token_hex(5)
            while users_store.exists(self.store.db, user_id):
                user_id = secrets.token_hex(5)
            doc = {"_id": user_id, "emails": [email] if email else [], "custodial": True,
                   "custodianClinicId": clinic_id, "profile": {}, "createdTime": wire.now()}
            if email:
                doc["username"] = email
            users_store.insert(self.store.db, doc)
        return user_id

    def update_custodial(self, user_id: str, email: str | None) -> None:
        """The account's username/e-mail follow the patient's (none: e-mails cleared)."""
        with self._lock:
            if email and self._taken(email, except_id=user_id):
                raise Duplicate(UPDATE_EMAIL_TAKEN)
            change = {"username": email, "emails": [email]} if email else {"emails": []}
            users_store.set_fields(self.store.db, user_id, change)

    def apply_profile(self, user_id: str, changed: dict, removed: tuple = ()) -> None:
        doc = users_store.find(self.store.db, user_id, {"profile": 1}) or {}
        profile = profile_changes(doc.get("profile") or {}, changed, removed)
        users_store.set_fields(self.store.db, user_id, {"profile": profile})

    def release_custodial(self, user_id: str) -> None:
        """After a custodial patient's deletion: a never-claimed account minted here is removed
        (standalone keeps no device data, the case in which Tidepool deletes the account)."""
        users_store.delete_custodial(self.store.db, user_id)


class TidepoolAccounts:
    def __init__(self, session):
        self.session = session

    def _call(self, method: str, path: str, base: str, **kwargs) -> httpx.Response:
        try:
            return self.session.request(method, path, base=base, **kwargs)
        except httpx.HTTPError as exc:
            raise InternalError(f"unable to reach {base}") from exc

    def create_custodial(self, clinic_id: str, email: str | None) -> str:
        body = {"username": email, "emails": [email]} if email else {}
        resp = self._call("POST", f"/v1/clinics/{clinic_id}/users", "shoreline", json=body)
        if resp.status_code == 409:
            raise Duplicate(EMAIL_TAKEN)
        if resp.status_code != 201:
            raise InternalError(f"custodial account creation answered {resp.status_code}")
        user_id = (resp.json() or {}).get("userid") or ""
        if not user_id:
            raise InternalError("custodial account creation returned no user id")
        return user_id

    def update_custodial(self, user_id: str, email: str | None) -> None:
        updates = {"username": email, "emails": [email]} if email else {"emails": []}
        resp = self._call("PUT", f"/user/{user_id}", "shoreline", json={"updates": updates})
        if resp.status_code == 409:
            raise Duplicate(UPDATE_EMAIL_TAKEN)
        if resp.status_code != 200:
            raise InternalError(f"custodial account update answered {resp.status_code}")

    def apply_profile(self, user_id: str, changed: dict, removed: tuple = ()) -> None:
        resp = self._call("GET", f"/{user_id}/profile", "seagull")
        if resp.status_code not in (200, 404):
            raise InternalError(f"profile read answered {resp.status_code}")
        profile = (resp.json() or {}) if resp.status_code == 200 else {}
        resp = self._call("POST", f"/{user_id}/profile", "seagull", json=profile_changes(profile, changed, removed))
        if resp.status_code not in (200, 404):
            raise InternalError(f"profile update answered {resp.status_code}")

    def release_custodial(self, user_id: str) -> None:
        # Tidepool decides from the user's device data (clinic-worker); nothing to do from here.
        return None


def build(settings, store, session=None):
    if settings.integrations == "tidepool":
        return TidepoolAccounts(session)
    return StandaloneAccounts(store)
