"""Stores, offers, claims and offer redemptions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import msgspec

from db.queries import queries_beside
from db.types import Conn
from offers.core.geo import store_cells
from offers.core.matching import OfferRecord, OfferUse, OfferUseChange
from offers.core.offers import (
    Offer,
    OfferState,
    Store,
    StoredOffer,
    offer_state_of,
    store_of,
    stored_offer_of,
)
from offers.core.replay import Claim, OfferVersion

sql = queries_beside(__file__)


def _cells(lat: float, lng: float) -> list[int]:
    cells = store_cells(lat, lng)
    return [cells[r] for r in (6, 7, 8, 9, 10)]


async def insert_store(conn: Conn, tenant_id: str, store: Store) -> bool:
    created = await conn.fetchval(
        sql("store_insert"),
        tenant_id,
        store.store_id,
        store.merchant_id,
        store.name,
        store.address,
        store.lat,
        store.lng,
        *_cells(store.lat, store.lng),
    )
    return created is not None


async def insert_stores(conn: Conn, tenant_id: str, stores: list[Store]) -> None:
    """Many stores in one statement (the demo's city)."""
    cells = [_cells(s.lat, s.lng) for s in stores]
    await conn.execute(
        sql("stores_insert_many"),
        tenant_id,
        [s.store_id for s in stores],
        [s.merchant_id for s in stores],
        [s.name for s in stores],
        [s.address for s in stores],
        [s.lat for s in stores],
        [s.lng for s in stores],
        *[[c[i] for c in cells] for i in range(5)],
    )


async def update_store(conn: Conn, tenant_id: str, store: Store) -> None:
    await conn.execute(
        sql("store_update"),
        tenant_id,
        store.store_id,
        store.merchant_id,
        store.name,
        store.address,
        store.lat,
        store.lng,
        *_cells(store.lat, store.lng),
    )


async def delete_store(conn: Conn, tenant_id: str, merchant_id: str, store_id: str) -> bool:
    return await conn.fetchval(sql("store_delete"), tenant_id, store_id, merchant_id) is not None


async def get_store(conn: Conn, tenant_id: str, merchant_id: str, store_id: str) -> Store | None:
    row = await conn.fetchrow(sql("store_get"), tenant_id, store_id, merchant_id)
    return None if row is None else store_of(row)


async def list_stores(
    conn: Conn, tenant_id: str, merchant_id: str, after: str | None, limit: int
) -> list[Store]:
    rows = await conn.fetch(sql("store_list"), tenant_id, merchant_id, after, limit)
    return [store_of(r) for r in rows]


async def stores_of_merchant(
    conn: Conn, tenant_id: str, merchant_id: str, store_ids: list[str]
) -> set[str]:
    rows = await conn.fetch(sql("stores_of_merchant_among"), tenant_id, merchant_id, store_ids)
    return {r["store_id"] for r in rows}


async def insert_offer(conn: Conn, tenant_id: str, merchant_id: str, offer: Offer) -> bool:
    created = await conn.fetchval(
        sql("offer_insert"),
        tenant_id,
        offer.id,
        merchant_id,
        msgspec.to_builtins(offer),
        offer.category,
        not offer.store_ids,
    )
    if created is None:
        return False
    await set_offer_stores(conn, tenant_id, offer)
    return True


async def set_offer_stores(conn: Conn, tenant_id: str, offer: Offer) -> None:
    await conn.execute(sql("offer_stores_clear"), tenant_id, offer.id)
    if offer.store_ids:
        await conn.execute(sql("offer_stores_add"), tenant_id, offer.id, offer.store_ids)


async def update_offer(conn: Conn, tenant_id: str, offer: Offer) -> None:
    await conn.execute(
        sql("offer_update"),
        tenant_id,
        offer.id,
        msgspec.to_builtins(offer),
        offer.category,
        not offer.store_ids,
    )
    await set_offer_stores(conn, tenant_id, offer)


async def get_offer(conn: Conn, tenant_id: str, offer_id: str) -> StoredOffer | None:
    row = await conn.fetchrow(sql("offer_get"), tenant_id, offer_id)
    return None if row is None else stored_offer_of(row)


async def list_offers_of_merchant(
    conn: Conn, tenant_id: str, merchant_id: str, after: str | None, limit: int
) -> list[StoredOffer]:
    rows = await conn.fetch(sql("offer_list_by_merchant"), tenant_id, merchant_id, after, limit)
    return [stored_offer_of(r) for r in rows]


async def list_offers_by_status(
    conn: Conn, tenant_id: str, status: str | None, after: str | None, limit: int
) -> list[StoredOffer]:
    rows = await conn.fetch(sql("offer_list_by_status"), tenant_id, status, after, limit)
    return [stored_offer_of(r) for r in rows]


async def set_status(
    conn: Conn, tenant_id: str, offer_id: str, status: str, reason: str | None, allowed: list[str]
) -> bool:
    done = await conn.fetchval(
        sql("offer_set_status"), tenant_id, offer_id, status, reason, allowed
    )
    return done is not None


async def reserve_budgets(conn: Conn, tenant_id: str, deltas: dict[str, tuple[int, int]]) -> bool:
    if not deltas:
        return True
    ids = list(deltas)
    done = await conn.fetch(
        sql("offers_reserve_budgets"),
        tenant_id,
        ids,
        [deltas[i][0] for i in ids],
        [deltas[i][1] for i in ids],
    )
    return len(done) == len(ids)


class DayStats(msgspec.Struct, frozen=True):
    day: date
    claims: int
    redemptions: int
    reward_minor: int
    points: int
    spend_minor: int


async def stats(
    conn: Conn, tenant_id: str, offer_id: str, first: date, last: date, zone: str
) -> list[DayStats]:
    rows = await conn.fetch(sql("offer_stats"), tenant_id, offer_id, first, last)
    claims = {
        r["day"]: r["claims"]
        for r in await conn.fetch(sql("offer_claim_stats"), tenant_id, offer_id, first, last, zone)
    }
    days = {r["day"]: r for r in rows}
    return [
        DayStats(
            day,
            claims.get(day, 0),
            days[day]["redemptions"] if day in days else 0,
            days[day]["reward_minor"] if day in days else 0,
            days[day]["points"] if day in days else 0,
            days[day]["spend_minor"] if day in days else 0,
        )
        for day in sorted(set(days) | set(claims))
    ]


async def activate_all(conn: Conn, tenant_id: str, offer_ids: list[str]) -> None:
    """Approve many offers at once (the demo city)."""
    await conn.execute(sql("offers_activate_many"), tenant_id, offer_ids)


async def store_merchants(conn: Conn, tenant_id: str, store_ids: list[str]) -> dict[str, str]:
    if not store_ids:
        return {}
    rows = await conn.fetch(sql("store_merchants"), tenant_id, store_ids)
    return {r["store_id"]: r["merchant_id"] for r in rows}


async def offers_by_id(conn: Conn, tenant_id: str, offer_ids: list[str]) -> dict[str, OfferState]:
    if not offer_ids:
        return {}
    rows = await conn.fetch(sql("offers_by_id"), tenant_id, offer_ids)
    return {r["offer_id"]: offer_state_of(r) for r in rows}


async def lock_offers(
    conn: Conn, tenant_id: str, offer_ids: list[str]
) -> dict[str, tuple[int, int]]:
    rows = await conn.fetch(sql("offers_lock"), tenant_id, sorted(offer_ids))
    return {r["offer_id"]: (r["redemptions_used"], r["reward_used_minor"]) for r in rows}


async def member_uses(
    conn: Conn, tenant_id: str, member_ids: list[str], offer_ids: list[str]
) -> dict[tuple[str, str], OfferUse]:
    if not member_ids or not offer_ids:
        return {}
    rows = await conn.fetch(sql("offer_members_load"), tenant_id, member_ids, offer_ids)
    return {(r["member_id"], r["offer_id"]): OfferUse(r["claimed"], r["uses"]) for r in rows}


async def save_uses(conn: Conn, tenant_id: str, uses: Sequence[OfferUseChange]) -> None:
    """Members' uses of offers after the batch."""
    await conn.execute(
        sql("offer_members_save"),
        tenant_id,
        [u.member_id for u in uses],
        [u.offer_id for u in uses],
        [u.uses for u in uses],
    )


async def insert_records(conn: Conn, tenant_id: str, records: Sequence[OfferRecord]) -> None:
    if records:
        r = records
        await conn.execute(
            sql("offer_redemptions_insert"),
            tenant_id,
            [x.offer_id for x in r],
            [x.transaction_id for x in r],
            [x.member_id for x in r],
            [x.original_id for x in r],
            [x.uses for x in r],
            [x.reward_minor for x in r],
            [x.points for x in r],
            [x.spend_minor for x in r],
            [x.day for x in r],
            [x.share_pct for x in r],
            [x.fee_per_match for x in r],
            [x.merchant_id for x in r],
            [x.store_id for x in r],
            [x.occurred_at for x in r],
        )


async def active_offers_of_merchants(
    conn: Conn, tenant_id: str, merchant_ids: list[str]
) -> dict[str, OfferState]:
    if not merchant_ids:
        return {}
    rows = await conn.fetch(sql("offers_active_of_merchants"), tenant_id, merchant_ids)
    return {r["offer_id"]: offer_state_of(r) for r in rows}


# --- what a replay reads: offers over time, budgets and claims when its window opened ------


async def offer_history(conn: Conn, tenant_id: str) -> list[OfferVersion]:
    rows = await conn.fetch(sql("offer_history"), tenant_id)
    return [
        OfferVersion(
            r["offer_id"],
            r["valid_from"],
            r["document"]["merchant_id"],
            r["document"]["status"],
            msgspec.convert(r["document"]["definition"], Offer),
        )
        for r in rows
    ]


async def budgets_since(
    conn: Conn, tenant_id: str, first_seq: int
) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """Each offer's (uses, reward) before transaction ``first_seq``, and its merchant."""
    rows = await conn.fetch(sql("offer_budgets_since"), tenant_id, first_seq)
    return (
        {r["offer_id"]: (max(r["used"], 0), max(r["reward"], 0)) for r in rows},
        {r["offer_id"]: r["merchant_id"] for r in rows},
    )


async def claims_since(conn: Conn, tenant_id: str, first_seq: int) -> list[Claim]:
    rows = await conn.fetch(sql("offer_claims_since"), tenant_id, first_seq)
    return [Claim(r["member_id"], r["offer_id"], r["claimed_at"], max(r["uses"], 0)) for r in rows]


async def all_store_merchants(conn: Conn, tenant_id: str) -> dict[str, str]:
    rows = await conn.fetch(sql("store_merchants_all"), tenant_id)
    return {r["store_id"]: r["merchant_id"] for r in rows}


async def merchant_offer_history(
    conn: Conn, tenant_id: str, merchant_id: str, upto: datetime
) -> list[OfferVersion]:
    rows = await conn.fetch(sql("offer_history_of_merchant"), tenant_id, merchant_id, upto)
    return [
        OfferVersion(
            r["offer_id"],
            r["valid_from"],
            r["document"]["merchant_id"],
            r["document"]["status"],
            msgspec.convert(r["document"]["definition"], Offer),
        )
        for r in rows
    ]


async def standing_before(
    conn: Conn, tenant_id: str, member_id: str, at: datetime, seq: int
) -> dict[str, OfferUse]:
    rows = await conn.fetch(sql("offer_standing_before"), tenant_id, member_id, at, seq)
    return {r["offer_id"]: OfferUse(r["claimed"], r["uses"]) for r in rows}


async def store_merchant(conn: Conn, tenant_id: str, store_id: str) -> str | None:
    found: str | None = await conn.fetchval(sql("store_merchant"), tenant_id, store_id)
    return found


async def offer_version_as_of(
    conn: Conn, tenant_id: str, offer_id: str, moment: datetime
) -> OfferVersion | None:
    row = await conn.fetchrow(sql("offer_version_as_of"), tenant_id, offer_id, moment)
    if row is None:
        return None
    doc = row["document"]
    return OfferVersion(
        offer_id,
        row["valid_from"],
        doc["merchant_id"],
        doc["status"],
        msgspec.convert(doc["definition"], Offer),
    )


async def claim_many(conn: Conn, tenant_id: str, offer_id: str, member_ids: Sequence[str]) -> None:
    if member_ids:
        await conn.execute(sql("offer_claim_many"), tenant_id, offer_id, sorted(member_ids))


async def segments_named(
    conn: Conn, tenant_id: str, known_version: int | None
) -> tuple[int, list[str] | None]:
    """The offers' version, and (when it is not ``known_version``) the segments they target."""
    row = await conn.fetchrow(sql("offer_segments_named"), tenant_id, known_version)
    assert row is not None
    return row["version"], None if row["segments"] is None else list(row["segments"])
