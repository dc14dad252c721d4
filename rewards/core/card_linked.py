"""Merchant offers as the points core sees them: through these protocols only.

The hook's planner asks a :class:`PurchaseMatcher` which offer a purchase gets and tells it
what a refund releases; ``offers.core.matching.OfferBook`` implements it. The hook's shell
loads the matcher and saves what it changed through a :class:`CardLinked` port, which
``offers.publishing`` implements and ``api/app.py`` wires in. Nothing in ``rewards`` imports
``offers``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

import msgspec

from rewards.core.awards import AppliedOffer, Original
from rewards.core.budgets import Reservation
from rewards.core.conditions import Facts
from rewards.core.transactions import CardTransaction


class Released(msgspec.Struct, frozen=True):
    """The share of an applied offer that a refund gives back."""

    original_id: str
    offer: AppliedOffer
    fully: bool  # the purchase is now refunded in full: its use comes back too
    amount: int  # the amount refunded
    day: date  # the purchase's day (stats count the release there)


class MatchEffects(Protocol):
    """What a plan changed of merchant offers: the reservations from their budgets (the
    ledger's write adds them at COMMIT) and whatever else the offers' side writes itself."""

    @property
    def reservations(self) -> Sequence[Reservation]: ...


class MatchSession(Protocol):
    """One batch's working copy of the offers it may touch."""

    def apply(
        self, tx: CardTransaction, facts: Facts, base: int, day: date, max_points: int | None
    ) -> tuple[AppliedOffer, int] | None:
        """The offer the purchase gets, if any, counted against budgets and limits, with the
        points ``max_points`` (the member's daily cap) kept from it."""

    def release(self, tx: CardTransaction, released: Released) -> None:
        """Give back what a refund claws back of an applied offer."""

    def effects(self) -> MatchEffects:
        """Everything the batch changed, to write."""


class PurchaseMatcher(Protocol):
    """The offers a batch may touch, left unchanged: each plan works in a session of its own."""

    def start(self) -> MatchSession: ...


class CardLinked(Protocol):
    """The hook's port to merchant offers: load what a batch may touch, save what its plan
    changed. ``conn`` is the batch's database connection."""

    async def matcher(
        self,
        conn: Any,
        tenant_id: str,
        batch: Sequence[CardTransaction],
        originals: Mapping[str, Original],
        *,
        lock: bool,
    ) -> PurchaseMatcher: ...

    async def save(self, conn: Any, tenant_id: str, effects: Any) -> None: ...

    async def segments_named(self, conn: Any, tenant_id: str) -> frozenset[str]:
        """The segments the tenant's offers target (a member's other segments are not read
        for a purchase)."""
        ...


class MatchTimeline(Protocol):
    """Merchant offers over one run of a replay (pure, in memory): the offers in force at
    each moment, with their budgets and members' standings as that run's purchases move
    them. ``offers.core.replay.OfferTimeline`` implements it."""

    def matcher(
        self,
        batch: Sequence[CardTransaction],
        originals: Mapping[str, Original],
        at: datetime,
    ) -> PurchaseMatcher:
        """The offers the batch may touch as they stood at ``at`` (and those the refunds of
        ``originals`` give back to)."""

    def absorb(self, effects: Any) -> None:
        """Move budgets and standings by what a batch's plan changed."""


class CardLinkedHistory(Protocol):
    """The replays' port to merchant offers: what one run needs, from the moment a
    replay's window opens (``first_seq``: its first recorded transaction), with a draft's
    offers (``upsert``, ``remove``) laid over them."""

    async def timeline(
        self,
        conn: Any,
        tenant_id: str,
        first_seq: int,
        upsert: Sequence[Mapping[str, Any]],
        remove: Sequence[str],
    ) -> MatchTimeline: ...

    def check(self, upsert: Sequence[Mapping[str, Any]]) -> None:
        """Refuse a draft's offers that could not be published (422)."""

    async def explain(
        self,
        conn: Any,
        tenant_id: str,
        tx: CardTransaction,
        facts: Facts,
        seq: int,
        at: datetime,
        applied: Mapping[str, tuple[int, int]],
    ) -> Sequence[Any]:
        """The offers of the purchase's merchant against it, as they stood when it was
        recorded (``seq``, ``at``), each an ``rewards.core.explanations.MatchOutcome``;
        ``applied``: (reward, points) of the offers its answer names."""


class GrantedClaims(Protocol):
    """Grants' port to merchant offers: an offer claimed for many members at once."""

    async def check_claimable(self, conn: Any, tenant_id: str, offer_id: str) -> None:
        """Refuse an offer that cannot be claimed now (404 unknown, 409 not active)."""

    async def claim_many(
        self, conn: Any, tenant_id: str, offer_id: str, member_ids: Sequence[str]
    ) -> None:
        """Claim the offer for each member (a member who claimed it already keeps the
        first claim)."""
