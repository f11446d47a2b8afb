"""Domain errors raised by actions; the web and API layers turn them into clear responses."""

from __future__ import annotations


class RelaydeskError(Exception):
    """Base of every error an action raises on purpose. Its message is shown to the user."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValidationFailed(RelaydeskError):
    status_code = 422


class PermissionDenied(RelaydeskError):
    status_code = 403


class NotFound(RelaydeskError):
    status_code = 404


class Conflict(RelaydeskError):
    """Someone else changed the object since it was loaded."""

    status_code = 409


class IllegalTransition(RelaydeskError):
    status_code = 409
