"""A member import's lines (pure): what each says, and what a chunk of them does to the
members it names — created, updated, left unchanged, or refused with a reason.

A line is NDJSON (``{"member_id", "tier", "segments", "card_products", "status",
"spend_12m_minor", "referred_by", "opening_lots": [{"points", "earned_at", "expires_at"}]}``,
all but ``member_id`` optional) or a CSV row under a header naming those columns (lists
separated by ``;``, a lot as ``points/earned_at/expires_at``). A field left out leaves what
the member has; the opening lots are posted the first time a member is imported, and never
again: a later line whose lots differ is refused.
"""

from __future__ import annotations

import csv
import functools
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from rewards.core.bulk import LineProblem, text_of
from rewards.core.credentials import ID_PATTERN, is_id
from rewards.core.ledger import Credit, CreditLot
from rewards.core.planner import MAX_POINTS
from rewards.core.program import IMMEDIATE

MemberId = Annotated[str, Meta(pattern=ID_PATTERN)]
Tag = Annotated[str, Meta(min_length=1, max_length=64)]
Points = Annotated[int, Meta(gt=0, le=MAX_POINTS)]
Moment = Annotated[datetime, Meta(tz=True)]
Status = Literal["active", "suspended", "closed"]
COLUMNS = (
    "member_id",
    "tier",
    "segments",
    "card_products",
    "status",
    "spend_12m_minor",
    "referred_by",
    "opening_lots",
)


class OpeningLot(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    points: Points
    earned_at: Moment
    expires_at: Moment | None = None


class MemberLine(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    """One member as the other system had them; UNSET: not said (left as it is)."""

    member_id: MemberId
    tier: Tag | UnsetType | None = UNSET
    segments: list[Tag] | UnsetType = UNSET
    card_products: list[Tag] | UnsetType = UNSET
    status: Status | UnsetType = UNSET
    spend_12m_minor: Annotated[int, Meta(ge=0, le=MAX_POINTS)] | UnsetType = UNSET
    referred_by: MemberId | UnsetType | None = UNSET
    opening_lots: list[OpeningLot] = []


class Parsed(msgspec.Struct, frozen=True):
    line: int
    member: MemberLine
    digest: bytes
    lots_digest: bytes
    lots_utc: tuple[tuple[int, str, str | None], ...] = ()  # the lots, sorted, times in UTC


_decoder = msgspec.json.Decoder(MemberLine)


def csv_header(body: bytes | None) -> list[str] | LineProblem:
    """The columns a CSV file's first line names."""
    text, problem = text_of(body)
    if text is None:
        return LineProblem(1, None, problem or "no header")
    columns = [c.strip() for c in next(csv.reader([text]))]
    unknown = sorted(set(columns) - set(COLUMNS))
    if "member_id" not in columns or unknown or len(set(columns)) != len(columns):
        return LineProblem(
            1,
            None,
            "the header must name member_id and only these columns, once each: "
            + ", ".join(COLUMNS)
            + (f" (not {', '.join(unknown)})" if unknown else ""),
        )
    return columns


def parse(number: int, body: bytes | None, header: Sequence[str] | None) -> Parsed | LineProblem:
    """One line: NDJSON when there is no header, else a CSV row under it."""
    text, problem = text_of(body)
    if text is None:
        return LineProblem(number, None, problem or "empty line")
    try:
        member = _decoder.decode(text) if header is None else _from_csv(text, header)
    except (msgspec.ValidationError, msgspec.DecodeError, ValueError) as exc:
        return LineProblem(number, _member_id_of(text, header), _said(exc))
    if member.referred_by is not UNSET and member.referred_by == member.member_id:
        return LineProblem(number, member.member_id, "a member cannot be referred by themself")
    for i, lot in enumerate(member.opening_lots):
        if lot.expires_at is not None and lot.expires_at <= lot.earned_at:
            return LineProblem(
                number,
                member.member_id,
                f"opening_lots[{i}] expires ({lot.expires_at.isoformat()}) before it was "
                f"earned ({lot.earned_at.isoformat()})",
            )
    if sum(lot.points for lot in member.opening_lots) > MAX_POINTS:
        return LineProblem(number, member.member_id, f"the lots hold more than {MAX_POINTS}")
    lots = tuple(sorted(_utc(lot) for lot in member.opening_lots))
    return Parsed(number, member, _digest(member, lots), _lots_digest(lots), lots)


def _said(exc: Exception) -> str:
    message = str(exc) or type(exc).__name__
    return message if len(message) <= 300 else message[:300] + "…"


def _member_id_of(text: str, header: Sequence[str] | None) -> str | None:
    """The member a bad line names, if it can be told (for the error list)."""
    try:
        if header is None:
            found = msgspec.json.decode(text)
            value = found.get("member_id") if isinstance(found, dict) else None
        else:
            row = next(csv.reader([text]))
            value = dict(zip(header, row, strict=False)).get("member_id")
    except (msgspec.DecodeError, csv.Error, StopIteration):
        return None
    return value if isinstance(value, str) and is_id(value) else None


def _from_csv(text: str, header: Sequence[str]) -> MemberLine:
    row = next(csv.reader([text]))
    if len(row) != len(header):
        raise ValueError(f"the row has {len(row)} cells; the header names {len(header)}")
    cells = {k: v.strip() for k, v in zip(header, row, strict=True) if v.strip() != ""}
    fields: dict[str, object] = {}
    for key, value in cells.items():
        if key in ("segments", "card_products"):
            fields[key] = [v.strip() for v in value.split(";") if v.strip()]
        elif key == "spend_12m_minor":
            if not value.isdigit():
                raise ValueError(f"spend_12m_minor {value!r} is not a whole number of minor units")
            fields[key] = int(value)
        elif key == "opening_lots":
            fields[key] = [_csv_lot(i, v) for i, v in enumerate(value.split(";")) if v.strip()]
        else:
            fields[key] = value
    return msgspec.convert(fields, MemberLine)


def _csv_lot(i: int, text: str) -> dict[str, object]:
    parts = text.strip().split("/")
    if len(parts) != 3 or not parts[0].isdigit():
        raise ValueError(f"opening_lots[{i}] {text!r} is not points/earned_at/expires_at")
    return {
        "points": int(parts[0]),
        "earned_at": parts[1],
        "expires_at": parts[2] or None,
    }


def _utc(lot: OpeningLot) -> tuple[int, str, str | None]:
    return (
        lot.points,
        _iso_utc(lot.earned_at),
        _iso_utc(lot.expires_at) if lot.expires_at else None,
    )


@functools.lru_cache(maxsize=4096)
def _iso_utc(moment: datetime) -> str:
    """A moment in UTC as RFC 3339 (the same moments recur across an import's lines)."""
    return moment.astimezone(UTC).isoformat()


def _lots_digest(lots: Sequence[tuple[int, str, str | None]]) -> bytes:
    return hashlib.sha256(msgspec.json.encode(lots)).digest()[:16]


def _digest(member: MemberLine, lots: Sequence[tuple[int, str, str | None]]) -> bytes:
    fields = msgspec.structs.asdict(member)
    fields["opening_lots"] = lots
    for key in ("segments", "card_products"):
        if isinstance(fields[key], list):
            fields[key] = sorted(set(fields[key]))
    said = {k: v for k, v in fields.items() if v is not UNSET}
    return hashlib.sha256(msgspec.json.encode(said, order="sorted")).digest()[:16]


# --- a chunk ---------------------------------------------------------------------------------


class Prior(msgspec.Struct, frozen=True):
    """The line a member was last imported from."""

    job_id: str
    line: int
    digest: bytes
    lots_digest: bytes


class ChunkPlan(msgspec.Struct, frozen=True):
    """What a chunk of lines writes: the lines applied (each member's attributes), the
    opening balances to post, the referral links to keep, the import records, the counts."""

    applied: list[Parsed]
    recorded: list[Parsed]  # the applied and the unchanged: the line each was imported from
    credits: list[Credit]
    referrals: list[tuple[str, str]]  # (referee, referrer)
    problems: list[LineProblem]
    counts: dict[str, int]


def plan_chunk(
    job_id: str,
    parsed: Sequence[Parsed | LineProblem],
    existing: set[str],
    priors: Mapping[str, Prior],
    referrers: Mapping[str, str],
) -> ChunkPlan:
    """Decide each line of a chunk, given the members that exist, the line each was last
    imported from, and who referred them (read under the members' locks)."""
    counts = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    applied: list[Parsed] = []
    recorded: list[Parsed] = []
    credits: list[Credit] = []
    referrals: list[tuple[str, str]] = []
    problems: list[LineProblem] = []
    seen: dict[str, int] = {}

    def refuse(problem: LineProblem) -> None:
        problems.append(problem)
        counts["failed"] += 1

    for item in parsed:
        if isinstance(item, LineProblem):
            refuse(item)
            continue
        member = item.member
        who = member.member_id
        prior = priors.get(who)
        first = seen.get(who)
        if first is None and prior is not None and prior.job_id == job_id:
            first = prior.line
        if first is not None and first != item.line:
            refuse(LineProblem(item.line, who, f"member {who} is on line {first} of this file"))
            continue
        seen[who] = item.line
        if prior is not None and prior.digest == item.digest:
            counts["unchanged"] += 1
            recorded.append(item)
            continue
        if prior is not None and prior.lots_digest != item.lots_digest:
            refuse(
                LineProblem(
                    item.line,
                    who,
                    f"409: the opening lots differ from those imported for {who} (job "
                    f"{prior.job_id}, line {prior.line}); opening balances are posted once",
                )
            )
            continue
        referrer = referrers.get(who)
        if isinstance(member.referred_by, str) and referrer not in (None, member.referred_by):
            refuse(
                LineProblem(
                    item.line, who, f"{who} was referred by {referrer}; a referral is kept as made"
                )
            )
            continue
        applied.append(item)
        recorded.append(item)
        counts["created" if who not in existing else "updated"] += 1
        if isinstance(member.referred_by, str) and referrer is None:
            referrals.append((who, member.referred_by))
        if prior is None and member.opening_lots:
            credits.append(opening_credit(item))
    return ChunkPlan(applied, recorded, credits, referrals, problems, counts)


def opening_credit(item: Parsed) -> Credit:
    """A member's opening balance: their lots as the other system had them (available now,
    each with its earning and expiry), and the lots in the transfer's detail."""
    lots = item.member.opening_lots
    return Credit(
        item.member.member_id,
        tuple(CreditLot(lot.points, lot.earned_at, IMMEDIATE, lot.expires_at) for lot in lots),
        {
            "import": {"line": item.line},
            "lots": [{"points": p, "earned_at": e, "expires_at": x} for p, e, x in item.lots_utc],
        },
    )
