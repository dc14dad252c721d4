"""Merchant offers over one run of a replay (pure): every version of each offer with the
time it took effect, budgets and members' standings as they were when the replay's window
opened, moved by what the run's batches change — handed to the hook's planner as an
:class:`~offers.core.matching.OfferBook` per batch, like the hook's own."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from offers.core.matching import OfferBook, OfferEffects, OfferUse
from offers.core.offers import Offer, OfferState, validate_offer
from rewards.core.awards import Original
from rewards.core.errors import ValidationFailed
from rewards.core.transactions import CardTransaction

#: Statuses in which an offer matches purchases (an exhausted one matches no more because its
#: budget says so, which a draft may change).
MATCHING = frozenset({"active", "exhausted"})


class OfferVersion(msgspec.Struct, frozen=True):
    """An offer as it was from ``valid_from`` on (None: not matching then)."""

    offer_id: str
    valid_from: datetime
    merchant_id: str
    status: str
    offer: Offer


class Claim(msgspec.Struct, frozen=True):
    member_id: str
    offer_id: str
    claimed_at: datetime | None
    uses: int  # uses when the window opened


def draft_offers(
    upsert: Iterable[Mapping[str, Any]], merchants: Mapping[str, str]
) -> dict[str, OfferVersion]:
    """A draft's offers, in force over the whole window: each names its merchant (or keeps
    the merchant of the offer it replaces).

    Raises:
        ValidationFailed: an offer that cannot be read or applied.
    """
    found: dict[str, OfferVersion] = {}
    for n, doc in enumerate(upsert):
        where = f"draft.offers.upsert[{n}]"
        fields = {k: v for k, v in doc.items() if k != "merchant_id"}
        try:
            offer = msgspec.convert(fields, Offer)
        except msgspec.ValidationError as exc:
            raise ValidationFailed(f"{where}: {exc}", errors=[(where, str(exc))]) from None
        validate_offer(offer)
        merchant = doc.get("merchant_id") or merchants.get(offer.id)
        if not isinstance(merchant, str):
            raise ValidationFailed(
                f"{where}: a new offer names its merchant_id",
                errors=[(f"{where}.merchant_id", "required for a new offer")],
            )
        found[offer.id] = OfferVersion(offer.id, datetime.min, merchant, "active", offer)
    return found


class OfferTimeline:
    """Offers over a replay's window for one run (``rewards.core.card_linked.MatchTimeline``)."""

    def __init__(
        self,
        versions: Sequence[OfferVersion],
        store_merchants: Mapping[str, str],
        budgets: Mapping[str, tuple[int, int]],
        claims: Iterable[Claim],
        draft: Mapping[str, OfferVersion] | None = None,
        removed: Iterable[str] = (),
    ) -> None:
        self.store_merchants = dict(store_merchants)
        self.budgets = {k: [used, reward] for k, (used, reward) in budgets.items()}
        self.claimed: dict[tuple[str, str], datetime] = {}
        self.uses: dict[tuple[str, str], int] = {}
        for c in claims:
            if c.claimed_at is not None:
                self.claimed[(c.member_id, c.offer_id)] = c.claimed_at
            if c.uses:
                self.uses[(c.member_id, c.offer_id)] = c.uses
        gone = set(removed) | set(draft or {})
        self.history: dict[str, tuple[list[datetime], list[OfferVersion]]] = {}
        for v in sorted(versions, key=lambda v: v.valid_from):
            if v.offer_id in gone:
                continue
            times, kept = self.history.setdefault(v.offer_id, ([], []))
            times.append(v.valid_from)
            kept.append(v)
        self.draft = dict(draft or {})
        self.by_merchant: dict[str, set[str]] = {}
        for offer_id, (_, kept) in self.history.items():
            for v in kept:
                self.by_merchant.setdefault(v.merchant_id, set()).add(offer_id)
        for offer_id, v in self.draft.items():
            self.by_merchant.setdefault(v.merchant_id, set()).add(offer_id)

    def _at(self, offer_id: str, at: datetime) -> OfferVersion | None:
        if offer_id in self.draft:
            return self.draft[offer_id]
        found = self.history.get(offer_id)
        if found is None:
            return None
        times, kept = found
        n = bisect.bisect_right(times, at)
        return kept[n - 1] if n else None

    def matcher(
        self,
        batch: Sequence[CardTransaction],
        originals: Mapping[str, Original],
        at: datetime,
    ) -> OfferBook:
        merchants = {
            self.store_merchants.get(tx.store_id or "", tx.merchant_id or "")
            for tx in batch
            if tx.kind == "purchase"
        } - {""}
        wanted = {o for m in merchants for o in self.by_merchant.get(m, ())}
        offers: dict[str, OfferState] = {}
        for offer_id in sorted(wanted):
            v = self._at(offer_id, at)
            if v is not None and v.status in MATCHING:
                offers[offer_id] = self._state(v)
        # What refunds give back goes to the offers they took from, whatever their status.
        released = {
            o.offer_id
            for tx in batch
            if tx.kind != "purchase" and tx.original_id in originals
            for o in originals[tx.original_id or ""].award.offers
        }
        for offer_id in sorted(released - set(offers)):
            v = self._at(offer_id, at)
            if v is not None:
                offers[offer_id] = self._state(v)
        members = {tx.member_id for tx in batch}
        uses = {
            (m, o): OfferUse(
                (m, o) in self.claimed and self.claimed[(m, o)] <= at,
                self.uses.get((m, o), 0),
            )
            for m in members
            for o in offers
            if (m, o) in self.claimed or (m, o) in self.uses
        }
        return OfferBook(offers, self.store_merchants, uses)

    def _state(self, v: OfferVersion) -> OfferState:
        used, reward = self.budgets.get(v.offer_id, (0, 0))
        return OfferState(v.offer, v.merchant_id, frozenset(v.offer.store_ids), used, reward)

    def absorb(self, effects: OfferEffects) -> None:
        for change in effects.uses:
            self.uses[(change.member_id, change.offer_id)] = change.uses
        for r in effects.reservations:
            budget = self.budgets.setdefault(r.key, [0, 0])
            budget[0] = max(budget[0] + r.amount, 0)
            budget[1] = max(budget[1] + r.amount2, 0)
