"""Attachment downloads: served only to someone who may see the attachment's ticket."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponseBase

from relaydesk.core.errors import NotFound
from relaydesk.tickets.access import access_attachment
from relaydesk.web.htmx import acting_user, staff_required


@staff_required
def download(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    try:
        attachment = access_attachment(acting_user(request), attachment_id)
    except NotFound:
        raise Http404 from None
    # Always a download, never rendered inline: an uploaded HTML or SVG file must not run in our origin.
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.filename,
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
