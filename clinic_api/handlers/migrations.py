"""Legacy-clinician migrations: enable the new clinic experience, trigger the initial migration,
queue further legacy clinicians, list / read / update migration records."""
from __future__ import annotations

from connexion.lifecycle import ConnexionResponse

from clinic_api import context, wire
from clinic_api.domain import migrations as migration_domain
from clinic_api.resources import clinics as clinic_view
from clinic_api.resources import migrations as migration_view


def enable_new_clinic_experience(userId):
    doc = migration_domain.enable_new_clinic_experience(context.services(), userId)
    return clinic_view.to_api(doc), 200


def trigger_initial_migration(clinicId, body=None):
    # The body ({attestationSubmitted}) is validated but, as in the reference, not used.
    doc = migration_domain.trigger_initial_migration(context.services(), clinicId)
    return migration_view.to_api(doc), 200


def migrate_legacy_clinician_patients(clinicId, body=None):
    # Only userId is honoured; a migration always starts PENDING. 200, as the reference answers.
    user_id = (body or {}).get("userId") or ""
    doc = migration_domain.migrate_legacy_clinician(context.services(), clinicId, user_id)
    return migration_view.to_api(doc), 200


def list_migrations(clinicId):
    items = [migration_view.to_api(d) for d in migration_domain.list_for_clinic(context.services(), clinicId)]
    if not items:
        # The reference sends the JSON `null`, not `[]`, when the clinic has no migration
        # (a None result would be an empty body).
        return ConnexionResponse(status_code=200, body=wire.dumps(None), mimetype="application/json",
                                 content_type="application/json")
    return items, 200


def get_migration(clinicId, userId):
    return migration_view.to_api(migration_domain.get(context.services(), clinicId, userId)), 200


def update_migration(clinicId, userId, body=None):
    # An empty body stores an empty status, as the reference does (the record then shows none).
    status = (body or {}).get("status") or ""
    return migration_view.to_api(migration_domain.set_status(context.services(), clinicId, userId, status)), 200
