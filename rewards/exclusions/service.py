"""Use case: exclusion lists — merchants, merchant names and acquirers whose purchases earn
nothing and match no offer (cash-out merchants, "repayment" apps), made by the operator and
filled in bulk by a job as segments are (replace, add or remove, from one entry a line).

The hook matches purchases against every list's entries held in memory by each serving
process (:func:`current`), reloaded only when the tenant's lists changed."""

from __future__ import annotations

from typing import Literal

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.errors import Conflict, NotFound
from rewards.core.exclusions import EMPTY, ExclusionSet, entry_lines
from rewards.exclusions import repository as exclusion_db
from rewards.jobs import service as jobs

ExclusionList = exclusion_db.ExclusionList
Mode = Literal["replace", "add", "remove"]
KIND = "exclusions"
CHUNK = 20_000

#: Each tenant's entries as this process last loaded them, by version.
_loaded: dict[str, ExclusionSet] = {}


class MatchFixed(Conflict):
    type = "exclusion_match_fixed"
    title = "An exclusion list keeps what it matches by"


class ExclusionsBusy(Conflict):
    type = "exclusions_busy"
    title = "The list's entries are being changed"


async def current(conn: Conn, tenant_id: str, version: int) -> ExclusionSet:
    """The tenant's lists at ``version`` (read by the caller with the hook's first
    statement), loaded once per change."""
    if version == 0:
        return EMPTY
    found = _loaded.get(tenant_id)
    if found is not None and found.version == version:
        return found
    # Entries read after the version are at least as new: at worst loaded again next time.
    fresh = ExclusionSet(version, await exclusion_db.entries(conn, tenant_id))
    _loaded[tenant_id] = fresh
    return fresh


async def put(
    conn: Conn, tenant_id: str, actor: str, list_id: str, name: str, match: str
) -> ExclusionList:
    """Create the list (no entries yet) or rename it (audited).

    Raises:
        MatchFixed: the list exists and matches by something else.
    """
    before = await exclusion_db.get(conn, tenant_id, list_id)
    if before is not None and before.match != match:
        raise MatchFixed(
            f"list {list_id} matches by {before.match}; make another list to match by {match}"
        )
    made = await exclusion_db.put(conn, tenant_id, list_id, name, match)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "exclusion.create" if made.created else "exclusion.update",
        "exclusion_list",
        list_id,
        {"name": before.name, "match": before.match} if before else None,
        {"name": name, "match": match},
    )
    return await get(conn, tenant_id, list_id)


async def get(conn: Conn, tenant_id: str, list_id: str) -> ExclusionList:
    found = await exclusion_db.get(conn, tenant_id, list_id)
    if found is None:
        raise NotFound(f"no exclusion list {list_id}")
    return found


list_lists = exclusion_db.list_lists


async def _lock_idle(conn: Conn, tenant_id: str, list_id: str) -> int:
    generation = await exclusion_db.lock(conn, tenant_id, list_id)
    if generation is None:
        raise NotFound(f"no exclusion list {list_id}")
    running = await exclusion_db.busy(conn, tenant_id, list_id)
    if running is not None:
        raise ExclusionsBusy(f"job {running} is changing list {list_id}'s entries")
    return generation


async def delete(conn: Conn, tenant_id: str, actor: str, list_id: str) -> None:
    """Delete a list: its entries exclude nothing from now on (audited)."""
    await _lock_idle(conn, tenant_id, list_id)
    await exclusion_db.delete(conn, tenant_id, list_id)
    await exclusion_db.changed(conn, tenant_id)
    await audit.record(
        conn, tenant_id, actor, "exclusion.delete", "exclusion_list", list_id, None, None
    )


async def start_entries_job(
    conn: Conn, tenant_id: str, actor: str, list_id: str, mode: Mode
) -> jobs.Job:
    """Queue an entries job of the list (its lines are stored by the caller in the same
    transaction).

    Raises:
        NotFound: no such list.
        ExclusionsBusy: another entries job of it has not ended.
    """
    await _lock_idle(conn, tenant_id, list_id)
    job = await jobs.submit(conn, tenant_id, actor, KIND, {"list_id": list_id, "mode": mode})
    await audit.record(
        conn,
        tenant_id,
        actor,
        f"exclusion.entries.{mode}",
        "exclusion_list",
        list_id,
        None,
        {"job_id": job.job_id, "mode": mode},
    )
    return job


prune = exclusion_db.prune


async def run(work: jobs.Work, chunk: int = CHUNK) -> jobs.Outcome:
    """The entries job: the uploaded values added, removed, or loaded as the list's next
    generation and switched to at the end; each chunk with its checkpoint."""
    tenant_id = work.tenant_id
    list_id: str = work.params["list_id"]
    mode: Mode = work.params["mode"]
    checkpoint = work.checkpoint or {}
    line: int = checkpoint.get("line", 0)
    done: int = checkpoint.get("done", 0)
    counts: dict[str, int] = checkpoint.get("counts") or _zero(mode)
    generation: int | None = checkpoint.get("generation")
    async with work.step() as step:
        listed = await exclusion_db.get(step.conn, tenant_id, list_id)
        if listed is None:
            raise NotFound(f"exclusion list {list_id} was deleted")
        match = listed.match
        if mode == "replace" and generation is None:
            generation = await exclusion_db.new_generation(step.conn, tenant_id)
        step.progress(
            done,
            checkpoint={"generation": generation, "line": line, "done": done, "counts": counts},
        )
    steps = 0
    while lines := await work.lines(line, chunk):
        steps += 1
        if steps > 1:
            await work.keep_statistics(steps - 1)
        parsed = entry_lines(lines, match)
        async with work.step() as step:
            if mode == "replace":
                assert generation is not None
                added = await exclusion_db.add(
                    step.conn, tenant_id, list_id, generation, parsed.values
                )
                counts["entries"] += added
                counts["duplicates"] += parsed.repeated + len(parsed.values) - added
            else:
                at = await exclusion_db.lock(step.conn, tenant_id, list_id)
                if at is None:
                    raise NotFound(f"exclusion list {list_id} was deleted")
                change = exclusion_db.add if mode == "add" else exclusion_db.remove
                changed = await change(step.conn, tenant_id, list_id, at, parsed.values)
                counts["added" if mode == "add" else "removed"] += changed
                counts["unchanged"] += parsed.repeated + len(parsed.values) - changed
                if changed:
                    await exclusion_db.changed(step.conn, tenant_id)
            counts["failed"] += len(parsed.problems)
            line, done = lines[-1][0], done + len(lines)
            step.progress(
                done,
                counts=counts,
                checkpoint={"generation": generation, "line": line, "done": done, "counts": counts},
                errors=parsed.problems,
            )
    if mode == "replace":
        assert generation is not None
        async with work.step() as step:
            at = await exclusion_db.lock(step.conn, tenant_id, list_id)
            if at is None:
                raise NotFound(f"exclusion list {list_id} was deleted")
            if at != generation:
                await exclusion_db.switch(step.conn, tenant_id, list_id, at, generation)
                await exclusion_db.changed(step.conn, tenant_id)
            step.progress(done, counts=counts)
    return jobs.Outcome(counts=counts)


def _zero(mode: Mode) -> dict[str, int]:
    if mode == "replace":
        return {"entries": 0, "duplicates": 0, "failed": 0}
    return {"added" if mode == "add" else "removed": 0, "unchanged": 0, "failed": 0}
