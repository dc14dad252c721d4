"""Attaching a referral code, without a database: every refusal in its order, and the locks
taken before anything of the member is written."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from rewards.core.program import Program, Referral
from rewards.core.referrals import (
    ReferralAlreadySet,
    ReferralCodeUnknown,
    ReferralCycle,
    ReferralSelf,
    ReferralsOff,
    ReferralTooLate,
)
from rewards.referrals import repository as referral_db
from rewards.referrals import service as referrals
from rewards.referrals.repository import Referral as Stored
from tests.unit.fakes import Calls, FakeConn, fake

NOW = datetime.now(UTC)
CODE = "ABCD2345"


ON = Referral(50, 30, 10000)


def program(referral: Referral | None = ON) -> Any:
    return SimpleNamespace(program=SimpleNamespace(program=Program(referral=referral)))


def setup(monkeypatch: pytest.MonkeyPatch, calls: Calls, **answers: Any) -> None:
    given = answers.pop("program", program())

    async def compiled(*_: Any) -> Any:
        return given

    monkeypatch.setattr(referrals, "compiled_for", compiled)
    defaults: dict[str, Any] = {
        "lock_attachments": None,
        "referral_of": None,
        "member_by_code": "alice",
        "chain_reaches": False,
        "lock_members": None,
        "made_qualifying_purchase": False,
        "attach": NOW,
    }
    fake(monkeypatch, referral_db, calls, **(defaults | answers))


async def test_a_code_is_attached_with_both_members_locked_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    setup(monkeypatch, calls)
    done = await referrals.attach(FakeConn(), "t", "bob", "abcd 2345", "member")  # type: ignore[arg-type]
    assert (done.code, done.status, done.attached_at) == (CODE, "pending", NOW)
    assert calls.names() == [
        "lock_attachments",
        "referral_of",
        "member_by_code",
        "chain_reaches",
        "lock_members",
        "made_qualifying_purchase",
        "attach",
    ]
    assert calls.of("lock_members") == [("t", ["bob", "alice"])]
    assert calls.of("attach") == [("t", "bob", "alice", "member", CODE)]


@pytest.mark.parametrize(
    ("answers", "refusal"),
    [
        ({"program": program(None)}, ReferralsOff),
        ({"member_by_code": None}, ReferralCodeUnknown),
        ({"member_by_code": "bob"}, ReferralSelf),
        ({"chain_reaches": True}, ReferralCycle),
        ({"made_qualifying_purchase": True}, ReferralTooLate),
    ],
)
async def test_each_refusal_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, answers: dict[str, Any], refusal: type[Exception]
) -> None:
    calls = Calls()
    setup(monkeypatch, calls, **answers)
    with pytest.raises(refusal):
        await referrals.attach(FakeConn(), "t", "bob", CODE, "admin")  # type: ignore[arg-type]
    assert "attach" not in calls.names()


async def test_the_same_code_again_answers_the_first_attachment_and_another_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = Stored("bob", "alice", CODE, "member", NOW, "pending", None, None, 0, 0, None)
    calls = Calls()
    setup(monkeypatch, calls, referral_of=first)
    again = await referrals.attach(FakeConn(), "t", "bob", CODE, "member")  # type: ignore[arg-type]
    assert (again.code, again.attached_at) == (CODE, NOW)
    with pytest.raises(ReferralAlreadySet):
        await referrals.attach(FakeConn(), "t", "bob", "WXYZ6789", "member")  # type: ignore[arg-type]
    assert "attach" not in calls.names()


async def test_a_batch_whose_referrer_was_not_locked_is_planned_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from rewards.core.referrals import PendingReferral

    calls = Calls()
    pending = {"bob": PendingReferral("bob", "alice", None)}
    fake(monkeypatch, referral_db, calls, pending=pending, rewarded_counts={"alice": 2})
    conn: Any = FakeConn()
    assert await referrals.book(conn, "t", ["bob"], {"bob"}) is None
    book = await referrals.book(conn, "t", ["bob"], {"bob", "alice"})
    assert book is not None
    assert book.rewarded == {"alice": 2}
