"""Use cases of the benefit catalog: items, the member's view, redemptions, cancels."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import msgspec

from db.types import Conn
from rewards.abuse import service as abuse
from rewards.audit import service as audit
from rewards.catalog import repository as catalog_db
from rewards.core import lots
from rewards.core.abuse import DeviceSighting
from rewards.core.catalog import (
    CancelRefused,
    CatalogItem,
    OutOfStock,
    cancel_deadline,
    generated_code,
    period_start,
    refusal,
    validate_item,
)
from rewards.core.errors import AlreadyExists, Conflict, NotFound, RewardsError
from rewards.core.events import NewEvent
from rewards.core.ledger import REDEEMED_ACCOUNT, TransferPlan, member_account
from rewards.core.lots import MemberState
from rewards.events import service as events
from rewards.ledger import service as ledger
from rewards.program.service import compiled_at, compiled_for

#: A catalog item with its stock, as stored.
ItemView = catalog_db.StoredItem


async def create_item(
    conn: Conn, tenant_id: str, actor: str, item: CatalogItem, codes: list[str]
) -> ItemView:
    validate_item(item, len(set(codes)))
    stock = 0 if item.fulfilment == "pool" else item.stock
    if not await catalog_db.insert_item(conn, tenant_id, item, stock):
        raise AlreadyExists(f"catalog item {item.sku} exists already")
    if codes:
        await catalog_db.add_codes(conn, tenant_id, item.sku, codes)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "catalog_item.create",
        "catalog_item",
        item.sku,
        None,
        msgspec.to_builtins(item) | {"codes_added": len(set(codes))},
    )
    return await get_item(conn, tenant_id, item.sku)


async def get_item(conn: Conn, tenant_id: str, sku: str) -> ItemView:
    stored = await catalog_db.get_item(conn, tenant_id, sku)
    if stored is None:
        raise NotFound(f"no catalog item {sku}")
    return stored


#: The tenant's items by sku, of one category or all, the active ones only if asked.
list_items = catalog_db.list_items


async def patch_item(
    conn: Conn, tenant_id: str, actor: str, sku: str, changes: dict[str, Any]
) -> ItemView:
    """Change an item. Setting ``stock`` on a generated-code item sets what is left."""
    current = await catalog_db.get_item(conn, tenant_id, sku)
    if current is None:
        raise NotFound(f"no catalog item {sku}")
    before = msgspec.to_builtins(current.item)
    item = msgspec.convert(before | changes | {"sku": sku}, CatalogItem)
    validate_item(item, 1 if item.fulfilment == "pool" else 0)
    if item.fulfilment != current.item.fulfilment:
        from rewards.core.errors import ValidationFailed

        raise ValidationFailed("fulfilment cannot change", errors=[("fulfilment", "cannot change")])
    stock = (
        current.stock_left if item.fulfilment == "pool" or "stock" not in changes else item.stock
    )
    await catalog_db.update_item(conn, tenant_id, item, stock)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "catalog_item.update",
        "catalog_item",
        sku,
        before,
        msgspec.to_builtins(item),
    )
    return await get_item(conn, tenant_id, sku)


class CodesNotTaken(Conflict):
    type = "codes_not_taken"
    title = "The item makes its own codes"


async def add_codes(
    conn: Conn, tenant_id: str, actor: str, sku: str, codes: list[str]
) -> tuple[int, int]:
    current = await catalog_db.get_item(conn, tenant_id, sku)
    if current is None:
        raise NotFound(f"no catalog item {sku}")
    if current.item.fulfilment != "pool":
        raise CodesNotTaken(f"{sku} makes its own codes; only pool items take uploaded codes")
    added, left = await catalog_db.add_codes(conn, tenant_id, sku, codes)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "catalog_item.codes_added",
        "catalog_item",
        sku,
        None,
        {"added": added, "stock_left": left},
    )
    return added, left


class MemberItem(msgspec.Struct, frozen=True):
    view: ItemView
    redeemable: bool
    reason: str | None


async def member_catalog(
    conn: Conn,
    tenant_id: str,
    member_id: str,
    category: str | None,
    after: str | None,
    limit: int,
) -> list[MemberItem]:
    """Active items, in sku order, with whether this member may redeem one now, and if not
    why."""
    compiled = await compiled_for(conn, tenant_id)
    zone = compiled.program.zone
    now = datetime.now(UTC)
    views = await list_items(conn, tenant_id, category, after, limit, active_only=True)
    members = await ledger.lock_members(conn, tenant_id, [member_id], lock=False)
    member = members.get(member_id)
    periods = [
        (v.item.sku, period_start(v.item.per_member_limit.per, now, zone))
        for v in views
        if v.item.per_member_limit is not None
    ]
    used = await catalog_db.used_by_sku(conn, tenant_id, member_id, periods)
    result = []
    for v in views:
        refused = refusal(
            v.item,
            active=v.item.active,
            stock_left=v.stock_left,
            member=member,
            used=used.get(v.item.sku, 0),
            quantity=1,
            now=now,
            zone=zone,
        )
        if refused is None and member is not None and not member.earns:
            refused = lots.MemberSuspended(f"member {member_id} is {member.status}")
        result.append(MemberItem(v, refused is None, None if refused is None else refused.type))
    return result


class Redemption(msgspec.Struct, frozen=True):
    id: str
    sku: str
    quantity: int
    points_spent: int
    cash_due_minor: int
    codes: list[str]
    status: str
    created_at: datetime
    cancel_until: datetime | None
    cancelled_at: datetime | None = None


async def redeem(
    conn: Conn,
    tenant_id: str,
    member_id: str,
    device: DeviceSighting | None,
    sku: str,
    quantity: int,
    *,
    locked: bool = False,
) -> Redemption | RewardsError:
    """Spend points (oldest lots first) for ``quantity`` of an item and hand out its codes.

    Stock never oversells and points never go below zero: the member is locked for the
    checks and the spend, codes are taken with SKIP LOCKED, and the item's stock is claimed
    and taken at COMMIT (migration 0009), so a popular item's row is locked only while a
    redemption commits. A COMMIT that finds the stock gone fails (``BudgetTaken``); the
    redemption is then made again ``locked``: the item's row is locked before its stock is
    read, which makes the out-of-stock answer exact.
    """
    now = datetime.now(UTC)
    started = await catalog_db.start_redemption(conn, tenant_id, member_id, sku)
    if started is None:
        raise NotFound(f"no catalog item {sku}")
    stored, version = started
    program = (await compiled_at(conn, tenant_id, version)).program
    zone = program.zone
    refused_device = await abuse.device_refused(
        conn, tenant_id, member_id, device, program.program.abuse, "redemption"
    )
    if refused_device is not None:
        return refused_device  # with its risk event, to be committed
    members = await ledger.lock_members(conn, tenant_id, [member_id])
    member: MemberState = members[member_id]
    lots.ensure_earns(member)
    if locked:
        # Members first, then the item: the order in which an unlocked redemption's COMMIT
        # takes them, so the two never wait on each other.
        relocked = await catalog_db.get_item(conn, tenant_id, sku, lock=True)
        assert relocked is not None
        stored = relocked
    item = stored.item
    since = None
    if item.per_member_limit is not None:
        since = period_start(item.per_member_limit.per, now, zone)
    used = (
        await catalog_db.used(conn, tenant_id, member_id, sku, since)
        if item.per_member_limit is not None
        else 0
    )
    refused = refusal(
        item,
        active=stored.active and item.active,
        stock_left=stored.stock_left,
        member=member,
        used=used,
        quantity=quantity,
        now=now,
        zone=zone,
    )
    if refused is not None:
        raise refused
    points = item.points_price * quantity
    taken = lots.spend(member, points, now) if points else []
    redemption_id = "rdm_" + secrets.token_hex(10)
    if item.fulfilment == "pool":
        codes = await catalog_db.take_codes(conn, tenant_id, sku, quantity, redemption_id)
        if len(codes) < quantity:
            raise OutOfStock(f"{sku} is out of stock")
    else:
        codes = [generated_code() for _ in range(quantity)]
    spent = None
    if points:
        spent = TransferPlan(
            member_account(member_id),
            REDEEMED_ACCOUNT,
            points,
            "redemption",
            member_id,
            None,
            {"redemption_id": redemption_id, "sku": sku, "quantity": quantity},
        )
    cancel_until = cancel_deadline(item, now)
    created = await catalog_db.write_redemption(
        conn,
        tenant_id,
        redemption_id,
        member_id,
        sku,
        quantity,
        item.cash_price_minor * quantity,
        codes,
        device.device if device else None,
        cancel_until,
        spent,
        taken,
    )
    made = Redemption(
        redemption_id,
        sku,
        quantity,
        points,
        item.cash_price_minor * quantity,
        codes,
        "completed",
        created,
        cancel_until,
    )
    if program.program.webhook_url is not None:  # else no event is kept: no round trip
        await _announce(conn, tenant_id, member_id, "redemption.created", made)
    return made


async def cancel(conn: Conn, tenant_id: str, member_id: str, redemption_id: str) -> Redemption:
    """Within the item's cancel window: points back to the lots they came from (keeping
    their expiry), stock back, codes void. After the window, or twice: 409."""
    found = await catalog_db.redemption_for_update(conn, tenant_id, redemption_id, member_id)
    if found is None:
        raise NotFound(f"no redemption {redemption_id}")
    now = datetime.now(UTC)
    if found.status == "cancelled":
        raise CancelRefused(f"{redemption_id} was cancelled already")
    if found.cancel_until is None or now > found.cancel_until:
        raise CancelRefused(f"{redemption_id} can no longer be cancelled")
    stored = await catalog_db.get_item(conn, tenant_id, found.sku)
    pool = stored is not None and stored.item.fulfilment == "pool"
    members = await ledger.lock_members(conn, tenant_id, [member_id])
    member = members[member_id]
    # A member who owes points (after a refund) repays that first.
    repay = min(found.points_spent, max(-member.balance, 0))
    back: list[tuple[int, int]] = []
    skip = repay
    for lot_id, points in found.lots_taken:
        use = min(points, skip)
        skip -= use
        if points - use:
            back.append((lot_id, points - use))
    by_id = {lot.lot_id: lot for lot in member.lots}
    for lot_id, points in back:
        if lot_id in by_id:
            by_id[lot_id].remaining += points
    member.balance += found.points_spent
    transfers = []
    if found.points_spent:
        transfers.append(
            TransferPlan(
                REDEEMED_ACCOUNT,
                member_account(member_id),
                found.points_spent,
                "redemption_cancel",
                member_id,
                None,
                {"redemption_id": redemption_id, "sku": found.sku},
            )
        )
    await ledger.write_transfers(conn, tenant_id, transfers, [member])
    # Lots emptied by the redemption were not loaded as open ones: restore them directly.
    closed = [(lot_id, points) for lot_id, points in back if lot_id not in by_id]
    if closed:
        await catalog_db.restore_lots(conn, tenant_id, closed)
    await catalog_db.void_codes(conn, tenant_id, redemption_id)
    await catalog_db.mark_cancelled(conn, tenant_id, redemption_id)
    # Codes of a pool are void, not handed out again: only generated-code stock comes back.
    await catalog_db.give_back_stock(
        conn, tenant_id, found.sku, 0 if pool else found.quantity, found.quantity
    )
    done = Redemption(
        found.redemption_id,
        found.sku,
        found.quantity,
        found.points_spent,
        found.cash_due_minor,
        found.codes,
        "cancelled",
        found.created_at,
        found.cancel_until,
        now,
    )
    await _announce(conn, tenant_id, member_id, "redemption.cancelled", done)
    return done


async def _announce(
    conn: Conn, tenant_id: str, member_id: str, kind: str, redemption: Redemption
) -> None:
    data = msgspec.to_builtins(redemption) | {"member_id": member_id}
    await events.emit(conn, tenant_id, [NewEvent(kind, member_id, data)])


async def list_redemptions(
    conn: Conn, tenant_id: str, member_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[Redemption]:
    rows = await catalog_db.list_redemptions(conn, tenant_id, member_id, after, limit)
    return [
        Redemption(
            r.redemption_id,
            r.sku,
            r.quantity,
            r.points_spent,
            r.cash_due_minor,
            r.codes,
            r.status,
            r.created_at,
            r.cancel_until,
            r.cancelled_at,
        )
        for r in rows
    ]
