"""Executing a merge plan (migrations-merge.md §2.8): tags, patients, sites, clinicians, then the
source clinic's deletion, all in one transaction, with one `merge_plans` document per executed
sub-plan. The constraints a step could fail on are checked against the planned documents before
the first write, so that even without transactions a refused merge changes nothing."""
from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from bson import ObjectId

from clinic_api.domain import effects, patient_counts
from clinic_api.store import merge_reads as queries
from clinic_api.store import merge_writes as writes
from clinic_api.domain.merge.model import (MERGE, MERGE_INTO, MOVE, RETAIN, SITE_MOVE, SITE_RENAME, SITE_RETAIN,
                                           TAG_CREATE, TAG_RETAIN, TAG_SKIP, MergePlan)
from clinic_api.domain.merge.patient_plans import renamed
from clinic_api.errors import ApiError, Conflict, InternalError, NotFound, bad_request, duplicate
from clinic_api.store import clinicians as clinicians_store
from clinic_api.store import clinics as clinics_store
from clinic_api.store import deletions, merge_plans, tx
from clinic_api.store import patients as patients_store

if TYPE_CHECKING:
    from clinic_api.services import Services

NOT_EXECUTABLE = "the merge plan does not allow execution"
NON_EMPTY = "deletion of non-empty clinics is not allowed"


def execute(services: Services, plan: MergePlan) -> ObjectId:
    """Carry out the plan; its plan id. 400 when the plan blocks; 409/422 for a tag or site the
    target cannot take; the transaction rolls back on any error."""
    if plan.blocked:
        raise bad_request(NOT_EXECUTABLE)
    preflight(plan)
    plan_id = ObjectId()
    store = services.store

    def work(session):
        return _Run(services, plan, plan_id, session).all()

    written = tx.run(store, work)
    effects.emit(services, *(effects.MergePlanWritten(doc) for doc in written))
    return plan_id


# --- checks before the first write --------------------------------------------------------------

def preflight(plan: MergePlan) -> None:
    """Replay the tag and site steps and the clinician moves on the planned target."""
    clinic = {"patientTags": list(plan.target.get("patientTags") or []), "sites": list(plan.target.get("sites") or [])}
    for tag in plan.tags:
        if tag.action == TAG_CREATE:
            clinic["patientTags"].append({"name": writes.check_new_tag(clinic, tag.name)})
    for site in plan.sites:
        name = site.site.get("name") or ""
        if site.action == SITE_MOVE:
            writes.check_new_site(clinic, name)
            clinic["sites"].append(site.site)
        elif site.action == SITE_RENAME:
            new_name = renamed(site.site, clinic["sites"])
            if new_name != name:
                clinic["sites"].append({**site.site, "name": new_name})
    # The target's unique (clinicId, email) index covers every record having the field, null included.
    taken = {c.clinician["email"] for c in plan.clinicians
             if c.action in (RETAIN, MERGE_INTO) and "email" in c.clinician}
    for c in plan.clinicians:
        if c.action == MOVE and "email" in c.clinician and c.clinician["email"] in taken:
            raise duplicate(writes.CLINICIAN_EMAIL_TAKEN)


# --- the transaction ----------------------------------------------------------------------------

def _as_is(site: dict, _target: dict) -> dict | None:
    return site


def _renamed(site: dict, target: dict) -> dict | None:
    """The site under the name it takes beside the target's sites; None when it keeps its own."""
    new_name = renamed(site, target.get("sites") or [])
    return None if new_name == (site.get("name") or "") else {**site, "name": new_name}


class _Run:
    def __init__(self, services: Services, plan: MergePlan, plan_id: ObjectId, session):
        self.services = services
        self.db = services.store.db
        self.plan = plan
        self.plan_id = plan_id
        self.session = session
        self.source_oid = plan.source["_id"]
        self.target_oid = plan.target["_id"]
        self.written: list[dict] = []

    def _persist(self, kind: str, plan_bson: dict) -> None:
        self.written.append(merge_plans.insert(self.db, self.plan_id, kind, plan_bson, session=self.session))

    def _target(self) -> dict:
        return clinics_store.get(self.db, self.target_oid, session=self.session)

    def all(self) -> list[dict]:
        self.tags()
        self.patients()
        self.sites()
        self.clinicians()
        self.finalize()
        self._persist("clinic", self.plan.clinic_bson())
        return self.written

    def tags(self) -> None:
        for tag in self.plan.tags:
            if tag.action == TAG_CREATE:
                writes.add_tag(self.db, self.target_oid, tag.name, session=self.session)
            elif tag.action not in (TAG_SKIP, TAG_RETAIN):
                raise InternalError(f"unexpected tag plan action {tag.action}")
            self._persist("tag", tag.to_bson())

    def patients(self) -> None:
        target_tags = self._target().get("patientTags") or []
        for patient in self.plan.patients:
            if patient.action == MOVE:
                wanted = set(patient.post_migration_tag_names or [])
                src = patient.source_patient
                writes.move_patient(self.db, src["clinicId"], src["userId"], self.target_oid,
                                    require_unique_mrn=patient.post_migration_mrn_uniqueness,
                                    tag_ids=[t["_id"] for t in target_tags if (t.get("name") or "") in wanted],
                                    session=self.session)
            elif patient.action == MERGE:
                self._merge_patient(patient, target_tags)
            elif patient.action not in (RETAIN, MERGE_INTO):
                raise InternalError(f"unexpected plan action {patient.action}")
            self._persist("patient", patient.to_bson())

    def _merge_patient(self, patient, target_tags: list) -> None:
        src, twin = patient.source_patient, patient.target_patient
        wanted = dict.fromkeys(patient.post_migration_tag_names or [])
        tag_ids = []
        for tag in target_tags:
            name = tag.get("name") or ""
            if name in wanted:
                tag_ids.append(tag["_id"])
                del wanted[name]
        if tag_ids:
            writes.set_patient_tags(self.db, self.target_oid, twin["userId"], tag_ids, session=self.session)
        if src.get("sites"):
            writes.push_patient_sites(self.db, self.target_oid, twin["userId"], src["sites"], session=self.session)
        writes.delete_patient(self.db, src["clinicId"], src["userId"], session=self.session)

    def sites(self) -> None:
        for plan in self.plan.sites:
            if plan.action == SITE_MOVE:
                writes.add_site(self.db, self.target_oid, partial(_as_is, plan.site), session=self.session)
            elif plan.action == SITE_RENAME:
                # Named after the target's sites as the write finds them; no clash left: nothing to add.
                added = writes.add_site(self.db, self.target_oid, partial(_renamed, plan.site), session=self.session)
                if added is not None:
                    writes.rename_site_of_patients(self.db, self.target_oid, plan.site["id"], added["name"],
                                                   session=self.session)
            elif plan.action != SITE_RETAIN:
                raise InternalError(f"unhandled site action for site {plan.display_name!r}: {plan.action}")
            self._persist("site", plan.to_bson())

    def clinicians(self) -> None:
        for plan in self.plan.clinicians:
            doc = plan.clinician
            if plan.action == MOVE:
                writes.move_clinician(self.db, doc["_id"], self.target_oid, session=self.session)
                if doc.get("userId") and clinicians_store.is_admin(doc):
                    clinics_store.add_admin(self.db, self.target_oid, doc["userId"], session=self.session)
            elif plan.action == MERGE:
                # The target's record (and its roles) is kept: the source one goes, unarchived.
                try:
                    clinicians_store.delete_by_oid(self.db, doc["_id"], session=self.session)
                except NotFound:
                    raise Conflict(writes.CHANGED) from None
            elif plan.action not in (MERGE_INTO, RETAIN):
                raise InternalError(f"unexpected plan action {plan.action}")
            self._persist("clinician", plan.to_bson())

    def finalize(self) -> None:
        """Delete the (now empty) source clinic as clinic deletion does, without a deleting user,
        keep its share codes on the target and recount the target's patients."""
        db, session = self.db, self.session
        source = clinics_store.get(db, self.source_oid, session=session)
        demo_id = self.services.settings.demo_patient_user_id
        found = queries.first_patients(db, self.source_oid, 2, session=session)
        only_demo = len(found) == 1 and bool(demo_id) and found[0].get("userId") == demo_id
        if found and not only_demo:
            raise bad_request(NON_EMPTY)
        if only_demo:
            patients_store.remove(db, self.source_oid, demo_id, None, session=session)
        members = clinicians_store.list_for_clinic(db, self.source_oid, session=session)
        deletions.archive(db, "clinician", members, None, session=session)
        clinicians_store.delete_many_by_ids(db, [m["_id"] for m in members], session=session)
        archived = clinics_store.annotate(db, [source], session=session, live=True)[0]
        deletions.archive(db, "clinic", [clinics_store.archive_view(archived)], None, session=session)
        clinics_store.delete(db, self.source_oid, session=session)
        if source.get("shareCodes"):
            writes.add_share_codes(db, self.target_oid, source["shareCodes"], session=session)
        try:
            patient_counts.refresh(self.services, self.target_oid, session=session)
        except ApiError:
            pass  # as the reference: a failed recount does not undo the merge
