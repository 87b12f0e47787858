"""Sites of a clinic: create, rename (reaches every patient), delete, merge."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.domain import tags as domain
from clinic_api.errors import BODY_MISSING, BadRequest, bad_request
from clinic_api.resources import tags as tag_view
from clinic_api.ids import is_hex_id


def _check_binding(body) -> None:
    if not body:
        # The reference takes an empty body as the empty name (a site its own schema rejects);
        # connexion hands it over as {} (a real `{}` fails validation before).
        raise BadRequest(BODY_MISSING)
    # The reference binds the body into a struct with integer counts: a wrong type is a bare 400.
    for field in ("numPatients", "patients"):
        value = (body or {}).get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise bad_request()


def create_site(clinicId, body=None):
    _check_binding(body)
    site = domain.create_site(context.services(), clinicId, (body or {}).get("name") or "")
    return tag_view.site_to_api(site), 200


def update_site(clinicId, siteId, body=None):
    _check_binding(body)
    name = (body or {}).get("name") or ""
    site = domain.rename_site(context.services(), clinicId, siteId, name)
    return tag_view.site_to_api(site), 200


def delete_site(clinicId, siteId):
    domain.delete_site(context.services(), clinicId, siteId)
    return NoContent, 204


def merge_site(clinicId, siteId, body=None):
    source = (body or {}).get("id")
    if not is_hex_id(source):
        # The reference dereferences the missing id and answers 500; a missing id is bad input.
        raise bad_request("the id of the site to merge is required")
    site = domain.merge_sites(context.services(), clinicId, source, siteId)
    return tag_view.site_to_api(site), 200
