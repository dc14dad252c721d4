"""Use case: four eyes. With the program's ``approvals`` set, an adjustment over the
threshold, a change of an earn rule or a grant of more points a member than the threshold,
made with one admin key, is checked (run and rolled back, so a change that could not be
applied is refused at once) and waits as ``pending_approval`` until a different admin key
approves it — then it is applied, once, as it was asked for — or anyone rejects it. Both
keys are in the audit log."""

from __future__ import annotations

import secrets
from typing import Any, Literal

import msgspec

from db.types import Conn
from rewards.approvals import repository as approval_db
from rewards.audit import service as audit
from rewards.core.earning import EarnRule
from rewards.core.errors import Conflict, Forbidden, NotFound
from rewards.core.program import Approvals
from rewards.grants import service as grants
from rewards.ledger import service as ledger
from rewards.program import service as programs

Approval = approval_db.Approval
Kind = Literal["adjustment", "earn_rule.create", "earn_rule.update", "earn_rule.delete", "grant"]


class ApprovalDecided(Conflict):
    type = "approval_decided"
    title = "The change was approved or rejected already"


class OwnChange(Forbidden):
    type = "own_change"
    title = "A key cannot approve its own change"


class Pending(msgspec.Struct, frozen=True):
    approval_id: str
    status: str = "pending_approval"


async def needed(conn: Conn, tenant_id: str, kind: Kind, points: int | None = None) -> bool:
    """Whether the program's ``approvals`` make this change wait for a second key."""
    rules: Approvals | None = (
        await programs.compiled_for(conn, tenant_id)
    ).program.program.approvals
    if rules is None:
        return False
    if kind == "adjustment":
        over = rules.adjustment_points_over
        return over is not None and points is not None and abs(points) > over
    if kind == "grant":
        over = rules.grants_over_points
        return over is not None and points is not None and points > over
    return rules.rule_changes


async def gate(
    conn: Conn,
    tenant_id: str,
    actor: str,
    key_id: str,
    kind: Kind,
    change: dict[str, Any],
    summary: dict[str, Any],
    points: int | None = None,
) -> Pending | None:
    """The approval a change now waits for, or None: the caller applies it at once."""
    if not await needed(conn, tenant_id, kind, points):
        return None
    return await request(conn, tenant_id, actor, key_id, kind, change, summary)


class _Checked(Exception):
    """Leaves the savepoint a change was tried in."""


async def request(
    conn: Conn,
    tenant_id: str,
    actor: str,
    key_id: str,
    kind: Kind,
    change: dict[str, Any],
    summary: dict[str, Any],
) -> Pending:
    """Park a change for a second key, once it is known to apply now (it is run in a
    savepoint that is rolled back: a change that would be refused is refused here)."""
    try:
        async with conn.transaction():
            await _apply(conn, tenant_id, actor, kind, change)
            raise _Checked
    except _Checked:
        pass
    approval_id = "apv_" + secrets.token_hex(8)
    await approval_db.add(conn, tenant_id, approval_id, kind, summary, change, actor, key_id)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "approval.request",
        "approval",
        approval_id,
        None,
        {"kind": kind, **summary},
    )
    return Pending(approval_id)


async def approve(
    conn: Conn, tenant_id: str, actor: str, key_id: str, approval_id: str
) -> Approval:
    """Apply the change as it was asked for (once: a second approval waits on the first and
    finds it decided).

    Raises:
        NotFound: no such approval.
        ApprovalDecided: it was approved or rejected already.
        OwnChange: the key that asked for it approves it.
    """
    found = await _pending(conn, tenant_id, approval_id)
    if not key_id or key_id == found.requested_key:
        raise OwnChange(f"{approval_id} was asked for with this key: another admin key approves it")
    applied = f"{found.requested_by}; approved by {actor}"
    result = await _apply(conn, tenant_id, applied, found.kind, found.request)  # type: ignore[arg-type]
    done = await approval_db.decide(conn, tenant_id, approval_id, "approved", actor, key_id, result)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "approval.approve",
        "approval",
        approval_id,
        {"status": found.status},
        {"status": "approved", "kind": found.kind},
    )
    return done


async def reject(conn: Conn, tenant_id: str, actor: str, key_id: str, approval_id: str) -> Approval:
    """Drop the change: nothing of it is applied.

    Raises:
        NotFound: no such approval.
        ApprovalDecided: it was approved or rejected already.
    """
    found = await _pending(conn, tenant_id, approval_id)
    done = await approval_db.decide(conn, tenant_id, approval_id, "rejected", actor, key_id, None)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "approval.reject",
        "approval",
        approval_id,
        {"status": found.status},
        {"status": "rejected", "kind": found.kind},
    )
    return done


#: Approvals of a state, newest first.
list_approvals = approval_db.list_approvals


async def _pending(conn: Conn, tenant_id: str, approval_id: str) -> Approval:
    found = await approval_db.lock(conn, tenant_id, approval_id)
    if found is None:
        raise NotFound(f"no approval {approval_id}")
    if found.status != "pending_approval":
        raise ApprovalDecided(f"{approval_id} is {found.status}")
    return found


async def _apply(conn: Conn, tenant_id: str, actor: str, kind: Kind, change: dict[str, Any]) -> Any:
    """Make the change through its own use case; what it answered, as JSON."""
    if kind == "adjustment":
        done: Any = await ledger.adjust(
            conn, tenant_id, actor, change["member_id"], change["points"], change["reason"]
        )
    elif kind == "earn_rule.create":
        rule = msgspec.convert(change["rule"], EarnRule)
        done = await programs.create_rule(conn, tenant_id, actor, rule)
    elif kind == "earn_rule.update":
        done = await programs.patch_rule(
            conn, tenant_id, actor, change["rule_id"], change["changes"]
        )
    elif kind == "earn_rule.delete":
        await programs.delete_rule(conn, tenant_id, actor, change["rule_id"])
        done = {"deleted": change["rule_id"]}
    else:
        grant = msgspec.convert(change, grants.GrantRequest)
        done = await grants.start(conn, tenant_id, actor, grant)
    return msgspec.to_builtins(done)
