"""Every change an admin makes to the email channel goes through here: mailboxes, their webhook
secret, acknowledgement templates; and the connection test, which writes nothing but talks to
servers with the admin's typed credentials, so it is an admin-only action too.

``check_*`` validates and checks that the acting user is an admin, then calls ``do_*``, which
writes. Arguments after the subject are keyword-only. ``FieldErrors`` carries every problem of a
form at once, keyed by form field, so garbage (a port of 0, a host name with a line break, a NUL,
a megabyte of text) is a message next to its field, never a 500.

Passwords are encrypted at rest (``credentials.encrypt``) and never leave this module in clear
except towards the mail server: an edit that leaves a password empty keeps the stored one.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import re
import smtplib
import socket
import ssl
import unicodedata
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from relaydesk.accounts.actions import LANGUAGE_CODE_RE
from relaydesk.accounts.models import Team, User
from relaydesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from relaydesk.core.parsing import MAX_ID
from relaydesk.mail import imap, outbound_mime
from relaydesk.mail.credentials import CredentialError, decrypt, encrypt
from relaydesk.mail.imap import ImapSettings, MailServerError, server_text
from relaydesk.mail.intake import new_webhook_secret
from relaydesk.mail.models import AcknowledgementTemplate, Mailbox, Security

MAX_NAME_LENGTH = 100
MAX_ADDRESS_LENGTH = 254
MAX_HOST_LENGTH = 253
MAX_USERNAME_LENGTH = 255
MAX_PASSWORD_LENGTH = 1024
MAX_FOLDER_LENGTH = 255
MAX_LANGUAGE_LENGTH = 10
MAX_ACK_SUBJECT_LENGTH = 200
MAX_ACK_BODY_LENGTH = 20_000
MAX_ERRORS_PER_FIELD = 3
ACK_PLACEHOLDERS = ("number", "subject", "name")

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_PLACEHOLDER = re.compile(r"\{([^{}\s]{0,40})\}")


class FieldErrors(ValidationFailed):
    """Several problems at once, by form field (None: the form as a whole)."""

    def __init__(self, errors: Mapping[str | None, list[str]]) -> None:
        first_field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field=first_field)
        self.errors = dict(errors)


def _require_admin(user: User) -> None:
    if not user.is_active or not user.is_admin:
        raise PermissionDenied(_("Only admins can configure mailboxes and email settings."))


def _add(errors: dict[str | None, list[str]], field: str | None, message: str) -> None:
    bucket = errors.setdefault(field, [])
    if len(bucket) < MAX_ERRORS_PER_FIELD and message not in bucket:
        bucket.append(message)


def _line(
    value: str, errors: dict[str | None, list[str]], field: str, *, limit: int, strip: bool = True
) -> str:
    """One line of text: no NUL, no line break, no other control character, at most ``limit``."""
    if len(value) > limit:
        _add(errors, field, _("Keep this under %(count)s characters.") % {"count": limit + 1})
        return ""
    if "\x00" in value:
        _add(errors, field, _("NUL characters are not allowed."))
    elif "\r" in value or "\n" in value:
        _add(errors, field, _("Line breaks are not allowed here."))
    elif any(unicodedata.category(char) == "Cc" for char in value):
        _add(errors, field, _("Control characters (like tabs) are not allowed here."))
    return value.strip() if strip else value


def host_name_problem(host: str) -> str | None:
    """Why ``host`` is not a host name or IP address, or None when it is one."""
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(candidate)
        return None
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_name = ""
    labels = ascii_name.split(".")
    if not ascii_name or len(ascii_name) > MAX_HOST_LENGTH or not all(_HOST_LABEL.match(x) for x in labels):
        return _("“%(host)s” is not a host name such as imap.example.com or an IP address.") % {
            "host": host[:60]
        }
    if labels[-1].isdigit():
        return _("“%(host)s” is not a valid IP address.") % {"host": host[:60]}
    return None


def _host(value: str, errors: dict[str | None, list[str]], field: str) -> str:
    host = _line(value, errors, field, limit=MAX_HOST_LENGTH)
    if host and field not in errors:
        problem = host_name_problem(host)
        if problem:
            _add(errors, field, problem)
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _port(value: int, errors: dict[str | None, list[str]], field: str) -> int:
    if not 1 <= value <= 65535:
        _add(errors, field, _("A port is a number from 1 to 65535."))
    return value


def _security(value: str, errors: dict[str | None, list[str]], field: str) -> str:
    if value not in Security.values:
        _add(errors, field, _("Choose TLS, STARTTLS or None."))
    return value


def _password(value: str | None, errors: dict[str | None, list[str]], field: str) -> str | None:
    """None or "" keeps the stored password; anything else replaces it (spaces are significant)."""
    if not value:
        return None
    return _line(value, errors, field, limit=MAX_PASSWORD_LENGTH, strip=False)


@dataclass(frozen=True)
class MailboxInput:
    """What the mailbox form holds. A password of None or "" means "keep the stored one"."""

    name: str
    address: str
    display_name: str = ""
    team: Team | None = None
    language: str = "en"
    is_active: bool = True
    send_acknowledgement: bool = True
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = Security.TLS
    imap_username: str = ""
    imap_password: str | None = field(default=None, repr=False)
    imap_folder: str = "INBOX"
    imap_done_folder: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = Security.STARTTLS
    smtp_username: str = ""
    smtp_password: str | None = field(default=None, repr=False)


def clean_mailbox(values: MailboxInput, *, existing: Mailbox | None = None) -> MailboxInput:
    """``values`` tidied (stripped, lower-case domain), or ``FieldErrors`` with every problem.

    ``existing`` is the mailbox being edited: its stored passwords count as given.
    """
    errors: dict[str | None, list[str]] = {}
    name = " ".join(_line(values.name, errors, "name", limit=MAX_NAME_LENGTH).split())
    if not name and "name" not in errors:
        _add(errors, "name", _("Give the mailbox a name, e.g. Support."))
    address = _line(values.address, errors, "address", limit=MAX_ADDRESS_LENGTH)
    if "address" not in errors:
        try:
            validate_email(address)
        except ValidationError:
            _add(errors, "address", _("Enter the address customers write to, e.g. support@example.com."))
        else:
            local, _at, domain = address.rpartition("@")
            address = f"{local}@{domain.lower()}"
    display_name = " ".join(_line(values.display_name, errors, "display_name", limit=MAX_NAME_LENGTH).split())
    language = _line(values.language, errors, "language", limit=MAX_LANGUAGE_LENGTH).lower().replace("_", "-")
    if "language" not in errors and not LANGUAGE_CODE_RE.match(language):
        _add(errors, "language", _("Use a language code such as en, de or pt-br."))
    if (
        values.team is not None
        and not values.team.is_active
        and (existing is None or existing.team_id != values.team.pk)
    ):
        _add(errors, "team", _("That team is inactive; choose an active one."))

    imap_host = _host(values.imap_host, errors, "imap_host")
    imap_port = _port(values.imap_port, errors, "imap_port")
    imap_security = _security(values.imap_security, errors, "imap_security")
    imap_username = _line(values.imap_username, errors, "imap_username", limit=MAX_USERNAME_LENGTH)
    imap_password = _password(values.imap_password, errors, "imap_password")
    imap_folder = _line(values.imap_folder, errors, "imap_folder", limit=MAX_FOLDER_LENGTH) or "INBOX"
    imap_done_folder = _line(values.imap_done_folder, errors, "imap_done_folder", limit=MAX_FOLDER_LENGTH)
    if imap_host:
        if not imap_username and "imap_username" not in errors:
            _add(errors, "imap_username", _("Enter the user name to log in to the IMAP server."))
        has_password = imap_password or (existing is not None and existing.imap_password_encrypted)
        if not has_password and "imap_password" not in errors:
            _add(errors, "imap_password", _("Enter the IMAP password."))
    if imap_done_folder and imap_done_folder == imap_folder:
        _add(
            errors,
            "imap_done_folder",
            _("Choose another folder than the one mail is read from, or leave it empty."),
        )

    smtp_host = _host(values.smtp_host, errors, "smtp_host")
    smtp_port = _port(values.smtp_port, errors, "smtp_port")
    smtp_security = _security(values.smtp_security, errors, "smtp_security")
    smtp_username = _line(values.smtp_username, errors, "smtp_username", limit=MAX_USERNAME_LENGTH)
    smtp_password = _password(values.smtp_password, errors, "smtp_password")
    if smtp_username:
        has_password = smtp_password or (existing is not None and existing.smtp_password_encrypted)
        if not has_password and "smtp_password" not in errors:
            _add(errors, "smtp_password", _("Enter the SMTP password (or leave the user empty)."))
    if errors:
        raise FieldErrors(errors)
    return MailboxInput(
        name=name,
        address=address,
        display_name=display_name,
        team=values.team,
        language=language,
        is_active=values.is_active,
        send_acknowledgement=values.send_acknowledgement,
        imap_host=imap_host,
        imap_port=imap_port,
        imap_security=imap_security,
        imap_username=imap_username,
        imap_password=imap_password,
        imap_folder=imap_folder,
        imap_done_folder=imap_done_folder,
        smtp_host=smtp_host,
        smtp_port=smtp_port,
        smtp_security=smtp_security,
        smtp_username=smtp_username,
        smtp_password=smtp_password,
    )


def _address_taken(address: str, *, exclude_id: int | None) -> ValidationFailed | None:
    clash = Mailbox.objects.filter(address__iexact=address)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        return ValidationFailed(
            _("Another mailbox already uses %(address)s.") % {"address": address}, field="address"
        )
    return None


def do_save_mailbox(mailbox: Mailbox, *, values: MailboxInput) -> Mailbox:
    """Write clean ``values`` to ``mailbox`` (new, or locked by the caller)."""
    for name in (
        "name",
        "address",
        "display_name",
        "team",
        "language",
        "is_active",
        "send_acknowledgement",
        "imap_host",
        "imap_port",
        "imap_security",
        "imap_username",
        "imap_folder",
        "imap_done_folder",
        "smtp_host",
        "smtp_port",
        "smtp_security",
        "smtp_username",
    ):
        setattr(mailbox, name, getattr(values, name))
    if values.imap_password:
        mailbox.imap_password_encrypted = encrypt(values.imap_password)
    if values.smtp_password:
        mailbox.smtp_password_encrypted = encrypt(values.smtp_password)
    if not values.smtp_username:
        mailbox.smtp_password_encrypted = ""  # no user, no login: don't keep a password around
    try:
        with transaction.atomic():
            mailbox.save()
    except IntegrityError:
        raise ValidationFailed(
            _("Another mailbox already uses %(address)s.") % {"address": values.address}, field="address"
        ) from None
    return mailbox


def check_create_mailbox(admin: User, *, values: MailboxInput) -> Mailbox:
    _require_admin(admin)
    clean = clean_mailbox(values)
    with transaction.atomic():
        taken = _address_taken(clean.address, exclude_id=None)
        if taken:
            raise taken
        return do_save_mailbox(Mailbox(), values=clean)


def _mailbox(mailbox_id: int, *, for_update: bool = False) -> Mailbox:
    queryset = Mailbox.objects.select_for_update() if for_update else Mailbox.objects
    mailbox = queryset.filter(pk=mailbox_id).first() if 0 < mailbox_id <= MAX_ID else None
    if mailbox is None:
        raise NotFound(_("That mailbox does not exist."))
    return mailbox


def check_update_mailbox(admin: User, mailbox_id: int, *, values: MailboxInput) -> Mailbox:
    _require_admin(admin)
    with transaction.atomic():
        mailbox = _mailbox(mailbox_id, for_update=True)
        clean = clean_mailbox(values, existing=mailbox)
        taken = _address_taken(clean.address, exclude_id=mailbox.pk)
        if taken:
            raise taken
        return do_save_mailbox(mailbox, values=clean)


# --- the inbound webhook's secret -----------------------------------------------------------


def do_set_webhook_secret(mailbox: Mailbox) -> str:
    """A new secret for ``mailbox`` (locked by the caller); only its SHA-256 is stored. The old
    secret stops working at once."""
    secret, mailbox.webhook_secret_hash = new_webhook_secret()
    mailbox.save(update_fields=["webhook_secret_hash"])
    return secret


def check_generate_webhook_secret(admin: User, mailbox_id: int) -> tuple[Mailbox, str]:
    """Returns the mailbox and the secret in clear, to be shown once and never again."""
    _require_admin(admin)
    with transaction.atomic():
        mailbox = _mailbox(mailbox_id, for_update=True)
        return mailbox, do_set_webhook_secret(mailbox)


# --- "Test connection" ----------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionLine:
    protocol: str  # "IMAP" or "SMTP"
    ok: bool | None  # None: not configured, nothing to test
    text: str


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    sender: str = ""


class _ConnectedSMTP(smtplib.SMTP):
    """smtplib over a socket opened (and maybe wrapped in TLS) by ``imap.connect_socket``, so each
    step fails with its own message and timeout."""

    def __init__(self, sock: socket.socket, host: str, timeout: float) -> None:
        self._given_socket = sock
        # An explicit EHLO name: smtplib's default (getfqdn) may wait on DNS for long.
        super().__init__(local_hostname=socket.gethostname() or "localhost", timeout=timeout)
        self._host = host

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return self._given_socket


def _smtp_login(client: smtplib.SMTP, username: str, password: str) -> None:
    if username.isascii() and password.isascii():
        client.login(username, password)
        return
    # smtplib encodes credentials as ASCII; AUTH PLAIN carries UTF-8 (RFC 4616).
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
    code, message = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, message)


def _smtp_reply(code: int, message: bytes | str) -> str:
    return server_text(f"{code} {server_text(message)}")


def probe_smtp(settings: SmtpSettings, *, timeout: float) -> str:
    """Connect, secure, log in and offer the sender (MAIL FROM, then RSET: nothing is sent).

    Returns what "Test connection" says when it works; ``MailServerError`` says what failed.
    """
    host, port = settings.host, settings.port
    where = f"{host}:{port}"
    sock: socket.socket = imap.connect_socket("SMTP", host, port, timeout=timeout)
    if settings.security == Security.TLS:
        sock = imap.wrap_tls("SMTP", sock, host, port)
    client = _ConnectedSMTP(sock, host, timeout)
    hint = _("; a TLS port (465) needs the security “TLS”") if settings.security != Security.TLS else ""
    no_greeting = MailServerError(
        _("SMTP: %(where)s accepted the connection but sent no greeting within %(seconds)s s%(hint)s")
        % {"where": where, "seconds": f"{timeout:g}", "hint": hint}
    )
    try:
        try:
            code, message = client.connect(host, port)
        except TimeoutError:
            hint = (
                _("; a TLS port (465) needs the security “TLS”") if settings.security != Security.TLS else ""
            )
            raise MailServerError(
                _("SMTP: %(where)s accepted the connection but sent no greeting within %(seconds)s s%(hint)s")
                % {"where": where, "seconds": f"{timeout:g}", "hint": hint}
            ) from None
        except smtplib.SMTPServerDisconnected as exc:
            if isinstance(exc.__context__, TimeoutError):  # smtplib words a silent server so
                raise no_greeting from None
            raise MailServerError(
                _("SMTP: %(where)s closed the connection before greeting (%(reply)s)")
                % {"where": where, "reply": server_text(str(exc))}
            ) from None
        if code != 220:
            raise MailServerError(
                _("SMTP: the server refused the connection: %(reply)s")
                % {"reply": _smtp_reply(code, message)}
            )
        client.ehlo_or_helo_if_needed()
        if settings.security == Security.STARTTLS:
            if not client.has_extn("starttls"):
                raise MailServerError(_("SMTP: the server does not offer STARTTLS; choose TLS or None"))
            try:
                client.starttls(context=imap.tls_context())
            except ssl.SSLError as exc:
                raise imap.tls_failure("SMTP", exc, where) from None
            except smtplib.SMTPResponseException as exc:
                raise MailServerError(
                    _("SMTP: STARTTLS failed: %(reply)s")
                    % {"reply": _smtp_reply(exc.smtp_code, exc.smtp_error)}
                ) from None
            client.ehlo()
        if settings.username:
            if not client.has_extn("auth"):
                raise MailServerError(
                    _("SMTP: the server does not offer AUTH here; leave the user empty or use TLS/STARTTLS")
                )
            try:
                _smtp_login(client, settings.username, settings.password)
            except smtplib.SMTPAuthenticationError as exc:
                raise MailServerError(
                    _("SMTP: login refused for %(user)s: %(reply)s")
                    % {"user": settings.username, "reply": _smtp_reply(exc.smtp_code, exc.smtp_error)}
                ) from None
            except smtplib.SMTPException as exc:
                raise MailServerError(
                    _("SMTP: login failed for %(user)s: %(reply)s")
                    % {"user": settings.username, "reply": server_text(str(exc))}
                ) from None
        code, message = client.mail(settings.sender)
        if code != 250:
            raise MailServerError(
                _("SMTP: sender %(sender)s refused: %(reply)s")
                % {"sender": settings.sender, "reply": _smtp_reply(code, message)}
            )
        client.rset()
        with contextlib.suppress(smtplib.SMTPException, OSError):  # the test is done by then
            client.quit()
    except MailServerError:
        client.close()
        raise
    except smtplib.SMTPServerDisconnected as exc:
        client.close()
        raise imap.session_failure("SMTP", exc, timeout=timeout) from None
    except smtplib.SMTPResponseException as exc:
        client.close()
        raise MailServerError(
            _("SMTP: the server answered %(reply)s") % {"reply": _smtp_reply(exc.smtp_code, exc.smtp_error)}
        ) from None
    except OSError as exc:
        client.close()
        raise imap.session_failure("SMTP", exc, timeout=timeout) from None
    return _("SMTP: connected, sender %(sender)s accepted") % {"sender": settings.sender}


def _run_probe(protocol: str, probe: Callable[[], str]) -> ConnectionLine:
    try:
        return ConnectionLine(protocol, True, probe())
    except MailServerError as exc:
        return ConnectionLine(protocol, False, exc.message)
    except Exception as exc:  # a probe must say something, never 500
        return ConnectionLine(
            protocol,
            False,
            _("%(protocol)s: the test failed unexpectedly (%(error)s)")
            % {"protocol": protocol, "error": server_text(f"{type(exc).__name__}: {exc}")},
        )


def _stored_password(token: str, protocol: str) -> str:
    try:
        return decrypt(token)
    except CredentialError as exc:
        raise MailServerError(f"{protocol}: {exc}") from None


def check_test_connection(
    admin: User, *, values: MailboxInput, mailbox_id: int | None = None, timeout: float | None = None
) -> list[ConnectionLine]:
    """Try the IMAP and SMTP settings in ``values`` (both at once, each step within ``timeout``,
    by default ``imap.TEST_TIMEOUT``); a password left empty is the stored one of ``mailbox_id``.
    Writes nothing.

    One line per protocol, saying what works or exactly which step failed and how.
    """
    _require_admin(admin)
    existing = _mailbox(mailbox_id) if mailbox_id is not None else None
    clean = clean_mailbox(values, existing=existing)
    seconds = imap.TEST_TIMEOUT if timeout is None else timeout

    def imap_probe() -> str:
        password = clean.imap_password or _stored_password(
            existing.imap_password_encrypted if existing else "", "IMAP"
        )
        settings = ImapSettings(
            host=clean.imap_host,
            port=clean.imap_port,
            security=clean.imap_security,
            username=clean.imap_username,
            password=password,
            folder=clean.imap_folder,
            done_folder=clean.imap_done_folder,
        )
        return imap.probe_imap(settings, timeout=seconds)

    def smtp_probe() -> str:
        password = ""
        if clean.smtp_username:
            password = clean.smtp_password or _stored_password(
                existing.smtp_password_encrypted if existing else "", "SMTP"
            )
        settings = SmtpSettings(
            host=clean.smtp_host,
            port=clean.smtp_port,
            security=clean.smtp_security,
            username=clean.smtp_username,
            password=password,
            sender=clean.address,
        )
        return probe_smtp(settings, timeout=seconds)

    probes: list[tuple[str, Callable[[], str] | None, str]] = [
        (
            "IMAP",
            imap_probe if clean.imap_host else None,
            _("IMAP: no server set; mail arrives by webhook only"),
        ),
        ("SMTP", smtp_probe if clean.smtp_host else None, _("SMTP: no server set; nothing to test")),
    ]
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="mail-probe") as pool:
        futures = [
            (protocol, pool.submit(_run_probe, protocol, probe) if probe else None, idle)
            for protocol, probe, idle in probes
        ]
        return [
            future.result() if future else ConnectionLine(protocol, None, idle)
            for protocol, future, idle in futures
        ]


# --- acknowledgement templates --------------------------------------------------------------


@dataclass(frozen=True)
class AckTemplateInput:
    language: str
    subject: str
    body: str


def clean_ack_template(values: AckTemplateInput) -> AckTemplateInput:
    errors: dict[str | None, list[str]] = {}
    language = _line(values.language, errors, "language", limit=MAX_LANGUAGE_LENGTH).lower().replace("_", "-")
    if "language" not in errors and not LANGUAGE_CODE_RE.match(language):
        _add(errors, "language", _("Use a language code such as en, de or pt-br."))
    subject = " ".join(_line(values.subject, errors, "subject", limit=MAX_ACK_SUBJECT_LENGTH).split())
    if not subject and "subject" not in errors:
        _add(errors, "subject", _("Write a subject."))
    body = values.body.replace("\r\n", "\n").replace("\r", "\n")
    if len(body) > MAX_ACK_BODY_LENGTH:
        _add(
            errors,
            "body",
            _("Keep the text under %(count)s characters.") % {"count": f"{MAX_ACK_BODY_LENGTH:,}"},
        )
    elif "\x00" in body:
        _add(errors, "body", _("NUL characters are not allowed."))
    body = body.strip()
    if not body and "body" not in errors:
        _add(errors, "body", _("Write the text customers receive."))
    for field_name, text in (("subject", subject), ("body", body)):
        unknown = sorted({name for name in _PLACEHOLDER.findall(text) if name not in ACK_PLACEHOLDERS})
        if unknown:
            _add(
                errors,
                field_name,
                _("Unknown placeholder %(unknown)s: use {number}, {subject} or {name}.")
                % {"unknown": ", ".join("{" + name + "}" for name in unknown[:3])},
            )
    if errors:
        raise FieldErrors(errors)
    return AckTemplateInput(language=language, subject=subject, body=body)


def _template_for_update(template_id: int) -> AcknowledgementTemplate:
    template = (
        AcknowledgementTemplate.objects.select_for_update().filter(pk=template_id).first()
        if 0 < template_id <= MAX_ID
        else None
    )
    if template is None:
        raise NotFound(_("That acknowledgement template does not exist."))
    return template


def do_save_ack_template(
    template: AcknowledgementTemplate, *, values: AckTemplateInput
) -> AcknowledgementTemplate:
    template.language = values.language
    template.subject = values.subject
    template.body = values.body
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise ValidationFailed(
            _("There is already a template for %(language)s.") % {"language": values.language},
            field="language",
        ) from None
    return template


def check_save_ack_template(
    admin: User, *, values: AckTemplateInput, template_id: int | None = None
) -> AcknowledgementTemplate:
    """Create (``template_id`` None) or change the acknowledgement template of a language."""
    _require_admin(admin)
    clean = clean_ack_template(values)
    with transaction.atomic():
        template = _template_for_update(template_id) if template_id is not None else AcknowledgementTemplate()
        clash = AcknowledgementTemplate.objects.filter(language=clean.language).exclude(pk=template.pk)
        if clash.exists():
            raise ValidationFailed(
                _("There is already a template for %(language)s.") % {"language": clean.language},
                field="language",
            )
        return do_save_ack_template(template, values=clean)


def check_delete_ack_template(admin: User, template_id: int) -> str:
    """Delete a language's template (its tickets then get the base language's or English). Returns
    the language."""
    _require_admin(admin)
    with transaction.atomic():
        template = _template_for_update(template_id)
        language = template.language
        template.delete()
    return language


SAMPLE_VALUES = {"number": "1042", "subject": "Printer is down", "name": "Carol Customer"}


def preview_ack_template(
    subject: str, body: str, values: Mapping[str, str] = SAMPLE_VALUES
) -> tuple[str, str]:
    """(subject, text) as a customer would get them, with sample values for the placeholders:
    filled the way the outbox fills them, the ticket token added to the subject."""
    filled = dict(values)
    return (
        outbound_mime.with_ticket_token(
            outbound_mime.fill_placeholders(subject, filled), int(values["number"])
        ),
        outbound_mime.fill_placeholders(body, filled),
    )
