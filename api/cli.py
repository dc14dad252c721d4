"""The ``rewards`` command line: serve, migrate, tenants, demo, expiry, replays."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg
import msgspec
from tqdm import tqdm

from api import wiring
from api.demo import (
    DEMO_FIRST_PURCHASE,
    DEMO_SHARED_DEVICE,
    DemoCredentials,
    create_or_refresh_demo,
    explanation_text,
)
from api.logs import configure_logging
from api.process import die_with_parent
from api.settings import Settings
from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.pool import connect, create_pool, ensure_database
from db.types import Conn
from rewards.core.credentials import is_id
from rewards.core.errors import NotFound, RewardsError, ValidationFailed
from rewards.housekeeping import service as housekeeping
from rewards.imports import service as imports
from rewards.jobs import service as jobs
from rewards.replays import service as replays
from rewards.tenants import service as tenants
from rewards.tenants.service import SECRET_KINDS, create_tenant, rotate_secret

T = TypeVar("T")


class CliError(Exception):
    """A failure to report in one line on stderr, with the exit status to end with."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _where(dsn: str) -> str:
    """The hosts, ports and database of a URL, without its user or password, for messages
    (libpq URLs may name several hosts: ``host1:5432,host2:5432``)."""
    parts = urlsplit(dsn)
    hosts = parts.netloc.rpartition("@")[2] or "localhost"
    return f"{hosts}{parts.path}"


class Database:
    """The database the command works on: DATABASE_URL, or the embedded server.

    A command that only reads or changes what is there (``existing=True``) never makes a
    new embedded database: run in another folder, it says where it looked instead.
    """

    def __init__(self, settings: Settings, *, existing: bool = False) -> None:
        self.embedded: EmbeddedPostgres | None = None
        if settings.database_url:
            self.dsn = settings.database_url
            self.where = f"the database at {_where(settings.database_url)} (DATABASE_URL)"
        else:
            folder = settings.data_dir.resolve()
            self.where = f"the embedded database in {folder}"
            if existing and not (folder / "pgdata" / "PG_VERSION").exists():
                raise CliError(
                    f"no database in {folder}: run this where you run `rewards serve`, "
                    "or give --data-dir or DATABASE_URL"
                )
            self.embedded = EmbeddedPostgres(settings.data_dir)
            asyncio.run(ensure_database(self.embedded.dsn("postgres"), "rewards"))
            self.dsn = self.embedded.dsn()

    def stop(self) -> None:
        """Stop the embedded server if this process started it (a no-op otherwise)."""
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None

    def run(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        """Migrate, then run ``work`` in one transaction."""

        async def in_transaction(conn: Conn) -> T:
            async with conn.transaction():
                return await work(conn)

        return self.run_outside_transaction(in_transaction)

    def run_outside_transaction(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        """Migrate, then run ``work``, which manages its own transactions."""

        async def go() -> T:
            try:
                conn = await connect(self.dsn, timeout=CONNECT_TIMEOUT_SECONDS)
            except (OSError, TimeoutError, ValueError, asyncpg.PostgresError) as exc:
                reason = str(exc) or type(exc).__name__
                raise CliError(
                    f"cannot reach the database at {_where(self.dsn)}: {reason}"
                ) from None
            try:
                await migrate(conn)
                return await work(conn)
            except NotFound as exc:
                raise CliError(f"{exc.detail} in {self.where}") from None
            finally:
                await conn.close()

        return asyncio.run(go())


CONNECT_TIMEOUT_SECONDS = 10


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "data_dir", None):
        settings.data_dir = Path(args.data_dir)
    return settings


def _tenant_id(value: str) -> str:
    """argparse type: a client-chosen id, as the API takes them."""
    if not is_id(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an id: 1 to 64 of A-Z a-z 0-9 . _ : -")
    return value


def _overlap_hours(value: str) -> float:
    """argparse type: hours from 0 to 720."""
    try:
        hours = float(value)
    except ValueError:
        hours = -1.0
    if not 0 <= hours <= 720:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of hours from 0 to 720")
    return hours


def _moment(value: str) -> datetime:
    """argparse type: an RFC 3339 time with its UTC offset."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a time: use RFC 3339, e.g. 2027-01-01T00:00:00+08:00"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} has no UTC offset: e.g. 2027-01-01T00:00:00+08:00"
        )
    return moment


def cmd_migrate(args: argparse.Namespace) -> int:
    db = Database(_settings(args))

    async def work(conn: Conn) -> list[int]:
        return await migrate(conn)

    applied = db.run(work)
    print(f"migrations applied: {applied or 'none pending'}")
    return 0


def cmd_tenant_create(args: argparse.Namespace) -> int:
    db = Database(_settings(args))
    created = db.run(lambda conn: create_tenant(conn, args.name, args.id))
    if args.json:
        print(msgspec.json.encode(created).decode())
    else:
        print(f"tenant_id:           {created.tenant_id}")
        print(f"admin_api_key:       {created.admin_api_key}   (shown once)")
        print(f"hook_secret:          {created.hook_secret}")
        print(f"member_token_secret:  {created.member_token_secret}")
        print(f"event_signing_secret: {created.event_signing_secret}")
    return 0


def cmd_tenant_list(args: argparse.Namespace) -> int:
    db = Database(_settings(args), existing=True)

    async def work(conn: Conn) -> list[tenants.TenantRow]:
        found: list[tenants.TenantRow] = []
        after = None
        while page := await tenants.list_tenants(conn, after, 500):
            found += page
            after = page[-1].tenant_id
        return found

    found = db.run(work)
    if args.json:
        print(msgspec.json.encode(found).decode())
        return 0
    if not found:
        print(f"no tenants in {db.where}")
        return 0
    width = max(len(t.tenant_id) for t in found)
    for t in found:
        print(f"{t.tenant_id:<{width}}  {t.created_at:%Y-%m-%d %H:%M}Z  {t.name}")
    return 0


def cmd_tenant_rotate(args: argparse.Namespace) -> int:
    db = Database(_settings(args), existing=True)
    overlap = timedelta(hours=args.overlap_hours)
    secret = db.run(lambda conn: rotate_secret(conn, args.tenant, args.kind, overlap))
    until = (datetime.now(UTC) + overlap).isoformat(timespec="seconds")
    if args.json:
        print(
            msgspec.json.encode(
                {SECRET_KINDS[args.kind]: secret, "previous_valid_until": until}
            ).decode()
        )
    else:
        print(f"new {SECRET_KINDS[args.kind]}: {secret}")
        print(f"the previous one stays valid until {until}")
    return 0


#: How far ahead ``rewards expire --at`` may look without ``--force``: a time further out
#: would expire points that members still have a right to.
EXPIRE_AHEAD_LIMIT = timedelta(days=1)


def cmd_expire(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    at: datetime = args.at or now
    if at - now > EXPIRE_AHEAD_LIMIT and not (args.force or args.dry_run):
        raise CliError(
            f"--at {at.isoformat()} is more than a day ahead: points not yet due would expire "
            "(add --force if that is what you mean, or --dry-run to see what would expire)",
            status=2,
        )
    settings = _settings(args)
    db = Database(settings, existing=True)
    keep = timedelta(days=settings.event_retention_days)

    async def work(conn: Conn) -> dict[str, int] | None:
        if args.dry_run:
            return await housekeeping.preview(conn, at)
        return await housekeeping.run(conn, at, keep, also=wiring.UPKEEP)

    done = db.run_outside_transaction(work)
    if done is None:
        print("another process is running the expiry job; nothing done")
        return 1
    key = "would_expire_points_by_tenant" if args.dry_run else "expired_points_by_tenant"
    print(msgspec.json.encode({key: done, "at": at, "dry_run": args.dry_run}).decode())
    return 0


def _draft(path: str | None) -> dict[str, object]:
    """The draft a replay lays over the configuration, read from a JSON file."""
    if path is None:
        return {}
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read the draft {path}: {exc.strerror or exc}", status=2) from None
    try:
        draft = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        raise CliError(f"the draft {path} is not JSON: {exc}", status=2) from None
    if not isinstance(draft, dict):
        raise CliError(f"the draft {path} must be a JSON object", status=2)
    return draft


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay [from, to) under the baseline and a draft, as a job this process works on
    (or, if a serving process took it first, follows), with a progress bar."""
    try:
        request = msgspec.convert(
            {
                "from": args.from_,
                "to": args.to,
                "draft": _draft(args.draft),
                "draw_samples": args.draw_samples,
            },
            replays.ReplayRequest,
        )
    except msgspec.ValidationError as exc:
        raise CliError(f"the draft is not valid: {exc}", status=2) from None
    wiring.wire()
    settings = _settings(args)
    db = Database(settings, existing=True)

    async def work(conn: Conn) -> replays.Replay:
        await tenants.require(conn, args.tenant)
        async with conn.transaction():
            job = await replays.start(conn, args.tenant, "cli", request)
        bar = tqdm(total=None, unit="tx", desc="replay", disable=args.json, file=sys.stderr)
        await _work_on(conn, db, settings, args.tenant, job.job_id, bar)
        return await replays.get(conn, args.tenant, job.job_id)

    found = db.run_outside_transaction(work)
    if args.json:
        print(msgspec.json.encode(replay_document(found)).decode())
    else:
        print(replay_summary(found))
    return 0 if found.job.status == "done" else 1


async def _work_on(
    conn: Conn, db: Database, settings: Settings, tenant_id: str, job_id: str, bar: tqdm[Any]
) -> jobs.Job:
    """Work on a queued job in this process (or, if a serving process took it first, follow
    it), showing its progress on the bar; the job as it ended."""
    pool = await create_pool(db.dsn, min_size=1, max_size=3)

    def show(done: int, total: int | None) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        runner = jobs.Runner(
            pool, wiring.jobs(settings), lease_seconds=30, on_progress=show, dsn=db.dsn
        )
        ended = await runner.run_one(only=(tenant_id, job_id))
        while ended is None or ended.status in ("queued", "running"):
            await asyncio.sleep(0.5)  # a serving process took it: follow it
            ended = await jobs.get(conn, tenant_id, job_id)
            show(ended.progress_done, ended.progress_total)
    finally:
        bar.close()
        await pool.close()
    return ended


IMPORT_FORMATS = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson"}


def cmd_import_members(args: argparse.Namespace) -> int:
    """Import members from a file (NDJSON or CSV) as a job this process works on, with a
    progress bar for the upload and one for the lines; prints the counts and the first
    line errors."""
    path = Path(args.file)
    format = args.format or IMPORT_FORMATS.get(path.suffix.lower(), "ndjson")
    try:
        size = path.stat().st_size
        path.open("rb").close()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}", status=2) from None
    wiring.wire()
    settings = _settings(args)
    db = Database(settings, existing=True)

    async def chunks(bar: tqdm[Any]) -> AsyncIterator[bytes]:
        source = await asyncio.to_thread(path.open, "rb")
        try:
            while block := await asyncio.to_thread(source.read, 1 << 20):
                bar.update(len(block))
                yield block
        finally:
            source.close()

    async def work(conn: Conn) -> tuple[jobs.Job, list[jobs.LineError]]:
        await tenants.require(conn, args.tenant)
        sent = tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            desc="upload",
            disable=args.json,
            file=sys.stderr,
        )
        async with conn.transaction():
            job = await imports.start(conn, args.tenant, "cli", format)  # type: ignore[arg-type]
            await jobs.store_lines(conn, args.tenant, job.job_id, chunks(sent))
        sent.close()
        bar = tqdm(total=None, unit="line", desc="import", disable=args.json, file=sys.stderr)
        ended = await _work_on(conn, db, settings, args.tenant, job.job_id, bar)
        return ended, await jobs.errors(conn, args.tenant, job.job_id, None, 20)

    ended, errors = db.run_outside_transaction(work)
    if args.json:
        print(
            msgspec.json.encode(
                {
                    "job_id": ended.job_id,
                    "status": ended.status,
                    "counts": ended.counts,
                    "error": ended.error,
                    "errors": [msgspec.to_builtins(e) for e in errors],
                }
            ).decode()
        )
    else:
        order = ["created", "updated", "unchanged", "failed"]
        named = sorted(ended.counts, key=lambda k: order.index(k) if k in order else 9)
        counts = ", ".join(f"{k} {ended.counts[k]:,}" for k in named)
        print(f"import {ended.job_id}: {ended.status}; {counts}")
        if ended.error:
            print(f"  {ended.error}")
        for e in errors:
            print(f"  line {e.line}: {e.problem}")
        if len(errors) == 20:
            print(f"  … see GET /v1/admin/jobs/{ended.job_id}/errors for the rest")
    return 0 if ended.status == "done" else 1


def replay_document(found: replays.Replay) -> dict[str, object]:
    """The replay as the API shows it."""
    job = found.job
    return {
        "id": job.job_id,
        "status": job.status,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "error": job.error,
    } | (found.result or {})


def replay_summary(found: replays.Replay) -> str:
    """The replay in a few lines: fidelity, totals, and each rule's points."""
    job, result = found.job, found.result
    if result is None:
        return f"replay {job.job_id}: {job.status}" + (f" ({job.error})" if job.error else "")
    fidelity = result["fidelity"]
    lines = [
        f"replay {job.job_id}: {result['transactions']} transactions",
        "baseline equals the ledger: "
        + (
            "yes" if fidelity["baseline_equals_ledger"] else f"NO, {fidelity['differences']} differ"
        ),
        f"points   baseline {result['baseline']['points']['total']:>14,}"
        f"   draft {result['draft']['points']['total']:>14,}",
        "",
        f"{'kind':<14} {'id':<24} {'baseline':>12} {'draft':>12}  budget ran out",
    ]
    for r in result["by_rule"]:
        lines.append(
            f"{r['kind']:<14} {r['rule_id']:<24} {r['baseline_points']:>12,} "
            f"{r['draft_points']:>12,}  {r['budget_exhausted_at'] or '-'}"
        )
    lines.extend(
        f"draw {d['campaign_id']}: P50 {d['p50_points']:,}  P95 {d['p95_points']:,}"
        for d in result["draws"]
    )
    return "\n".join(lines)


def demo_text(creds: DemoCredentials, base_url: str) -> str:
    """Credentials and example calls that work when pasted into a shell."""
    q = shlex.quote
    # Single-quoted JSON with the transaction id spliced in from the shell.
    body = (
        """'{"id":"txn-demo-'$(date +%s%N)'","kind":"purchase","member_id":"m-42",'"""
        """'"card_product":"car-owner","amount_minor":35000,"currency":"CNY","mcc":"5541",'"""
        """'"merchant_id":"shell-futian","store_id":"shell-futian-01","channel":"offline",'"""
        """'"occurred_at":"2026-11-21T08:30:00+08:00","location":{"lat":22.5431,"lng":114.0579}}'"""
    )
    referee_body = (
        """'{"id":"txn-demo-'$(date +%s%N)'","kind":"purchase","member_id":"'$REFEREE'",'"""
        """'"amount_minor":20000,"currency":"CNY","mcc":"5411","merchant_id":"haidilao-futian",'"""
        """'"channel":"offline","occurred_at":"'$(date -Iseconds)'"}'"""
    )
    kept = (
        "\nThe program was kept as an operator changed it; `rewards demo --reset` restores the\n"
        "demo's (some example calls below count on it).\n"
        if creds.program_kept
        else ""
    )
    explained = (
        "\nWhy the member's first purchase earned what it did (the rules in force then):\n\n"
        + explanation_text(creds.explained)
        if creds.explained is not None
        else ""
    )
    return f"""\
Demo tenant ready.{kept}{explained}

  tenant_id            {creds.tenant_id}
  admin_api_key        {creds.admin_api_key}
  merchant_id          {creds.merchant_id}
  merchant_api_key     {creds.merchant_api_key}
  hook_secret          {creds.hook_secret}
  member_token_secret  {creds.member_token_secret}
  member_id            {creds.member_id}
  member_token         {creds.member_token}
  referral_code        {creds.referral_code}  (the member's own)

Web pages (sign in with the key above):

  merchant portal      {base_url}/portal/   (merchant_api_key)
  operator console     {base_url}/console/  (admin_api_key)

Example calls (paste into a shell while the service runs on {base_url}):

export REWARDS={q(base_url)} ADMIN_KEY={q(creds.admin_api_key)}
export MERCHANT_KEY={q(creds.merchant_api_key)} MEMBER_TOKEN={q(creds.member_token)}
export TENANT={q(creds.tenant_id)} HOOK_SECRET={q(creds.hook_secret)}
export REFERRAL_CODE={q(creds.referral_code)} THIRD_TOKEN={q(creds.third_member_token)}

# operator: list merchants
curl -s "$REWARDS/v1/admin/merchants" -H "Authorization: Bearer $ADMIN_KEY"

# merchant portal: who am I
curl -s "$REWARDS/v1/merchant/profile" -H "Authorization: Bearer $MERCHANT_KEY"

# mobile app: the member's profile and balance
curl -s "$REWARDS/v1/me" -H "Authorization: Bearer $MEMBER_TOKEN"

# mobile app: offers near a Futian street corner, and claim the fuel offer (card-linked)
curl -s "$REWARDS/v1/me/offers/nearby?lat=22.5431&lng=114.0579&radius_m=1000&limit=5" \\
  -H "Authorization: Bearer $MEMBER_TOKEN"
curl -s -X POST "$REWARDS/v1/me/offers/fuel-88/claim" -H "Authorization: Bearer $MEMBER_TOKEN"

# card processor: a signed purchase at that station (fuel, car-owner card): points and 12% off
BODY={body}
T=$(date +%s)
SIG=$(printf '%s' "$T.$BODY" | openssl dgst -sha256 -hmac "$HOOK_SECRET" | sed 's/^.* //')
curl -s "$REWARDS/v1/hooks/transactions" -H "Content-Type: application/json" \\
  -H "X-Rewards-Tenant: $TENANT" -H "X-Rewards-Signature: t=$T,v1=$SIG" -d "$BODY"

# mobile app: the benefits catalog, and a redemption
curl -s "$REWARDS/v1/me/catalog?category=video" -H "Authorization: Bearer $MEMBER_TOKEN"
curl -s "$REWARDS/v1/me/redemptions" -H "Authorization: Bearer $MEMBER_TOKEN" \\
  -H "Content-Type: application/json" -H "Idempotency-Key: demo-$(date +%s%N)" \\
  -d '{{"sku":"youku-vip-month","quantity":1}}'

# referrals: a new member joins with m-42's code (here the operator attaches it; in the app,
# POST /v1/me/referral/apply); their first purchase of 100 yuan or more pays them 300 points
# ("referral":300 in the answer) and m-42 500 points
REFEREE=m-new-$(date +%s%N)
curl -s -X PUT "$REWARDS/v1/admin/members/$REFEREE" -H "Authorization: Bearer $ADMIN_KEY" \
  -H "Content-Type: application/json" -d '{{"referral_code_used":"'"$REFERRAL_CODE"'"}}'
BODY={referee_body}
T=$(date +%s)
SIG=$(printf '%s' "$T.$BODY" | openssl dgst -sha256 -hmac "$HOOK_SECRET" | sed 's/^.* //')
curl -s "$REWARDS/v1/hooks/transactions" -H "Content-Type: application/json" \
  -H "X-Rewards-Tenant: $TENANT" -H "X-Rewards-Signature: t=$T,v1=$SIG" -d "$BODY"
curl -s "$REWARDS/v1/me/referral" -H "Authorization: Bearer $MEMBER_TOKEN"

# abuse limits: {DEMO_SHARED_DEVICE} was used by m-42 and m-44 (at most 2 members per
# device), so a third member's redemption from it is refused: 403 device_limit
curl -sS "$REWARDS/v1/me/redemptions" -H "Authorization: Bearer $THIRD_TOKEN" \
  -H "X-Device-Id: {DEMO_SHARED_DEVICE}" -H "Content-Type: application/json" \
  -d '{{"sku":"youku-vip-month","quantity":1}}'
echo
curl -s "$REWARDS/v1/admin/risk-events?limit=5" -H "Authorization: Bearer $ADMIN_KEY"

# why a purchase earned what it did: for the operator, and for the member in plain words
curl -s "$REWARDS/v1/admin/transactions/{DEMO_FIRST_PURCHASE}/explanation" \
  -H "Authorization: Bearer $ADMIN_KEY"
curl -s "$REWARDS/v1/me/activity/{DEMO_FIRST_PURCHASE}/explanation" \
  -H "Authorization: Bearer $MEMBER_TOKEN"

# what a "fuel 5x" rule would have cost over the last 30 days (a background job: poll its id;
# the console shows it at /console/replays)
DRAFT='{{"earn_rules":{{"upsert":[{{"id":"fuel-5x","name":"Fuel 5x",'
DRAFT=$DRAFT'"effect":{{"kind":"multiplier","value":"5"}},"conditions":{{"mcc_in":["5541"]}}}}]}}}}'
FROM=$(date -d '30 days ago' -Iseconds) TO=$(date -d '1 minute' -Iseconds)
curl -s "$REWARDS/v1/admin/replays" -H "Authorization: Bearer $ADMIN_KEY" \
  -H "Content-Type: application/json" -d '{{"from":"'$FROM'","to":"'$TO'","draft":'"$DRAFT"'}}'

"""


def cmd_demo(args: argparse.Namespace) -> int:
    wiring.wire()
    db = Database(_settings(args))
    creds = db.run(lambda conn: create_or_refresh_demo(conn, reset=args.reset))
    print(demo_text(creds, f"http://127.0.0.1:{args.port}"))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(settings.log_level)
    db = Database(settings)
    metrics_dir = None
    try:
        if args.demo:
            wiring.wire()
            creds = db.run(create_or_refresh_demo)
            print(demo_text(creds, f"http://{args.host}:{args.port}"), flush=True)
        else:
            db.run(migrate)
        # The server runs in a child process that finds the database through the
        # environment; this process stays to stop the embedded server when it ends. Its
        # workers add their metrics up in a folder of this run's own.
        env = os.environ | {"DATABASE_URL": db.dsn}
        if not env.get("PROMETHEUS_MULTIPROC_DIR"):
            metrics_dir = tempfile.mkdtemp(prefix="rewards-metrics-")
            env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        return supervise(
            [
                sys.executable,
                "-m",
                "api.serving",
                "--server",
                args.server,
                "--host",
                args.host,
                "--port",
                str(args.port),
                "--workers",
                str(args.workers),
            ],
            env,
        )
    finally:
        db.stop()
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def supervise(command: list[str], env: dict[str, str]) -> int:
    """Run the server until it ends, passing SIGTERM, SIGINT and SIGHUP on to it once.

    The child has a session of its own, so that a Ctrl-C in the terminal reaches it once
    (through here) rather than twice; the exit status is the server's, or 0 when it ended
    because it was asked to.
    """
    child = subprocess.Popen(command, env=env, start_new_session=True, preexec_fn=die_with_parent)
    asked = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal asked
        asked = True
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    previous = {
        s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    try:
        while True:
            try:
                status = child.wait()
                break
            except InterruptedError:  # pragma: no cover - wait() retries by itself (PEP 475)
                continue
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if asked and status in (0, -signal.SIGTERM, -signal.SIGINT, 128 + signal.SIGTERM):
        return 0
    return status if status >= 0 else 128 - status


def _version() -> str:
    try:
        return metadata.version("rewards-engine")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rewards", description="Rewards engine: serve, migrate, tenants, demo, expiry."
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def with_data_dir(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--data-dir",
            help="embedded PostgreSQL data folder (default ./.rewards; ignored with DATABASE_URL)",
        )
        return p

    serve = with_data_dir(sub.add_parser("serve", help="migrate, then serve the API"))
    serve.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (default 1; about one per core); they end with the server",
    )
    serve.add_argument(
        "--server",
        choices=["uvicorn", "granian"],
        default="uvicorn",
        help="HTTP server running the workers (see docs/operations.md for how they compare)",
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="create or refresh the demo tenant first (a program an operator changed is kept)",
    )
    serve.set_defaults(func=cmd_serve)

    mig = with_data_dir(sub.add_parser("migrate", help="apply pending database migrations"))
    mig.set_defaults(func=cmd_migrate)

    demo = with_data_dir(sub.add_parser("demo", help="create or refresh the demo tenant"))
    demo.add_argument("--port", type=int, default=8000, help="port used in the example calls")
    demo.add_argument(
        "--reset",
        action="store_true",
        help="restore the demo's program even if an operator changed it",
    )
    demo.set_defaults(func=cmd_demo)

    expire = with_data_dir(sub.add_parser("expire", help="expire points whose time has come"))
    expire.add_argument(
        "--at", type=_moment, help="as of this time (RFC 3339 with offset; default now)"
    )
    expire.add_argument(
        "--dry-run",
        action="store_true",
        help="print what would expire, per tenant, and write nothing",
    )
    expire.add_argument(
        "--force",
        action="store_true",
        help="allow an --at more than a day in the future (not needed with --dry-run)",
    )
    expire.set_defaults(func=cmd_expire)

    tenant = sub.add_parser("tenant", help="manage tenants")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    create = with_data_dir(tenant_sub.add_parser("create", help="create a tenant"))
    create.add_argument("--name", required=True, help='the program\'s name, e.g. "Demo Bank"')
    create.add_argument(
        "--id", type=_tenant_id, help="tenant id, [A-Za-z0-9._:-]{1,64} (default: generated)"
    )
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(func=cmd_tenant_create)
    listing = with_data_dir(tenant_sub.add_parser("list", help="list tenants"))
    listing.add_argument("--json", action="store_true", help="print one JSON array")
    listing.set_defaults(func=cmd_tenant_list)
    for kind, what in (
        ("hook", "the hook secret the card processor signs transactions with"),
        ("member", "the secret member tokens (JWT) are signed with"),
        ("event", "the secret outbound events are signed with"),
    ):
        rotate = with_data_dir(
            tenant_sub.add_parser(
                f"rotate-{kind}-secret",
                help=f"replace {what}; the previous one stays valid for the overlap",
            )
        )
        rotate.add_argument("--tenant", required=True, type=_tenant_id, help="the tenant's id")
        rotate.add_argument(
            "--overlap-hours",
            type=_overlap_hours,
            default=24.0,
            help="how long the previous secret stays valid (default 24, at most 720)",
        )
        rotate.add_argument("--json", action="store_true", help="print one JSON object")
        rotate.set_defaults(func=cmd_tenant_rotate, kind=kind)
    replay = with_data_dir(
        sub.add_parser(
            "replay",
            help="what a draft of the rules would have cost over recorded history "
            "(and whether the baseline replays the ledger faithfully)",
        )
    )
    replay.add_argument("--tenant", required=True, type=_tenant_id, help="the tenant's id")
    replay.add_argument(
        "--from", dest="from_", required=True, type=_moment, help="start (RFC 3339, included)"
    )
    replay.add_argument("--to", required=True, type=_moment, help="end (RFC 3339, excluded)")
    replay.add_argument(
        "--draft",
        help="a JSON file: {program, earn_rules: {upsert, remove}, draw_campaigns, offers}",
    )
    replay.add_argument(
        "--draw-samples",
        type=int,
        default=100,
        help="fresh secrets a new draw campaign is drawn with (default 100)",
    )
    replay.add_argument("--json", action="store_true", help="print one JSON object")
    replay.set_defaults(func=cmd_replay)
    importing = sub.add_parser("import", help="move data in from another system")
    import_sub = importing.add_subparsers(dest="what", required=True)
    members = with_data_dir(
        import_sub.add_parser(
            "members",
            help="import members (NDJSON or CSV: tiers, segments, spend, referral links, "
            "opening balances) as a job, with progress",
        )
    )
    members.add_argument("file", help="the file: .ndjson/.jsonl (one JSON object a line) or .csv")
    members.add_argument("--tenant", required=True, type=_tenant_id, help="the tenant's id")
    members.add_argument(
        "--format", choices=["ndjson", "csv"], help="the file's format (default: by its name)"
    )
    members.add_argument("--json", action="store_true", help="print one JSON object")
    members.set_defaults(func=cmd_import_members)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rewards`` console script.

    A user's mistake (a taken tenant id, an unknown tenant, a database that cannot be
    reached) is one line on stderr and exit status 1; a malformed command line is argparse's
    usage message and status 2. A traceback is printed only for a bug, and only with
    ``REWARDS_LOG_LEVEL=DEBUG``.
    """
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except CliError as exc:
        print(f"rewards: {exc}", file=sys.stderr)
        return exc.status
    except ValidationFailed as exc:
        print(f"rewards: {exc.detail}", file=sys.stderr)
        return 2
    except RewardsError as exc:
        print(f"rewards: {exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rewards: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("REWARDS_LOG_LEVEL", "").upper() == "DEBUG":
            traceback.print_exc()
        print(
            f"rewards: unexpected error ({type(exc).__name__}: {exc}); "
            "REWARDS_LOG_LEVEL=DEBUG prints the trace",
            file=sys.stderr,
        )
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
