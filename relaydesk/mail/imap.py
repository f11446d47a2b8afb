"""IMAP polling: fetch a mailbox's unseen mail into ``InboundEmail`` rows, crash-safely.

One poll of one mailbox (``poll_mailbox``) logs in, SELECTs the folder, asks for the UIDs of
unseen mail and then, oldest first and at most ``MAX_MESSAGES_PER_POLL`` of them:

1. FETCH the message with ``BODY.PEEK[]`` (peeking does not set ``\\Seen``);
2. ``intake.store_raw`` it, which commits the raw bytes (a second copy is a no-op);
3. only then mark it ``\\Seen``, or move it to the mailbox's done folder;
4. enqueue the processing of the stored rows in groups (``processing.Groups``: up to
   ``MAX_GROUP`` messages or ``MAX_GROUP_BYTES``; the rest when the poll ends, however it
   ends), which a job processes together.

A process killed between 1 and 2 leaves the message unseen on the server: the next poll fetches
it again. Killed between 2 and 3, the message is still unseen too, and the next poll's
``store_raw`` finds the row it already wrote. Killed before 4, the rows wait ``received`` for
the periodic sweep (``intake_tasks.process_stalled_inbound_email``). So every message is stored
at least once and, by its dedupe key, exactly once; two pollers racing on one mailbox are
harmless for the same reason (the huey task holds a per-mailbox lock anyway, see ``imap_tasks``).
A failure is recorded on the mailbox (``last_error``, in the words the "Test connection" button
uses) and never raised.

The low-level pieces here (bounded DNS, connect with a timeout, TLS, one-line error wording)
are also what the admin's "Test connection" uses, for IMAP and for SMTP.
"""

from __future__ import annotations

import base64
import imaplib
import logging
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from relaydesk.core.jobs import enqueue_on_commit
from relaydesk.mail.credentials import CredentialError, decrypt
from relaydesk.mail.intake import store_raw
from relaydesk.mail.models import InboundSource, InboundStatus, Mailbox, Security
from relaydesk.mail.processing import Groups

logger = logging.getLogger(__name__)

# One poll stays short: the rest waits for the next minute's poll (or the next task, see
# imap_tasks). Oldest first, so nothing starves.
MAX_MESSAGES_PER_POLL = 200
# Seconds one network operation (connect, a command, reading one message) may take while polling.
POLL_TIMEOUT = 60.0
# The admin's "Test connection" gives up sooner.
TEST_TIMEOUT = 5.0
# last_error is shown in a table cell: one line, not a server's essay.
MAX_ERROR_LENGTH = 500
MAX_SERVER_TEXT = 200

_FETCH_UID = re.compile(rb"\bUID (\d+)\b")
_EXISTS = re.compile(rb"^\d+$")
# Dovecot appends how long a command took: "Mailbox doesn't exist: X (0.001 + 0.000 secs)."
_SERVER_TIMING = re.compile(r"\s*\(\d+\.\d+(?: \+ \d+\.\d+)* secs\)\.?$")


class MailServerError(Exception):
    """A mail server (IMAP or SMTP) could not be used; ``message`` is one line for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's CAs, host names verified (tests trust theirs)."""
    return ssl.create_default_context()


def server_text(value: object) -> str:
    """A server's reply as one short, printable line."""
    if isinstance(value, list | tuple):
        value = b" ".join(item if isinstance(item, bytes) else str(item).encode() for item in value)
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    text = _SERVER_TIMING.sub("", text)
    return text if len(text) <= MAX_SERVER_TEXT else text[: MAX_SERVER_TEXT - 1] + "…"


def _seconds(timeout: float) -> str:
    return f"{timeout:g}"


# --- connecting: DNS, TCP, TLS, each failure in one line --------------------------------------


def _resolve(host: str, port: int, timeout: float) -> list[Any]:
    """``getaddrinfo`` with a deadline: the resolver's own retries can take far longer."""
    outcome: dict[str, Any] = {}

    def look_up() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except Exception as exc:  # handed to the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=look_up, name=f"resolve {host}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]
    return list(outcome["infos"])


def connect_socket(protocol: str, host: str, port: int, *, timeout: float) -> socket.socket:
    """A TCP connection to ``host:port`` with ``timeout`` on every operation, or MailServerError."""
    where = f"{host}:{port}"
    try:
        infos = _resolve(host, port, timeout)
    except TimeoutError:
        raise MailServerError(
            _("%(protocol)s: looking up %(host)s took longer than %(seconds)s s (DNS timeout)")
            % {"protocol": protocol, "host": host, "seconds": _seconds(timeout)}
        ) from None
    except (socket.gaierror, UnicodeError):
        raise MailServerError(
            _("%(protocol)s: the server name %(host)s was not found (DNS)")
            % {"protocol": protocol, "host": host}
        ) from None
    last_error: OSError | None = None
    for family, kind, proto, _name, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        return sock
    if isinstance(last_error, ConnectionRefusedError):
        raise MailServerError(
            _("%(protocol)s: connection refused by %(where)s (nothing listens on that port)")
            % {"protocol": protocol, "where": where}
        )
    if isinstance(last_error, TimeoutError):
        raise MailServerError(
            _("%(protocol)s: no answer from %(where)s within %(seconds)s s (timeout)")
            % {"protocol": protocol, "where": where, "seconds": _seconds(timeout)}
        )
    reason = last_error.strerror if last_error is not None and last_error.strerror else str(last_error)
    raise MailServerError(
        _("%(protocol)s: could not reach %(where)s: %(reason)s")
        % {"protocol": protocol, "where": where, "reason": reason}
    )


def tls_failure(protocol: str, exc: ssl.SSLError, where: str) -> MailServerError:
    """Certificate problems and other handshake failures, told apart."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailServerError(
            _("%(protocol)s: the server's TLS certificate was refused: %(reason)s")
            % {"protocol": protocol, "reason": exc.verify_message or exc.reason or str(exc)}
        )
    return MailServerError(
        _(
            "%(protocol)s: TLS handshake with %(where)s failed (%(reason)s); "
            "check the security setting and the port"
        )
        % {"protocol": protocol, "where": where, "reason": (exc.reason or str(exc)).lower().replace("_", " ")}
    )


def wrap_tls(protocol: str, sock: socket.socket, host: str, port: int) -> ssl.SSLSocket:
    try:
        return tls_context().wrap_socket(sock, server_hostname=host)
    except ssl.SSLError as exc:
        sock.close()
        raise tls_failure(protocol, exc, f"{host}:{port}") from None
    except TimeoutError:
        sock.close()
        raise MailServerError(
            _("%(protocol)s: the TLS handshake with %(where)s timed out")
            % {"protocol": protocol, "where": f"{host}:{port}"}
        ) from None
    except OSError as exc:
        sock.close()
        raise MailServerError(
            _("%(protocol)s: the connection broke during the TLS handshake: %(reason)s")
            % {"protocol": protocol, "reason": exc.strerror or exc}
        ) from None


def session_failure(protocol: str, exc: BaseException, *, timeout: float) -> MailServerError:
    """A connection that was up and then failed: closed, reset, silent, or TLS trouble."""
    if isinstance(exc, MailServerError):
        return exc
    if isinstance(exc, ssl.SSLError):
        return tls_failure(protocol, exc, _("the server"))
    if isinstance(exc, TimeoutError):
        return MailServerError(
            _("%(protocol)s: the server stopped answering (timeout after %(seconds)s s)")
            % {"protocol": protocol, "seconds": _seconds(timeout)}
        )
    return MailServerError(
        _("%(protocol)s: the server closed the connection (%(reason)s)")
        % {
            "protocol": protocol,
            "reason": server_text(exc.args[0] if exc.args else exc) or type(exc).__name__,
        }
    )


# --- IMAP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str
    username: str
    password: str = field(repr=False)
    folder: str = "INBOX"
    done_folder: str = ""

    @classmethod
    def from_mailbox(cls, mailbox: Mailbox) -> ImapSettings:
        """The mailbox's stored settings; ``CredentialError`` when its password can't be decrypted."""
        return cls(
            host=mailbox.imap_host,
            port=mailbox.imap_port,
            security=mailbox.imap_security,
            username=mailbox.imap_username,
            password=decrypt(mailbox.imap_password_encrypted),
            folder=mailbox.imap_folder or "INBOX",
            done_folder=mailbox.imap_done_folder,
        )


def encode_folder(name: str) -> str:
    """A folder name as an IMAP quoted string, non-ASCII in modified UTF-7 (RFC 3501 5.1.3)."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode()
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    text = "".join(out)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _ConnectedIMAP4(imaplib.IMAP4):
    """imaplib over a socket we opened (and maybe wrapped in TLS) ourselves, so DNS, the TCP
    connect and the TLS handshake each fail with their own message and their own timeout."""

    def __init__(self, sock: socket.socket, host: str) -> None:
        self._given_socket = sock
        super().__init__(host, 0)

    def _create_socket(self, timeout: float | None) -> socket.socket:
        return self._given_socket


class ImapSession:
    """A logged-in IMAP connection: the few commands polling and the connection test need."""

    def __init__(self, client: imaplib.IMAP4, settings: ImapSettings, *, timeout: float) -> None:
        self.client = client
        self.settings = settings
        self.timeout = timeout

    def _run(self, call: Callable[[], tuple[str, list[Any]]]) -> tuple[str, list[Any]]:
        try:
            return call()
        except imaplib.IMAP4.abort as exc:
            raise session_failure("IMAP", exc, timeout=self.timeout) from None
        except (OSError, EOFError) as exc:
            raise session_failure("IMAP", exc, timeout=self.timeout) from None

    def _folder_missing(self, folder: str, data: list[Any]) -> MailServerError:
        return MailServerError(
            _("IMAP: folder “%(folder)s” does not exist (the server says: %(reply)s)")
            % {"folder": folder, "reply": server_text(data)}
        )

    def _open_folder(self, folder: str, *, readonly: bool) -> int:
        """SELECT (or EXAMINE) ``folder``; returns how many messages it holds."""
        try:
            typ, data = self._run(lambda: self.client.select(encode_folder(folder), readonly))
        except imaplib.IMAP4.error as exc:
            raise self._folder_missing(folder, list(exc.args)) from None
        if typ != "OK":
            raise self._folder_missing(folder, data)
        count = data[-1] if data else None
        return int(count) if isinstance(count, bytes) and _EXISTS.match(count) else 0

    def examine(self, folder: str) -> int:
        return self._open_folder(folder, readonly=True)

    def select(self, folder: str) -> int:
        return self._open_folder(folder, readonly=False)

    def folder_exists(self, folder: str) -> bool:
        typ, data = self._run(lambda: self.client.list('""', encode_folder(folder)))
        return typ == "OK" and any(item for item in data if item)

    def _uid(self, command: str, *args: str) -> tuple[str, list[Any]]:
        try:
            return self._run(lambda: self.client.uid(command, *args))
        except imaplib.IMAP4.error as exc:  # a BAD reply
            return "NO", list(exc.args)

    def unseen_uids(self) -> list[int]:
        """UIDs of unseen, undeleted messages, oldest first."""
        typ, data = self._uid("SEARCH", "UNSEEN", "UNDELETED")
        if typ != "OK":
            raise MailServerError(
                _("IMAP: searching for new mail failed: %(reply)s") % {"reply": server_text(data)}
            )
        found = b" ".join(item for item in data if isinstance(item, bytes)).split()
        return sorted({int(uid) for uid in found if uid.isdigit()})

    def fetch(self, uid: int) -> bytes | None:
        """The message's exact bytes, leaving ``\\Seen`` alone; None when it is gone meanwhile."""
        typ, data = self._uid("FETCH", str(uid), "(BODY.PEEK[])")
        if typ != "OK":
            raise MailServerError(
                _("IMAP: fetching message %(uid)s failed: %(reply)s")
                % {"uid": uid, "reply": server_text(data)}
            )
        for item in data:
            # (b'3 (UID 17 BODY[] {342}', b'<the message>'); other untagged FETCH replies
            # (flag changes of other messages) may be mixed in.
            if isinstance(item, tuple) and len(item) == 2:
                match = _FETCH_UID.search(item[0])
                if match is not None and int(match.group(1)) == uid and b"BODY[]" in item[0]:
                    return bytes(item[1])
        return None

    def mark_seen(self, uid: int) -> None:
        typ, data = self._uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Seen)")
        if typ != "OK":
            raise MailServerError(
                _("IMAP: could not mark message %(uid)s as read: %(reply)s")
                % {"uid": uid, "reply": server_text(data)}
            )

    @property
    def can_move(self) -> bool:
        return "MOVE" in self.client.capabilities

    def _copy_or_move(self, command: str, uid: int, folder: str) -> tuple[str, list[Any]]:
        typ, data = self._uid(command, str(uid), encode_folder(folder))
        if typ != "OK" and b"TRYCREATE" in b" ".join(d for d in data if isinstance(d, bytes)).upper():
            # The done folder does not exist yet: make it once, then try again.
            self._run(lambda: self.client.create(encode_folder(folder)))
            typ, data = self._uid(command, str(uid), encode_folder(folder))
        return typ, data

    def move(self, uid: int, folder: str) -> None:
        """Move the message to ``folder`` (MOVE, or COPY + \\Deleted + EXPUNGE without it)."""
        if self.can_move:
            typ, data = self._copy_or_move("MOVE", uid, folder)
        else:
            typ, data = self._copy_or_move("COPY", uid, folder)
            if typ == "OK":
                typ, data = self._uid("STORE", str(uid), "+FLAGS.SILENT", "(\\Deleted)")
            if typ == "OK":
                if "UIDPLUS" in self.client.capabilities:
                    typ, data = self._uid("EXPUNGE", str(uid))
                else:
                    typ, data = self._run(self.client.expunge)
        if typ != "OK":
            raise MailServerError(
                _("IMAP: could not move message %(uid)s to “%(folder)s”: %(reply)s")
                % {"uid": uid, "folder": folder, "reply": server_text(data)}
            )

    def close(self) -> None:
        try:
            self.client.logout()
        except Exception:  # the session is over either way
            with suppress(OSError):
                self.client.shutdown()


def _login(client: imaplib.IMAP4, username: str, password: str) -> None:
    if username.isascii() and password.isascii():
        client.login(_quote(username), password)
        return
    # LOGIN's strings are ASCII for imaplib; AUTHENTICATE PLAIN carries UTF-8.
    credentials = b"\0" + username.encode() + b"\0" + password.encode()
    client.authenticate("PLAIN", lambda _challenge: credentials)


def open_imap(settings: ImapSettings, *, timeout: float) -> ImapSession:
    """Connect, secure and log in; ``MailServerError`` says which step failed and how."""
    host, port = settings.host, settings.port
    where = f"{host}:{port}"
    sock: socket.socket = connect_socket("IMAP", host, port, timeout=timeout)
    if settings.security == Security.TLS:
        sock = wrap_tls("IMAP", sock, host, port)
    try:
        client = _ConnectedIMAP4(sock, host)
    except TimeoutError:
        sock.close()
        hint = _("; a TLS port (993) needs the security “TLS”") if settings.security != Security.TLS else ""
        raise MailServerError(
            _("IMAP: %(where)s accepted the connection but sent no greeting within %(seconds)s s%(hint)s")
            % {"where": where, "seconds": _seconds(timeout), "hint": hint}
        ) from None
    except ssl.SSLError as exc:
        sock.close()
        raise tls_failure("IMAP", exc, where) from None
    except (imaplib.IMAP4.error, OSError, EOFError) as exc:
        sock.close()
        raise MailServerError(
            _("IMAP: %(where)s did not answer like an IMAP server (%(reply)s)")
            % {"where": where, "reply": server_text(exc.args[0] if exc.args else exc)}
        ) from None
    session = ImapSession(client, settings, timeout=timeout)
    try:
        if settings.security == Security.STARTTLS:
            if "STARTTLS" not in client.capabilities:
                raise MailServerError(_("IMAP: the server does not offer STARTTLS; choose TLS or None"))
            try:
                client.starttls(ssl_context=tls_context())
            except ssl.SSLError as exc:
                raise tls_failure("IMAP", exc, where) from None
            except imaplib.IMAP4.error as exc:
                raise MailServerError(
                    _("IMAP: STARTTLS failed: %(reply)s")
                    % {"reply": server_text(exc.args[0] if exc.args else exc)}
                ) from None
        try:
            _login(client, settings.username, settings.password)
        except imaplib.IMAP4.abort as exc:
            raise session_failure("IMAP", exc, timeout=timeout) from None
        except imaplib.IMAP4.error as exc:
            raise MailServerError(
                _("IMAP: login refused for %(user)s: %(reply)s")
                % {"user": settings.username, "reply": server_text(exc.args[0] if exc.args else exc)}
            ) from None
    except MailServerError:
        session.close()
        raise
    except (OSError, EOFError) as exc:
        session.close()
        raise session_failure("IMAP", exc, timeout=timeout) from None
    return session


@contextmanager
def imap_session(settings: ImapSettings, *, timeout: float) -> Iterator[ImapSession]:
    session = open_imap(settings, timeout=timeout)
    try:
        yield session
    finally:
        session.close()


def probe_imap(settings: ImapSettings, *, timeout: float) -> str:
    """What "Test connection" says when IMAP works; ``MailServerError`` with what failed otherwise.

    Read-only: the folder is opened with EXAMINE, so nothing is marked or moved.
    """
    with imap_session(settings, timeout=timeout) as session:
        count = session.examine(settings.folder)
        done_folder_missing = bool(settings.done_folder) and not session.folder_exists(settings.done_folder)
    line = ngettext(
        "IMAP: connected, folder %(folder)s has %(count)s message",
        "IMAP: connected, folder %(folder)s has %(count)s messages",
        count,
    ) % {"folder": settings.folder, "count": count}
    if done_folder_missing:
        line += _("; “%(folder)s” does not exist yet and is created at the first poll") % {
            "folder": settings.done_folder
        }
    return line


# --- polling ----------------------------------------------------------------------------


@dataclass
class PollResult:
    stored: int = 0  # new InboundEmail rows
    duplicates: int = 0  # already stored by an earlier (interrupted) or concurrent poll
    acknowledged: int = 0  # marked \Seen or moved to the done folder
    more_waiting: bool = False  # unseen mail beyond this poll's cap
    error: str = ""


def enqueue_processing(inbound_ids: list[int]) -> None:
    """Queue the parse/thread/write step for stored rows, one job for the group, after commit."""
    from relaydesk.mail.intake_tasks import process_inbound_emails  # huey registers it on import

    enqueue_on_commit(process_inbound_emails, inbound_ids)


def record_poll(mailbox: Mailbox, *, error: str) -> None:
    """Write when the mailbox was last polled and what went wrong ("" when nothing)."""
    now = timezone.now()
    error = error[:MAX_ERROR_LENGTH]
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=now, last_error=error)
    mailbox.last_polled_at = now
    mailbox.last_error = error


def _acknowledge(session: ImapSession, uid: int, done_folder: str) -> None:
    """Tell the server the message is safely stored. Call only after ``store_raw`` committed."""
    # \Seen first: if the move then fails, the message is stored and read, never fetched again.
    session.mark_seen(uid)
    if done_folder:
        session.move(uid, done_folder)


def poll_mailbox(
    mailbox: Mailbox, *, limit: int = MAX_MESSAGES_PER_POLL, timeout: float = POLL_TIMEOUT
) -> PollResult:
    """Fetch up to ``limit`` unseen messages of ``mailbox`` into InboundEmail rows (see the module).

    Never raises: a failure ends this poll, is written to ``mailbox.last_error`` and returned in
    ``PollResult.error``; whatever was not acknowledged stays unseen for the next poll. Must not
    run inside a transaction (each ``store_raw`` has to be committed before its ``\\Seen``).
    """
    result = PollResult()
    waiting = Groups(enqueue_processing)
    try:
        settings = ImapSettings.from_mailbox(mailbox)
        with imap_session(settings, timeout=timeout) as session:
            session.select(settings.folder)
            uids = session.unseen_uids()
            result.more_waiting = len(uids) > limit
            for uid in uids[:limit]:
                raw = session.fetch(uid)
                if raw is None:  # expunged by someone else since the SEARCH
                    continue
                row, created = store_raw(raw, mailbox=mailbox, source=InboundSource.IMAP)
                if created:
                    result.stored += 1
                else:
                    result.duplicates += 1
                if created or row.status == InboundStatus.RECEIVED:
                    # A duplicate still "received" may come from a poll that died before it
                    # could enqueue; processing is idempotent, so enqueue it again.
                    waiting.add(row.pk, row.size)
                _acknowledge(session, uid, settings.done_folder)
                result.acknowledged += 1
    except MailServerError as exc:
        result.error = exc.message
    except CredentialError as exc:
        result.error = _("IMAP: %(reason)s") % {"reason": str(exc)}
    except Exception as exc:  # the database, a bug: logged, recorded, the worker goes on
        logger.exception("polling mailbox %s failed", mailbox.pk)
        result.error = _("IMAP: polling failed unexpectedly (%(error)s)") % {
            "error": server_text(f"{type(exc).__name__}: {exc}")
        }
    finally:
        try:
            waiting.close()
        except Exception:  # the rows are stored: the periodic sweep processes them
            logger.exception("mailbox %s: could not queue the processing of stored mail", mailbox.pk)
    if result.error:
        logger.warning("mailbox %s: %s", mailbox.pk, result.error)
    try:
        record_poll(mailbox, error=result.error)
    except Exception:
        logger.exception("could not record the poll of mailbox %s", mailbox.pk)
    return result
