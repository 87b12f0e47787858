"""patientTag.v1 and site.v1 of a clinic's stored tags and sites."""
from __future__ import annotations

from clinic_api.store.ids import hex_id


def tag_to_api(tag: dict) -> dict:
    return {"id": hex_id(tag.get("_id")), "name": tag.get("name") or ""}


def site_to_api(site: dict) -> dict:
    """The site as the reference sends it from the site endpoints: `patients`, omitted when 0."""
    out = {"id": hex_id(site.get("id")), "name": site.get("name") or ""}
    if site.get("patients"):
        out["patients"] = int(site["patients"])
    return out
