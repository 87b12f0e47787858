"""The Redox integration (auth note §4.1): endpoint verification, storing every message Redox
delivers, matching a stored new order to its clinic and patients (optionally switching the
patient's summary-and-reports subscription), and re-queuing the last matched order of subscribed
patients for clinic-worker.
"""
from __future__ import annotations

import math
import struct
from typing import TYPE_CHECKING

import bson
from bson import json_util, tz_util
from bson.objectid import ObjectId

from clinic_api.domain import gojson
from clinic_api.errors import BadRequest, ConstraintViolation, NotFound, Unauthorized, bad_request, duplicate
from clinic_api.store import clinics as clinics_store
from clinic_api.store import ehr
from clinic_api.store import redox as redox_store
from clinic_api.store.ids import is_hex_id

if TYPE_CHECKING:
    from pymongo.database import Database
    from clinic_api.services import Services

PROVIDER = "redox"
INVALID_TOKEN = "unauthorized: invalid verification token"
TOKEN_REQUIRED = "unauthorized: verification token is required"
INVALID_METADATA = "bad request: cannot process message with invalid metadata"
UNREADABLE = "bad request: unable to unmarshall message"
NO_CLINIC = "not found: couldn't find a matching clinic"
MANY_CLINICS = "multiple matching clinics found"
CRITERIA = ("MRN", "MRN_DOB", "DOB_FULLNAME")
_CANONICAL = json_util.JSONOptions(json_mode=json_util.JSONMode.CANONICAL, tz_aware=True,
                                   tzinfo=tz_util.utc)


def now(services: Services):
    return services.clock()


# --- verification ----------------------------------------------------------------------------

def verify_endpoint(settings, body) -> dict:
    """Redox's endpoint check: echo the challenge when the token is ours. (As the reference:
    with no token configured, a request without one passes.)"""
    body = gojson.ensure_object(body, "redox.VerificationRequest")
    token = gojson.get_str(body, "verification-token")
    challenge = gojson.get_str(body, "challenge")
    if token != settings.redox_verification_token:
        raise Unauthorized(INVALID_TOKEN)
    return {"challenge": challenge}


def authorize(settings, header_value: str | None) -> None:
    if not header_value:
        raise Unauthorized(TOKEN_REQUIRED)
    if header_value != settings.redox_verification_token:
        raise Unauthorized(INVALID_TOKEN)


# --- messages --------------------------------------------------------------------------------

def _float32(value):
    """A number as the reference's float32 field holds it (stored widened to a double)."""
    if value is None or value is gojson.MISSING:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise BadRequest(INVALID_METADATA)
    try:
        narrowed = struct.unpack("f", struct.pack("f", float(value)))[0]
    except (OverflowError, struct.error):
        narrowed = math.inf
    if math.isinf(narrowed):  # Go: the number overflows a float32
        raise BadRequest(INVALID_METADATA)
    return narrowed


def _pairs(item: dict, names: tuple) -> dict:
    return {name: gojson.get(item, name, "string") for name in names}


def _meta(meta_in: dict) -> dict:
    meta: dict = {"DataModel": gojson.get_str(meta_in, "DataModel")}
    if gojson.get(meta_in, "Destinations", "array") is not None:
        meta["Destinations"] = [_pairs(d, ("ID", "Name")) for d in gojson.objects(meta_in, "Destinations")]
    meta["EventDateTime"] = gojson.get(meta_in, "EventDateTime", "string")
    meta["EventType"] = gojson.get_str(meta_in, "EventType")
    meta["FacilityCode"] = gojson.get(meta_in, "FacilityCode", "string")
    if gojson.get(meta_in, "Logs", "array") is not None:
        meta["Logs"] = [_pairs(d, ("AttemptID", "ID")) for d in gojson.objects(meta_in, "Logs")]
    message = gojson.get(meta_in, "Message", "object")
    if message is not None:
        meta["Message"] = {"ID": _float32(gojson.field(message, "ID"))}
    source = gojson.get(meta_in, "Source", "object")
    if source is not None:
        meta["Source"] = _pairs(source, ("ID", "Name"))
    meta["Test"] = gojson.get(meta_in, "Test", "bool")
    transmission = gojson.get(meta_in, "Transmission", "object")
    if transmission is not None:
        meta["Transmission"] = {"ID": _float32(gojson.field(transmission, "ID"))}
    return meta


def normalized_meta(payload) -> dict:
    """The message's `Meta` as the reference stores it: its known keys, in its order and types
    (other keys stay in `message` only). A Meta of the wrong shape is invalid metadata."""
    if payload is not None and not isinstance(payload, dict):
        raise BadRequest(UNREADABLE)
    meta_in = gojson.field(payload or {}, "Meta")
    if meta_in is gojson.MISSING or meta_in is None:
        meta_in = {}
    if not isinstance(meta_in, dict):
        raise BadRequest(INVALID_METADATA)
    try:
        return _meta(meta_in)
    except BadRequest:
        raise BadRequest(INVALID_METADATA) from None


def process_message(services: Services, raw: bytes) -> ObjectId:
    """Store a message Redox delivered, whatever its data model, once its metadata is valid."""
    payload = gojson.unmarshal(raw, UNREADABLE)
    meta = normalized_meta(payload)
    if not meta["DataModel"] or not meta["EventType"]:
        raise BadRequest(INVALID_METADATA)
    try:
        message = json_util.loads(raw.decode("utf-8"), json_options=_CANONICAL)
        if not isinstance(message, dict):
            raise ValueError("not a document")
        bson.encode(message)  # what Mongo could not store is refused here, not half-way
    except Exception:  # noqa: BLE001 - any Extended JSON the BSON codec refuses
        raise BadRequest(UNREADABLE) from None
    return redox_store.insert_message(services.store.db, meta, message)


# --- matching a new order ------------------------------------------------------------------------

def _order_values(order: dict) -> dict:
    """What matching reads from a stored new order (keys matched as the reference's decoder
    does, case-insensitively). A message of another shape cannot be matched: 422."""
    try:
        meta = gojson.get(order, "Meta", "object") or {}
        source = gojson.get(meta, "Source", "object") or {}
        patient = gojson.get(order, "Patient", "object") or {}
        identifiers = [{"ID": gojson.get_str(i, "ID"), "IDType": gojson.get_str(i, "IDType")}
                       for i in gojson.objects(patient, "Identifiers")]
        demographics = gojson.get(patient, "Demographics", "object")
        names = {}
        if demographics is not None:
            for key in ("DOB", "FirstName", "LastName"):
                names[key] = gojson.get(demographics, key, "string")
        return {"dataModel": gojson.get_str(meta, "DataModel"), "eventType": gojson.get_str(meta, "EventType"),
                "sourceId": gojson.get(source, "ID", "string") or "", "identifiers": identifiers,
                "dob": names.get("DOB") or "", "firstName": names.get("FirstName"),
                "lastName": names.get("LastName")}
    except BadRequest:
        raise ConstraintViolation("constraint violation: the stored message is not a readable new order") from None


def _find_clinic(db: Database, source_id: str) -> dict:
    if not source_id:
        raise bad_request("source id is required")
    found = ehr.ehr_clinics(db, PROVIDER, source_id=source_id, limit=2)
    if len(found) > 1:
        raise duplicate(MANY_CLINICS)
    if not found:
        raise NotFound(NO_CLINIC)
    return found[0]


def _patient_values(values: dict, clinic: dict) -> dict | None:
    """MRN (first identifier of the clinic's MRN type), DOB and full name; None without an MRN
    (then nobody is searched for)."""
    mrn_type = ((clinic.get("ehrSettings") or {}).get("mrnIdType") or "MRN").lower()
    mrn = next((i["ID"] for i in values["identifiers"] if i["IDType"].lower() == mrn_type), "")
    names = [n for n in (values["firstName"], values["lastName"]) if n is not None]
    full_name = " ".join(names)
    if not mrn:
        return None
    if not values["dob"]:
        raise bad_request("date of birth is missing")
    if not full_name:
        raise bad_request("full name is missing")
    return {"mrn": mrn, "birth_date": values["dob"], "full_name": full_name}


def _matching_patients(store, clinic: dict, criteria: list, found: dict | None) -> list[dict]:
    if found is None:
        return []
    matched, seen = [], set()
    for criterion in criteria:
        fields = {"MRN": ("mrn",), "MRN_DOB": ("mrn", "birth_date"), "DOB_FULLNAME": ("birth_date", "full_name")}
        query = {name: found[name] for name in fields[criterion]}
        for patient in ehr.match_patients(store, clinic["_id"], **query):
            user_id = patient.get("userId")
            if user_id and user_id not in seen:
                seen.add(user_id)
                matched.append(patient)
    return matched


def match_order(services: Services, body: dict) -> tuple[dict, list[dict]]:
    """MatchClinicAndPatient: (the clinic, the matching patient documents)."""
    ref = body.get("messageRef")
    if ref is None:
        raise bad_request("messageRef is required")
    if not is_hex_id(ref.get("documentId")):
        raise bad_request("invalid documentId")
    document_id = ObjectId(ref["documentId"])
    if ref.get("dataModel") != "Order" or ref.get("eventType") != "New":
        raise bad_request("only new order messages are supported")
    db = services.store.db
    stored = redox_store.find_message(db, document_id, ref["dataModel"], ref["eventType"])
    if stored is None:
        raise NotFound("not found: no new order message with this documentId")
    message = stored.get("message")
    values = _order_values(message if isinstance(message, dict) else {})
    options = body.get("patients") or {}
    criteria = list(options.get("criteria") or [])
    if any(c not in CRITERIA for c in criteria):
        raise bad_request("invalid criteria")
    subscribe = options.get("onUniqueMatch")
    if subscribe is not None and subscribe not in ("ENABLE_REPORTS", "DISABLE_REPORTS"):
        raise bad_request(f"invalid 'onMatch' value {subscribe}")
    clinic = _find_clinic(db, values["sourceId"])
    if clinic.get("ehrSettings") is None:
        raise bad_request("clinic has no EHR settings")
    patients = _matching_patients(services.store, clinic, criteria, _patient_values(values, clinic))
    if subscribe is not None and len(patients) == 1:
        matched = {"id": document_id, "dataModel": values["dataModel"], "eventType": values["eventType"]}
        ehr.update_subscription(db, clinic["_id"], patients[0]["userId"], ehr.REDOX_SUBSCRIPTION, PROVIDER,
                                subscribe == "ENABLE_REPORTS", matched, now=now(services))
    return clinics_store.annotate(db, [clinic])[0], patients


# --- re-queuing the last matched orders -------------------------------------------------------------

def sync_clinic(services: Services, clinic_id: str) -> int:
    db = services.store.db
    found = ehr.ehr_clinics(db, PROVIDER, clinic_id=clinic_id, limit=2)
    if len(found) > 1:
        raise duplicate(MANY_CLINICS)
    if not found:
        raise NotFound(NO_CLINIC)
    return ehr.reschedule_last_orders(db, [found[0]["_id"]], now=now(services))


def sync_patient(services: Services, user_id: str) -> int:
    db = services.store.db
    clinic_ids = [c["_id"] for c in ehr.ehr_clinics(db, PROVIDER, upload_enabled=True)]
    return ehr.reschedule_last_orders(db, clinic_ids, user_id=user_id, now=now(services))

