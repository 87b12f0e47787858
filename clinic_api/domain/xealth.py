"""The Xealth integration (auth note §4.2): caller verification, the request parts every Xealth
operation reads, clinic and patient matching, and order notifications (which may create the
patient and switch its `xealthReports` subscription). Preorder forms are in xealth_preorder.py,
programs and the report viewer in xealth_programs.py.

Where the reference fails with 500 because the integration is disabled, we answer 404
`not found: the xealth integration is not enabled`; where it fails on a caller's input, a 4xx.
"""
from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from clinic_api import wire
from clinic_api.domain import gojson
from clinic_api.domain import patient_care, patients as patients_domain
from clinic_api.errors import ApiError, NotFound, Unauthorized, bad_request, constraint, duplicate
from clinic_api.store import ehr
from clinic_api.store import xealth as xealth_store
from clinic_api.store.ids import hex_id

if TYPE_CHECKING:
    from clinic_api.services import Services

PROVIDER = "xealth"
DISABLED = "not found: the xealth integration is not enabled"
BEARER = "Bearer "
NO_CLINIC = "not found: couldn't find matching clinic"
NO_PATIENT = "not found: couldn't find matching patient"
NO_DATASETS = object()  # a request that carries no matching criteria (notifications)


def now(services: Services):
    return services.clock()


def prefixed(exc: ApiError, prefix: str) -> ApiError:
    """The same kind of error with outer context before its message, as the reference wraps."""
    return type(exc)(prefix + exc.message)


# --- caller ----------------------------------------------------------------------------------

def ensure_enabled(settings) -> None:
    if not settings.xealth_enabled:
        raise NotFound(DISABLED)


def authorize(settings, authorization: str | None) -> None:
    """`Authorization: Bearer <TIDEPOOL_XEALTH_BEARER_TOKEN>` (prefix case-sensitive)."""
    ensure_enabled(settings)
    if not authorization or not authorization.startswith(BEARER):
        raise Unauthorized("unauthorized: bearer token is required")
    token = authorization[len(BEARER):]
    if not token or token != settings.xealth_bearer_token:
        raise Unauthorized("unauthorized: bearer token is invalid")


# --- request parts ---------------------------------------------------------------------------------

def identity(value, path: str = "patientIdentity") -> dict:
    """A patientIdentity object: {historicalIds?: [...], ids: [{id, origin, type}] or None},
    type-checked (Go zero values for absent strings)."""
    value = value or {}

    def items(name):
        return [{"id": gojson.get_str(i, "id"), "origin": gojson.get_str(i, "origin"),
                 "type": gojson.get_str(i, "type")} for i in gojson.objects(value, name, path)]

    out: dict = {}
    if gojson.get(value, "historicalIds", "array", path) is not None:
        out["historicalIds"] = items("historicalIds")
    out["ids"] = items("ids") if gojson.get(value, "ids", "array", path) is not None else None
    return out


def identity_of(obj, path: str = "patientIdentity") -> dict:
    """The patientIdentity field of a request object."""
    return identity(gojson.get(obj, "patientIdentity", "object"), path)


def datasets(obj, path: str = "datasets") -> dict | None:
    """The parts of `datasets` we read: demographicsV1 (name, birthDate, telecom) and ehrUserV1."""
    value = gojson.get(obj, "datasets", "object")
    if value is None:
        return None
    out: dict = {"demographics": None, "ehrUser": None}
    demo = gojson.get(value, "demographicsV1", "object", path)
    if demo is not None:
        where = f"{path}.demographicsV1"
        name = gojson.get(demo, "name", "object", where) or {}
        birth = gojson.get(demo, "birthDate", "string", where)
        email = None
        for item in gojson.objects(demo, "telecom", where):
            system = gojson.get(item, "system", "string", where + ".telecom")
            value_ = gojson.get(item, "value", "string", where + ".telecom")
            if email is None and system == "email" and value_ is not None:
                email = value_
        out["demographics"] = {"given": gojson.strings(name, "given", where + ".name"),
                               "family": gojson.strings(name, "family", where + ".name"),
                               "birthDate": gojson.parse_date(birth, "birthDate") if birth is not None else "",
                               "email": email or ""}
    user = gojson.get(value, "ehrUserV1", "object", path)
    if user is not None:
        out["ehrUser"] = {"userId": gojson.get(user, "userId", "string", path + ".ehrUserV1"),
                          "systemLogin": gojson.get(user, "systemLogin", "string", path + ".ehrUserV1")}
    return out


def ehr_user_id(parsed: dict | None) -> str | None:
    return ((parsed or {}).get("ehrUser") or {}).get("userId")


def criteria(parsed: dict | None) -> dict:
    if parsed is None:
        raise bad_request("datasets is required")
    demo = parsed["demographics"]
    if demo is None:
        raise bad_request("demographics is required")
    names = []
    first = " ".join(demo["given"]) if demo["given"] else ""
    last = " ".join(demo["family"]) if demo["family"] else ""
    if demo["given"]:
        names.append(first)
    if demo["family"]:
        names.append(last)
    return {"firstName": first, "lastName": last, "fullName": " ".join(names).strip(),
            "dateOfBirth": demo["birthDate"], "email": demo["email"], "mrn": ""}


# --- matching ---------------------------------------------------------------------------------------

@dataclasses.dataclass
class Match:
    clinic: dict | None = None
    patient: dict | None = None
    criteria: dict | None = None


def match(services: Services, deployment: str, ids: list | None, parsed, *, with_dob: bool = True,
          no_clinic_ok: bool = False, no_patient_ok: bool = False) -> Match:
    """The deployment's clinic, then the one patient of the criteria (MRN of the clinic's type,
    plus the birth date unless with_dob is False)."""
    db = services.store.db
    found = ehr.ehr_clinics(db, PROVIDER, source_id=deployment, limit=2)
    if not found:
        if no_clinic_ok:
            return Match()
        raise NotFound(NO_CLINIC)
    if len(found) > 1:
        raise duplicate("found multiple matching clinics")
    clinic = found[0]
    if parsed is NO_DATASETS:
        return Match(clinic=clinic)
    wanted = criteria(parsed)
    settings = clinic.get("ehrSettings")
    if settings is None:
        raise bad_request("clinic has no EHR settings")
    mrn_type = (settings.get("mrnIdType") or "MRN").lower()
    wanted["mrn"] = next((i["id"] for i in ids or [] if i["type"].lower() == mrn_type), "")
    if not wanted["mrn"]:
        raise bad_request("mrn is missing")
    if not wanted["dateOfBirth"]:
        raise bad_request("date of birth is missing")
    if not wanted["fullName"]:
        raise bad_request("full name is missing")
    patients = ehr.match_patients(services.store, clinic["_id"], mrn=wanted["mrn"],
                                  birth_date=wanted["dateOfBirth"] if with_dob else None)
    if not patients:
        if no_patient_ok:
            return Match(clinic=clinic, criteria=wanted)
        raise NotFound(NO_PATIENT)
    if len(patients) > 1:
        raise constraint("multiple matching patients found")
    return Match(clinic=clinic, patient=patients[0], criteria=wanted)


def program_code(clinic: dict) -> str | None:
    return ((clinic.get("ehrSettings") or {}).get("procedureCodes") or {}).get("createAccountAndEnableReports")


# --- order notifications ---------------------------------------------------------------------------

def event_notification(body) -> dict:
    """The notification as the reference stores it: every field, Go zero values for absent ones."""
    body = gojson.ensure_object(body, "xealth_client.EventNotification")
    stamp = gojson.get(body, "eventTimeStamp", "string")
    try:
        when = wire.parse_time(stamp) if stamp is not None else wire.parse_time("0001-01-01T00:00:00Z")
    except ValueError:
        raise bad_request(f'parsing time "{stamp}": not an RFC 3339 date-time') from None
    event: dict = {name: gojson.get_str(body, name) for name in ("deployment", "eventContext", "eventId")}
    event["eventTimeStamp"] = when
    for name in ("eventType", "orderId", "partnerId"):
        event[name] = gojson.get_str(body, name)
    event["patientIdentity"] = identity_of(body)
    event["programId"] = gojson.get_str(body, "programId")
    return event


def handle_notification(services: Services, event: dict) -> None:
    """order:new / order:cancel of a known program: fetch and keep the order, then process it."""
    if f"{event['eventType']}:{event['eventContext']}" not in ("order:new", "order:cancel"):
        return
    try:
        found = match(services, event["deployment"], None, NO_DATASETS, no_clinic_ok=True, no_patient_ok=True)
    except ApiError as exc:
        raise prefixed(exc, "matching event notification request: ") from None
    if found.clinic is None:
        return
    code = program_code(found.clinic)
    if code is None or event["programId"] != code:
        return
    order_data = services.xealth().read_order(event["deployment"], event["orderId"])
    order = xealth_store.insert_order(services.store.db, event, order_data)
    process_order(services, order)


def _order_parts(order: dict):
    data = order.get("orderData") or {}
    info = gojson.get(data, "orderInfo", "object") or {}
    preorder = gojson.get(data, "preorder", "object")
    tracking = gojson.get(preorder, "dataTrackingId", "string") if preorder is not None else None
    return data, info, tracking


def process_order(services: Services, order: dict) -> None:
    db = services.store.db
    data, info, tracking = _order_parts(order)
    preorder = xealth_store.get_preorder(db, tracking) if tracking is not None else None
    try:
        parsed = datasets(data, "orderData.datasets")
        ids = identity_of(data, "orderData.patientIdentity")["ids"]
        found = match(services, gojson.get_str(info, "deployment"), ids, parsed, no_clinic_ok=True,
                      no_patient_ok=True)
    except ApiError as exc:
        raise prefixed(exc, "handling new order: ") from None
    if found.clinic is None:
        return
    event = order["eventNotification"]
    update = _subscription_update(order, event, info, found.clinic)
    patient = found.patient
    if patient is None:
        patient = _create_patient(services, found, preorder)
    try:
        ehr.update_subscription(db, found.clinic["_id"], patient["userId"], ehr.XEALTH_SUBSCRIPTION, PROVIDER,
                                update["active"], update["matched"], now=now(services))
    except ApiError as exc:
        raise prefixed(exc, "unable to update ehr subscription: ") from None


def _subscription_update(order: dict, event: dict, info: dict, clinic: dict) -> dict:
    prefix = "unable to create subscription update: "
    if event.get("eventType") != "order":
        raise prefixed(bad_request(f"unsupported event type {event.get('eventType')}"), prefix)
    code = program_code(clinic)
    if code is None or code != event.get("programId"):
        raise prefixed(bad_request(f"unknown program id in order {gojson.get_str(info, 'orderId')}"), prefix)
    context = event.get("eventContext")
    if context not in ("new", "cancel"):
        raise prefixed(bad_request(f"unsupported event context {context}"), prefix)
    return {"active": context == "new",
            "matched": {"id": order["_id"], "dataModel": event["eventType"], "eventType": context}}


def _create_patient(services: Services, found: Match, preorder: dict | None) -> dict:
    """A custodial patient from the order's demographics and what the enrollment form gathered,
    created as any patient is (MRN rules, patient limit, account), then asked to connect."""
    section = None
    if preorder is not None:
        section = preorder.get("guardian") if preorder.get("guardian") is not None else preorder.get("patient")
    if section is None:
        raise prefixed(bad_request("preorder data is required to create a new patient"),
                       "unable to create patient create: ")
    wanted, clinic = found.criteria, found.clinic
    assert wanted is not None and clinic is not None  # match() raises when either is missing
    assert preorder is not None  # a section was found in it
    body: dict = {"fullName": wanted["fullName"], "birthDate": wanted["dateOfBirth"], "mrn": wanted["mrn"]}
    providers = []
    email = section.get("email") or ""
    if email.strip():
        body["email"] = email
        providers = [p for p, flag in (("abbott", "connectAbbott"), ("dexcom", "connectDexcom")) if section.get(flag)]
    known = {hex_id(t.get("_id")) for t in clinic.get("patientTags") or [] if t.get("_id") is not None}
    tags = [t for t in ((preorder.get("tags") or {}).get("ids") or []) if t in known]
    if tags:
        body["tags"] = tags
    if providers:
        body["dataSources"] = [{"providerName": p, "state": "pending"} for p in providers]
    clinic_id = hex_id(clinic["_id"])
    try:
        patient = patients_domain.create_account(services, clinic_id, body, None)
    except ApiError as exc:
        raise prefixed(exc, "unable to create new patient from order: ") from None
    for provider in providers:
        try:
            patient_care.connect_provider(services, clinic_id, patient["userId"], provider)
        except ApiError as exc:
            raise prefixed(exc, f"unable to update {provider} connection: ") from None
    return patient
