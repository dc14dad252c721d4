"""Test harness: one PostgreSQL server per session (embedded unless DATABASE_URL is set),
a migrated template database, and a fresh clone of it for every test."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.pool import connect


def with_database(dsn: str, database: str) -> str:
    """The same server URL, naming another database."""
    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A URL of the server's maintenance database."""
    url = os.environ.get("DATABASE_URL")
    if url:
        yield with_database(url, "postgres")
        return
    # Not under pytest's basetemp: pytest prunes old basetemps, which would pull the data
    # folder from under a live server if another pytest run starts meanwhile.
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="rewards-test-pg-")), delete=True)
    try:
        yield server.dsn("postgres")
    finally:
        server.stop()


@pytest.fixture(scope="session")
async def template_db(pg_server: str) -> AsyncIterator[str]:
    """A database with every migration applied, cloned by each test."""
    name = f"rewards_tpl_{os.getpid()}"
    admin = await asyncpg.connect(pg_server)
    if not os.environ.get("DATABASE_URL"):
        # The tests' own server does not fsync: a killed process (postgres included, as the
        # crash tests kill it) loses nothing by it, since every commit is written to the
        # kernel before it is acknowledged; only the machine itself crashing would. Each
        # test's database is then cloned in a tenth of the time.
        await admin.execute("ALTER SYSTEM SET fsync = off")
        await admin.execute("SELECT pg_reload_conf()")
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    await admin.execute(f'CREATE DATABASE "{name}"')
    conn = await connect(with_database(pg_server, name))
    await migrate(conn)
    await conn.close()
    try:
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def database(pg_server: str, template_db: str) -> AsyncIterator[str]:
    """URL of a fresh database cloned from the migrated template."""
    name = f"rewards_t_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(pg_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"')
        yield with_database(pg_server, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def conn(database: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test's database (for setup and invariant checks)."""
    connection = await connect(database)
    try:
        yield connection
    finally:
        await connection.close()
