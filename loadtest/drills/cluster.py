"""Past one machine, on one machine: API hosts behind haproxy, a PostgreSQL primary with a
synchronous streaming replica, each host in a network namespace of its own, and drills.

    sudo python -m loadtest.drills.cluster [--seconds 12] [--clients 12] [--apis 2]

Topology (10.77.0.0/24 on a bridge this script creates, and removes at the end):

    root namespace  10.77.0.1   load driver (signed hooks, mobile reads), webhook receiver
    rw-lb           10.77.0.2   haproxy :8080, health checks GET /readyz every 0.5 s
    rw-api1..3      10.77.0.21… rewards serve --workers 2 :8000
    rw-db1          10.77.0.11  PostgreSQL primary (synchronous_standby_names = replica1)
    rw-db2          10.77.0.12  PostgreSQL streaming replica (pg_basebackup), hot standby

The API hosts reach the database by DATABASE_URL with both database hosts and
target_session_attrs=read-write, and read lag-tolerant data from DATABASE_REPLICA_URL.

Drills, under load (callers retry an unanswered hook with the same transaction id):

1. kill -9 of every process of one API host: haproxy routes around it;
2. kill -9 of the primary, then the replica promoted (pg_ctl promote): every acknowledged
   award is on the new primary, the API hosts reconnect by themselves; the longest run of
   failed answers is the failover time;
3. outbound events: the receiver is down across the failover, then back; every event of
   an acknowledged award arrives.

Each drill prints sent, acknowledged, lost and applied twice (the last two must be 0).
Only addresses this script created are ever targeted; everything is torn down at the end,
also after a failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec

from db.embedded import binary
from db.queries import parse_queries
from loadtest.machine import describe
from rewards.core.credentials import hook_signature

SQL = parse_queries((Path(__file__).parent / "cluster.sql").read_text(), "cluster.sql")
NET = "10.77.0"
BRIDGE = "rwbr0"
LB = f"{NET}.2"
DB = {"db1": f"{NET}.11", "db2": f"{NET}.12"}
API_PORT = 8000
LB_PORT = 8080
RECEIVER_PORT = 9100
DB_USER = "embedded_postgres"


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def in_ns(ns: str, *args: str) -> list[str]:
    return ["ip", "netns", "exec", f"rw-{ns}", *args]


# --- the network ---------------------------------------------------------------------------


class Network:
    """A bridge in the root namespace and one namespace per host, joined by veth pairs."""

    def __init__(self, hosts: dict[str, str]) -> None:
        self.hosts = hosts

    def up(self) -> None:
        taken = sh("ip", "-o", "addr").stdout
        if f" {NET}." in taken or f"rw-{next(iter(self.hosts))}" in sh("ip", "netns").stdout:
            raise SystemExit(f"{NET}.0/24 or the rw-* namespaces are in use: not touching them")
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", f"{NET}.1/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for name, address in self.hosts.items():
            ns = f"rw-{name}"
            sh("ip", "netns", "add", ns)
            sh(
                "ip",
                "link",
                "add",
                f"rwv-{name}",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
            )
            sh("ip", "link", "set", f"rwv-{name}", "master", BRIDGE, "up")
            sh("ip", "-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")

    def kill_all(self, name: str) -> list[int]:
        """kill -9 every process in a host's namespace."""
        pids = [int(p) for p in sh("ip", "netns", "pids", f"rw-{name}", check=False).stdout.split()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def down(self) -> None:
        for name in self.hosts:
            self.kill_all(name)
        time.sleep(0.3)
        for name in self.hosts:
            sh("ip", "netns", "del", f"rw-{name}", check=False)
            sh("ip", "link", "del", f"rwv-{name}", check=False)
        sh("ip", "link", "del", BRIDGE, check=False)


# --- PostgreSQL ----------------------------------------------------------------------------


def _as_db_user(*args: str) -> list[str]:
    return ["runuser", "-u", DB_USER, "--", *args]


class Database:
    """The primary and its synchronous standby, from the embedded server's binaries."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = {name: folder / name for name in DB}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            entry = pwd.getpwnam(DB_USER)
        except KeyError:  # PostgreSQL will not run as root
            sh("useradd", "--system", "--no-create-home", DB_USER)
            entry = pwd.getpwnam(DB_USER)
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, entry.pw_uid, entry.pw_gid)

    def _start(self, name: str) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            in_ns(
                name,
                *_as_db_user(
                    binary("postgres"),
                    "-D",
                    str(self.data[name]),
                    "-c",
                    f"listen_addresses={DB[name]}",
                    "-c",
                    f"unix_socket_directories={self.data[name]}",
                ),
            ),
            stdout=log,
            stderr=log,
        )

    def create(self) -> None:
        primary = self.data["db1"]
        sh(*_as_db_user(binary("initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust"))
        with (primary / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                "wal_level = replica\nmax_wal_senders = 5\nhot_standby = on\n"
                "synchronous_standby_names = 'replica1'\nsynchronous_commit = on\n"
                "max_connections = 300\nshared_buffers = 256MB\n"
                "wal_sender_timeout = 5s\nwal_receiver_timeout = 5s\n"
            )
        with (primary / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {NET}.0/24 trust\nhost replication all {NET}.0/24 trust\n")
        self._start("db1")
        self.wait_ready("db1")
        sh(
            *in_ns(
                "db2",
                *_as_db_user(
                    binary("pg_basebackup"),
                    "-D",
                    str(self.data["db2"]),
                    "-d",
                    f"host={DB['db1']} user=postgres application_name=replica1",
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                ),
            )
        )
        # The primary keeps its socket in its data folder: the copy has its lock file.
        for lock in self.data["db2"].glob(".s.PGSQL.*"):
            lock.unlink()
        # Promoted, the standby is a primary with no standby of its own: it must not wait
        # for one at every commit (the copy of the primary's settings would make it).
        with (self.data["db2"] / "postgresql.auto.conf").open("a") as conf:
            conf.write("synchronous_standby_names = ''\n")
        self._start("db2")
        self.wait_ready("db2")

    def wait_ready(self, name: str, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while sh(binary("pg_isready"), "-h", DB[name], "-q", check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start (see {self.folder / name}.log)")
            time.sleep(0.1)

    def promote(self, name: str) -> None:
        sh(
            *in_ns(
                name, *_as_db_user(binary("pg_ctl"), "-D", str(self.data[name]), "-w", "promote")
            )
        )


def dsn(host: str, database: str = "rewards", **query: str) -> str:
    tail = "&".join(f"{k}={v}" for k, v in query.items())
    return f"postgresql://postgres@{host}/{database}" + (f"?{tail}" if tail else "")


PRIMARY_ANYWHERE = dsn(
    ",".join(f"{a}:5432" for a in DB.values()), target_session_attrs="read-write"
)


# --- the API hosts and haproxy ---------------------------------------------------------------


def api_env() -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": PRIMARY_ANYWHERE,
        "DATABASE_REPLICA_URL": dsn(f"{DB['db2']}:5432"),
        "REWARDS_WEBHOOK_ALLOW_PRIVATE": "1",
        "REWARDS_WEBHOOK_RETRY_BASE_SECONDS": "0.5",
        "REWARDS_ACCESS_LOG": "0",
        "REWARDS_POOL_MAX_SIZE": "20",
        "REWARDS_LOG_LEVEL": "WARNING",
    }


def start_api(name: str, address: str, folder: Path) -> subprocess.Popen[bytes]:
    log = (folder / f"{name}.log").open("ab")
    return subprocess.Popen(
        in_ns(
            name,
            sys.executable,
            "-m",
            "api.cli",
            "serve",
            "--host",
            address,
            "--port",
            str(API_PORT),
            "--workers",
            "2",
        ),
        stdout=log,
        stderr=log,
        env=api_env(),
    )


def haproxy_config(apis: dict[str, str]) -> str:
    servers = "\n".join(f"  server {n} {a}:{API_PORT} check" for n, a in apis.items())
    return f"""global
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout http-request 10s
  retries 2
  option redispatch
  retry-on conn-failure
frontend api
  bind {LB}:{LB_PORT}
  default_backend apis
backend apis
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 500ms fastinter 250ms fall 2 rise 2
{servers}
"""


def start_haproxy(apis: dict[str, str], folder: Path) -> subprocess.Popen[bytes]:
    (folder / "haproxy.cfg").write_text(haproxy_config(apis))
    return subprocess.Popen(
        in_ns("lb", "haproxy", "-f", str(folder / "haproxy.cfg"), "-db"),
        stdout=subprocess.DEVNULL,
        stderr=(folder / "haproxy.log").open("ab"),
    )


def start_receiver() -> subprocess.Popen[bytes]:
    """The webhook receiver (loadtest/drills/event_receiver.py) on the bridge's own address."""
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import uvicorn; from loadtest.drills.event_receiver import app; "
            f"uvicorn.run(app, host='{NET}.1', port={RECEIVER_PORT}, log_level='warning')",
        ],
    )


# --- the load ------------------------------------------------------------------------------


@dataclass
class Counts:
    sent: int = 0
    acknowledged: int = 0
    attempts: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    timeline: list[tuple[float, int]] = field(default_factory=list)  # (answered at, status)
    reads: int = 0
    reads_failed: int = 0

    def longest_gap(self) -> float:
        """The longest time between two successful answers (any caller): how long the
        service as a whole gave no award."""
        ok = sorted(t for t, status in self.timeline if status == 200)
        return max((b - a for a, b in itertools.pairwise(ok)), default=0.0)

    def error_window(self) -> float:
        """From the first to the last answer that was not a success."""
        bad = sorted(t for t, status in self.timeline if status != 200)
        return bad[-1] - bad[0] if bad else 0.0


class Load:
    """Callers sending signed purchases through haproxy; an unanswered one is sent again
    with the same transaction id until it is answered 200."""

    def __init__(self, url: str, tenant_id: str, secret: str, prefix: str) -> None:
        self.url, self.tenant_id, self.secret, self.prefix = url, tenant_id, secret, prefix
        self.counts = Counts()
        self.answers: dict[str, dict[str, Any]] = {}
        self.stop = asyncio.Event()
        self.occurred_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()

    def body(self, tx_id: str, n: int) -> bytes:
        return msgspec.json.encode(
            {
                "id": tx_id,
                "kind": "purchase",
                "member_id": f"m-{n % 500}",
                "amount_minor": 1000 + n % 9000,
                "currency": "CNY",
                "mcc": "5812",
                "merchant_id": "drill-shop",
                "channel": "offline",
                "occurred_at": self.occurred_at,
            }
        )

    async def _until_answered(self, client: httpx.AsyncClient, tx_id: str, body: bytes) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            headers = {
                "Content-Type": "application/json",
                "X-Rewards-Tenant": self.tenant_id,
                "X-Rewards-Signature": hook_signature(self.secret, int(time.time()), body),
            }
            self.counts.attempts += 1
            try:
                response = await client.post(
                    f"{self.url}/v1/hooks/transactions", content=body, headers=headers
                )
                status = response.status_code
            except httpx.HTTPError:
                status = 0
            key = str(status)
            self.counts.statuses[key] = self.counts.statuses.get(key, 0) + 1
            self.counts.timeline.append((time.monotonic(), status))
            if status == 200:
                self.answers[tx_id] = response.json()
                self.counts.acknowledged += 1
                return
            await asyncio.sleep(0.05)

    async def caller(self, n: int) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            sent = 0
            while not self.stop.is_set():
                tx_id = f"{self.prefix}-{n}-{sent}"
                self.counts.sent += 1
                await self._until_answered(client, tx_id, self.body(tx_id, n * 100_000 + sent))
                sent += 1

    async def reader(self, n: int, member_token: str) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            while not self.stop.is_set():
                try:
                    r = await client.get(
                        f"{self.url}/v1/me/activity",
                        headers={"Authorization": f"Bearer {member_token}"},
                    )
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                self.counts.reads += 1
                self.counts.reads_failed += not ok
                await asyncio.sleep(0.05)


async def check(primary: str, load: Load) -> dict[str, Any]:
    """Lost: acknowledged but not on the (new) primary. Applied twice: a transaction whose
    points reached its member more than the answer said."""
    conn = await asyncpg.connect(primary)
    try:
        in_ledger = {
            r["transaction_id"]: r["points"]
            for r in await conn.fetch(
                SQL["drill_points_by_transaction"], load.tenant_id, f"{load.prefix}-%"
            )
        }
        stored = {
            r["transaction_id"]
            for r in await conn.fetch(SQL["drill_transactions"], load.tenant_id, f"{load.prefix}-%")
        }
        balanced = await conn.fetchval(SQL["drill_postings_balance"], load.tenant_id)
    finally:
        await conn.close()
    twice = sum(
        1 for tx, answer in load.answers.items() if in_ledger.get(tx, 0) > answer["points"]["total"]
    )
    return {
        "sent": load.counts.sent,
        "acknowledged": load.counts.acknowledged,
        "lost": len(set(load.answers) - stored),
        "applied_twice": twice,
        "postings_sum_to_zero": bool(balanced),
        "attempts": load.counts.attempts,
        "answers": dict(sorted(load.counts.statuses.items())),
        "longest_gap_between_awards_seconds": round(load.counts.longest_gap(), 2),
        "failed_answers_window_seconds": round(load.counts.error_window(), 2),
        "mobile_reads": load.counts.reads,
        "mobile_reads_failed": load.counts.reads_failed,
    }


# --- the drills ----------------------------------------------------------------------------


async def _ready(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not become ready")


async def _replica_reads(addresses: list[str]) -> dict[str, float]:
    found: dict[str, float] = {"replica": 0.0, "primary": 0.0}
    async with httpx.AsyncClient(timeout=5) as client:
        for address in addresses:
            text = (await client.get(f"http://{address}:{API_PORT}/metrics")).text
            for line in text.splitlines():
                if line.startswith("rewards_replica_reads_total{"):
                    head, _, value = line.rpartition(" ")
                    for where in found:
                        if f'served_by="{where}"' in head:
                            found[where] += float(value)
    return found


async def _receiver_count(client: httpx.AsyncClient) -> dict[str, int]:
    found: dict[str, int] = (await client.get(f"http://{NET}.1:{RECEIVER_PORT}/count")).json()
    return found


async def _under_load(
    load: Load, clients: int, member_token: str, seconds: float, at: float, action: Any
) -> float:
    """Run the callers for ``seconds``; at ``at`` seconds run ``action`` (returns when it ran)."""
    tasks = [asyncio.create_task(load.caller(n)) for n in range(clients)]
    tasks += [asyncio.create_task(load.reader(n, member_token)) for n in range(2)]
    await asyncio.sleep(at)
    started = time.monotonic()
    await action()
    acted = time.monotonic() - started
    await asyncio.sleep(max(0.0, seconds - at))
    load.stop.set()
    await asyncio.gather(*tasks)
    return acted


async def drills(folder: Path, apis: int, clients: int, seconds: float) -> dict[str, Any]:
    api_hosts = {f"api{n}": f"{NET}.{20 + n}" for n in range(1, apis + 1)}
    network = Network({"lb": LB, **DB, **api_hosts})
    report: dict[str, Any] = {
        "machine": describe(),
        "topology": {
            "haproxy": f"{LB}:{LB_PORT}",
            "primary": DB["db1"],
            "replica": DB["db2"],
            "api_hosts": {
                n: f"{a}:{API_PORT} (rewards serve --workers 2)" for n, a in api_hosts.items()
            },
        },
    }
    receiver: subprocess.Popen[bytes] | None = None
    haproxy: subprocess.Popen[bytes] | None = None
    network.up()
    try:
        database = Database(folder / "pg")
        database.create()
        conn = await asyncpg.connect(dsn(f"{DB['db1']}:5432", "postgres"))
        await conn.execute("CREATE DATABASE rewards")
        await conn.close()
        servers = {name: start_api(name, address, folder) for name, address in api_hosts.items()}
        for address in api_hosts.values():
            await _ready(f"http://{address}:{API_PORT}")
        haproxy = start_haproxy(api_hosts, folder)
        url = f"http://{LB}:{LB_PORT}"
        await _ready(url)
        receiver = start_receiver()
        created = json.loads(
            sh(
                "env",
                f"DATABASE_URL={PRIMARY_ANYWHERE}",
                sys.executable,
                "-m",
                "api.cli",
                "tenant",
                "create",
                "--name",
                "Drill bank",
                "--json",
            ).stdout
        )
        tenant, admin = created["tenant_id"], created["admin_api_key"]
        async with httpx.AsyncClient(timeout=10) as client:
            put = await client.put(
                f"{url}/v1/admin/program",
                headers={"Authorization": f"Bearer {admin}"},
                json={"webhook_url": f"http://{NET}.1:{RECEIVER_PORT}/events"},
            )
            assert put.status_code == 200, put.text
        from rewards.core.credentials import encode_member_token

        token = encode_member_token(
            created["member_token_secret"], sub="m-1", tid=tenant, exp=int(time.time()) + 3600
        )
        secret = created["hook_secret"]

        # Drill 1: an API host killed.
        load = Load(url, tenant, secret, "api-kill")
        victim = next(iter(api_hosts))

        async def kill_api() -> None:
            network.kill_all(victim)

        await _under_load(load, clients, token, seconds, seconds / 3, kill_api)
        report["api_host_killed"] = await check(dsn(f"{DB['db1']}:5432"), load) | {"killed": victim}
        # Where the surviving hosts served the members' activity reads from (each host's
        # /metrics adds its workers up).
        report["replica_reads"] = await _replica_reads(
            [a for n, a in api_hosts.items() if n != victim]
        )
        servers[victim] = start_api(victim, api_hosts[victim], folder)
        await _ready(f"http://{api_hosts[victim]}:{API_PORT}")

        # Drills 2 and 3: the primary killed and the replica promoted, with the webhook
        # receiver down across it so that events are pending at the failover.
        async with httpx.AsyncClient(timeout=5) as client:
            await client.post(f"http://{NET}.1:{RECEIVER_PORT}/pause")
        load = Load(url, tenant, secret, "failover")
        timeline: dict[str, float] = {}

        async def fail_over() -> None:
            timeline["killed"] = time.monotonic()
            network.kill_all("db1")
            await asyncio.sleep(1.0)  # what a failure detector would take, at least
            await asyncio.to_thread(database.promote, "db2")
            timeline["promoted"] = time.monotonic()

        await _under_load(load, clients, token, seconds, seconds / 3, fail_over)
        new_primary = dsn(f"{DB['db2']}:5432")
        report["primary_killed"] = await check(new_primary, load) | {
            "promote_after_kill_seconds": round(timeline["promoted"] - timeline["killed"], 2),
        }
        async with httpx.AsyncClient(timeout=5) as client:
            await client.post(f"http://{NET}.1:{RECEIVER_PORT}/resume")
            acked = list(load.answers)
            deadline = time.monotonic() + 120
            while True:
                conn = await asyncpg.connect(new_primary)
                row = await conn.fetchrow(SQL["drill_events"], tenant, acked)
                await conn.close()
                assert row is not None
                if row["pending"] == 0 or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            counts = await _receiver_count(client)
        report["events_after_failover"] = dict(row.items()) | {
            "acknowledged_awards": len(acked),
            "receiver": counts,
        }
        return report
    finally:
        for process in (receiver, haproxy):
            if process is not None:
                process.kill()
        network.down()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=12)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--apis", type=int, default=2, choices=(2, 3))
    parser.add_argument("--keep", action="store_true", help="keep the logs folder")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("network namespaces need root: run it with sudo")
    folder = Path(tempfile.mkdtemp(prefix="rewards-cluster-"))
    folder.chmod(0o755)  # the database servers run as their own system user
    try:
        report = asyncio.run(drills(folder, args.apis, args.clients, args.seconds))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
