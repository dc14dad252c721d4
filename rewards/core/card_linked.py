"""Merchant offers as the points core sees them: through these protocols only.

The hook's planner asks a :class:`PurchaseMatcher` which offer a purchase gets and tells it
what a refund releases; ``offers.core.matching.OfferBook`` implements it. The hook's shell
loads the matcher and saves what it changed through a :class:`CardLinked` port, which
``offers.publishing`` implements and ``api/app.py`` wires in. Nothing in ``rewards`` imports
``offers``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
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
