"""``POST /mail/inbound/<mailbox_id>/``: a mail service hands over one raw message (RFC 5322 bytes).

Authenticated by the mailbox's own secret (``Authorization: Bearer <secret>``, compared in
constant time against its SHA-256). The body is the message itself, whatever the content type;
``multipart/form-data`` with a file field ``message`` or ``email`` works too. The answer is 202
only once the raw row is committed, so a sender that gets a 2xx may forget the message; anything
else tells it to keep the message and retry. Processing runs as a job after the commit.

401 for a wrong or missing secret and for an unknown or inactive mailbox alike (same body, no
hint which mailboxes exist), 413 above twice ``MAIL_MAX_BYTES`` (between one and two times it is
stored and quarantined by processing with the size in its reason, so an admin sees it), 400 for an
empty body.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from relaydesk.mail.intake import receive, webhook_secret_matches
from relaydesk.mail.models import InboundSource, Mailbox

_FILE_FIELDS = ("message", "email")


class _TooLarge(Exception):
    pass


class _BadBody(Exception):
    pass


def _error(status: int, code: str, message: str) -> JsonResponse:
    response = JsonResponse({"error": code, "message": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="relaydesk-mail"'
    return response


def _bearer(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _read_message(request: HttpRequest, limit: int) -> bytes:
    """The raw message from the body, or from the form's file field; _TooLarge above ``limit``."""
    if request.content_type == "multipart/form-data":
        try:
            upload = next((request.FILES.get(name) for name in _FILE_FIELDS if name in request.FILES), None)
        except RequestDataTooBig as error:
            raise _TooLarge from error
        except (MultiPartParserError, SuspiciousOperation) as error:
            raise _BadBody("The form could not be read.") from error
        if not isinstance(upload, UploadedFile):
            raise _BadBody('The form has no file field "message" or "email".')
        if upload.size is not None and upload.size > limit:
            raise _TooLarge
        return upload.read(limit + 1)
    # Read the stream itself: ``request.body`` stops at DATA_UPLOAD_MAX_MEMORY_SIZE, far below a mail.
    return request.read(limit + 1)


@csrf_exempt  # a machine posts here with its bearer secret; there is no session to forge
@require_POST
@transaction.non_atomic_requests  # the row must be committed before the 202, never with the request
def inbound(request: HttpRequest, mailbox_id: int) -> JsonResponse:
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    authorized = webhook_secret_matches(mailbox, _bearer(request))  # constant time, mailbox or not
    if mailbox is None or not authorized:
        return _error(401, "unauthorized", "Unknown mailbox or wrong secret.")
    limit = 2 * settings.MAIL_MAX_BYTES
    too_large = f"The message is larger than {limit} bytes."
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        return _error(400, "bad_request", "The Content-Length header is not a number.")
    if declared > limit:
        return _error(413, "too_large", too_large)
    try:
        raw = _read_message(request, limit)
    except _TooLarge:
        return _error(413, "too_large", too_large)
    except _BadBody as error:
        return _error(400, "bad_request", str(error))
    if len(raw) > limit:
        return _error(413, "too_large", too_large)
    if not raw.strip():
        return _error(400, "empty", "The body is empty: send the raw message.")
    row, created = receive(raw, mailbox=mailbox, source=InboundSource.WEBHOOK)
    return JsonResponse({"id": row.pk, "duplicate": not created}, status=202)
