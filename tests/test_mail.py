"""The mail client (outbox, SMTP against a real local server) and the emails of clinics,
clinicians and invites (runtime-storage.md §5.7.1, invites.md §1.7): each event mails once."""
import dataclasses
import email
import socket

import pytest
from aiosmtpd.controller import Controller

from clinic_api.integrations.mail import Mailer, MailError
from conftest import MEMBER_ID
from membership_support import add_clinician


def outbox(db, template=None):
    query = {"template": template} if template else {}
    return list(db.outbox.find(query).sort("_id", 1))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def settings_with(services, **changes):
    return dataclasses.replace(services.settings, **changes)


# --- the client -----------------------------------------------------------------------------

def test_outbox_records_each_message(services, db):
    mailer = Mailer(services.settings, services.store)
    assert mailer.send("clinic_created", "a@b.org", {"ClinicName": "C"}, event_key="e1") is True
    [doc] = outbox(db)
    assert (doc["template"], doc["recipient"], doc["variables"]) == ("clinic_created", "a@b.org", {"ClinicName": "C"})
    assert doc["status"] == "written" and doc["transport"] == "outbox" and doc["createdTime"].year > 2000
    assert doc["subject"] == "Your clinic C is ready"


def test_one_event_mails_once_and_no_recipient_mails_nothing(services, db):
    mailer = Mailer(services.settings, services.store)
    assert mailer.send("clinic_created", "a@b.org", {"ClinicName": "C"}, event_key="same") is True
    assert mailer.send("clinic_created", "a@b.org", {"ClinicName": "C"}, event_key="same") is False
    assert mailer.send("clinic_created", "", {"ClinicName": "C"}, event_key="other") is False
    assert len(outbox(db)) == 1


def test_smtp_delivery(services, db, smtp_server):
    controller, inbox = smtp_server
    settings = settings_with(services, smtp_host="127.0.0.1", smtp_port=controller.port,
                             smtp_from="Clinic <noreply@clinic.test>")
    mailer = Mailer(settings, services.store)
    variables = {"ClinicName": "Todd's Clinic", "CreatorName": "Ada", "Email": "n@x.org",
                 "WebPath": "login", "WebURL": "https://app.test"}
    assert mailer.send("clinician_invitation", "n@x.org", variables, event_key="inv-1") is True
    assert mailer.send("clinician_invitation", "n@x.org", variables, event_key="inv-1") is False
    [(sender, recipients, message)] = inbox.messages
    assert sender == "noreply@clinic.test" and recipients == ["n@x.org"]
    assert message["Subject"] == "Invitation to join Todd's Clinic"
    assert "https://app.test/login?inviteEmail=n@x.org" in message.get_payload(decode=True).decode()
    [doc] = outbox(db)
    assert doc["status"] == "sent" and doc["transport"] == "smtp"


def test_smtp_failure_is_recorded_and_may_be_retried(services, db):
    settings = settings_with(services, smtp_host="127.0.0.1", smtp_port=free_port())  # nobody listens
    mailer = Mailer(settings, services.store)
    with pytest.raises(MailError):
        mailer.send("clinic_created", "a@b.org", {"ClinicName": "C"}, event_key="e")
    assert outbox(db)[0]["status"] == "failed" and "eventKey" not in outbox(db)[0]


def test_an_invite_whose_mail_fails_is_kept_and_answers_502(admin, clinic, services, db, monkeypatch):
    monkeypatch.setattr(services.mail, "settings", settings_with(services, smtp_host="127.0.0.1",
                                                                 smtp_port=free_port()))
    resp = admin.post(f"/v1/clinics/{clinic['id']}/invites/clinicians",
                      json={"email": "n@x.org", "roles": ["CLINIC_MEMBER"]})
    assert resp.status_code == 502 and resp.json() == {"message": "Error sending email"}
    assert db.clinicians.count_documents({"email": "n@x.org"}) == 1
    assert db.confirmations.count_documents({"status": "pending"}) == 1


# --- the emails of events ---------------------------------------------------------------------

def test_clinic_created_mails_its_creator(admin, clinic, db):
    [mail] = outbox(db, "clinic_created")
    assert mail["recipient"] == "admin@example.com" and mail["variables"] == {"ClinicName": "Todd's Clinic"}
    assert mail["eventKey"] == f"clinic_created:{clinic['id']}"


def test_role_changes_mail_the_clinician_once_per_change(admin, member, clinic, db):
    url = f"/v1/clinics/{clinic['id']}/clinicians/{MEMBER_ID}"
    admin.put(url, json={"email": "x@y.org", "roles": ["CLINIC_MEMBER"], "name": "Mel"})  # no role change
    assert outbox(db, "clinician_permissions_updated") == []
    admin.put(url, json={"email": "x@y.org", "roles": ["CLINIC_ADMIN"]})
    admin.put(url, json={"email": "x@y.org", "roles": ["CLINIC_ADMIN"]})  # same roles again
    admin.put(url, json={"email": "x@y.org", "roles": ["CLINIC_MEMBER", "PRESCRIBER"]})
    mails = outbox(db, "clinician_permissions_updated")
    assert [m["recipient"] for m in mails] == ["member@example.com", "member@example.com"]
    assert mails[0]["variables"] == {"ClinicName": "Todd's Clinic", "ClinicianName": "Ada Admin"}


def test_role_change_by_a_service_names_the_clinic_administrator(server, member, clinic, db):
    server.put(f"/v1/clinics/{clinic['id']}/clinicians/{MEMBER_ID}", json={"email": "x@y.org",
                                                                          "roles": ["CLINIC_ADMIN"]})
    [mail] = outbox(db, "clinician_permissions_updated")
    assert mail["variables"]["ClinicianName"] == "Clinic administrator"


def test_external_effects_leave_worker_mails_to_the_worker(admin, services, db, monkeypatch):
    monkeypatch.setattr(services, "settings", settings_with(services, effects="external"))
    clinic = admin.post("/v1/clinics", json={"name": "Quiet", "preferredBgUnits": "mg/dL"}).json()
    add_clinician(db, clinic["id"], MEMBER_ID, ["CLINIC_MEMBER"], email="member@example.com")
    admin.put(f"/v1/clinics/{clinic['id']}/clinicians/{MEMBER_ID}", json={"email": "x@y.org",
                                                                         "roles": ["CLINIC_ADMIN"]})
    admin.post(f"/v1/clinics/{clinic['id']}/invites/clinicians", json={"email": "n@x.org", "roles": ["CLINIC_MEMBER"]})
    assert [m["template"] for m in outbox(db)] == ["clinician_invitation"]  # the invite service's own mail
