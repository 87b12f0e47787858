"""patientTag.v1 and site.v1 of a clinic's stored tags and sites."""
from __future__ import annotations

from typing import TypedDict

from clinic_api.store.ids import hex_id


class PatientTagV1(TypedDict):
    id: str
    name: str


class SiteV1(TypedDict, total=False):
    id: str
    name: str
    patients: int


def tag_to_api(tag: dict) -> PatientTagV1:
    return {"id": hex_id(tag.get("_id")), "name": tag.get("name") or ""}


def site_to_api(site: dict) -> SiteV1:
    """The site as the reference sends it from the site endpoints: `patients`, omitted when 0."""
    out: SiteV1 = {"id": hex_id(site.get("id")), "name": site.get("name") or ""}
    if site.get("patients"):
        out["patients"] = int(site["patients"])
    return out
