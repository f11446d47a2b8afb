"""Delivering a built mail: the SMTP conversation with a mailbox's server, or the installation's
Django mail backend, and what each failure means (``SendFailure.permanent``).

Transport only: no database. ``outbox.send_outbound`` claims a row, builds its bytes, calls one
of these outside any transaction, then records the result.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message as StdlibMessage
from email.policy import Policy
from functools import cache
from typing import Any

from django.core.mail import EmailMessage as DjangoEmailMessage
from django.core.mail import get_connection

from relaydesk.mail import outbound_mime
from relaydesk.mail.credentials import CredentialError, decrypt
from relaydesk.mail.models import Mailbox, Security

SMTP_TIMEOUT = 30.0


@dataclass(frozen=True)
class BuiltMail:
    envelope_from: str
    recipients: list[str]
    raw: bytes
    subject: str


# --- delivering ------------------------------------------------------------------------------


class SendFailure(Exception):
    """A send that did not go through; ``permanent`` says whether trying again can help."""

    def __init__(self, text: str, *, permanent: bool) -> None:
        super().__init__(text)
        self.text = text
        self.permanent = permanent


def tls_context() -> ssl.SSLContext:
    """The context that verifies SMTP servers: the system's CAs (SSL_CERT_FILE points at a
    private CA). Tests replace this function to trust their own certificate."""
    return ssl.create_default_context()


@cache
def _helo_name() -> str:
    return socket.getfqdn()


def smtp_reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {outbound_mime.one_line(text)}"[:500]


def classify(error: BaseException) -> SendFailure:
    """What an exception from smtplib or a mail backend means for this mail."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refusals = error.recipients
        texts = [f"{rcpt}: {smtp_reply_text(code, reply)}" for rcpt, (code, reply) in refusals.items()]
        permanent = all(500 <= code < 600 for code, _reply in refusals.values())
        return SendFailure("Recipients refused: " + "; ".join(texts), permanent=permanent)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        # The mailbox's SMTP login is wrong: an admin can fix it, so this retries meanwhile.
        reply = smtp_reply_text(error.smtp_code, error.smtp_error)
        return SendFailure(f"The SMTP server refused the mailbox's login ({reply})", permanent=False)
    if isinstance(error, smtplib.SMTPResponseException):
        text = smtp_reply_text(error.smtp_code, error.smtp_error)
        return SendFailure(text, permanent=500 <= error.smtp_code < 600)
    if isinstance(error, CredentialError):
        return SendFailure(str(error), permanent=False)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return SendFailure(
            f"The SMTP server does not support what the mailbox needs: {error}", permanent=False
        )
    if isinstance(error, (OSError, smtplib.SMTPException)):  # connection refused, timeouts, TLS
        return SendFailure(f"{type(error).__name__}: {error}"[:500], permanent=False)
    return SendFailure(f"{type(error).__name__}: {error}"[:500], permanent=False)


def deliver_smtp(mailbox: Mailbox, mail: BuiltMail) -> dict[str, tuple[int, bytes]]:
    """Send through the mailbox's own SMTP server; returns the recipients it refused (when it
    accepted others)."""
    password = decrypt(mailbox.smtp_password_encrypted) if mailbox.smtp_username else ""
    client: smtplib.SMTP
    if mailbox.smtp_security == Security.TLS:
        client = smtplib.SMTP_SSL(
            mailbox.smtp_host,
            mailbox.smtp_port,
            local_hostname=_helo_name(),
            timeout=SMTP_TIMEOUT,
            context=tls_context(),
        )
    else:
        client = smtplib.SMTP(
            mailbox.smtp_host, mailbox.smtp_port, local_hostname=_helo_name(), timeout=SMTP_TIMEOUT
        )
    try:
        if mailbox.smtp_security == Security.STARTTLS:
            client.starttls(context=tls_context())
        if mailbox.smtp_username:
            client.login(mailbox.smtp_username, password)
        refused = client.sendmail(mail.envelope_from, mail.recipients, mail.raw)
    finally:
        # The mail is accepted once DATA got its 250: a failing QUIT must not turn it into a retry.
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
    return refused


class _WireMessage(StdlibMessage):
    """The prebuilt bytes, for mail backends that call ``message().as_bytes(...)``."""

    def __init__(self, raw: bytes) -> None:
        super().__init__()
        self.raw = raw

    def as_bytes(self, unixfrom: bool = False, policy: Policy | None = None, linesep: str = "\n") -> bytes:
        lines = self.raw.replace(b"\r\n", b"\n")
        return lines if linesep == "\n" else lines.replace(b"\n", linesep.encode())

    def as_string(
        self, unixfrom: bool = False, maxheaderlen: int = 0, policy: Policy | None = None, linesep: str = "\n"
    ) -> str:
        return self.as_bytes(linesep=linesep).decode("ascii", "replace")


class PrebuiltEmailMessage(DjangoEmailMessage):
    """A Django ``EmailMessage`` that sends our bytes as they are (Message-ID, threading and
    auto-reply headers kept), for mailboxes that use the installation's EMAIL_BACKEND."""

    def __init__(self, mail: BuiltMail) -> None:
        super().__init__(subject=mail.subject, from_email=mail.envelope_from, to=mail.recipients)
        self.raw = mail.raw

    def message(self) -> Any:
        return _WireMessage(self.raw)

    @property
    def parsed(self) -> StdlibMessage:
        return message_from_bytes(self.raw)


def deliver_django(mail: BuiltMail) -> None:
    connection = get_connection(fail_silently=False)
    connection.send_messages([PrebuiltEmailMessage(mail)])
