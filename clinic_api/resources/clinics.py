"""clinic.v1 <-> the stored clinic document: the response shape (keys in the reference's order)
and the fields a create or update body sets."""
from __future__ import annotations

from clinic_api import wire
from clinic_api.store.clinics import can_migrate
from clinic_api.store.ids import hex_id

TIER_DESCRIPTIONS = {"tier0100": "Free", "tier0200": "Standard", "tier0300": "Premium", "tier0400": "Enterprise"}
PROFILE_FIELDS = ("address", "city", "postalCode", "state", "country", "website", "clinicType", "clinicSize")


def _counted(items, id_key) -> list[dict]:
    out = []
    for item in items:
        entry = {"id": hex_id(item.get(id_key)), "name": item.get("name", "")}
        if item.get("patients"):
            entry["numPatients"] = int(item["patients"])
        out.append(entry)
    return out


def to_api(doc: dict) -> dict:
    """clinic.v1, keys in the reference's order."""
    out: dict = {}
    if doc.get("address") is not None:
        out["address"] = doc["address"]
    out["canMigrate"] = can_migrate(doc)
    for key in ("city", "clinicSize", "clinicType", "country"):
        if doc.get(key) is not None:
            out[key] = doc[key]
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
    if doc.get("postalCode") is not None:
        out["postalCode"] = doc["postalCode"]
    out["preferredBgUnits"] = doc.get("PreferredBgUnits") or "mg/dL"
    if doc.get("canonicalShareCode") is not None:
        out["shareCode"] = doc["canonicalShareCode"]
    if doc.get("sites"):
        out["sites"] = _counted(doc["sites"], "id")
    if doc.get("state") is not None:
        out["state"] = doc["state"]
    suppressed = doc.get("suppressedNotifications")
    if suppressed is not None:
        out["suppressedNotifications"] = (
            {"patientClinicInvitation": bool(suppressed["patientClinicInvitation"])}
            if suppressed.get("patientClinicInvitation") is not None else {})
    tier = doc.get("tier") or "tier0100"
    out["tier"] = tier
    out["tierDescription"] = TIER_DESCRIPTIONS.get(tier, "")
    if doc.get("timezone") is not None:
        out["timezone"] = doc["timezone"]
    out["updatedTime"] = wire.format_time(doc.get("updatedTime"))
    if doc.get("website") is not None:
        out["website"] = doc["website"]
    return out


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
