"""The operator's background jobs, replays of the rules over history, and explanations of
recorded transactions."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from api.auth import Admin, admin_guard
from api.deps import DbConn
from api.dto.jobs import (
    ComparedOut,
    ExplanationOut,
    JobErrorOut,
    JobErrorPage,
    JobOut,
    JobPage,
    Progress,
    ReplayIn,
    ReplayOut,
    ReplayPage,
)
from api.paging import CursorParam, Limit, decode_cursor, next_cursor, time_key
from rewards.jobs import service as jobs
from rewards.replays import explanations
from rewards.replays import service as replays

KindParam = Annotated[
    str | None,
    QueryParameter(
        description="Only jobs of this kind (replay, import, segment, grant).",
        pattern=r"^[a-z_]{1,32}(?!\n)$",
    ),
]


def job_out(job: jobs.Job) -> JobOut:
    return JobOut(
        job.job_id,
        job.job_id,
        job.kind,
        job.status,  # type: ignore[arg-type]
        Progress(job.progress_done, job.progress_total),
        job.counts,
        job.created_at,
        job.started_at,
        job.finished_at,
        job.error,
    )


def replay_out(replay: replays.Replay) -> ReplayOut:
    job, request = replay.job, replay.request
    fields: dict[str, Any] = {
        "id": job.job_id,
        "job_id": job.job_id,
        # A replay is running from the moment it is accepted (a job may still wait for a
        # worker; GET /v1/admin/jobs/{id} says so).
        "status": "running" if job.status == "queued" else job.status,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "from": request.from_,
        "to": request.to,
        "draw_samples": request.draw_samples,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "error": job.error,
    }
    if replay.result is not None:
        fields |= {k: v for k, v in replay.result.items() if k not in ("id", "from", "to")}
    return msgspec.convert(fields, ReplayOut, strict=False)


def _keys(found: list[jobs.Job]) -> list[str]:
    return [f"{j.created_at.isoformat()}|{j.job_id}" for j in found]


class AdminJobsController(Controller):
    """Background jobs (replays, imports, grants): progress, errors, cancel."""

    path = "/v1/admin/jobs"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin", "jobs"]  # noqa: RUF012

    @get("", summary="Background jobs, newest first")
    async def list_jobs(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        kind: KindParam = None,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> JobPage:
        found = await jobs.list_jobs(
            conn, caller.tenant_id, kind, time_key(decode_cursor(cursor, str)), limit
        )
        return JobPage([job_out(j) for j in found], next_cursor(_keys(found), limit))

    @get("/{job_id:str}", summary="A background job: status, progress, counts")
    async def get_job(
        self, job_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> JobOut:
        return job_out(await jobs.get(conn, caller.tenant_id, job_id))

    @get("/{job_id:str}/errors", summary="The lines (or items) a job could not apply")
    async def job_errors(
        self,
        job_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> JobErrorPage:
        after = decode_cursor(cursor, int)
        found = await jobs.errors(conn, caller.tenant_id, job_id, after, limit)
        return JobErrorPage(
            [JobErrorOut(e.line, e.item_id, e.problem) for e in found],
            next_cursor([e.line for e in found], limit),
        )

    @delete("/{job_id:str}", status_code=200, summary="Cancel a queued or running job")
    async def cancel_job(
        self, job_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> JobOut:
        return job_out(await jobs.cancel(conn, caller.tenant_id, job_id))


class AdminReplaysController(Controller):
    """Replays: what a draft of the rules would have cost over recorded history."""

    path = "/v1/admin/replays"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin", "replays"]  # noqa: RUF012

    @post(
        "",
        status_code=202,
        summary="Start a replay of [from, to) under the baseline and a draft (a background job)",
    )
    async def start(
        self, data: JSONBody[ReplayIn], caller: NamedDependency[Admin], conn: DbConn
    ) -> ReplayOut:
        request = msgspec.convert(msgspec.to_builtins(data), replays.ReplayRequest)
        job = await replays.start(conn, caller.tenant_id, caller.actor, request)
        return replay_out(replays.Replay(job, request, None))

    @get("", summary="Replays, newest first")
    async def list_replays(
        self,
        caller: NamedDependency[Admin],
        conn: DbConn,
        limit: Limit = 50,
        cursor: CursorParam = None,
    ) -> ReplayPage:
        found = await replays.list_replays(
            conn, caller.tenant_id, time_key(decode_cursor(cursor, str)), limit
        )
        return ReplayPage(
            [replay_out(r) for r in found], next_cursor(_keys([r.job for r in found]), limit)
        )

    @get("/{replay_id:str}", summary="A replay: progress, then totals, fidelity, rules, days")
    async def get_replay(
        self, replay_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> ReplayOut:
        return replay_out(await replays.get(conn, caller.tenant_id, replay_id))

    @delete("/{replay_id:str}", status_code=200, summary="Cancel a running replay")
    async def cancel_replay(
        self, replay_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> ReplayOut:
        return replay_out(await replays.cancel(conn, caller.tenant_id, replay_id))

    @get(
        "/{replay_id:str}/transactions/{transaction_id:str}",
        summary="One transaction in a replay: its explanation, and what each run gave",
    )
    async def compared(
        self,
        replay_id: FromPath[str],
        transaction_id: FromPath[str],
        caller: NamedDependency[Admin],
        conn: DbConn,
    ) -> ComparedOut:
        _, baseline, draft = await replays.compared(
            conn, caller.tenant_id, replay_id, transaction_id
        )
        explained = await explanations.explanation(conn, caller.tenant_id, transaction_id)
        answer = await explanations.recorded_answer(conn, caller.tenant_id, transaction_id)
        ledger = msgspec.json.decode(answer)
        return ComparedOut(
            transaction_id,
            msgspec.convert(msgspec.to_builtins(explained), ExplanationOut),
            ledger,
            msgspec.json.decode(baseline) if baseline else ledger,
            msgspec.json.decode(draft) if draft else ledger,
            baseline is not None,
            draft is not None,
        )


class AdminExplanationsController(Controller):
    path = "/v1/admin/transactions"
    guards = [admin_guard]  # noqa: RUF012
    security = [{"AdminKey": []}]  # noqa: RUF012
    tags = ["admin"]  # noqa: RUF012

    @get(
        "/{transaction_id:str}/explanation",
        summary="Why a recorded transaction earned what it did (configuration then in force)",
    )
    async def explanation(
        self, transaction_id: FromPath[str], caller: NamedDependency[Admin], conn: DbConn
    ) -> ExplanationOut:
        found = await explanations.explanation(conn, caller.tenant_id, transaction_id)
        return msgspec.convert(msgspec.to_builtins(found), ExplanationOut)
