"""Card-linked matching (pure): which offer a purchase gets, and what a refund gives back.

The hook's planner (``rewards.core.planner``) asks an :class:`OfferBook` — the offers a
batch may touch, with the members' claims and uses as loaded — through the planner's
``OfferMatcher`` protocol, so that the points core knows nothing of offers.
"""

from __future__ import annotations

from datetime import date

import msgspec

from offers.core.offers import OfferState, reward_of, value_of
from rewards.core.conditions import Facts
from rewards.core.planner import AppliedOffer, CardTransaction


class OfferUse(msgspec.Struct):
    """A member's standing with one offer: claimed or not, and uses so far (net)."""

    claimed: bool
    uses: int
    changed: bool = False


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
    day: date


class OfferBook:
    """The offers a batch may apply or release, with members' claims and uses; it keeps
    what the batch changed (budgets, uses, redemption records) for the shell to write."""

    def __init__(
        self,
        offers: dict[str, OfferState] | None = None,
        store_merchants: dict[str, str] | None = None,
        uses: dict[tuple[str, str], OfferUse] | None = None,
    ) -> None:
        self.offers = offers or {}
        self.store_merchants = store_merchants or {}
        self.uses = uses or {}
        self.records: list[OfferRecord] = []
        self.by_merchant: dict[str, list[OfferState]] = {}
        for state in self.offers.values():
            self.by_merchant.setdefault(state.merchant_id, []).append(state)
        self.loaded = {k: (v.redemptions_used, v.reward_used) for k, v in self.offers.items()}

    def use(self, member_id: str, offer_id: str) -> OfferUse:
        found = self.uses.get((member_id, offer_id))
        if found is None:
            found = self.uses[(member_id, offer_id)] = OfferUse(False, 0)
        return found

    def budget_deltas(self) -> dict[str, tuple[int, int]]:
        """(uses, reward) each offer's budget moved by in this batch."""
        return {
            offer_id: (
                state.redemptions_used - self.loaded[offer_id][0],
                state.reward_used - self.loaded[offer_id][1],
            )
            for offer_id, state in self.offers.items()
            if (state.redemptions_used, state.reward_used) != self.loaded[offer_id]
        }

    def apply(self, tx: CardTransaction, facts: Facts, base: int, day: date) -> AppliedOffer | None:
        """The most valuable offer that applies to the purchase, if any, within its budget
        and the member's limit (claimed first, for card-linked offers); ties go to the
        lowest offer id."""
        merchant_id = tx.merchant_id
        if tx.store_id is not None:
            merchant_id = self.store_merchants.get(tx.store_id, merchant_id)
        best: tuple[int, str, OfferState, int, int] | None = None
        for state in self.by_merchant.get(merchant_id or "", []):
            offer = state.offer
            if not state.at(tx.store_id, merchant_id) or not state.in_schedule(facts):
                continue
            if tx.amount_minor < offer.min_spend_minor or not state.matcher(facts):
                continue
            standing = self.uses.get((tx.member_id, offer.id))
            if offer.activation == "claim" and (standing is None or not standing.claimed):
                continue
            used = standing.uses if standing else 0
            if offer.per_member_limit is not None and used >= offer.per_member_limit:
                continue
            left, room = state.room()
            if not left:
                continue
            money, points = reward_of(offer, tx.amount_minor, base)
            if room is not None:
                money = min(money, room)
                points = min(points, room - money)
            if money + points <= 0:
                continue
            value = value_of(money, points)
            if best is None or value > best[0] or (value == best[0] and offer.id < best[1]):
                best = (value, offer.id, state, money, points)
        if best is None:
            return None
        _, offer_id, state, money, points = best
        standing = self.use(tx.member_id, offer_id)
        standing.uses += 1
        standing.changed = True
        state.redemptions_used += 1
        state.reward_used += money + points
        self.records.append(
            OfferRecord(offer_id, tx.id, tx.member_id, None, 1, money, points, tx.amount_minor, day)
        )
        return AppliedOffer(offer_id, state.merchant_id, money, points)

    def release(
        self,
        tx: CardTransaction,
        original_id: str,
        released: AppliedOffer,
        fully: bool,
        amount: int,
        day: date,
    ) -> None:
        """A refund gives back to the offer's budget what it claws back, and the member's
        use (and the offer's redemption) once the purchase is refunded in full."""
        offer_id = released.offer_id
        uses = 1 if fully else 0
        state = self.offers.get(offer_id)
        if state is not None:
            state.redemptions_used = max(state.redemptions_used - uses, 0)
            state.reward_used = max(state.reward_used - released.reward_minor - released.points, 0)
        if uses:
            standing = self.use(tx.member_id, offer_id)
            standing.uses = max(standing.uses - 1, 0)
            standing.changed = True
        self.records.append(
            OfferRecord(
                offer_id,
                tx.id,
                tx.member_id,
                original_id,
                -uses,
                -released.reward_minor,
                -released.points,
                -amount,
                day,
            )
        )
