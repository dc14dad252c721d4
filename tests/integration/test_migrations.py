"""Migrations: from empty to the schema the code expects, safely and once."""

from __future__ import annotations

import asyncio

import asyncpg

from db.migrate import applied_versions, is_current, load_migrations, migrate
from db.pool import connect
from db.schema import SCHEMA_FILE
from tests.conftest import with_database


async def _empty_database(pg_server: str, name: str) -> str:
    admin = await asyncpg.connect(pg_server)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return with_database(pg_server, name)


async def test_migrations_apply_on_an_empty_database_and_then_do_nothing(pg_server: str) -> None:
    dsn = await _empty_database(pg_server, "rewards_empty_migrate")
    conn = await connect(dsn)
    try:
        assert not await is_current(conn)
        applied = await migrate(conn)
        assert applied == [m.version for m in load_migrations()]
        assert await is_current(conn)
        assert await migrate(conn) == []
    finally:
        await conn.close()


async def test_two_processes_migrating_at_once_apply_each_migration_once(pg_server: str) -> None:
    dsn = await _empty_database(pg_server, "rewards_race_migrate")
    first, second = await connect(dsn), await connect(dsn)
    try:
        results = await asyncio.gather(migrate(first), migrate(second))
        versions = [m.version for m in load_migrations()]
        assert sorted(results[0] + results[1]) == versions
        assert sorted((await applied_versions(first)).keys()) == versions
    finally:
        await first.close()
        await second.close()


async def test_every_table_is_keyed_by_tenant(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch(
        """
        SELECT c.relname AS table_name,
               (SELECT a.attname FROM pg_index i
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                 WHERE i.indrelid = c.oid AND i.indisprimary) AS first_key_column
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
          AND c.relname <> 'schema_migrations'
        """
    )
    assert rows
    assert {r["table_name"]: r["first_key_column"] for r in rows} == {
        r["table_name"]: "tenant_id" for r in rows
    }


async def test_every_unique_key_leads_with_the_tenant_and_every_foreign_key_holds_it(
    conn: asyncpg.Connection,
) -> None:
    """What distributing the tables by tenant (Citus) needs: a unique constraint or index
    can be enforced on one node only if it starts with the distribution column, and a
    foreign key between distributed tables must include it."""
    unique = await conn.fetch(
        """
        SELECT i.indrelid::regclass::text AS tbl, pg_get_indexdef(i.indexrelid) AS def,
               (SELECT a.attname FROM pg_attribute a
                 WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[0]) AS first_column
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relnamespace = 'public'::regnamespace AND i.indisunique
          AND i.indrelid <> 'schema_migrations'::regclass
        """
    )
    assert len(unique) > 20
    assert [r["def"] for r in unique if r["first_column"] != "tenant_id"] == []
    foreign = await conn.fetch(
        """
        SELECT pg_get_constraintdef(k.oid) AS def,
               (SELECT array_agg(a.attname) FROM pg_attribute a
                 WHERE a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)) AS columns
        FROM pg_constraint k
        WHERE k.contype = 'f' AND k.connamespace = 'public'::regnamespace
        """
    )
    assert foreign
    assert [r["def"] for r in foreign if "tenant_id" not in r["columns"]] == []


_DESCRIBE = {
    "columns": """
        SELECT table_name, column_name, data_type, is_nullable, column_default,
               -- the column's place among the table's columns (a dropped column leaves a
               -- gap in ordinal_position that a freshly loaded schema does not have)
               rank() OVER (PARTITION BY table_name ORDER BY ordinal_position) AS place
        FROM information_schema.columns WHERE table_schema = 'public'
        ORDER BY table_name, ordinal_position""",
    "constraints": """
        SELECT c.conrelid::regclass::text AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE n.nspname = 'public' ORDER BY 1, 2""",
    "indexes": """
        SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = 'public' ORDER BY 1, 2""",
    "functions": """
        SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
               p.provolatile, p.prosrc
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' ORDER BY 1, 2""",
    "triggers": """
        SELECT tgrelid::regclass::text AS tbl, tgname, pg_get_triggerdef(t.oid) AS def
        FROM pg_trigger t WHERE NOT tgisinternal ORDER BY 1, 2""",
    "views": """
        SELECT viewname, definition FROM pg_views WHERE schemaname = 'public' ORDER BY 1""",
    "rules": """
        SELECT tablename, rulename, definition FROM pg_rules
        WHERE schemaname = 'public' ORDER BY 1, 2""",
}


async def _describe(dsn: str) -> dict[str, list[tuple[object, ...]]]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            part: [tuple(row.values()) for row in await conn.fetch(query)]
            for part, query in _DESCRIBE.items()
        }
    finally:
        await conn.close()


async def test_schema_sql_is_exactly_what_the_migrations_produce(pg_server: str) -> None:
    migrated = await _empty_database(pg_server, "rewards_schema_migrated")
    conn = await connect(migrated)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    loaded = await _empty_database(pg_server, "rewards_schema_loaded")
    conn = await connect(loaded)
    try:
        await conn.execute(SCHEMA_FILE.read_text())
    finally:
        await conn.close()
    expected, found = await _describe(migrated), await _describe(loaded)
    for part in _DESCRIBE:
        assert found[part] == expected[part], f"db/schema.sql differs in its {part}"
    assert expected["functions"], "nothing was compared"
