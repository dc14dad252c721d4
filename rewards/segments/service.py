"""Use case: segments — named sets of members the program targets (``segment_in``), made by
the operator and filled in bulk (a membership job: replace, add or remove, from a list of
member ids), or a member's own set by the members' API and imports.

A replace loads the new members as a generation of their own beside the current one, then
switches to it in one short transaction: a purchase sees the old members or the new ones,
never a mix, and nothing waits on the members being loaded. One membership job of a segment
runs at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.bulk import member_id_lines
from rewards.core.errors import Conflict, NotFound
from rewards.jobs import service as jobs
from rewards.segments import repository as segment_db

Segment = segment_db.Segment
Mode = Literal["replace", "add", "remove"]
KIND = "segment"
CHUNK = 10_000


class SegmentBusy(Conflict):
    type = "segment_busy"
    title = "The segment's members are being changed"


async def put(
    conn: Conn, tenant_id: str, actor: str, segment_id: str, name: str, description: str
) -> Segment:
    """Create the segment (no members yet) or rename it (audited)."""
    before = await segment_db.get(conn, tenant_id, segment_id)
    segment = await segment_db.put(conn, tenant_id, segment_id, name, description)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "segment.create" if segment.created else "segment.update",
        "segment",
        segment_id,
        {"name": before.name, "description": before.description} if before else None,
        {"name": name, "description": description},
    )
    return await get(conn, tenant_id, segment_id)


async def get(conn: Conn, tenant_id: str, segment_id: str) -> Segment:
    found = await segment_db.get(conn, tenant_id, segment_id)
    if found is None:
        raise NotFound(f"no segment {segment_id}")
    return found


list_segments = segment_db.list_segments


async def delete(conn: Conn, tenant_id: str, actor: str, segment_id: str) -> None:
    """Delete a segment: its members are in it no more (audited).

    Raises:
        NotFound: no such segment.
        SegmentBusy: a membership job of it has not ended.
    """
    await _lock_idle(conn, tenant_id, segment_id)
    await segment_db.delete(conn, tenant_id, segment_id)
    await audit.record(conn, tenant_id, actor, "segment.delete", "segment", segment_id, None, None)


async def _lock_idle(conn: Conn, tenant_id: str, segment_id: str) -> int:
    generation = await segment_db.lock(conn, tenant_id, segment_id)
    if generation is None:
        raise NotFound(f"no segment {segment_id}")
    running = await segment_db.busy(conn, tenant_id, segment_id)
    if running is not None:
        raise SegmentBusy(f"job {running} is changing segment {segment_id}'s members")
    return generation


async def assign(conn: Conn, tenant_id: str, members: Mapping[str, Sequence[str]]) -> None:
    """Each member in exactly the segments given for it (segments not made yet are made,
    named by their ids)."""
    if not members:
        return
    await segment_db.ensure(conn, tenant_id, sorted({s for ss in members.values() for s in ss}))
    pairs = [(m, s) for m, ss in members.items() for s in sorted(set(ss))]
    await segment_db.set_members(conn, tenant_id, sorted(members), pairs)


async def start_members_job(
    conn: Conn, tenant_id: str, actor: str, segment_id: str, mode: Mode
) -> jobs.Job:
    """Queue a membership job of the segment (its lines are stored by the caller in the same
    transaction).

    Raises:
        NotFound: no such segment.
        SegmentBusy: another membership job of it has not ended.
    """
    await _lock_idle(conn, tenant_id, segment_id)
    job = await jobs.submit(conn, tenant_id, actor, KIND, {"segment_id": segment_id, "mode": mode})
    await audit.record(
        conn,
        tenant_id,
        actor,
        f"segment.members.{mode}",
        "segment",
        segment_id,
        None,
        {"job_id": job.job_id, "mode": mode},
    )
    return job


async def member_ids(
    conn: Conn,
    tenant_id: str,
    segment_id: str,
    generation: int,
    as_of: datetime,
    after: str | None,
    limit: int,
) -> list[str]:
    """The members of one generation of a segment as it stood at ``as_of``, in id order."""
    return await segment_db.member_ids(conn, tenant_id, segment_id, generation, as_of, after, limit)


prune = segment_db.prune


async def run(work: jobs.Work, chunk: int = CHUNK) -> jobs.Outcome:
    """The membership job: the uploaded ids added, removed, or loaded as the segment's next
    generation and switched to at the end; each chunk with its checkpoint."""
    tenant_id = work.tenant_id
    segment_id: str = work.params["segment_id"]
    mode: Mode = work.params["mode"]
    checkpoint = work.checkpoint or {}
    line: int = checkpoint.get("line", 0)
    done: int = checkpoint.get("done", 0)
    counts: dict[str, int] = checkpoint.get("counts") or _zero(mode)
    generation: int | None = checkpoint.get("generation")
    if mode == "replace" and generation is None:
        async with work.step() as step:
            if await segment_db.lock(step.conn, tenant_id, segment_id) is None:
                raise NotFound(f"segment {segment_id} was deleted")
            generation = await segment_db.new_generation(step.conn, tenant_id, segment_id)
            step.progress(done, checkpoint={"generation": generation, "line": 0, "counts": counts})
    steps = 0
    while lines := await work.lines(line, chunk):
        steps += 1
        if steps > 1:
            await work.keep_statistics(steps - 1)
        found = member_id_lines(lines)
        async with work.step() as step:
            if mode == "replace":
                assert generation is not None
                added = await segment_db.add(
                    step.conn, tenant_id, segment_id, generation, found.ids
                )
                counts["members"] += added
                counts["duplicates"] += found.repeated + len(found.ids) - added
            else:
                current = await segment_db.lock(step.conn, tenant_id, segment_id)
                if current is None:
                    raise NotFound(f"segment {segment_id} was deleted")
                change = segment_db.add if mode == "add" else segment_db.remove
                changed = await change(step.conn, tenant_id, segment_id, current, found.ids)
                counts["added" if mode == "add" else "removed"] += changed
                counts["unchanged"] += found.repeated + len(found.ids) - changed
            counts["failed"] += len(found.problems)
            line, done = lines[-1][0], done + len(lines)
            step.progress(
                done,
                counts=counts,
                checkpoint={"generation": generation, "line": line, "done": done, "counts": counts},
                errors=found.problems,
            )
    if mode == "replace":
        assert generation is not None
        async with work.step() as step:
            current = await segment_db.lock(step.conn, tenant_id, segment_id)
            if current is None:
                raise NotFound(f"segment {segment_id} was deleted")
            if current != generation:
                await segment_db.switch(step.conn, tenant_id, segment_id, current, generation)
            step.progress(done, counts=counts)
    return jobs.Outcome(counts=counts)


def _zero(mode: Mode) -> dict[str, int]:
    if mode == "replace":
        return {"members": 0, "duplicates": 0, "failed": 0}
    return {"added" if mode == "add" else "removed": 0, "unchanged": 0, "failed": 0}
