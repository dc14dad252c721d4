"""Referral bonuses in a batch: a referee's first qualifying purchase pays both bonuses
(or is refused: a ring, the referrer's limit), and a full refund of it claws both back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rewards.core import lots
from rewards.core.abuse import REFERRAL_RING, RiskRecord
from rewards.core.awards import ReferralAward
from rewards.core.ledger import REFERRALS_ACCOUNT, TransferPlan, member_account
from rewards.core.lots import MemberState
from rewards.core.program import CompiledProgram
from rewards.core.referrals import ReferralBook, ReferralWrite
from rewards.core.transactions import CardTransaction


class ReferralSettlement:
    """The batch's pending referrals and how many referees each referrer has had paid; the
    transfers and risk events it makes go to the batch's lists, in the order they happen."""

    def __init__(
        self, book: ReferralBook, transfers: list[TransferPlan], risk: list[RiskRecord]
    ) -> None:
        self.pending = dict(book.pending)
        self.rewarded = dict(book.rewarded)
        self.writes: list[ReferralWrite] = []
        self.risk = risk
        self.transfers = transfers

    def settle(
        self,
        tx: CardTransaction,
        program: CompiledProgram,
        members: Mapping[str, MemberState],
        now: datetime,
    ) -> ReferralAward | None:
        """Settle the member's pending referral if this is their first qualifying purchase:
        both bonuses paid, or refused (a referral ring, or the referrer's limit reached)."""
        pending = self.pending.get(tx.member_id)
        settings = program.program.referral
        if pending is None or settings is None:
            return None
        if tx.amount_minor < settings.min_first_purchase_minor:
            return None
        del self.pending[tx.member_id]
        referrer = pending.referrer_id
        if pending.shared_device is not None:
            self._refuse(tx, referrer, REFERRAL_RING)
            self.risk.append(
                RiskRecord(
                    tx.member_id,
                    pending.shared_device,
                    REFERRAL_RING,
                    {"referrer_id": referrer, "transaction_id": tx.id},
                )
            )
            return None
        limit = settings.max_per_referrer
        if limit is not None and self.rewarded.get(referrer, 0) >= limit:
            self._refuse(tx, referrer, "referrer_limit")
            return None
        self.rewarded[referrer] = self.rewarded.get(referrer, 0) + 1
        award = ReferralAward(referrer, settings.referee_points, settings.referrer_points)
        expires_at = program.expiry_of(tx.occurred_at)
        available_at = program.available_at(now)
        for member_id, points, role in self._legs(tx, award):
            if points > 0:
                self.transfers.append(
                    TransferPlan(
                        REFERRALS_ACCOUNT,
                        member_account(member_id),
                        points,
                        "referral",
                        member_id,
                        tx.id,
                        {"role": role, "referee_id": tx.member_id, "referrer_id": referrer},
                    )
                )
                lots.credit(members[member_id], points, expires_at, available_at)
        self.writes.append(
            ReferralWrite(
                tx.member_id,
                "rewarded",
                None,
                tx.id,
                award.referee_points,
                award.referrer_points,
                referrer,
            )
        )
        return award

    def claw_back(
        self,
        tx: CardTransaction,
        award: ReferralAward,
        program: CompiledProgram,
        members: Mapping[str, MemberState],
    ) -> tuple[int, int]:
        """Take both bonuses back when the purchase that paid them is reversed or refunded
        in full; the referee's (clawed, forgiven) points."""
        referee_result = (0, 0)
        within_balance = program.program.refund_policy == "within_balance"
        for member_id, points, role in self._legs(tx, award):
            member = members[member_id]
            clawed = min(points, max(member.balance, 0)) if within_balance else points
            if clawed > 0:
                lots.claw_back(member, clawed)
                self.transfers.append(
                    TransferPlan(
                        member_account(member_id),
                        REFERRALS_ACCOUNT,
                        clawed,
                        "clawback",
                        member_id,
                        tx.id,
                        {
                            "role": role,
                            "referee_id": tx.member_id,
                            "referrer_id": award.referrer_id,
                            "original_id": tx.original_id,
                            "kind": tx.kind,
                        },
                    )
                )
            if role == "referee":
                referee_result = (clawed, points - clawed)
        referrer = award.referrer_id
        self.rewarded[referrer] = max(self.rewarded.get(referrer, 0) - 1, 0)
        self.writes.append(
            ReferralWrite(
                tx.member_id,
                "clawed_back",
                None,
                tx.original_id or "",
                award.referee_points,
                award.referrer_points,
                award.referrer_id,
            )
        )
        return referee_result

    @staticmethod
    def _legs(tx: CardTransaction, award: ReferralAward) -> tuple[tuple[str, int, str], ...]:
        return (
            (tx.member_id, award.referee_points, "referee"),
            (award.referrer_id, award.referrer_points, "referrer"),
        )

    def _refuse(self, tx: CardTransaction, referrer: str, reason: str) -> None:
        self.writes.append(ReferralWrite(tx.member_id, "refused", reason, tx.id, 0, 0, referrer))
