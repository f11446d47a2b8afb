"""Real mail servers for tests: Debian's dovecot for IMAP, an aiosmtpd socket for SMTP.

Both listen on 127.0.0.1 on free ports and keep their state in a throwaway directory, so they
work under pytest-xdist. See docs/testing-mail.md. In a test module:

    pytest_plugins = ["tests.mailservers"]

    def test_fetch(imap_server, smtp_server):
        uid = imap_server.deliver(raw_bytes)
        ...
        assert imap_server.list_messages()[0].seen
        assert smtp_server.messages[0].message["Subject"] == "Re: Printer is down"

Fixtures: ``imap_server`` (a fresh dovecot per test, ready for logins after some 50-100 ms),
``smtp_server`` (AUTH and STARTTLS offered, both optional) and ``smtp_server_factory`` (other
SMTP options: AUTH required, implicit TLS). Outside pytest, ``start_dovecot()`` and
``start_smtp()`` return the same objects; call ``stop()`` after.

When /usr/sbin/dovecot (or $DOVECOT_PATH) is missing the IMAP tests skip, with the install hint;
under CI=true they fail instead, as the PostgreSQL and chromium legs do.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import grp
import imaplib
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
DOVECOT = os.environ.get("DOVECOT_PATH", "/usr/sbin/dovecot")
OPENSSL = os.environ.get("OPENSSL_PATH", "openssl")
INSTALL_HINT = "apt-get install dovecot-imapd"

IMAP_USER = "support@relaydesk.test"
IMAP_PASSWORD = "imap-test-password"
SMTP_USER = "relaydesk"
SMTP_PASSWORD = "smtp-test-password"

_START_TIMEOUT = 10.0
_CLIENT_TIMEOUT = 10.0


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _missing(what: str) -> None:
    """A missing tool skips locally and fails under CI=true, never a silent pass."""
    if _in_ci():
        pytest.fail(f"{what} (CI=true: the mail-server tests must run; .ci/run installs it)")
    pytest.skip(f"{what}: skipping")


def require_dovecot() -> str:
    if not os.access(DOVECOT, os.X_OK):
        _missing(f"{DOVECOT} is not installed ({INSTALL_HINT})")
    return DOVECOT


def free_port() -> int:
    """A port nobody listens on right now; callers retry if another process takes it first."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# --- TLS ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway self-signed certificate for localhost and 127.0.0.1."""

    certfile: Path
    keyfile: Path

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate only (hostname checks stay on)."""
        return ssl.create_default_context(cafile=str(self.certfile))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.certfile), str(self.keyfile))
        return context


def make_tls_files(directory: Path) -> TlsFiles:
    """Generate a self-signed P-256 certificate with the openssl CLI (about 20 ms)."""
    if shutil.which(OPENSSL) is None:
        _missing(f"the {OPENSSL} command is not installed (apt-get install openssl)")
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(certfile=directory / "cert.pem", keyfile=directory / "key.pem")
    ec_key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    names = "subjectAltName=DNS:localhost,IP:127.0.0.1"
    command = [OPENSSL, "req", "-x509", *ec_key.split(), "-days", "2", "-subj", "/CN=localhost"]
    command += ["-addext", names, "-keyout", str(files.keyfile), "-out", str(files.certfile)]
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    return files


@functools.cache
def shared_tls_files() -> TlsFiles:
    """One certificate per test process (each xdist worker makes its own), removed at exit."""
    directory = Path(tempfile.mkdtemp(prefix="relaydesk-mail-tls-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return make_tls_files(directory)


# --- IMAP: dovecot --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredMessage:
    """A message as the IMAP server holds it (read with BODY.PEEK, so reading marks nothing)."""

    uid: int
    flags: frozenset[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """``raw`` parsed with ``policy.default``, CRLF read as newline (``raw`` stays exact)."""
        return parse_message(self.raw)

    @property
    def seen(self) -> bool:
        return "\\Seen" in self.flags


def parse_message(raw: bytes) -> EmailMessage:
    """Parse wire bytes as a mail client shows them: CRLF line ends become ``\\n``."""
    parsed = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
    assert isinstance(parsed, EmailMessage)
    return parsed


def quote_mailbox(name: str) -> str:
    """IMAP quoted string for a folder name (ASCII names; imaplib does not quote for us)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


_FETCH_UID = re.compile(rb"\bUID (\d+)")
_APPENDUID = re.compile(rb"\[APPENDUID \d+ (\d+)\]")
_LIST_LINE = re.compile(rb'^\((?P<attrs>[^)]*)\) (?P<sep>"[^"]*"|NIL) (?P<name>.+)$')


def _unquote(name: bytes) -> str:
    text = name.decode()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


@dataclass
class ImapServer:
    """A running dovecot. ``port`` speaks plain IMAP and offers STARTTLS; ``tls_port`` is IMAPS.

    ``user``/``password`` is the mailbox made at start; ``add_user`` makes more. The helpers
    open their own short connections, so they can be called between the code under test's steps.
    """

    host: str
    port: int
    tls_port: int
    user: str
    password: str
    tls: TlsFiles
    directory: Path
    process: subprocess.Popen[bytes]
    _passwords: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def log_path(self) -> Path:
        return self.directory / "dovecot.log"

    def log_text(self) -> str:
        """Dovecot's own log: logins, failures and errors, for debugging a failing test."""
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def add_user(self, user: str, password: str) -> None:
        """Another mailbox on this server, usable at once."""
        if user in self._passwords:
            raise ValueError(f"{user} exists already")
        _write_passwd_file(self.directory, user, password)
        self._passwords[user] = password

    def connect(
        self,
        *,
        user: str | None = None,
        password: str | None = None,
        security: Literal["plain", "starttls", "tls"] = "plain",
    ) -> imaplib.IMAP4:
        """A logged-in imaplib client; use it as ``with server.connect() as imap:``."""
        imap: imaplib.IMAP4
        if security == "tls":
            imap = imaplib.IMAP4_SSL(
                self.host, self.tls_port, ssl_context=self.tls.client_context(), timeout=_CLIENT_TIMEOUT
            )
        else:
            imap = imaplib.IMAP4(self.host, self.port, timeout=_CLIENT_TIMEOUT)
        try:
            if security == "starttls":
                imap.starttls(self.tls.client_context())
            user = user or self.user
            imap.login(user, password if password is not None else self._passwords[user])
        except BaseException:
            imap.shutdown()
            raise
        return imap

    def create_folder(self, name: str, *, user: str | None = None) -> None:
        with self.connect(user=user) as imap:
            _ok(imap.create(quote_mailbox(name)), f"CREATE {name}")

    def folders(self, *, user: str | None = None) -> list[str]:
        with self.connect(user=user) as imap:
            typ, data = imap.list()
            _ok((typ, data), "LIST")
        names = []
        for line in data:
            if isinstance(line, bytes) and (match := _LIST_LINE.match(line)):
                names.append(_unquote(match["name"]))
        return sorted(names)

    def deliver(
        self,
        raw: bytes | str | EmailMessage,
        folder: str = "INBOX",
        *,
        flags: Iterable[str] = (),
        user: str | None = None,
    ) -> int:
        """Put a message into a folder (IMAP APPEND; the folder is made if missing); returns its UID."""
        if isinstance(raw, EmailMessage):
            raw = raw.as_bytes()
        elif isinstance(raw, str):
            raw = raw.encode()
        flag_list = "(" + " ".join(flags) + ")" if flags else ""
        with self.connect(user=user) as imap:
            # typeshed says append() returns str; it returns (type, data) like every command.
            response: Any = imap.append(quote_mailbox(folder), flag_list, "", raw)
            typ, data = response
            if typ == "NO" and b"TRYCREATE" in b" ".join(d for d in data if isinstance(d, bytes)):
                _ok(imap.create(quote_mailbox(folder)), f"CREATE {folder}")
                response = imap.append(quote_mailbox(folder), flag_list, "", raw)
                typ, data = response
            _ok((typ, data), f"APPEND to {folder}")
        match = _APPENDUID.search(data[0] if isinstance(data[0], bytes) else b"")
        if match is None:
            raise AssertionError(f"dovecot gave no APPENDUID: {data!r}")
        return int(match[1])

    def list_messages(self, folder: str = "INBOX", *, user: str | None = None) -> list[StoredMessage]:
        """Every message in a folder, by UID, with its flags; opened read-only (EXAMINE)."""
        with self.connect(user=user) as imap:
            _ok(imap.select(quote_mailbox(folder), readonly=True), f"EXAMINE {folder}")
            typ, data = imap.uid("FETCH", "1:*", "(UID FLAGS BODY.PEEK[])")
            _ok((typ, data), f"FETCH in {folder}")
        messages = []
        for item in data:
            if not isinstance(item, tuple):
                continue  # the closing b")" of each FETCH item, or None when the folder is empty
            head, body = item
            uid = _FETCH_UID.search(head)
            assert uid is not None, head
            flags = frozenset(flag.decode() for flag in imaplib.ParseFlags(head))
            messages.append(StoredMessage(uid=int(uid[1]), flags=flags, raw=bytes(body)))
        return sorted(messages, key=lambda m: m.uid)

    def stop(self) -> None:
        _stop_process_group(self.process)
        shutil.rmtree(self.directory, ignore_errors=True)


def _ok(response: tuple[str, Any], what: str) -> None:
    typ, data = response
    if typ != "OK":
        raise AssertionError(f"IMAP {what} failed: {typ} {data!r}")


def _write_passwd_file(directory: Path, user: str, password: str) -> None:
    """One passwd-file per user (the passdb path is users/%u).

    Dovecot re-reads a changed passwd-file at most once a second, so adding a line to one shared
    file would not be seen by a login in the same second; a new file is read on first use.
    """
    if not re.fullmatch(r"[A-Za-z0-9._@+-]+", user) or user.startswith("."):
        raise ValueError(f"user name {user!r}: letters, digits and . _ @ + - only")
    if any(c in password for c in ":\n\r"):
        raise ValueError("the password may not contain ':' or line breaks")
    path = directory / "users" / user
    path.parent.mkdir(mode=0o700, exist_ok=True)
    path.write_text(f"{user}:{{PLAIN}}{password}::::::\n")
    path.chmod(0o600)


def _stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL dovecot's whole process group (it was started as its own session).

    Nothing of a test server's state is worth a graceful stop: SIGTERM takes up to a second
    while the master waits for IMAP sessions that are still closing, SIGKILL a few ms.
    """
    if process.poll() is not None:
        return  # exited (and was reaped) already: its group id may belong to someone else now
    os.killpg(process.pid, signal.SIGKILL)  # the master still runs, so the group id is ours
    process.wait(timeout=5)


def _identities() -> tuple[str, str, int, int, bool]:
    """(internal user, login user, mail uid, mail gid, rootless) for the user running the tests.

    As root, dovecot insists that login processes (imap-login) are not root and that mail is
    never accessed as uid 0, so: internal processes stay root, logins run as dovenull (made by
    the Debian package; nobody as a fallback) and the mailbox belongs to nobody. As any other
    user dovecot runs "rootless": everything as that user, chroots off.
    """
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid, True
    login_user = "nobody"
    with contextlib.suppress(KeyError):
        login_user = pwd.getpwnam("dovenull").pw_name
    try:
        nobody = pwd.getpwnam("nobody")
        mail_uid, mail_gid = nobody.pw_uid, nobody.pw_gid
    except KeyError:
        mail_uid = mail_gid = 65534
    return "root", login_user, mail_uid, mail_gid, False


def _dovecot_config(directory: Path, port: int, tls_port: int, tls: TlsFiles) -> str:
    internal_user, login_user, mail_uid, mail_gid, rootless = _identities()
    no_chroot = "  chroot =\n" if rootless else ""
    return f"""\
# Generated by tests/mailservers.py for one test: loopback only, throwaway maildir.
protocols = imap
listen = {HOST}
instance_name = relaydesk-test-{port}
base_dir = {directory}/run
state_dir = {directory}/state
log_path = {directory}/dovecot.log
info_log_path = {directory}/dovecot.log
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name}
default_login_user = {login_user}
first_valid_uid = 1
first_valid_gid = 1
login_greeting = Relaydesk test IMAP ready.

ssl = yes
ssl_cert = <{tls.certfile}
ssl_key = <{tls.keyfile}
# Plaintext LOGIN is allowed on the loopback, with or without TLS (the product decides).
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
# Failed logins are answered in ~0.5 s instead of 2 s (the auth process checks every 0.5 s).
auth_failure_delay = 0
mail_max_userip_connections = 100
mail_fsync = never

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/users/%u
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={directory}/mail/%u
}}
mail_location = maildir:~/Maildir

namespace inbox {{
  inbox = yes
  separator = /
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}

service imap-login {{
{no_chroot}  inet_listener imap {{
    address = {HOST}
    port = {port}
  }}
  inet_listener imaps {{
    address = {HOST}
    port = {tls_port}
    ssl = yes
  }}
}}
service anvil {{
{no_chroot}}}
service imap-urlauth-login {{
{no_chroot}}}
"""


def start_dovecot(
    *,
    user: str = IMAP_USER,
    password: str = IMAP_PASSWORD,
    tls: TlsFiles | None = None,
    attempts: int = 5,
) -> ImapServer:
    """Start a private dovecot on free loopback ports and wait until it accepts a login."""
    binary = require_dovecot()
    tls = tls or shared_tls_files()
    last_error = ""
    for _ in range(attempts):
        directory = Path(tempfile.mkdtemp(prefix="relaydesk-dovecot-"))
        try:
            server = _try_start(binary, directory, user, password, tls)
        except _PortTaken as error:
            last_error = str(error)
            shutil.rmtree(directory, ignore_errors=True)
            continue
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return server
    raise RuntimeError(f"dovecot could not get a free port in {attempts} attempts:\n{last_error}")


class _PortTaken(Exception):
    pass


def _try_start(binary: str, directory: Path, user: str, password: str, tls: TlsFiles) -> ImapServer:
    _, _, mail_uid, mail_gid, rootless = _identities()
    # The mail processes run as the mail uid (nobody when we are root): they must be able to
    # pass through this directory and own the mail directory under it.
    directory.chmod(0o711)
    (directory / "mail").mkdir(mode=0o700)
    (directory / "state").mkdir(mode=0o700)
    if not rootless:
        os.chown(directory / "mail", mail_uid, mail_gid)
    port, tls_port = free_port(), free_port()
    while tls_port == port:
        tls_port = free_port()
    config = directory / "dovecot.conf"
    config.write_text(_dovecot_config(directory, port, tls_port, tls))
    passwords = {user: password}
    _write_passwd_file(directory, user, password)

    with open(directory / "dovecot.out", "wb") as out:
        process = subprocess.Popen(
            [binary, "-F", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    server = ImapServer(
        host=HOST,
        port=port,
        tls_port=tls_port,
        user=user,
        password=password,
        tls=tls,
        directory=directory,
        process=process,
        _passwords=passwords,
    )
    try:
        _wait_until_ready(server)
    except BaseException:
        _stop_process_group(process)
        raise
    return server


def _wait_until_ready(server: ImapServer) -> None:
    penalty_socket = server.directory / "run" / "anvil-auth-penalty"
    deadline = time.monotonic() + _START_TIMEOUT
    unlinked = False
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            output = (server.directory / "dovecot.out").read_text(errors="replace")
            text = output + server.log_text()
            if "Address already in use" in text:
                raise _PortTaken(text)
            raise RuntimeError(f"dovecot exited with {server.process.returncode}:\n{text}")
        if not unlinked:
            # Dovecot's anvil slows logins from an IP after a failed one (2 s, 4 s, … 15 s);
            # it has no setting to turn that off. The auth process skips it silently when this
            # socket is absent, and auth only starts on the first login, so remove it now.
            if penalty_socket.exists():
                penalty_socket.unlink()
                unlinked = True
            else:
                time.sleep(0.002)
                continue
        try:
            imap = server.connect()
        except (OSError, imaplib.IMAP4.abort):
            time.sleep(0.005)
            continue
        with imap:
            # SELECT proves more than LOGIN: the mail process could take the uid and make the maildir.
            typ, data = imap.select("INBOX")
        if typ != "OK":
            raise RuntimeError(f"dovecot could not open INBOX: {data!r}\n{server.log_text()}")
        return
    raise RuntimeError(f"dovecot did not accept a login within {_START_TIMEOUT} s:\n{server.log_text()}")


# --- SMTP: aiosmtpd -------------------------------------------------------------------------


@dataclass(frozen=True)
class CapturedMail:
    """One accepted SMTP transaction."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    auth_login: str | None  # the AUTH user name, or None when the client did not log in
    tls: bool  # STARTTLS or implicit TLS was in use

    @property
    def message(self) -> EmailMessage:
        """``raw`` parsed with ``policy.default``, CRLF read as newline (``raw`` stays exact)."""
        return parse_message(self.raw)


Stage = Literal["mail", "rcpt", "data"]


@dataclass(frozen=True)
class Rejection:
    """A command the server refused on purpose (see ``SmtpServer.fail_next``)."""

    stage: Stage
    code: int
    mail_from: str | None
    rcpt_tos: tuple[str, ...]


@dataclass
class _FailurePlan:
    stage: Stage
    code: int
    reply: str
    remaining: int | None  # None: until clear_failures()


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    def _refuse(self, stage: Stage, envelope: Envelope) -> str | None:
        return self.server._take_failure(stage, envelope)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self.server.auth_required and not session.authenticated:
            # What aiosmtpd's own auth_required would answer, minus its warning about AUTH
            # without TLS (deliberate here: loopback only).
            return "530 5.7.0 Authentication required"
        refusal = self._refuse("mail", envelope)
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        refusal = self._refuse("rcpt", envelope)
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self._refuse("data", envelope)
        if refusal:
            return refusal
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode()
        login = session.auth_data if session.authenticated else None
        self.server._capture(
            CapturedMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                raw=raw,
                auth_login=login if isinstance(login, str) else None,
                tls=session.ssl is not None or self.server.implicit_tls,  # STARTTLS sets .ssl
            )
        )
        return "250 2.0.0 OK: queued"


class _Authenticator:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode(errors="replace")
            password = auth_data.password.decode(errors="replace")
            if self.server.credentials.get(login) == password:
                return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)


_DEFAULT_REPLIES = {
    4: "4.3.0 Temporary failure, try again later (test server)",
    5: "5.7.1 Refused (test server)",
}


class SmtpServer:
    """An aiosmtpd server on a loopback port that keeps every accepted message in ``messages``.

    AUTH (PLAIN, LOGIN) with ``user``/``password`` is offered and, unless ``auth_required``,
    optional; STARTTLS is offered with the shared test certificate (``tls.client_context()``
    trusts it); ``implicit_tls=True`` speaks TLS from the first byte instead (port 465 style).
    """

    def __init__(
        self,
        *,
        user: str = SMTP_USER,
        password: str = SMTP_PASSWORD,
        auth_required: bool = False,
        tls: TlsFiles | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.host = HOST
        self.port = 0
        self.user = user
        self.password = password
        self.credentials = {user: password}
        self.auth_required = auth_required
        self.tls = tls or shared_tls_files()
        self.implicit_tls = implicit_tls
        self._lock = threading.Condition()
        self._messages: list[CapturedMail] = []
        self._rejections: list[Rejection] = []
        self._plans: list[_FailurePlan] = []
        self._controller: Controller | None = None

    # -- reading what was sent

    @property
    def messages(self) -> list[CapturedMail]:
        with self._lock:
            return list(self._messages)

    @property
    def rejections(self) -> list[Rejection]:
        with self._lock:
            return list(self._rejections)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[CapturedMail]:
        """Block until ``count`` messages have arrived (for mail sent from another thread)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(
                    f"expected {count} message(s) within {timeout} s, got {len(self._messages)}"
                )
            return list(self._messages)

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._rejections.clear()

    # -- making it fail

    def fail_next(
        self, count: int | None = 1, *, code: int = 451, message: str | None = None, stage: Stage = "data"
    ) -> None:
        """Answer the next ``count`` MAIL/RCPT/DATA commands with ``code`` (None: all of them).

        451 at DATA → smtplib.SMTPDataError with smtp_code 451 (a retry case); 550 at DATA →
        SMTPDataError 550 (permanent); at "rcpt" → SMTPRecipientsRefused; at "mail" →
        SMTPSenderRefused. Plans queue up in the order given.
        """
        if not 400 <= code <= 599:
            raise ValueError("code must be a 4xx (temporary) or 5xx (permanent) SMTP reply")
        if count is not None and count < 1:
            raise ValueError("count must be positive, or None for every command")
        reply = f"{code} {message or _DEFAULT_REPLIES[code // 100]}"
        with self._lock:
            self._plans.append(_FailurePlan(stage=stage, code=code, reply=reply, remaining=count))

    def clear_failures(self) -> None:
        with self._lock:
            self._plans.clear()

    def _take_failure(self, stage: Stage, envelope: Envelope) -> str | None:
        with self._lock:
            for plan in self._plans:
                if plan.stage != stage:
                    continue
                if plan.remaining is not None:
                    plan.remaining -= 1
                    if plan.remaining == 0:
                        self._plans.remove(plan)
                self._rejections.append(
                    Rejection(
                        stage=stage,
                        code=plan.code,
                        mail_from=envelope.mail_from,
                        rcpt_tos=tuple(envelope.rcpt_tos),
                    )
                )
                return plan.reply
        return None

    def _capture(self, mail: CapturedMail) -> None:
        with self._lock:
            self._messages.append(mail)
            self._lock.notify_all()

    # -- life cycle

    def start(self, attempts: int = 5) -> SmtpServer:
        last_error: OSError | None = None
        for _ in range(attempts):
            port = free_port()
            controller = Controller(
                _Handler(self),
                hostname=HOST,
                port=port,
                ssl_context=self.tls.server_context() if self.implicit_tls else None,
                server_hostname="smtp.relaydesk.test",  # not socket.getfqdn(): no DNS look-up
                ready_timeout=_START_TIMEOUT,
                authenticator=_Authenticator(self),
                auth_require_tls=False,  # loopback only; tests choose TLS or not
                tls_context=None if self.implicit_tls else self.tls.server_context(),
            )
            try:
                controller.start()
            except OSError as error:  # another process took the port between probe and bind
                last_error = error
                controller.stop(no_assert=True)
                continue
            self.port = port
            self._controller = controller
            return self
        raise RuntimeError(f"aiosmtpd could not bind a free port in {attempts} attempts: {last_error}")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self if self._controller else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_smtp(**options: Any) -> SmtpServer:
    """Start an SmtpServer (keyword options as for ``SmtpServer``); call ``stop()`` after."""
    return SmtpServer(**options).start()


# --- pytest fixtures ------------------------------------------------------------------------


@pytest.fixture
def imap_server(tmp_path: Path) -> Iterator[ImapServer]:
    """A fresh dovecot for this test; its log is copied to tmp_path/dovecot.log at the end."""
    server = start_dovecot()
    try:
        yield server
    finally:
        with contextlib.suppress(OSError):
            shutil.copyfile(server.log_path, tmp_path / "dovecot.log")
        server.stop()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A capturing SMTP server: AUTH and STARTTLS offered, neither required."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., SmtpServer]]:
    """``smtp_server_factory(auth_required=True)``, ``(implicit_tls=True)``…; all stop at teardown."""
    started: list[SmtpServer] = []

    def factory(**options: Any) -> SmtpServer:
        server = start_smtp(**options)
        started.append(server)
        return server

    try:
        yield factory
    finally:
        for server in started:
            server.stop()
