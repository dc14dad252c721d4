"""Use cases of the operator: the program, earn rules and draw campaigns."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import msgspec

from db.types import Conn
from rewards.audit import service as audit
from rewards.core.campaigns import DrawCampaign, validate_campaign
from rewards.core.draw import commitment_of
from rewards.core.earning import EarnRule, RuleSet, validate_rule
from rewards.core.errors import AlreadyExists, Conflict, NotFound, ValidationFailed
from rewards.core.program import CompiledProgram, Program, validate_program
from rewards.core.replay_config import Version
from rewards.events import delivery
from rewards.program import repository as program_db


class CampaignNotEnded(Conflict):
    type = "campaign_not_ended"
    title = "The campaign has not ended"


async def get_program(conn: Conn, tenant_id: str) -> Program:
    """The program's settings (defaults until the operator sets them)."""
    program, _ = await program_db.load_program(conn, tenant_id)
    return program or Program()


async def put_program(conn: Conn, tenant_id: str, actor: str, program: Program) -> Program:
    """Store the program as given (validated, audited)."""
    before = await get_program(conn, tenant_id)
    await _store(conn, tenant_id, actor, "program.put", before, program)
    return program


async def _store(
    conn: Conn, tenant_id: str, actor: str, action: str, before: Program, program: Program
) -> None:
    validate_program(program)
    document = msgspec.to_builtins(program)
    version = await program_db.put_program(conn, tenant_id, document)
    await program_db.record_version(conn, tenant_id, "program", tenant_id, version, document)
    await audit.record(
        conn,
        tenant_id,
        actor,
        action,
        "program",
        tenant_id,
        msgspec.to_builtins(before),
        msgspec.to_builtins(program),
    )


def reset_to_defaults(before: Program, given: set[str]) -> list[str]:
    """The settings a replacement left out that had other values than their defaults: the
    replacement put them back to the defaults."""
    default = msgspec.to_builtins(Program())
    old = msgspec.to_builtins(before)
    return [f for f in Program.__struct_fields__ if f not in given and old[f] != default[f]]


async def check_webhook(url: str | None, *, allow_private: bool) -> None:
    """A webhook_url must be https and resolve to public addresses only (unless the server
    allows private ones, REWARDS_WEBHOOK_ALLOW_PRIVATE=1)."""
    if url is None:
        return
    try:
        await delivery.check_destination(url, allow_private=allow_private)
    except delivery.UnsafeAddress as exc:
        raise ValidationFailed(
            f"webhook_url: {exc}", errors=[("webhook_url", "not a public address")]
        ) from None


async def replace_program(
    conn: Conn,
    tenant_id: str,
    actor: str,
    program: Program,
    given: set[str],
    *,
    allow_private: bool = False,
) -> list[str]:
    """PUT: the program becomes the one given (``given``: the settings the body named).
    Returns the settings that went back to their defaults because the body left them out."""
    await check_webhook(program.webhook_url, allow_private=allow_private)
    before = await get_program(conn, tenant_id)
    await _store(conn, tenant_id, actor, "program.put", before, program)
    return reset_to_defaults(before, given)


async def patch_program(
    conn: Conn,
    tenant_id: str,
    actor: str,
    changes: dict[str, Any],
    *,
    allow_private: bool = False,
) -> Program:
    """PATCH: the settings given replace those stored; the others stay as they are.

    Objects (``referral``, ``abuse``, ``tiers``) are replaced whole, not merged field by field.
    """
    if isinstance(changes.get("webhook_url"), str):
        await check_webhook(changes["webhook_url"], allow_private=allow_private)
    before = await get_program(conn, tenant_id)
    merged = msgspec.to_builtins(before) | changes
    try:
        program = msgspec.convert(merged, Program)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(str(exc), errors=[("body", str(exc))]) from None
    await _store(conn, tenant_id, actor, "program.patch", before, program)
    return program


async def _bump(
    conn: Conn, tenant_id: str, kind: str, object_id: str, document: dict[str, Any] | None
) -> None:
    """A rule or campaign changed: move the program's version (every worker rebuilds its
    compiled rules) and keep the object's new version with it."""
    version = await program_db.bump_rules_version(conn, tenant_id, msgspec.to_builtins(Program()))
    await program_db.record_version(conn, tenant_id, kind, object_id, version, document)


# --- history: the configuration in force at a past moment -------------------------------


class AsOf(msgspec.Struct, frozen=True):
    """A configuration object as it was at a moment, and since when it was so."""

    document: dict[str, Any]
    valid_from: datetime


async def as_of(conn: Conn, tenant_id: str, kind: str, object_id: str, moment: datetime) -> AsOf:
    """The version of the program, a rule or a draw campaign in force at ``moment``.

    Raises:
        NotFound: it did not exist then (or had been deleted).
    """
    found = await program_db.version_as_of(conn, tenant_id, kind, object_id, moment)
    if found is None or found[0] is None:
        if kind == "program":
            return AsOf(msgspec.to_builtins(Program()), datetime.min.replace(tzinfo=UTC))
        raise NotFound(f"no {kind.replace('_', ' ')} {object_id} at {moment.isoformat()}")
    return AsOf(found[0], found[1])


async def versions_upto(conn: Conn, tenant_id: str, version: int) -> list[Version]:
    """Every version of the program, rules and campaigns up to a program version, in the
    order they were made."""
    return await program_db.versions_upto(conn, tenant_id, version)


async def campaign_secrets(conn: Conn, tenant_id: str) -> dict[str, bytes]:
    """Every draw campaign's secret (a replay draws as the hook drew)."""
    return {row.campaign.id: row.secret for row in await program_db.load_campaigns(conn, tenant_id)}


# --- earn rules ----------------------------------------------------------------------------


class StoredRule(msgspec.Struct, frozen=True):
    rule: EarnRule
    budget_used: int


async def create_rule(conn: Conn, tenant_id: str, actor: str, rule: EarnRule) -> StoredRule:
    validate_rule(rule)
    document = msgspec.to_builtins(rule)
    if not await program_db.insert_rule(conn, tenant_id, rule.id, document, rule.active):
        raise AlreadyExists(f"earn rule {rule.id} exists already")
    await _bump(conn, tenant_id, "earn_rule", rule.id, document)
    await audit.record(
        conn, tenant_id, actor, "earn_rule.create", "earn_rule", rule.id, None, document
    )
    return StoredRule(rule, 0)


async def get_rule(conn: Conn, tenant_id: str, rule_id: str) -> StoredRule:
    found = await program_db.get_rule(conn, tenant_id, rule_id)
    if found is None:
        raise NotFound(f"no earn rule {rule_id}")
    return StoredRule(*found)


async def get_rule_or_deleted(conn: Conn, tenant_id: str, rule_id: str) -> StoredRule | None:
    """A rule, or None when there is none now (it may have existed at a past moment)."""
    found = await program_db.get_rule(conn, tenant_id, rule_id)
    return None if found is None else StoredRule(*found)


async def list_rules(conn: Conn, tenant_id: str, after: str | None, limit: int) -> list[StoredRule]:
    return [StoredRule(*r) for r in await program_db.list_rules(conn, tenant_id, after, limit)]


async def patch_rule(
    conn: Conn, tenant_id: str, actor: str, rule_id: str, changes: dict[str, Any]
) -> StoredRule:
    current = await get_rule(conn, tenant_id, rule_id)
    before = msgspec.to_builtins(current.rule)
    rule = msgspec.convert(before | changes | {"id": rule_id}, EarnRule)
    validate_rule(rule)
    after = msgspec.to_builtins(rule)
    await program_db.update_rule(conn, tenant_id, rule_id, after, rule.active)
    await _bump(conn, tenant_id, "earn_rule", rule_id, after)
    await audit.record(
        conn, tenant_id, actor, "earn_rule.update", "earn_rule", rule_id, before, after
    )
    return StoredRule(rule, current.budget_used)


async def delete_rule(conn: Conn, tenant_id: str, actor: str, rule_id: str) -> None:
    current = await get_rule(conn, tenant_id, rule_id)
    await program_db.delete_rule(conn, tenant_id, rule_id)
    await _bump(conn, tenant_id, "earn_rule", rule_id, None)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "earn_rule.delete",
        "earn_rule",
        rule_id,
        msgspec.to_builtins(current.rule),
        None,
    )


# --- draw campaigns ------------------------------------------------------------------------


class CampaignStats(msgspec.Struct, frozen=True):
    draws: int
    prize_counts: dict[str, int]
    bonus_paid: int
    budget_left: int | None


class CampaignView(msgspec.Struct, frozen=True):
    campaign: DrawCampaign
    commitment: str
    created_at: datetime
    stats: CampaignStats | None = None


async def create_campaign(
    conn: Conn, tenant_id: str, actor: str, campaign: DrawCampaign
) -> CampaignView:
    """Create a campaign with a fresh random 32-byte secret; publish its commitment."""
    validate_campaign(campaign)
    secret = os.urandom(32)
    commitment = commitment_of(secret)
    document = msgspec.to_builtins(campaign)
    created = await program_db.insert_campaign(
        conn, tenant_id, campaign, document, secret, commitment
    )
    if not created:
        raise AlreadyExists(f"draw campaign {campaign.id} exists already")
    await _bump(conn, tenant_id, "draw_campaign", campaign.id, document)
    await audit.record(
        conn,
        tenant_id,
        actor,
        "draw_campaign.create",
        "draw_campaign",
        campaign.id,
        None,
        document | {"commitment": commitment},
    )
    return CampaignView(campaign, commitment, datetime.now(UTC))


async def _campaign(conn: Conn, tenant_id: str, campaign_id: str) -> program_db.CampaignRow:
    row = await program_db.get_campaign(conn, tenant_id, campaign_id)
    if row is None:
        raise NotFound(f"no draw campaign {campaign_id}")
    return row


async def get_campaign(conn: Conn, tenant_id: str, campaign_id: str) -> CampaignView:
    """A campaign with its stats: draws, prize counts, bonus paid, budget left."""
    row = await _campaign(conn, tenant_id, campaign_id)
    draws, paid, counts = await program_db.campaign_stats(conn, tenant_id, campaign_id)
    total = row.campaign.budget.total_points
    left = None if total is None else total - row.total_used
    return CampaignView(
        row.campaign, row.commitment, row.created_at, CampaignStats(draws, counts, paid, left)
    )


async def list_campaigns(
    conn: Conn, tenant_id: str, after: str | None, limit: int
) -> list[CampaignView]:
    rows = await program_db.list_campaigns(conn, tenant_id, after, limit)
    return [CampaignView(r.campaign, r.commitment, r.created_at) for r in rows]


async def reveal_campaign(
    conn: Conn, tenant_id: str, actor: str, campaign_id: str, now: datetime
) -> tuple[CampaignView, bytes]:
    """The campaign's secret, once it has ended, so that anyone can recompute every draw."""
    row = await _campaign(conn, tenant_id, campaign_id)
    ends = row.campaign.ends_at
    if ends is None or now < ends:
        raise CampaignNotEnded(
            f"campaign {campaign_id} ends at {ends.isoformat() if ends else 'no set time'}; "
            "its secret is revealed only after it ended"
        )
    await audit.record(
        conn, tenant_id, actor, "draw_campaign.reveal", "draw_campaign", campaign_id, None, None
    )
    return CampaignView(row.campaign, row.commitment, row.created_at), row.secret


async def sample_draws(
    conn: Conn, tenant_id: str, campaign_id: str, limit: int
) -> list[program_db.DrawRow]:
    """Some of a campaign's draws, each with its proof, for anyone to recompute."""
    await _campaign(conn, tenant_id, campaign_id)
    return await program_db.campaign_draws(conn, tenant_id, campaign_id, limit)


class Compiled(msgspec.Struct, frozen=True):
    """A tenant's program, rules and campaigns, compiled once per version."""

    version: int
    program: CompiledProgram
    rules: RuleSet
    campaigns: list[program_db.CampaignRow]
    #: The segments the rules' and campaigns' conditions name: all the hook reads of a
    #: member's segments for them.
    segments_named: frozenset[str] = frozenset()


# Per-process cache; every rule or campaign change bumps the version, which each batch reads.
_compiled: dict[str, Compiled] = {}


async def compiled_for(conn: Conn, tenant_id: str) -> Compiled:
    """The tenant's compiled program, rebuilt when its version moved."""
    return await compiled_at(conn, tenant_id, await program_db.program_version(conn, tenant_id))


async def compiled_at(conn: Conn, tenant_id: str, version: int) -> Compiled:
    """The compiled program, when the caller has already read its version."""
    cached = _compiled.get(tenant_id)
    if cached is not None and cached.version == version and version > 0:
        return cached
    program, version = await program_db.load_program(conn, tenant_id)
    rules = await program_db.load_rules(conn, tenant_id)
    campaigns = await program_db.load_campaigns(conn, tenant_id)
    named = frozenset(
        s
        for conditions in [r.conditions for r in rules] + [c.campaign.conditions for c in campaigns]
        for s in conditions.segment_in or ()
    )
    fresh = Compiled(
        version, CompiledProgram.of(program or Program()), RuleSet(rules), campaigns, named
    )
    _compiled[tenant_id] = fresh
    return fresh
