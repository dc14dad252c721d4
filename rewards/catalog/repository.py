"""Catalog items, code pools, redemptions, idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from db.queries import queries_beside
from db.types import Conn
from rewards.core.catalog import CatalogItem
from rewards.core.ledger import TransferPlan

sql = queries_beside(__file__)


class StoredItem(msgspec.Struct, frozen=True):
    item: CatalogItem
    stock_left: int | None
    redeemed: int
    active: bool
    created_at: datetime


class RedemptionRow(msgspec.Struct, frozen=True):
    redemption_id: str
    member_id: str
    sku: str
    quantity: int
    points_spent: int
    cash_due_minor: int
    codes: list[str]
    lots_taken: list[tuple[int, int]]
    status: str
    created_at: datetime
    cancel_until: datetime | None
    cancelled_at: datetime | None


def _item(row: Any) -> StoredItem:
    return StoredItem(
        msgspec.convert(row["definition"], CatalogItem),
        row["stock_left"],
        row["redeemed"],
        row["active"],
        row["created_at"],
    )


def _redemption(row: Any) -> RedemptionRow:
    return msgspec.convert(dict(row.items()), RedemptionRow)


async def insert_item(conn: Conn, tenant_id: str, item: CatalogItem, stock: int | None) -> bool:
    created = await conn.fetchval(
        sql("catalog_item_insert"),
        tenant_id,
        item.sku,
        msgspec.to_builtins(item),
        item.category,
        item.points_price,
        item.cash_price_minor,
        stock,
        item.active,
    )
    return created is not None


async def update_item(conn: Conn, tenant_id: str, item: CatalogItem, stock: int | None) -> None:
    await conn.execute(
        sql("catalog_item_update"),
        tenant_id,
        item.sku,
        msgspec.to_builtins(item),
        item.category,
        item.points_price,
        item.cash_price_minor,
        stock,
        item.active,
    )


async def get_item(
    conn: Conn, tenant_id: str, sku: str, *, lock: bool = False
) -> StoredItem | None:
    row = await conn.fetchrow(
        sql("catalog_item_get_for_update" if lock else "catalog_item_get"), tenant_id, sku
    )
    return None if row is None else _item(row)


async def start_redemption(
    conn: Conn, tenant_id: str, member_id: str, sku: str
) -> tuple[StoredItem, int] | None:
    """Enroll the member if new; the item as read (None: no such item) and the program's
    version."""
    row = await conn.fetchrow(sql("redemption_start"), tenant_id, member_id, sku)
    return None if row is None else (_item(row), row["program_version"])


async def list_items(
    conn: Conn,
    tenant_id: str,
    category: str | None,
    after: str | None,
    limit: int,
    *,
    active_only: bool = False,
) -> list[StoredItem]:
    rows = await conn.fetch(
        sql("catalog_item_list"), tenant_id, category, after, limit, active_only
    )
    return [_item(r) for r in rows]


async def add_codes(conn: Conn, tenant_id: str, sku: str, codes: list[str]) -> tuple[int, int]:
    """(codes added, stock left); codes already in the pool are skipped."""
    row = await conn.fetchrow(sql("catalog_codes_add"), tenant_id, sku, codes)
    assert row is not None
    return row["added"], row["stock_left"]


async def take_codes(
    conn: Conn, tenant_id: str, sku: str, quantity: int, redemption_id: str
) -> list[str]:
    rows = await conn.fetch(sql("catalog_codes_take"), tenant_id, sku, quantity, redemption_id)
    return [r["code"] for r in rows]


async def void_codes(conn: Conn, tenant_id: str, redemption_id: str) -> None:
    await conn.execute(sql("catalog_codes_void"), tenant_id, redemption_id)


async def give_back_stock(conn: Conn, tenant_id: str, sku: str, stock: int, redeemed: int) -> None:
    """Claim ``stock`` back into the item and ``redeemed`` off its count, at COMMIT."""
    await conn.execute(sql("catalog_stock_give_back"), tenant_id, sku, stock, redeemed)


async def used(conn: Conn, tenant_id: str, member_id: str, sku: str, since: datetime | None) -> int:
    value: int = await conn.fetchval(sql("redemptions_used"), tenant_id, member_id, sku, since)
    return value


async def used_by_sku(
    conn: Conn, tenant_id: str, member_id: str, periods: list[tuple[str, datetime | None]]
) -> dict[str, int]:
    if not periods:
        return {}
    rows = await conn.fetch(
        sql("redemptions_used_by_sku"),
        tenant_id,
        member_id,
        [p[0] for p in periods],
        [p[1] for p in periods],
    )
    return {r["sku"]: r["used"] for r in rows}


async def write_redemption(
    conn: Conn,
    tenant_id: str,
    redemption_id: str,
    member_id: str,
    sku: str,
    quantity: int,
    cash: int,
    codes: list[str],
    device: bytes | None,
    cancel_until: datetime | None,
    spent: TransferPlan | None,
    lots_taken: list[tuple[int, int]],
) -> datetime:
    """Record a redemption with the points it spends (``spent``, taken from the lots as
    ``lots_taken`` says) and reserve its stock; when it was made."""
    created: datetime = await conn.fetchval(
        sql("redemption_write"),
        tenant_id,
        redemption_id,
        member_id,
        sku,
        quantity,
        0 if spent is None else spent.amount,
        cash,
        codes,
        [list(t) for t in lots_taken],
        device,
        cancel_until,
        None if spent is None else spent.debit,
        None if spent is None else spent.credit,
        None if spent is None else spent.detail,
        [t[0] for t in lots_taken],
        [t[1] for t in lots_taken],
    )
    return created


async def redemption_for_update(
    conn: Conn, tenant_id: str, redemption_id: str, member_id: str
) -> RedemptionRow | None:
    row = await conn.fetchrow(sql("redemption_get_for_update"), tenant_id, redemption_id, member_id)
    return None if row is None else _redemption(row)


async def list_redemptions(
    conn: Conn, tenant_id: str, member_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[RedemptionRow]:
    rows = await conn.fetch(
        sql("redemption_list"),
        tenant_id,
        member_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_redemption(r) for r in rows]


async def mark_cancelled(conn: Conn, tenant_id: str, redemption_id: str) -> None:
    await conn.execute(sql("redemption_cancel"), tenant_id, redemption_id)


async def restore_lots(conn: Conn, tenant_id: str, lots_taken: list[tuple[int, int]]) -> None:
    """Put points back into lots that are no longer open (the balance is saved apart)."""
    await conn.execute(
        sql("lots_restore"), tenant_id, [t[0] for t in lots_taken], [t[1] for t in lots_taken]
    )
