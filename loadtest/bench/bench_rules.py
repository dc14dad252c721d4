"""Rule evaluation speed: how many transactions per second the compiled rule set evaluates
with 10, 100 and 1,000 active rules (pure, in one process, no database).

Run: .venv/bin/python -m loadtest.bench.bench_rules
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from loadtest.machine import describe
from rewards.core.conditions import Conditions
from rewards.core.earning import Caps, EarnRule, Effect, RuleSet
from rewards.core.lots import MemberState
from rewards.core.planner import CardTransaction, Usage, batch_facts, plan_batch
from rewards.core.program import CompiledProgram, Program

MCCS = [f"{5000 + n}" for n in range(400)]
MERCHANTS = [f"merchant-{n}" for n in range(2000)]
PRODUCTS = ["car-owner", "travel", "platinum", "student", "classic"] + [
    f"co-brand-{n}" for n in range(35)
]


def make_rules(count: int, rng: random.Random) -> list[EarnRule]:
    """Realistic operator rules: most keyed by MCC, merchant or card product, a few global."""
    rules = []
    for n in range(count):
        shape = rng.random()
        if shape < 0.5:
            conditions = Conditions(mcc_in=rng.sample(MCCS, 3), days_of_week=[6, 7])
        elif shape < 0.8:
            conditions = Conditions(merchant_in=rng.sample(MERCHANTS, 5))
        elif shape < 0.97:
            conditions = Conditions(card_product_in=[rng.choice(PRODUCTS)], min_amount_minor=5000)
        else:
            conditions = Conditions(min_amount_minor=rng.randint(100, 100000))
        rules.append(
            EarnRule(
                id=f"rule-{n:04d}",
                name=f"rule {n}",
                effect=Effect("multiplier", str(rng.randint(2, 5))),
                conditions=conditions,
                stacking=rng.random() < 0.7,
                caps=Caps(per_transaction=rng.randint(100, 5000)),
            )
        )
    return rules


def transactions(count: int, rng: random.Random) -> list[CardTransaction]:
    start = datetime(2026, 11, 16, tzinfo=UTC)
    return [
        CardTransaction(
            id=f"t{n}",
            kind="purchase",
            member_id=f"m{n % 1000}",
            amount_minor=rng.randint(100, 500000),
            currency="CNY",
            occurred_at=start + timedelta(minutes=rng.randint(0, 7 * 24 * 60)),
            card_product=rng.choice(PRODUCTS),
            mcc=rng.choice(MCCS),
            merchant_id=rng.choice(MERCHANTS),
        )
        for n in range(count)
    ]


def measure(rule_count: int, rounds: int = 5, batch: int = 5000) -> tuple[float, float, int]:
    """(median evaluations per second of matching alone, of the whole earning plan,
    mean matched rules per transaction)."""
    rng = random.Random(rule_count)
    rule_set = RuleSet(make_rules(rule_count, rng))
    program = CompiledProgram.of(Program())
    txs = transactions(batch, rng)
    members = {tx.member_id: MemberState(tx.member_id, None, [], [], 0, 0, []) for tx in txs}
    facts = [f for f in batch_facts(txs, members, program) if f is not None]
    match_rates, plan_rates, matched = [], [], 0
    for _ in range(rounds):
        started = time.perf_counter()
        matched = sum(len(rule_set.matching(f)) for f in facts)
        match_rates.append(batch / (time.perf_counter() - started))
        fresh = {k: MemberState(k, None, [], [], 0, 0, []) for k in members}
        started = time.perf_counter()
        plan_batch(
            txs,
            program=program,
            rules=rule_set,
            campaigns={},
            members=fresh,
            originals={},
            usage=Usage({}, {}),
            now=datetime.now(UTC),
        )
        plan_rates.append(batch / (time.perf_counter() - started))
    return statistics.median(match_rates), statistics.median(plan_rates), matched // batch


def main() -> int:
    print(f"machine: {describe()}")
    print("command: python -m loadtest.bench.bench_rules")
    print()
    print(
        "| active rules | rule matching (tx/s) | µs per tx "
        "| full earning plan (tx/s) | µs per tx | rules matched per tx |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for count in (10, 100, 1000):
        match_rate, plan_rate, matched = measure(count)
        print(
            f"| {count} | {match_rate:,.0f} | {1e6 / match_rate:.1f} | {plan_rate:,.0f} "
            f"| {1e6 / plan_rate:.1f} | {matched} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
