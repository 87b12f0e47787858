"""clinic.v1 <-> the stored clinic document: the response shape (keys in the reference's order)
and the fields a create or update body sets."""
from __future__ import annotations

from typing import TypedDict, cast

from clinic_api import wire
from clinic_api.store.clinics import can_migrate
from clinic_api.store.ids import hex_id

TIER_DESCRIPTIONS = {"tier0100": "Free", "tier0200": "Standard", "tier0300": "Premium", "tier0400": "Enterprise"}
# The clinic's optional profile fields, in the stored document's order (the reference's struct):
# a create or update body writes those it carries non-null; clinic.v1 shows those stored non-null.
PROFILE_FIELDS = ("address", "city", "postalCode", "state", "country", "website", "clinicType", "clinicSize")


class Counted(TypedDict, total=False):
    id: str
    name: str
    numPatients: int


class ClinicV1(TypedDict, total=False):
    """clinic.v1 as sent. Its keys go out in alphabetical order, as the reference's generated
    struct declares them."""
    address: str
    canMigrate: bool
    city: str
    clinicSize: str
    clinicType: str
    country: str
    createdTime: str
    id: str
    name: str
    patientTags: list[Counted] | None
    phoneNumbers: list[dict] | None
    postalCode: str
    preferredBgUnits: str
    shareCode: str
    sites: list[Counted]
    state: str
    suppressedNotifications: dict
    tier: str
    tierDescription: str
    timezone: str
    updatedTime: str
    website: str


def _counted(items, id_key) -> list[Counted]:
    out = []
    for item in items:
        entry: Counted = {"id": hex_id(item.get(id_key)), "name": item.get("name", "")}
        if item.get("patients"):
            entry["numPatients"] = int(item["patients"])
        out.append(entry)
    return out


def to_api(doc: dict) -> ClinicV1:
    """clinic.v1, keys in the reference's (alphabetical) order."""
    out = cast(ClinicV1, {k: doc[k] for k in PROFILE_FIELDS + ("timezone",) if doc.get(k) is not None})
    out["canMigrate"] = can_migrate(doc)
    out["createdTime"] = wire.format_time(doc.get("createdTime"))
    out["id"] = hex_id(doc["_id"])
    out["name"] = doc.get("name") or ""
    if doc.get("patientTags") is not None:
        out["patientTags"] = _counted(doc["patientTags"], "_id") or None
    if doc.get("phoneNumbers") is not None:
        phones = []
        for phone in doc["phoneNumbers"]:
            entry = {"number": phone.get("number", "")}
            if phone.get("type") is not None:
                entry["type"] = phone["type"]
            phones.append(entry)
        out["phoneNumbers"] = phones or None
    out["preferredBgUnits"] = doc.get("PreferredBgUnits") or "mg/dL"
    if doc.get("canonicalShareCode") is not None:
        out["shareCode"] = doc["canonicalShareCode"]
    if doc.get("sites"):
        out["sites"] = _counted(doc["sites"], "id")
    suppressed = doc.get("suppressedNotifications")
    if suppressed is not None:
        out["suppressedNotifications"] = (
            {"patientClinicInvitation": bool(suppressed["patientClinicInvitation"])}
            if suppressed.get("patientClinicInvitation") is not None else {})
    tier = doc.get("tier") or "tier0100"
    out["tier"] = tier
    out["tierDescription"] = TIER_DESCRIPTIONS.get(tier, "")
    out["updatedTime"] = wire.format_time(doc.get("updatedTime"))
    return cast(ClinicV1, dict(sorted(out.items())))


def fields_from_api(body: dict) -> dict:
    """The fields a create or update honours; the rest of the body is ignored."""
    fields = {"name": body.get("name") or ""}
    for key in PROFILE_FIELDS:
        if key in body and body[key] is not None:
            fields[key] = body[key]
    phones = body.get("phoneNumbers")
    fields["phoneNumbers"] = (
        [{k: p[k] for k in ("type", "number") if k in p} for p in phones] if phones is not None else None)
    fields["timezone"] = body.get("timezone")
    if body.get("preferredBgUnits"):
        fields["PreferredBgUnits"] = body["preferredBgUnits"]
    return fields


def suppressed_from_api(body: dict) -> dict:
    """suppressedNotifications.v1 -> the stored value (only the flags sent, as booleans)."""
    inner = body.get("suppressedNotifications") or {}
    value = {}
    if inner.get("patientClinicInvitation") is not None:
        value["patientClinicInvitation"] = bool(inner["patientClinicInvitation"])
    return value


def restrictions_to_api(doc: dict) -> dict:
    """membershipRestrictions.v1 of the clinic ({} when it has none)."""
    items = doc.get("membershipRestrictions") or []
    if not items:
        return {}
    out = []
    for item in items:
        entry = {"emailDomain": item.get("emailDomain", "")}
        if item.get("requiredIdp"):
            entry["requiredIdp"] = item["requiredIdp"]
        out.append(entry)
    return {"restrictions": out}


def restrictions_from_api(body: dict) -> list[dict]:
    items = []
    for item in body.get("restrictions") or []:
        entry = {}
        if item.get("emailDomain"):
            entry["emailDomain"] = item["emailDomain"]
        if item.get("requiredIdp"):
            entry["requiredIdp"] = item["requiredIdp"]
        items.append(entry)
    return items


def patient_count_to_api(counts: dict) -> dict:
    """patientCount.v1 of the stored count: providers and their states sorted by name."""
    out: dict = {"demo": int(counts.get("demo") or 0), "plan": int(counts.get("plan") or 0)}
    providers = counts.get("providers") or {}
    if providers:
        rendered = {}
        for name in sorted(providers):
            entry = providers[name] or {}
            states = entry.get("states") or {}
            rendered[name] = {"states": {k: int(states[k]) for k in sorted(states)},
                              "total": int(entry.get("total") or 0)}
        out["providers"] = rendered
    out["total"] = int(counts.get("total") or 0)
    return out
