"""Draw campaigns in a batch: each eligible purchase draws a multiplier, paid within the
campaign's budgets; refunds give back what they claw back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import msgspec

from rewards.core.awards import AwardedDraw
from rewards.core.budgets import CampaignBudget, Reservation, add
from rewards.core.campaigns import CampaignState, DrawBudget
from rewards.core.conditions import Facts
from rewards.core.daily_cap import Room
from rewards.core.draw import affordable_multiplier, draw_proof, prize_index
from rewards.core.transactions import CardTransaction


class DrawRecord(msgspec.Struct, frozen=True):
    campaign_id: str
    transaction_id: str
    member_id: str
    drawn: int
    paid: int
    points: int
    proof: str
    day: date


class CampaignDraws:
    """The batch's campaigns with what their budgets have paid, and the draws it made."""

    def __init__(self, campaigns: Mapping[str, CampaignBudget]) -> None:
        self.campaigns = {
            c: CampaignState(b.campaign, b.secret, b.total_used, dict(b.daily_used))
            for c, b in campaigns.items()
        }
        self.records: list[DrawRecord] = []
        self.reserved: dict[str, int] = {}
        self.reserved_days: dict[tuple[str, date], int] = {}

    def draw(
        self, tx: CardTransaction, facts: Facts, base: int, day: date, cap: Room
    ) -> list[AwardedDraw]:
        """Every campaign the purchase is eligible for draws, in campaign id order."""
        results = []
        for campaign_id in sorted(self.campaigns):
            state = self.campaigns[campaign_id]
            if not state.eligible(facts):
                continue
            prizes = state.campaign.prizes
            proof = draw_proof(state.secret, campaign_id, tx.id)
            drawn = prizes[prize_index(proof, prizes)].multiplier
            paid = affordable_multiplier(prizes, drawn, base, state.room(day))
            points = cap.take(base * (paid - 1))
            self.spend(campaign_id, day, points)
            self.records.append(
                DrawRecord(campaign_id, tx.id, tx.member_id, drawn, paid, points, proof.hex(), day)
            )
            results.append(AwardedDraw(campaign_id, paid, drawn, points, proof.hex()))
        return results

    def spend(self, campaign_id: str, day: date, points: int) -> None:
        """Count a bonus paid (negative: released by a refund) against a budgeted campaign;
        an unbudgeted one keeps no count."""
        state = self.campaigns.get(campaign_id)
        if state is None:
            return
        total, daily = state.total_used, state.daily_used.get(day, 0)
        state.spend(day, points)
        if state.campaign.budget == DrawBudget():
            return
        add(self.reserved, campaign_id, state.total_used - total)
        key = (campaign_id, day)
        self.reserved_days[key] = self.reserved_days.get(key, 0) + state.daily_used[day] - daily

    def reservations(self) -> list[Reservation]:
        return [
            *(Reservation("campaign", c, v) for c, v in sorted(self.reserved.items()) if v),
            *(
                Reservation("campaign_day", c, v, 0, day)
                for (c, day), v in sorted(self.reserved_days.items())
                if v
            ),
        ]
