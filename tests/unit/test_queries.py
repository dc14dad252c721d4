"""Named queries: the loader, and that each module's .sql file holds exactly what it runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from db.queries import Queries, UnknownQuery, parse_queries

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "db", "rewards", "offers")
_BESIDE = re.compile(r'queries_beside\(__file__(?:,\s*"(?P<file>[^"]+)")?\)')


def test_named_blocks_are_split_by_name() -> None:
    text = "-- name: a\nSELECT 1;\n\n-- name: b\n-- a comment\nSELECT 2;\n"
    assert parse_queries(text, "x.sql") == {"a": "SELECT 1;", "b": "-- a comment\nSELECT 2;"}


def test_a_name_defined_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="twice"):
        parse_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;", "x.sql")


def test_an_unknown_name_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "queries.sql").write_text("-- name: a\nSELECT 1;\n")
    with pytest.raises(UnknownQuery, match="no_such_query"):
        Queries(tmp_path / "queries.sql")("no_such_query")


def _modules_with_sql() -> dict[Path, Path]:
    """Each module that runs named queries, and the .sql file it loads."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            match = _BESIDE.search(path.read_text())
            if match and path != ROOT / "db" / "queries.py":
                found[path] = path.with_name(match["file"] or "queries.sql")
    return found


def test_each_sql_file_belongs_to_the_one_module_that_runs_it() -> None:
    modules = _modules_with_sql()
    assert len(modules) >= 10
    sql_files = {p for package in PACKAGES for p in (ROOT / package).rglob("*.sql")}
    migrations = {p for p in sql_files if p.parent.name == "migrations"}
    schema = {ROOT / "db" / "schema.sql"}
    assert sorted(sql_files - migrations - schema) == sorted(modules.values())
    for module, sql_file in modules.items():
        text = module.read_text()
        called = set(re.findall(r"\bsql\(\s*\"([a-z0-9_]+)\"", text))
        named = set(re.findall(r"\"([a-z0-9_]+)\"", text))  # also names chosen at run time
        defined = set(Queries(sql_file).by_name)
        assert sorted(called - defined) == [], module
        assert sorted(defined - named) == [], f"{sql_file} holds queries {module.name} never runs"


def test_every_query_filters_by_tenant_except_the_bookkeeping_of_db_and_the_job() -> None:
    for module, sql_file in _modules_with_sql().items():
        if module.parent.name == "db" or module.parent.name == "housekeeping":
            continue
        for name, text in Queries(sql_file).by_name.items():
            if name.startswith(("database_", "job_")) or "all tenants" in text:
                continue
            assert "tenant_id" in text, (sql_file, name)


def test_no_sql_is_written_in_the_api_package() -> None:
    for path in (ROOT / "api").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b", text), path
