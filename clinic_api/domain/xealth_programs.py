"""What Xealth shows of an enrolled patient (auth note §4.2.6-§4.2.7): the program summary
(XealthGetPrograms), the link to the patient's report (XealthGetProgramUrl, which mints a
restricted token and records who opened it) and the report viewer page behind that link
(ViewPDFReport).
"""
from __future__ import annotations

import datetime as _dt
import logging
import re
import urllib.parse
from typing import TYPE_CHECKING

from clinic_api.domain import gojson, xealth
from clinic_api.errors import ApiError, Unauthorized, constraint
from clinic_api.store import clinics as clinics_store
from clinic_api.store import ehr
from clinic_api.store import patients as patients_store
from clinic_api.store import xealth as xealth_store
from clinic_api.store.ids import hex_id

if TYPE_CHECKING:
    from clinic_api.services import Services

log = logging.getLogger("clinic_api.xealth")
NOT_PRESENT = {"present": False}
TITLE = "Tidepool"
REPORT_PERIOD = _dt.timedelta(days=14)
VIEWER_PATH = ("v1", "xealth", "report", "web", "viewer.html")


def _latest(patient: dict, field: str) -> _dt.datetime | None:
    raw = patient.get("summary")
    summary: dict = raw if isinstance(raw, dict) else {}
    found = [((summary.get(kind) or {}).get("dates") or {}).get(field) for kind in ("cgmStats", "bgmStats")]
    times = [t for t in found if isinstance(t, _dt.datetime)]
    return max(times) if times else None


def _day(value: _dt.datetime | None) -> str:
    if value is None or value.year <= 1:
        return "N/A"
    value = value.astimezone(_dt.timezone.utc)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def _provider(name: str) -> str:
    if name == "twiist":
        return name
    return re.sub(r"\w+", lambda m: m.group(0)[:1].upper() + m.group(0)[1:].lower(), name)


def cloud_connections(sources) -> str:
    """Per provider, its most recently modified data source: `Provider (state)`, sorted."""
    latest: dict = {}
    for source in sources or []:
        name = source.get("providerName") or ""
        modified = source.get("modifiedTime")
        existing = latest.get(name)
        existing_time = existing.get("modifiedTime") if existing else None
        if existing is None or not isinstance(existing_time, _dt.datetime) or \
                (isinstance(modified, _dt.datetime) and modified > existing_time):
            latest[name] = source
    rendered = []
    for name, source in latest.items():
        state = source.get("state") or ""
        state = "pending reconnect" if state == "pendingReconnect" else state.lower()
        rendered.append(f"{_provider(name)} ({state})")
    return ", ".join(sorted(rendered)) if rendered else "None"


def _after(a: _dt.datetime | None, b: _dt.datetime | None) -> bool:
    zero = _dt.datetime(1, 1, 1, tzinfo=_dt.timezone.utc)
    return (a or zero) > (b or zero)


def get_programs(services: Services, body) -> dict:
    body = gojson.ensure_object(body, "xealth_client.GetProgramsRequest")
    deployment = gojson.get_str(body, "deployment")
    ids = xealth.identity_of(body)["ids"]
    parsed = xealth.datasets(body)
    try:
        found = xealth.match(services, deployment, ids, parsed, no_clinic_ok=True, no_patient_ok=True)
    except ApiError as exc:
        raise xealth.prefixed(exc, "matching get programs request: ") from None
    if found.clinic is None or found.patient is None:
        return NOT_PRESENT
    patient = found.patient
    sub = (patient.get("ehrSubscriptions") or {}).get(ehr.XEALTH_SUBSCRIPTION)
    if not isinstance(sub, dict) or sub.get("provider") != xealth.PROVIDER or sub.get("active") is not True \
            or not sub.get("matchedMessages"):
        return NOT_PRESENT
    order = xealth_store.get_order(services.store.db, sub["matchedMessages"][-1].get("id"))
    event = order.get("eventNotification") or {}
    program_id = event.get("programId") or ""
    updated = _latest(patient, "lastUpdatedDate")
    viewed = None
    user_id = xealth.ehr_user_id(parsed)
    if user_id is not None:
        view = xealth_store.last_report_view(services.store.db, clinic_id=found.clinic["_id"], deployment=deployment,
                                             patient_user_id=patient["userId"], program_id=program_id, user_id=user_id)
        viewed = view.get("createdTime") if view else None
    perms = patient.get("permissions")
    claimed = isinstance(perms, dict) and "custodian" not in perms
    description = " | ".join([f"Last Upload: {_day(updated)}", f"Last Viewed by You: {_day(viewed)}",
                              f"Claimed Account?: {'Yes' if claimed else 'No'}",
                              f"Cloud Connections: {cloud_connections(patient.get('dataSources'))}"])
    stamp = event.get("eventTimeStamp")
    enrolled = _day(stamp) if isinstance(stamp, _dt.datetime) and stamp.year > 1 else "0001-01-01"
    program = {"description": description, "enrolledDate": enrolled,
               "hasStatusView": bool(sub.get("active")) and _day(_latest(patient, "lastUploadDate")) != "N/A",
               "has_alert": _after(updated, viewed), "programId": program_id, "title": TITLE}
    return {"present": True, "programs": [program]}


# --- links ---------------------------------------------------------------------------------

def _url(base: str, segments: tuple, params: list) -> str:
    """base joined with the path segments, the query sorted by key (as Go's url.Values)."""
    parts = urllib.parse.urlsplit(base)
    path = "/".join([parts.path.rstrip("/")] + [urllib.parse.quote(s, safe="") for s in segments])
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True) + params
    query.sort(key=lambda kv: kv[0])
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, urllib.parse.urlencode(query), ""))


def get_program_url(services: Services, body) -> dict:
    body = gojson.ensure_object(body, "xealth_client.GetProgramUrlRequest")
    deployment = gojson.get_str(body, "deployment")
    ids = xealth.identity_of(body)["ids"]
    parsed = xealth.datasets(body)
    request_program = gojson.get_str(body, "programId")
    try:
        found = xealth.match(services, deployment, ids, parsed)
    except ApiError as exc:
        raise xealth.prefixed(exc, "matching get program url request: ") from None
    patient, clinic = found.patient, found.clinic
    assert patient is not None and clinic is not None  # match() raises when either is missing
    token = services.restricted_tokens().create(patient["userId"])
    url = _url(services.settings.application_url, VIEWER_PATH,
               [("restricted_token", token["id"]), ("patientId", patient["userId"]),
                ("clinicId", hex_id(clinic["_id"]))])
    user = (parsed or {}).get("ehrUser") or {}
    if user.get("userId") and deployment and request_program and patient.get("userId"):
        view = {"userId": user["userId"], "deployment": deployment}
        if user.get("systemLogin") is not None:
            view["systemLogin"] = user["systemLogin"]
        view.update({"patientUserId": patient["userId"], "programId": request_program, "clinicId": clinic["_id"],
                     "createdTime": xealth.now(services)})
        try:
            xealth_store.insert_report_view(services.store.db, view)
        except Exception as exc:  # noqa: BLE001 - as the reference, a failed record only is logged
            log.error("unable to record the report view: %s", type(exc).__name__)
    return {"url": url}


# --- the report viewer ---------------------------------------------------------------------------------

def report_url(services: Services, clinic_id: str, patient_id: str, token_id: str) -> str:
    """The URL of the patient's PDF report, once the restricted token proves the link."""
    token = services.restricted_tokens().get(token_id)
    expires = (token or {}).get("expirationTime")
    if token is None or not isinstance(expires, _dt.datetime) or expires < xealth.now(services) \
            or token.get("userId") != patient_id:
        raise Unauthorized("unauthorized: invalid or expired token")
    db = services.store.db
    clinic = clinics_store.get(db, clinic_id)
    patient = patients_store.get(db, clinic_id, patient_id)
    settings = clinic.get("ehrSettings")
    # The reference fails with 500 for a clinic without EHR settings: it has no subscription either.
    if not isinstance(settings, dict) or not settings.get("enabled") or \
            ehr.active_subscription(patient, ehr.XEALTH_SUBSCRIPTION) is None:
        raise Unauthorized("unauthorized: patient doesn't have active subscriptions")
    for key, name in (("userId", "userId"), ("birthDate", "birth date"), ("mrn", "mrn"), ("fullName", "full name")):
        if patient.get(key) is None:
            raise constraint(f"{name} is required")
    params = [("reports", "all"), ("inline", "true"), ("userId", patient["userId"]), ("dob", patient["birthDate"]),
              ("mrn", patient["mrn"]), ("fullName", patient["fullName"])]
    if clinic.get("timezone") is not None:
        params.append(("tzName", clinic["timezone"]))
    if clinic.get("PreferredBgUnits"):
        params.append(("bgUnits", clinic["PreferredBgUnits"]))
    end = _latest_data(patient)
    if end is not None:
        params.append(("startDate", _rfc3339(end - REPORT_PERIOD)))
        params.append(("endDate", _rfc3339(end)))
    params.append(("restricted_token", token["id"]))
    return _url(services.settings.application_url, ("export", "report", patient["userId"]), params)


def _latest_data(patient: dict) -> _dt.datetime | None:
    found = _latest(patient, "lastData")
    return found if found is not None and found.year > 1 else None


def _rfc3339(value: _dt.datetime) -> str:
    value = value.astimezone(_dt.timezone.utc)
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value:%H:%M:%S}Z"
