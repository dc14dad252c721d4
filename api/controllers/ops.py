"""Operations endpoints: liveness, readiness."""

from __future__ import annotations

import asyncpg
from litestar import Controller, Response, get
from litestar.datastructures import State

from api.dto.ops import Health, Readiness
from db.migrate import is_current


class OpsController(Controller):
    """Probes for orchestrators."""

    tags = ["operations"]  # noqa: RUF012

    @get("/healthz", summary="The process is up", cache=False)
    async def healthz(self) -> Health:
        return Health("ok")

    @get("/readyz", summary="The database is reachable and migrations are current")
    async def readyz(self, state: State) -> Response[Readiness]:
        pool: asyncpg.Pool = state.pool
        try:
            async with pool.acquire(timeout=2) as conn:
                current = await is_current(conn)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return Response(Readiness("not_ready", False, False), status_code=503)
        if not current:
            return Response(Readiness("not_ready", True, False), status_code=503)
        return Response(Readiness("ready", True, True))
