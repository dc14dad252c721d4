"""Use case: points held on a risk score. A purchase the bank's fraud engine scored above
the program's ``abuse.hold_above_score`` earns as usual, but its points wait in the ``held``
account; an operator releases them to the member or voids them (they go back to the
accounts that paid them). A refund before then claws back from what is held."""

from __future__ import annotations

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.errors import Conflict, NotFound
from rewards.holds import repository as holds_db
from rewards.ledger import service as ledger

Hold = holds_db.Hold


class HoldDecided(Conflict):
    type = "hold_decided"
    title = "The hold was already released, voided or refunded"


#: Holds of a state, oldest first.
list_holds = holds_db.list_holds


async def _open(conn: Conn, tenant_id: str, transaction_id: str) -> Hold:
    hold = await holds_db.lock(conn, tenant_id, transaction_id)
    if hold is None:
        raise NotFound(f"no hold on transaction {transaction_id}")
    if hold.status != "held":
        raise HoldDecided(f"the hold on {transaction_id} is {hold.status}")
    return hold


async def release(conn: Conn, tenant_id: str, actor: str, transaction_id: str) -> Hold:
    """What is still held becomes the member's, available now (audited).

    Raises:
        NotFound: no hold on that transaction.
        HoldDecided: it was released, voided or refunded already.
    """
    hold = await _open(conn, tenant_id, transaction_id)
    if hold.remaining > 0:
        await ledger.release_held(
            conn, tenant_id, hold.member_id, transaction_id, hold.remaining, hold.expires_at
        )
    return await _decided(conn, tenant_id, actor, hold, "released")


async def void(conn: Conn, tenant_id: str, actor: str, transaction_id: str) -> Hold:
    """What is still held goes back to the accounts that paid it (audited).

    Raises:
        NotFound: no hold on that transaction.
        HoldDecided: it was released, voided or refunded already.
    """
    hold = await _open(conn, tenant_id, transaction_id)
    parts = await holds_db.parts(conn, tenant_id, transaction_id)
    await ledger.void_held(conn, tenant_id, hold.member_id, transaction_id, parts)
    return await _decided(conn, tenant_id, actor, hold, "voided")


async def _decided(conn: Conn, tenant_id: str, actor: str, hold: Hold, status: str) -> Hold:
    done = await holds_db.decide(conn, tenant_id, hold.transaction_id, status, actor)
    await audit.record(
        conn,
        tenant_id,
        actor,
        f"hold.{'release' if status == 'released' else 'void'}",
        "transaction",
        hold.transaction_id,
        {"status": hold.status, "remaining": hold.remaining},
        {"status": status, "points": hold.remaining},
    )
    return done
