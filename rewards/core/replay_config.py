"""The configurations a replay plans under (pure): every version of the program, its rules
and campaigns, read back by program version or by time, with a draft laid over them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import msgspec

from rewards.core.campaigns import DrawCampaign
from rewards.core.earning import EarnRule, RuleSet
from rewards.core.errors import ValidationFailed
from rewards.core.program import CompiledProgram, Program


class Changes(msgspec.Struct, frozen=True, omit_defaults=True):
    upsert: list[dict[str, Any]] = []
    remove: list[str] = []


class Draft(msgspec.Struct, frozen=True, omit_defaults=True):
    """What a replay lays over the configuration in force: program settings (as a PATCH),
    and rules, campaigns and offers added, replaced or removed."""

    program: dict[str, Any] = {}
    earn_rules: Changes = Changes()
    draw_campaigns: Changes = Changes()
    offers: Changes = Changes()

    @property
    def empty(self) -> bool:
        return self == Draft()


class Version(msgspec.Struct, frozen=True):
    """One version of the program, a rule or a campaign (None: deleted)."""

    kind: str
    object_id: str
    version: int | None
    valid_from: datetime
    document: dict[str, Any] | None


class Config:
    """A configuration compiled for planning: the program, its rules and its campaigns."""

    def __init__(
        self,
        program: Program,
        rules: Iterable[EarnRule],
        campaigns: Iterable[tuple[DrawCampaign, bytes]],
    ) -> None:
        self.program = CompiledProgram.of(program)
        self.rules = RuleSet(list(rules))
        self.campaigns = {c.id: (c, secret) for c, secret in campaigns}


def _convert(document: Mapping[str, Any], kind: type[Any], where: str) -> Any:
    try:
        return msgspec.convert(document, kind)
    except msgspec.ValidationError as exc:
        raise ValidationFailed(f"{where}: {exc}", errors=[(where, str(exc))]) from None


class History:
    """The configurations in force over a replay's window: by program version (what each
    transaction recorded it was planned under), or by time for transactions recorded
    without one; each with the draft laid over it when there is one."""

    def __init__(
        self,
        versions: Sequence[Version],
        secrets: Mapping[str, bytes],
        draft: Draft | None = None,
        fresh: Mapping[str, bytes] | None = None,
    ) -> None:
        self.versions = sorted(versions, key=lambda v: (v.version or 0, v.valid_from))
        self.by_time = sorted(versions, key=lambda v: v.valid_from)
        self.secrets = dict(secrets) | dict(fresh or {})
        self.draft = draft
        self._cache: dict[tuple[str, Any], Config] = {}

    def at(self, version: int | None, moment: datetime) -> Config:
        key: tuple[str, Any] = ("v", version) if version is not None else ("t", moment)
        found = self._cache.get(key)
        if found is None:
            if version is not None:
                chosen = [
                    v for v in self.versions if v.version is not None and v.version <= version
                ]
            else:
                chosen = [v for v in self.by_time if v.valid_from <= moment]
            found = self._cache[key] = self._compile(chosen)
        return found

    def _compile(self, chosen: Sequence[Version]) -> Config:
        docs: dict[tuple[str, str], dict[str, Any] | None] = {}
        for v in chosen:
            docs[(v.kind, v.object_id)] = v.document
        program_doc = next((d for (k, _), d in docs.items() if k == "program" and d), None)
        program = dict(program_doc or msgspec.to_builtins(Program()))
        rules = {i: d for (k, i), d in docs.items() if k == "earn_rule" and d is not None}
        campaigns = {i: d for (k, i), d in docs.items() if k == "draw_campaign" and d is not None}
        draft = self.draft
        if draft is not None:
            program |= draft.program
            _lay_over(rules, draft.earn_rules)
            _lay_over(campaigns, draft.draw_campaigns)
        compiled_campaigns = []
        for campaign_id, doc in sorted(campaigns.items()):
            campaign = _convert(doc, DrawCampaign, f"draw_campaigns.{campaign_id}")
            secret = self.secrets.get(campaign_id)
            if secret is not None:
                compiled_campaigns.append((campaign, secret))
        return Config(
            _convert(program, Program, "program"),
            [_convert(d, EarnRule, f"earn_rules.{i}") for i, d in sorted(rules.items())],
            compiled_campaigns,
        )


def _lay_over(current: dict[str, dict[str, Any]], changes: Changes) -> None:
    for doc in changes.upsert:
        current[str(doc["id"])] = doc
    for object_id in changes.remove:
        current.pop(object_id, None)
