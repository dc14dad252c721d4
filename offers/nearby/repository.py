"""The SQL of nearby searches and claims: the index's loads, the member's standing, claims."""

from __future__ import annotations

from datetime import datetime

import msgspec

from db.queries import queries_beside
from db.types import Conn
from offers.core.index import StoreRow
from offers.core.matching import OfferUse
from offers.core.offers import OfferState, StoredOffer, offer_state_of, store_of, stored_offer_of

sql = queries_beside(__file__)


async def claim(conn: Conn, tenant_id: str, member_id: str, offer_id: str) -> tuple[datetime, int]:
    row = await conn.fetchrow(sql("offer_claim"), tenant_id, member_id, offer_id)
    assert row is not None
    return row["claimed_at"], row["uses"]


class MemberClaim(msgspec.Struct, frozen=True):
    """An offer a member claimed: the offer as stored, when, and how often it was used."""

    offer: StoredOffer
    claimed_at: datetime
    uses: int


async def claims_of_member(
    conn: Conn,
    tenant_id: str,
    member_id: str,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[MemberClaim]:
    """The member's claims, newest first, after the (claimed at, offer id) of ``after``."""
    at, offer_id = after if after is not None else (None, None)
    rows = await conn.fetch(
        sql("offer_claims_of_member"), tenant_id, member_id, at, offer_id, limit
    )
    return [MemberClaim(stored_offer_of(r), r["claimed_at"], r["uses"]) for r in rows]


async def standing(
    conn: Conn, tenant_id: str, member_id: str, offer_ids: list[str]
) -> dict[str, OfferUse]:
    if not offer_ids:
        return {}
    rows = await conn.fetch(sql("offer_member_standing"), tenant_id, member_id, offer_ids)
    return {r["offer_id"]: OfferUse(r["claimed"], r["uses"]) for r in rows}


class MemberStanding(msgspec.Struct, frozen=True):
    """What a nearby search reads: versions to check the in-memory index against, and the
    member's targeting facts, claims and uses."""

    offers_version: int
    pruned_below: int
    time_zone: str | None  # None: the program is not set yet
    tier: str | None
    segments: list[str]
    card_products: list[str]
    claimed: frozenset[str]
    uses: dict[str, int]


async def nearby_member(conn: Conn, tenant_id: str, member_id: str) -> MemberStanding:
    r = await conn.fetchrow(sql("nearby_member"), tenant_id, member_id)
    assert r is not None  # one row always
    return MemberStanding(
        r["offers_version"],
        r["pruned_below"],
        r["time_zone"],
        r["tier"],
        list(r["segments"]),
        list(r["card_products"]),
        frozenset(r["claimed"]),
        dict(zip(r["used_offers"], r["uses"], strict=True)),
    )


async def offer_version(conn: Conn, tenant_id: str) -> int:
    version: int = await conn.fetchval(sql("offer_version"), tenant_id)
    return version


async def changed_merchants(conn: Conn, tenant_id: str, after: int, upto: int) -> list[str]:
    """Merchants whose offers or stores changed in versions (after, upto]."""
    rows = await conn.fetch(sql("offer_changes_since"), tenant_id, after, upto)
    return [r["merchant_id"] for r in rows]


async def all_active_offers(conn: Conn, tenant_id: str) -> dict[str, OfferState]:
    rows = await conn.fetch(sql("offers_active_all"), tenant_id)
    return {r["offer_id"]: offer_state_of(r) for r in rows}


async def stores_of_merchants(
    conn: Conn, tenant_id: str, merchant_ids: list[str]
) -> list[StoreRow]:
    """The live stores of these merchants, with their cells."""
    if not merchant_ids:
        return []
    rows = await conn.fetch(sql("stores_of_merchants"), tenant_id, merchant_ids)
    return [
        StoreRow(store_of(r), (r["h3_r6"], r["h3_r7"], r["h3_r8"], r["h3_r9"], r["h3_r10"]))
        for r in rows
    ]


async def prune_offer_changes(conn: Conn, before: datetime) -> None:
    """Forget offer changes made before ``before`` (all tenants: the periodic job)."""
    await conn.execute(sql("offer_changes_prune"), before)
