"""`rewards import members`: a file moved in from the command line, with progress bars,
the counts and the first line errors; the sample files of the docs import cleanly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import pytest
from litestar import Litestar

from api.app import create_app
from api.settings import Settings
from tests.integration.conftest import Tenant
from tests.integration.invariants import check_ledger
from tests.integration.test_cli import one_clear_line, rewards

SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


@pytest.fixture
async def app(database: str) -> Litestar:
    # Jobs are left to the command line.
    return create_app(Settings(database_url=database, access_log=False, run_jobs=False))


async def test_the_sample_files_import_from_the_command_line(
    tenant: Tenant, database: str, conn: asyncpg.Connection
) -> None:
    csv = await asyncio.to_thread(
        rewards,
        "import",
        "members",
        str(SAMPLES / "members.csv"),
        "--tenant",
        tenant.id,
        database=database,
    )
    assert csv.returncode == 0, csv.stderr
    assert "created 3, updated 0, unchanged 0, failed 0" in csv.stdout
    assert "upload" in csv.stderr  # the progress bars
    assert "import" in csv.stderr
    same = await asyncio.to_thread(
        rewards,
        "import",
        "members",
        str(SAMPLES / "members.ndjson"),
        "--tenant",
        tenant.id,
        "--json",
        database=database,
    )
    assert same.returncode == 0, same.stderr
    found = json.loads(same.stdout)
    assert found["status"] == "done"
    assert found["counts"] == {"created": 0, "updated": 0, "unchanged": 3, "failed": 0}
    member = (
        await tenant.client.get("/v1/admin/members/6222000000000001", headers=tenant.admin)
    ).json()
    assert member["tier"] == "gold"
    assert (
        await conn.fetchval(
            "SELECT points_balance FROM members WHERE tenant_id = $1 AND member_id = $2",
            tenant.id,
            "6222000000000001",
        )
        == 15500
    )
    await check_ledger(conn)


async def test_bad_lines_are_listed_and_a_missing_file_is_one_clear_line(
    tenant: Tenant, database: str, tmp_path: Path
) -> None:
    path = tmp_path / "members.ndjson"
    path.write_bytes(b'{"member_id": "ok"}\nnot json\n{"member_id": "ok"}\n')
    done = await asyncio.to_thread(
        rewards, "import", "members", str(path), "--tenant", tenant.id, database=database
    )
    assert done.returncode == 0, done.stderr
    assert "created 1, updated 0, unchanged 0, failed 2" in done.stdout
    assert "line 2:" in done.stdout
    assert "line 3: member ok is on line 1 of this file" in done.stdout
    missing = await asyncio.to_thread(
        rewards,
        "import",
        "members",
        str(tmp_path / "nope.csv"),
        "--tenant",
        tenant.id,
        database=database,
    )
    one_clear_line(missing, 2, "cannot read")
    unknown = await asyncio.to_thread(
        rewards, "import", "members", str(path), "--tenant", "no-such-tenant", database=database
    )
    one_clear_line(unknown, 1, "no-such-tenant")
