"""Parsing numbers out of untrusted text (query strings, form fields)."""

from __future__ import annotations

# Ids and versions are 64-bit signed integers in the database.
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """A positive database-sized integer from ``value``, or None.

    ``str.isdigit()`` alone is not enough: it accepts "²" and "٣", which ``int()`` either
    refuses or turns into numbers nobody typed, and huge numbers overflow the database.
    """
    text = str(value or "").strip()
    if not text or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def without_nul(value: str) -> str:
    """PostgreSQL text cannot hold NUL; input from forms and query strings can."""
    return (value or "").replace("\x00", "")
