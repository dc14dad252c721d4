"""Member-gets-member referrals (pure): codes, who may use which, and masking."""

from __future__ import annotations

import secrets

import msgspec

from rewards.core.errors import ValidationFailed

#: Digits and capitals without the look-alikes 0/O, 1/I/L (and U, read as V): a code can be
#: read aloud, typed from a poster and never mistaken.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8


def new_code() -> str:
    """A fresh random code: 30^8 ≈ 6.6 × 10^11 of them, so collisions are rare (and retried)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """A code as typed: any case, with spaces or hyphens, is the same code."""
    code = "".join(ch for ch in text.upper() if ch not in " -")
    if not (len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)):
        raise ReferralCodeUnknown(f"{text!r} is not a referral code")
    return code


def mask(member_id: str) -> str:
    """A referee as the referrer sees them: enough to recognise, not enough to identify."""
    if len(member_id) <= 4:
        return member_id[:1] + "***"
    return member_id[:2] + "***" + member_id[-2:]


class ReferralCodeUnknown(ValidationFailed):
    type = "referral_code_unknown"
    title = "Unknown referral code"


class ReferralSelf(ValidationFailed):
    type = "referral_self"
    title = "A member cannot use their own referral code"


class ReferralAlreadySet(ValidationFailed):
    type = "referral_already_set"
    title = "The member already has a referral code"


class ReferralCycle(ValidationFailed):
    type = "referral_cycle"
    title = "The code's owner was referred by this member, directly or up a chain"


class ReferralTooLate(ValidationFailed):
    type = "referral_too_late"
    title = "Too late for a referral code"


class ReferralsOff(ValidationFailed):
    type = "referrals_off"
    title = "The program has no referral rewards"


class PendingReferral(msgspec.Struct, frozen=True):
    """A referee waiting for their first qualifying purchase, as locked for a hook batch."""

    referee_id: str
    referrer_id: str
    shared_device: bytes | None  # a device both were seen on (a referral ring), if any


class ReferralBook(msgspec.Struct, frozen=True):
    """What a hook batch needs of referrals: the pending referrals of the batch's members and
    how many referees each of their referrers has had rewarded so far."""

    pending: dict[str, PendingReferral] = {}
    rewarded: dict[str, int] = {}


class ReferralWrite(msgspec.Struct, frozen=True):
    """A referral settled by a purchase (or clawed back by its refund)."""

    referee_id: str
    status: str  # rewarded | refused | clawed_back
    reason: str | None
    transaction_id: str
    referee_points: int
    referrer_points: int
    referrer_id: str = ""
