"""The invite service's operations (Tidepool's hydrophone, invites.md), served natively: the
`confirmations` document and the clinic side (clinician invite record, membership, patient)
change in one transaction, where hydrophone made separate calls that could leave half a change.

Who may call is the policy table's business (its HA / HM / HSelf classes); what is left here are
the invite service's domain outcomes, in our {"message"} error format.
"""
from __future__ import annotations

import dataclasses

import logging
from typing import TYPE_CHECKING

from clinic_api import wire
from clinic_api.domain import memberships, notifications
from clinic_api.errors import NOT_AUTHORIZED, ApiError, BadRequest, Duplicate, Forbidden, NotFound
from clinic_api.integrations.mail import MailError
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store import invites as store
from clinic_api.store import tx
from clinic_api.store.ids import hex_id

if TYPE_CHECKING:
    from clinic_api.services import Services

log = logging.getLogger("clinic_api.invites")
NO_MATCH = "No matching invite was found"
NOTHING_FOUND = "Nothing found"
FORBIDDEN_OPERATION = "Forbidden to perform requested operation"
ACCEPT_REFUSED = "Error accepting invitation"
MRN_REQUIRED = "Error creating patient because MRN is required"
MAIL_FAILED = "Error sending email"
PATIENT_PERMISSIONS = ("view", "upload", "note")


class MailFailed(ApiError):
    """502: the invite is stored but its email could not be handed to the SMTP server."""

    status = 502
    kind = "bad gateway"


# --- shared pieces ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Invitation:
    """A confirmation as an operation answers it: the stored document, the creator's profile and
    user id as the invite service fills them in, and (for the invitee) whether they may accept."""
    confirmation: dict
    profile: dict | None = None
    creator_userid: str = ""
    restrictions: dict | None = None


def restrictions_for(clinic: dict, username: str, identity_provider: str) -> dict:
    """May this user accept an invite to the clinic? The first restriction whose email domain ends
    the user's username decides; with restrictions and no match, no."""
    items = clinic.get("membershipRestrictions") or []
    out: dict = {"canAccept": True}
    if not items:
        return out
    out["canAccept"] = False
    name = (username or "").lower()
    for item in items:
        if name.endswith("@" + (item.get("emailDomain") or "").lower()):
            required = item.get("requiredIdp") or ""
            if not required or required.lower() == (identity_provider or "").lower():
                out["canAccept"] = True
            else:
                out["requiredIdp"] = required
            break
    return out


def _profile(services: Services, user_id: str) -> tuple[dict | None, str]:
    """(profile, creator userid) for a list item; failures leave the profile out."""
    try:
        profile = services.users.get_profile(user_id) or None
    except Exception:  # noqa: BLE001 - the invite service ignores profile errors in lists
        return None, ""
    return profile, user_id


def _self_user(services: Services, user_id: str) -> dict:
    """The caller's own account (the policy already checked the caller is that user)."""
    try:
        user = services.users.get_user(user_id)
    except NotFound:
        raise Forbidden(NOT_AUTHORIZED) from None
    if not user.get("userid"):
        raise Forbidden(NOT_AUTHORIZED)
    return user


def _invitee_id(services: Services, email: str) -> str:
    found = services.users.find_by_email(email) if email else None
    return (found or {}).get("userid") or ""


def _send_invitation(services: Services, confirmation: dict, profile: dict | None) -> None:
    try:
        notifications.clinician_invitation(services, confirmation, profile)
    except MailError:
        raise MailFailed(MAIL_FAILED) from None


# --- clinician invites, the clinic's side ------------------------------------------------------

def invite_clinician(services: Services, caller_id: str, clinic_id: str, email: str, roles: list) -> dict:
    """The invite record (what InviteClinician answers) and its pending confirmation, then the email."""
    db = services.store.db
    clinic = clinics_store.get(db, clinic_id)
    key = store.new_key()
    confirmation = store.new_clinician_invite(key, email=email, clinic_id=hex_id(clinic["_id"]),
                                              clinic_name=clinic.get("name") or "", creator_id=caller_id,
                                              user_id=_invitee_id(services, email))
    profile = services.users.get_profile(caller_id)

    def work(session):
        current = memberships.migrated_clinic(db, clinic_id, session=session)
        record = memberships.create_in(db, current, email=email.lower(), roles=roles, invite_id=key, session=session)
        confirmation["modified"] = wire.now()
        store.save(db, confirmation, session=session)
        return record

    record = tx.run(services.store, work)
    _send_invitation(services, confirmation, profile)
    return record


def resend_invite(services: Services, caller_id: str, clinic_id: str, invite_id: str) -> Invitation:
    """The pending confirmation refreshed from the invite record and mailed again."""
    db = services.store.db
    clinic = clinics_store.get(db, clinic_id)
    record = clinicians_store.get_invite(db, clinic["_id"], invite_id)
    found = store.find_one(db, invite_id, type_=store.CLINICIAN_INVITATION, status=store.PENDING)
    existing = found is not None
    if found is not None:
        confirmation = found
    else:
        # The invite service means to start a fresh confirmation here (and crashes instead).
        confirmation = store.new_clinician_invite(invite_id, email="", clinic_id="", clinic_name="",
                                                  creator_id=caller_id)
    confirmation["email"] = record.get("email") or ""
    confirmation["clinicId"] = hex_id(clinic["_id"])
    creator = dict(confirmation.get("creator") or {})
    creator["clinicId"] = hex_id(clinic["_id"])
    if clinic.get("name"):
        creator["clinicName"] = clinic["name"]
    confirmation["creator"] = creator
    invitee = _invitee_id(services, confirmation["email"])
    if invitee:
        confirmation["userId"] = invitee
    profile = services.users.get_profile(confirmation["creatorId"])
    confirmation["modified"] = wire.now()
    saved = store.save(db, confirmation, only_if_status=store.PENDING if existing else None)
    if saved is None:
        raise NotFound(NO_MATCH)
    _send_invitation(services, saved, profile)
    return Invitation(saved, profile=profile, creator_userid=saved["creatorId"])


def delete_invite(services: Services, clinic_id: str, invite_id: str) -> None:
    """Cancel: the invite record goes, a pending confirmation becomes `canceled`. Idempotent."""
    db = services.store.db

    def work(session):
        confirmation = store.find_one(db, invite_id, clinic_id=clinic_id, type_=store.CLINICIAN_INVITATION,
                                      status=store.PENDING, session=session)
        try:
            memberships.delete_invited(services, clinic_id, invite_id, session=session)
        except NotFound:
            pass  # already gone (accepted, dismissed, deleted) or an unknown clinic: nothing to do
        if confirmation is not None:
            store.transition(db, invite_id, store.CANCELED, session=session)

    tx.run(services.store, work)


def get_clinician_invite(services: Services, clinic_id: str, invite_id: str) -> Invitation:
    db = services.store.db
    clinicians_store.get_invite(db, clinic_id, invite_id)
    confirmation = store.find_one(db, invite_id, type_=store.CLINICIAN_INVITATION, status=store.PENDING)
    if confirmation is None:
        raise NotFound(NO_MATCH)
    return Invitation(confirmation)


# --- clinician invites, the invitee's side -----------------------------------------------------

def list_clinician_invites(services: Services, principal, user_id: str) -> list[Invitation]:
    """The user's pending invites (claiming those sent to their email before they signed up),
    each with whether the clinic's membership restrictions let them accept."""
    db = services.store.db
    user = _self_user(services, user_id)
    emails = user.get("emails") or []
    if emails:
        store.claim_userless(db, emails[0], user_id)
    out = []
    for confirmation in store.find_pending(db, type_=store.CLINICIAN_INVITATION, user_id=user_id):
        try:
            clinic = clinics_store.get(db, confirmation.get("clinicId") or "")
        except NotFound:
            log.warning("pending invite to a deleted clinic left out")
            continue
        profile, creator_userid = _profile(services, confirmation.get("creatorId") or "")
        restrictions = restrictions_for(clinic, user.get("username") or "", principal.identity_provider)
        out.append(Invitation(confirmation, profile=profile, creator_userid=creator_userid,
                              restrictions=restrictions))
    if not out:
        raise NotFound(NOTHING_FOUND)
    return out


def dismiss_clinician_invite(services: Services, user_id: str, invite_id: str) -> None:
    """Decline: the invite record goes, the confirmation becomes `declined`. Idempotent."""
    db = services.store.db
    _self_user(services, user_id)

    def work(session):
        confirmation = store.find_one(db, invite_id, user_id=user_id, type_=store.CLINICIAN_INVITATION,
                                      status=store.PENDING, session=session)
        if confirmation is None:
            return
        if confirmation.get("clinicId"):
            try:
                memberships.delete_invited(services, confirmation["clinicId"], invite_id, session=session)
            except NotFound:
                pass
        store.transition(db, invite_id, store.DECLINED, session=session)

    tx.run(services.store, work)


def accept_clinician_invite(services: Services, principal, user_id: str, invite_id: str) -> dict:
    """The invite becomes the user's membership and the confirmation `completed`, together. A
    repeated or concurrent accept finds no pending invite: exactly one membership results."""
    db = services.store.db
    user = _self_user(services, user_id)
    criteria = {"user_id": user_id, "type_": store.CLINICIAN_INVITATION, "status": store.PENDING}
    confirmation = store.find_one(db, invite_id, **criteria)
    if confirmation is None:
        raise NotFound(NO_MATCH)
    clinic_id = confirmation.get("clinicId") or ""
    clinic = clinics_store.get(db, clinic_id)
    if not restrictions_for(clinic, user.get("username") or "", principal.identity_provider)["canAccept"]:
        raise Forbidden(ACCEPT_REFUSED)
    name = memberships.profile_name(services, user_id)

    def work(session):
        if store.find_one(db, invite_id, session=session, **criteria) is None:
            raise NotFound(NO_MATCH)
        current = memberships.migrated_clinic(db, clinic_id, session=session)
        record = memberships.associate_in(db, current, invite_id, user_id, name, session=session)
        if store.transition(db, invite_id, store.COMPLETED, session=session) is None:
            raise NotFound(NO_MATCH)
        return record

    return tx.run(services.store, work)


# --- patient invites ---------------------------------------------------------------------------

def patient_invites(services: Services, clinic_id: str) -> list[Invitation]:
    db = services.store.db
    out = []
    for confirmation in store.find_pending(db, type_=store.CARETEAM_INVITATION, clinic_id=clinic_id):
        profile, creator_userid = _profile(services, confirmation.get("creatorId") or "")
        out.append(Invitation(confirmation, profile=profile, creator_userid=creator_userid))
    return out


def _patient_fields(body: dict) -> dict:
    """What the invite service passes on from the accept body (empty values count as absent;
    glycemicRanges and diagnosisType are not passed)."""
    fields: dict = {}
    for key in ("mrn", "birthDate", "fullName"):
        if body.get(key):
            fields[key] = body[key]
    fields["tags"] = list(body["tags"]) if body.get("tags") else None
    if body.get("sites"):
        fields["sites"] = [{"id": s.get("id"), "name": s.get("name")} for s in body["sites"]]
    return fields


def accept_patient_invitation(services: Services, clinic_id: str, invite_id: str, body: dict | None) -> dict:
    """The sharing patient becomes a patient of the clinic (or stays the one they already are) and
    the confirmation `completed`, together. Returns the patient document."""
    from clinic_api.domain import patients
    from clinic_api.store import patients as patients_store

    db = services.store.db
    confirmation = store.find_one(db, invite_id, clinic_id=clinic_id)
    if confirmation is None:
        raise NotFound(NO_MATCH)
    if confirmation.get("status") != store.PENDING or confirmation.get("type") != store.CARETEAM_INVITATION:
        raise Forbidden(FORBIDDEN_OPERATION)
    body = body or {}
    clinic = clinics_store.get(db, clinic_id)
    if (clinic.get("mrnSettings") or {}).get("required") and not str(body.get("mrn") or "").strip():
        raise BadRequest(MRN_REQUIRED)
    offered = store.context_value(confirmation)
    offered = offered if isinstance(offered, dict) else {}
    permissions: dict[str, dict] = {name: {} for name in PATIENT_PERMISSIONS if name in offered}
    fields = _patient_fields(body)
    patient_id = confirmation.get("creatorId") or ""

    def work(session):
        current = store.find_one(db, invite_id, clinic_id=clinic_id, session=session)
        if current is None or current.get("status") != store.PENDING:
            raise Forbidden(FORBIDDEN_OPERATION)
        try:
            doc = patients.create_patient_from_user(services, clinic_id, patient_id, permissions,
                                                    session=session, **fields)
        except Duplicate:
            doc = patients_store.get(db, clinic["_id"], patient_id, session=session)
        if store.transition(db, invite_id, store.COMPLETED, session=session) is None:
            raise Forbidden(FORBIDDEN_OPERATION)
        return doc

    return tx.run(services.store, work)
