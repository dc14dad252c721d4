"""Card-linked matching (pure): which offer a purchase gets, and what a refund gives back.

The hook's planner asks an :class:`OfferBook` — the offers a batch may touch, with the
members' claims and uses as loaded — through the ``PurchaseMatcher`` protocol of
``rewards.core.card_linked``, so that the points core knows nothing of offers. The book
itself is never changed: each plan works in a session of its own, which records what it
changes as it changes it and hands it over as :class:`OfferEffects`.
"""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from offers.core.offers import OfferState, reward_of, value_of
from rewards.core.awards import AppliedOffer
from rewards.core.budgets import Reservation
from rewards.core.card_linked import Released
from rewards.core.conditions import Facts
from rewards.core.transactions import CardTransaction


class OfferRecord(msgspec.Struct, frozen=True):
    """One offer redemption (or its release by a refund: negative figures)."""

    offer_id: str
    transaction_id: str
    member_id: str
    original_id: str | None
    uses: int
    reward_minor: int
    points: int
    spend_minor: int
    day: date  # the purchase's (a clawback's too): its statement's period follows from it
    merchant_id: str
    store_id: str | None
    occurred_at: datetime
    #: The offer's funding at the match; None on a clawback, which takes its match's.
    share_pct: int | None
    fee_per_match: int | None


class OfferUseChange(msgspec.Struct, frozen=True):
    """A member's standing with an offer after the batch (claimed, uses so far)."""

    member_id: str
    offer_id: str
    claimed: bool
    uses: int


class OfferEffects(msgspec.Struct, frozen=True):
    """What a plan changed of offers: the members' standings and redemption records (the
    offers' side writes them), and the reservations from the offers' budgets (the ledger's
    write adds them at COMMIT)."""

    uses: tuple[OfferUseChange, ...] = ()
    records: tuple[OfferRecord, ...] = ()
    reservations: tuple[Reservation, ...] = ()

    @property
    def budgets(self) -> tuple[OfferBudgetDelta, ...]:
        """What the plan took from (or gave back to) each offer's budget."""
        return tuple(OfferBudgetDelta(r.key, r.amount, r.amount2) for r in self.reservations)


class OfferBudgetDelta(msgspec.Struct, frozen=True):
    """What a batch takes from (or gives back to) an offer's budget."""

    offer_id: str
    uses: int
    reward: int


class OfferUse(msgspec.Struct, frozen=True):
    """A member's standing with one offer as loaded: claimed or not, and uses so far."""

    claimed: bool
    uses: int


class OfferBook:
    """The offers a batch may apply or release, with the members' claims and uses."""

    def __init__(
        self,
        offers: dict[str, OfferState] | None = None,
        store_merchants: dict[str, str] | None = None,
        uses: dict[tuple[str, str], OfferUse] | None = None,
    ) -> None:
        self.offers = offers or {}
        self.store_merchants = store_merchants or {}
        self.uses = uses or {}

    def start(self) -> _Session:
        return _Session(self)


class _Standing(msgspec.Struct):
    claimed: bool
    uses: int


class _Budget(msgspec.Struct):
    used: int
    reward: int


class _Session:
    """One plan's working copy of an offer book: budgets, uses and redemption records as
    the batch's purchases and refunds move them."""

    def __init__(self, book: OfferBook) -> None:
        self.store_merchants = book.store_merchants
        self.offers = {
            k: (s, _Budget(s.redemptions_used, s.reward_used)) for k, s in book.offers.items()
        }
        self.reserved: dict[str, _Budget] = {}  # what the plan took from each budget
        self.uses = {k: _Standing(u.claimed, u.uses) for k, u in book.uses.items()}
        self.changed: set[tuple[str, str]] = set()
        self.records: list[OfferRecord] = []
        self.by_merchant: dict[str, list[str]] = {}
        for offer_id in sorted(self.offers):
            state, _ = self.offers[offer_id]
            self.by_merchant.setdefault(state.merchant_id, []).append(offer_id)

    def _reward(
        self,
        offer_id: str,
        tx: CardTransaction,
        merchant_id: str | None,
        facts: Facts,
        base: int,
    ) -> tuple[int, int] | None:
        """What the offer would pay the purchase (money, points), if it applies at all:
        at that store, in its schedule, to this member, within its budget."""
        state, budget = self.offers[offer_id]
        offer = state.offer
        if not state.at(tx.store_id, merchant_id) or not state.in_schedule(facts):
            return None
        if tx.amount_minor < offer.min_spend_minor or not state.matcher(facts):
            return None
        standing = self.uses.get((tx.member_id, offer_id))
        if offer.activation == "claim" and (standing is None or not standing.claimed):
            return None
        uses = standing.uses if standing else 0
        if offer.per_member_limit is not None and uses >= offer.per_member_limit:
            return None
        left, room = state.room_at(budget.used, budget.reward)
        if not left:
            return None
        money, points = reward_of(offer, tx.amount_minor, base)
        if room is not None:
            money = min(money, room)
            points = min(points, room - money)
        return (money, points) if money + points > 0 else None

    def _use(self, member_id: str, offer_id: str) -> _Standing:
        found = self.uses.get((member_id, offer_id))
        if found is None:
            found = self.uses[(member_id, offer_id)] = _Standing(False, 0)
        return found

    def apply(
        self, tx: CardTransaction, facts: Facts, base: int, day: date, max_points: int | None
    ) -> tuple[AppliedOffer, int] | None:
        """The most valuable offer that applies to the purchase, if any, within its budget
        and the member's limit (claimed first, for card-linked offers); ties go to the
        lowest offer id."""
        merchant_id = tx.merchant_id
        if tx.store_id is not None:
            merchant_id = self.store_merchants.get(tx.store_id, merchant_id)
        best: tuple[int, str, int, int] | None = None
        for offer_id in self.by_merchant.get(merchant_id or "", []):
            found = self._reward(offer_id, tx, merchant_id, facts, base)
            if found is None:
                continue
            money, points = found
            value = value_of(money, points)
            if best is None or value > best[0] or (value == best[0] and offer_id < best[1]):
                best = (value, offer_id, money, points)
        if best is None:
            return None
        _, offer_id, money, points = best
        kept = 0  # points the member's daily cap keeps from the offer: never paid or counted
        if max_points is not None and points > max_points:
            kept, points = points - max_points, max_points
        if money + points <= 0:
            return None
        state, budget = self.offers[offer_id]
        self._use(tx.member_id, offer_id).uses += 1
        self.changed.add((tx.member_id, offer_id))
        self._reserve(offer_id, budget, 1, money + points)
        funding = state.offer.funding
        self.records.append(
            OfferRecord(
                offer_id,
                tx.id,
                tx.member_id,
                None,
                1,
                money,
                points,
                tx.amount_minor,
                day,
                state.merchant_id,
                tx.store_id,
                tx.occurred_at,
                funding.merchant_share_pct if funding else 0,
                funding.fee_minor_per_match if funding else 0,
            )
        )
        return AppliedOffer(offer_id, state.merchant_id, money, points), kept

    def release(self, tx: CardTransaction, released: Released) -> None:
        """A refund gives back to the offer's budget what it claws back, and the member's
        use (and the offer's redemption) once the purchase is refunded in full."""
        offer, offer_id = released.offer, released.offer.offer_id
        uses = 1 if released.fully else 0
        found = self.offers.get(offer_id)
        if found is not None:
            self._reserve(offer_id, found[1], -uses, -offer.reward_minor - offer.points)
        if uses:
            standing = self._use(tx.member_id, offer_id)
            standing.uses = max(standing.uses - 1, 0)
            self.changed.add((tx.member_id, offer_id))
        self.records.append(
            OfferRecord(
                offer_id,
                tx.id,
                tx.member_id,
                released.original_id,
                -uses,
                -offer.reward_minor,
                -offer.points,
                -released.amount,
                released.day,
                offer.merchant_id,
                tx.store_id,
                tx.occurred_at,
                None,
                None,
            )
        )

    def _reserve(self, offer_id: str, budget: _Budget, uses: int, reward: int) -> None:
        """Move the offer's budget (never below nothing) and note by how much it moved."""
        used, paid = budget.used, budget.reward
        budget.used = max(used + uses, 0)
        budget.reward = max(paid + reward, 0)
        moved = self.reserved.setdefault(offer_id, _Budget(0, 0))
        moved.used += budget.used - used
        moved.reward += budget.reward - paid

    def effects(self) -> OfferEffects:
        """The members' standings, redemption records and budget moves of this plan."""
        return OfferEffects(
            uses=tuple(
                OfferUseChange(m, o, self.uses[(m, o)].claimed, self.uses[(m, o)].uses)
                for m, o in sorted(self.changed)
            ),
            records=tuple(self.records),
            reservations=tuple(
                Reservation("offer", offer_id, moved.used, moved.reward)
                for offer_id, moved in sorted(self.reserved.items())
                if moved.used or moved.reward
            ),
        )
