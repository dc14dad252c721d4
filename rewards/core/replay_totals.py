"""What a replay's run paid (pure): by part, by rule, campaign and offer, by day, when
budgets ran out; and what a draft's new draw campaign would cost over many secrets."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import date, datetime

from rewards.core.answers import Answer
from rewards.core.campaigns import DrawCampaign
from rewards.core.draw import affordable_multiplier, draw_proof, prize_index
from rewards.core.transactions import CardTransaction


class RuleTotal:
    """What one rule, campaign or offer paid over a run."""

    __slots__ = ("members", "points", "reward_minor", "transactions")

    def __init__(self) -> None:
        self.points = 0
        self.reward_minor = 0
        self.transactions = 0
        self.members: set[str] = set()


class Totals:
    """What a run paid: by part, by rule, campaign and offer, by day, and when budgets ran
    out."""

    PARTS = ("base", "rules", "draw", "offers", "referral", "total")

    def __init__(self) -> None:
        self.points = dict.fromkeys(self.PARTS, 0)
        self.offer_reward_minor = 0
        self.by_rule: dict[tuple[str, str], RuleTotal] = {}
        self.by_day: dict[date, int] = {}
        self.exhausted: dict[tuple[str, str], datetime] = {}
        self.transactions = 0

    def _rule(self, kind: str, key: str) -> RuleTotal:
        found = self.by_rule.get((kind, key))
        if found is None:
            found = self.by_rule[(kind, key)] = RuleTotal()
        return found

    def count(self, tx: CardTransaction, answer: Answer, day: date) -> None:
        p, points = answer.points, self.points
        points["base"] += p.base
        points["rules"] += p.rules
        points["draw"] += p.draw
        points["offers"] += p.offers
        points["referral"] += p.referral
        points["total"] += p.total
        self.by_day[day] = self.by_day.get(day, 0) + p.total
        self.transactions += 1
        member = tx.member_id
        for r in answer.rules_applied:
            self._paid(self._rule("earn_rule", r.rule_id), r.points, 0, member)
        for d in answer.draws:
            if d.points:
                self._paid(self._rule("draw_campaign", d.campaign_id), d.points, 0, member)
        for o in answer.offers_applied:
            self.offer_reward_minor += o.reward_minor
            self._paid(self._rule("offer", o.offer_id), o.points, o.reward_minor, member)

    @staticmethod
    def _paid(total: RuleTotal, points: int, reward: int, member: str) -> None:
        total.points += points
        total.reward_minor += reward
        if points > 0 or reward > 0:
            total.transactions += 1
            total.members.add(member)


class DrawSamples:
    """What a draft's new draw campaign would have cost with each of many fresh secrets:
    every purchase it drew for is drawn again with each secret, within its budgets."""

    def __init__(self, campaign: DrawCampaign, secrets: Sequence[bytes]) -> None:
        self.campaign = campaign
        self.secrets = list(secrets)
        self.totals = [0] * len(secrets)
        self.days: list[dict[date, int]] = [{} for _ in secrets]

    def draw(self, tx_id: str, base: int, day: date) -> None:
        prizes = self.campaign.prizes
        budget = self.campaign.budget
        for n, secret in enumerate(self.secrets):
            rooms = []
            if budget.total_points is not None:
                rooms.append(budget.total_points - self.totals[n])
            if budget.daily_points is not None:
                rooms.append(budget.daily_points - self.days[n].get(day, 0))
            room = max(min(rooms), 0) if rooms else None
            drawn = prizes[prize_index(draw_proof(secret, self.campaign.id, tx_id), prizes)]
            paid = affordable_multiplier(prizes, drawn.multiplier, base, room)
            points = base * (paid - 1)
            self.totals[n] += points
            self.days[n][day] = self.days[n].get(day, 0) + points

    def percentiles(self) -> tuple[int, int]:
        """P50 and P95 of the cost over the secrets."""
        if len(self.totals) == 1:
            return self.totals[0], self.totals[0]
        cuts = statistics.quantiles(self.totals, n=100, method="inclusive")
        return round(statistics.median(self.totals)), round(cuts[94])
