"""The ``rewards`` command line: serve, migrate, tenants, demo."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import msgspec

from api.logs import configure_logging
from api.settings import Settings
from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.pool import connect, ensure_database
from db.types import Conn
from rewards.demo import DemoCredentials, create_or_refresh_demo
from rewards.ledger import expire_all
from rewards.tenants import create_tenant, rotate_hook_secret

T = TypeVar("T")


class Database:
    """The database the command works on: DATABASE_URL, or the embedded server."""

    def __init__(self, settings: Settings) -> None:
        self.embedded: EmbeddedPostgres | None = None
        if settings.database_url:
            self.dsn = settings.database_url
        else:
            self.embedded = EmbeddedPostgres(settings.data_dir)
            asyncio.run(ensure_database(self.embedded.dsn("postgres"), "rewards"))
            self.dsn = self.embedded.dsn()

    def run(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        """Migrate, then run ``work`` in one transaction."""

        async def in_transaction(conn: Conn) -> T:
            async with conn.transaction():
                return await work(conn)

        return self.run_outside_transaction(in_transaction)

    def run_outside_transaction(self, work: Callable[[Conn], Awaitable[T]]) -> T:
        """Migrate, then run ``work``, which manages its own transactions."""

        async def go() -> T:
            conn = await connect(self.dsn)
            try:
                await migrate(conn)
                return await work(conn)
            finally:
                await conn.close()

        return asyncio.run(go())


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings()
    if getattr(args, "data_dir", None):
        settings.data_dir = Path(args.data_dir)
    return settings


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
        print(f"hook_secret:         {created.hook_secret}")
        print(f"member_token_secret: {created.member_token_secret}")
    return 0


def cmd_tenant_rotate(args: argparse.Namespace) -> int:
    db = Database(_settings(args))
    secret = db.run(lambda conn: rotate_hook_secret(conn, args.tenant))
    print(f"new hook secret: {secret} (the previous one stays valid until the next rotation)")
    return 0


def cmd_expire(args: argparse.Namespace) -> int:
    db = Database(_settings(args))
    at = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    if at.tzinfo is None:
        print("--at needs a UTC offset, e.g. 2027-01-01T00:00:00+08:00", file=sys.stderr)
        return 2

    async def work(conn: Conn) -> dict[str, int] | None:
        return await expire_all(conn, at)

    done = db.run_outside_transaction(work)
    if done is None:
        print("another process is running the expiry job; nothing done")
        return 1
    print(msgspec.json.encode({"expired_points_by_tenant": done, "at": at}).decode())
    return 0


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
    return f"""\
Demo tenant ready.

  tenant_id            {creds.tenant_id}
  admin_api_key        {creds.admin_api_key}
  merchant_id          {creds.merchant_id}
  merchant_api_key     {creds.merchant_api_key}
  hook_secret          {creds.hook_secret}
  member_token_secret  {creds.member_token_secret}
  member_id            {creds.member_id}
  member_token         {creds.member_token}

Example calls (paste into a shell while the service runs on {base_url}):

export REWARDS={q(base_url)} ADMIN_KEY={q(creds.admin_api_key)}
export MERCHANT_KEY={q(creds.merchant_api_key)} MEMBER_TOKEN={q(creds.member_token)}
export TENANT={q(creds.tenant_id)} HOOK_SECRET={q(creds.hook_secret)}

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
"""


def cmd_demo(args: argparse.Namespace) -> int:
    db = Database(_settings(args))
    creds = db.run(create_or_refresh_demo)
    print(demo_text(creds, f"http://127.0.0.1:{args.port}"))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(settings.log_level)
    db = Database(settings)
    if args.demo:
        creds = db.run(create_or_refresh_demo)
        print(demo_text(creds, f"http://{args.host}:{args.port}"), flush=True)
    else:
        db.run(migrate)
    # Workers are separate processes: they find the database through the environment.
    os.environ["DATABASE_URL"] = db.dsn
    if args.server == "granian":
        from granian import Granian  # imported here: the other commands need no server
        from granian.constants import Interfaces

        Granian(
            "api.app:create_app_from_env",
            factory=True,
            address=args.host,
            port=args.port,
            workers=args.workers,
            interface=Interfaces.ASGI,
            log_enabled=False,
            workers_kill_timeout=10,
        ).serve()
        return 0
    import uvicorn

    uvicorn.run(
        "api.app:create_app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=10,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rewards", description="Rewards engine: serve, migrate, tenants, demo, expiry."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def with_data_dir(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--data-dir",
            help="embedded PostgreSQL data folder (default ./.rewards; ignored with DATABASE_URL)",
        )
        return p

    serve = with_data_dir(sub.add_parser("serve", help="migrate, then serve the API"))
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--server",
        choices=["uvicorn", "granian"],
        default="uvicorn",
        help="HTTP server running the workers (see the README for how they compare)",
    )
    serve.add_argument(
        "--demo", action="store_true", help="create or refresh the demo tenant first"
    )
    serve.set_defaults(func=cmd_serve)

    mig = with_data_dir(sub.add_parser("migrate", help="apply pending database migrations"))
    mig.set_defaults(func=cmd_migrate)

    demo = with_data_dir(sub.add_parser("demo", help="create or refresh the demo tenant"))
    demo.add_argument("--port", type=int, default=8000, help="port used in the example calls")
    demo.set_defaults(func=cmd_demo)

    expire = with_data_dir(sub.add_parser("expire", help="expire points whose time has come"))
    expire.add_argument("--at", help="as of this time (RFC 3339; default now)")
    expire.set_defaults(func=cmd_expire)

    tenant = sub.add_parser("tenant", help="manage tenants")
    tenant_sub = tenant.add_subparsers(dest="tenant_command", required=True)
    create = with_data_dir(tenant_sub.add_parser("create", help="create a tenant"))
    create.add_argument("--name", required=True)
    create.add_argument("--id", help="tenant id (default: generated)")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(func=cmd_tenant_create)
    rotate = with_data_dir(
        tenant_sub.add_parser("rotate-hook-secret", help="add a new hook secret")
    )
    rotate.add_argument("--tenant", required=True)
    rotate.set_defaults(func=cmd_tenant_rotate)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rewards`` console script."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
