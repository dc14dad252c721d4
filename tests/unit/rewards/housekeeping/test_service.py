"""The periodic job, without a database: one process at a time, the upkeep handed over,
the lock always released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rewards.events import service as events
from rewards.exclusions import service as exclusions
from rewards.housekeeping import repository as job_db
from rewards.housekeeping import service as housekeeping
from rewards.idempotency import service as idempotency
from rewards.ledger import service as ledger
from rewards.segments import service as segments
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime.now(UTC)


def steps(monkeypatch: pytest.MonkeyPatch, calls: Calls, locked: bool, **more: Any) -> None:
    fake(monkeypatch, job_db, calls, try_job_lock=locked, job_unlock=None)
    fake(monkeypatch, ledger, calls, expire_due={"t": 5}, recompute_all_tiers=None)
    fake(monkeypatch, idempotency, calls, forget_before=None)
    fake(monkeypatch, events, calls, announce_expiring=0, prune=None, **more)
    fake(monkeypatch, segments, calls, prune=None)
    fake(monkeypatch, exclusions, calls, prune=None)


async def test_another_process_running_it_means_nothing_is_done(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    steps(monkeypatch, calls, locked=False)
    assert await housekeeping.run(CONN, NOW) is None
    assert calls.names() == ["try_job_lock"]


async def test_the_job_runs_every_step_and_the_upkeep_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    steps(monkeypatch, calls, locked=True)

    async def upkeep(conn: Any, now: datetime) -> None:
        calls.log.append(("upkeep", now))

    assert await housekeeping.run(CONN, NOW, timedelta(days=3), also=[upkeep]) == {"t": 5}
    assert calls.names() == [
        "try_job_lock",
        "expire_due",
        "forget_before",
        "upkeep",
        "recompute_all_tiers",
        "announce_expiring",
        "prune",
        "prune",
        "prune",
        "job_unlock",
    ]
    assert calls.of("forget_before") == [(NOW - housekeeping.IDEMPOTENCY_KEEP,)]
    assert calls.of("prune") == [
        (NOW, timedelta(days=3)),  # delivered events
        (NOW - housekeeping.SEGMENT_HISTORY,),  # segment history
        (),  # exclusion generations never switched to
    ]


async def test_the_lock_is_released_when_a_step_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()

    def broken(*_: Any) -> None:
        raise RuntimeError("the expiry failed")

    steps(monkeypatch, calls, locked=True)
    fake(monkeypatch, ledger, calls, expire_due=broken)
    with pytest.raises(RuntimeError):
        await housekeeping.run(CONN, NOW)
    assert calls.names()[-1] == "job_unlock"
