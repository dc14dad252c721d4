"""Turning asyncpg records into typed values, inside the repositories that read them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

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
