"""One JSON error shape for every failure of the API:

    {"error": {"code": "validation_error", "message": "…", "fields": [{"field": "priority", "message": "…"}]}}

Domain errors from actions, request validation, HTTP errors from ninja and anything
unexpected all end up here, so a client has one thing to parse.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from relaydesk.core.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    PermissionDenied,
    RelaydeskError,
    ValidationFailed,
)

logger = logging.getLogger("relaydesk.api")

# Checked in order, so subclasses come before their bases.
ERROR_CODES: tuple[tuple[type[RelaydeskError], str], ...] = (
    (ValidationFailed, "validation_error"),
    (PermissionDenied, "forbidden"),
    (NotFound, "not_found"),
    (IllegalTransition, "illegal_transition"),
    (Conflict, "conflict"),
)
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "rate_limited",
}
# Where ninja says a value came from; the client only needs the field's own name.
_PARAM_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
WHOLE_BODY = "(body)"


@contextmanager
def fields_renamed(names: dict[str, str]) -> Iterator[None]:
    """Name fields in errors raised inside the block as the request body names them.

    Actions speak of model fields ("team"); a body sends ids ("team_id"). Query
    parameters keep the action's names, so this is per endpoint, not global.
    """
    try:
        yield
    except RelaydeskError as exc:
        if exc.field in names:
            exc.field = names[exc.field]
        raise


def error_body(code: str, message: str, fields: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": list(fields)}}


def _field_from_loc(loc: Sequence[Any], body_params: set[str]) -> str:
    parts = list(loc)
    if parts and parts[0] in _PARAM_SOURCES:
        source = parts.pop(0)
        # A JSON body is one parameter named in the endpoint signature ("payload"); its
        # fields are what the client knows.
        if source == "body" and parts and parts[0] in body_params:
            parts.pop(0)
    # Nothing left: the body as a whole is wrong (not an object, say). "body" alone would
    # read as the ticket field of that name.
    return ".".join(str(part) for part in parts) or WHOLE_BODY


def _message_for(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "Unknown field."
    if kind == "missing":
        return "This field is required."
    if kind in {"model_attributes_type", "dict_type", "model_type"}:
        return "Expected a JSON object."
    # Our own validators raise ValueError; pydantic prefixes their text with "Value error, ".
    return str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")


def install_error_handlers(api: NinjaAPI, *, body_params: set[str]) -> None:
    """Register the handlers on ``api``; ``body_params`` are the names endpoints give their body."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    def relaydesk_error(request: HttpRequest, exc: RelaydeskError) -> HttpResponse:
        code = next((code for cls, code in ERROR_CODES if isinstance(exc, cls)), "bad_request")
        fields = []
        if exc.field:
            fields.append({"field": exc.field, "message": exc.message})
        return respond(request, exc.status_code, error_body(code, exc.message, fields))

    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        fields = [
            {"field": _field_from_loc(error.get("loc", ()), body_params), "message": _message_for(error)}
            for error in exc.errors
        ]
        names = ", ".join(dict.fromkeys(f["field"] for f in fields))
        return respond(request, 422, error_body("validation_error", f"Invalid input: {names}.", fields))

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        message = str(exc)
        fields = []
        if isinstance(exc, AuthenticationError) and message == "Unauthorized":
            message = "Sign in, or send a personal API token as 'Authorization: Bearer rd_…'."
        elif message.startswith("Cannot parse request body"):
            message = "The request body is not valid JSON."
            fields.append({"field": WHOLE_BODY, "message": message})
        code = HTTP_CODES.get(exc.status_code, "error")
        response = respond(request, exc.status_code, error_body(code, message, fields))
        if exc.status_code == 401:
            response["WWW-Authenticate"] = 'Bearer realm="relaydesk"'
        return response

    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body("not_found", "Not found."))

    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return respond(request, 413, error_body("payload_too_large", "The request body is too large."))

    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        return respond(request, 400, error_body("bad_request", "The request could not be understood."))

    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A bug, not the client's fault: log everything, tell the client nothing internal.
        logger.exception("Unhandled error in %s %s", request.method, request.path)
        return respond(
            request, 500, error_body("server_error", "Something went wrong on our side; it has been logged.")
        )

    api.add_exception_handler(RelaydeskError, relaydesk_error)  # type: ignore[arg-type]
    api.add_exception_handler(ValidationError, validation_error)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, http_error)  # type: ignore[arg-type]
    api.add_exception_handler(Http404, not_found)  # type: ignore[arg-type]
    api.add_exception_handler(RequestDataTooBig, too_big)  # type: ignore[arg-type]
    api.add_exception_handler(SuspiciousOperation, suspicious)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, unexpected)  # type: ignore[arg-type]
