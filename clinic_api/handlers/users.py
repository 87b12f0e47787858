"""A user across all clinics: their new email everywhere, or their departure from every clinic
(called by Tidepool's worker on user events; both answer 200, which the worker expects)."""
from __future__ import annotations

import regex
from connexion import NoContent

from clinic_api import context
from clinic_api.domain import memberships
from clinic_api.errors import BadRequest

# The address check the reference's generated types make while decoding (RFC 5322-like local
# part; a domain of dotted labels ending in a label that starts and ends with a letter).
_U = "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
_ATEXT = rf"[A-Za-z0-9!#$%&'*+\-/=?^_`{{|}}~{_U}]"
_LOCAL = rf"(?:{_ATEXT}+(?:\.{_ATEXT}+)*|\"(?:[^\"\\\r\n]|\\.)*\")"
_LABEL = rf"[A-Za-z0-9{_U}](?:[A-Za-z0-9\-.~{_U}]*[A-Za-z0-9{_U}])?"
_TOP = rf"[A-Za-z{_U}](?:[A-Za-z0-9\-.~{_U}]*[A-Za-z{_U}])?"
EMAIL = regex.compile(rf"^{_LOCAL}@(?:{_LABEL}\.)+{_TOP}\.?$")
BAD_EMAIL = "email: failed to pass regex validation"


def update_clinic_user_details(userId, body=None):
    email = (body or {}).get("email")
    if email is not None and not EMAIL.match(email):
        raise BadRequest(BAD_EMAIL)
    memberships.set_user_email(context.services(), userId, email)
    return NoContent, 200


def delete_user_from_clinics(userId):
    memberships.delete_user_from_clinics(context.services(), userId)
    return NoContent, 200
