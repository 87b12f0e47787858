"""XealthPreorder (auth note §4.2.4): before an order is placed, Xealth asks whether the patient
can be enrolled. Initial request: the patient exists with the same birth date (the order may
proceed: `{}`), exists with another (an error form), or does not exist (the enrollment form, for
the patient or, under 13, a parent or guardian). Subsequent request: the submitted form is
checked and kept under its dataTrackingId for the order notification that follows.
"""
from __future__ import annotations

import datetime as _dt
import uuid
from typing import TYPE_CHECKING

from clinic_api.domain import gojson, xealth
from clinic_api.domain import xealth_forms as forms
from clinic_api.errors import ApiError, BadRequest, Conflict, bad_request
from clinic_api.store import xealth as xealth_store

if TYPE_CHECKING:
    from clinic_api.services import Services

FINAL: dict = {}


def under_13(birth_date: str, now: _dt.datetime) -> bool:
    try:
        born = _dt.date.fromisoformat(birth_date)
    except ValueError:
        return False
    try:
        birthday = born.replace(year=born.year + 13)
    except ValueError:  # 29 February: Go's AddDate rolls over to 1 March
        birthday = _dt.date(born.year + 13, 3, 1)
    return _dt.datetime(birthday.year, birthday.month, birthday.day, tzinfo=_dt.timezone.utc) > now


def handle(services: Services, raw: bytes) -> dict:
    body = gojson.unmarshal(raw, "bad request: unable to decode the preorder request")
    body = gojson.ensure_object(body, "xealth_client.PreorderFormRequest")
    event_type = gojson.get_str(body, "eventType")
    event_context = gojson.get_str(body, "eventContext")
    if event_type != "preorder":
        raise bad_request(f"expected eventType='preorder' got {event_type}")
    if event_context not in ("initial", "subsequent"):
        raise bad_request(f"invalid event context {event_context}")
    deployment = gojson.get_str(body, "deployment")
    ids = xealth.identity_of(body)["ids"]
    parsed = xealth.datasets(body)
    if event_context == "initial":
        return _initial(services, deployment, ids, parsed)
    form_data = gojson.get(body, "formData", "object") or {}
    tracking_id = gojson.get_str(form_data, "dataTrackingId", "formData")
    user_input = gojson.get(form_data, "userInput", "object", "formData")
    return _subsequent(services, deployment, ids, parsed, tracking_id, user_input)


def _match(services: Services, deployment, ids, parsed, prefix) -> xealth.Match:
    try:
        return xealth.match(services, deployment, ids, parsed, with_dob=False, no_patient_ok=True)
    except ApiError as exc:
        raise xealth.prefixed(exc, prefix) from None


def _initial(services: Services, deployment, ids, parsed) -> dict:
    found = _match(services, deployment, ids, parsed, "matching initial preorder request: ")
    wanted, clinic = found.criteria, found.clinic
    assert wanted is not None and clinic is not None  # match() raises when either is missing
    guardian = under_13(wanted["dateOfBirth"], xealth.now(services))
    data = {"guardian": {}} if guardian else {"patient": {"email": wanted["email"]} if wanted["email"] else {}}
    base = forms.GUARDIAN_FORM if guardian else forms.PATIENT_FORM
    errors: tuple = ()
    if found.patient is not None:
        if found.patient.get("birthDate") == wanted["dateOfBirth"]:
            return FINAL
        errors = forms.BIRTHDAY_MISMATCH
    info = forms.form_info(base, title=forms.TITLE.format(wanted["fullName"]),
                           tags=clinic.get("patientTags"), errors=errors, form_data=data)
    return forms.form_response(str(uuid.uuid4()), info, not_orderable=bool(errors))


# --- subsequent: the submitted form --------------------------------------------------------------

SECTIONS = {"patient": ("email", "connectAbbott", "connectDexcom"),
            "guardian": ("firstName", "lastName", "email", "connectAbbott", "connectDexcom")}


def decode_input(user_input: dict | None, section: str) -> dict:
    """The submitted userInput as the reference decodes it (keys case-insensitive; a value of the
    wrong type is a 400)."""
    out: dict = {section: {k: (False if k.startswith("connect") else "") for k in SECTIONS[section]}, "tags": None}
    if not user_input:
        return out
    try:
        part = gojson.get(user_input, section, "object", "userInput")
        for key in SECTIONS[section]:
            kind = "bool" if key.startswith("connect") else "string"
            value = gojson.get(part or {}, key, kind, f"userInput.{section}")
            if value is not None:
                out[section][key] = value
        tags = gojson.get(user_input, "tags", "object", "userInput")
        if tags is not None:
            out["tags"] = {"ids": gojson.strings(tags, "ids", "userInput.tags")}
    except BadRequest as exc:
        raise bad_request(f"invalid user input: {exc.message}") from None
    return out


def encode_data(data: dict, section: str) -> dict:
    """The form data as the reference re-encodes it (empty and false values left out)."""
    out = {section: {k: v for k, v in data[section].items() if v}}
    if data["tags"] is not None:
        out["tags"] = {"ids": data["tags"]["ids"]} if data["tags"]["ids"] else {}
    return out


def _problems(services: Services, data: dict, section: str) -> tuple:
    part = data[section]
    if section == "guardian" and (not part["firstName"].strip() or not part["lastName"].strip()):
        return (forms.SOMETHING_WENT_WRONG,)
    email = part["email"]
    if not email:
        return ()
    if not forms.valid_email(email):
        return (forms.SOMETHING_WENT_WRONG,)
    if services.users.find_by_email(email) is not None:
        return forms.DUPLICATE_EMAIL
    return ()


def _subsequent(services: Services, deployment, ids, parsed, tracking_id: str, user_input) -> dict:
    found = _match(services, deployment, ids, parsed, "matching subsequent preorder request: ")
    if found.patient is not None:
        # The reference fails with 500: the initial request would have let the order proceed.
        raise Conflict("conflict: expected no patients to match the criteria")
    wanted, clinic = found.criteria, found.clinic
    assert wanted is not None and clinic is not None  # match() raises when either is missing
    guardian = under_13(wanted["dateOfBirth"], xealth.now(services))
    section = "guardian" if guardian else "patient"
    data = decode_input(user_input, section)
    errors = _problems(services, data, section)
    if not tracking_id:
        raise bad_request("formData.dataTrackingId is required")
    if errors:
        info = forms.form_info(forms.GUARDIAN_FORM if guardian else forms.PATIENT_FORM,
                               title=forms.TITLE.format(wanted["fullName"]), tags=clinic.get("patientTags"),
                               errors=errors, form_data=encode_data(data, section))
        return forms.form_response(tracking_id, info, not_orderable=True)
    part = dict(data[section])
    if not part["email"].strip():
        part["connectDexcom"] = False
    stored = {"dataTrackingId": tracking_id, section: {k: v for k, v in part.items() if v}}
    if data["tags"] is not None:
        stored["tags"] = {"ids": data["tags"]["ids"]} if data["tags"]["ids"] else {}
    xealth_store.insert_preorder(services.store.db, stored)
    return FINAL
