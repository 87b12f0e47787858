"""Every index, declared once, exactly as the reference creates them (names, key order and
options included, even where a key names a field the documents do not have), so that we can
share a database with the Go service."""
from __future__ import annotations

from pymongo import IndexModel

_BG = {"background": True}
_EN1 = {"locale": "en", "strength": 1}


def _meeting_targets(period: str) -> IndexModel:
    tir = f"summary.cgmStats.periods.{period}.timeInTargetPercent"
    use = f"summary.cgmStats.periods.{period}.timeCGMUsePercent"
    return IndexModel(
        [("clinicId", 1), ("userId", 1), ("tags", 1), ("summary.cgmStats.dates.lastData", 1), (tir, 1)],
        name=f"MeetingTargetsIndex{period}",
        partialFilterExpression={tir: {"$gte": 0.7}, use: {"$gte": 0.7}},
    )


INDEXES: dict[str, list[IndexModel]] = {
    "clinics": [
        IndexModel([("shareCodes", 1)], name="UniqueShareCodes", unique=True),
        IndexModel([("canonicalShareCode", 1)], name="UniqueCanonicalShareCode", unique=True),
    ],
    "clinic_deletions": [
        IndexModel([("clinic._id", 1)], name="ClinicDeletion"),
        IndexModel([("deletedTime", 1), ("clinic._id", 1)], name="DeletedTime"),
    ],
    "patients": [
        IndexModel([("userId", 1)], name="UserId"),
        IndexModel([("clinicId", 1), ("userId", 1)], name="UniquePatient", unique=True),
        IndexModel([("clinicId", 1), ("fullName", 1)], name="PatientFullNameEn", collation=_EN1),
        IndexModel([("clinicId", 1), ("birthDate", 1)], name="PatientBirthDate"),
        IndexModel([("clinicId", 1), ("email", 1)], name="PatientEmail"),
        IndexModel([("clinicId", 1), ("mrn", 1)], name="PatientMRN"),
        IndexModel([("clinicId", 1), ("userId", 1), ("tags", 1)], name="PatientTagsV2"),
        IndexModel([("clinicId", 1), ("dataSources.providerName", 1)], name="DataSourcesProviderName"),
        IndexModel([("clinicId", 1), ("dataSources.state", 1)], name="DataSourcesState"),
        IndexModel(
            [("clinicId", 1), ("mrn", 1), ("_na", 1)],
            name="UniqueMrn",
            unique=True,
            partialFilterExpression={"mrn": {"$type": "string"}, "requireUniqueMrn": {"$eq": True}},
        ),
        IndexModel([("clinicId", 1), ("sites.id", 1)], name="Sites"),
        _meeting_targets("1d"),
        _meeting_targets("7d"),
        _meeting_targets("14d"),
        _meeting_targets("30d"),
    ],
    "patient_deletions": [
        IndexModel([("patient.clinicId,userId", 1)], name="PatientDeletion"),
        IndexModel([("deletedTime", 1), ("patient.clinicId,userId", 1)], name="DeletedTime"),
    ],
    "clinicians": [
        IndexModel([("clinicId", 1), ("userId", 1)], name="UniqueClinicianUserId", unique=True,
                   partialFilterExpression={"userId": {"$exists": True}}, **_BG),
        IndexModel([("clinicId", 1), ("inviteId", 1)], name="UniqueInviteId", unique=True,
                   partialFilterExpression={"inviteId": {"$exists": True}}, **_BG),
        IndexModel([("clinicId", 1), ("email", 1)], name="UniqueClinicMemberEmail", unique=True,
                   partialFilterExpression={"email": {"$exists": True}}, **_BG),
        IndexModel([("clinicId", 1), ("email", "text"), ("fullName", "text")], name="ClinicianSearch", **_BG),
        IndexModel([("clinicId", 1), ("role", 1)], name="ClinicianByRole", **_BG),
        IndexModel([("createdTime", 1)], name="CliniciansByCreatedTime", **_BG),
    ],
    "clinician_deletions": [
        IndexModel([("clinician.clinicId,userId", 1)], name="ClinicianDeletion"),
        IndexModel([("deletedTime", 1), ("clinician.clinicId,userId", 1)], name="DeletedTime"),
    ],
    "migrations": [
        IndexModel([("userId", 1)], name="UniqueClinicianMigration", unique=True, **_BG),
    ],
    "redox": [
        IndexModel([("meta.Logs.Id", 1)], name="MetadataLogsId"),
        IndexModel([("meta.Source.Id", 1), ("meta.FacilityCode", 1)], name="MetadataSource"),
    ],
    "scheduledSummaryAndReportsOrders": [
        IndexModel([("lastMatchedOrder._id", 1), ("createdTime", -1)], name="LastMatchedOrderByID"),
        IndexModel([("createdTime", 1)], name="CleanupExpiredRescheduledOrdersAfter90d", expireAfterSeconds=7776000),
    ],
    "xealth_preorder": [
        IndexModel([("dataTrackingId", 1)], name="dataTrackingId", unique=True),
    ],
    "xealth_report_view": [
        IndexModel([("userId", 1), ("deployment", 1), ("programId", 1), ("clinicId", 1), ("patientId", 1),
                    ("createdTime", -1)], name="LastReportView"),
    ],
}

# Collections of this service only (the reference keeps these in other services).
EXTENSION_INDEXES: dict[str, list[IndexModel]] = {}


def register(collection: str, models: list[IndexModel]) -> None:
    """Let a module that owns an extension collection (invites, outbox, users) declare its indexes."""
    EXTENSION_INDEXES.setdefault(collection, []).extend(models)


def create_all(db) -> list[str]:
    """Create every index (idempotent: the same name, keys and options is a no-op)."""
    created = []
    for collection, models in list(INDEXES.items()) + list(EXTENSION_INDEXES.items()):
        created += db[collection].create_indexes(models)
    return created
