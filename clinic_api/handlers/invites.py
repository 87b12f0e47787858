"""Invites: the 9 operations Tidepool serves from its invite service (hydrophone), served here on
our own database. Access is the policy table's (S | A, S | R, Self); outcomes in clinic_api.domain.invites."""
from __future__ import annotations

from clinic_api import context
from clinic_api.domain import invites
from clinic_api.errors import BadRequest
from clinic_api.errors import BODY_MISSING
from clinic_api.resources import patients as patient_resource
from clinic_api.resources import clinicians as clinician_view
from clinic_api.resources import invites as invite_view

# The invite service answers its cancel/decline operations with a plain-text OK.
OK_TEXT = ("OK", 200)


def invite_clinician(clinicId, body=None):
    if not body:  # the invite service cannot decode an empty body either
        raise BadRequest(BODY_MISSING)
    record = invites.invite_clinician(context.services(), context.principal().user_id, clinicId,
                                      body.get("email") or "", body.get("roles"))
    return clinician_view.to_api(record), 200


def resend_invite(clinicId, inviteId):
    return _invitation(invites.resend_invite(context.services(), context.principal().user_id, clinicId, inviteId)), 200


def delete_invite(clinicId, inviteId):
    invites.delete_invite(context.services(), clinicId, inviteId)
    return OK_TEXT


def get_clinician_invite(clinicId, inviteId):
    return _invitation(invites.get_clinician_invite(context.services(), clinicId, inviteId)), 200


def get_patient_invites(clinicId):
    return [_invitation(i) for i in invites.patient_invites(context.services(), clinicId)], 200


def accept_patient_invitation(clinicId, inviteId, body=None):
    doc = invites.accept_patient_invitation(context.services(), clinicId, inviteId, body)
    return patient_resource.to_api(doc), 200


def list_clinician_invites(userId):
    found = invites.list_clinician_invites(context.services(), context.principal(), userId)
    return [_invitation(i) for i in found], 200


def dismiss_clinician_invite(userId, inviteId):
    invites.dismiss_clinician_invite(context.services(), userId, inviteId)
    return OK_TEXT


def accept_clinician_invite(userId, inviteId):
    record = invites.accept_clinician_invite(context.services(), context.principal(), userId, inviteId)
    return clinician_view.to_api(record), 200


def _invitation(found: invites.Invitation) -> invite_view.ConfirmationV1:
    return invite_view.to_api(found.confirmation, profile=found.profile, creator_userid=found.creator_userid,
                              restrictions=found.restrictions)
