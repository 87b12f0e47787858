"""operationId -> handler: the one explicit map of the contract's operations to their functions.

`resolver.ClinicResolver` serves connexion from it and checks at start that it names every
operation of clinic.v1.yaml exactly once, nothing else, and no function twice (auth/policy.py's
RULES is the same list, keyed the same way)."""
from __future__ import annotations

from typing import Callable

from clinic_api.handlers import (clinicians, clinics, counts, ehr, invites, merges, migrations, patients, reports,
                                 settings, sites, summaries, tags, users, xealth)

OPERATIONS: dict[str, Callable] = {
    # handlers/clinics.py
    "ListClinics": clinics.list_clinics,
    "CreateClinic": clinics.create_clinic,
    "GetClinicByShareCode": clinics.get_clinic_by_share_code,
    "GetClinic": clinics.get_clinic,
    "UpdateClinic": clinics.update_clinic,
    "DeleteClinic": clinics.delete_clinic,
    "UpdateTier": clinics.update_tier,
    "UpdateSuppressedNotifications": clinics.update_suppressed_notifications,
    "ListMembershipRestrictions": clinics.list_membership_restrictions,
    "UpdateMembershipRestrictions": clinics.update_membership_restrictions,
    # handlers/settings.py
    "GetEHRSettings": settings.get_ehr_settings,
    "UpdateEHRSettings": settings.update_ehr_settings,
    "GetMRNSettings": settings.get_mrn_settings,
    "UpdateMRNSettings": settings.update_mrn_settings,
    "GetPatientCountSettings": settings.get_patient_count_settings,
    "UpdatePatientCountSettings": settings.update_patient_count_settings,
    # handlers/counts.py
    "GetPatientCount": counts.get_patient_count,
    "RefreshPatientCount": counts.refresh_patient_count,
    # handlers/clinicians.py
    "ListClinicians": clinicians.list_clinicians,
    "CreateClinician": clinicians.create_clinician,
    "GetClinician": clinicians.get_clinician,
    "UpdateClinician": clinicians.update_clinician,
    "DeleteClinician": clinicians.delete_clinician,
    "GetInvitedClinician": clinicians.get_invited_clinician,
    "AssociateClinicianToUser": clinicians.associate_clinician_to_user,
    "DeleteInvitedClinician": clinicians.delete_invited_clinician,
    "ListClinicsForClinician": clinicians.list_clinics_for_clinician,
    "ListAllClinicians": clinicians.list_all_clinicians,
    "AddServiceAccount": clinicians.add_service_account,
    # handlers/invites.py
    "InviteClinician": invites.invite_clinician,
    "GetClinicianInvite": invites.get_clinician_invite,
    "ResendInvite": invites.resend_invite,
    "DeleteInvite": invites.delete_invite,
    "GetPatientInvites": invites.get_patient_invites,
    "AcceptPatientInvitation": invites.accept_patient_invitation,
    "ListClinicianInvites": invites.list_clinician_invites,
    "AcceptClinicianInvite": invites.accept_clinician_invite,
    "DismissClinicianInvite": invites.dismiss_clinician_invite,
    # handlers/users.py
    "UpdateClinicUserDetails": users.update_clinic_user_details,
    "DeleteUserFromClinics": users.delete_user_from_clinics,
    # handlers/patients.py
    "ListPatients": patients.list_patients,
    "CreatePatientAccount": patients.create_patient_account,
    "GetPatient": patients.get_patient,
    "UpdatePatient": patients.update_patient,
    "CreatePatientFromUser": patients.create_patient_from_user,
    "DeletePatient": patients.delete_patient,
    "UpdatePatientReviews": patients.update_patient_reviews,
    "DeletePatientReviews": patients.delete_patient_reviews,
    "UpdatePatientPermissions": patients.update_patient_permissions,
    "DeletePatientPermission": patients.delete_patient_permission,
    "ListClinicsForPatient": patients.list_clinics_for_patient,
    "UpdatePatientDataSources": patients.update_patient_data_sources,
    "SendUploadReminder": patients.send_upload_reminder,
    "AssignPatientTagToClinicPatients": patients.assign_patient_tag_to_clinic_patients,
    "DeletePatientTagFromClinicPatients": patients.delete_patient_tag_from_clinic_patients,
    "FindPatients": patients.find_patients,
    "ConnectProvider": patients.connect_provider,
    # handlers/tags.py
    "CreatePatientTag": tags.create_patient_tag,
    "UpdatePatientTag": tags.update_patient_tag,
    "DeletePatientTag": tags.delete_patient_tag,
    "ConvertPatientTagToSite": tags.convert_patient_tag_to_site,
    # handlers/sites.py
    "CreateSite": sites.create_site,
    "UpdateSite": sites.update_site,
    "DeleteSite": sites.delete_site,
    "MergeSite": sites.merge_site,
    # handlers/summaries.py
    "UpdatePatientSummary": summaries.update_patient_summary,
    "DeletePatientSummary": summaries.delete_patient_summary,
    # handlers/reports.py
    "TideReport": reports.tide_report,
    # handlers/migrations.py
    "ListMigrations": migrations.list_migrations,
    "MigrateLegacyClinicianPatients": migrations.migrate_legacy_clinician_patients,
    "EnableNewClinicExperience": migrations.enable_new_clinic_experience,
    "TriggerInitialMigration": migrations.trigger_initial_migration,
    "GetMigration": migrations.get_migration,
    "UpdateMigration": migrations.update_migration,
    # handlers/merges.py
    "GenerateMergeReport": merges.generate_merge_report,
    "MergeClinic": merges.merge_clinic,
    # handlers/ehr.py
    "ProcessEHRMessage": ehr.process_ehr_message,
    "VerifyEndpoint": ehr.verify_endpoint,
    "MatchClinicAndPatient": ehr.match_clinic_and_patient,
    "SyncEHRData": ehr.sync_ehr_data,
    "SyncEHRDataForPatient": ehr.sync_ehr_data_for_patient,
    # handlers/xealth.py
    "XealthPreorder": xealth.xealth_preorder,
    "XealthGetPrograms": xealth.xealth_get_programs,
    "XealthGetProgramUrl": xealth.xealth_get_program_url,
    "XealthNotification": xealth.xealth_notification,
    "ViewPDFReport": xealth.view_pdf_report,
}
