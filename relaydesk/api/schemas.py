"""Schemas and field types shared by every part of the API."""

from __future__ import annotations

from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field

# Primary keys are 64-bit; a larger number can never match, so refuse it up front.
MAX_ID = 2**63 - 1


def _storable(value: str) -> str:
    """Refuse text no database column can hold, at the edge instead of failing in the database:
    NUL (PostgreSQL text) and lone surrogates (valid JSON escapes, but not UTF-8)."""
    if "\x00" in value:
        raise ValueError("Text cannot contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Text must be valid Unicode (no lone surrogates).") from None
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ShortText = Annotated[str, Field(max_length=200), AfterValidator(_storable)]
SubjectText = Annotated[str, Field(max_length=1000), AfterValidator(_storable)]
# The action enforces the real message limit; this only stops absurd payloads early.
LongText = Annotated[str, Field(max_length=1_000_000), AfterValidator(_storable)]
EmailText = Annotated[str, Field(max_length=254), AfterValidator(_storable)]
# At most ten characters, as the language columns.
LanguageCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,6})?$")]
TagName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_storable)]
TimeZoneName = Annotated[str, Field(max_length=64, examples=["Europe/Berlin"]), AfterValidator(_storable)]
Cursor = Annotated[str, Field(max_length=500), AfterValidator(_storable)]


class InputSchema(Schema):
    """Base of every request body.

    ``extra="forbid"``: a misspelt field is an error, never silently ignored.
    ``strict``: JSON types must match (``true`` is not priority 1, ``"3"`` is not 3).
    """

    model_config = ConfigDict(extra="forbid", strict=True)


class Ref(Schema):
    id: int
    name: str


class ErrorField(Schema):
    field: str
    message: str


class ErrorDetail(Schema):
    code: str = Field(examples=["validation_error"])
    message: str
    fields: list[ErrorField] = []


class ErrorOut(Schema):
    """The body of every error response."""

    error: ErrorDetail


# Documented on every operation; the handlers in ``errors.py`` produce these bodies.
READ_ERRORS = {frozenset({401, 403, 404, 422}): ErrorOut}
WRITE_ERRORS = {frozenset({401, 403, 404, 409, 422}): ErrorOut}
