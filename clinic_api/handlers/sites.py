"""Sites of a clinic: create, rename (reaches every patient), delete, merge."""
from __future__ import annotations

from connexion import NoContent

from clinic_api import context
from clinic_api.errors import BadRequest, bad_request
from clinic_api.errors import BODY_MISSING
from clinic_api.store import sites, tx
from clinic_api.store.ids import is_hex_id


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
    site = sites.create(context.db(), clinicId, (body or {}).get("name") or "")
    return sites.to_api(site), 200


def update_site(clinicId, siteId, body=None):
    _check_binding(body)
    name = (body or {}).get("name") or ""
    services = context.services()
    site = tx.run(services.store, lambda session: sites.rename(services.store.db, clinicId, siteId, name,
                                                               session=session))
    return sites.to_api(site), 200


def delete_site(clinicId, siteId):
    services = context.services()
    tx.run(services.store, lambda session: sites.remove(services.store.db, clinicId, siteId, session=session))
    return NoContent, 204


def merge_site(clinicId, siteId, body=None):
    source = (body or {}).get("id")
    if not is_hex_id(source):
        # The reference dereferences the missing id and answers 500; a missing id is bad input.
        raise bad_request("the id of the site to merge is required")
    services = context.services()
    site = tx.run(services.store, lambda session: sites.merge(services.store.db, clinicId, source, siteId,
                                                              session=session))
    return sites.to_api(site), 200
