"""Turning asyncpg records into typed values at the edge of db/."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import asyncpg
import msgspec

T = TypeVar("T")


def one(row: asyncpg.Record | None, kind: type[T]) -> T | None:
    """The record as a ``kind``, or None."""
    if row is None:
        return None
    return msgspec.convert(dict(row.items()), kind, from_attributes=False)


def many(rows: Iterable[asyncpg.Record], kind: type[T]) -> list[T]:
    """Each record as a ``kind``."""
    return [msgspec.convert(dict(row.items()), kind) for row in rows]


def as_dict(row: asyncpg.Record) -> dict[str, Any]:
    """A record as a plain dict."""
    return dict(row.items())
