"""Operations endpoints: liveness, readiness."""

from __future__ import annotations

import asyncpg
import msgspec
from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec

from api.dto.ops import Health, Readiness, ReplicaOut
from db.migrate import is_current
from db.pool import CONNECTION_LOST, acquire
from db.replica import Reads

_NOT_READY: tuple[type[Exception], ...] = (*CONNECTION_LOST, asyncpg.PostgresError, TimeoutError)


class OpsController(Controller):
    """Probes for orchestrators."""

    tags = ["operations"]  # noqa: RUF012

    @get("/healthz", summary="The process is up", cache=False)
    async def healthz(self) -> Health:
        return Health("ok")

    @get(
        "/readyz",
        summary="The database is reachable and migrations are current",
        responses={
            503: ResponseSpec(
                Readiness, description="Not ready: the database is away or not migrated"
            )
        },
    )
    async def readyz(self, state: State) -> Response[Readiness]:
        pool: asyncpg.Pool = state.pool
        try:
            async with acquire(pool, timeout=2) as conn:
                current = await is_current(conn)
        except _NOT_READY:
            return Response(Readiness("not_ready", False, False), status_code=503)
        if not current:
            return Response(Readiness("not_ready", True, False), status_code=503)
        # The replica's state is reported, not required: reads go to the primary without it.
        reads: Reads = state.reads
        replica = await reads.state()
        if replica is None:
            return Response(Readiness("ready", True, True))
        shown = ReplicaOut(**msgspec.structs.asdict(replica))
        return Response(Readiness("ready", True, True, shown))
