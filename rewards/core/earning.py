"""Earn rules: multipliers and fixed bonuses, stacking or exclusive, within their caps."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Literal

import msgspec

from rewards.core.conditions import Conditions, Facts, Matcher, validate_conditions
from rewards.core.errors import ValidationFailed
from rewards.core.program import parse_rate


class Effect(msgspec.Struct, frozen=True):
    kind: Literal["multiplier", "fixed"]
    # A multiplier is a decimal string ("3", "1.5"); a fixed bonus an integer of points.
    value: str | int


class Caps(msgspec.Struct, frozen=True, omit_defaults=True):
    per_transaction: int | None = None
    per_member_per_day: int | None = None
    per_member_per_month: int | None = None
    budget_points: int | None = None


class EarnRule(msgspec.Struct, frozen=True, omit_defaults=True):
    """An operator-defined multiplier or bonus."""

    id: str
    name: str
    effect: Effect
    conditions: Conditions = Conditions()
    stacking: bool = True
    caps: Caps = Caps()
    active: bool = True


def validate_rule(rule: EarnRule) -> None:
    """Refuse a rule that cannot be applied (422)."""
    validate_conditions(rule.conditions)
    errors: list[tuple[str, str]] = []
    if rule.effect.kind == "multiplier":
        if not isinstance(rule.effect.value, str):
            errors.append(("effect.value", 'a multiplier is a decimal string, e.g. "3"'))
        elif parse_rate(rule.effect.value, "effect.value") < 1:
            errors.append(("effect.value", "a multiplier must be at least 1"))
    elif not isinstance(rule.effect.value, int) or rule.effect.value < 0:
        errors.append(("effect.value", "a fixed bonus is a non-negative integer of points"))
    for name in ("per_transaction", "per_member_per_day", "per_member_per_month", "budget_points"):
        value = getattr(rule.caps, name)
        if value is not None and value < 0:
            errors.append((f"caps.{name}", "must not be negative"))
    if errors:
        raise ValidationFailed("; ".join(f"{f}: {m}" for f, m in errors), errors=errors)


class CompiledRule:
    """A rule with its conditions compiled and its multiplier parsed."""

    __slots__ = (
        "caps",
        "extra",
        "fixed",
        "id",
        "matcher",
        "multiplier",
        "rule",
        "stacking",
        "tracked",
    )

    def __init__(self, rule: EarnRule) -> None:
        self.rule = rule
        self.id = rule.id
        self.stacking = rule.stacking
        self.caps = rule.caps
        # Whether a cap needs what the rule paid before (per member, or its budget).
        self.tracked = (
            rule.caps.per_member_per_day is not None
            or rule.caps.per_member_per_month is not None
            or rule.caps.budget_points is not None
        )
        self.matcher = Matcher(rule.conditions)
        self.multiplier: Fraction | None = None
        self.extra: tuple[int, int] | None = None  # (m − 1) as numerator, denominator
        self.fixed = 0
        if rule.effect.kind == "multiplier":
            self.multiplier = parse_rate(str(rule.effect.value), "effect.value")
            extra = self.multiplier - 1
            self.extra = (extra.numerator, extra.denominator)
        else:
            self.fixed = int(rule.effect.value)

    def raw_bonus(self, base: int) -> int:
        """The bonus before caps: base × (m − 1) rounded down, or the fixed points."""
        if self.extra is None:
            return self.fixed
        numerator, denominator = self.extra
        return (base * numerator) // denominator


class RuleSet:
    """Active rules indexed by MCC, merchant and card product, so that a transaction is
    checked only against the rules that could match it."""

    def __init__(self, rules: Iterable[EarnRule]) -> None:
        self.by_mcc: dict[str, list[CompiledRule]] = {}
        self.by_merchant: dict[str, list[CompiledRule]] = {}
        self.by_card_product: dict[str, list[CompiledRule]] = {}
        self.everywhere: list[CompiledRule] = []
        # Every rule, active or not: a refund releases the caps of the rules it claws back.
        self.by_id: dict[str, CompiledRule] = {}
        self.size = 0
        for rule in rules:
            compiled = CompiledRule(rule)
            self.by_id[rule.id] = compiled
            if not rule.active:
                continue
            self.size += 1
            keys = compiled.matcher.index_keys
            if keys is None:
                self.everywhere.append(compiled)
                continue
            index = {
                "mcc": self.by_mcc,
                "merchant": self.by_merchant,
                "card_product": self.by_card_product,
            }[keys[0]]
            for key in keys[1]:
                index.setdefault(key, []).append(compiled)

    def matching(self, facts: Facts) -> list[CompiledRule]:
        """Every active rule whose conditions all hold, in id order."""
        candidates = list(self.everywhere)
        if facts.mcc is not None:
            candidates += self.by_mcc.get(facts.mcc, ())
        if facts.merchant_id is not None:
            candidates += self.by_merchant.get(facts.merchant_id, ())
        for product in facts.card_products:
            candidates += self.by_card_product.get(product, ())
        found = {rule.id: rule for rule in candidates if rule.matcher(facts)}
        return [found[key] for key in sorted(found)]


class CapRoom(msgspec.Struct, frozen=True):
    """How much a rule may still pay this member now (None: no such cap)."""

    per_day: int | None = None
    per_month: int | None = None
    budget: int | None = None


NO_ROOM_LIMIT = CapRoom()


def capped_bonus(rule: CompiledRule, base: int, room: CapRoom) -> int:
    """The rule's bonus bounded by every cap: what is left, never more, never negative."""
    bonus = rule.raw_bonus(base)
    for limit in (rule.caps.per_transaction, room.per_day, room.per_month, room.budget):
        if limit is not None:
            bonus = min(bonus, limit)
    return max(bonus, 0)


def choose_bonuses(candidates: list[tuple[CompiledRule, int]]) -> list[tuple[str, int]]:
    """Every stacking rule's bonus, plus the single largest exclusive one (ties: lowest id).

    Args:
        candidates: Matching rules with their capped bonus.

    Returns:
        (rule id, points) of the rules that pay, in id order, leaving out zero bonuses.
    """
    paying = [(r.id, b) for r, b in candidates if r.stacking and b > 0]
    exclusive = [(r.id, b) for r, b in candidates if not r.stacking and b > 0]
    if exclusive:
        paying.append(min(exclusive, key=lambda item: (-item[1], item[0])))
    return sorted(paying)
