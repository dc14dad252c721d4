"""The crash battery: signed single hooks at full speed through `rewards serve --workers 2`
while its API workers, and then PostgreSQL itself (the postmaster and every backend), are
killed with SIGKILL, again and again. Afterwards every hook that was not acknowledged is
sent again; every acknowledged one is sent again too and must be answered byte for byte as
the first time; and the database must hold each transaction once, with a ledger that
balances.

    python -m loadtest.drills.crash                     # long form: 120 s, a kill every 10 s
    python -m loadtest.drills.crash --seconds 20 --every 5

It runs its own PostgreSQL (embedded, in a temporary folder), so that it may kill it.
Printed: sent, acknowledged, lost (acknowledged but not stored: must be 0), applied twice
(must be 0), and how many answers changed on replay (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import msgspec

from db.embedded import EmbeddedPostgres
from db.pool import connect, ensure_database
from loadtest.wire import descendants, free_port
from rewards.core.credentials import hook_signature
from rewards.tenants.service import create_tenant

CALLERS = 16


@dataclass
class Outcome:
    seconds: float = 0
    sent: int = 0
    acknowledged: int = 0
    refused_during_kills: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    api_kills: int = 0
    database_kills: int = 0
    lost: int = 0
    applied_twice: int = 0
    replays: int = 0
    replays_changed: int = 0
    ledger_balanced: bool = False
    ledger_matches_answers: bool = False


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def api_workers(serve_pid: int) -> list[int]:
    """The HTTP worker processes under `rewards serve` (uvicorn's spawned children)."""
    return [p for p in descendants(serve_pid) if "spawn_main" in _cmdline(p)]


def postgres_processes(pgdata: str) -> list[int]:
    """The postmaster of ``pgdata`` and every process under it."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and f"-D {pgdata}" in _cmdline(int(entry.name)):
            postmaster = int(entry.name)
            return [postmaster, *descendants(postmaster)]
    return []


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Load:
    """Callers that send signed purchases, one id each, as fast as answers come."""

    def __init__(self, url: str, tenant_id: str, secret: str) -> None:
        self.url = url
        self.tenant_id = tenant_id
        self.secret = secret
        self.bodies: dict[str, bytes] = {}
        self.answers: dict[str, bytes] = {}
        self.statuses: dict[str, int] = {}
        self.stop = asyncio.Event()
        self.occurred_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    def body(self, tx_id: str, n: int) -> bytes:
        return msgspec.json.encode(
            {
                "id": tx_id,
                "kind": "purchase",
                "member_id": f"m-{n % 200}",
                "amount_minor": 100 + n % 9000,
                "currency": "CNY",
                "mcc": "5812",
                "merchant_id": "crash-shop",
                "channel": "offline",
                "occurred_at": self.occurred_at,
            }
        )

    async def send(self, client: httpx.AsyncClient, tx_id: str) -> int:
        body = self.bodies[tx_id]
        headers = {
            "Content-Type": "application/json",
            "X-Rewards-Tenant": self.tenant_id,
            "X-Rewards-Signature": hook_signature(self.secret, int(time.time()), body),
        }
        try:
            response = await client.post(
                f"{self.url}/v1/hooks/transactions", content=body, headers=headers
            )
        except httpx.HTTPError:
            status = 0  # no answer: the connection broke, or nobody listened
        else:
            status = response.status_code
            if status == 200:
                self.answers.setdefault(tx_id, response.content)
        key = str(status)
        self.statuses[key] = self.statuses.get(key, 0) + 1
        return status

    async def caller(self, n: int) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            sent = 0
            while not self.stop.is_set():
                tx_id = f"crash-{n}-{sent}"
                self.bodies[tx_id] = self.body(tx_id, n * 100_000 + sent)
                if await self.send(client, tx_id) != 200:
                    await asyncio.sleep(0.05)  # a client backs off a little
                sent += 1


async def _ready(url: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError("the service did not become ready")


async def _check_database(dsn: str, tenant_id: str, load: Load, outcome: Outcome) -> None:
    conn = await connect(dsn)
    try:
        stored = [
            r["transaction_id"]
            for r in await conn.fetch(
                "SELECT transaction_id FROM transactions WHERE tenant_id = $1", tenant_id
            )
        ]
        outcome.lost = len(set(load.answers) - set(stored))
        outcome.applied_twice = len(stored) - len(set(stored))
        awarded = sum(
            msgspec.json.decode(answer)["points"]["total"] for answer in load.answers.values()
        )
        in_ledger = await conn.fetchval(
            "SELECT coalesce(sum(amount), 0) FROM postings"
            " WHERE tenant_id = $1 AND account_id LIKE 'member:%'",
            tenant_id,
        )
        # An award applied twice would put more points on the members than were answered.
        outcome.ledger_matches_answers = in_ledger == awarded
        balanced = await conn.fetchval("SELECT coalesce(sum(amount), 0) = 0 FROM postings")
        wrong = await conn.fetchval(
            """
            SELECT count(*) FROM members m
            LEFT JOIN (
                SELECT tenant_id, substr(account_id, 8) AS member_id, sum(amount) AS total
                FROM postings WHERE account_id LIKE 'member:%' GROUP BY 1, 2
            ) p USING (tenant_id, member_id)
            WHERE m.points_balance <> coalesce(p.total, 0)
            """
        )
        outcome.ledger_balanced = bool(balanced) and wrong == 0
    finally:
        await conn.close()


async def run(seconds: float, every: float, folder: Path) -> Outcome:
    outcome = Outcome()
    server = EmbeddedPostgres(folder / "db")
    pgdata = str((folder / "db" / "pgdata").resolve())
    await ensure_database(server.dsn("postgres"), "rewards")
    dsn = server.dsn()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "DATABASE_URL": dsn,
        "REWARDS_ACCESS_LOG": "false",
        "REWARDS_EXPIRY_INTERVAL_SECONDS": "0",
    }
    log = (folder / "serve.log").open("ab")
    serve = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
        stdout=log,
        stderr=log,
        env=env,
    )
    try:
        await _ready(url)
        conn = await connect(dsn)
        async with conn.transaction():
            tenant = await create_tenant(conn, "Crash Bank")
        await conn.close()
        load = Load(url, tenant.tenant_id, tenant.hook_secret)
        callers = [asyncio.create_task(load.caller(n)) for n in range(CALLERS)]
        started = time.monotonic()
        kill_database = False
        while time.monotonic() - started < seconds:
            await asyncio.sleep(every)
            if kill_database:
                _kill(postgres_processes(pgdata))
                outcome.database_kills += 1
                await asyncio.sleep(1)  # down for a moment, as a host that reboots
                await asyncio.to_thread(server.restart)
            else:
                workers = api_workers(serve.pid)
                _kill(workers)
                outcome.api_kills += len(workers)
            kill_database = not kill_database
        await asyncio.sleep(min(every, 3))  # a calm moment before stopping the load
        load.stop.set()
        await asyncio.gather(*callers)
        outcome.seconds = round(time.monotonic() - started, 1)
        outcome.sent = len(load.bodies)
        outcome.acknowledged = len(load.answers)
        outcome.refused_during_kills = outcome.sent - outcome.acknowledged
        first = dict(load.answers)

        await _ready(url)
        async with httpx.AsyncClient(timeout=30) as client:
            # What was not acknowledged is sent again until it is; what was, is answered
            # as it was the first time.
            for tx_id in sorted(set(load.bodies) - set(first)):
                deadline = time.monotonic() + 60
                while await load.send(client, tx_id) != 200:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{tx_id} is never acknowledged")
                    await asyncio.sleep(0.2)
            for tx_id, answer in first.items():
                load.answers.pop(tx_id)
                await load.send(client, tx_id)
                outcome.replays += 1
                outcome.replays_changed += load.answers.get(tx_id) != answer
        outcome.statuses = dict(sorted(load.statuses.items()))
        await _check_database(dsn, tenant.tenant_id, load, outcome)
        return outcome
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(serve.wait(), 30)
        except TimeoutError:
            serve.kill()
            await serve.wait()
        log.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--every", type=float, default=10, help="seconds between kills")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rewards-crash-") as folder:
        outcome = asyncio.run(run(args.seconds, args.every, Path(folder)))
    print(msgspec.json.encode(asdict(outcome)).decode())
    ok = (
        outcome.lost == 0
        and outcome.applied_twice == 0
        and outcome.replays_changed == 0
        and outcome.ledger_balanced
        and outcome.ledger_matches_answers
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
