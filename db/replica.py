"""Reads from a streaming replica that never go behind the caller's own writes.

A read routed here first asks the primary where its WAL stands (one tiny statement), then
reads on the replica once the replica has replayed that far: every write committed before
the read began is visible, whichever API process made it. A replica that is behind by more
than the wait, unreachable, or no longer a standby (promoted) is skipped and the read goes
to the primary, so a replica can only ever take load off the primary, never answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Literal

import asyncpg
import msgspec

from db.pool import CONNECTION_LOST, acquire, create_pool
from db.queries import queries_beside
from db.types import Conn

sql = queries_beside(__file__, "replica.sql")

ServedBy = Literal["replica", "primary"]
_UNUSABLE: tuple[type[Exception], ...] = (*CONNECTION_LOST, asyncpg.PostgresError, TimeoutError)


class ReplicaState(msgspec.Struct, frozen=True):
    """What /readyz reports of the replica."""

    state: Literal["streaming", "unreachable", "not_a_standby"]
    lag_seconds: float | None = None
    lag_bytes: int | None = None


class Reads:
    """Hands out read-only transactions on the replica when it has caught up, else on the
    primary. Without a replica every read goes to the primary."""

    def __init__(
        self,
        primary: asyncpg.Pool,
        replica_dsn: str | None,
        *,
        wait_seconds: float,
        pool_max_size: int,
        retry_seconds: float = 1.0,
    ) -> None:
        self._primary = primary
        self._dsn = replica_dsn
        self._wait = wait_seconds
        self._max_size = pool_max_size
        self._retry = retry_seconds
        self._replica: asyncpg.Pool | None = None
        self._avoid_until = 0.0
        self._opening = asyncio.Lock()
        self.served: dict[ServedBy, int] = {"replica": 0, "primary": 0}

    @property
    def configured(self) -> bool:
        return self._dsn is not None

    async def close(self) -> None:
        if self._replica is not None:
            await self._replica.close()

    async def _open(self, dsn: str) -> asyncpg.Pool:
        """The replica's pool, opened on first use with no connection made ahead: the API
        starts while the replica is away (it is used once it answers)."""
        if self._replica is None:
            async with self._opening:
                if self._replica is None:
                    self._replica = await create_pool(dsn, min_size=0, max_size=self._max_size)
        return self._replica

    async def _pool(self) -> asyncpg.Pool | None:
        if self._dsn is None or time.monotonic() < self._avoid_until:
            return None
        return await self._open(self._dsn)

    def _avoid(self) -> None:
        self._avoid_until = time.monotonic() + self._retry

    async def _position(self) -> str:
        async with acquire(self._primary) as conn:
            position: str = await conn.fetchval(sql("database_wal_position"))
        return position

    async def _caught_up(self, conn: Conn, position: str) -> bool:
        deadline = time.monotonic() + self._wait
        pause = 0.001
        while True:
            replayed = await conn.fetchval(sql("database_replayed_past"), position)
            if replayed is None:  # promoted, or not a standby at all: not ours to read from
                self._avoid()
                return False
            if replayed:
                return True
            if time.monotonic() + pause > deadline:
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[tuple[Conn, ServedBy]]:
        """A read-only transaction that sees every write committed before it began, all
        of it in one snapshot (repeatable read)."""
        async with contextlib.AsyncExitStack() as stack:
            conn, served = await self._choose(stack)
            transaction = conn.transaction(isolation="repeatable_read", readonly=True)
            await transaction.start()
            try:
                yield conn, served
            except BaseException:
                with contextlib.suppress(*CONNECTION_LOST):
                    await transaction.rollback()
                raise
            await transaction.commit()

    async def _choose(self, stack: contextlib.AsyncExitStack) -> tuple[Conn, ServedBy]:
        replica = None
        try:
            replica = await self._pool()
        except _UNUSABLE:
            self._avoid()
        if replica is not None:
            held = contextlib.AsyncExitStack()
            try:
                position = await self._position()
                conn = await held.enter_async_context(acquire(replica, timeout=1))
                if await self._caught_up(conn, position):
                    stack.push_async_exit(held)
                    self.served["replica"] += 1
                    return conn, "replica"
            except _UNUSABLE:
                self._avoid()
            await held.aclose()
        conn = await stack.enter_async_context(acquire(self._primary))
        self.served["primary"] += 1
        return conn, "primary"

    async def state(self) -> ReplicaState | None:
        """The replica's lag behind the primary, in seconds and bytes; None without one."""
        if self._dsn is None:
            return None
        try:
            replica = await self._open(self._dsn)
            async with acquire(replica, timeout=2) as conn:
                row = await conn.fetchrow(sql("database_standby_state"))
            assert row is not None
            if not row["standby"]:
                return ReplicaState("not_a_standby")
            async with acquire(self._primary, timeout=2) as conn:
                distance = await conn.fetchval(
                    sql("database_wal_distance"),
                    await conn.fetchval(sql("database_wal_position")),
                    row["replayed"],
                )
        except _UNUSABLE:
            return ReplicaState("unreachable")
        return ReplicaState("streaming", round(row["lag_seconds"], 3), distance)
