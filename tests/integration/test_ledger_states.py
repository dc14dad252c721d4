"""A state machine over award, partial refund, reversal, expiry, adjustment and replay,
checking the ledger's invariants after every step against the real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from db.pool import connect
from rewards.core.campaigns import DrawBudget, DrawCampaign
from rewards.core.conditions import Conditions
from rewards.core.draw import Prize
from rewards.core.earning import Caps, EarnRule, Effect
from rewards.core.errors import RewardsError
from rewards.core.planner import CardTransaction
from rewards.core.program import Program
from rewards.hook.service import process
from rewards.ledger import service as ledger
from rewards.program import service as programs
from rewards.tenants.service import create_tenant
from tests.integration.invariants import check_ledger

MEMBERS = ["m-a", "m-b", "m-c"]


class LedgerMachine(RuleBasedStateMachine):
    dsn = ""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.conn = self.loop.run_until_complete(connect(self.dsn))
        self.tenant = self.run(self._setup())
        self.clock = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
        self.purchases: list[tuple[str, str, int]] = []
        self.answers: dict[str, tuple[CardTransaction, Any]] = {}
        self.n = 0

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    async def _setup(self) -> str:
        async with self.conn.transaction():
            tenant = (await create_tenant(self.conn, "state machine")).tenant_id
            program = Program(
                expiry_months=1,
                refund_policy="allow_negative",
                mcc_rates={"5541": "0.5"},
                excluded_mccs=["6011"],
            )
            await programs.put_program(self.conn, tenant, "test", program)
            fuel = EarnRule(
                "fuel",
                "fuel",
                Effect("multiplier", "3"),
                Conditions(mcc_in=["5541"]),
                caps=Caps(per_member_per_day=700),
            )
            await programs.create_rule(self.conn, tenant, "test", fuel)
            swipe = DrawCampaign(
                "swipe",
                "swipe",
                [Prize(1, 3), Prize(2, 2), Prize(5, 1)],
                budget=DrawBudget(total_points=20000),
            )
            await programs.create_campaign(self.conn, tenant, "test", swipe)
        return tenant

    def send(self, tx: CardTransaction) -> Any:
        async def go() -> Any:
            try:
                async with self.conn.transaction():
                    return await process(self.conn, self.tenant, tx)
            except RewardsError as exc:
                return exc

        answer = self.run(go())
        if not isinstance(answer, RewardsError):
            self.answers[tx.id] = (tx, answer)
        return answer

    def tx(self, **fields: Any) -> CardTransaction:
        self.n += 1
        base = {"id": f"t{self.n}", "currency": "CNY", "occurred_at": self.clock}
        return msgspec.convert(base | fields, CardTransaction)

    @rule(
        member=st.sampled_from(MEMBERS),
        amount=st.integers(0, 200_000),
        mcc=st.sampled_from(["5812", "5541", "6011"]),
    )
    def purchase(self, member: str, amount: int, mcc: str) -> None:
        tx = self.tx(kind="purchase", member_id=member, amount_minor=amount, mcc=mcc)
        answer = self.send(tx)
        assert not isinstance(answer, RewardsError), answer
        self.purchases.append((tx.id, member, amount))

    @precondition(lambda self: self.purchases)
    @rule(data=st.data())
    def partial_refund(self, data: st.DataObject) -> None:
        original, member, amount = data.draw(st.sampled_from(self.purchases))
        part = data.draw(st.integers(1, max(amount, 1)))
        self.send(self.tx(kind="refund", member_id=member, amount_minor=part, original_id=original))

    @precondition(lambda self: self.purchases)
    @rule(data=st.data())
    def reversal(self, data: st.DataObject) -> None:
        original, member, amount = data.draw(st.sampled_from(self.purchases))
        self.send(
            self.tx(kind="reversal", member_id=member, amount_minor=amount, original_id=original)
        )

    @rule(days=st.integers(1, 70))
    def expire(self, days: int) -> None:
        self.clock += timedelta(days=days)

        async def go() -> None:
            async with self.conn.transaction():
                await ledger.expire_tenant(self.conn, self.tenant, self.clock)

        self.run(go())

    @rule(member=st.sampled_from(MEMBERS), points=st.integers(-2000, 2000).filter(bool))
    def adjust(self, member: str, points: int) -> None:
        async def go() -> None:
            try:
                async with self.conn.transaction():
                    await ledger.adjust(
                        self.conn, self.tenant, "test", member, points, "state machine"
                    )
            except RewardsError:
                pass  # not enough points, or a member not enrolled yet: refused, nothing written

        self.run(go())

    @precondition(lambda self: self.answers)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        tx_id = data.draw(st.sampled_from(sorted(self.answers)))
        tx, first = self.answers[tx_id]
        assert self.send(tx) == first

    @invariant()
    def ledger_holds(self) -> None:
        self.run(check_ledger(self.conn))

    def teardown(self) -> None:
        self.run(self.conn.close())
        self.loop.close()


def test_the_ledger_holds_through_any_sequence_of_operations(database: str) -> None:
    LedgerMachine.dsn = database
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
