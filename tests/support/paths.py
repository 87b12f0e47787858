"""The API paths the tests call, in one place (the modules import the one they use as `url`)."""
from __future__ import annotations


def _id(clinic) -> str:
    return clinic["id"] if isinstance(clinic, dict) else str(clinic)


def patients_url(clinic, pid: str = "", query: str = "") -> str:
    """/v1/clinics/{clinicId}/patients[/{patientId}][?query]"""
    return f"/v1/clinics/{_id(clinic)}/patients" + (f"/{pid}" if pid else "") + (f"?{query}" if query else "")


def patients_list_url(clinic, query: str = "") -> str:
    return patients_url(clinic, query=query)


def clinicians_url(clinic, tail: str = "") -> str:
    """/v1/clinics/{clinicId}/clinicians + tail (`/{id}`, `?search=...`)."""
    return f"/v1/clinics/{_id(clinic)}/clinicians{tail}"


def clinician_url(clinic, user_id: str) -> str:
    return clinicians_url(clinic, f"/{user_id}")


def patient_invites_url(clinic, key: str = "") -> str:
    return f"/v1/clinics/{_id(clinic)}/invites/patients" + (f"/{key}" if key else "")
