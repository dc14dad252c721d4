"""Use cases of the merchant portal and the operator's review: stores and offers."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from db.types import Conn
from offers.core.explanations import explain_offers
from offers.core.matching import OfferBook, OfferEffects
from offers.core.offers import Offer, Store, StoredOffer, effective_status, validate_offer
from offers.core.replay import OfferTimeline, draft_offers
from offers.publishing import repository as offer_db
from rewards.audit import service as audit
from rewards.core.awards import Original
from rewards.core.conditions import Facts
from rewards.core.errors import AlreadyExists, Conflict, NotFound, ValidationFailed
from rewards.core.explanations import MatchOutcome
from rewards.core.transactions import CardTransaction
from rewards.program.service import compiled_for


class OfferStateConflict(Conflict):
    type = "offer_state_conflict"
    title = "The offer is not in a state that allows this"


def _check_coordinates(lat: float, lng: float) -> None:
    errors = []
    if not -90 <= lat <= 90:
        errors.append(("lat", "between -90 and 90"))
    if not -180 <= lng <= 180:
        errors.append(("lng", "between -180 and 180"))
    if errors:
        raise ValidationFailed("; ".join(f"{f}: {m}" for f, m in errors), errors=errors)


async def create_store(conn: Conn, tenant_id: str, actor: str, store: Store) -> Store:
    _check_coordinates(store.lat, store.lng)
    store = (
        store
        if store.store_id
        else msgspec.structs.replace(store, store_id="st_" + secrets.token_hex(8))
    )
    if not await offer_db.insert_store(conn, tenant_id, store):
        raise AlreadyExists(f"store {store.store_id} exists already")
    await audit.record(
        conn,
        tenant_id,
        actor,
        "store.create",
        "store",
        store.store_id,
        None,
        msgspec.to_builtins(store),
    )
    return store


async def get_store(conn: Conn, tenant_id: str, merchant_id: str, store_id: str) -> Store:
    found = await offer_db.get_store(conn, tenant_id, merchant_id, store_id)
    if found is None:
        raise NotFound(f"no store {store_id}")
    return found


async def list_stores(
    conn: Conn, tenant_id: str, merchant_id: str, after: str | None, limit: int
) -> list[Store]:
    return await offer_db.list_stores(conn, tenant_id, merchant_id, after, limit)


async def patch_store(
    conn: Conn, tenant_id: str, actor: str, merchant_id: str, store_id: str, changes: dict[str, Any]
) -> Store:
    current = await get_store(conn, tenant_id, merchant_id, store_id)
    store = msgspec.convert(msgspec.to_builtins(current) | changes, Store)
    _check_coordinates(store.lat, store.lng)
    await offer_db.update_store(conn, tenant_id, store)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "store.update",
        "store",
        store_id,
        msgspec.to_builtins(current),
        msgspec.to_builtins(store),
    )
    return store


async def delete_store(
    conn: Conn, tenant_id: str, actor: str, merchant_id: str, store_id: str
) -> None:
    current = await get_store(conn, tenant_id, merchant_id, store_id)
    await offer_db.delete_store(conn, tenant_id, merchant_id, store_id)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "store.delete",
        "store",
        store_id,
        msgspec.to_builtins(current),
        None,
    )


async def _check_stores(conn: Conn, tenant_id: str, merchant_id: str, offer: Offer) -> None:
    if not offer.store_ids:
        return
    mine = await offer_db.stores_of_merchant(conn, tenant_id, merchant_id, offer.store_ids)
    foreign = [s for s in offer.store_ids if s not in mine]
    if foreign:
        raise ValidationFailed(
            f"not stores of this merchant: {', '.join(foreign)}",
            errors=[("store_ids", f"{s} is not one of your stores") for s in foreign],
        )


async def create_offer(
    conn: Conn, tenant_id: str, actor: str, merchant_id: str, offer: Offer
) -> StoredOffer:
    """A new offer waits for the operator's review (``pending_review``)."""
    validate_offer(offer)
    await _check_stores(conn, tenant_id, merchant_id, offer)
    if not await offer_db.insert_offer(conn, tenant_id, merchant_id, offer):
        raise AlreadyExists(f"offer {offer.id} exists already")
    await audit.record(
        conn, tenant_id, actor, "offer.create", "offer", offer.id, None, msgspec.to_builtins(offer)
    )
    return await get_offer(conn, tenant_id, offer.id)


async def get_offer(
    conn: Conn, tenant_id: str, offer_id: str, merchant_id: str | None = None
) -> StoredOffer:
    """An offer of the tenant (and of the merchant, when one asks)."""
    found = await offer_db.get_offer(conn, tenant_id, offer_id)
    if found is None or (merchant_id is not None and found.merchant_id != merchant_id):
        raise NotFound(f"no offer {offer_id}")
    return found


async def offer_as_of(conn: Conn, tenant_id: str, offer_id: str, moment: datetime) -> StoredOffer:
    """An offer as it stood at ``moment`` (its definition and status then; what its budget
    has paid, as of now).

    Raises:
        NotFound: it did not exist then.
    """
    current = await get_offer(conn, tenant_id, offer_id)
    then = await offer_db.offer_version_as_of(conn, tenant_id, offer_id, moment)
    if then is None:
        raise NotFound(f"no offer {offer_id} at {moment.isoformat()}")
    return msgspec.structs.replace(
        current, offer=then.offer, merchant_id=then.merchant_id, status=then.status
    )


def status_of(stored: StoredOffer, now: datetime | None = None) -> str:
    return effective_status(stored.status, stored.offer, now or datetime.now(UTC))


async def list_offers(
    conn: Conn, tenant_id: str, merchant_id: str, after: str | None, limit: int
) -> list[StoredOffer]:
    return await offer_db.list_offers_of_merchant(conn, tenant_id, merchant_id, after, limit)


async def list_for_review(
    conn: Conn, tenant_id: str, status: str | None, after: str | None, limit: int
) -> list[StoredOffer]:
    return await offer_db.list_offers_by_status(conn, tenant_id, status, after, limit)


async def patch_offer(
    conn: Conn, tenant_id: str, actor: str, merchant_id: str, offer_id: str, changes: dict[str, Any]
) -> StoredOffer:
    """Change an offer; a change to an offer already reviewed sends it back to review."""
    current = await get_offer(conn, tenant_id, offer_id, merchant_id)
    before = msgspec.to_builtins(current.offer)
    offer = msgspec.convert(before | changes | {"id": offer_id}, Offer)
    validate_offer(offer)
    await _check_stores(conn, tenant_id, merchant_id, offer)
    await offer_db.update_offer(conn, tenant_id, offer)
    if current.status in ("active", "paused", "exhausted", "rejected"):
        await offer_db.set_status(
            conn,
            tenant_id,
            offer_id,
            "pending_review",
            None,
            ["active", "paused", "exhausted", "rejected"],
        )
    await audit.record(
        conn,
        tenant_id,
        actor,
        "offer.update",
        "offer",
        offer_id,
        before,
        msgspec.to_builtins(offer),
    )
    return await get_offer(conn, tenant_id, offer_id)


_TRANSITIONS = {
    "approve": ("active", ["pending_review"]),
    "reject": ("rejected", ["pending_review"]),
    "pause": ("paused", ["active", "exhausted"]),
    "resume": ("active", ["paused"]),
}


async def transition(
    conn: Conn,
    tenant_id: str,
    actor: str,
    offer_id: str,
    action: str,
    *,
    merchant_id: str | None = None,
    reason: str | None = None,
) -> StoredOffer:
    """approve / reject (operator), pause / resume (merchant); 409 from the wrong state."""
    current = await get_offer(conn, tenant_id, offer_id, merchant_id)
    target, allowed = _TRANSITIONS[action]
    if status_of(current) == "ended":
        raise OfferStateConflict(f"offer {offer_id} has ended")
    if not await offer_db.set_status(conn, tenant_id, offer_id, target, reason, allowed):
        raise OfferStateConflict(
            f"offer {offer_id} is {current.status}; {action} needs {' or '.join(allowed)}"
        )
    if target == "active" and action == "resume":
        # A resumed offer whose budget is spent is exhausted, not active.
        await offer_db.reserve_budgets(conn, tenant_id, {offer_id: (0, 0)})
    await audit.record(
        conn,
        tenant_id,
        actor,
        f"offer.{action}",
        "offer",
        offer_id,
        {"status": current.status},
        {"status": target, "reason": reason},
    )
    return await get_offer(conn, tenant_id, offer_id)


async def stats(
    conn: Conn,
    tenant_id: str,
    merchant_id: str,
    offer_id: str,
    first: date | None,
    last: date | None,
) -> list[offer_db.DayStats]:
    """Per day: claims, redemptions, reward paid and matched spend (refunds netted)."""
    await get_offer(conn, tenant_id, offer_id, merchant_id)
    program = (await compiled_for(conn, tenant_id)).program
    last = last or datetime.now(program.zone).date()
    first = first or last - timedelta(days=30)
    if first > last:
        raise ValidationFailed("from must not be after to", errors=[("from", "after to")])
    return await offer_db.stats(conn, tenant_id, offer_id, first, last, program.program.time_zone)


async def import_approved(
    conn: Conn, tenant_id: str, stores: list[Store], offers: list[tuple[str, Offer]]
) -> None:
    """Load stores and offers that need no review (the demo's city): written as they are,
    active at once, without audit entries. Offers whose id exists already are left alone."""
    await offer_db.insert_stores(conn, tenant_id, stores)
    created = [
        offer.id
        for merchant_id, offer in offers
        if await offer_db.insert_offer(conn, tenant_id, merchant_id, offer)
    ]
    await offer_db.activate_all(conn, tenant_id, created)


# --- the offer book, for the hook's card-linked matching and the nearby index ---------------

#: The active offers of these merchants.
active_offers_of_merchants = offer_db.active_offers_of_merchants


async def offer_book(
    conn: Conn,
    tenant_id: str,
    batch: Sequence[CardTransaction],
    originals: Mapping[str, Original],
    *,
    lock: bool,
) -> OfferBook:
    """The offers the batch's purchases may get and its refunds may release, with the
    members' claims and uses (members are locked already) and the budgets as read."""
    purchases = [tx for tx in batch if tx.kind == "purchase"]
    stores = await offer_db.store_merchants(
        conn, tenant_id, sorted({tx.store_id for tx in purchases if tx.store_id})
    )
    merchants = sorted(
        {stores.get(tx.store_id or "", tx.merchant_id or "") for tx in purchases} - {""}
    )
    offers = await offer_db.active_offers_of_merchants(conn, tenant_id, merchants)
    released = sorted(
        {
            o.offer_id
            for tx in batch
            if tx.kind != "purchase" and tx.original_id in originals
            for o in originals[tx.original_id or ""].award.offers
        }
        - set(offers)
    )
    offers |= await offer_db.offers_by_id(conn, tenant_id, released)
    if not offers:
        return OfferBook({}, stores, {})
    if lock:
        for offer_id, (used, reward) in (
            await offer_db.lock_offers(conn, tenant_id, list(offers))
        ).items():
            offers[offer_id].redemptions_used = used
            offers[offer_id].reward_used = reward
    uses = await offer_db.member_uses(
        conn, tenant_id, sorted({tx.member_id for tx in batch}), sorted(offers)
    )
    return OfferBook(offers, stores, uses)


async def save_offer_effects(conn: Conn, tenant_id: str, effects: OfferEffects) -> None:
    """Write what a batch's plan changed of offers: members' uses and redemption records
    (its budget reservations go with the ledger's write)."""
    if effects.uses:
        await offer_db.save_uses(conn, tenant_id, effects.uses)
    if effects.records:
        await offer_db.insert_records(conn, tenant_id, effects.records)


async def offer_timeline(
    conn: Conn,
    tenant_id: str,
    first_seq: int,
    upsert: Sequence[Mapping[str, Any]],
    remove: Sequence[str],
) -> OfferTimeline:
    """Offers over a replay from the transaction numbered ``first_seq`` on: every version,
    budgets and claims as they stood then, and a draft's offers laid over them."""
    budgets, merchants = await offer_db.budgets_since(conn, tenant_id, first_seq)
    return OfferTimeline(
        await offer_db.offer_history(conn, tenant_id),
        await offer_db.all_store_merchants(conn, tenant_id),
        budgets,
        await offer_db.claims_since(conn, tenant_id, first_seq),
        draft_offers(upsert, merchants),
        remove,
    )


class CardLinkedOffers:
    """The hook's port to merchant offers (``rewards.core.card_linked.CardLinked``): what a
    batch may touch, and what its plan changed. ``api/app.py`` wires it in."""

    async def matcher(
        self,
        conn: Conn,
        tenant_id: str,
        batch: Sequence[CardTransaction],
        originals: Mapping[str, Original],
        *,
        lock: bool,
    ) -> OfferBook:
        return await offer_book(conn, tenant_id, batch, originals, lock=lock)

    async def save(self, conn: Conn, tenant_id: str, effects: OfferEffects) -> None:
        await save_offer_effects(conn, tenant_id, effects)

    def __init__(self) -> None:
        # tenant -> (offers version, the segments its offers target then)
        self._named: dict[str, tuple[int, frozenset[str]]] = {}

    async def segments_named(self, conn: Conn, tenant_id: str) -> frozenset[str]:
        """``rewards.core.card_linked.CardLinked``: the segments the tenant's offers target,
        read again only when its offers changed."""
        cached = self._named.get(tenant_id)
        version, found = await offer_db.segments_named(
            conn, tenant_id, cached[0] if cached else None
        )
        if found is None and cached is not None:
            return cached[1]
        named = frozenset(found or ())
        self._named[tenant_id] = (version, named)
        return named

    async def check_claimable(self, conn: Conn, tenant_id: str, offer_id: str) -> None:
        """``rewards.core.card_linked.GrantedClaims``: an offer a grant may claim (active now)."""
        found = await get_offer(conn, tenant_id, offer_id)
        status = effective_status(found.status, found.offer, datetime.now(UTC))
        if status in ("pending_review", "rejected"):
            raise NotFound(f"no offer {offer_id}")
        if status != "active":
            raise Conflict(f"offer {offer_id} is {status}; only an active offer is granted")

    async def claim_many(
        self, conn: Conn, tenant_id: str, offer_id: str, member_ids: Sequence[str]
    ) -> None:
        """``rewards.core.card_linked.GrantedClaims``: the offer claimed for each member."""
        await offer_db.claim_many(conn, tenant_id, offer_id, member_ids)

    async def timeline(
        self,
        conn: Conn,
        tenant_id: str,
        first_seq: int,
        upsert: Sequence[Mapping[str, Any]],
        remove: Sequence[str],
    ) -> OfferTimeline:
        """``rewards.core.card_linked.CardLinkedHistory``: offers over one run of a replay."""
        return await offer_timeline(conn, tenant_id, first_seq, upsert, remove)

    async def explain(
        self,
        conn: Conn,
        tenant_id: str,
        tx: CardTransaction,
        facts: Facts,
        seq: int,
        at: datetime,
        applied: Mapping[str, tuple[int, int]],
    ) -> list[MatchOutcome]:
        """``rewards.core.card_linked.CardLinkedHistory``: the merchant's offers against a
        recorded purchase, as they stood when it was recorded."""
        merchant_id = tx.merchant_id
        if tx.store_id is not None:
            merchant_id = await offer_db.store_merchant(conn, tenant_id, tx.store_id) or merchant_id
        if merchant_id is None:
            return []
        history = await offer_db.merchant_offer_history(conn, tenant_id, merchant_id, at)
        latest = {v.offer_id: v for v in history}  # in the order they took effect
        uses = await offer_db.standing_before(conn, tenant_id, tx.member_id, at, seq)
        program = (await compiled_for(conn, tenant_id)).program
        return explain_offers(
            tx,
            facts,
            merchant_id,
            list(latest.values()),
            uses,
            applied,
            program.base_points(tx.amount_minor, tx.mcc),
        )

    def check(self, upsert: Sequence[Mapping[str, Any]]) -> None:
        """Refuse a draft's offers that could not be published (422)."""
        draft_offers(upsert, {o["id"]: "" for o in upsert if isinstance(o.get("id"), str)})
