"""The working state of one plan: copies of what the planner was given, changed as the
batch's transactions are planned in order, each job in a tracker of its own."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec

from rewards.core.abuse import RiskRecord
from rewards.core.awards import Original
from rewards.core.budgets import CampaignBudget, Usage
from rewards.core.campaign_draws import CampaignDraws
from rewards.core.card_linked import MatchSession
from rewards.core.daily_cap import DailyCap
from rewards.core.earning import RuleSet
from rewards.core.ledger import TransferPlan
from rewards.core.lots import Lot, MemberState
from rewards.core.plan import HoldChange, HoldPlan, OriginalWrite, SpendRow
from rewards.core.program import CompiledProgram
from rewards.core.referral_settlement import ReferralSettlement
from rewards.core.referrals import ReferralBook
from rewards.core.rule_caps import RuleCaps
from rewards.core.transactions import CardTransaction


def working_copy(member: MemberState) -> MemberState:
    return MemberState(
        member.member_id,
        member.tier,
        list(member.segments),
        list(member.card_products),
        member.balance,
        member.lifetime_earned,
        [
            Lot(lot.lot_id, lot.amount, lot.remaining, lot.expires_at, lot.available_at, lot.saved)
            for lot in member.lots
        ],
        member.status,
    )


def periods(program: CompiledProgram, occurred_at: datetime) -> tuple[str, str]:
    """The rule-cap periods a moment falls in: its local day and month."""
    day = program.local_date(occurred_at)
    return f"d:{day.isoformat()}", f"m:{day.isoformat()[:7]}"


class Working:
    """One plan's state. Every change it makes is recorded as it is made (transfers, draws,
    spend, risk events, what each tracker touched), never found later by comparing."""

    def __init__(
        self,
        program: CompiledProgram,
        rules: RuleSet,
        campaigns: Mapping[str, CampaignBudget],
        members: Mapping[str, MemberState],
        originals: Mapping[str, Original],
        usage: Usage,
        now: datetime,
        offers: MatchSession | None,
        referenced: set[str],
        referrals: ReferralBook,
        excluded: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.program = program
        self.now = now
        self.offers = offers
        self.referenced = referenced  # purchases that refunds of the batch point at
        self.members = {m: working_copy(state) for m, state in members.items()}
        self.originals = dict(originals)
        self.refunded = {k: (o.refunded_minor, o.reversed) for k, o in originals.items()}
        self.refunds_touched: set[str] = set()
        self.excluded = excluded or {}  # purchase -> the exclusion lists it matched
        self.held = {k: o.held for k, o in originals.items() if o.held}  # points still held
        self.holds: list[HoldPlan] = []
        self.holds_touched: set[str] = set()
        self.learned: list[tuple[str, str]] = []
        self.transfers: list[TransferPlan] = []
        self.risk: list[RiskRecord] = []
        self.spend: list[SpendRow] = []
        abuse = program.program.abuse
        self.daily = DailyCap(
            abuse.max_points_per_member_per_day if abuse else None, usage.day_points
        )
        self.rules = RuleCaps(rules, usage.member_period, usage.rule_budget_used)
        self.draws = CampaignDraws(campaigns)
        self.referrals = ReferralSettlement(referrals, self.transfers, self.risk)

    def learn(self, tx: CardTransaction) -> None:
        """A card product seen paying becomes one of the member's (targeting follows it)."""
        member = self.members[tx.member_id]
        if tx.card_product and tx.card_product not in member.card_products:
            member.card_products.append(tx.card_product)
            self.learned.append((tx.member_id, tx.card_product))

    def transfer(
        self,
        debit: str,
        credit: str,
        amount: int,
        kind: str,
        tx: CardTransaction,
        detail: dict[str, object],
    ) -> None:
        self.transfers.append(
            TransferPlan(debit, credit, amount, kind, tx.member_id, tx.id, detail)
        )

    def set_refunded(self, original_id: str, refunded: int, reversed_: bool) -> None:
        self.refunded[original_id] = (refunded, reversed_)
        self.refunds_touched.add(original_id)

    def kept(self, keep: frozenset[str]) -> tuple[Original, ...]:
        """The purchases asked for, as they stand after the batch (refunds counted)."""
        return tuple(
            msgspec.structs.replace(
                self.originals[tx_id],
                refunded_minor=self.refunded[tx_id][0],
                reversed=self.refunded[tx_id][1],
                held=self.held.get(tx_id, 0),
            )
            for tx_id in sorted(keep)
            if tx_id in self.originals
        )

    def hold_writes(self) -> tuple[HoldPlan, ...]:
        """The batch's new holds, with what its refunds left of them."""
        return tuple(
            msgspec.structs.replace(h, remaining=self.held.get(h.transaction_id, 0))
            for h in self.holds
        )

    def hold_changes(self) -> tuple[HoldChange, ...]:
        """What refunds left held of purchases held before the batch."""
        new = {h.transaction_id for h in self.holds}
        return tuple(
            HoldChange(tx_id, self.held.get(tx_id, 0)) for tx_id in sorted(self.holds_touched - new)
        )

    def original_writes(self) -> tuple[OriginalWrite, ...]:
        return tuple(
            OriginalWrite(tx_id, *self.refunded[tx_id]) for tx_id in sorted(self.refunds_touched)
        )
