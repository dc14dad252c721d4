"""Use case: one member status for every member of a segment, by a job — a list of
delinquent cards from the bank's collections system loaded as a segment, then suspended at
once (or closed, forfeiting each one's available points, or reinstated).

The members are those of the segment when the job was asked for; each chunk of them is
one step with its checkpoint, so a job taken up again after a crash goes on from there."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.errors import ValidationFailed
from rewards.jobs import service as jobs
from rewards.ledger import service as ledger
from rewards.members import service as members
from rewards.segments import service as segments

KIND = "member_status"
CHUNK = 1000
Status = Literal["active", "suspended", "closed"]
STATUSES: tuple[str, ...] = ("active", "suspended", "closed")


async def start(conn: Conn, tenant_id: str, actor: str, segment_id: str, status: str) -> jobs.Job:
    """Queue the job for the segment's members as they are now (audited).

    Raises:
        NotFound: no such segment.
        ValidationFailed: not a status.
    """
    if status not in STATUSES:
        raise ValidationFailed(
            f"{status!r} is not a member status", errors=[("status", " | ".join(STATUSES))]
        )
    segment = await segments.get(conn, tenant_id, segment_id)
    params: dict[str, Any] = {
        "segment": segment.segment_id,
        "generation": segment.generation,
        "as_of": datetime.now(UTC).isoformat(),
        "status": status,
    }
    job = await jobs.submit(conn, tenant_id, actor, KIND, params, total=segment.members)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "segment.members.status",
        "segment",
        segment_id,
        None,
        {"job_id": job.job_id, "status": status, "members": segment.members},
    )
    return job


async def run(work: jobs.Work, chunk: int = CHUNK) -> jobs.Outcome:
    """Each chunk of the segment's members (in id order) gets the status in one step."""
    tenant_id, params = work.tenant_id, work.params
    status: str = params["status"]
    as_of = datetime.fromisoformat(params["as_of"])
    checkpoint = work.checkpoint or {}
    after: str | None = checkpoint.get("after")
    done: int = checkpoint.get("done", 0)
    counts: dict[str, int] = checkpoint.get("counts") or {
        "changed": 0,
        "unchanged": 0,
        "forfeited": 0,
    }
    while True:
        async with jobs.connection(work) as conn:
            ids = await segments.member_ids(
                conn, tenant_id, params["segment"], params["generation"], as_of, after, chunk
            )
        if not ids:
            return jobs.Outcome(counts=counts)
        async with work.step() as step:
            changed = await members.set_status_many(step.conn, tenant_id, ids, status)
            if status == "closed":
                for member_id in changed:
                    counts["forfeited"] += await ledger.forfeit(
                        step.conn, tenant_id, work.job.created_by, member_id
                    )
            counts["changed"] += len(changed)
            counts["unchanged"] += len(ids) - len(changed)
            after, done = ids[-1], done + len(ids)
            step.progress(
                done, counts=counts, checkpoint={"after": after, "done": done, "counts": counts}
            )
