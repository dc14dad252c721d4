"""The jobs' use cases and runner, without a database: what a handler's outcome, refusal or
failure leaves, and a worker that lost its job stopping at its next report."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from rewards.core.errors import AlreadyExists, NotFound, ValidationFailed
from rewards.jobs import repository as job_db
from rewards.jobs import service as jobs
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def job(status: str = "running", kind: str = "replay", attempts: int = 1) -> job_db.JobRow:
    return job_db.JobRow(
        "t",
        "job_1",
        kind,
        status,
        {"x": 1},
        0,
        None,
        {},
        None,
        None,
        None,
        attempts,
        "admin",
        NOW,
        NOW,
        None,
    )


class FakePool:
    async def acquire(self, timeout: float | None = None) -> Any:  # noqa: ASYNC109 (asyncpg's)
        return CONN

    async def release(self, conn: Any) -> None:
        return None


async def test_a_job_id_taken_already_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, job_db, calls, insert=None)
    with pytest.raises(AlreadyExists):
        await jobs.submit(CONN, "t", "admin", "replay", {}, job_id="job_1")


async def test_a_job_of_another_kind_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    fake(monkeypatch, job_db, Calls(), get=job(kind="import"))
    with pytest.raises(NotFound):
        await jobs.get(CONN, "t", "job_1", "replay")


async def test_a_finished_job_is_not_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, job_db, calls, get=job("done"), cancel=None)
    with pytest.raises(jobs.JobNotRunning):
        await jobs.cancel(CONN, "t", "job_1")
    assert calls.names() == ["get", "cancel"]


@pytest.mark.parametrize(
    ("handler", "status", "error"),
    [
        ("done", "done", None),
        ("refused", "failed", "the draft is wrong"),
        ("bug", "failed", "the job failed on an internal error"),
    ],
)
async def test_what_a_handler_leaves(
    monkeypatch: pytest.MonkeyPatch, handler: str, status: str, error: str | None
) -> None:
    calls = Calls()
    fake(
        monkeypatch,
        job_db,
        calls,
        take=job(),
        finish=True,
        drop_lines=None,
        progress=True,
        add_errors=None,
        get=job("done"),
    )

    async def run(work: jobs.Work) -> jobs.Outcome:
        await work.progress(5, 10)
        if handler == "refused":
            raise ValidationFailed("the draft is wrong")
        if handler == "bug":
            raise KeyError("oops")
        return jobs.Outcome(b"{}", {"n": 1})

    runner = jobs.Runner(FakePool(), {"replay": run}, worker="w")  # type: ignore[arg-type]
    await runner.run_one()
    ((_, _, finished_status, result, counts, err, _),) = calls.of("finish")
    assert (finished_status, err) == (status, error)
    if status == "done":
        assert (result, counts) == (b"{}", {"n": 1})
    # No stack trace is kept: only the refusal's words, or that it was an internal error.
    assert "Traceback" not in (err or "")


async def test_a_worker_that_lost_its_job_stops_without_finishing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(
        monkeypatch,
        job_db,
        calls,
        take=job(),
        finish=True,
        drop_lines=None,
        progress=False,
        add_errors=None,
        get=job("cancelled"),
    )
    reached = []

    async def run(work: jobs.Work) -> jobs.Outcome:
        await work.progress(1, 10)  # cancelled meanwhile: raises Lost
        reached.append(True)
        return jobs.Outcome()

    await jobs.Runner(FakePool(), {"replay": run}, worker="w").run_one()  # type: ignore[arg-type]
    assert reached == []
    assert "finish" not in calls.names()


async def test_a_stopping_worker_hands_the_job_back_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    fake(
        monkeypatch,
        job_db,
        calls,
        take=job(),
        finish=True,
        drop_lines=None,
        progress=True,
        add_errors=None,
        release=None,
        get=job(),
    )
    runner = jobs.Runner(FakePool(), {}, worker="w")  # type: ignore[arg-type]

    async def run(work: jobs.Work) -> jobs.Outcome:
        runner.stop.set()
        await work.progress(1, 10)
        return jobs.Outcome()

    runner.handlers["replay"] = run
    await runner.run_one()
    assert "release" in calls.names()
    assert "finish" not in calls.names()


async def test_a_job_whose_workers_died_too_often_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(
        monkeypatch,
        job_db,
        calls,
        take=job(attempts=jobs.MAX_ATTEMPTS + 1),
        finish=True,
        drop_lines=None,
        get=job("failed"),
    )
    ran = asyncio.Event()

    async def run(work: jobs.Work) -> jobs.Outcome:
        ran.set()
        return jobs.Outcome()

    await jobs.Runner(FakePool(), {"replay": run}, worker="w").run_one()  # type: ignore[arg-type]
    assert not ran.is_set()
    ((_, _, status, *_),) = calls.of("finish")
    assert status == "failed"
