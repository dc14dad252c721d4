"""Opaque keyset cursors for list endpoints."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.params import QueryParameter

from rewards.core.errors import ValidationFailed

K = TypeVar("K", str, int)

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Page size (default 50, max 500).")]
CursorParam = Annotated[
    str | None,
    QueryParameter(
        description="Opaque cursor from next_cursor of the previous page.",
        pattern=r"^[A-Za-z0-9_-]{1,512}(?!\n)$",
    ),
]


def encode_cursor(key: str | int) -> str:
    """An opaque cursor for the key of the last item of a page."""
    return base64.urlsafe_b64encode(msgspec.json.encode([key])).rstrip(b"=").decode()


def decode_cursor(cursor: str | None, kind: type[K]) -> K | None:
    """The key a cursor stands for; a cursor that is not one of ours is a 422."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        keys = msgspec.json.decode(raw, type=list[Any])
    except (binascii.Error, ValueError, msgspec.DecodeError):
        keys = []
    if len(keys) != 1 or type(keys[0]) is not kind:
        raise ValidationFailed(
            "cursor is not valid", errors=[("cursor", "not a cursor from this list")]
        )
    key: K = keys[0]
    return key


def next_cursor(keys: list[str] | list[int], limit: int) -> str | None:
    """The cursor of the next page: present only when the page is full."""
    return encode_cursor(keys[-1]) if len(keys) == limit and keys else None


_RFC3339 = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})(?!\n)$"
)


def moment_param(name: str) -> Any:
    """A query parameter holding an RFC 3339 time with its offset, read by :func:`moment`
    (the framework would also take a bare number of seconds)."""
    return QueryParameter(name=name, pattern=_RFC3339, schema_extra={"format": "date-time"})


def moment(name: str, text: str | None) -> datetime | None:
    """The time ``text`` names; one that does not exist (a 30 February) is a 422."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.upper().replace(" ", "T"))
        value.astimezone(UTC)
        return value
    except (ValueError, OverflowError):
        raise ValidationFailed(
            f"{name} is not a time", errors=[(name, "RFC 3339 with an offset")]
        ) from None


def time_cursor_key(at: datetime, key: str) -> str:
    """The key of an item of a list ordered by (moment, id): what :func:`time_key` reads."""
    return f"{at.isoformat()}|{key}"


def time_key(cursor: str | None) -> tuple[datetime, str] | None:
    """The (moment, id) a newest-first cursor stands for."""
    if cursor is None:
        return None
    at, _, key = cursor.partition("|")
    try:
        return datetime.fromisoformat(at), key
    except ValueError:
        raise ValidationFailed(
            "cursor is not valid", errors=[("cursor", "not a cursor from this list")]
        ) from None
