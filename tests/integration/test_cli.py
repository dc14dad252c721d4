"""The ``rewards`` command line as an operator meets it: one clear line for a mistake, never a
traceback; expiry that can be previewed; a demo that does not pile up live keys."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.dates import NOW, iso
from tests.integration.conftest import Tenant, purchase
from tests.integration.invariants import check_ledger
from tests.integration.test_ledger import tenth_of
from tests.integration.test_points_hook import setup


def rewards(
    *args: str, database: str | None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database is not None:
        env["DATABASE_URL"] = database
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def one_clear_line(result: subprocess.CompletedProcess[str], status: int, *words: str) -> None:
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "nothing on stderr"
    if status == 1:
        assert len(lines) == 1, lines
    for word in words:
        assert word in lines[-1], lines


def test_a_duplicate_tenant_id_is_one_line_and_status_1(database: str) -> None:
    assert (
        rewards("tenant", "create", "--name", "A", "--id", "bank-a", database=database).returncode
        == 0
    )
    again = rewards("tenant", "create", "--name", "A", "--id", "bank-a", database=database)
    one_clear_line(again, 1, "bank-a", "exists")


@pytest.mark.parametrize("bad_id", ["sp ace", "a/b", "x" * 65, "nl\n"])
def test_a_tenant_id_must_be_an_id(database: str, bad_id: str) -> None:
    result = rewards("tenant", "create", "--name", "A", "--id", bad_id, database=database)
    one_clear_line(result, 2, "--id")


def test_rotating_the_secret_of_no_tenant_is_one_line(database: str) -> None:
    result = rewards("tenant", "rotate-hook-secret", "--tenant", "no-such", database=database)
    one_clear_line(result, 1, "no-such")


@pytest.mark.parametrize(
    "at", ["yesterday", "1999-99-99T00:00:00+08:00", NOW.replace(tzinfo=None).isoformat()]
)
def test_a_bad_expiry_time_is_a_usage_error(database: str, at: str) -> None:
    one_clear_line(rewards("expire", "--at", at, database=database), 2, "--at")


def test_an_unreachable_database_is_one_line(unused_port: int) -> None:
    url = f"postgresql://rewards:secret@127.0.0.1:{unused_port}/rewards"
    for args in (("migrate",), ("tenant", "create", "--name", "A"), ("expire",)):
        result = rewards(*args, database=url)
        one_clear_line(result, 1, "cannot reach the database", f"127.0.0.1:{unused_port}")
        assert "secret" not in result.stderr


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_expire_previews_refuses_the_far_future_and_expires(
    tenant: Tenant, database: str, conn: asyncpg.Connection
) -> None:
    await setup(tenant, {"expiry_months": 1})
    await tenant.hook(purchase("p1", mcc="5812", occurred_at=iso(tenth_of(-3))))
    await tenant.hook(purchase("p2", mcc="5812"))  # earned now: not due for a month or more

    preview = rewards("expire", "--dry-run", database=database)
    assert preview.returncode == 0, preview.stderr
    said: dict[str, Any] = json.loads(preview.stdout)
    assert said["would_expire_points_by_tenant"] == {tenant.id: 350}
    assert said["dry_run"] is True
    assert await conn.fetchval("SELECT count(*) FROM transfers WHERE kind = 'expiry'") == 0

    far = iso(NOW + timedelta(days=400))
    refused = rewards("expire", "--at", far, database=database)
    one_clear_line(refused, 2, "more than a day ahead", "--force")
    assert await conn.fetchval("SELECT count(*) FROM transfers WHERE kind = 'expiry'") == 0
    far_preview = rewards("expire", "--at", far, "--dry-run", database=database)
    assert far_preview.returncode == 0, far_preview.stderr  # a preview needs no --force
    assert json.loads(far_preview.stdout)["would_expire_points_by_tenant"] == {tenant.id: 700}

    done = rewards("expire", database=database)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["expired_points_by_tenant"] == {tenant.id: 350}
    assert await conn.fetchval("SELECT points_balance FROM members") == 350
    await check_ledger(conn)


async def test_running_the_demo_twice_revokes_the_keys_it_printed_before(
    database: str, conn: asyncpg.Connection
) -> None:
    live = "SELECT count(*) FROM api_keys WHERE tenant_id = 'demo-bank' AND revoked_at IS NULL"
    first = rewards("demo", database=database, timeout=300)
    assert first.returncode == 0, first.stderr
    live_after_first = await conn.fetchval(live)
    second = rewards("demo", database=database, timeout=300)
    assert second.returncode == 0, second.stderr
    assert await conn.fetchval(live) == live_after_first

    def printed(output: str, name: str) -> str:
        return next(
            line.split()[1] for line in output.splitlines() if line.strip().startswith(name)
        )

    async def is_live(key: str) -> bool:
        found: bool = await conn.fetchval(
            "SELECT revoked_at IS NULL FROM api_keys WHERE key_hash = $1",
            hashlib.sha256(key.encode()).digest(),
        )
        return found

    for name in ("admin_api_key", "merchant_api_key"):
        assert printed(first.stdout, name) != printed(second.stdout, name)
        assert not await is_live(printed(first.stdout, name))
        assert await is_live(printed(second.stdout, name))


def test_serve_with_an_unreachable_database_is_one_line(unused_port: int) -> None:
    url = f"postgresql://rewards@127.0.0.1:{unused_port}/rewards"
    result = rewards("serve", "--port", str(unused_port), database=url)
    one_clear_line(result, 1, "cannot reach the database")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{unused_port}/healthz", timeout=1)


def test_a_command_on_an_existing_tenant_never_makes_a_database(tmp_path: Path) -> None:
    """Run in the wrong folder, a command that reads or changes tenants says where it looked
    and makes nothing there."""
    folder = tmp_path / "elsewhere"
    for args in (
        ("tenant", "list"),
        ("tenant", "rotate-hook-secret", "--tenant", "demo-bank"),
        ("expire", "--dry-run"),
    ):
        result = rewards(*args, "--data-dir", str(folder), database=None)
        one_clear_line(result, 1, "no database in", str(folder.resolve()))
        assert not (folder / "pgdata").exists()


def test_an_unknown_tenant_names_the_database_looked_in(database: str) -> None:
    result = rewards("tenant", "rotate-member-secret", "--tenant", "no-such", database=database)
    one_clear_line(result, 1, "no tenant no-such", "DATABASE_URL")


def test_tenants_are_listed(database: str) -> None:
    for name, tenant_id in (("Bank One", "bank-1"), ("Bank Two", "bank-2")):
        made = rewards("tenant", "create", "--name", name, "--id", tenant_id, database=database)
        assert made.returncode == 0, made.stderr
    listed = rewards("tenant", "list", database=database)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["bank-1", "bank-2"]
    assert lines[0].endswith("Bank One")
    as_json = json.loads(rewards("tenant", "list", "--json", database=database).stdout)
    assert [t["tenant_id"] for t in as_json] == ["bank-1", "bank-2"]


def test_every_option_has_help_and_the_version_prints() -> None:
    from api.cli import build_parser

    def walk(parser: argparse.ArgumentParser, path: str) -> list[str]:
        bare = [
            f"{path} {action.option_strings[0]}"
            for action in parser._actions
            if action.option_strings and not action.help
        ]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    bare += walk(child, f"{path} {name}")
        return bare

    assert walk(build_parser(), "rewards") == []
    version = rewards("--version", database=None)
    assert version.returncode == 0
    assert version.stdout.startswith("rewards ")


async def test_running_the_demo_again_keeps_a_program_the_operator_changed(
    database: str, conn: asyncpg.Connection
) -> None:
    assert rewards("demo", database=database, timeout=300).returncode == 0
    await conn.execute(
        "UPDATE programs SET config = jsonb_set(config, '{base_rate}', '\"2\"') "
        "WHERE tenant_id = 'demo-bank'"
    )
    again = rewards("demo", database=database, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "kept" in again.stdout
    rate = "SELECT config ->> 'base_rate' FROM programs WHERE tenant_id = 'demo-bank'"
    assert await conn.fetchval(rate) == "2"
    reset = rewards("demo", "--reset", database=database, timeout=300)
    assert reset.returncode == 0, reset.stderr
    assert "kept" not in reset.stdout
    assert await conn.fetchval(rate) == "1"


def test_a_database_url_with_several_hosts_is_named_without_its_password() -> None:
    from api.cli import _where

    url = "postgresql://app:s3cret@10.0.0.11:5432,10.0.0.12:5432/rewards?target_session_attrs=any"
    assert _where(url) == "10.0.0.11:5432,10.0.0.12:5432/rewards"
