"""Glucose summaries: one per user, on every patient document of that user."""
from __future__ import annotations

from typing import TYPE_CHECKING

from clinic_api.errors import NoChange
from clinic_api.store import summaries as summaries_store
from clinic_api.store import tx

if TYPE_CHECKING:
    from clinic_api.services import Services


def update(services: Services, user_id: str, parts: dict | None) -> None:
    """Write the bound parts on every record of the user (None: remove the summary), together.
    NoChange when the user has no record."""
    db = services.store.db
    matched = tx.run(services.store, lambda session: summaries_store.update_all_clinics(db, user_id, parts,
                                                                                        session=session))
    if matched == 0:
        raise NoChange("summary no change")


def delete(services: Services, summary_id: str) -> None:
    if summaries_store.delete_by_summary_id(services.store.db, summary_id) == 0:
        raise NoChange("no change")
