"""The crash battery, short form (`loadtest/drills/crash.py` runs the long one): signed hooks at
full speed while the API workers and then PostgreSQL are killed with SIGKILL, twice each.
No acknowledged award may be lost or applied twice, every refused one is awarded when sent
again, every acknowledged one is answered again byte for byte, and the ledger balances."""

from __future__ import annotations

from pathlib import Path

from loadtest.drills.crash import run


async def test_kill_9_of_api_workers_and_of_postgres_loses_no_acknowledged_award(
    tmp_path: Path,
) -> None:
    outcome = await run(seconds=20, every=5, folder=tmp_path)
    print(f"crash battery: {outcome}")
    assert outcome.api_kills >= 2, outcome
    assert outcome.database_kills == 2, outcome
    assert outcome.acknowledged > 0, outcome
    assert outcome.refused_during_kills > 0, outcome  # the kills were felt
    assert set(outcome.statuses) <= {"0", "200", "503"}, outcome  # never a 500
    assert outcome.lost == 0, outcome
    assert outcome.applied_twice == 0, outcome
    assert outcome.replays == outcome.acknowledged, outcome
    assert outcome.replays_changed == 0, outcome
    assert outcome.ledger_balanced, outcome
    assert outcome.ledger_matches_answers, outcome
