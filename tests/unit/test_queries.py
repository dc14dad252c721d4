"""Named queries: the loader, and that every name the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from db.queries import QUERIES, UnknownQuery, parse_queries, sql

ROOT = Path(__file__).resolve().parents[2]


def test_named_blocks_are_split_by_name() -> None:
    text = "-- name: a\nSELECT 1;\n\n-- name: b\n-- a comment\nSELECT 2;\n"
    assert parse_queries(text, "x.sql") == {"a": "SELECT 1;", "b": "-- a comment\nSELECT 2;"}


def test_a_name_defined_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;", "x.sql")


def test_an_unknown_name_is_a_typed_error() -> None:
    with pytest.raises(UnknownQuery):
        sql("no_such_query")


def test_every_query_name_used_by_the_code_exists() -> None:
    used: set[str] = set()
    for package in ("api", "db", "rewards", "offers"):
        for path in (ROOT / package).rglob("*.py"):
            used.update(re.findall(r"\bsql\(\s*\"([a-z0-9_]+)\"", path.read_text()))
    assert used, "no sql(...) calls found"
    assert sorted(used - QUERIES.keys()) == []


def test_every_query_filters_by_tenant_except_the_migration_bookkeeping() -> None:
    exempt = {name for name in QUERIES if name.startswith(("migrations_", "database_", "job_"))}
    missing = [
        name for name, text in QUERIES.items() if name not in exempt and "tenant_id" not in text
    ]
    assert missing == []


def test_no_sql_is_written_in_the_api_package() -> None:
    for path in (ROOT / "api").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b", text), path
