"""The one mail client.

Every message is first recorded in the `outbox` collection (ours, not the reference's):
{_id, template, recipient, subject, variables, createdTime, eventKey?, transport, status}.
Without SMTP_HOST that record is the whole delivery (nothing leaves the service, like
Tidepool's mock notifier). With SMTP_HOST the message is then sent by SMTP and the record marked
`sent` (or `failed`). A message carrying an `event_key` is recorded at most once (unique index),
so one event never sends two mails, even when retried or raced.
"""
from __future__ import annotations

import dataclasses
import logging
import smtplib
from email.message import EmailMessage

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from clinic_api import wire
from clinic_api.store import outbox

log = logging.getLogger("clinic_api.mail")
COLLECTION = outbox.COLLECTION


class MailError(Exception):
    """The message could not be handed to the SMTP server."""


@dataclasses.dataclass(frozen=True)
class Template:
    subject: str
    body: str


# Our own wording; the variables are the ones the Tidepool templates receive.
TEMPLATES = {
    "clinician_invitation": Template(
        "Invitation to join {ClinicName}",
        "{CreatorName} invited you to join {ClinicName} on Tidepool.\n\n"
        "Open {WebURL}/{WebPath}?inviteEmail={Email} to accept the invitation.\n"),
    "clinic_created": Template(
        "Your clinic {ClinicName} is ready",
        "The clinic {ClinicName} has been created and you are its administrator.\n"),
    "clinician_permissions_updated": Template(
        "Your permissions in {ClinicName} have changed",
        "{ClinicianName} changed your permissions in {ClinicName}.\n"),
    "patient_clinic_invitation": Template(
        "New Tidepool share invitation received",
        "{CareteamName} shared their data with {ClinicName}.\n\nOpen {WebURL}/{WebPath} to review it.\n"),
}


class _Blank(dict):
    def __missing__(self, key):
        return ""


def render(template: str, variables: dict) -> tuple[str, str]:
    tpl = TEMPLATES.get(template) or Template(template, "")
    values = _Blank({k: "" if v is None else v for k, v in variables.items()})
    return tpl.subject.format_map(values), tpl.body.format_map(values)


class Mailer:
    def __init__(self, settings, store):
        self.settings = settings
        self.store = store

    @property
    def transport(self) -> str:
        return "smtp" if self.settings.smtp_host else "outbox"

    def send(self, template: str, recipient: str, variables: dict, *, event_key: str | None = None) -> bool:
        """Record (and with SMTP, send) one message. False when there is no recipient or the
        event already produced its mail; MailError when the SMTP server refuses it."""
        if not recipient:
            return False
        subject, body = render(template, variables)
        doc = {"_id": ObjectId(), "template": template, "recipient": recipient, "subject": subject,
               "variables": dict(variables), "createdTime": wire.now(), "transport": self.transport,
               "status": "written" if self.transport == "outbox" else "sending"}
        if event_key:
            doc["eventKey"] = event_key
        db = self.store.db
        try:
            outbox.insert(db, doc)
        except DuplicateKeyError:
            log.info("mail for event already sent")
            return False
        if self.transport == "smtp":
            try:
                self._smtp(recipient, subject, body)
            except (OSError, smtplib.SMTPException) as exc:
                outbox.mark_failed(db, doc["_id"])  # a record of the failure; the event may try again
                raise MailError(type(exc).__name__) from exc
            outbox.mark_sent(db, doc["_id"])
        return True

    def _smtp(self, recipient: str, subject: str, body: str) -> None:
        s = self.settings
        msg = EmailMessage()
        msg["From"] = s.smtp_from
        msg["To"] = recipient
        msg["Subject"] = subject
        msg.set_content(body)
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.http_timeout_s) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password)
            smtp.send_message(msg)


def build(settings, store) -> Mailer:
    return Mailer(settings, store)
