"""The email parts of the ticket page: the original HTML in a sandboxed frame, the raw message, followers."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from relaydesk.core.errors import NotFound, RelaydeskError
from relaydesk.core.parsing import parse_id
from relaydesk.mail.display import frame_document, inline_images, resolve_cids
from relaydesk.mail.followers import check_add_follower, check_remove_follower
from relaydesk.mail.models import InboundEmail, MessageHeader
from relaydesk.tickets.access import access_message, access_ticket
from relaydesk.tickets.models import Message
from relaydesk.web.htmx import acting_user, is_htmx, staff_required


def _message(request: HttpRequest, ticket_id: int, message_id: int) -> Message:
    try:
        return access_message(acting_user(request), ticket_id, message_id)
    except NotFound:
        raise Http404 from None


@staff_required
def original(request: HttpRequest, ticket_id: int, message_id: int) -> HttpResponse:
    """The message as the customer's mail client would show it, inside a sandboxed frame."""
    message = _message(request, ticket_id, message_id)
    header = MessageHeader.objects.filter(message=message).first()
    if header is None or not header.original_html:
        raise Http404("This message has no original HTML.")
    remote_images = request.GET.get("images") == "1"
    body = resolve_cids(header.original_html, inline_images(message.attachments.filter(is_inline=True)))
    context = {
        "ticket_id": ticket_id,
        "message": message,
        "header": header,
        "srcdoc": frame_document(body, remote_images=remote_images),
        "remote_images": remote_images,
        "height": min(900, 160 + header.original_html.count("<p") * 28 + len(header.original_html) // 40),
    }
    return render(request, "mail/_original_frame.html", context)


@staff_required
def raw(request: HttpRequest, ticket_id: int, message_id: int) -> HttpResponse:
    """The raw message as received (.eml), as a download; only for someone who may see the ticket."""
    message = _message(request, ticket_id, message_id)
    inbound = InboundEmail.objects.filter(message=message).only("raw", "pk").first()
    if inbound is None:
        raise Http404("This message did not arrive by email.")
    response = HttpResponse(bytes(inbound.raw), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="ticket-{ticket_id}-message-{message.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _followers_response(
    request: HttpRequest, ticket_id: int, *, error: str = "", status: int = 200
) -> HttpResponse:
    if not is_htmx(request):
        return redirect("tickets:detail", ticket_id)
    try:
        ticket = access_ticket(acting_user(request), ticket_id)
    except NotFound:
        raise Http404 from None
    return render(
        request, "mail/_followers.html", {"ticket": ticket, "followers_error": error}, status=status
    )


@staff_required
@require_POST
def follower_add(request: HttpRequest, ticket_id: int) -> HttpResponse:
    try:
        check_add_follower(
            acting_user(request),
            ticket_id,
            address=request.POST.get("address", ""),
            name=request.POST.get("name", ""),
        )
    except NotFound:
        raise Http404 from None
    except RelaydeskError as exc:
        return _followers_response(request, ticket_id, error=exc.message, status=exc.status_code)
    return _followers_response(request, ticket_id)


@staff_required
@require_POST
def follower_remove(request: HttpRequest, ticket_id: int) -> HttpResponse:
    follower_id = parse_id(request.POST.get("follower", ""))
    try:
        if follower_id is None:
            raise NotFound("That person is not copied on this ticket.")
        check_remove_follower(acting_user(request), ticket_id, follower_id)
    except NotFound:
        raise Http404 from None
    except RelaydeskError as exc:
        return _followers_response(request, ticket_id, error=exc.message, status=exc.status_code)
    return _followers_response(request, ticket_id)
