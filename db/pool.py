"""Connection pools and single connections with the project's type codecs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import msgspec

from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__, "pool.sql")

_encode = msgspec.json.encode
_decode = msgspec.json.decode


def _encode_json(value: Any) -> str:
    return _encode(value).decode()


async def init_connection(conn: Conn) -> None:
    """Register jsonb as msgspec-encoded JSON on a new connection."""
    await conn.set_type_codec(
        "jsonb", encoder=_encode_json, decoder=_decode, schema="pg_catalog", format="text"
    )


async def _keep_session(conn: Conn) -> None:
    """Return a connection to the pool as it is. The service never changes session state
    (no SET, LISTEN or cursors outside a transaction, advisory locks released explicitly),
    so the default reset query would be one wasted round trip per request; asyncpg still
    rolls back a transaction left open."""


# Every statement is prepared once per connection and keyed by tenant and ids passed as
# arrays. PostgreSQL's default would plan array-parameter statements afresh on every call
# (a custom plan, because the generic plan's estimate of ten elements per array looks
# dearer), which costs more than running them; their generic plans are index lookups.
SESSION = {"plan_cache_mode": "force_generic_plan"}


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 20) -> asyncpg.Pool:
    """Create a pool whose connections know the project's codecs."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init_connection,
        reset=_keep_session,
        command_timeout=60,
        server_settings=SESSION,
    )
    assert pool is not None
    return pool


async def connect(dsn: str, *, timeout: float = 60) -> Conn:  # noqa: ASYNC109
    """Open one connection with the project's codecs."""
    conn = await asyncpg.connect(dsn, server_settings=SESSION, timeout=timeout)
    await init_connection(conn)
    return conn


async def ensure_database(maintenance_dsn: str, database: str) -> None:
    """Create ``database`` on the server if it does not exist yet."""
    conn = await asyncpg.connect(maintenance_dsn)
    try:
        exists = await conn.fetchval(sql("database_exists"), database)
        if not exists:
            # CREATE DATABASE takes no parameters; the name is quoted as an identifier.
            quoted = '"' + database.replace('"', '""') + '"'
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f"CREATE DATABASE {quoted}")
    finally:
        await conn.close()


#: What a lost, refused or shutting-down database connection raises: the connection it
#: happened on is of no further use.
CONNECTION_LOST: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
)


@contextlib.asynccontextmanager
async def acquire(pool: asyncpg.Pool, timeout: float | None = None) -> AsyncIterator[Conn]:  # noqa: ASYNC109
    """A pooled connection; one that lost its server while in use is closed, not handed
    to the next caller in whatever state the loss left its protocol, and the pool's other
    connections are renewed as they are next taken."""
    conn = await pool.acquire(timeout=timeout)
    try:
        yield conn
    except CONNECTION_LOST:
        # Closed by the loss itself, the connection may have gone back to the pool already.
        with contextlib.suppress(asyncpg.InterfaceError):
            conn.terminate()
        # The pool's idle connections most likely lost their server too (a restart, a
        # failover): each is replaced when next taken, not found dead by a request.
        await pool.expire_connections()
        raise
    finally:
        await pool.release(conn)
