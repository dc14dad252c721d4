"""Baseline (b): a bare Litestar endpoint doing the minimal SQL of one award through
asyncpg in one transaction — what the engine's single hook is compared against; and (c) one
indexed read, the floor of any endpoint that reads the database once per request."""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import msgspec
from litestar import Litestar, get, post

from db.queries import parse_queries

SQL = parse_queries((Path(__file__).parent / "baseline.sql").read_text(), "baseline.sql")


class Award(msgspec.Struct):
    member: int
    amount: int


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
    app.state.pool = await asyncpg.create_pool(os.environ["DATABASE_URL"], min_size=4, max_size=20)
    try:
        yield
    finally:
        await app.state.pool.close()


@post("/award", status_code=200)
async def award(data: Award) -> dict[str, int]:
    pool: asyncpg.Pool = app.state.pool
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(SQL["baseline_award"], f"member:{data.member}", data.amount)
    return {"member": data.member, "amount": data.amount}


@get("/balance/{member:int}")
async def balance(member: int) -> dict[str, int]:
    pool: asyncpg.Pool = app.state.pool
    async with pool.acquire() as conn:
        found: int = await conn.fetchval(SQL["baseline_balance"], f"member:{member}")
    return {"member": member, "balance": found}


app = Litestar([award, balance], lifespan=[lifespan], logging_config=None)
