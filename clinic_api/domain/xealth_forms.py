"""The enrollment forms Xealth shows when a Tidepool order is placed (react-jsonschema-form
definitions: formId, formSchema, uiSchema, formData) and the error form, with the reference's
assembly rules (auth note §4.2.4): a base form deep-merged with overrides (objects merged,
arrays concatenated, scalars replaced), object keys emitted in sorted order.

The form ids, the fields they gather and the error form's structure are the interface Xealth
and the order flow rely on; the wording is ours.
"""
from __future__ import annotations

import copy
import re

from clinic_api.store.ids import hex_id

PATIENT_FORM_ID = "patient_enrollment_form"
GUARDIAN_FORM_ID = "guardian_enrollment_form"
ERROR_FORM_ID = "error_form"
TITLE = "Add {} to Tidepool"
ERROR_TITLE = "There Was a Problem Adding Patient To Tidepool"
SUPPORT = "If the problem persists, please contact support@tidepool.org."

BIRTHDAY_MISMATCH = (
    "This patient's Medical Record Number (MRN) is already used by a patient in Tidepool, but the date of birth "
    "recorded in Tidepool is not the one in the Electronic Health Record (EHR). To enroll this patient for "
    "monitoring in Xealth, do one of the following:",
    "1. In Tidepool, find the patient with this MRN and correct the date of birth so that it matches the EHR.",
    "2. Or correct the patient's date of birth in the EHR so that it matches Tidepool.",
    SUPPORT,
)
DUPLICATE_EMAIL = (
    "This email address is already in use with another account in Tidepool. Click “Cancel” and try again with "
    "a different email address.",
    "The patient may already have a Tidepool account you would like to monitor from Xealth: look for the "
    "account with this email in Tidepool. If it is the same person, make sure its MRN and date of birth match "
    "the patient's record in Xealth, then place a new order in Xealth and that account will be enrolled.",
    "If the patient is not in your Tidepool clinic yet, ask them to share their data with your clinic using its "
    "share code. Once you accept their invitation, you can enroll them for monitoring in Xealth.",
    SUPPORT,
)
SOMETHING_WENT_WRONG = ("We could not create the patient's account in Tidepool. Click “Cancel” and try again. "
                        + SUPPORT)


def _connect_fields() -> dict:
    return {"dependencies": {"email": {"properties": {
        "connectAbbott": {"title": "Connect FreeStyle Libre", "description": "", "type": "boolean"},
        "connectDexcom": {"title": "Connect Dexcom", "description": "", "type": "boolean"}}}}}


def _connect_help() -> dict:
    return {"connectAbbott": {"ui:help": "When checked, the email address receives a request to share "
                                         "FreeStyle Libre data with Tidepool (US FreeStyle Libre users only)."},
            "connectDexcom": {"ui:help": "When checked, the email address receives a request to share "
                                         "Dexcom data with Tidepool (US Dexcom users only)."}}


def _tags_property() -> dict:
    return {"type": "null", "title": "", "properties": {"ids": {
        "title": "Patient Tags", "description": "", "type": "array", "uniqueItems": True,
        "items": {"$ref": "#/definitions/tags"}}}}


def _base(form_id: str, section: str, description: str, section_schema: dict, section_ui: dict) -> dict:
    return {"formId": form_id, "formData": {},
            "formSchema": {"definitions": {"tags": {}}, "description": description, "title": "Add patient to Tidepool",
                           "type": "object", "properties": {section: section_schema, "tags": _tags_property()}},
            "uiSchema": {"ui:order": [section, "tags"], section: section_ui,
                         "tags": {"ids": {"ui:widget": "CheckboxesWidget"}, "ui:widget": "hidden"}}}


PATIENT_FORM = _base(
    PATIENT_FORM_ID, "patient", "Confirm a few details to finish setting up this patient in Tidepool.",
    {"type": "object", "title": "", "properties": {"email": {
        "title": "Patient's Email", "type": "string", "format": "email",
        "description": "With an email address the patient can claim the account and upload data from home."}},
     **_connect_fields()},
    _connect_help())
GUARDIAN_FORM = _base(
    GUARDIAN_FORM_ID, "guardian",
    "Confirm a few details to finish setting up this patient in Tidepool. The patient is under 13, so a parent "
    "or guardian claims the account.",
    {"type": "object", "title": "", "required": ["firstName", "lastName"], "properties": {
        "firstName": {"title": "Parent/Guardian First Name", "type": "string"},
        "lastName": {"title": "Parent/Guardian Last Name", "type": "string"},
        "email": {"title": "Parent/Guardian Email", "type": "string", "format": "email",
                  "description": "With an email address the parent or guardian can claim the account and upload "
                                 "data from home."}},
     **_connect_fields()},
    {"ui:order": ["firstName", "lastName", "email", "connectAbbott", "connectDexcom"], **_connect_help()})
ERROR_FORM = {"formId": ERROR_FORM_ID, "formSchema": {"type": "object", "properties": {}}, "uiSchema": {}}


def deep_merge(target: dict, source: dict) -> dict:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        elif isinstance(value, list) and isinstance(target.get(key), list):
            target[key] = target[key] + value
        else:
            target[key] = copy.deepcopy(value)
    return target


def sorted_keys(value):
    if isinstance(value, dict):
        return {k: sorted_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(v) for v in value]
    return value


def form_info(base: dict, *, title: str, tags: list | None, errors: tuple | list = (),
              form_data: dict | None = None) -> dict:
    """preorderFormInfo: the base form (or the error form when there are error paragraphs) with
    the title, the clinic's patient tags (ordered by name) and the error paragraphs."""
    schema: dict = {"definitions": {"tags": {}}}
    ui: dict = {"tags": {}}
    named = sorted((t for t in tags or [] if t.get("_id") is not None), key=lambda t: (t.get("name") or "").encode())
    if named:
        schema["definitions"]["tags"] = {"enum": [hex_id(t["_id"]) for t in named],
                                         "enumNames": [t.get("name") or "" for t in named]}
    if errors:
        base, title = ERROR_FORM, ERROR_TITLE
        keys = [f"error_{i}" for i in range(len(errors))]
        schema["properties"] = {k: {"type": "null", "title": " ", "description": text}
                                for k, text in zip(keys, errors, strict=True)}
        ui["ui:order"] = keys
    elif named:
        ui["tags"]["ui:widget"] = "object"
        schema["properties"] = {"tags": {"type": "object"}}
    if title:
        schema["title"] = title
    merged = deep_merge(copy.deepcopy(base), {"formSchema": schema, "uiSchema": ui})
    return {"formData": sorted_keys(form_data or {}), "formId": merged.get("formId"),
            "formSchema": sorted_keys(merged.get("formSchema") or {}), "uiSchema": sorted_keys(merged.get("uiSchema"))}


def form_response(tracking_id: str, info: dict, *, not_orderable: bool) -> dict:
    return {"dataTrackingId": tracking_id, "notOrderable": not_orderable, "preorderFormInfo": info}


# --- e-mail addresses (as Go's net/mail ParseAddress accepts them) ------------------------------------

_ATEXT = r"[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\U0010ffff]"
_DOT_ATOM = rf"{_ATEXT}+(?:\.{_ATEXT}+)*"
_QUOTED = r'"(?:[^"\\\r\n]|\\.)*"'
_ADDR_SPEC = re.compile(rf"^(?:{_DOT_ATOM}|{_QUOTED})@(?:{_DOT_ATOM}|\[[^\[\]\\]*\])$")
_NAMED = re.compile(r"^(?P<name>[^<>]*)<(?P<addr>[^<>]*)>$")


def valid_email(text: str) -> bool:
    candidate = text.strip()
    named = _NAMED.match(candidate)
    if named:
        candidate = named.group("addr").strip()
    return bool(_ADDR_SPEC.match(candidate))
