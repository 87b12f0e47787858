"""Who may call what: one row per operationId, default deny.

S  a backend service (server token)          U  any authenticated user (not a server)
M  a clinician of the path's clinic with CLINIC_MEMBER or CLINIC_ADMIN
A  a clinician of the path's clinic with CLINIC_ADMIN
R  a clinician record in the path's clinic, whatever its roles (even none): the invite service's
   "member" class, looser than M
Self("p")  a user whose id equals path parameter p
PUBLIC     not token-authenticated: the operation checks its caller itself (Redox, Xealth)

M and A need the caller's clinician record in the path's clinic; it is read at most once per
request, and only when the rule gets that far. Server tokens are looked up too (the reference
does: a server-flagged token whose subject is a clinic admin gets A).
"""
from __future__ import annotations

import abc
import dataclasses
from typing import Callable

from clinic_api.auth.principal import Principal

ADMIN_ROLE = "CLINIC_ADMIN"
MEMBER_ROLE = "CLINIC_MEMBER"


@dataclasses.dataclass
class Request:
    principal: Principal | None
    path_params: dict
    load_clinician: Callable[[], dict | None]
    _clinician: object = dataclasses.field(default=..., repr=False)

    @property
    def clinician(self) -> dict | None:
        if self._clinician is ...:
            has_clinic = "clinicId" in self.path_params
            self._clinician = self.load_clinician() if (has_clinic and self.principal) else None
        return self._clinician  # type: ignore[return-value]

    def roles(self) -> list:
        clinician = self.clinician
        return list((clinician or {}).get("roles") or [])


class Rule(abc.ABC):
    @abc.abstractmethod
    def allows(self, req: Request) -> bool:
        """Whether the request's caller passes this rule."""

    def __or__(self, other: "Rule") -> "Rule":
        return AnyOf(self, other)

    def __and__(self, other: "Rule") -> "Rule":
        return AllOf(self, other)


@dataclasses.dataclass(frozen=True)
class AnyOf(Rule):
    left: Rule
    right: Rule

    def allows(self, req):
        return self.left.allows(req) or self.right.allows(req)

    def __repr__(self):
        return f"{self.left!r} | {self.right!r}"


@dataclasses.dataclass(frozen=True)
class AllOf(Rule):
    left: Rule
    right: Rule

    def allows(self, req):
        return self.left.allows(req) and self.right.allows(req)

    def __repr__(self):
        return f"({self.left!r} & {self.right!r})"


class _Server(Rule):
    def allows(self, req):
        return bool(req.principal and req.principal.is_server)

    def __repr__(self):
        return "S"


class _User(Rule):
    def allows(self, req):
        return bool(req.principal and req.principal.is_user)

    def __repr__(self):
        return "U"


class _Member(Rule):
    def allows(self, req):
        return bool({MEMBER_ROLE, ADMIN_ROLE} & set(req.roles()))

    def __repr__(self):
        return "M"


class _Admin(Rule):
    def allows(self, req):
        return ADMIN_ROLE in req.roles()

    def __repr__(self):
        return "A"


class _Record(Rule):
    def allows(self, req):
        return req.clinician is not None

    def __repr__(self):
        return "R"


class _Nobody(Rule):
    def allows(self, req):
        return False

    def __repr__(self):
        return "nobody"


class _Public(Rule):
    """Not authenticated by session token at all (see auth.middleware.SKIPPED_TEMPLATES)."""

    def allows(self, req):
        return True

    def __repr__(self):
        return "PUBLIC"


@dataclasses.dataclass(frozen=True)
class Self(Rule):
    param: str

    def allows(self, req):
        p = req.principal
        return bool(p and p.is_user and req.path_params.get(self.param) == p.user_id)

    def __repr__(self):
        return f"Self({self.param})"


@dataclasses.dataclass(frozen=True)
class ParamIs(Rule):
    param: str
    value: str

    def allows(self, req):
        return req.path_params.get(self.param) == self.value

    def __repr__(self):
        return f"{self.param}=={self.value}"


S, U, M, A, R, NOBODY, PUBLIC = _Server(), _User(), _Member(), _Admin(), _Record(), _Nobody(), _Public()

RULES: dict[str, Rule] = {
    # clinics
    "ListClinics": S,
    "CreateClinic": U,
    "GetClinic": S | U,
    "GetClinicByShareCode": S | U,
    "UpdateClinic": S | A,
    "DeleteClinic": S | A,
    "UpdateTier": S,
    "UpdateSuppressedNotifications": A,
    "ListMembershipRestrictions": S | A,
    "UpdateMembershipRestrictions": S,
    "GetEHRSettings": S | M,
    "UpdateEHRSettings": S,
    "GetMRNSettings": S | M,
    "UpdateMRNSettings": S,
    "GetPatientCountSettings": S | M,
    "UpdatePatientCountSettings": S,
    "GetPatientCount": S | M,
    "RefreshPatientCount": S,
    # clinicians
    "ListAllClinicians": NOBODY,  # the reference has no rule: unreachable for everyone
    "ListClinicians": S | M,
    "CreateClinician": S,
    "GetClinician": S | M,
    "UpdateClinician": S | A,
    "DeleteClinician": S | A | (Self("clinicianId") & M),
    "ListClinicsForClinician": S | Self("userId"),
    "AddServiceAccount": S,
    "GetInvitedClinician": S,
    "AssociateClinicianToUser": S,
    "DeleteInvitedClinician": S,
    # invites (the Confirmations operations), with the invite service's classes (invites.md §1.3):
    # its admin class is S | A, its member class S | R, its self class a user on their own path
    "InviteClinician": S | A,
    "ResendInvite": S | A,
    "DeleteInvite": S | A,
    "GetClinicianInvite": S | A,
    "GetPatientInvites": S | R,
    "AcceptPatientInvitation": S | R,
    "ListClinicianInvites": Self("userId"),
    "AcceptClinicianInvite": Self("userId"),
    "DismissClinicianInvite": Self("userId"),
    # users
    "DeleteUserFromClinics": S,
    "UpdateClinicUserDetails": S,
    # patients
    "ListPatients": S | M,
    "CreatePatientAccount": S | M,
    "GetPatient": S | M,
    "CreatePatientFromUser": S,
    "UpdatePatient": S | M,
    "DeletePatient": A | Self("patientId"),
    "UpdatePatientPermissions": Self("patientId"),
    "DeletePatientPermission": Self("patientId") | (S & ParamIs("permission", "custodian")),
    "UpdatePatientReviews": M,
    "DeletePatientReviews": M,
    "SendUploadReminder": M,
    "ConnectProvider": S | M,
    "FindPatients": U,
    "ListClinicsForPatient": S | Self("userId"),
    "UpdatePatientDataSources": S,
    "AssignPatientTagToClinicPatients": S | A,
    "DeletePatientTagFromClinicPatients": S | A,
    # tags, sites, summaries, reports
    "CreatePatientTag": S | M,
    "UpdatePatientTag": S | M,
    "DeletePatientTag": S | A,
    "ConvertPatientTagToSite": S,
    "CreateSite": S | A,
    "UpdateSite": S | A,
    "DeleteSite": S | A,
    "MergeSite": S,
    "UpdatePatientSummary": S,
    "DeletePatientSummary": S,
    "TideReport": S | M,
    # migrations and merges
    "EnableNewClinicExperience": S,
    "TriggerInitialMigration": A,
    "ListMigrations": S | M,
    "MigrateLegacyClinicianPatients": S,
    "GetMigration": S | M,
    "UpdateMigration": S,
    "MergeClinic": S,
    "GenerateMergeReport": S,
    # EHR integrations
    "MatchClinicAndPatient": S,
    "SyncEHRData": S,
    "SyncEHRDataForPatient": S,
    "ProcessEHRMessage": PUBLIC,
    "VerifyEndpoint": PUBLIC,
    "XealthPreorder": PUBLIC,
    "XealthNotification": PUBLIC,
    "XealthGetPrograms": PUBLIC,
    "XealthGetProgramUrl": PUBLIC,
    "ViewPDFReport": PUBLIC,
}


def allows(operation_id: str, req: Request) -> bool:
    rule = RULES.get(operation_id)
    return bool(rule is not None and rule.allows(req))
