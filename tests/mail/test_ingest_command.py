"""relaydesk ingest-mail [--mailbox ADDRESS] FILE|-: store, process, print; exit codes an MTA understands."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from pytest_django.fixtures import Settings as SettingsWrapper

from relaydesk import cli
from relaydesk.mail import intake, outbox
from relaydesk.mail.models import InboundEmail, InboundSource, InboundStatus, Mailbox
from relaydesk.tickets.models import Ticket
from tests.conftest import World

pytestmark = pytest.mark.django_db

RAW = (
    b"From: Carol Customer <carol@acme.example>\r\nTo: support@example.com\r\n"
    b"Subject: Printer is down\r\nMessage-ID: <cli-1@acme.example>\r\n\r\nIt stopped.\r\n"
)


@pytest.fixture(autouse=True)
def _no_acknowledgements(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "do_queue_acknowledgement", lambda ticket, **kwargs: None)


@pytest.fixture
def mailbox(world: World) -> Mailbox:
    return Mailbox.objects.create(name="Support", address="support@example.com", team=world.americas)


@pytest.fixture
def eml(tmp_path: Path) -> Path:
    path = tmp_path / "message.eml"
    path.write_bytes(RAW)
    return path


def run(*args: str) -> int:
    return cli.main(["ingest-mail", *args])


def test_a_file_becomes_a_ticket(mailbox: Mailbox, eml: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--mailbox", "Support@Example.com", str(eml)) == 0

    row = InboundEmail.objects.get()
    ticket = Ticket.objects.get()
    assert (row.mailbox, row.source, row.status, row.ticket) == (
        mailbox,
        InboundSource.COMMAND,
        InboundStatus.PROCESSED,
        ticket,
    )
    assert capsys.readouterr().out == f"stored as inbound email {row.pk}: new ticket #{ticket.pk}\n"


def test_a_second_delivery_is_reported_as_a_duplicate(
    mailbox: Mailbox, eml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--mailbox", "support@example.com", str(eml)) == 0
    capsys.readouterr()
    assert run("--mailbox", "support@example.com", str(eml)) == 0

    row = InboundEmail.objects.get()
    assert (
        capsys.readouterr().out == f"duplicate of inbound email {row.pk}: added to ticket #{row.ticket_id}\n"
    )
    assert Ticket.objects.count() == 1
    assert row.attempts == 1


def test_stdin_and_the_mailbox_taken_from_the_recipients(
    mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(RAW)))
    assert run("-") == 0
    row = InboundEmail.objects.get()
    assert row.mailbox == mailbox
    assert row.dedupe_key == "mb-:id:cli-1@acme.example"
    assert "new ticket #" in capsys.readouterr().out


def test_a_quarantined_message_is_stored_so_the_exit_status_is_0(
    mailbox: Mailbox, tmp_path: Path, settings: SettingsWrapper, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.MAIL_MAX_BYTES = 1000
    path = tmp_path / "big.eml"
    path.write_bytes(RAW + b"x" * 1200)
    assert run("--mailbox", "support@example.com", str(path)) == 0

    row = InboundEmail.objects.get()
    assert row.status == InboundStatus.QUARANTINED
    assert capsys.readouterr().out == (
        f"stored as inbound email {row.pk}: quarantined: "
        f"The message is {len(RAW) + 1200} bytes; the limit is 1000 bytes. (too_large)\n"
    )


def test_automatic_mail_prints_why_it_was_ignored(
    mailbox: Mailbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ooo.eml"
    path.write_bytes(RAW.replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:"))
    assert run(str(path)) == 0
    assert capsys.readouterr().out.endswith(
        ": ignored: Automatic mail (Auto-Submitted: auto-replied) that belongs to no ticket: "
        "no ticket was created.\n"
    )


@pytest.mark.parametrize(
    "args",
    [[], ["--mailbox"], ["a.eml", "b.eml"], ["--bogus", "a.eml"]],
)
def test_usage_errors_exit_64(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(*args)
    assert exit_info.value.code == 64
    assert "usage: relaydesk ingest-mail" in capsys.readouterr().err
    assert InboundEmail.objects.count() == 0


def test_an_unknown_mailbox_or_a_missing_file_is_a_usage_error(
    mailbox: Mailbox, eml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("--mailbox", "nobody@example.com", str(eml)) == 64
    assert "no mailbox with the address nobody@example.com" in capsys.readouterr().err
    assert run(str(tmp_path / "missing.eml")) == 64
    assert "cannot read" in capsys.readouterr().err
    assert InboundEmail.objects.count() == 0


def test_empty_or_far_too_large_input_is_refused_for_good(
    mailbox: Mailbox, tmp_path: Path, settings: SettingsWrapper, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.MAIL_MAX_BYTES = 1000
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"\r\n")
    huge = tmp_path / "huge.eml"
    huge.write_bytes(RAW + b"x" * 2000)
    assert run(str(empty)) == 65
    assert run(str(huge)) == 65
    assert "is larger than 2000 bytes; refused" in capsys.readouterr().err
    assert InboundEmail.objects.count() == 0


def test_a_message_that_cannot_be_stored_exits_75_so_the_mta_retries(
    mailbox: Mailbox, eml: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def database_down(raw: bytes, *, mailbox: Mailbox | None, source: str) -> None:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(intake, "store_raw", database_down)
    assert run(str(eml)) == 75
    assert capsys.readouterr().err == (
        "relaydesk ingest-mail: could not store the message: could not connect to server\n"
    )
    assert InboundEmail.objects.count() == 0


def test_the_installed_entry_point_exits_64_on_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "relaydesk.cli", "ingest-mail"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 64
    assert "the following arguments are required: FILE|-" in result.stderr
