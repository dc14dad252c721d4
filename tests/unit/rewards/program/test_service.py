"""The program's use cases, without a database: merge, validate, check the webhook, audit."""

from __future__ import annotations

from typing import Any

import pytest

from rewards.audit import service as audit
from rewards.core.earning import EarnRule, Effect
from rewards.core.errors import AlreadyExists, ValidationFailed
from rewards.core.program import Program
from rewards.program import repository as program_db
from rewards.program import service as programs
from tests.unit.fakes import Calls, FakeConn, fake

CONN: Any = FakeConn()
STORED = Program(currency="CNY", base_rate="1", expiry_months=12)


def stored(monkeypatch: pytest.MonkeyPatch, calls: Calls) -> None:
    fake(
        monkeypatch,
        program_db,
        calls,
        load_program=(STORED, 3),
        put_program=4,
        record_version=None,
    )
    fake(monkeypatch, audit, calls, record=None)


async def test_a_patch_changes_only_what_it_names(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    stored(monkeypatch, calls)
    program = await programs.patch_program(CONN, "t", "admin", {"base_rate": "2"})
    assert (program.base_rate, program.expiry_months) == ("2", 12)
    ((_, document),) = calls.of("put_program")
    assert document["base_rate"] == "2"
    # The new version is kept with the program version it made.
    assert calls.of("record_version") == [("t", "program", "t", 4, document)]
    (entry,) = calls.of("record")
    assert entry[2] == "program.patch"
    assert (entry[5]["base_rate"], entry[6]["base_rate"]) == ("1", "2")


@pytest.mark.parametrize(
    "changes",
    [
        {"base_rate": 2},  # a number where a decimal string is due
        {"webhook_url": "http://events.bank.example/in"},  # not https
        {"webhook_url": "https://127.0.0.1/in"},
        {"time_zone": "Mars/Olympus"},
    ],
)
async def test_a_bad_patch_stores_nothing(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any]
) -> None:
    calls = Calls()
    stored(monkeypatch, calls)
    with pytest.raises(ValidationFailed):
        await programs.patch_program(CONN, "t", "admin", changes)
    assert "put_program" not in calls.names()


async def test_private_webhooks_are_for_servers_that_allow_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = Calls()
    stored(monkeypatch, calls)
    url = "http://127.0.0.1:9000/in"
    program = await programs.patch_program(
        CONN, "t", "admin", {"webhook_url": url}, allow_private=True
    )
    assert program.webhook_url == url


async def test_a_replacement_says_which_settings_went_back_to_their_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored(monkeypatch, Calls())
    reset = await programs.replace_program(
        CONN, "t", "admin", Program(currency="CNY"), {"currency"}
    )
    assert reset == ["expiry_months"]


async def test_a_taken_rule_id_is_already_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls()
    fake(monkeypatch, program_db, calls, insert_rule=False, bump_rules_version=None)
    rule = EarnRule(id="fuel-3x", name="3x fuel", effect=Effect("multiplier", "3"))
    with pytest.raises(AlreadyExists):
        await programs.create_rule(CONN, "t", "admin", rule)
    assert "bump_rules_version" not in calls.names()
