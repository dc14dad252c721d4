"""Request-scoped dependencies: one connection and one transaction per use case."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Annotated, Any, TypeAlias

import asyncpg
from litestar import Request
from litestar.datastructures import State
from litestar.di import Dependency, Provide
from litestar.params import SkipValidationMarker

from api.auth import caller_of
from db.pool import CONNECTION_LOST, acquire
from db.replica import Reads
from db.types import Conn
from rewards import metrics

# The request's connection, injected by name; it is a live object, not input to validate.
DbConn: TypeAlias = Annotated[Conn, Dependency(kind="named"), SkipValidationMarker()]


async def provide_transaction(state: State) -> AsyncGenerator[Conn, None]:
    """A pooled connection inside a transaction: committed when the handler returns,
    rolled back when it raises."""
    pool: asyncpg.Pool = state.pool
    async with acquire(pool) as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            yield conn
        except BaseException:
            # A connection that was lost has no transaction left to roll back: the handler's
            # own error is the one to answer with.
            with contextlib.suppress(*CONNECTION_LOST):
                await transaction.rollback()
            raise
        await transaction.commit()


async def provide_connection(state: State) -> AsyncGenerator[Conn, None]:
    """A pooled connection with no transaction around it, for a use case that reads with a
    single statement or opens its own transactions (injected as ``plain_conn``)."""
    pool: asyncpg.Pool = state.pool
    async with acquire(pool) as conn:
        yield conn


async def provide_read(state: State) -> AsyncGenerator[Conn, None]:
    """A read-only transaction for reads that may be served by the streaming replica
    (injected as ``read_conn``): it sees every write committed before the request began,
    whichever process made it (``db/replica.py``)."""
    reads: Reads = state.reads
    async with reads.transaction() as (conn, served):
        metrics.REPLICA_READS.labels(served).inc()
        yield conn


async def provide_caller(request: Request[Any, Any, Any]) -> Any:
    """Who the route's guard authenticated."""
    return caller_of(request)


DEPENDENCIES = {
    "conn": Provide(provide_transaction),
    "plain_conn": Provide(provide_connection),
    "read_conn": Provide(provide_read),
    "caller": Provide(provide_caller),
}
